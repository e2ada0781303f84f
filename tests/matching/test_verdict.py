"""decide(): one test per rule, plus the traps that must never give LEFT (pure)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from functions.matching import (
    RULES,
    AccountRecord,
    Company,
    ContactRecord,
    MatchingConfig,
    Outcome,
    Position,
    Profile,
    Verdict,
    decide,
)
from functions.matching.verdict import parse_partial_date

TODAY = date(2026, 11, 27)
ACCOUNT = AccountRecord("acc1", name="Acme Widgets GmbH", website="https://www.acme-widgets.de/")
CONTACT = ContactRecord(
    "c1", first_name="Robert", last_name="Müller", email="robert.mueller@acme-widgets.de", account_id="acc1"
)
AT_ACME = Company(name="ACME Widgets", website="acme-widgets.de")
GLOBEX = Company(name="Globex Corporation", website="globex.com")


def profile(*positions: Position, **kw: object) -> Profile:
    base: dict = {
        "profile_id": "p1",
        "source": "test",
        "first_name": "robert",
        "last_name": "mueller",
        "emails": ("robert.mueller@acme-widgets.de",),
        "positions": positions,
        "last_verified": "2026-10-01",
        "match_likelihood": 9,
    }
    base.update(kw)
    return Profile(**base)


def moved(**kw: object) -> Profile:
    """The LEFT case: ended at Acme in 2025-01, at Globex since 2025-02."""
    return profile(
        Position(GLOBEX, start_date="2025-02", is_primary=True),
        Position(AT_ACME, start_date="2019-01", end_date="2025-01"),
        **kw,
    )


def run(
    p: Profile | None,
    account: AccountRecord | None = ACCOUNT,
    contact: ContactRecord = CONTACT,
    config: MatchingConfig | None = None,
) -> Verdict:
    if config is None:
        return decide(contact, account, p, today=TODAY)
    return decide(contact, account, p, today=TODAY, config=config)


def test_left_needs_all_the_evidence() -> None:
    v = run(moved())
    assert (v.outcome, v.rule) == (Outcome.LEFT, "left.ended_at_account_now_elsewhere")
    assert v.current_employer == "Globex Corporation"
    ev = v.evidence
    assert ev["rule"] == v.rule
    assert ev["person"]["strength"] == "strong"
    assert ev["current"]["kind"] == "different"
    assert ev["account_position"]["kind"] == "same"
    assert ev["account_position"]["end"] == "2025-01"
    assert ev["freshness"]["age_days"] == (TODAY - date(2026, 10, 1)).days


def test_evidence_is_json_serialisable_and_small() -> None:
    for p in (moved(), None, profile(Position(AT_ACME, is_primary=True))):
        v = run(p)
        text = json.dumps(v.evidence)
        assert json.loads(text) == v.evidence
        assert len(text) < 2000
        assert v.evidence["rule"] == v.rule
        assert RULES[v.rule] is v.outcome


def test_no_account() -> None:
    assert run(moved(), account=None).rule == "unknown.no_account"


def test_no_profile() -> None:
    v = run(None)
    assert (v.outcome, v.rule) == (Outcome.UNKNOWN, "unknown.no_profile")


def test_person_conflict() -> None:
    p = moved(profile_url="linkedin.com/in/other-person")
    c = replace(CONTACT, profile_url="linkedin.com/in/robert-mueller")
    assert run(p, contact=c).rule == "unknown.person_conflict"


def test_namesake_is_not_strong_enough() -> None:
    # same name, other e-mail, and the source is not sure enough for the account-history policy
    p = moved(emails=("robert.mueller@globex.com",), match_likelihood=7)
    v = run(p)
    assert (v.outcome, v.rule) == (Outcome.UNKNOWN, "unknown.person_not_strong")
    assert v.current_employer is None  # never point reps at a namesake's employer


def test_old_crm_email_mover_is_strong_by_name_and_account_history() -> None:
    # the CRM holds the old work address, the profile only the new one: the exact name, the job at the
    # account identified by its domain and a likelihood >= 8 identify the person
    p = moved(emails=("robert.mueller@globex.com",))
    v = run(p)
    assert (v.outcome, v.rule) == (Outcome.LEFT, "left.ended_at_account_now_elsewhere")
    person = v.evidence["person"]
    assert (person["basis"], person["account_history"]["basis"]) == ("name_and_account_history", "domain")
    off = MatchingConfig(strong_name_with_account_history=False)
    assert run(p, config=off).rule == "unknown.person_not_strong"
    assert run(p, config=MatchingConfig(history_min_likelihood=10)).rule == "unknown.person_not_strong"


@pytest.mark.parametrize(
    ("why", "change"),
    [
        ("likelihood unknown", {"match_likelihood": None}),
        ("likelihood 7", {"match_likelihood": 7}),
        ("nickname, not the exact name", {"first_name": "bob"}),
        ("initial only", {"first_name": "r."}),
        ("job at the account known by name only",
         {"positions": (Position(GLOBEX, start_date="2025-02", is_primary=True),
                        Position(Company(name="Acme Widgets"), start_date="2019", end_date="2025-01"))}),
        ("job at the account not ended",
         {"positions": (Position(GLOBEX, start_date="2025-02", is_primary=True),
                        Position(AT_ACME, start_date="2019"))}),
    ],
)
def test_account_history_policy_needs_every_part(why: str, change: dict) -> None:
    p = moved(emails=("robert.mueller@globex.com",), **change)
    assert run(p).outcome != Outcome.LEFT, why


def test_account_history_policy_refuses_a_conflicting_crm_address() -> None:
    # a second CRM address at a company the profile never mentions: maybe another person
    c = replace(CONTACT, other_emails=("robert.mueller@initech.com",))
    v = run(moved(emails=("robert.mueller@globex.com",)), contact=c)
    assert v.rule == "unknown.person_not_strong"
    # an address the profile explains (the new employer's domain) is no conflict
    c = replace(CONTACT, other_emails=("rm@globex.com",))
    assert run(moved(emails=("robert.mueller@globex.com",)), contact=c).outcome == Outcome.LEFT
    # a differing profile URL is a conflict before any policy
    c = replace(CONTACT, profile_url="https://www.linkedin.com/in/robert-mueller-77")
    p = moved(emails=(), profile_url="linkedin.com/in/robert-mueller-12")
    assert run(p, contact=c).rule == "unknown.person_conflict"


def test_any_crm_email_column_identifies() -> None:
    c = replace(CONTACT, email=None, other_emails=("rob@private-mail.de", "robert.mueller@acme-widgets.de"))
    v = run(moved(match_likelihood=None), contact=c)
    assert (v.outcome, v.evidence["person"]["basis"]) == (Outcome.LEFT, "email")


def test_low_likelihood_is_not_strong_enough() -> None:
    assert run(moved(match_likelihood=2)).rule == "unknown.person_not_strong"


def test_no_primary_position() -> None:
    p = profile(Position(GLOBEX, start_date="2025-02"), Position(AT_ACME, start_date="2019", end_date="2025"))
    assert run(p).rule == "unknown.no_current_position"


def test_still_there() -> None:
    v = run(profile(Position(Company(name="Acme Widgets"), start_date="2019", is_primary=True)))
    assert (v.outcome, v.rule) == (Outcome.STILL_THERE, "still_there.current_employer_is_account")
    assert v.current_employer == "Acme Widgets"


def test_stale_data_gives_no_verdict_unless_configured() -> None:
    p = profile(Position(AT_ACME, is_primary=True), last_verified="2020-01-01")
    assert run(p).rule == "unknown.stale_profile"  # product.md §4: stale data gives no verdict
    lenient = MatchingConfig(accept_stale_still_there=True)
    assert run(p, config=lenient).rule == "still_there.current_employer_is_account"
    assert (
        run(moved(last_verified="2020-01-01"), config=lenient).rule == "unknown.stale_profile"
    )  # never LEFT


def test_boomerang_is_still_there() -> None:
    p = profile(
        Position(AT_ACME, start_date="2024-06", is_primary=True),
        Position(GLOBEX, start_date="2021-01", end_date="2024-05"),
        Position(AT_ACME, start_date="2015-01", end_date="2020-12"),
    )
    v = run(p)
    assert (v.outcome, v.rule) == (Outcome.STILL_THERE, "still_there.returned_to_account")


def test_rebrand_on_the_same_company_page_is_still_there() -> None:
    old = Company(name="Acme Widgets", linkedin_id="4711")
    new = Company(name="Zenith Robotics", linkedin_id="4711")
    p = profile(
        Position(new, start_date="2025-02", is_primary=True),
        Position(old, start_date="2019", end_date="2025-01"),
    )
    assert run(p).rule == "still_there.current_shares_identifier_with_account_position"


def test_rebrand_where_the_profile_only_knows_the_new_name_is_not_left() -> None:
    p = profile(Position(Company(name="Zenith Robotics"), start_date="2015", is_primary=True))
    v = run(p)
    assert (v.outcome, v.rule) == (Outcome.UNKNOWN, "unknown.no_position_at_account")


def test_stale_profile() -> None:
    v = run(moved(last_verified="2025-03-01", last_changed="2025-02-01"))
    assert (v.outcome, v.rule) == (Outcome.UNKNOWN, "unknown.stale_profile")
    assert (
        run(moved(last_verified="2025-03-01", last_changed="2026-11-01")).outcome is Outcome.LEFT
    )  # newer wins


def test_profile_age_unknown() -> None:
    assert run(moved(last_verified=None, last_changed=None)).rule == "unknown.profile_age_unknown"
    assert run(moved(last_verified="garbage")).rule == "unknown.profile_age_unknown"


def test_move_to_parent_or_subsidiary_is_not_left() -> None:
    subsidiary = Company(name="Acme Robotics GmbH", parent_name="Acme Widgets GmbH")
    p = profile(
        Position(subsidiary, start_date="2025-02", is_primary=True),
        Position(AT_ACME, start_date="2019", end_date="2025-01"),
    )
    v = run(p)
    assert (v.outcome, v.rule) == (Outcome.UNKNOWN, "unknown.current_employer_same_group")
    assert v.evidence["current"]["basis"] == "affiliate"
    account = replace(ACCOUNT, parent_account_name="Globex Corporation")
    assert run(moved(), account=account).rule == "unknown.current_employer_same_group"


def test_move_inside_the_dataverse_account_hierarchy_is_not_left() -> None:
    # the parent account's name shares no word with the account's: only the hierarchy tells
    account = replace(ACCOUNT, hierarchy=(("Globex Holding SE", "https://www.globex.com/en/"),))
    v = run(moved(), account=account)
    assert (v.outcome, v.rule) == (Outcome.UNKNOWN, "unknown.current_employer_same_group")
    assert v.evidence["group"] == {"source": "dataverse_account_hierarchy", "account": "Globex Holding SE"}
    by_name = replace(ACCOUNT, hierarchy=(("Globex Corp.", None),))
    assert run(moved(), account=by_name).rule == "unknown.current_employer_same_group"
    unrelated = replace(ACCOUNT, hierarchy=(("Initech AG", "initech.com"),))
    assert run(moved(), account=unrelated).outcome == Outcome.LEFT


def test_move_inside_an_admin_corporate_group_is_not_left() -> None:
    group = {"id": "acme", "name": "Acme Holding SE", "source": "https://example.org/acme",
             "members": [{"name": "Acme Widgets GmbH", "domains": ["acme-widgets.de"]},
                         {"name": "Globex Corporation"}]}
    config = MatchingConfig(corporate_groups=[group], builtin_corporate_groups=False)
    v = run(moved(), config=config)
    assert (v.outcome, v.rule) == (Outcome.UNKNOWN, "unknown.current_employer_same_group")
    assert v.evidence["group"]["source"] == "settings"
    assert v.evidence["group"]["group"] == "Acme Holding SE"
    assert v.evidence["group"]["facts"] == ["https://example.org/acme"]


def test_a_former_name_in_the_group_table_is_the_same_company() -> None:
    group = {"id": "acme", "name": "Acme Widgets GmbH", "members": [],
             "former_names": [{"name": "Globex Corporation", "now": "Acme Widgets GmbH", "year": 2024}]}
    config = MatchingConfig(corporate_groups=[group], builtin_corporate_groups=False)
    v = run(profile(Position(GLOBEX, start_date="2019", is_primary=True)), config=config)
    assert (v.outcome, v.rule) == (Outcome.STILL_THERE, "still_there.current_employer_is_account")
    assert v.evidence["current"]["basis"] == "corporate_group_rename"


def test_similar_name_is_related_not_left() -> None:
    bank = AccountRecord("b", name="Bank of America")
    c = replace(CONTACT, email="robert.mueller@bofa.com")
    p = profile(
        Position(Company(name="Bank"), start_date="2025-02", is_primary=True),
        Position(Company(name="Bank of America Corp."), start_date="2019", end_date="2025-01"),
        emails=("robert.mueller@bofa.com",),
    )
    assert run(p, account=bank, contact=c).rule == "unknown.current_employer_related"


def test_alias_table_prevents_a_rebrand_left() -> None:
    account = AccountRecord("fb", name="Facebook, Inc.")
    p = profile(
        Position(Company(name="Meta Platforms"), start_date="2022-01", is_primary=True),
        Position(Company(name="Facebook"), start_date="2015", end_date="2021-12"),
    )
    names_only = MatchingConfig(builtin_corporate_groups=False)
    assert run(p, account=account, config=names_only).outcome is Outcome.LEFT  # names alone cannot know
    config = MatchingConfig(aliases={"Meta Platforms": ("Facebook",)}, builtin_corporate_groups=False)
    assert run(p, account=account, config=config).rule == "still_there.current_employer_is_account"
    # the corporate-group table shipped with the product knows this rename
    v = run(p, account=account)
    assert (v.rule, v.evidence["current"]["basis"]) == ("still_there.current_employer_is_account",
                                                        "corporate_group_rename")


def test_current_employer_unknown() -> None:
    p = profile(
        Position(Company(), is_primary=True), Position(AT_ACME, start_date="2019", end_date="2025-01")
    )
    assert run(p).rule == "unknown.current_employer_unknown"


def test_non_primary_job_with_unknown_dates_is_no_evidence() -> None:
    p = profile(
        Position(GLOBEX, start_date="2025-02", is_primary=True),
        Position(AT_ACME, start_date=None, end_date=None),
    )
    assert run(p).rule == "unknown.account_position_not_ended"
    # an ended one next to an open one: still no LEFT (the open one may be a second, current job)
    p = profile(
        Position(GLOBEX, start_date="2025-02", is_primary=True),
        Position(AT_ACME, start_date="2019", end_date="2025-01"),
        Position(AT_ACME, start_date=None, end_date=None),
    )
    assert run(p).rule == "unknown.account_position_not_ended"


def test_end_date_in_the_future_is_not_ended() -> None:
    p = profile(
        Position(GLOBEX, start_date="2027-01", is_primary=True),
        Position(AT_ACME, start_date="2019", end_date="2026-12-31"),
    )
    assert run(p).rule == "unknown.account_position_ends_in_future"


def test_overlapping_positions_are_not_left() -> None:
    p = profile(
        Position(GLOBEX, start_date="2024-06", is_primary=True),
        Position(AT_ACME, start_date="2019", end_date="2025-01"),
    )
    assert run(p).rule == "unknown.positions_overlap"
    # same year at different precision is not "after"
    p = profile(
        Position(GLOBEX, start_date="2025", is_primary=True),
        Position(AT_ACME, start_date="2019", end_date="2025-06"),
    )
    assert run(p).outcome is Outcome.LEFT


def test_several_primary_positions() -> None:
    p = profile(
        Position(GLOBEX, start_date="2025-02", is_primary=True),
        Position(AT_ACME, start_date="2019", is_primary=True),
    )
    assert run(p).rule == "unknown.several_current_positions"  # contradictory
    p = profile(
        Position(AT_ACME, is_primary=True), Position(Company(name="Acme Widgets GmbH"), is_primary=True)
    )
    assert run(p).rule == "still_there.current_employer_is_account"  # the same job twice


def test_contact_without_account_fields_never_crashes() -> None:
    empty_contact = ContactRecord("c2")
    empty_profile = Profile("p2", "test")
    assert run(empty_profile, contact=empty_contact).rule == "unknown.person_not_strong"
    assert run(empty_profile, account=AccountRecord("a"), contact=empty_contact).outcome is Outcome.UNKNOWN


def test_contact_email_domain_is_recorded() -> None:
    assert run(moved()).evidence["contact_email_domain"] == "account"
    c = replace(CONTACT, email="robert.mueller@gmail.com")
    p = moved(emails=("robert.mueller@gmail.com",))
    v = run(p, contact=c)
    assert v.evidence["contact_email_domain"] == "free_mail"
    assert v.outcome is Outcome.LEFT  # a personal address still identifies the person


def test_decide_is_deterministic() -> None:
    assert run(moved()) == run(moved())


RULE_CASES = {
    "unknown.no_account": lambda: run(moved(), account=None),
    "unknown.no_profile": lambda: run(None),
    "unknown.person_conflict": lambda: run(
        moved(profile_url="linkedin.com/in/x"), contact=replace(CONTACT, profile_url="linkedin.com/in/y")
    ),
    "unknown.person_not_strong": lambda: run(moved(emails=(), match_likelihood=7)),
    "unknown.current_employer_same_group": lambda: run(
        moved(), account=replace(ACCOUNT, hierarchy=(("Globex Holding", "globex.com"),))
    ),
    "unknown.no_current_position": lambda: run(profile(Position(AT_ACME, end_date="2020"))),
    "unknown.several_current_positions": lambda: run(
        profile(Position(AT_ACME, is_primary=True), Position(GLOBEX, is_primary=True))
    ),
    "still_there.current_employer_is_account": lambda: run(profile(Position(AT_ACME, is_primary=True))),
    "still_there.returned_to_account": lambda: run(
        profile(
            Position(AT_ACME, start_date="2024", is_primary=True),
            Position(GLOBEX, start_date="2022", end_date="2023"),
            Position(AT_ACME, start_date="2015", end_date="2021"),
        )
    ),
    "still_there.current_shares_identifier_with_account_position": lambda: run(
        profile(
            Position(Company(name="Zenith", linkedin_id="1"), start_date="2025", is_primary=True),
            Position(Company(name="Acme Widgets", linkedin_id="1"), start_date="2019", end_date="2024"),
        )
    ),
    "unknown.profile_age_unknown": lambda: run(moved(last_verified=None)),
    "unknown.stale_profile": lambda: run(moved(last_verified="2024-01-01")),
    "unknown.current_employer_related": lambda: run(
        profile(
            Position(Company(name="Acme Widgets Robotics"), start_date="2025-02", is_primary=True),
            Position(AT_ACME, start_date="2019", end_date="2025-01"),
        )
    ),
    "unknown.current_employer_unknown": lambda: run(
        profile(
            Position(Company(name="株式会社アクメ"), is_primary=True), Position(AT_ACME, end_date="2025-01")
        )
    ),
    "unknown.no_position_at_account": lambda: run(profile(Position(GLOBEX, is_primary=True))),
    "unknown.account_position_not_ended": lambda: run(
        profile(Position(GLOBEX, is_primary=True), Position(AT_ACME, end_date="soon"))
    ),
    "unknown.account_position_ends_in_future": lambda: run(
        profile(Position(GLOBEX, is_primary=True), Position(AT_ACME, end_date="2027"))
    ),
    "unknown.positions_overlap": lambda: run(
        profile(Position(GLOBEX, start_date="2020", is_primary=True), Position(AT_ACME, end_date="2021"))
    ),
    "left.ended_at_account_now_elsewhere": lambda: run(moved()),
}


@pytest.mark.parametrize("rule", sorted(RULE_CASES))
def test_each_rule(rule: str) -> None:
    v = RULE_CASES[rule]()
    assert v.rule == rule
    assert v.outcome is RULES[rule]
    assert v.evidence["rule"] == rule
    json.dumps(v.evidence)


def test_every_rule_has_a_case_and_is_documented() -> None:
    assert set(RULE_CASES) == set(RULES)
    doc = (Path(__file__).resolve().parents[2] / "docs" / "matching.md").read_text(encoding="utf-8")
    missing = [rule for rule in RULES if f"`{rule}`" not in doc]
    assert not missing, f"rules not in docs/matching.md: {missing}"


def test_a_primary_job_that_has_ended_is_no_current_job() -> None:
    p = profile(
        Position(GLOBEX, start_date="2025-02", end_date="2025-06", is_primary=True),
        Position(AT_ACME, start_date="2019", end_date="2025-01"),
    )
    assert run(p).rule == "unknown.no_current_position"


def test_only_left_rule_gives_left() -> None:
    assert [rule for rule, outcome in RULES.items() if outcome is Outcome.LEFT] == [
        "left.ended_at_account_now_elsewhere"
    ]


def test_records_with_lists_instead_of_tuples_still_work() -> None:
    company = Company(name="Meta Platforms", aliases=["Facebook"])  # type: ignore[arg-type]
    account = AccountRecord("fb", name="Facebook", aliases=["FB"])  # type: ignore[arg-type]
    p = profile(Position(company, is_primary=True))
    assert run(p, account=account).outcome is Outcome.STILL_THERE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023", (2023,)),
        ("2023-05", (2023, 5)),
        ("2023-05-17", (2023, 5, 17)),
        ("2023-05-17T10:00:00", (2023, 5, 17)),
        ("2023-13", None),
        ("", None),
        (None, None),
        ("May 2023", None),
    ],
)
def test_parse_partial_date(text: str | None, expected: tuple[int, ...] | None) -> None:
    assert parse_partial_date(text) == expected


def test_name_and_work_email_domain_identify_when_the_domain_is_the_accounts() -> None:
    # exact name + another address at the contact's work domain (= the account's): strong by default
    p = moved(emails=("r.mueller@acme-widgets.de",), matched_on=("name_company",))
    v = run(p)
    assert (v.outcome, v.evidence["person"]["basis"]) == (Outcome.LEFT, "name_and_email_domain")
    strict = MatchingConfig(strong_name_with_email_domain=False, strong_name_with_account_history=False)
    assert run(p, config=strict).rule == "unknown.person_not_strong"
    # the shared domain is not the account's: not strong (without the account-history policy, which
    # accepts the exact name with the job at the account's domain and a likelihood of 9)
    c = replace(CONTACT, email="robert.mueller@old-employer.de")
    p = moved(emails=("r.mueller@old-employer.de",))
    assert run(p, contact=c).evidence["person"]["basis"] == "name_and_account_history"
    v = run(p, contact=c, config=MatchingConfig(strong_name_with_account_history=False))
    assert (v.rule, v.evidence["person"]["basis"]) == (
        "unknown.person_not_strong",
        "email_domain_not_account",
    )
    # a free-mail domain never counts
    c = replace(CONTACT, email="robert.mueller@gmail.com")
    no_history = MatchingConfig(strong_name_with_account_history=False)
    assert run(moved(emails=("bob.m@gmail.com",)), contact=c, config=no_history).rule == (
        "unknown.person_not_strong"
    )


def test_similar_name_on_another_page_than_the_accounts_own_job_is_different() -> None:
    gm = AccountRecord("gm", name="General Motors Company", website="https://www.gm.com")
    c = replace(CONTACT, email="robert.mueller@gm.com")
    p = profile(
        Position(
            Company(name="General Mills, Inc.", linkedin_id="2066"), start_date="2025-03", is_primary=True
        ),
        Position(
            Company(name="General Motors", website="gm.com", linkedin_id="1712"),
            start_date="2020",
            end_date="2025-01",
        ),
        emails=("robert.mueller@gm.com",),
    )
    v = run(p, account=gm, contact=c)
    assert v.outcome is Outcome.LEFT
    # without the pages the names alone say "related" ... but only common words are shared: different too
    assert v.evidence["current"]["basis"] in (
        "page_differs_from_account_position",
        "names_differ_beyond_common_words",
    )
    merck = AccountRecord("m", name="Merck KGaA", website="merckgroup.com")
    p = profile(
        Position(Company(name="Merck & Co., Inc.", linkedin_id="2"), start_date="2025-03", is_primary=True),
        Position(
            Company(name="Merck KGaA", website="merckgroup.com", linkedin_id="1"),
            start_date="2019",
            end_date="2025-01",
        ),
        emails=("robert.mueller@merckgroup.com",),
    )
    c = replace(CONTACT, email="robert.mueller@merckgroup.com")
    assert run(p, account=merck, contact=c).rule == "unknown.current_employer_related"  # namesake companies


def test_native_script_names_do_not_clash_with_their_romanisation() -> None:
    c = ContactRecord("c9", first_name="太郎", last_name="山田", email="taro.yamada@global.toyota")
    toyota = AccountRecord("t", name="Toyota Motor Corporation", website="global.toyota")
    p = profile(
        Position(Company(name="Atlassian Corporation"), start_date="2025-06", is_primary=True),
        Position(
            Company(name="トヨタ自動車株式会社", website="global.toyota"),
            start_date="2015",
            end_date="2025-05",
        ),
        first_name="taro",
        last_name="yamada",
        emails=("taro.yamada@global.toyota",),
    )
    v = run(p, account=toyota, contact=c)
    assert (v.outcome, v.evidence["person"]["name"]) == (Outcome.LEFT, "different_scripts")


def test_stale_data_skips_the_other_jobs_but_keeps_the_evidence() -> None:
    # stale: the verdict is UNKNOWN whatever the other jobs show, so they are not compared; the
    # evidence still names the current employer and the freshness
    v = run(moved(last_verified="2024-01-01"))
    assert v.rule == "unknown.stale_profile"
    assert v.evidence["current"]["company"] == "Globex Corporation"
    assert v.evidence["freshness"]["age_days"] > 180
    assert "account_position" not in v.evidence
    assert v.current_employer == "Globex Corporation"


def test_other_jobs_are_compared_only_where_a_rule_needs_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.matching import verdict

    compared: list[str | None] = []

    def spy(account: AccountRecord, company: Company, config: MatchingConfig) -> object:
        compared.append(company.name)
        return real(account, company, config)

    real = verdict.match_employer
    monkeypatch.setattr(verdict, "match_employer", spy)
    old_job = Position(Company(name="Initech Systems"), start_date="2010", end_date="2014")
    # still there, one other job: no boomerang possible, so it is not compared
    v = run(profile(Position(AT_ACME, start_date="2019", is_primary=True), old_job))
    assert (v.rule, compared) == ("still_there.current_employer_is_account", ["ACME Widgets"])
    # the current employer a parent company: only a job on the same page or domain could matter
    compared.clear()
    holding = Company(name="Widgetco Beteiligungs AG", parent_name="Acme Widgets GmbH")
    v = run(profile(Position(holding, start_date="2024", is_primary=True), old_job))
    assert (v.rule, compared) == ("unknown.current_employer_same_group", ["Widgetco Beteiligungs AG"])
    # LEFT needs every job at the account: all are compared
    compared.clear()
    v = run(profile(*moved().positions, old_job))
    assert v.rule == "left.ended_at_account_now_elsewhere"
    assert compared == ["Globex Corporation", "ACME Widgets", "Initech Systems"]
    # a boomerang is possible on dates (a job elsewhere after a job ended): the jobs are compared
    compared.clear()
    v = run(
        profile(
            Position(AT_ACME, start_date="2024", is_primary=True),
            Position(GLOBEX, start_date="2021", end_date="2023"),
            Position(AT_ACME, start_date="2015", end_date="2020"),
        )
    )
    assert v.rule == "still_there.returned_to_account"
    assert compared == ["ACME Widgets", "Globex Corporation", "ACME Widgets"]


@pytest.mark.parametrize("website", [
    "https://www.google.com/maps/place/Baeckerei+Schmidt/@48.1,11.5",
    "https://sites.google.com/view/baeckerei-schmidt",
    "https://www.facebook.com/baeckerei.schmidt",
])
def test_an_account_website_on_a_platform_identifies_nobody(website: str) -> None:
    # a bakery whose CRM website is a Google Maps or Facebook page, and a namesake who once worked at
    # Google: the shared domain must not count as "the job at the account"
    bakery = AccountRecord("b1", name="Bäckerei Schmidt", website=website)
    anna = ContactRecord("c9", first_name="Anna", last_name="Müller", email="anna@gmail.com", account_id="b1")
    google = Company(name="Google", website="https://www.google.com/")
    p = profile(Position(GLOBEX, start_date="2024-01", is_primary=True),
                Position(google, start_date="2018", end_date="2023-12"),
                first_name="anna", last_name="müller", emails=())
    assert run(p, account=bakery, contact=anna).outcome is not Outcome.LEFT
