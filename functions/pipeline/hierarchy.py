"""The Dataverse account hierarchy (``parentaccountid``): which accounts form one corporate group.

Two accounts are in one hierarchy when they share their top-level parent. Each account the scan
validates against gets the names and websites of every account of its hierarchy
(``AccountRecord.hierarchy``), so the verdict engine can tell a move to a parent, subsidiary or sister
company from a move to another company. A full read has every account at hand (``attach``); a delta run
fetches the hierarchies of the accounts it needs (``HierarchyReader``), and both build the same tuple,
so an account's hash does not depend on how it was read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

from functions.pipeline.crm_reader import AccountInfo

__all__ = ["MAX_DEPTH", "MAX_TREE", "HierarchyReader", "attach", "hierarchies", "tree_members"]

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


def hierarchies(accounts: Mapping[str, AccountInfo]) -> tuple[dict[str, tuple[Pair, ...]], int]:
    """Account id -> (name, website) of every account of its hierarchy (itself included), for accounts
    in a hierarchy of two or more; and how many hierarchies were cut at ``MAX_TREE``."""
    parents = {account_id: info.parent_id for account_id, info in accounts.items()}
    trees: dict[str, list[str]] = {}
    for account_id in accounts:
        trees.setdefault(_root(account_id, parents), []).append(account_id)
    out: dict[str, tuple[Pair, ...]] = {}
    cut = 0
    for members in trees.values():
        if len(members) < 2:
            continue
        pairs = sorted({(accounts[m].record.name, accounts[m].record.website) for m in members},
                       key=lambda pair: (pair[0] or "", pair[1] or ""))
        if len(pairs) > MAX_TREE:
            cut += 1
            pairs = pairs[:MAX_TREE]
        tree = tuple(pairs)
        for member in members:
            out[member] = tree
    return out, cut


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


class HierarchyReader:
    """Fetches the hierarchies of some accounts for a delta run: up to the top-level parents, then
    every account below them, level by level (a request per level and chunk of ids).

    ``by_id`` and ``by_parent`` read accounts from Dataverse (``CrmReader.accounts_by_id`` /
    ``accounts_by_parent``)."""

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
        known: dict[str, AccountInfo] = dict(accounts)
        # up: the parents of every account, until the top
        missing = {a.parent_id for a in known.values() if a.parent_id and a.parent_id not in known}
        for _ in range(MAX_DEPTH):
            if not missing:
                break
            for info in self.by_id(missing):
                known.setdefault(info.record.account_id, info)
            found = {a.parent_id for a in known.values() if a.parent_id and a.parent_id not in known}
            missing = found - missing  # a parent that could not be read is not asked for again
        parents = {account_id: info.parent_id for account_id, info in known.items()}
        # down: everything below the top-level parents, level by level; the cap counts what is read
        # here, so the trees of the accounts in use are always read down (a cut is reported)
        frontier = {_root(account_id, parents) for account_id in accounts}
        visited = set(frontier)
        fetched = 0
        for _ in range(MAX_DEPTH):
            if not frontier:
                break
            if fetched >= MAX_FETCH:
                self.truncated += 1
                log.warning("account hierarchies: stopped reading at %d accounts", fetched)
                break
            children = [c for c in self.by_parent(sorted(frontier)) if c.record.account_id not in visited]
            fetched += len(children)
            for child in children:
                known.setdefault(child.record.account_id, child)
            frontier = {c.record.account_id for c in children}
            visited |= frontier
        trees, cut = hierarchies(known)
        self.truncated += cut
        self.members.update(tree_members(known))
        for account_id in list(accounts):
            tree = trees.get(account_id)
            if tree:
                info = accounts[account_id]
                accounts[account_id] = replace(info, record=replace(info.record, hierarchy=tree))
