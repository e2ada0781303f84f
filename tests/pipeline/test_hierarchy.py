"""The Dataverse account hierarchy: pure tree building, and the delta read against the emulator."""

from __future__ import annotations

import uuid

import pytest

from dataverse_emulator import Emulator
from functions.config import load_config
from functions.dataverse import DataverseClient, build_client
from functions.matching.records import AccountRecord
from functions.pipeline import hierarchy
from functions.pipeline.crm_reader import AccountInfo, CrmReader
from functions.pipeline.spool import AccountSpool


def _id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def info(n: int, name: str, parent: int | None = None, website: str | None = None) -> AccountInfo:
    return AccountInfo(AccountRecord(_id(n), name=name, website=website), None, True,
                       _id(parent) if parent is not None else None)


def org() -> dict[str, AccountInfo]:
    # 1 Halvorsen Holding <- 2 Nordwind Logistik <- 3 Nordwind Polska; 1 <- 4 Fjordkraft; 5 alone;
    # 6 <-> 7 a cycle (bad data); 8's parent is not readable
    accounts = [info(1, "Halvorsen Holding ASA", website="halvorsen.no"),
                info(2, "Nordwind Logistik GmbH", 1), info(3, "Nordwind Polska Sp. z o.o.", 2),
                info(4, "Fjordkraft AS", 1), info(5, "Solo AG"),
                info(6, "Loop A", 7), info(7, "Loop B", 6), info(8, "Orphan Ltd", 99)]
    return {a.record.account_id: a for a in accounts}


def test_every_account_of_a_tree_gets_the_whole_tree_and_a_lone_account_none() -> None:
    trees, cut = hierarchy.hierarchies(org())
    assert cut == 0
    tree = trees[_id(3)]
    assert tree == trees[_id(1)] == trees[_id(4)]
    assert tree == (("Fjordkraft AS", None), ("Halvorsen Holding ASA", "halvorsen.no"),
                    ("Nordwind Logistik GmbH", None), ("Nordwind Polska Sp. z o.o.", None))
    assert _id(5) not in trees  # alone
    assert _id(8) not in trees  # its parent is unknown
    assert trees[_id(6)] == trees[_id(7)] == (("Loop A", None), ("Loop B", None))  # a cycle ends


def test_attach_puts_the_tree_on_the_record_and_cuts_huge_trees(monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = org()
    assert hierarchy.attach(accounts) == 0
    assert len(accounts[_id(2)].record.hierarchy) == 4
    assert accounts[_id(5)].record.hierarchy == ()
    monkeypatch.setattr(hierarchy, "MAX_TREE", 3)
    accounts = org()
    assert hierarchy.attach(accounts) == 1
    assert len(accounts[_id(2)].record.hierarchy) == 3


def spooled(accounts: dict[str, AccountInfo], directory: str) -> AccountSpool:
    spool = AccountSpool(directory)
    for account in accounts.values():
        spool.put(account.record.account_id, account.parent_id, account)
    return spool


def test_a_spooled_full_read_gets_the_same_trees_as_attach(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    for max_tree in (hierarchy.MAX_TREE, 3):
        monkeypatch.setattr(hierarchy, "MAX_TREE", max_tree)
        expected = org()
        cut = hierarchy.attach(expected)
        with spooled(org(), str(tmp_path)) as spool:
            assert hierarchy.attach_spooled(spool) == cut
            assert len(spool) == len(expected)
            for account_id, account in expected.items():
                assert spool.get(account_id) == account


def test_a_spooled_forest_matches_attach_on_random_hierarchies(tmp_path) -> None:
    import random

    rng = random.Random(7)
    accounts: dict[str, AccountInfo] = {}
    for n in range(1, 400):
        # parents among earlier accounts, some missing (99999), a few pointing forward (cycles)
        roll = rng.random()
        parent = None if roll < 0.5 else 99999 if roll < 0.55 else rng.randrange(1, 420) if roll < 0.6 \
            else rng.randrange(1, n) if n > 1 else None
        account = info(n, f"Company {rng.randrange(60)}", parent, website=rng.choice([None, "a.example"]))
        accounts[account.record.account_id] = account
    expected = dict(accounts)
    hierarchy.attach(expected)
    with spooled(accounts, str(tmp_path)) as spool:
        hierarchy.attach_spooled(spool)
        assert {a: spool.get(a) for a in expected} == expected


@pytest.fixture
def dataverse(emulator_factory) -> tuple[Emulator, DataverseClient]:
    emulator: Emulator = emulator_factory(None)
    for a in org().values():
        if a.record.account_id == _id(8):
            continue  # its parent (99) does not exist: insert it with a dangling lookup below
        emulator.store.insert("accounts", {"accountid": a.record.account_id, "name": a.record.name,
                                           "websiteurl": a.record.website,
                                           "_parentaccountid_value": a.parent_id, "statecode": 0})
    emulator.store.insert("accounts", {"accountid": _id(8), "name": "Orphan Ltd", "statecode": 0,
                                       "_parentaccountid_value": str(uuid.UUID(int=99))})
    config = load_config({"DATAVERSE_URL": emulator.url, "DATAVERSE_AUTH": "local"})
    client = build_client(config.dataverse)
    yield emulator, client
    client.close()


def test_a_delta_run_reads_the_same_tree_as_a_full_read(dataverse) -> None:
    emulator, client = dataverse
    reader = CrmReader(client, flag_column=None, employer_column=None)
    full = {a.record.account_id: a for a in reader.read_table("accounts", None).changed}
    hierarchy.attach(full)
    # a delta run needs only the grandchild and the lone account: it reads up, then down
    needed = {a.record.account_id: a for a in reader.accounts_by_id([_id(3), _id(5)])}
    emulator.counters.reset()
    trees = hierarchy.HierarchyReader(reader.accounts_by_id, reader.accounts_by_parent)
    trees.attach(needed)
    assert needed[_id(3)].record == full[_id(3)].record
    assert needed[_id(3)].record.hierarchy == full[_id(1)].record.hierarchy != ()
    assert needed[_id(5)].record.hierarchy == ()
    # two levels up (2, then 1), then down from the roots (1 and 5) level by level: a few requests
    assert 0 < sum(emulator.counters.requests.values()) <= 6


def test_a_delta_run_survives_cycles_and_unreadable_parents(dataverse) -> None:
    _, client = dataverse
    reader = CrmReader(client, flag_column=None, employer_column=None)
    needed = {a.record.account_id: a for a in reader.accounts_by_id([_id(6), _id(8)])}
    hierarchy.HierarchyReader(reader.accounts_by_id, reader.accounts_by_parent).attach(needed)
    assert needed[_id(6)].record.hierarchy == (("Loop A", None), ("Loop B", None))
    assert needed[_id(8)].record.hierarchy == ()


def test_the_read_cap_never_skips_the_trees_of_the_accounts_in_use(dataverse, monkeypatch) -> None:
    _, client = dataverse
    reader = CrmReader(client, flag_column=None, employer_column=None)
    monkeypatch.setattr(hierarchy, "MAX_FETCH", 1)
    needed = {a.record.account_id: a for a in reader.accounts_by_id([_id(3), _id(5)])}
    trees = hierarchy.HierarchyReader(reader.accounts_by_id, reader.accounts_by_parent)
    trees.attach(needed)
    # the first level below the top is always read (the sister Fjordkraft is there); the cap stops the
    # next level and says so
    assert ("Fjordkraft AS", None) in needed[_id(3)].record.hierarchy
    assert trees.truncated == 1
    assert trees.members[_id(3)] >= {_id(1), _id(2), _id(3), _id(4)}


def test_a_walk_reads_a_parent_with_its_children_and_nothing_twice() -> None:
    walk = hierarchy.TreeWalk()
    accounts = org()
    walk.know([accounts[_id(3)], accounts[_id(2)]])  # rows at hand (e.g. the delta's): never read again
    walk.add([_id(3)])
    # known rows are climbed at once; the unknown top is asked for by id together with its children
    assert walk.asks() == ({_id(1)}, {_id(3), _id(2), _id(1)})
    walk.take([accounts[_id(1)]], [accounts[_id(2)], accounts[_id(3)], accounts[_id(4)]], {_id(1)})
    assert walk.asks() == (set(), {_id(4)})  # the sister found: its children next
    walk.take([], [], set())
    assert walk.asks() == (set(), set())
    used = {_id(3): accounts[_id(3)]}
    walk.attach(used)
    assert used[_id(3)].record.hierarchy == hierarchy.hierarchies(org())[0][_id(3)]
    assert walk.members[_id(3)] == {_id(1), _id(2), _id(3), _id(4)}
    # an account added later reuses what was read: only its own children are asked for
    walk.add([_id(4)])
    assert walk.asks() == (set(), set())


def test_a_walk_ignores_the_children_of_a_parent_that_is_not_there() -> None:
    accounts = org()
    walk = hierarchy.TreeWalk()
    walk.know([accounts[_id(8)]])
    walk.add([_id(8)])
    orphan = _id(99)  # 8's parent: no such account
    assert walk.asks() == ({orphan}, {_id(8), orphan})
    sister = info(9, "Another Orphan")
    sister = AccountInfo(sister.record, None, True, orphan)
    walk.take([], [accounts[_id(8)], sister], {orphan})  # no row for 99; two rows point at it
    assert walk.asks() == (set(), set())  # 9 is not in 8's tree: its children are not read
    used = {_id(8): accounts[_id(8)]}
    walk.attach(used)
    assert used[_id(8)].record.hierarchy == ()


def test_walk_rounds_read_the_same_trees_as_a_full_read_one_batch_per_level(dataverse) -> None:
    _, client = dataverse
    reader = CrmReader(client, flag_column=None, employer_column=None)
    full = {a.record.account_id: a for a in reader.read_table("accounts", None).changed}
    hierarchy.attach(full)
    for start in [[_id(3), _id(5)], [_id(1)], [_id(4), _id(6)], [_id(2), _id(8)]]:
        walk = hierarchy.TreeWalk()
        walk.add(start)

        def rounds(walk: hierarchy.TreeWalk = walk):
            while reads := walk.reads(reader.read_accounts_by_id, reader.read_accounts_by_parent):
                yield reads
                walk.settle()

        client.reset_counts()
        reader.run(rounds())
        used = {a: walk.known[a] for a in start}
        walk.attach(used)
        assert {a: used[a].record for a in start} == {a: full[a].record for a in start}, start
        counts = client.request_counts
        assert counts["read"] == 0, start  # ids and parents of a round in one $batch
        if start == [_id(3), _id(5)]:
            # 3 and 5 (with their children), 3's parent 2 (with 2's children), 2's parent 1 (with 1's
            # children), then the children of 1's other child 4: a round per level, one $batch each
            assert counts["batch_read"] == 4
