"""The run's on-disk spools: the plan comes back in the budget's order, states are taken once."""

from __future__ import annotations

import os
import random

from functions.pipeline.plan import PlanItem, apply_budget
from functions.pipeline.spool import AccountSpool, PlanSpool, RowSpool, StateSpool
from functions.state.contacts import ContactState


def _items(n: int, seed: int = 3) -> list[PlanItem]:
    rng = random.Random(seed)
    return [PlanItem(f"{rng.getrandbits(128):032x}", rng.choice(["new_in_scope", "contact_changed"]),
                     rng.choice(["", "2026-01-01T02:00:00+00:00", "2026-02-01T02:00:00+00:00"]))
            for _ in range(n)]


def test_plan_comes_back_in_the_order_apply_budget_defines(tmp_path) -> None:
    items = _items(5000)
    with PlanSpool(str(tmp_path)) as spool:
        for item in items:
            spool.add(item.contact_id, item.last_checked, item.reason, item)
        assert len(spool) == len(items)
        for budget in (None, 0, 1, 777, 5000, 9000):
            now, later = apply_budget(items, budget)
            taken = [i for chunk in spool.ordered(budget, chunk=300) for i in chunk]
            assert taken == now
            assert list(spool.deferred(budget)) == [(i.contact_id, i.reason) for i in later]
            assert all(len(chunk) <= 300 for chunk in spool.ordered(budget, chunk=300))


def test_a_contact_planned_twice_is_kept_once_the_later_wins(tmp_path) -> None:
    with PlanSpool(str(tmp_path)) as spool:
        spool.add("a", "", "new_in_scope", 1)
        spool.add("a", "", "contact_changed", 2)
        assert len(spool) == 1
        assert [i for chunk in spool.ordered() for i in chunk] == [2]


def test_state_spool_gives_each_state_once_and_the_rest_are_the_unseen(tmp_path) -> None:
    states = [ContactState(f"{i:08x}-0000-0000-0000-000000000000", in_scope=True, contact_hash=str(i))
              for i in range(3000)]
    with StateSpool(iter(states), key=lambda s: s.contact_id, directory=str(tmp_path)) as spool:
        assert spool.loaded == 3000
        got = spool.pop(states[10].contact_id)
        assert got == states[10]
        assert spool.pop(states[10].contact_id) is None
        assert spool.pop("not-there") is None
        for state in states[100:]:
            assert spool.pop(state.contact_id) == state
        assert [s.contact_id for s in spool.rest()] == sorted(
            s.contact_id for s in states[:100] if s is not states[10])


def test_spools_leave_no_files_behind(tmp_path) -> None:
    spool = PlanSpool(str(tmp_path))
    spool.add("a", "", "new_in_scope", {"x": 1})
    assert os.listdir(tmp_path)
    spool.close()
    with StateSpool([], key=str, directory=str(tmp_path)):
        pass
    assert os.listdir(tmp_path) == []


def test_pairs_come_back_grouped_by_page_never_split(tmp_path) -> None:
    from functions.pipeline.spool import PairSpool
    from functions.state.crm_index import ProfileIndex

    rng = random.Random(5)
    pairs = [(f"p/{rng.getrandbits(40)}", f"{rng.getrandbits(128):032x}", f"h{i}") for i in range(4000)]
    with PairSpool(ProfileIndex.page_of, str(tmp_path)) as spool:
        for pid, cid, phash in pairs:
            spool.add(pid, cid, phash)
        spool.add(pairs[0][0], pairs[0][1], "h-newer")  # the same contact again: the later wins
        chunks = list(spool.chunks(size=300))
        assert len(spool) == 0  # handed out once
    got = [pair for chunk in chunks for pair in chunk]
    assert sorted(got) == sorted([(pairs[0][0], pairs[0][1], "h-newer"), *pairs[1:]])
    pages_per_chunk = [{ProfileIndex.page_of(pid, cid) for pid, cid, _ in chunk} for chunk in chunks]
    for i, pages in enumerate(pages_per_chunk):  # a page lives in exactly one chunk
        assert not pages & set().union(*pages_per_chunk[:i], *pages_per_chunk[i + 1:])


def test_a_new_run_directory_removes_those_of_runs_killed_long_ago(tmp_path) -> None:
    import time

    from functions.pipeline.spool import run_directory

    old, recent, other = tmp_path / "dval-run-old", tmp_path / "dval-run-recent", tmp_path / "unrelated"
    for directory in (old, recent, other):
        directory.mkdir()
        (directory / "plan.sqlite").write_bytes(b"x")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    os.utime(other, (two_days_ago, two_days_ago))

    fresh = run_directory(str(tmp_path))

    assert not old.exists()
    assert recent.exists()  # may belong to a run still working
    assert other.exists()  # not ours
    assert os.path.isdir(fresh)


def test_row_spool_gives_rows_back_in_id_order_the_later_of_one_id_winning(tmp_path) -> None:
    rng = random.Random(9)
    rows = [(f"{rng.getrandbits(128):032x}", f"opp{i}", f"contact{i}") for i in range(3000)]
    with RowSpool("connections", str(tmp_path)) as spool:
        assert not spool
        for row in rows:
            spool.append(row)
        spool.append((rows[5][0], "opp-moved", "contact5"))
        assert len(spool) == 3000
        got = list(spool)
    assert [row[0] for row in got] == sorted(row[0] for row in rows)
    assert {r[0]: r for r in got}[rows[5][0]] == (rows[5][0], "opp-moved", "contact5")
    assert os.listdir(tmp_path) == []


def test_account_spool_reads_back_by_id_and_sees_a_rewrite(tmp_path) -> None:
    with AccountSpool(str(tmp_path), remembered=2) as spool:
        for n in range(10):
            spool.put(f"a{n}", f"a{n - 1}" if n % 3 else None, {"name": f"Account {n}"})
        assert spool.get("a4") == {"name": "Account 4"}
        assert spool.get("missing") is None
        assert sorted(spool.parent_links()) == [(f"a{n}", f"a{n - 1}") for n in range(10) if n % 3]
        assert spool.existing(["a1", "a9", "zz"]) == {"a1", "a9"}
        spool.put("a4", None, {"name": "Account 4, renamed"})  # a remembered account is read again
        assert spool.get("a4") == {"name": "Account 4, renamed"}
    assert os.listdir(tmp_path) == []
