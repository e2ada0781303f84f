"""The request shape of a delta run's targeted reads, against the emulator over real HTTP and Azurite.

After the four change-tracking reads, a delta run reads in rounds: the sync users, the changed
contacts' accounts and their children go in one ``$batch``; the parents found (with their children) in
the next; the children of the sisters found in the one after. No id-filtered read goes as a plain GET,
and no sync-user read on its own. A part of a ``$batch`` that fails surfaces like a failed GET: a 429
is asked again alone and the run ends as without it; a 404 fails the run, which writes nothing and
leaves the day to the next run - never a flag, never a contact taken for deleted.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dataverse_emulator import Fault
from functions.pipeline.plan import next_refresh
from functions.state import build_table_service
from functions.state.contacts import ContactStates
from functions.state.tables import ScanTables

from .conftest import TODAY, ScanWorld


def _states(world: ScanWorld) -> ContactStates:
    tables = ScanTables(build_table_service(world.config()), world.prefix).ensure()
    return ContactStates(tables.contacts)


def _trees(world: ScanWorld) -> list[str]:
    """Three in-scope contacts of three accounts: two of them get a new holding with another daughter
    (a sister), the third stays alone. Set up before the first run, so its hashes know the trees."""
    store = world.emulator.store
    parents = {a.get("_parentaccountid_value") for a in world.sample.rows("accounts")}
    contacts, accounts = [], []
    for cid in sorted(world.scope()):
        account = store.get("contacts", cid)["_parentcustomerid_value"]
        row = store.get("accounts", account) if account else None
        lone = row is not None and not row.get("_parentaccountid_value") and account not in parents
        if lone and account not in accounts:
            contacts.append(cid)
            accounts.append(account)
        if len(contacts) == 3:
            break
    for n, account in enumerate(accounts[:2]):
        holding = store.insert("accounts", {"name": f"Halvorsen Holding {n} ASA", "statecode": 0}, stamp=True)
        store.insert("accounts", {"name": f"Nordwind Schwester {n} GmbH", "statecode": 0,
                                  "_parentaccountid_value": holding}, stamp=True)
        store.update("accounts", account, {"_parentaccountid_value": holding}, stamp=True)
    return contacts


def _new_job_titles(world: ScanWorld, contacts: list[str]) -> None:
    for n, cid in enumerate(contacts):
        world.emulator.store.update("contacts", cid, {"jobtitle": f"Head of Delta Reads {n}"}, stamp=True)


def _snapshot(world: ScanWorld, contacts: list[str]) -> tuple[Any, ...]:
    states = _states(world).get_many(set(contacts))
    return (world.writes(), world.flags(),
            {cid: (s.checked_at, s.contact_hash, s.account_hash) for cid, s in states.items()})


def test_changed_contacts_in_hierarchies_cost_three_batches_and_no_plain_read(world: ScanWorld) -> None:
    contacts = _trees(world)
    world.scan()
    _new_job_titles(world, contacts)
    world.emulator.counters.reset()

    summary = world.scan()

    assert summary.status == "succeeded", summary.message
    assert summary.mode == "delta"
    # contact_changed, not account_changed: the trees read by the rounds hash as the full read's did
    assert dict(summary.planned) == {"contact_changed": 3}
    # sync users + the 3 accounts + their children; the 2 holdings + their children; the sisters' children
    assert summary.requests == {"delta": 4, "batch_read": 3}
    assert world.emulator.counters.requests == {"read": 4, "batch": 3}


def test_a_throttled_part_is_asked_again_alone_and_the_run_ends_as_without_it(world: ScanWorld) -> None:
    contacts = _trees(world)
    world.scan()
    _new_job_titles(world, contacts)
    world.emulator.faults.add(Fault("throttle", path=r"^accounts$", in_batch=True, times=2, retry_after=0))

    summary = world.scan()

    assert summary.status == "succeeded", summary.message
    assert dict(summary.planned) == {"contact_changed": 3}
    assert summary.counters["errors"] == 0
    assert world.emulator.faults.fired["throttle"] == 2
    assert summary.requests == {"delta": 4, "batch_read": 3, "read": 2}  # the two parts, alone


def test_a_part_answering_404_fails_the_run_which_writes_nothing(world: ScanWorld) -> None:
    contacts = _trees(world)
    world.scan()
    _new_job_titles(world, contacts)
    before = _snapshot(world, contacts)
    world.emulator.faults.add(Fault("server_error", status=404, path=r"^accounts$", in_batch=True, times=1))

    failed = world.scan()

    assert failed.status == "failed"
    assert "HTTP 404" in failed.message
    assert _snapshot(world, contacts) == before  # no write, no state, no flag
    # the checkpoint did not move: the next run sees the same changes and decides them
    again = world.scan()
    assert again.status == "succeeded", again.message
    assert again.mode == "delta"
    assert dict(again.planned) == {"contact_changed": 3}


def test_a_throttled_part_of_the_contacts_read_by_id_never_loses_a_contact(world: ScanWorld) -> None:
    world.scan()
    scope = world.scope()
    day = TODAY + timedelta(days=16)
    due = sum(1 for cid in scope if TODAY < next_refresh(cid, TODAY, 30) <= day)
    assert due > 0
    world.emulator.faults.add(Fault("throttle", path=r"^contacts$", in_batch=True, times=1, retry_after=0))

    summary = world.scan(day=day, config=world.config(SCAN_PROVISIONING_MAX_AGE_HOURS="720"))

    assert summary.status == "succeeded", summary.message
    assert summary.provisioning.startswith("cached")
    assert world.emulator.faults.fired["throttle"] == 1
    assert dict(summary.planned) == {"refresh_due": due}
    assert summary.counters["deleted"] == 0
    assert summary.counters["in_scope"] == len(scope)
    assert summary.requests["read"] == 1  # the throttled part, alone; the sync users went in the $batch


def test_other_sync_users_found_in_the_first_round_make_it_a_full_read(world: ScanWorld) -> None:
    first = world.scan()
    contacts = sorted(world.scope())
    store = world.emulator.store
    owners = [store.get("contacts", cid)["_ownerid_value"] for cid in contacts]
    owner = next(o for o in owners if store.get("systemusers", o))
    store.update("systemusers", owner, {"isdisabled": True})
    _new_job_titles(world, contacts[1:3])

    summary = world.scan()

    assert summary.status == "succeeded", summary.message
    assert summary.mode == "full"
    assert "full read: sync users changed" in summary.notes
    assert int(summary.sync_users.split()[0]) == int(first.sync_users.split()[0]) - 1
    assert "read" not in summary.requests  # the sync users came with the delta's first round
    assert summary.counters["in_scope"] < first.counters["in_scope"]
    after = world.scan()  # the new sync users are the checkpoint's now
    assert after.mode == "delta"
    assert after.counters["in_scope"] == summary.counters["in_scope"]
    assert after.counters["looked_up"] == 0
