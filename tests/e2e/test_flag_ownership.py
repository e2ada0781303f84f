"""A flag this app wrote stays its own whatever fails between the Dataverse write and the state write.

Each test loses the record of the write in another way (the answer of the $batch, a crash before the
state save, the whole state store) and then shows the contact back at the account: the app must take
its own flag back, as the fault-free run would.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

import functions.pipeline.run as run_module
from dataverse_emulator import Fault
from functions.matching.records import Outcome
from functions.state import build_table_service
from functions.state.contacts import ContactStates
from functions.state.tables import ScanTables
from localdev.sample_profiles import profile_id_for

from .conftest import NO_FEEDBACK, NOT_AT_COMPANY, TODAY, ScanWorld


def _movers(world: ScanWorld, n: int = 3) -> list[str]:
    expected = world.expected()
    return sorted(cid for cid in world.scope() if expected[cid] is Outcome.LEFT)[:n]


def _back_at_the_account(world: ScanWorld, contact_ids: list[str], *, verified: str) -> None:
    """Rewrite these contacts' profiles: the job at the account is current again (a boomerang)."""
    wanted = {profile_id_for(cid) for cid in contact_ids}
    lines = world.profile_path.read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        row = json.loads(line)
        if row.get("profile_id") in wanted:
            current, at_account = row["positions"][0], row["positions"][1]
            current.update(is_primary=False, end_date=verified[:7])
            at_account.update(is_primary=True, end_date=None, start_date=verified[:7])
            row["positions"] = [at_account, current]
            row["last_verified"] = row["last_changed"] = verified
        out.append(json.dumps(row))
    world.profile_path.write_text("\n".join(out) + "\n", encoding="utf-8")


def _states(world: ScanWorld, prefix: str | None = None) -> ContactStates:
    return ContactStates(ScanTables(build_table_service(world.config()), prefix or world.prefix).contacts)


def test_a_lost_batch_answer_is_counted_and_the_flag_stays_ours(world: ScanWorld) -> None:
    movers = _movers(world)
    world.emulator.faults.add(Fault("commit_drop", method="POST", path=r"\$batch", times=1))

    first = world.scan()

    assert first.status == "succeeded", first.message
    assert all(world.flag(cid) == NOT_AT_COMPANY for cid in movers)
    assert first.counters["writes"] == first.counters["flagged"] > 0  # a run that wrote never says 0
    assert first.counters["writes_confirmed_by_reading"] == first.counters["writes"]
    assert "changed_during_run" not in first.skipped
    states = _states(world)
    assert all(states.get(cid).value_written == NOT_AT_COMPANY for cid in movers)
    later = (TODAY + timedelta(days=2)).isoformat()
    _back_at_the_account(world, movers, verified=later)
    world.scan(day=TODAY + timedelta(days=2))
    assert all(world.flag(cid) == NO_FEEDBACK for cid in movers)


def test_a_crash_after_the_write_before_the_state_save_leaves_the_flag_ours(
        world: ScanWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    movers = _movers(world)
    real = run_module._Run._flush_states

    def crash(self, *, final: bool) -> None:
        if final:
            raise RuntimeError("the worker was killed")
        real(self, final=final)

    monkeypatch.setattr(run_module._Run, "_flush_states", crash)
    crashed = world.scan()
    assert crashed.status == "failed"
    assert all(world.flag(cid) == NOT_AT_COMPANY for cid in movers)  # the $batch had committed
    monkeypatch.setattr(run_module._Run, "_flush_states", real)

    later = (TODAY + timedelta(days=1)).isoformat()
    _back_at_the_account(world, movers, verified=later)
    summary = world.scan(day=TODAY + timedelta(days=1))

    assert summary.status == "succeeded", summary.message
    assert summary.counters["own_flag_recovered"] >= len(movers)
    assert all(world.flag(cid) == NO_FEEDBACK for cid in movers)


def test_wiped_state_storage_still_knows_the_apps_flags(world: ScanWorld) -> None:
    movers = _movers(world)
    world.scan()
    assert all(world.flag(cid) == NOT_AT_COMPANY for cid in movers)
    later = (TODAY + timedelta(days=1)).isoformat()
    _back_at_the_account(world, movers, verified=later)
    fresh = world.prefix + "w"  # every table gone: a new, empty state store
    summary = world.scan(day=TODAY + timedelta(days=1), config=world.config(STATE_TABLE_PREFIX=fresh))
    assert summary.status == "succeeded", summary.message
    assert all(world.flag(cid) == NO_FEEDBACK for cid in movers)
    # a flag a person set (no validated-on stamp of ours) is never taken back
    person = _movers(world, 6)[5]
    world.emulator.store.update("contacts", person, {"dval_validatedon": None})
    _back_at_the_account(world, [person], verified=later)
    wiped_again = world.prefix + "x"
    world.scan(day=TODAY + timedelta(days=1), config=world.config(STATE_TABLE_PREFIX=wiped_again))
    assert world.flag(person) == NOT_AT_COMPANY
