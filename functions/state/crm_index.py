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

#: Index pages written together (4 of the 16 partitions per kind, in parallel when rows come sorted).
_PAGES_PER_WRITE = 64


class CrmIndex:
    """Opportunity -> parent contact; connection -> (opportunity, contact).

    Packed (``functions.state.pages``): 256 pages per kind, page ``o<2 hex>`` / ``n<2 hex>`` of the id
    (partition ``o<hex>`` / ``n<hex>``), so a full read rewrites 512 entities instead of one per
    opportunity and connection. Entries written one entity each by an earlier version (``RowKey`` =
    the id, same partitions) are still read; a page entry wins over them."""

    def __init__(self, store: CountingStore) -> None:
        self.store = store
        self.pages = PackedPages(store)

    @staticmethod
    def _page(kind: str, record_id: str) -> str:
        return kind + record_id[:2].lower()

    def _put(self, kind: str, rows: Iterable[tuple[str, dict[str, str]]]) -> int:
        """Store ``(id, record)`` rows. Rows in id order (as the run's spools give them) fill one page
        after the other and are written ``_PAGES_PER_WRITE`` pages at a time, so memory holds a few
        pages of the index, not all of it; once a row comes out of order, the rest are written together
        at the end, so that no page is written twice."""
        written = 0
        by_page: dict[str, dict[str, dict[str, str]]] = {}
        previous, ordered = "", True
        for record_id, record in rows:
            page = self._page(kind, record_id)
            ordered = ordered and page >= previous
            if ordered and page != previous and len(by_page) >= _PAGES_PER_WRITE:
                written += self._write(by_page)
                by_page = {}
            by_page.setdefault(page, {})[record_id] = record
            previous = page
        return written + self._write(by_page)

    def _write(self, by_page: dict[str, dict[str, dict[str, str]]]) -> int:
        def setter(new: dict[str, dict[str, str]]) -> Any:
            return lambda records: records.update(new)

        return self.pages.update_many({page: setter(new) for page, new in by_page.items()})

    def _get(self, kind: str, record_id: str) -> dict[str, Any] | None:
        records, _ = self.pages.read(self._page(kind, record_id))
        if record_id in records:
            return records[record_id]
        return self.store.get(kind + record_id[:1].lower(), record_id)  # written by an earlier version

    def _delete(self, kind: str, record_ids: Iterable[str]) -> None:
        by_page: dict[str, set[str]] = defaultdict(set)
        for record_id in record_ids:
            by_page[self._page(kind, record_id)].add(record_id)
            self.store.delete(kind + record_id[:1].lower(), record_id)  # an earlier version's entity

        def remover(gone: set[str]) -> Any:
            def remove(records: dict[str, Any]) -> None:
                for record_id in gone:
                    records.pop(record_id, None)
            return remove

        self.pages.update_many({page: remover(gone) for page, gone in by_page.items()})

    def put_opportunities(self, rows: Iterable[tuple[str, str | None]]) -> int:
        return self._put("o", ((oid, {"parent_contact": contact or ""}) for oid, contact in rows))

    def put_connections(self, rows: Iterable[tuple[str, str, str]]) -> int:
        return self._put("n", ((cid, {"opportunity": opp, "contact": contact}) for cid, opp, contact in rows))

    def opportunity(self, opp_id: str) -> str | None:
        return (self._get("o", opp_id) or {}).get("parent_contact") or None

    def connection(self, connection_id: str) -> tuple[str, str] | None:
        entry = self._get("n", connection_id)
        return (entry["opportunity"], entry["contact"]) if entry else None

    def delete_opportunities(self, opp_ids: Iterable[str]) -> None:
        self._delete("o", opp_ids)

    def delete_connections(self, connection_ids: Iterable[str]) -> None:
        self._delete("n", connection_ids)

    def delete_opportunity(self, opp_id: str) -> None:
        self.delete_opportunities([opp_id])

    def delete_connection(self, connection_id: str) -> None:
        self.delete_connections([connection_id])


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

    @staticmethod
    def page_of(profile_id: str, contact_id: str) -> str:
        return profile_shard(profile_id) + contact_id[:1].lower()

    def put_pairs(self, pairs: Iterable[tuple[str, str, str]]) -> int:
        """``(profile_id, contact_id, profile_hash)``; returns pages written."""
        by_page: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
        for pid, cid, phash in pairs:
            by_page[self.page_of(pid, cid)][cid] = {"profile_id": pid, "hash": phash}

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
