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
