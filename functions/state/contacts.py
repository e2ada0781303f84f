"""Per-contact scan state, packed into pages (``functions.state.pages``).

A page holds every state whose contact id starts with the page key: its first ``digits`` hex
characters (2 to 6), chosen once per org from its size so that a page holds some 8 to 128 states
(``digits_for``) and kept in a layout entity (``PartitionKey "layout"``). One state holds what change
detection needs (scope facts and the hashes: the page's compact part), and the last verdict with its
evidence, the value written, when it was checked and when it is next due (its detail part).

States written by an earlier version, one entity per contact (``RowKey`` = contact id), are moved
into pages the first time a run opens the store (``migrate_if_needed``), partition by partition.
"""

from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from typing import Any

from functions.state.pages import PackedPages
from functions.state.table_store import EntityExistsError
from functions.state.tables import CountingStore

__all__ = ["COMPACT_FIELDS", "FACT_FIELDS", "ContactState", "ContactStates", "digits_for"]

log = logging.getLogger("functions.state.contacts")

_MAX_EVIDENCE = 30000  # characters kept of one verdict's evidence
_LAYOUT = ("layout", "pages")
MIN_DIGITS, MAX_DIGITS = 2, 6
# States per page aimed at: a page holds a quarter to four times this. Larger pages make a first run
# cheaper (fewer entities) and a day with scattered changes dearer (each touched page is read and
# written whole); 32 keeps both within a few times of their floor.
_TARGET_PER_PAGE = 32


def digits_for(contacts: int) -> int:
    """Page key length for an org of ``contacts``: pages of ``_TARGET_PER_PAGE`` / 4 to x 4."""
    if contacts <= 0:
        return MIN_DIGITS
    return max(MIN_DIGITS, min(MAX_DIGITS, round(math.log(max(1, contacts / _TARGET_PER_PAGE), 16))))


@dataclass
class ContactState:
    contact_id: str
    in_scope: bool = False
    active: bool = True
    owner_id: str | None = None
    account_id: str | None = None
    account_owner_id: str | None = None
    opp_linked: bool = False
    contact_hash: str = ""
    account_hash: str = ""
    profile_id: str | None = None
    profile_hash: str = ""
    outcome: str | None = None
    rule: str | None = None
    evidence: str = ""  # JSON
    current_employer: str | None = None
    value_written: int | None = None  # what this app last wrote (None: never wrote)
    flag_value: int | None = None  # the column's value after our last check
    checked_at: str | None = None
    next_refresh: str | None = None  # ISO date
    reason: str | None = None  # why it was last validated
    lookup_hash: str = ""  # digest of the look-up keys of the last verdict (pipeline.validate)
    last_run_id: str | None = None

    def to_record(self) -> dict[str, Any]:
        record = {name: v for name in _FIELDS if (v := getattr(self, name)) is not None}
        if len(record.get("evidence", "")) > _MAX_EVIDENCE:
            record["evidence"] = json.dumps({"truncated": True, "rule": self.rule})
        return record

    @classmethod
    def from_record(cls, contact_id: str, record: dict[str, Any]) -> ContactState:
        values = {k: v for k, v in record.items() if k in _NAMES}
        return cls(contact_id=contact_id, **values)


_FIELDS = tuple(f.name for f in fields(ContactState) if f.name != "contact_id")
_NAMES = frozenset(_FIELDS)
#: read only when a person looks at one contact: the verdict's explanation
DETAIL_FIELDS = ("evidence", "rule", "current_employer", "reason", "last_run_id")
#: what a scope change updates (the verdict stays)
FACT_FIELDS = ("in_scope", "active", "owner_id", "account_owner_id", "opp_linked")
#: what planning compares: everything but the verdict's details
COMPACT_FIELDS = (*FACT_FIELDS, "account_id", "contact_hash", "account_hash", "profile_id", "profile_hash",
                  "value_written", "flag_value", "checked_at", "next_refresh", "lookup_hash")


class ContactStates:
    """The states of one org. ``ContactStates(store)`` reads the layout on first use; a run calls
    ``migrate_if_needed`` first (per-contact entities of earlier versions into pages) and ``size_for``
    before its first write (fixes the page size of a new org)."""

    def __init__(self, store: CountingStore, *, workers: int = 8) -> None:
        self.store = store
        self.pages = PackedPages(store, detail_fields=DETAIL_FIELDS, workers=workers)
        self._digits: int | None = None
        self._fresh = False  # the layout was created by this instance: no page exists yet

    # ------------------------------------------------------------------ layout
    @property
    def digits(self) -> int | None:
        if self._digits is None:
            entity = self.store.get(*_LAYOUT)
            if entity is not None:
                self._digits = int(entity["digits"])
        return self._digits

    def migrate_if_needed(self, expected_contacts: int = 0) -> int:
        """Move per-contact entities of an earlier version into pages (sized for the larger of
        ``expected_contacts`` and what is stored). Returns the states moved; 0 when there were none."""
        if self.digits is not None or next(iter(self._legacy_entities_of(None, limit=1)), None) is None:
            return 0
        stored = sum(1 for _ in self._legacy_entities_of(None))
        self._create_layout(digits_for(max(expected_contacts, stored)))
        return self._migrate()

    def size_for(self, contacts: int) -> None:
        """Fix the page size for an org of about ``contacts`` unless it is fixed already (a first run
        calls this once it knows how many contacts it will store)."""
        if self.digits is None:
            self._create_layout(digits_for(contacts))
            self._fresh = self.digits is not None and next(iter(self._legacy_entities_of(None, limit=1)),
                                                            None) is None

    def _create_layout(self, digits: int) -> None:
        try:
            self.store.insert({"PartitionKey": _LAYOUT[0], "RowKey": _LAYOUT[1], "digits": digits,
                               "format": 2})
            self._digits = digits
        except EntityExistsError:  # another process created it first: use theirs
            self._digits = None
            assert self.digits is not None

    def _legacy_entities_of(self, partition: str | None, *,
                            limit: int | None = None) -> Iterator[dict[str, Any]]:
        source = self.store.partition(partition) if partition else self.store.all()
        for count, entity in enumerate(e for e in source if _is_legacy(e)):
            if limit is not None and count >= limit:
                return
            yield entity

    def _migrate(self) -> int:
        """Per-contact entities -> pages, one partition at a time (a page never spans partitions)."""
        moved = 0
        for shard in range(256):
            partition = f"{shard:02x}"
            states = [ContactState.from_record(str(e["RowKey"]), dict(e))
                      for e in self._legacy_entities_of(partition)]
            if not states:
                continue
            self.put_many(states)
            for state in states:
                self.store.delete(partition, state.contact_id)
            moved += len(states)
        log.info("moved %d contact states of an earlier version into pages", moved)
        return moved

    def _page(self, contact_id: str) -> str:
        digits = self.digits
        if digits is None:  # nothing was ever stored: a first write sizes pages for a small org
            self._create_layout(MIN_DIGITS + 1)
            self._fresh = True
            digits = self.digits
        assert digits is not None
        return contact_id[:digits].lower()

    # ------------------------------------------------------------------ reading
    def get(self, contact_id: str) -> ContactState | None:
        """One state with its verdict's details (the API's contact view)."""
        if self.digits is None:
            return None
        record = self.pages.read(self._page(contact_id))[0].get(contact_id)
        return ContactState.from_record(contact_id, record) if record is not None else None

    def get_many(self, contact_ids: Iterable[str], *, details: bool = False,
                 **_: Any) -> dict[str, ContactState]:
        """States of these contacts (missing ones absent); without details unless asked."""
        ids = set(contact_ids)
        if not ids or self.digits is None:
            return {}
        pages = self.pages.read_many({self._page(cid) for cid in ids}, details=details)
        return {cid: ContactState.from_record(cid, record) for records in pages.values()
                for cid, record in records.items() if cid in ids}

    def iter_compact(self) -> Iterator[ContactState]:
        """Every state without its verdict details: what change detection compares, never its evidence.
        Never store these back whole over a full state (``put_facts`` only)."""
        for cid, record in self.pages.iter_all(details=False):
            yield ContactState.from_record(cid, record)

    def iter_all(self) -> Iterator[ContactState]:
        for cid, record in self.pages.iter_all(details=True):
            yield ContactState.from_record(cid, record)

    def iter_shards(self, shards: Iterable[str]) -> Iterator[ContactState]:
        """The compact states of the contacts whose id starts with one of these 2-hex shards."""
        for shard in shards:
            for cid, record in self.pages.iter_partition(shard, details=False):
                yield ContactState.from_record(cid, record)

    # ------------------------------------------------------------------ writing
    def _apply(self, per_page: dict[str, Callable[[dict[str, Any]], None]]) -> int:
        return self.pages.update_many(per_page, fresh=self._fresh)

    def put_many(self, states: Iterable[ContactState]) -> int:
        """Store these states whole (replacing what a page held for them). Returns pages written."""
        by_page: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for state in states:
            by_page[self._page(state.contact_id)][state.contact_id] = state.to_record()

        def setter(new: dict[str, dict[str, Any]]) -> Callable[[dict[str, Any]], None]:
            return lambda records: records.update(new)

        written = self._apply({page: setter(new) for page, new in by_page.items()})
        self._fresh = False  # pages exist now: later writes read before they write
        return written

    def put_facts(self, states: Iterable[ContactState]) -> int:
        """Merge only the scope facts (``FACT_FIELDS``) into the stored states: the verdict and its
        evidence stay as they are."""
        by_page: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for state in states:
            facts = {name: getattr(state, name) for name in FACT_FIELDS}
            by_page[self._page(state.contact_id)][state.contact_id] = facts

        def merger(new: dict[str, dict[str, Any]]) -> Callable[[dict[str, Any]], None]:
            def merge(records: dict[str, Any]) -> None:
                for cid, facts in new.items():
                    known = {k: v for k, v in facts.items() if v is not None}
                    records[cid] = {**records.get(cid, {}), **known}
                    for name in (k for k, v in facts.items() if v is None):
                        records[cid].pop(name, None)
            return merge

        return self._apply({page: merger(new) for page, new in by_page.items()})

    def delete_many(self, contact_ids: Iterable[str]) -> int:
        by_page: dict[str, set[str]] = defaultdict(set)
        for cid in contact_ids:
            by_page[self._page(cid)].add(cid)

        def remover(gone: set[str]) -> Callable[[dict[str, Any]], None]:
            def remove(records: dict[str, Any]) -> None:
                for cid in gone:
                    records.pop(cid, None)
            return remove

        return self.pages.update_many({page: remover(gone) for page, gone in by_page.items()})

    def delete(self, contact_id: str) -> None:
        self.delete_many([contact_id])


def _is_legacy(entity: dict[str, Any]) -> bool:
    """A per-contact entity of an earlier version: its RowKey is the contact id itself."""
    return len(str(entity.get("RowKey", ""))) == 36 and entity.get("PartitionKey") != _LAYOUT[0]
