"""Per-contact scan state: PartitionKey = first 2 hex chars of the contact id, RowKey = contact id.

256 partitions spread the writes and let ``upsert_many`` send 100-operation transactions. One entity
holds what change detection needs (scope facts and the three hashes), the last verdict with its
evidence, the value written, when it was checked and when it is next due.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from typing import Any

from functions.state.tables import CountingStore, shard_of

__all__ = ["ContactState", "ContactStates"]

_MAX_EVIDENCE = 30000  # characters; a table property holds 64 KiB (32K UTF-16 chars)


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
    last_run_id: str | None = None

    def to_entity(self) -> dict[str, Any]:
        entity = {name: v for name in _FIELDS if (v := getattr(self, name)) is not None}
        if len(entity.get("evidence", "")) > _MAX_EVIDENCE:
            entity["evidence"] = json.dumps({"truncated": True, "rule": self.rule})
        return {"PartitionKey": shard_of(self.contact_id), "RowKey": self.contact_id, **entity}

    @classmethod
    def from_entity(cls, entity: dict[str, Any]) -> ContactState:
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in entity.items() if k in names}
        return cls(contact_id=entity["RowKey"], **values)


_FIELDS = tuple(f.name for f in fields(ContactState) if f.name != "contact_id")


class ContactStates:
    def __init__(self, store: CountingStore, *, workers: int = 8) -> None:
        self.store = store
        self.workers = workers

    def get(self, contact_id: str) -> ContactState | None:
        entity = self.store.get(shard_of(contact_id), contact_id)
        return ContactState.from_entity(entity) if entity else None

    def get_many(self, contact_ids: Iterable[str], *, partition_size: float = 0) -> dict[str, ContactState]:
        """States of these contacts (missing ones are absent). Few ids per partition are read one by
        one; when they are more than a quarter of the partition (``partition_size``: the expected
        entities per partition), the whole partition is read in one query instead."""
        threshold = max(8.0, partition_size / 4)
        by_shard: dict[str, set[str]] = defaultdict(set)
        for cid in contact_ids:
            by_shard[shard_of(cid)].add(cid)
        if not by_shard:
            return {}

        def load(item: tuple[str, set[str]]) -> list[ContactState]:
            shard, ids = item
            if len(ids) > threshold:
                return [
                    ContactState.from_entity(e) for e in self.store.partition(shard) if e["RowKey"] in ids
                ]
            found = (self.store.get(shard, cid) for cid in ids)
            return [ContactState.from_entity(e) for e in found if e]

        out: dict[str, ContactState] = {}
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for states in pool.map(load, by_shard.items()):
                out.update((s.contact_id, s) for s in states)
        return out

    def iter_all(self) -> Iterator[ContactState]:
        for entity in self.store.all():
            yield ContactState.from_entity(entity)

    def iter_shards(self, shards: Iterable[str]) -> Iterator[ContactState]:
        for shard in shards:
            for entity in self.store.partition(shard):
                yield ContactState.from_entity(entity)

    def put_many(self, states: Iterable[ContactState]) -> int:
        return self.store.upsert_many(s.to_entity() for s in states)

    def delete(self, contact_id: str) -> None:
        self.store.delete(shard_of(contact_id), contact_id)
