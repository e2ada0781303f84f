"""Regressions for the review findings B1-B4, S1, S2 (emulator over HTTP + Azurite + a profile file)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import functions.pipeline.crm_reader as crm_reader_module
import functions.pipeline.run as run_module
import functions.pipeline.validate as validate_module
from functions.dataverse import build_client
from functions.dataverse.provisioning import provision
from functions.matching.records import Outcome
from functions.pipeline import RunHooks, run_scan
from functions.state import build_table_service
from functions.state.delta_links import ScanCheckpoint
from functions.state.tables import ScanTables

from .conftest import FLAG, IGNORE, NOT_AT_COMPANY, TODAY, ScanWorld


def _provision(world: ScanWorld) -> None:
    with build_client(world.config().dataverse) as client:
        provision(client, world.config().dataverse)


def _checkpoint(world: ScanWorld) -> dict:
    return ScanCheckpoint(ScanTables(build_table_service(world.config()), world.prefix).deltalinks).load()


# ---------------------------------------------------------------------------------------------- B1
def test_empty_profile_file_fails_the_run_and_unflags_nobody(world: ScanWorld) -> None:
    _provision(world)
    first = world.scan()
    flagged = world.flagged()
    assert flagged
    assert first.status == "succeeded"
    assert _checkpoint(world)["profile_count"] > 0
    writes = world.writes()
    world.profile_path.write_text("")
    second = world.scan(day=TODAY + timedelta(days=1))
    assert second.status == "failed"
    assert "PROFILE_FILE" in second.message
    assert world.flagged() == flagged
    assert world.writes() == writes


def test_truncated_profile_file_fails_the_run(world: ScanWorld) -> None:
    _provision(world)
    world.scan()
    flagged = world.flagged()
    lines = world.profile_path.read_text(encoding="utf-8").splitlines(keepends=True)
    world.profile_path.write_text("".join(lines[: len(lines) // 3]), encoding="utf-8")
    second = world.scan(day=TODAY + timedelta(days=1))
    assert second.status == "failed"
    assert "PROFILE_FILE" in second.message
    assert "fewer than half" in second.message
    assert world.flagged() == flagged


def test_missing_profile_file_unflags_nobody(world: ScanWorld) -> None:
    _provision(world)
    world.scan()
    flagged = world.flagged()
    world.profile_path.unlink()
    second = world.scan(day=TODAY + timedelta(days=1))
    assert second.status == "failed"
    assert world.flagged() == flagged


def test_unknown_verdict_never_removes_a_flag(world: ScanWorld) -> None:
    _provision(world)
    expected = world.expected()
    unknowns = sorted(c for c in world.scope() if expected[c] is Outcome.UNKNOWN)[:5]
    assert unknowns
    for cid in unknowns:  # flags a person set
        world.emulator.store.update("contacts", cid, {FLAG: NOT_AT_COMPANY})
    summary = world.scan()
    assert summary.status == "succeeded", summary.message
    assert summary.counters["unflagged"] == 0
    assert all(world.flag(cid) == NOT_AT_COMPANY for cid in unknowns)


# ---------------------------------------------------------------------------------------------- B4
def test_one_bad_record_is_skipped_not_a_failed_run(world: ScanWorld, monkeypatch) -> None:
    _provision(world)
    bad = sorted(world.scope())[-1]
    real = validate_module.decide

    def decide(contact, account, profile, **kwargs):
        if contact.contact_id == bad:
            raise ValueError("malformed record with personal data")
        return real(contact, account, profile, **kwargs)

    monkeypatch.setattr(validate_module, "decide", decide)
    first = world.scan()
    assert first.status == "completed_with_errors", first.message
    assert first.skipped["bad_record"] == 1
    assert first.errors["bad_record"] == 1
    expected_flags = {c for c in world.scope() if world.expected()[c] is Outcome.LEFT} - {bad}
    assert world.flagged() - {bad} == expected_flags
    second = world.scan(day=TODAY + timedelta(days=1))
    assert second.status == "completed_with_errors"
    assert second.skipped["bad_record"] == 1  # retried, still bad, still only skipped


def test_a_failing_batch_is_skipped_as_batch_error(world: ScanWorld, monkeypatch) -> None:
    _provision(world)
    real = validate_module.validate_batch

    def validate_batch(batch, source, **kwargs):
        if batch.index == 0:
            raise RuntimeError("unexpected")
        return real(batch, source, **kwargs)

    monkeypatch.setattr(run_module, "validate_batch", validate_batch)
    summary = world.scan()
    assert summary.status == "completed_with_errors", summary.message
    assert summary.skipped["batch_error"] == 100
    assert summary.counters["looked_up"] == len(world.scope()) - 100


def test_a_malformed_contact_row_is_skipped_as_bad_row(world: ScanWorld, monkeypatch) -> None:
    _provision(world)
    world.scan()
    bad = sorted(world.scope())[0]
    real = crm_reader_module.contact_from_row

    def contact_from_row(row, *args):
        if str(row.get("contactid")).lower() == bad:
            raise TypeError("bad row")
        return real(row, *args)

    monkeypatch.setattr(crm_reader_module, "contact_from_row", contact_from_row)
    world.emulator.store.update("contacts", bad, {"jobtitle": "Changed"})
    summary = world.scan(day=TODAY + timedelta(days=1))
    assert summary.status == "completed_with_errors", summary.message
    assert summary.skipped["bad_row"] == 1
    assert summary.counters["deleted"] == 0


# ---------------------------------------------------------------------------------------------- B3
def test_run_whose_lock_was_taken_over_fails_and_leaves_the_new_checkpoint(world: ScanWorld) -> None:
    _provision(world)
    now = [datetime(2026, 1, 15, 2, 0, tzinfo=UTC)]

    def clock():
        return now[0]

    batches = (len(world.scope()) + 99) // 100
    other = {}

    def after(index: int, _summary) -> None:
        if index == batches - 1:  # A's lease expires; B takes the lock over and runs to the end
            now[0] += timedelta(hours=1)
            services = world.services()
            try:
                other["b"] = run_scan(world.config(), services=services, clock=clock)
            finally:
                services.close()

    services = world.services()
    try:
        a = run_scan(world.config(), services=services, clock=clock, hooks=RunHooks(after_batch=after))
    finally:
        services.close()
    b = other["b"]
    assert b.status == "succeeded", b.message
    assert a.status == "failed"
    assert "lost the scan lock" in a.message
    assert a.counters["writes"] == 0  # A wrote nothing after losing the lock
    assert _checkpoint(world)["run_id"] == b.run_id


def test_checkpoint_save_is_conditional(world: ScanWorld) -> None:
    from functions.state.table_store import StaleEntityError

    store = ScanTables(build_table_service(world.config()), world.prefix).ensure().deltalinks
    stale, fresh = ScanCheckpoint(store), ScanCheckpoint(store)
    assert stale.load() == {}
    assert fresh.load() == {}
    fresh.save({"run_id": "new"})
    with pytest.raises(StaleEntityError):
        stale.save({"run_id": "old"})
    again = ScanCheckpoint(store)
    assert again.load() == {"run_id": "new"}
    other = ScanCheckpoint(store)
    other.load()
    again.save({"run_id": "newer"})
    with pytest.raises(StaleEntityError):
        other.save({"run_id": "old"})
    assert ScanCheckpoint(store).load() == {"run_id": "newer"}


# ---------------------------------------------------------------------------------------------- B2
def test_ignore_set_during_the_run_is_not_overwritten(world: ScanWorld) -> None:
    _provision(world)
    expected = world.expected()
    movers = sorted(c for c in world.scope() if expected[c] is Outcome.LEFT)
    assert movers

    def after(index: int, _summary) -> None:
        if index == 0:
            for cid in movers:
                world.emulator.store.update("contacts", cid, {FLAG: IGNORE})

    summary = world.scan(hooks=RunHooks(after_batch=after))
    assert summary.status == "succeeded", summary.message
    assert all(world.flag(cid) == IGNORE for cid in movers)
    assert summary.skipped["changed_during_run"] == len(movers)
    assert summary.counters["writes"] == 0
    # the next run sees "Ignore" and leaves it alone
    nxt = world.scan(day=TODAY + timedelta(days=1))
    assert all(world.flag(cid) == IGNORE for cid in movers)
    assert nxt.counters["writes"] == 0


def test_a_row_edited_during_the_run_is_not_written_over(world: ScanWorld) -> None:
    """Writes are conditional on the row version read in this run, not only on the flag value: a
    person editing any column of the contact meanwhile wins, and the contact is re-checked next run."""
    _provision(world)
    expected = world.expected()
    movers = sorted(c for c in world.scope() if expected[c] is Outcome.LEFT)
    edited = movers[0]

    def after(index: int, _summary) -> None:
        if index == 0:
            world.emulator.store.update("contacts", edited, {"jobtitle": "edited by a rep"})

    summary = world.scan(hooks=RunHooks(after_batch=after))
    assert summary.status == "succeeded", summary.message
    assert summary.skipped["changed_during_run"] == 1
    assert world.flag(edited) != NOT_AT_COMPANY
    assert all(world.flag(cid) == NOT_AT_COMPANY for cid in movers[1:])
    nxt = world.scan(day=TODAY + timedelta(days=1))
    assert world.flag(edited) == NOT_AT_COMPANY
    assert nxt.counters["writes"] == 1


# ---------------------------------------------------------------------------------------------- S1
def _drop_flag_column(world: ScanWorld) -> None:
    store = world.emulator.store
    for attr in ("tables", "_tables", "data"):
        tables = getattr(store, attr, None)
        if tables:
            table = tables.get("contact") or tables.get("contacts")
            if table is not None:
                table = getattr(table, "table", table)
                table.attributes.pop(FLAG, None)
                table.by_wire.pop(FLAG, None)
                return
    raise AssertionError("emulator layout changed")


def test_recreated_flag_column_gets_its_flags_back(world: ScanWorld) -> None:
    _provision(world)
    world.scan()
    flagged = world.flagged()
    assert flagged
    _drop_flag_column(world)
    for cid in flagged:
        world.emulator.store.update("contacts", cid, {FLAG: None})
    broken = world.scan(day=TODAY + timedelta(days=1))
    assert broken.status == "failed"  # reading a column that is gone: 400, provisioning cache cleared
    repaired = world.scan(day=TODAY + timedelta(days=2))
    assert repaired.status == "succeeded", repaired.message
    assert repaired.mode == "full"
    assert repaired.planned["value_drifted"] == len(flagged)
    assert world.flagged() == flagged


def test_a_412_on_write_is_changed_during_run_not_an_error(world: ScanWorld, monkeypatch) -> None:
    from functions.dataverse import DataverseClient, DataverseError
    from functions.dataverse.models import RecordResult

    _provision(world)
    expected = world.expected()
    mover = sorted(c for c in world.scope() if expected[c] is Outcome.LEFT)[0]
    real = DataverseClient.update_many

    def update_many(self, entity_set, records, **kwargs):
        records = list(records)
        results = real(self, entity_set, [r for r in records if r["contactid"] != mover], **kwargs)
        it = iter(results)
        return [RecordResult(mover, False, DataverseError(412, "", "precondition failed"))
                if r["contactid"] == mover else next(it) for r in records]

    monkeypatch.setattr(DataverseClient, "update_many", update_many)
    summary = world.scan()
    assert summary.status == "succeeded", summary.message
    assert summary.skipped["changed_during_run"] == 1
    assert summary.counters["errors"] == 0
    assert world.flag(mover) is None
