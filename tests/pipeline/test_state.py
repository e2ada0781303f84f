"""The scan's state tables on Azurite: lock, run records, contact state, checkpoint, indexes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from functions.config import DataverseConfig
from functions.dataverse.column import ColumnBinding, SupportingColumns, option_values
from functions.state.contacts import ContactState, ContactStates
from functions.state.crm_index import CrmIndex, PendingList, ProfileIndex
from functions.state.delta_links import ScanCheckpoint
from functions.state.lock import LockHeld, LockLost, RunLock
from functions.state.provisioned import ProvisionedRecord, ProvisionedStore, provisioning_fingerprint
from functions.state.runs import RunRecords
from functions.state.tables import ScanTables

T0 = datetime(2026, 3, 1, 2, tzinfo=UTC)


@pytest.fixture
def tables(table_service) -> ScanTables:
    return ScanTables(table_service, "s" + uuid.uuid4().hex[:10]).ensure()


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_lock_is_exclusive_expires_and_is_taken_over(tables: ScanTables) -> None:
    clock = Clock()
    lock = RunLock(tables.locks, ttl_seconds=60, clock=clock)
    lease = lock.acquire("run-a")
    with pytest.raises(LockHeld, match="run-a"):
        lock.acquire("run-b")
    clock.now += timedelta(seconds=61)  # run-a died without releasing
    taken = lock.acquire("run-b")
    assert taken.took_over == "run-a"
    with pytest.raises(LockLost):
        lease.renew()  # run-a wakes up: it must stop
    lease.release()  # not ours any more: leaves run-b's lock alone
    with pytest.raises(LockHeld, match="run-b"):
        lock.acquire("run-c")
    taken.renew()
    taken.release()
    lock.acquire("run-c").release()


def test_lock_waits_for_a_live_holder(tables: ScanTables) -> None:
    lock = RunLock(tables.locks, ttl_seconds=60)
    lease = lock.acquire("a")
    with pytest.raises(LockHeld):
        lock.acquire("b", wait_seconds=0.3, poll_seconds=0.1)
    lease.release()
    lock.acquire("b", wait_seconds=1).release()


def test_run_records_newest_first(tables: ScanTables) -> None:
    runs = RunRecords(tables.runs)
    for n in range(3):
        started = (T0 + timedelta(hours=n)).isoformat()
        runs.save({"run_id": f"r{n}", "status": "succeeded", "started_at": started, "counters": {"x": n}})
    assert [r["run_id"] for r in runs.latest(2)] == ["r2", "r1"]
    assert runs.get("r0")["counters"] == {"x": 0}


def test_contact_states_round_trip_and_bulk_reads(tables: ScanTables) -> None:
    states = ContactStates(tables.contacts)
    ids = [f"{n:02x}{m:06x}-0000-4000-8000-000000000000" for n in (0, 1, 0xFF) for m in range(12)]
    states.put_many(ContactState(cid, in_scope=True, contact_hash=cid[:4], evidence="{}") for cid in ids)
    got = states.get_many(ids[:3] + ids[20:] + ["aa000000-0000-4000-8000-000000000000"])
    assert set(got) == set(ids[:3] + ids[20:])
    assert got[ids[0]].contact_hash == ids[0][:4]
    assert len(list(states.iter_all())) == len(ids)
    assert len(list(states.iter_shards(["01"]))) == 12
    states.delete(ids[0])
    assert states.get(ids[0]) is None
    big = ContactState("00ffffff-0000-4000-8000-000000000000", evidence="x" * 40000)
    states.put_many([big])
    assert "truncated" in states.get(big.contact_id).evidence


def test_checkpoint_index_and_pending(tables: ScanTables) -> None:
    checkpoint = ScanCheckpoint(tables.deltalinks)
    assert checkpoint.load() == {}
    checkpoint.save({"delta_links": {"contacts": "http://x?$deltatoken=1"}})
    assert checkpoint.load()["delta_links"]["contacts"].endswith("=1")
    index = CrmIndex(tables.crmindex)
    index.put_opportunities([("aa", "c1"), ("ab", None)])
    index.put_connections([("cc", "aa", "c2")])
    assert index.opportunity("aa") == "c1"
    assert index.opportunity("ab") is None
    assert index.connection("cc") == ("aa", "c2")
    index.delete_connection("cc")
    assert index.connection("cc") is None
    pending = PendingList(tables.crmindex)
    pending.add_many([("c1", "deferred", "2026-03-01")])
    assert pending.all()["c1"]["reason"] == "deferred"
    pending.remove(["c1"])
    assert pending.all() == {}


def test_profile_index_and_digests(tables: ScanTables) -> None:
    profiles = ProfileIndex(tables.profiles)
    profiles.put_pairs([("p/1", "c1", "h1"), ("p/2", "c2", "h2")])
    from functions.state.crm_index import profile_shard

    assert ("p/1", "c1", "h1") in list(profiles.pairs_in(profile_shard("p/1")))
    a = ProfileIndex.shard_digests([("p/1", "h1"), ("p/2", "h2")])
    b = ProfileIndex.shard_digests([("p/2", "h2"), ("p/1", "h1")])
    c = ProfileIndex.shard_digests([("p/2", "h2"), ("p/1", "h1-changed")])
    assert a == b
    assert [s for s in a if a[s] != c.get(s)] == [profile_shard("p/1")]


def test_provisioned_record_is_reused_until_config_or_age_changes(tables: ScanTables) -> None:
    dv = DataverseConfig(url="https://contoso.crm4.dynamics.com")
    store = ProvisionedStore(tables.provisioning)
    assert store.load() is None
    binding = ColumnBinding("dval_nolongeratcompany", option_values(41020))
    record = ProvisionedRecord(provisioning_fingerprint(dv), T0, binding,
                               SupportingColumns("dval_validatedon", "dval_currentemployer"))
    store.save(record)
    loaded = store.load()
    assert loaded == record
    assert loaded.fresh(provisioning_fingerprint(dv), T0 + timedelta(hours=23), 24)
    assert not loaded.fresh(provisioning_fingerprint(dv), T0 + timedelta(hours=25), 24)
    other = DataverseConfig(url="https://contoso.crm4.dynamics.com", publisher_prefix="abc")
    assert not loaded.fresh(provisioning_fingerprint(other), T0, 24)
