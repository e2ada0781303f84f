"""The pieces behind issue 5's second review: what a repair keeps of an invalid stored document, which
stored versions are readable, and where ``profile_source.file`` may point when set through the API."""

from __future__ import annotations

import pytest

from functions.settings import Settings, validate_patch
from functions.settings.merge_patch import FILE_LOCATION_REASON, is_blob_location, profile_file_errors
from functions.state.settings_store import _stored_version, repair_document

DEFAULTS = Settings.model_validate({"profile_source": {"file": "/home/site/profiles.jsonl"}})


def test_repair_keeps_the_members_that_still_validate() -> None:
    stored = {"enabled": True, "dry_run": "yes", "refresh_days": 45, "lookup_budget": -1,
              "matching": {"employer_same_score": 95, "employer_different_score": 99},
              "sync_users": {"team": "Sales"}, "colour": "teal"}
    repaired = repair_document(stored, DEFAULTS)
    assert repaired.enabled is True
    assert repaired.refresh_days == 45
    assert repaired.sync_users.team == "Sales"
    assert repaired.dry_run is DEFAULTS.dry_run          # invalid: the default
    assert repaired.lookup_budget == DEFAULTS.lookup_budget
    assert repaired.matching == DEFAULTS.matching       # invalid as a whole (score order): the default
    assert repair_document(None, DEFAULTS) == DEFAULTS


@pytest.mark.parametrize(("value", "expected"), [
    (3, 3), ("3", 3), (3.0, 3), (" 12 ", 12),
    ("abc", None), ("", None), (None, None), (0, None), (-1, None), (True, None), (2.5, None), ("٣", None),
])
def test_stored_version(value: object, expected: int | None) -> None:
    assert _stored_version(value) == expected


@pytest.mark.parametrize(("location", "ok"), [
    ("blob://profiles/p.jsonl", True), ("blob://profiles/a/b/p.csv.gz", True),
    ("blob://", False), ("blob://c", False), ("blob://c/", False), ("blob:///p", False),
    ("blob://c/../p", False), ("blob://c/a//p", False), ("blob://c\\d/p", False),
    ("https://acct.blob.core.windows.net/c/p.jsonl", False), ("/etc/passwd", False),
])
def test_is_blob_location(location: str, ok: bool) -> None:
    assert is_blob_location(location) is ok


def _patched(patch: dict[str, object], current: Settings = DEFAULTS) -> Settings:
    return validate_patch(current, patch, defaults=DEFAULTS, secrets_present=())


def test_profile_file_rule() -> None:
    other = _patched({"profile_source": {"file": "/etc/passwd"}})
    assert profile_file_errors(other, DEFAULTS, defaults=DEFAULTS)[0].reason == FILE_LOCATION_REASON
    url = _patched({"profile_source": {"file": "http://127.0.0.1:7399/devstoreaccount1/c/x.jsonl"}})
    assert profile_file_errors(url, DEFAULTS, defaults=DEFAULTS)
    blob = _patched({"profile_source": {"file": "blob://c/p.jsonl"}})
    assert profile_file_errors(blob, DEFAULTS, defaults=DEFAULTS) == []
    # back to the PROFILE_FILE app setting (the defaults' file)
    assert profile_file_errors(DEFAULTS, blob, defaults=DEFAULTS) == []
    # a stored value from before the rule: unrelated changes pass, enabling does not
    legacy = Settings.model_validate({"profile_source": {"file": "/srv/legacy.jsonl"}})
    assert profile_file_errors(_patched({"dry_run": True}, legacy), legacy, defaults=DEFAULTS) == []
    assert profile_file_errors(_patched({"enabled": True}, legacy), legacy, defaults=DEFAULTS)
