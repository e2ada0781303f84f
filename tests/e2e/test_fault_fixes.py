"""Defects a fault campaign found (issue #12), each through real scans: emulator over HTTP, Azurite."""

from __future__ import annotations

from datetime import timedelta

from functions.matching.records import Outcome

from .conftest import FLAG, NO_FEEDBACK, NOT_AT_COMPANY, TODAY, ScanWorld


def _movers(world: ScanWorld) -> list[str]:
    expected = world.expected()
    return sorted(cid for cid in world.scope() if expected[cid] is Outcome.LEFT)


def test_a_person_resetting_our_flag_is_revalidated_by_the_next_delta_run(world: ScanWorld) -> None:
    world.scan()
    mover = _movers(world)[0]
    assert world.flag(mover) == NOT_AT_COMPANY
    world.emulator.store.update("contacts", mover, {FLAG: NO_FEEDBACK}, stamp=True)

    summary = world.scan(day=TODAY + timedelta(days=1))

    assert summary.mode == "delta"
    assert summary.planned["value_drifted"] == 1
    assert world.flag(mover) == NOT_AT_COMPANY


def test_in_scope_does_not_drift_after_failed_writes(world: ScanWorld) -> None:
    from dataverse_emulator import Fault

    failing = _movers(world)[:3]
    for cid in failing:
        world.emulator.faults.add(Fault("fail_record", record_id=cid, times=1))
    first = world.scan()
    assert first.status == "completed_with_errors", first.message
    assert first.counters["in_scope"] == len(world.scope())
    second = world.scan(day=TODAY + timedelta(days=1))  # the three are written now
    assert second.status == "succeeded", second.message
    assert {cid: world.flag(cid) for cid in failing} == dict.fromkeys(failing, NOT_AT_COMPANY)
    assert second.counters["in_scope"] == len(world.scope())
    third = world.scan(day=TODAY + timedelta(days=2))
    assert third.counters["in_scope"] == len(world.scope())


def test_malformed_profile_rows_are_in_the_run_record(world: ScanWorld) -> None:
    from functions.state import build_table_service
    from functions.state.runs import RunRecords
    from functions.state.tables import ScanTables

    with world.profile_path.open("a", encoding="utf-8") as fh:
        fh.write("{not json\n" + "[" * 50_000 + "]" * 50_000 + "\n")
    summary = world.scan()
    assert summary.status == "succeeded", summary.message
    assert summary.counters["profile_rows_malformed"] == 2
    record = RunRecords(ScanTables(build_table_service(world.config()), world.prefix).runs).latest(1)[0]
    assert record["counters"]["profile_rows_malformed"] == 2
    assert record["profile_file"]["rows_malformed"] == {"bad_json": 1, "too_deep": 1}


def test_a_run_whose_lock_was_taken_over_writes_no_state(world: ScanWorld) -> None:
    from datetime import UTC, datetime

    from functions.pipeline import RunHooks, run_scan
    from functions.state import build_table_service
    from functions.state.contacts import ContactStates
    from functions.state.lock import RunLock
    from functions.state.tables import ScanTables
    from localdev.sample_profiles import mutate_profiles

    world.scan()
    expected = world.expected()
    # three flagged movers whose profile changes without changing their verdict (a new title): they
    # are validated and nothing is written to Dataverse, so only the state flush stands before the commit
    others = sorted(cid for cid in world.scope() if expected[cid] is Outcome.LEFT)
    source_ids = {p.profile_id for p in __import__("functions.profiles", fromlist=["x"]).FileSnapshotSource(
        str(world.profile_path)).iter_profiles()}
    from localdev.sample_profiles import profile_id_for

    chosen = [cid for cid in others if profile_id_for(cid) in source_ids][:3]
    mutate_profiles(world.profile_path, chosen, today=TODAY)
    tables = ScanTables(build_table_service(world.config()), world.prefix)
    now = [datetime(2026, 1, 16, 2, 0, tzinfo=UTC)]

    def intrude(index: int, _summary) -> None:  # the lease expires; another run takes the lock
        now[0] += timedelta(hours=2)
        RunLock(tables.locks, clock=lambda: now[0]).acquire("intruder")

    services = world.services()
    try:
        hooks = RunHooks(after_batch=intrude)
        a = run_scan(world.config(), services=services, clock=lambda: now[0], hooks=hooks)
    finally:
        services.close()
    assert a.status == "failed"
    assert "lost the scan lock" in a.message
    assert dict(a.planned) == {"profile_changed": 3}, a.planned
    assert a.counters["writes"] == 0
    states = ContactStates(tables.contacts)
    assert all(states.get(cid).last_run_id != a.run_id for cid in chosen), [
        (states.get(cid).last_run_id, a.run_id, states.get(cid).checked_at) for cid in chosen]
