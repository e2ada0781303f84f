"""localdev.sample_profiles: the generated profile snapshot loads cleanly, is deterministic, and the real
verdict engine, fed exactly as the pipeline will feed it, reaches the verdicts ``expected_verdicts``
predicts for every contact."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from dataverse_emulator.generator import OrgSpec, SampleOrg, generate_org
from functions.matching import decide
from functions.matching.records import AccountRecord, ContactRecord, Outcome, Verdict
from functions.profiles import FileSnapshotSource, ProfileQuery
from localdev.sample_profiles import (
    expected_verdicts,
    main,
    mutate_profiles,
    profile_id_for,
    sidecar_path,
    write_profile_file,
)

TODAY = date(2026, 11, 27)
CONTACTS = 2000


# --- the pipeline's view: Dataverse rows -> records -> look-up -> decide ------------------------------


def account_record(row: dict, accounts: dict[str, dict]) -> AccountRecord:
    parent_id = row.get("_parentaccountid_value")
    parent = accounts.get(parent_id) if parent_id else None
    return AccountRecord(
        account_id=row["accountid"],
        name=row.get("name"),
        website=row.get("websiteurl"),
        country=row.get("address1_country"),
        phone=row.get("telephone1"),
        parent_account_name=parent.get("name") if parent else None,
    )


def contact_record(row: dict) -> ContactRecord:
    return ContactRecord(
        contact_id=row["contactid"],
        first_name=row.get("firstname"),
        middle_name=row.get("middlename"),
        last_name=row.get("lastname"),
        full_name=row.get("fullname"),
        email=row.get("emailaddress1"),
        job_title=row.get("jobtitle"),
        phone=row.get("telephone1"),
        country=row.get("address1_country"),
        account_id=row.get("_parentcustomerid_value"),
    )


@dataclass
class Run:
    verdicts: dict[str, Verdict]
    hashes: dict[str, str]  # profile_id -> content hash
    stats: dict


def run_engine(sample: SampleOrg, path: Path, today: date) -> Run:
    accounts = {row["accountid"]: row for row in sample.rows("accounts")}
    contacts = list(sample.rows("contacts"))
    queries = []
    for row in contacts:
        account = accounts.get(row.get("_parentcustomerid_value") or "")
        queries.append(
            ProfileQuery(
                row["contactid"],
                email=row.get("emailaddress1"),
                first_name=row.get("firstname"),
                last_name=row.get("lastname"),
                full_name=row.get("fullname"),
                company_name=account.get("name") if account else None,
                company_website=account.get("websiteurl") if account else None,
            )
        )
    source = FileSnapshotSource(str(path))
    stats = source.load().as_dict()
    found = source.lookup(queries)
    hashes = {p.profile_id: p.content_hash for p in source.iter_profiles()}
    source.close()
    verdicts = {}
    for row in contacts:
        account = accounts.get(row.get("_parentcustomerid_value") or "")
        verdicts[row["contactid"]] = decide(
            contact_record(row),
            account_record(account, accounts) if account else None,
            found[row["contactid"]],
            today=today,
        )
    return Run(verdicts, hashes, stats)


def disagreements(run: Run, expected: dict[str, Outcome], sample: SampleOrg, markers: dict) -> Counter:
    out: Counter = Counter()
    for cid, verdict in run.verdicts.items():
        if verdict.outcome != expected[cid]:
            variant = markers.get(profile_id_for(cid), {}).get("variant", "no own profile")
            out[(sample.truth(cid).kind, variant, expected[cid].value, verdict.rule)] += 1
    return out


def read_markers(path: Path) -> dict[str, dict]:
    with open(path, encoding="utf-8") as lines:
        return {p["profile_id"]: p.get("x_sample", {}) for p in map(json.loads, lines)}


# --- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> SampleOrg:
    return generate_org(OrgSpec(contacts=CONTACTS, seed=1))


@pytest.fixture(scope="module")
def written(sample: SampleOrg, tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("profiles") / "profiles.jsonl"
    stats = write_profile_file(sample, path, today=TODAY)
    return path, stats


# --- the file ------------------------------------------------------------------------------------------


def test_file_loads_without_malformed_rows(written) -> None:
    path, stats = written
    source = FileSnapshotSource(str(path))
    loaded = source.load()
    assert loaded.rows_malformed == {}
    assert loaded.profiles_rejected == 0
    assert loaded.rows_read == loaded.profiles_loaded == stats.profiles
    assert len(path.read_text(encoding="utf-8").splitlines()) == stats.profiles
    assert sidecar_path(path).exists()


def test_stats_cover_every_kind_and_add_up(written) -> None:
    _, stats = written
    assert stats.contacts == CONTACTS
    assert set(stats.by_kind) == {"stayed", "moved", "rebrand", "subsidiary", "no_account"}
    assert sum(stats.by_kind.values()) + stats.without_profile == CONTACTS
    assert stats.profiles == sum(stats.by_kind.values()) + stats.namesakes
    assert stats.namesakes > 0
    assert sum(stats.by_variant.values()) == CONTACTS
    assert sum(stats.expected.values()) == CONTACTS
    assert all(stats.expected[o.value] > 0 for o in Outcome)
    assert stats.by_variant.get("moved", 0) > 50  # enough LEFT cases at 2,000 contacts


def test_deterministic(sample: SampleOrg, written, tmp_path: Path) -> None:
    path, _ = written
    again = tmp_path / "again.jsonl"
    write_profile_file(sample, again, today=TODAY)
    assert again.read_bytes() == path.read_bytes()
    other = tmp_path / "other.jsonl"
    write_profile_file(sample, other, seed=2, today=TODAY)
    assert other.read_bytes() != path.read_bytes()


def test_coverage_ratio(sample: SampleOrg, tmp_path: Path) -> None:
    for coverage in (0.0, 0.5, 0.9, 1.0):
        stats = write_profile_file(sample, tmp_path / f"c{coverage}.jsonl", coverage=coverage, today=TODAY)
        uncovered = stats.by_variant.get("no_profile", 0) + stats.by_variant.get("no_profile_namesake", 0)
        # contacts the look-up could confuse (shared e-mail, same name at one account) never get a profile
        eligible = CONTACTS - stats.by_variant.get("no_profile_ambiguous", 0)
        covered = 1 - uncovered / eligible
        assert covered == pytest.approx(coverage, abs=0.08 if coverage in (0.0, 1.0) else 0.04), coverage
        if coverage == 1.0:
            assert stats.namesakes == 0
        if coverage == 0.0:
            assert stats.profiles == stats.namesakes  # namesakes only: nobody's own profile


# --- the engine agrees with expected_verdicts ---------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_engine_reaches_expected_verdicts(seed: int, tmp_path: Path) -> None:
    sample = generate_org(OrgSpec(contacts=CONTACTS, seed=seed))
    path = tmp_path / "profiles.jsonl"
    write_profile_file(sample, path, today=TODAY)
    expected = expected_verdicts(sample, path, today=TODAY)
    assert len(expected) == CONTACTS
    run = run_engine(sample, path, TODAY)
    assert run.stats["rows_malformed"] == {}
    markers = read_markers(path)
    assert disagreements(run, expected, sample, markers) == Counter()

    # and the verdicts come from the rules the profiles were written for
    rules: dict[str, Counter] = {}
    for cid, verdict in run.verdicts.items():
        variant = markers.get(profile_id_for(cid), {}).get("variant", "none")
        if markers.get(profile_id_for(cid), {}).get("stale"):
            variant += "_stale"
        rules.setdefault(variant, Counter())[verdict.rule] += 1
    assert set(rules["moved"]) == {"left.ended_at_account_now_elsewhere"}
    assert set(rules["rebrand_same_page"]) == {"still_there.current_shares_identifier_with_account_position"}
    assert set(rules["rebrand_alias"]) == {"still_there.current_employer_is_account"}
    assert set(rules["subsidiary_from_account"]) == {"unknown.current_employer_same_group"}
    assert set(rules["subsidiary_parent_current"]) == {"unknown.current_employer_same_group"}
    assert set(rules["no_account"]) == {"unknown.no_account"}
    # found by name+company (a name alone is never strong), or ambiguous with a colleague of that name
    assert set(rules["no_email_name_company"]) <= {"unknown.person_not_strong", "unknown.no_profile"}
    assert rules["no_email_name_company"]["unknown.person_not_strong"] > 0
    assert set(rules["moved_stale"]) <= {"unknown.stale_profile"}
    for variant in ("stayed_exact", "stayed_caps", "stayed_legal_form", "stayed_website_only"):
        assert set(rules[variant]) == {"still_there.current_employer_is_account"}, variant
    # a contact without a profile of its own is never judged on someone else's (namesakes included)
    assert set(rules["none"]) <= {"unknown.no_profile", "unknown.person_not_strong", "unknown.no_account"}
    # only movers are ever LEFT
    for cid, verdict in run.verdicts.items():
        if verdict.outcome is Outcome.LEFT:
            assert sample.truth(cid).kind == "moved"


def test_namesakes_are_found_but_not_taken_for_the_person(sample: SampleOrg, written) -> None:
    path, _ = written
    run = run_engine(sample, path, TODAY)
    namesakes = {pid[3:] for pid in read_markers(path) if pid.startswith("ns-")}
    assert namesakes
    rules = Counter(run.verdicts[cid].rule for cid in namesakes)
    # those with a past job at the contact's account are found by name+company, then rejected
    assert rules["unknown.person_not_strong"] > 0
    assert set(rules) <= {"unknown.person_not_strong", "unknown.no_profile"}


def test_later_today_makes_old_profiles_stale(sample: SampleOrg, written) -> None:
    path, _ = written
    later = TODAY + timedelta(days=330)  # some fresh profiles (verified 2-61 days before) turn stale
    expected = expected_verdicts(sample, path, today=later)
    assert Counter(expected.values()) != Counter(expected_verdicts(sample, path, today=TODAY).values())
    run = run_engine(sample, path, later)
    assert disagreements(run, expected, sample, read_markers(path)) == Counter()
    assert all(
        o is Outcome.UNKNOWN
        for o in expected_verdicts(sample, path, today=TODAY + timedelta(days=400)).values()
    )


# --- mutations -------------------------------------------------------------------------------------------


def test_mutate_profiles_changes_exactly_those_profiles(sample: SampleOrg, tmp_path: Path) -> None:
    path = tmp_path / "profiles.jsonl"
    write_profile_file(sample, path, today=TODAY)
    before = expected_verdicts(sample, path, today=TODAY)
    markers = read_markers(path)
    stayers = [
        cid
        for cid, o in before.items()
        if o is Outcome.STILL_THERE and markers[profile_id_for(cid)]["variant"].startswith("stayed_")
    ]
    movers = [cid for cid, o in before.items() if o is Outcome.LEFT]
    # one stayer named exactly, one known by its website only, one mover
    by_variant = {markers[profile_id_for(c)]["variant"]: c for c in stayers}
    chosen = [by_variant["stayed_exact"], by_variant["stayed_website_only"], movers[0]]
    hashes_before = run_engine(sample, path, TODAY).hashes

    next_day = TODAY + timedelta(days=1)
    mutate_profiles(path, chosen, today=next_day)

    after = expected_verdicts(sample, path, today=next_day)
    changed = {cid for cid in before if before[cid] != after[cid]}
    assert changed == set(chosen[:2])
    assert after[chosen[0]] is after[chosen[1]] is after[chosen[2]] is Outcome.LEFT

    run = run_engine(sample, path, next_day)
    assert run.stats["rows_malformed"] == {}
    differing = {pid for pid in hashes_before if hashes_before[pid] != run.hashes.get(pid)}
    assert differing == {profile_id_for(c) for c in chosen}
    assert disagreements(run, after, sample, read_markers(path)) == Counter()

    # twice: a moved-away stayer now just gets a new title, and stays LEFT
    mutate_profiles(path, chosen[:1], today=next_day)
    assert expected_verdicts(sample, path, today=next_day) == after
    ops = json.loads(sidecar_path(path).read_text())["mutations"][chosen[0]]
    assert [op["op"] for op in ops] == ["moved_away", "retitled"]


def test_mutate_profiles_needs_an_own_profile(sample: SampleOrg, written, tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    write_profile_file(sample, path, today=TODAY)
    markers = read_markers(path)
    without = next(t.contact_id for t in sample.truths() if profile_id_for(t.contact_id) not in markers)
    content = path.read_bytes()
    with pytest.raises(KeyError):
        mutate_profiles(path, [without], today=TODAY)
    assert path.read_bytes() == content  # untouched


def test_expected_verdicts_refuses_another_org(written) -> None:
    path, _ = written
    with pytest.raises(ValueError, match="another org"):
        expected_verdicts(generate_org(OrgSpec(contacts=CONTACTS, seed=9)), path, today=TODAY)


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.jsonl"
    assert main(["--contacts", "300", "--seed", "3", "--out", str(out), "--today", "2026-11-27"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["contacts"] == 300
    assert stats["profiles"] == len(out.read_text(encoding="utf-8").splitlines())
    assert FileSnapshotSource(str(out)).load().rows_malformed == {}
