"""What a delta run needs to know about rows it no longer sees: opportunities and connections
(old parent contact, old stakeholder) so that a closed, reassigned or deleted deal re-checks the scope
of exactly the contacts it touched; the pending list (budget overflow, retry after error); and the
profile index (which contact was matched to which profile, with the profile's hash)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from functions.state.pages import PackedPages
from functions.state.tables import CountingStore

__all__ = ["CrmIndex", "PendingList", "ProfileIndex", "profile_shard"]


class CrmIndex:
    """Opportunity -> parent contact; connection -> (opportunity, contact). 16 partitions per kind
    (first hex digit): these tables are a tenth of the contacts, so fuller 100-op transactions."""

    def __init__(self, store: CountingStore) -> None:
        self.store = store

    def put_opportunities(self, rows: Iterable[tuple[str, str | None]]) -> int:
        return self.store.upsert_many(
            {"PartitionKey": "o" + oid[:1].lower(), "RowKey": oid, "parent_contact": contact or ""}
            for oid, contact in rows
        )

    def put_connections(self, rows: Iterable[tuple[str, str, str]]) -> int:
        return self.store.upsert_many(
            {"PartitionKey": "n" + cid[:1].lower(), "RowKey": cid, "opportunity": opp, "contact": contact}
            for cid, opp, contact in rows
        )

    def opportunity(self, opp_id: str) -> str | None:
        entity = self.store.get("o" + opp_id[:1].lower(), opp_id)
        return (entity or {}).get("parent_contact") or None

    def connection(self, connection_id: str) -> tuple[str, str] | None:
        entity = self.store.get("n" + connection_id[:1].lower(), connection_id)
        return (entity["opportunity"], entity["contact"]) if entity else None

    def delete_opportunity(self, opp_id: str) -> None:
        self.store.delete("o" + opp_id[:1].lower(), opp_id)

    def delete_connection(self, connection_id: str) -> None:
        self.store.delete("n" + connection_id[:1].lower(), connection_id)


class PendingList:
    """Contacts that must be validated by a later run (budget spent, or an error), oldest first."""

    PARTITION = "pending"

    def __init__(self, store: CountingStore) -> None:
        self.store = store

    def all(self) -> dict[str, dict[str, Any]]:
        return {e["RowKey"]: e for e in self.store.partition(self.PARTITION)}

    def add_many(self, items: Iterable[tuple[str, str, str]]) -> int:
        """``(contact_id, reason, since ISO)``; an existing entry keeps its first ``since``."""
        return self.store.upsert_many(
            {"PartitionKey": self.PARTITION, "RowKey": cid, "reason": reason, "since": since}
            for cid, reason, since in items
        )

    def remove(self, contact_ids: Iterable[str]) -> None:
        for cid in contact_ids:
            self.store.delete(self.PARTITION, cid)


def profile_shard(profile_id: str) -> str:
    return hashlib.sha1(profile_id.encode(), usedforsecurity=False).hexdigest()[:2]


class ProfileIndex:
    """(profile, contact) pairs with the profile hash at the last check, by profile shard, plus per-shard
    digests of the whole profile file (kept in the checkpoint) to find changed shards.

    Packed (``functions.state.pages``): page ``<profile shard><first hex of the contact id>``, records
    keyed by contact id, so a shard's pairs are one partition of 16 entities. Pairs written one entity
    each by an earlier version (partition ``p<shard>``) are still read."""

    def __init__(self, store: CountingStore) -> None:
        self.store = store
        self.pages = PackedPages(store)

    def put_pairs(self, pairs: Iterable[tuple[str, str, str]]) -> int:
        """``(profile_id, contact_id, profile_hash)``; returns pages written."""
        by_page: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
        for pid, cid, phash in pairs:
            by_page[profile_shard(pid) + cid[:1].lower()][cid] = {"profile_id": pid, "hash": phash}

        def setter(new: dict[str, dict[str, str]]) -> Any:
            return lambda records: records.update(new)

        return self.pages.update_many({page: setter(new) for page, new in by_page.items()})

    def pairs_in(self, shard: str) -> Iterator[tuple[str, str, str]]:
        for cid, record in self.pages.iter_partition(shard):
            yield record["profile_id"], cid, record["hash"]
        for entity in self.store.partition("p" + shard):  # written by an earlier version
            yield entity["profile_id"], entity["contact"], entity["hash"]

    @staticmethod
    def shard_digests(profiles: Iterable[tuple[str, str]]) -> dict[str, str]:
        """``(profile_id, content_hash)`` pairs -> {shard: digest}; order-independent."""
        acc: dict[str, int] = defaultdict(int)
        for pid, phash in profiles:
            h = hashlib.sha1(f"{pid}\x00{phash}".encode(), usedforsecurity=False).digest()
            acc[profile_shard(pid)] ^= int.from_bytes(h[:8], "big")
        return {shard: f"{value:016x}" for shard, value in sorted(acc.items())}
