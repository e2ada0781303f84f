"""Packed state pages on Azurite: layout, round trips, conditional writes by several writers, and the
move of per-contact entities written by an earlier version."""

from __future__ import annotations

import base64
import os
import threading
import uuid

import pytest

from functions.state.contacts import ContactState, ContactStates, digits_for
from functions.state.crm_index import ProfileIndex, profile_shard
from functions.state.pages import PackedPages, PageFullError
from functions.state.tables import ScanTables


@pytest.fixture
def tables(table_service) -> ScanTables:
    return ScanTables(table_service, "g" + uuid.uuid4().hex[:10]).ensure()


def _ids(n: int, seed: int = 0) -> list[str]:
    return [str(uuid.UUID(int=(seed << 100) + i * 0x9E3779B97F4A7C15 % (1 << 128), version=4))
            for i in range(1, n + 1)]


def test_page_size_grows_with_the_org() -> None:
    assert digits_for(0) == 2
    assert digits_for(20_000) == 2
    assert digits_for(100_000) == 3
    assert digits_for(1_000_000) == 4
    assert digits_for(10**12) == 6
    for n in (5_000, 20_000, 100_000, 1_000_000, 5_000_000, 50_000_000):
        assert 8 <= n / 16 ** digits_for(n) <= 128


def test_states_round_trip_with_details_and_compact_reads_without(tables: ScanTables) -> None:
    states = ContactStates(tables.contacts)
    states.size_for(5000)
    ids = _ids(300)
    states.put_many(ContactState(cid, in_scope=True, contact_hash=cid[:6], evidence='{"e": 1}', rule="r1",
                                 outcome="left") for cid in ids)
    full = states.get(ids[7])
    expected = (ids[7][:6], '{"e": 1}', "r1", "left")
    assert (full.contact_hash, full.evidence, full.rule, full.outcome) == expected
    compact = states.get_many(ids[:50])
    assert set(compact) == set(ids[:50])
    assert compact[ids[7]].evidence == ""
    assert compact[ids[7]].outcome == "left"
    assert {s.contact_id for s in states.iter_compact()} == set(ids)
    assert all(s.evidence == "" for s in states.iter_compact())
    assert sorted(s.contact_id for s in states.iter_shards([ids[0][:2]])) == sorted(
        c for c in ids if c[:2] == ids[0][:2])
    # entities: pages, not contacts
    pages = [e for e in tables.contacts.all() if str(e["RowKey"]).startswith("p")]
    assert 0 < len(pages) <= 256


def test_facts_update_keeps_the_verdict_and_delete_removes_only_one(tables: ScanTables) -> None:
    states = ContactStates(tables.contacts)
    ids = _ids(40)
    states.put_many(ContactState(cid, in_scope=True, owner_id="o1", evidence='{"x": 2}', rule="r")
                    for cid in ids)
    states.put_facts([ContactState(ids[0], in_scope=False, owner_id=None, opp_linked=True)])
    after = states.get(ids[0])
    assert (after.in_scope, after.owner_id, after.opp_linked) == (False, None, True)
    assert (after.evidence, after.rule) == ('{"x": 2}', "r")
    states.delete_many(ids[:2])
    assert states.get(ids[0]) is None
    assert states.get(ids[1]) is None
    assert states.get(ids[2]) is not None


def test_truncates_huge_evidence_and_refuses_a_page_that_cannot_fit(tables: ScanTables) -> None:
    states = ContactStates(tables.contacts)
    big = ContactState(_ids(1)[0], evidence="x" * 40000)
    states.put_many([big])
    assert "truncated" in states.get(big.contact_id).evidence
    pages = PackedPages(tables.crmindex)
    noise = {str(i): {"v": base64.b64encode(os.urandom(900)).decode()} for i in range(1000)}  # 1.2 MB
    with pytest.raises(PageFullError):
        pages.update("zz00", lambda records: records.update(noise))
    assert pages.read("zz00") == ({}, None)  # nothing half written


def test_concurrent_writers_to_one_page_lose_nothing(tables: ScanTables) -> None:
    pages = PackedPages(tables.crmindex)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for k in range(5):
                pages.update("ab12", lambda records, key=f"{n}-{k}": records.__setitem__(key, {"n": n}))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    records, etag = pages.read("ab12")
    assert etag is not None
    assert set(records) == {f"{n}-{k}" for n in range(4) for k in range(5)}


def test_per_contact_entities_of_an_earlier_version_move_into_pages(tables: ScanTables) -> None:
    ids = _ids(120)
    for cid in ids:  # the layout of the previous release: one entity per contact
        tables.contacts.upsert({"PartitionKey": cid[:2], "RowKey": cid, "in_scope": True,
                                "contact_hash": cid[:5], "evidence": '{"old": true}', "rule": "old"})
    states = ContactStates(tables.contacts)
    assert states.get(ids[0]) is None  # not readable until moved

    assert states.migrate_if_needed(0) == 120

    assert all(len(str(e["RowKey"])) < 36 for e in tables.contacts.all())
    moved = states.get(ids[5])
    assert (moved.contact_hash, moved.evidence, moved.rule) == (ids[5][:5], '{"old": true}', "old")
    assert ContactStates(tables.contacts).migrate_if_needed(0) == 0  # once only


def test_profile_pairs_are_packed_and_old_pairs_still_read(tables: ScanTables) -> None:
    index = ProfileIndex(tables.profiles)
    pairs = [(f"p/{i}", cid, f"h{i}") for i, cid in enumerate(_ids(500))]
    written = index.put_pairs(pairs)
    assert written <= 16 * 256
    assert written < len(pairs)
    shard = profile_shard("p/3")
    assert ("p/3", pairs[3][1], "h3") in set(index.pairs_in(shard))
    tables.profiles.upsert({"PartitionKey": "p" + shard, "RowKey": "legacy_x", "profile_id": "p/old",
                            "contact": "c-old", "hash": "h-old"})
    assert ("p/old", "c-old", "h-old") in set(index.pairs_in(shard))


def test_crm_index_is_packed_and_reads_entries_of_an_earlier_version(tables: ScanTables) -> None:
    from functions.state.crm_index import CrmIndex

    index = CrmIndex(tables.crmindex)
    opps = [(oid, f"c-{n}") for n, oid in enumerate(_ids(2000, seed=1))]
    assert index.put_opportunities(opps) <= 256
    conns = [(cid, opps[n][0], f"c-{n}") for n, cid in enumerate(_ids(3000, seed=2)[:1000])]
    index.put_connections(conns)
    assert index.opportunity(opps[17][0]) == "c-17"
    assert index.connection(conns[5][0]) == (opps[5][0], "c-5")
    legacy = _ids(1, seed=3)[0]  # one entity per opportunity, as an earlier version wrote it
    tables.crmindex.upsert({"PartitionKey": "o" + legacy[:1], "RowKey": legacy, "parent_contact": "c-old"})
    assert index.opportunity(legacy) == "c-old"
    index.delete_opportunities([opps[17][0], legacy])
    assert index.opportunity(opps[17][0]) is None
    assert index.opportunity(legacy) is None
    assert index.opportunity(opps[18][0]) == "c-18"


def test_index_rows_in_id_order_are_written_a_few_pages_at_a_time(tables: ScanTables, monkeypatch) -> None:
    from functions.state import crm_index

    index = crm_index.CrmIndex(tables.crmindex)
    written: list[int] = []
    write = index._write
    monkeypatch.setattr(index, "_write", lambda by_page: written.append(len(by_page)) or write(by_page))
    import random
    import uuid

    rng = random.Random(4)
    opps = sorted((str(uuid.UUID(int=rng.getrandbits(128))), f"c-{n}") for n in range(3000))
    assert index.put_opportunities(opps) == 256  # every page once
    assert max(written) <= crm_index._PAGES_PER_WRITE
    assert len(written) >= 256 // crm_index._PAGES_PER_WRITE
    assert all(index.opportunity(oid) == contact for oid, contact in opps[::97])
    written.clear()
    shuffled = list(reversed(opps))  # out of order: held, then written once
    assert index.put_opportunities([(oid, "c-again") for oid, _ in shuffled]) == 256
    assert written == [256]
    assert index.opportunity(opps[5][0]) == "c-again"


def test_a_transaction_whose_condition_fails_is_redone_page_by_page(tables: ScanTables) -> None:
    pages = PackedPages(tables.crmindex)
    pages.update("cd01", lambda records: records.update({"old": {"v": 1}}))
    changes = {f"cd{n:02x}": (lambda records, n=n: records.update({f"new{n}": {"v": n}})) for n in range(8)}

    # ``fresh`` says no page exists, but cd01 does: its partition's create fails as a whole
    written = pages.update_many(changes, fresh=True)

    assert written == 8
    assert pages.read("cd01")[0] == {"old": {"v": 1}, "new1": {"v": 1}}  # nothing lost
    assert pages.read("cd07")[0] == {"new7": {"v": 7}}
    ops = sum(tables.ops.values())
    assert pages.update_many({"cd02": lambda records: records.update({"new2": {"v": 2}})}) == 0  # no-op
    assert sum(tables.ops.values()) == ops + 1  # read, nothing written


def test_many_pages_of_one_partition_are_read_with_one_query(tables: ScanTables) -> None:
    states = ContactStates(tables.contacts)
    states.size_for(1_000_000)  # 4-hex pages: 256 in each partition
    ids = [f"ab{n:02x}{m:04x}-0000-4000-8000-000000000000" for n in range(40) for m in range(3)]
    states.put_many(ContactState(cid, in_scope=True, evidence='{"big": 1}') for cid in ids)
    before = dict(tables.ops)

    got = states.get_many(ids[::2])

    assert set(got) == set(ids[::2])
    assert all(s.evidence == "" for s in got.values())  # compact part only
    spent = {k: v - before.get(k, 0) for k, v in tables.ops.items() if v != before.get(k, 0)}
    assert spent == {"query": 1}
