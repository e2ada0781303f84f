"""The Dataverse account hierarchy (``parentaccountid``): which accounts form one corporate group.

Two accounts are in one hierarchy when they share their top-level parent. Each account the scan
validates against gets the names and websites of every account of its hierarchy
(``AccountRecord.hierarchy``), so the verdict engine can tell a move to a parent, subsidiary or sister
company from a move to another company. A full read has every account at hand (``attach``); a delta run
fetches the hierarchies of the accounts it needs (``TreeWalk``, or ``HierarchyReader`` one kind of read
at a time), and both build the same tuple, so an account's hash does not depend on how it was read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from functions.pipeline.crm_reader import AccountInfo
from functions.pipeline.spool import AccountSpool

__all__ = ["MAX_DEPTH", "MAX_TREE", "HierarchyReader", "TreeWalk", "attach", "attach_spooled", "hierarchies",
           "tree_members"]

log = logging.getLogger("functions.pipeline")

#: accounts of one hierarchy handed to the engine (the first by name and website; a larger tree is cut)
MAX_TREE = 500
#: levels followed up or down a hierarchy (Dataverse allows deeper ones; real account trees are shallow)
MAX_DEPTH = 20
#: accounts below the top-level parents a delta run reads for the hierarchies it needs, at most
MAX_FETCH = 20000

Pair = tuple[str | None, str | None]


def _root(account_id: str, parents: Mapping[str, str | None]) -> str:
    """The top-level parent among the known accounts. A missing parent ends the walk; a cycle (bad data)
    has the smallest id in it as its root, whichever account the walk starts from."""
    path = [account_id]
    seen = {account_id}
    current = account_id
    for _ in range(MAX_DEPTH):
        parent = parents.get(current)
        if not parent or parent not in parents:
            return current
        if parent in seen:
            return min(path[path.index(parent):])
        path.append(parent)
        seen.add(parent)
        current = parent
    return current


def _groups(parents: Mapping[str, str | None]) -> Iterator[list[str]]:
    """The accounts of ``parents`` grouped by their top-level parent, groups of two or more only."""
    trees: dict[str, list[str]] = {}
    for account_id in parents:
        trees.setdefault(_root(account_id, parents), []).append(account_id)
    return (members for members in trees.values() if len(members) > 1)


def _tree(pairs: Iterable[Pair]) -> tuple[tuple[Pair, ...], bool]:
    """The (name, website) pairs of one hierarchy in their stored order, and whether it was cut."""
    ordered = sorted(set(pairs), key=lambda pair: (pair[0] or "", pair[1] or ""))
    return tuple(ordered[:MAX_TREE]), len(ordered) > MAX_TREE


def hierarchies(accounts: Mapping[str, AccountInfo]) -> tuple[dict[str, tuple[Pair, ...]], int]:
    """Account id -> (name, website) of every account of its hierarchy (itself included), for accounts
    in a hierarchy of two or more; and how many hierarchies were cut at ``MAX_TREE``."""
    parents = {account_id: info.parent_id for account_id, info in accounts.items()}
    out: dict[str, tuple[Pair, ...]] = {}
    cut = 0
    for members in _groups(parents):
        tree, was_cut = _tree((accounts[m].record.name, accounts[m].record.website) for m in members)
        cut += was_cut
        for member in members:
            out[member] = tree
    return out, cut


def attach_spooled(accounts: AccountSpool) -> int:
    """``attach`` for the accounts of a full read kept in a spool: the hierarchies are found from the
    parent links alone (accounts with neither parent nor child are never unpickled), and only the
    members of a hierarchy are rewritten. Returns the number of hierarchies cut at ``MAX_TREE``."""
    parents: dict[str, str | None] = dict(accounts.parent_links())
    for top in accounts.existing({p for p in parents.values() if p} - parents.keys()):
        parents[top] = None
    cut = 0
    for members in _groups(parents):
        infos = [accounts.get(m) for m in members]
        tree, was_cut = _tree((i.record.name, i.record.website) for i in infos if i is not None)
        cut += was_cut
        for info in infos:
            if info is not None:
                accounts.put(info.record.account_id, info.parent_id,
                             replace(info, record=replace(info.record, hierarchy=tree)))
    return cut


def tree_members(accounts: Mapping[str, AccountInfo]) -> dict[str, frozenset[str]]:
    """Account id -> the ids of every account of its hierarchy (itself included), for trees of two or more."""
    parents = {account_id: info.parent_id for account_id, info in accounts.items()}
    trees: dict[str, set[str]] = {}
    for account_id in accounts:
        trees.setdefault(_root(account_id, parents), set()).add(account_id)
    return {m: frozenset(ids) for ids in trees.values() if len(ids) > 1 for m in ids}


def attach(accounts: dict[str, AccountInfo]) -> int:
    """Give every account in ``accounts`` (all of the org's) its hierarchy, in place. Returns the
    number of hierarchies cut at ``MAX_TREE``."""
    trees, cut = hierarchies(accounts)
    for account_id, tree in trees.items():
        info = accounts[account_id]
        accounts[account_id] = replace(info, record=replace(info.record, hierarchy=tree))
    return cut


class TreeWalk:
    """Reads the hierarchies of some accounts for a delta run, a round of reads at a time.

    ``add`` names the accounts whose trees are wanted (more can be added between rounds); ``know`` hands
    in account rows already read (the delta's changed accounts), which are never read again. Each round
    (``asks``, then ``take`` with the answers) asks, for every account of a tree being read, its row by
    id if not known yet *and* its children by parent id, together: a parent is read in the same round as
    its children (the sisters of the account below it), so a tree costs about one round per level from
    the account to its farthest account, not one per level up and then one per level down. What one
    round asks of different trees, and of different kinds, goes out together.

    Limits as before: ``MAX_DEPTH`` levels up from an account and down from it; past ``MAX_FETCH``
    accounts read as children, the children of further accounts are not asked for (counted in
    ``truncated``) - except those of the accounts added and of their parents up to the top, so the
    first level below the top of every tree in use is always read. A parent that cannot be read ends
    the walk up (it is the top), and what a read by its id as a parent returns is not its tree's.
    """

    def __init__(self) -> None:
        self.known: dict[str, AccountInfo] = {}
        self.truncated = 0
        #: ids of every account of the trees attached, by the account's id (after ``attach``)
        self.members: dict[str, frozenset[str]] = {}
        self._level: dict[str, int] = {}  # accounts of the trees being read: levels from the one added
        self._chain: set[str] = set()  # the accounts added and their parents up to the top
        self._todo: list[str] = []
        self._asked_id: set[str] = set()
        self._asked_children: set[str] = set()
        self._gone: set[str] = set()  # asked for by id, not there
        self._fetched = 0  # accounts found as children, for MAX_FETCH
        self._capped = False
        self._pending: tuple[Any, Any, set[str]] | None = None  # the reads of the round under way

    def know(self, infos: Iterable[AccountInfo]) -> None:
        for info in infos:
            self.known.setdefault(info.record.account_id, info)

    def add(self, account_ids: Iterable[str]) -> None:
        for account_id in account_ids:
            if account_id and account_id not in self._level:
                self._level[account_id] = 0
                self._chain.add(account_id)
                self._todo.append(account_id)
            elif account_id and account_id not in self._chain:
                self._chain.add(account_id)  # found as a child before; now in use: its children count
                self._todo.append(account_id)

    @property
    def reached(self) -> set[str]:
        """The accounts that exist and are in a tree being read (or added): those read or known."""
        return {a for a in self._level if a in self.known}

    def asks(self) -> tuple[set[str], set[str]]:
        """(ids to read by id, ids whose children to read) for the next round; both empty: done."""
        by_id: set[str] = set()
        by_parent: set[str] = set()
        todo, self._todo = self._todo, []
        while todo:
            account_id = todo.pop()
            if account_id in self._gone:
                continue
            level = self._level[account_id]
            info = self.known.get(account_id)
            if info is None:
                if account_id in self._asked_id:
                    continue
                by_id.add(account_id)
                self._asked_id.add(account_id)
            elif info.parent_id and level > -MAX_DEPTH:
                parent = info.parent_id
                new = parent not in self._level
                if new:
                    self._level[parent] = level - 1
                promoted = account_id in self._chain and parent not in self._chain
                if promoted:
                    self._chain.add(parent)
                if new or promoted:
                    todo.append(parent)
            if account_id not in self._asked_children and self._expand(account_id, level):
                by_parent.add(account_id)
                self._asked_children.add(account_id)
        return by_id, by_parent

    def _expand(self, account_id: str, level: int) -> bool:
        if account_id in self._chain:
            return True
        if level >= MAX_DEPTH:
            return False
        if self._fetched >= MAX_FETCH:
            if not self._capped:
                self._capped = True
                self.truncated += 1
                log.warning("account hierarchies: stopped reading at %d accounts", self._fetched)
            return False
        return True

    def take(self, by_id: Iterable[AccountInfo], children: Iterable[AccountInfo],
             asked_ids: Iterable[str] = ()) -> None:
        """The answers to the last ``asks``: the rows read by id (``asked_ids``: what was asked; an id
        without a row is gone) and the children read by parent id."""
        found = set()
        for info in by_id:
            account_id = info.record.account_id
            found.add(account_id)
            if account_id in self._level and account_id not in self.known:
                self.known[account_id] = info
                self._todo.append(account_id)
        self._gone |= set(asked_ids) - found
        for info in children:
            child, parent = info.record.account_id, info.parent_id
            if parent is None or parent in self._gone or parent not in self.known:
                continue  # the "children" of a parent that is not there are not its tree's
            if parent not in self._level:
                continue
            self.known.setdefault(child, info)
            if child not in self._level:
                self._level[child] = self._level[parent] + 1
                self._fetched += 1
                self._todo.append(child)

    def reads(self, by_id: Callable[[set[str]], Any], by_parent: Callable[[set[str]], Any]) -> list[Any]:
        """``asks`` as reads for a round: ``by_id`` / ``by_parent`` build a read (an object whose
        ``results`` hold ``AccountInfo`` once it ran). ``settle`` hands their answers back."""
        ids, parents = self.asks()
        pending = (by_id(ids) if ids else None, by_parent(parents) if parents else None, ids)
        self._pending = pending
        return [read for read in pending[:2] if read is not None]

    def settle(self) -> None:
        """After the round of the last ``reads``: take their answers."""
        if self._pending is None:
            return
        by_id, by_parent, ids = self._pending
        self._pending = None
        self.take(by_id.results if by_id is not None else (),
                  by_parent.results if by_parent is not None else (), ids)

    def attach(self, accounts: dict[str, AccountInfo]) -> None:
        """Give each account in ``accounts`` its hierarchy (from what was read), in place; ``members``
        and ``truncated`` (trees cut at ``MAX_TREE``) cover the trees of these accounts."""
        self.know(accounts.values())
        parents = {account_id: info.parent_id for account_id, info in self.known.items()}
        roots = {_root(account_id, parents) for account_id in accounts}
        relevant = {a: self.known[a] for a in self.known if _root(a, parents) in roots}
        trees, cut = hierarchies(relevant)
        self.truncated += cut
        self.members.update(tree_members(relevant))
        for account_id in list(accounts):
            tree = trees.get(account_id)
            if tree:
                info = accounts[account_id]
                accounts[account_id] = replace(info, record=replace(info.record, hierarchy=tree))


class HierarchyReader:
    """Fetches the hierarchies of some accounts (``TreeWalk``), one kind of read at a time: per round a
    read of the accounts by id and one of the children of accounts by parent id.

    ``by_id`` and ``by_parent`` read accounts from Dataverse (``CrmReader.accounts_by_id`` /
    ``accounts_by_parent``). A delta run drives ``TreeWalk`` itself, to send these reads in the same
    ``$batch`` as its other reads."""

    def __init__(self, by_id: Callable[[Iterable[str]], Iterable[AccountInfo]],
                 by_parent: Callable[[Iterable[str]], Iterable[AccountInfo]]) -> None:
        self.by_id = by_id
        self.by_parent = by_parent
        self.truncated = 0
        #: ids of every account of the hierarchies read, by the account's id (after ``attach``)
        self.members: dict[str, frozenset[str]] = {}

    def attach(self, accounts: dict[str, AccountInfo]) -> None:
        """Give each account in ``accounts`` its hierarchy, in place (reading what is missing)."""
        if not accounts:
            return
        walk = TreeWalk()
        walk.know(accounts.values())
        walk.add(accounts)
        while True:
            ids, parents = walk.asks()
            if not ids and not parents:
                break
            walk.take(list(self.by_id(sorted(ids))) if ids else [],
                      list(self.by_parent(sorted(parents))) if parents else [], ids)
        walk.attach(accounts)
        self.truncated += walk.truncated
        self.members.update(walk.members)
