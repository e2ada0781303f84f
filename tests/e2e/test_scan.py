"""The issue's "Done when" list, end to end: emulator over HTTP + Azurite + a real profile file."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from dataverse_emulator import Fault
from functions.dataverse import build_client
from functions.dataverse.provisioning import provision
from functions.matching.records import Outcome
from functions.pipeline import RunHooks
from functions.state import build_table_service
from functions.state.lock import RunLock
from functions.state.runs import RunRecords, new_run_id
from functions.state.tables import ScanTables
from localdev.sample_profiles import mutate_profiles, profile_id_for

from .conftest import IGNORE, NO_FEEDBACK, NOT_AT_COMPANY, TODAY, ScanWorld, at


def _expected_flags(world: ScanWorld, ignored: set[str] = frozenset()) -> set[str]:
    expected = world.expected()
    return {cid for cid in world.scope() if expected[cid] is Outcome.LEFT} - set(ignored)


def test_first_run_flags_exactly_the_expected_contacts_and_leaves_ignore_alone(world: ScanWorld) -> None:
    with build_client(world.config().dataverse) as client:
        provision(client, world.config().dataverse)
    expected = world.expected()
    scope = world.scope()
    movers = sorted(cid for cid in scope if expected[cid] is Outcome.LEFT)
    stayers = sorted(cid for cid in scope if expected[cid] is Outcome.STILL_THERE)
    ignored = {movers[0], stayers[0]}
    for cid in ignored:
        world.emulator.store.update("contacts", cid, {"dval_nolongeratcompany": IGNORE})

    summary = world.scan()

    assert summary.status == "succeeded", summary.message
    assert summary.mode == "full"
    assert summary.counters["in_scope"] == len(scope)
    assert world.flagged() == _expected_flags(world, ignored)
    assert len(world.flagged()) > 5
    assert all(world.flag(cid) == IGNORE for cid in ignored)
    assert summary.counters["ignored"] == 2
    assert summary.counters["flagged"] == len(world.flagged())
    assert summary.counters["errors"] == 0
    # out-of-scope contacts are never touched, even movers
    outside = {c["contactid"] for c in world.sample.rows("contacts")} - scope
    assert all(world.flag(cid) is None for cid in outside)
    # supporting columns: when, and where they went
    row = world.emulator.store.get("contacts", movers[1])
    assert row["dval_validatedon"]
    assert row["dval_currentemployer"]
    # the run record is stored, with its counters
    records = RunRecords(ScanTables(build_table_service(world.config()), world.prefix).runs)
    latest = records.latest(1)[0]
    assert latest["run_id"] == summary.run_id
    assert latest["counters"]["flagged"] == summary.counters["flagged"]
    assert latest["dataverse_requests"]["total"] > 0


def test_second_run_without_changes_is_nearly_free(world: ScanWorld) -> None:
    world.scan()
    world.emulator.counters.reset()
    writes_before = world.writes()

    summary = world.scan()

    assert summary.status == "succeeded", summary.message
    assert summary.mode == "delta"
    assert summary.counters["looked_up"] == 0
    assert summary.counters["writes"] == 0
    assert world.writes() == writes_before
    assert sum(world.emulator.counters.requests.values()) <= 10
    assert summary.request_total <= 10
    assert summary.counters["in_scope"] == len(world.scope())


def test_changed_account_revalidates_only_that_contact(world: ScanWorld) -> None:
    world.scan()
    scope = sorted(world.scope())
    contact = world.emulator.store.get("contacts", scope[3])
    other = next(a["accountid"] for a in world.sample.rows("accounts")
                 if a["accountid"] != contact["_parentcustomerid_value"])
    world.emulator.store.update("contacts", scope[3], {"_parentcustomerid_value": other})

    summary = world.scan()

    assert summary.status == "succeeded", summary.message
    assert dict(summary.planned) == {"account_changed": 1}
    assert summary.counters["looked_up"] == 1


def test_three_changed_profiles_revalidate_only_those_three(world: ScanWorld) -> None:
    world.scan()
    expected = world.expected()
    scope = world.scope()
    profile_ids = {p.profile_id for p in __import__("functions.profiles", fromlist=["x"]).FileSnapshotSource(
        str(world.profile_path)).iter_profiles()}
    stayers = sorted(cid for cid in scope if expected[cid] is Outcome.STILL_THERE
                     and profile_id_for(cid) in profile_ids)[:3]
    mutate_profiles(world.profile_path, stayers, today=TODAY)
    flagged_before = world.flagged()

    summary = world.scan()

    assert summary.status == "succeeded", summary.message
    assert dict(summary.planned) == {"profile_changed": 3}
    assert summary.counters["looked_up"] == 3
    # the stayers moved away in their new profiles: now flagged, nobody else changed
    new_expected = world.expected()
    moved = {cid for cid in stayers if new_expected[cid] is Outcome.LEFT}
    assert world.flagged() == flagged_before | moved
    assert summary.counters["flagged"] == len(moved)


def test_contact_that_leaves_scope_is_not_touched(world: ScanWorld) -> None:
    world.scan()
    flagged = sorted(world.flagged())
    leaver = flagged[0]
    # deactivated contacts leave scope; its profile now says "still there", which would unflag it
    world.emulator.store.update("contacts", leaver, {"statecode": 1, "statuscode": 2})
    expected = world.expected()
    stayers_with_profiles = [cid for cid in world.scope() if expected[cid] is Outcome.STILL_THERE]
    assert stayers_with_profiles
    writes_before = world.writes()

    summary = world.scan()

    assert summary.status == "succeeded", summary.message
    assert summary.counters["left_scope"] == 1
    assert summary.counters["looked_up"] == 0
    assert world.flag(leaver) == NOT_AT_COMPANY
    assert world.writes() == writes_before
    # and stays untouched on later runs, even when its data changes
    world.emulator.store.update("contacts", leaver, {"jobtitle": "Retired"})
    later = world.scan()
    assert later.counters["looked_up"] == 0
    assert world.writes() == writes_before


def test_crash_between_batches_then_rerun_gives_the_same_state(world: ScanWorld, emulator_factory,
                                                              monkeypatch) -> None:
    import functions.pipeline.run as run_module

    monkeypatch.setattr(run_module, "WRITE_FLUSH", 2)  # writes go out between batches, before the crash

    class Crash(Exception):
        pass

    def crash(index: int, _summary) -> None:
        if index == 1:
            raise Crash("injected crash after batch 1")

    crashed = world.scan(hooks=RunHooks(after_batch=crash))
    assert crashed.status == "failed"
    assert "injected crash" in crashed.message
    writes_after_crash = world.writes()
    assert writes_after_crash > 0  # the crash came after some writes: the test can catch a lost one
    assert writes_after_crash < len(_expected_flags(world))  # ... and before the rest
    rerun = world.scan()
    assert rerun.status == "succeeded", rerun.message
    assert rerun.mode == "full"  # the delta links of the crashed run were never committed

    expected_flags = _expected_flags(world)
    assert world.flagged() == expected_flags  # nothing lost
    # nothing written twice: every flag was written exactly once over both runs
    assert world.writes() == len(expected_flags)
    assert writes_after_crash + rerun.counters["writes"] == len(expected_flags)
    # and the next run finds nothing left to do
    third = world.scan()
    assert third.counters["looked_up"] == 0
    assert third.counters["writes"] == 0


def test_two_runs_started_together_one_runs_the_other_skips(world: ScanWorld) -> None:
    inside = threading.Event()
    release = threading.Event()

    def hold(index: int, _summary) -> None:
        if index == 0:
            inside.set()
            release.wait(30)

    results = {}
    hooks = RunHooks(after_batch=hold)
    first = threading.Thread(target=lambda: results.setdefault("a", world.scan(hooks=hooks)))
    first.start()
    assert inside.wait(60)
    second = world.scan()
    release.set()
    first.join(60)

    assert second.status == "skipped_locked"
    assert "another scan is running" in second.message
    assert results["a"].status == "succeeded"
    records = RunRecords(ScanTables(build_table_service(world.config()), world.prefix).runs)
    statuses = {r["run_id"]: r["status"] for r in records.latest(5)}
    assert statuses[second.run_id] == "skipped_locked"


def test_a_waiting_run_starts_when_the_first_finishes(world: ScanWorld) -> None:
    inside = threading.Event()

    def slow(index: int, _summary) -> None:
        inside.set()
        time.sleep(0.5)

    results = {}
    hooks = RunHooks(after_batch=slow)
    first = threading.Thread(target=lambda: results.setdefault("a", world.scan(hooks=hooks)))
    first.start()
    assert inside.wait(60)
    second = world.scan(wait_for_lock_seconds=60)
    first.join(60)
    assert results["a"].status == "succeeded"
    assert second.status == "succeeded"
    assert second.counters["looked_up"] == 0


def test_expired_delta_tokens_fall_back_to_a_full_read_without_rewrites(world: ScanWorld) -> None:
    world.scan()
    world.emulator.expire_delta_tokens()
    writes = world.writes()
    summary = world.scan()
    assert summary.status == "succeeded", summary.message
    assert summary.mode == "full"
    assert any("expired" in note for note in summary.notes)
    assert summary.counters["looked_up"] == 0
    assert world.writes() == writes


def test_dry_run_computes_everything_and_writes_nothing(world: ScanWorld) -> None:
    dry = world.scan(dry_run=True)
    assert dry.status == "succeeded", dry.message
    assert dry.dry_run
    assert world.writes() == 0
    assert dry.counters["flagged"] == len(_expected_flags(world))
    assert dry.would_write
    assert not world.flagged()
    real = world.scan()  # the dry run did not advance any state
    assert real.counters["flagged"] == dry.counters["flagged"]
    assert world.flagged() == _expected_flags(world)


def test_write_failure_is_counted_and_retried_next_run(world: ScanWorld) -> None:
    target = sorted(_expected_flags(world))[0]
    world.emulator.faults.add(Fault("fail_record", record_id=target, times=None))
    summary = world.scan()
    assert summary.status == "completed_with_errors"
    assert summary.errors["write_failed"] == 1
    assert world.flagged() == _expected_flags(world) - {target}
    world.emulator.faults.clear()
    retry = world.scan()
    # a contact never validated before retries as new_in_scope; one with state as retry_after_error
    assert sum(retry.planned.values()) == 1
    assert retry.counters["writes"] == 1
    assert world.flagged() == _expected_flags(world)


def test_lookup_budget_defers_the_rest_oldest_first(world: ScanWorld) -> None:
    config = world.config(SCAN_LOOKUP_BUDGET="120")
    first = world.scan(config=config)
    assert first.counters["looked_up"] == 120
    assert first.counters["deferred"] == len(world.scope()) - 120
    second = world.scan(config=config)
    assert second.counters["looked_up"] == 120
    assert set(second.planned) == {"new_in_scope"}
    rest = len(world.scope()) - 240
    third = world.scan(config=config)
    assert third.counters["looked_up"] == rest
    assert world.flagged() == _expected_flags(world)
    fourth = world.scan(config=config)
    assert fourth.counters["looked_up"] == 0


def _stayers_with_profiles(world: ScanWorld) -> list[str]:
    expected = world.expected()
    profile_ids = {p.profile_id for p in __import__("functions.profiles", fromlist=["x"]).FileSnapshotSource(
        str(world.profile_path)).iter_profiles()}
    return sorted(cid for cid in world.scope() if expected[cid] is Outcome.STILL_THERE
                  and profile_id_for(cid) in profile_ids)


def test_unflags_a_flag_we_wrote_when_the_profile_shows_them_back(world: ScanWorld) -> None:
    world.scan()
    stayer = _stayers_with_profiles(world)[0]
    original = world.profile_path.read_text(encoding="utf-8")
    mutate_profiles(world.profile_path, [stayer], today=TODAY)  # they move away: we flag them
    world.scan()
    assert world.flag(stayer) == NOT_AT_COMPANY
    world.profile_path.write_text(original, encoding="utf-8")  # and they are back
    summary = world.scan()
    assert summary.counters["unflagged"] == 1
    assert world.flag(stayer) == NO_FEEDBACK


def test_a_flag_a_person_set_is_never_removed(world: ScanWorld) -> None:
    world.scan()
    stayer = _stayers_with_profiles(world)[0]
    world.emulator.store.update("contacts", stayer, {"dval_nolongeratcompany": NOT_AT_COMPANY})
    world.emulator.store.update("contacts", stayer, {"jobtitle": "Head of Everything"})  # a change
    summary = world.scan()
    assert dict(summary.planned) == {"contact_changed": 1}
    assert summary.counters["looked_up"] + summary.counters["decided_on_known_profile"] == 1
    assert summary.counters["still_there"] == 1
    assert summary.counters["unflagged"] == 0
    assert world.flag(stayer) == NOT_AT_COMPANY


def test_disabled_does_nothing(world: ScanWorld) -> None:
    summary = world.scan(config=world.config(SCAN_ENABLED="false"))
    assert summary.status == "disabled"
    assert sum(world.emulator.counters.requests.values()) == 0


def test_changed_account_fields_revalidate_its_contacts_only(world: ScanWorld) -> None:
    world.scan()
    scope = world.scope()
    by_account: dict[str, set[str]] = {}
    for c in world.sample.rows("contacts"):
        if c["contactid"] in scope and c["_parentcustomerid_value"]:
            by_account.setdefault(c["_parentcustomerid_value"], set()).add(c["contactid"])
    account_id, members = max(by_account.items(), key=lambda kv: len(kv[1]))
    world.emulator.store.update("accounts", account_id, {"websiteurl": "www.renamed-example.com"})

    summary = world.scan()

    assert summary.status == "succeeded", summary.message
    assert dict(summary.planned) == {"account_changed": len(members)}
    assert summary.counters["looked_up"] == len(members)


def test_closed_opportunity_takes_its_contact_out_of_scope(world: ScanWorld) -> None:
    """Scope through deals: a contact in scope only as a deal's contact leaves when the deal closes."""
    users = list(world.sample.rows("systemusers"))
    system = next(u["systemuserid"] for u in users if u["lastname"] == "SYSTEM")  # never a sync user
    enabled = {u["systemuserid"] for u in users if not u["isdisabled"] and u["accessmode"] == 0
               and u["azureactivedirectoryobjectid"]}
    opp = next(o for o in world.sample.rows("opportunities")
               if o["statecode"] == 0 and o["_ownerid_value"] in enabled)
    contact = sorted(c["contactid"] for c in world.sample.rows("contacts") if c["statecode"] == 0)[5]
    store = world.emulator.store
    # the contact: owned by SYSTEM, no account, no stakeholder roles; only the deal ties it in
    store.update("contacts", contact, {"_ownerid_value": system, "_parentcustomerid_value": None})
    for c in world.sample.rows("connections"):
        if contact in (c["_record1id_value"], c["_record2id_value"]):
            store.update("connections", c["connectionid"], {"statecode": 1, "statuscode": 2})
    for o in world.sample.rows("opportunities"):
        if o["_parentcontactid_value"] == contact and o["opportunityid"] != opp["opportunityid"]:
            store.update("opportunities", o["opportunityid"], {"_parentcontactid_value": None})
    store.update("opportunities", opp["opportunityid"], {"_parentcontactid_value": contact})
    first = world.scan()
    assert first.status == "succeeded", first.message

    store.update("opportunities", opp["opportunityid"], {"statecode": 1, "statuscode": 3})  # won
    summary = world.scan()

    assert summary.status == "succeeded", summary.message
    assert summary.counters["left_scope"] == 1
    assert summary.counters["looked_up"] == 0
    assert summary.counters["in_scope"] == first.counters["in_scope"] - 1
    # the deal reopens: the contact is back in scope and checked again
    store.update("opportunities", opp["opportunityid"], {"statecode": 0, "statuscode": 1})
    back = world.scan()
    assert back.counters["in_scope"] == first.counters["in_scope"]
    assert dict(back.planned) == {"new_in_scope": 1}


def test_periodic_refresh_is_spread_over_the_days(world: ScanWorld) -> None:
    from datetime import timedelta

    from functions.pipeline.plan import next_refresh

    world.scan()
    scope = world.scope()
    total_due = 0
    previous = TODAY
    for days in (1, 16, 17):  # day 16 catches up day 15 too (no run that day)
        day = TODAY + timedelta(days=days)
        due = sum(1 for cid in scope if previous < next_refresh(cid, TODAY, 30) <= day)
        previous = day
        summary = world.scan(day=day)
        assert summary.status == "succeeded", summary.message
        assert dict(summary.planned) == ({"refresh_due": due} if due else {})
        total_due += due
    assert 0 < total_due < len(scope) / 5  # three refresh days' worth, not everyone at once


def test_a_run_that_died_holding_the_lock_is_marked_failed_by_the_run_taking_over(world: ScanWorld) -> None:
    tables = ScanTables(build_table_service(world.config()), world.prefix).ensure()
    records = RunRecords(tables.runs)
    died_at = at()() - timedelta(hours=3)
    dead_id = new_run_id(died_at)
    records.save({"run_id": dead_id, "status": "running", "trigger": "timer", "dry_run": False,
                  "started_at": died_at.isoformat(timespec="seconds")})
    RunLock(tables.locks).store.insert(RunLock(tables.locks).entity(dead_id, died_at + timedelta(minutes=15)))

    summary = world.scan()

    assert summary.status == "succeeded"
    assert any(dead_id in note for note in summary.notes)
    dead = records.get(dead_id)
    assert dead["status"] == "failed"
    assert "abandoned" in dead["message"]
    assert summary.run_id in dead["message"]
    assert records.get(summary.run_id)["status"] == "succeeded"


def test_taking_over_never_rewrites_a_dead_runs_record_that_already_ended(world: ScanWorld) -> None:
    tables = ScanTables(build_table_service(world.config()), world.prefix).ensure()
    records = RunRecords(tables.runs)
    died_at = at()() - timedelta(hours=3)
    dead_id = new_run_id(died_at)
    ended = {"run_id": dead_id, "status": "succeeded", "trigger": "timer", "dry_run": False,
             "started_at": died_at.isoformat(timespec="seconds"), "message": "kept"}
    records.save(ended)
    RunLock(tables.locks).store.insert(RunLock(tables.locks).entity(dead_id, died_at + timedelta(minutes=15)))

    assert world.scan().status == "succeeded"
    assert records.get(dead_id)["status"] == "succeeded"
    assert records.get(dead_id)["message"] == "kept"
