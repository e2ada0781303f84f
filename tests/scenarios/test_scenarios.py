"""The labelled scenario set (tests/data/scenarios) and its floors, measured through the scan's path.

Every case goes through the scan's converters, the account hierarchy, the real file source and
``validate_batch`` (tests/scenarios/scan_path.py). Labels come from product.md §4 as a careful human
applies it, never from the engine's output. Run ``python benchmarks/scenarios.py`` for the full report.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from tests.scenarios import evaluate
from tests.scenarios.loader import CATEGORIES, ScenarioError, load_file, load_scenarios

MIN_CASES = 530
MIN_PER_CATEGORY = 15


@pytest.fixture(scope="module")
def scenarios():
    return load_scenarios()


# ----------------------------------------------------------------------------------------- (1) the data
def test_scenario_set_is_valid_and_large_enough(scenarios):
    assert len(scenarios) >= MIN_CASES, f"only {len(scenarios)} scenarios, need >= {MIN_CASES}"
    ids = Counter(sc.id for sc in scenarios)
    assert not [i for i, n in ids.items() if n > 1], "duplicate ids"
    per_category = Counter(sc.category for sc in scenarios)
    missing = {c: per_category[c] for c in CATEGORIES if per_category[c] < MIN_PER_CATEGORY}
    assert not missing, f"categories below {MIN_PER_CATEGORY} cases: {missing}"
    unlisted = sorted(set(per_category) - set(CATEGORIES))
    assert not unlisted, f"scenario files for categories not listed in loader.CATEGORIES: {unlisted}"
    outcomes = Counter(sc.expected.value for sc in scenarios)
    for outcome in ("left", "still_there", "unknown"):
        assert outcomes[outcome] >= 0.25 * len(scenarios), f"too few {outcome} cases: {dict(outcomes)}"


def test_every_left_case_carries_the_positive_evidence_the_label_needs(scenarios):
    """A LEFT label needs an account and a profile with one open primary job and an ended non-primary job."""
    problems = []
    for sc in scenarios:
        if sc.expected.value != "left":
            continue
        p = sc.profile
        if sc.account is None or p is None:
            problems.append(f"{sc.id}: no account or profile")
            continue
        primary = [pos for pos in p.positions if pos.is_primary]
        if len(primary) != 1 or primary[0].end_date is not None:
            problems.append(f"{sc.id}: needs exactly one open primary position")
        if not any(not pos.is_primary and pos.end_date for pos in p.positions):
            problems.append(f"{sc.id}: no ended non-primary position")
        if not p.last_verified:
            problems.append(f"{sc.id}: no last_verified")
    assert not problems, "\n".join(problems)


def _first_day(value: str) -> date:
    parts = [int(x) for x in value.split("-")] + [1, 1]
    return date(parts[0], parts[1], parts[2])


def test_dates_are_not_after_today_and_ranges_are_ordered(scenarios):
    problems = []
    for sc in scenarios:
        if sc.profile is None:
            continue
        stamps = [sc.profile.last_verified, sc.profile.last_changed]
        for pos in sc.profile.positions:
            stamps += [pos.start_date, pos.end_date]
            if pos.start_date and pos.end_date and _first_day(pos.start_date) > _first_day(pos.end_date):
                problems.append(f"{sc.id}: position {pos.start_date}..{pos.end_date} runs backwards")
        problems += [
            f"{sc.id}: {v} is after today {sc.today}" for v in stamps if v and _first_day(v) > sc.today
        ]
    assert not problems, "\n".join(problems)


# ----------------------------------------------------------------------------------- the loader is strict
GOOD = {
    "id": "move-001",
    "category": "moves",
    "description": "x",
    "today": "2026-11-01",
    "contact": {"contact_id": "c1", "email": "a@x.com", "account_id": "a1"},
    "account": {"account_id": "a1", "name": "X GmbH"},
    "profile": {
        "profile_id": "p1",
        "source": "file",
        "emails": ["a@x.com"],
        "last_verified": "2026-10",
        "positions": [{"company": {"name": "Y AG"}, "start_date": "2025", "is_primary": True}],
    },
    "expected": "left",
}


def _write(tmp_path: Path, case: dict, name: str = "moves.jsonl") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps(case) + "\n", encoding="utf-8")
    return path


def _with(path: str, value) -> dict:
    case = json.loads(json.dumps(GOOD))
    target = case
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is _DELETE:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    if path != "id":
        case["id"] = "move-002"
    return case


_DELETE = object()


def test_loader_accepts_the_good_case(tmp_path):
    loaded = load_file(_write(tmp_path, _with("description", "y")))
    assert [sc.id for sc in loaded] == ["move-001", "move-002"]
    assert loaded[0].profile.positions[0].company.name == "Y AG"
    assert loaded[0].profile.emails == ("a@x.com",)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("surprise", 1, "unknown key(s) ['surprise']"),
        ("contact.emial", "a@x.com", "unknown key(s) ['emial'] for ContactRecord"),
        ("profile.positions.0.company.url", "x.com", "unknown key(s) ['url'] for Company"),
        ("profile.positions.0.end_date", "2025-13", "not a real date"),
        ("profile.last_verified", "01.10.2026", "is not YYYY, YYYY-MM or YYYY-MM-DD"),
        ("profile.positions.0.is_primary", "yes", "expected true/false"),
        ("profile.emails", "a@x.com", "expected a list"),
        ("profile.match_likelihood", 11, "outside 1..10"),
        ("profile.source", _DELETE, "Profile.source is required"),
        ("contact.account_id", "other", "!= account.account_id"),
        ("expected", "gone", "must be one of"),
        ("category", "stale", "does not match the file name"),
        ("today", "2026-11", "must be YYYY-MM-DD"),
        ("alias_table", {"X": []}, "non-empty list"),
        ("id", "Move 2", "must look like"),
        ("description", _DELETE, "missing key(s) ['description']"),
    ],
)
def test_loader_rejects_bad_lines_naming_file_and_line(tmp_path, path, value, message):
    with pytest.raises(ScenarioError) as err:
        load_file(_write(tmp_path, _with(path, value)))
    assert str(err.value).startswith(f"{tmp_path / 'moves.jsonl'}:2: "), str(err.value)
    assert message in str(err.value)


def test_loader_rejects_duplicate_ids_across_files(tmp_path):
    (tmp_path / "moves.jsonl").write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    (tmp_path / "stale.jsonl").write_text(json.dumps({**GOOD, "category": "stale"}) + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="duplicate id 'move-001'"):
        load_scenarios(tmp_path)


# ------------------------------------------------------------------------------------- (2), (3) the engine
@pytest.fixture(scope="module")
def results(scenarios):
    return evaluate.run(scenarios)


def test_the_scan_decides_every_scenario(results):
    errors = [r for r in results if r.predicted == "error"]
    assert not errors, "no verdict for:\n" + "\n".join(evaluate.format_miss(r) for r in errors)


def test_left_precision_and_recall_meet_the_floor(results):
    metrics = evaluate.score(results)
    report = "\n".join(
        [
            evaluate.format_summary(metrics),
            evaluate.format_confusion(metrics),
            evaluate.format_categories(metrics, results),
        ]
    )
    print("\n" + report)
    misses = [
        r for r in evaluate.misclassified(results) if "left" in (r.predicted, r.scenario.expected.value)
    ]
    detail = "\n".join(evaluate.format_miss(r) for r in misses)
    failure = f"{report}\nmisclassified (LEFT expected or predicted):\n{detail}"
    assert metrics.fp <= evaluate.MAX_FALSE_LEFT, failure
    assert metrics.precision >= evaluate.PRECISION_FLOOR, failure
    assert metrics.recall >= evaluate.RECALL_FLOOR, failure


def test_no_still_there_contact_is_ever_flagged_left(results):
    wrong = [r for r in results if r.scenario.expected.value == "still_there" and r.predicted == "left"]
    assert not wrong, "STILL_THERE classified LEFT (the expensive mistake):\n" + "\n".join(
        evaluate.format_miss(r, evidence=True) for r in wrong
    )
