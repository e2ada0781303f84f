"""Translated view names are best effort: a failing SetLocLabels / RetrieveLocLabels is a note.

Whether Dataverse takes localized labels on ``savedquery.name`` is not confirmed for every org, so
an org that answers these calls with a 400 or 500 must still get all four views, published, and a
second run against it must change nothing (it only repeats the notes).
"""

from __future__ import annotations

import pytest

from dataverse_emulator import Emulator, Fault
from functions.dataverse import errors
from tests.provisioning.helpers import actions, run_provisioning, writes
from tests.provisioning.test_provisioning_emulator import (
    ENGLISH_VIEW_NAMES,
    GERMAN_VIEW_NAMES,
    VIEW_KEYS,
    stored_view,
)

# A 400 (the org rejects translated view names) and a 500; the client retries neither.
FAILURES = [pytest.param(500, id="500"), pytest.param(400, id="400")]
FAULT_CODE = "0x80040216"  # the error code the emulator's server_error fault answers with


def assert_all_views_exist_and_are_published(emu: Emulator) -> None:
    for key in VIEW_KEYS:
        row = stored_view(emu, key)
        assert row is not None, key
        assert row["name"] == ENGLISH_VIEW_NAMES[key]
    assert emu.unpublished("contact") == set()
    assert emu.unpublished("opportunity") == set()


def german_names(emu: Emulator) -> dict[str, str | None]:
    return {
        key: emu.loc_labels("savedqueries", stored_view(emu, key)["savedqueryid"], "name").get(1031)
        for key in VIEW_KEYS
    }


def view_notes(notes: list[str], message: str) -> dict[str, str]:
    """The notes naming ``message``, by view key (each note names its view)."""
    found = {}
    for note in notes:
        if message not in note:
            continue
        keys = [key for key, name in ENGLISH_VIEW_NAMES.items() if f"view {name!r}" in note]
        assert len(keys) == 1, note
        found[keys[0]] = note
    return found


# -- SetLocLabels ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", FAILURES)
def test_set_loc_labels_failing_on_every_call_still_creates_and_publishes_all_views(
    emu: Emulator, status: int
) -> None:
    emu.faults.add(Fault("server_error", method="POST", path=r"^SetLocLabels", status=status, times=None))

    report = run_provisioning(emu)

    assert set(actions(report).values()) == {"created"}
    assert_all_views_exist_and_are_published(emu)
    assert report.published
    assert emu.publish_log == [{"message": "PublishXml", "entities": ["contact", "opportunity"]}]
    assert german_names(emu) == dict.fromkeys(VIEW_KEYS)
    notes = view_notes(report.notes, "SetLocLabels failed")
    assert set(notes) == set(VIEW_KEYS), report.notes
    for key, note in notes.items():
        view_id = stored_view(emu, key)["savedqueryid"]
        assert view_id in note
        assert "German (1031)" in note
        assert f"HTTP {status}" in note
        assert FAULT_CODE in note
    views = [c for c in report.components if c.kind == "view"]
    assert all("German (1031) name not set" in c.detail for c in views)
    assert "Note: view 'All Contacts No Longer at Company'" in report.render()

    # A rerun against the same org changes nothing: it tries the names again (they still fail),
    # writes nothing that sticks, publishes nothing, and repeats the notes.
    emu.counters.reset()
    again = run_provisioning(emu)

    assert set(actions(again).values()) == {"exists"}
    assert not again.changed
    assert not again.published
    assert len(emu.publish_log) == 1
    assert emu.counters.requests["create"] == emu.counters.requests["update"] == 0
    assert sum(emu.counters.operations.values()) == 0, "nothing committed"
    assert writes(emu) == {"action": 4}, "only the four SetLocLabels attempts, which fail"
    assert set(view_notes(again.notes, "SetLocLabels failed")) == set(VIEW_KEYS)
    assert len(again.notes) == 4

    # Once the org takes the names, the next run sets them and publishes.
    emu.faults.clear()
    fixed = run_provisioning(emu)

    assert german_names(emu) == GERMAN_VIEW_NAMES
    assert {c.detail for c in fixed.components if c.kind == "view"} == {
        "contact, translated name changed",
        "opportunity, translated name changed",
    }
    assert fixed.published
    assert fixed.notes == []


def test_one_failed_set_loc_labels_is_a_note_and_the_next_run_repairs_it(emu: Emulator) -> None:
    emu.faults.add(Fault("server_error", method="POST", path=r"^SetLocLabels", status=500, times=1))

    report = run_provisioning(emu)

    assert_all_views_exist_and_are_published(emu)
    assert report.published
    assert set(view_notes(report.notes, "SetLocLabels failed")) == {"contacts_all"}
    assert german_names(emu) == {**GERMAN_VIEW_NAMES, "contacts_all": None}

    emu.counters.reset()
    again = run_provisioning(emu)

    assert actions(again)[ENGLISH_VIEW_NAMES["contacts_all"]] == "updated"
    assert [c.action.value for c in again.components].count("updated") == 1
    assert german_names(emu) == GERMAN_VIEW_NAMES
    assert emu.counters.requests["create"] == 0
    assert again.published
    assert again.notes == []


def test_set_loc_labels_failure_is_reported_only_after_the_clients_retries(emu: Emulator) -> None:
    # 503 is transient: the client retries it, so the run sees success and writes no note.
    emu.faults.add(Fault("server_error", method="POST", path=r"^SetLocLabels", status=503, times=1))

    report = run_provisioning(emu, max_retries=2, max_retry_wait_seconds=0.01)

    assert report.notes == []
    assert report.requests["retries"] == 1
    assert german_names(emu) == GERMAN_VIEW_NAMES


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        pytest.param("throttle", errors.ThrottledError, id="429"),
        pytest.param("unauthorized", errors.AuthenticationError, id="401"),
    ],
)
def test_throttling_or_lost_auth_on_set_loc_labels_stops_the_run_after_all_views_exist(
    emu: Emulator, kind: str, error: type[errors.DataverseError]
) -> None:
    # These would fail the next call just the same, so they stop the run as anywhere else.
    emu.faults.add(Fault(kind, path=r"^SetLocLabels", times=None))

    with pytest.raises(error):
        run_provisioning(emu, max_retries=1, max_retry_wait_seconds=0.01)

    # Names are set after all views are created, so no view is missing.
    assert all(stored_view(emu, key) is not None for key in VIEW_KEYS)
    assert emu.publish_log == []

    emu.faults.clear()
    report = run_provisioning(emu)

    assert german_names(emu) == GERMAN_VIEW_NAMES
    assert {actions(report)[name] for name in ENGLISH_VIEW_NAMES.values()} == {"updated"}
    assert report.published
    assert_all_views_exist_and_are_published(emu)


# -- RetrieveLocLabels --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", FAILURES)
def test_retrieve_loc_labels_failing_leaves_names_alone_and_writes_nothing(
    emu: Emulator, status: int
) -> None:
    run_provisioning(emu)
    emu.faults.add(Fault("server_error", method="GET", path=r"^RetrieveLocLabels", status=status, times=None))
    emu.counters.reset()

    report = run_provisioning(emu)

    assert writes(emu) == {}
    assert set(actions(report).values()) == {"exists"}
    assert not report.published
    notes = view_notes(report.notes, "RetrieveLocLabels failed")
    assert set(notes) == set(VIEW_KEYS), report.notes
    for key, note in notes.items():
        assert stored_view(emu, key)["savedqueryid"] in note
        assert "German (1031)" in note
        assert f"HTTP {status}" in note
        assert FAULT_CODE in note
    assert german_names(emu) == GERMAN_VIEW_NAMES


def test_set_and_retrieve_loc_labels_both_unsupported(emu: Emulator) -> None:
    """An org without translated view names at all: every run completes; the second changes nothing."""
    emu.faults.add(Fault("server_error", method="POST", path=r"^SetLocLabels", status=400, times=None))
    emu.faults.add(Fault("server_error", method="GET", path=r"^RetrieveLocLabels", status=400, times=None))

    first = run_provisioning(emu)
    assert first.published
    assert_all_views_exist_and_are_published(emu)
    assert len(view_notes(first.notes, "SetLocLabels failed")) == 4

    emu.counters.reset()
    second = run_provisioning(emu)

    assert writes(emu) == {}
    assert set(actions(second).values()) == {"exists"}
    assert not second.published
    assert len(view_notes(second.notes, "RetrieveLocLabels failed")) == 4
