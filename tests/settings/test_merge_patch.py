"""JSON merge patch: RFC 7396 exactly, and what ``null`` means for settings (back to the default)."""

from __future__ import annotations

import copy

import pytest

from functions.config import load_config
from functions.settings import Settings, apply_merge_patch, defaults_from_config, validate_patch

GUID = "11111111-2222-3333-4444-555555555555"

# RFC 7396 Appendix A, every row: (original, patch, result).
RFC_7396_APPENDIX_A = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("original", "patch", "result"), RFC_7396_APPENDIX_A)
def test_rfc_7396_appendix_a(original: object, patch: object, result: object) -> None:
    before = copy.deepcopy((original, patch))
    assert apply_merge_patch(original, patch) == result
    assert (original, patch) == before  # inputs untouched


def test_rfc_7396_section_3_example() -> None:
    target = {"title": "Goodbye!", "author": {"givenName": "John", "familyName": "Doe"},
              "tags": ["example", "sample"], "content": "This will be unchanged"}
    patch = {"title": "Hello!", "phoneNumber": "+01-123-456-7890", "author": {"familyName": None},
             "tags": ["example"]}
    assert apply_merge_patch(target, patch) == {
        "title": "Hello!", "author": {"givenName": "John"}, "tags": ["example"],
        "content": "This will be unchanged", "phoneNumber": "+01-123-456-7890"}


def test_result_shares_nothing_mutable_with_the_inputs() -> None:
    target = {"a": {"b": [1]}}
    patch = {"c": {"d": [2]}}
    result = apply_merge_patch(target, patch)
    result["a"]["b"].append(9)
    result["c"]["d"].append(9)
    assert target == {"a": {"b": [1]}}
    assert patch == {"c": {"d": [2]}}


@pytest.fixture
def defaults() -> Settings:
    return defaults_from_config(load_config({
        "DATAVERSE_URL": "http://127.0.0.1:5555", "DATAVERSE_AUTH": "local", "SYNC_TEAM": "Sales",
        "PROFILE_FILE": "/data/default.jsonl", "SCAN_REFRESH_DAYS": "14",
    }))


def _patch(current: Settings, patch: dict, defaults: Settings) -> Settings:
    return validate_patch(current, patch, defaults=defaults, secrets_present=set())


def test_null_resets_a_member_to_its_default(defaults: Settings) -> None:
    changed = _patch(defaults, {"refresh_days": 60, "lookup_budget": 100,
                                "matching": {"person_name_score": 70}},
                     defaults)
    assert (changed.refresh_days, changed.lookup_budget, changed.matching.person_name_score) == (60, 100, 70)
    reset = _patch(changed, {"refresh_days": None, "lookup_budget": None,
                             "matching": {"person_name_score": None}},
                   defaults)
    assert reset == defaults


def test_null_resets_a_whole_section(defaults: Settings) -> None:
    changed = _patch(defaults, {"matching": {"person_name_score": 70, "acronym_policy": "related"},
                                "profile_source": {"file": "/other.csv", "file_format": "csv"}}, defaults)
    reset = _patch(changed, {"matching": None, "profile_source": None}, defaults)
    assert reset.matching == defaults.matching
    assert reset.profile_source == defaults.profile_source


def test_empty_patch_changes_nothing(defaults: Settings) -> None:
    assert _patch(defaults, {}, defaults) == defaults


def test_switching_sync_source_away_from_a_default_team(defaults: Settings) -> None:
    assert defaults.sync_users.team == "Sales"
    # Naming another source while nulling the default one works: the members of sync_users are
    # alternatives, so a removed one is "not this source", not the app-settings default.
    by_ids = _patch(defaults, {"sync_users": {"team": None, "user_ids": [GUID.upper()]}}, defaults)
    assert by_ids.sync_users.model_dump(mode="json") == {"user_ids": [GUID], "team": None, "role": None}
    # Nulling the whole section brings the default back.
    assert _patch(by_ids, {"sync_users": None}, defaults).sync_users.team == "Sales"
    # Clearing everything: all enabled human users.
    everyone = _patch(defaults, {"sync_users": {"team": None}}, defaults)
    assert everyone.sync_users.model_dump(mode="json") == {"user_ids": [], "team": None, "role": None}


def test_null_for_a_non_nullable_member_is_its_default_not_an_error(defaults: Settings) -> None:
    enabled = _patch(defaults, {"enabled": True, "dry_run": True}, defaults)
    assert _patch(enabled, {"enabled": None, "dry_run": None}, defaults).enabled is False
