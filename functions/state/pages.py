"""Records packed into pages: one table entity holds every record whose key falls into its page.

Writing 1,000,000 contact states as 1,000,000 entities costs more CPU in the Table SDK than matching
them does (about 1 ms per entity, measured; docs/scan.md "State"). A page holds tens to hundreds of
records, deflated, so a run writes a page once per batch of its records instead of once per record.

A page is an entity ``PartitionKey = <first 2 hex of the page key>``, ``RowKey = "p" + page key``. Its
records are split in two documents, each JSON, deflated and cut into binary properties of 64 KiB: the
*compact* part (``c00``...) with what change detection reads, and the *detail* part (``d00``...) with
what only a person looking at one record reads (a verdict's evidence). A full comparison selects only
the compact properties, so it never downloads the details.

Writes are read-modify-write, conditional on the page's ETag, and repeated on a conflict, so several
writers (the fan-out's workers) can update records of the same page safely. A page that would
outgrow one entity refuses the write (``PageFullError``) instead of losing records.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import tenacity

from functions.state.table_store import EntityExistsError, StaleEntityError
from functions.state.tables import CountingStore

__all__ = ["PackedPages", "PageFullError"]

_PART_BYTES = 64_000  # a binary property holds 64 KiB
_MAX_PARTS = 10  # both documents together: 640,000 bytes, 853,334 as base64, under the 1 MiB entity limit
_ATTEMPTS = 16  # conditional writes repeated after a conflict with another writer
_POINT_READS = 4  # pages of one partition read one by one; more: one query for the partition
_TRANSACTION_BYTES = 3_000_000

Record = dict[str, Any]


class PageFullError(Exception):
    """A page's records no longer fit into one entity."""


def _encode(document: Mapping[str, Any]) -> bytes:
    if not document:
        return b""
    return zlib.compress(json.dumps(document, separators=(",", ":"), sort_keys=True).encode(), 6)


def _decode(entity: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    parts = []
    for index in range(_MAX_PARTS):
        value = entity.get(f"{prefix}{index:02d}")
        if value is None:
            break
        parts.append(bytes(value))
    if not parts:
        return {}
    return json.loads(zlib.decompress(b"".join(parts)))


def _split(data: bytes, prefix: str) -> dict[str, bytes]:
    step = _PART_BYTES
    return {f"{prefix}{i // step:02d}": data[i : i + step] for i in range(0, len(data), step)}


class PackedPages:
    """Pages of ``{key: record}``; each record is ``(compact dict, detail dict)`` split by ``split``."""

    def __init__(self, store: CountingStore, *, detail_fields: Iterable[str] = (), workers: int = 8) -> None:
        self.store = store
        self.detail_fields = frozenset(detail_fields)
        self.workers = workers

    @staticmethod
    def _keys(page: str) -> tuple[str, str]:
        return page[:2].lower(), "p" + page.lower()

    # ------------------------------------------------------------------ reading
    def _records(self, entity: Mapping[str, Any], *, details: bool) -> dict[str, Record]:
        compact = _decode(entity, "c")
        if not details:
            return compact
        detail = _decode(entity, "d")
        return {key: {**value, **detail.get(key, {})} for key, value in compact.items()}

    def read(self, page: str, *, details: bool = True) -> tuple[dict[str, Record], str | None]:
        """The records of one page and its ETag (None: the page does not exist)."""
        entity = self.store.get(*self._keys(page))
        if entity is None:
            return {}, None
        return self._records(entity, details=details), entity["etag"]

    def read_many(self, pages: Iterable[str], *, details: bool = True) -> dict[str, dict[str, Record]]:
        """Several pages at once, missing ones absent: per partition point reads for a few pages, one
        query (only the compact part unless ``details``) for more; partitions in parallel."""
        by_partition: dict[str, list[str]] = {}
        for page in sorted(set(pages)):
            by_partition.setdefault(self._keys(page)[0], []).append(page)
        if not by_partition:
            return {}

        def one(item: tuple[str, list[str]]) -> dict[str, dict[str, Record]]:
            partition, wanted = item
            if len(wanted) <= _POINT_READS:
                return {page: records for page in wanted if (records := self.read(page, details=details)[0])}
            rows = {self._keys(page)[1]: page for page in wanted}
            select = None if details else ["RowKey", *(f"c{i:02d}" for i in range(_MAX_PARTS))]
            return {rows[e["RowKey"]]: self._records(e, details=details)
                    for e in self.store.partition(partition, select=select) if e.get("RowKey") in rows}

        out: dict[str, dict[str, Record]] = {}
        with ThreadPoolExecutor(max_workers=min(self.workers, len(by_partition))) as pool:
            for found in pool.map(one, sorted(by_partition.items())):
                out.update(found)
        return out

    def iter_partition(self, partition: str, *, details: bool = False) -> Iterator[tuple[str, Record]]:
        """Every record of the pages in one partition (``details`` False: the compact part only)."""
        select = None if details else ["RowKey", *(f"c{i:02d}" for i in range(_MAX_PARTS))]
        for entity in self.store.partition(partition, select=select):
            if str(entity.get("RowKey", "")).startswith("p"):
                yield from self._records(entity, details=details).items()

    def iter_all(self, *, details: bool = False) -> Iterator[tuple[str, Record]]:
        for shard in range(256):
            yield from self.iter_partition(f"{shard:02x}", details=details)

    # ------------------------------------------------------------------ writing
    def _entity(self, page: str, records: Mapping[str, Record]) -> dict[str, Any]:
        details = self.detail_fields
        compact = {k: {f: v for f, v in r.items() if f not in details} for k, r in records.items()}
        detail = {k: d for k, r in records.items() if (d := {f: v for f, v in r.items() if f in details})}
        c_data, d_data = _encode(compact), _encode(detail)
        if -(-len(c_data) // _PART_BYTES) + -(-len(d_data) // _PART_BYTES) > _MAX_PARTS:
            raise PageFullError(f"page {page}: {len(records)} records take {len(c_data) + len(d_data)} bytes")
        pk, rk = self._keys(page)
        return {"PartitionKey": pk, "RowKey": rk, "n": len(records), **_split(c_data, "c"),
                **_split(d_data, "d")}

    def update(self, page: str, change: Callable[[dict[str, Record]], None], *, fresh: bool = False) -> int:
        """Apply ``change`` (mutates the page's ``{key: record}`` in place) to the page as stored now,
        conditionally; after a conflict with another writer the page is read again and ``change``
        applied again (jittered backoff). ``fresh``: the page is expected not to exist (a first run), so
        it is created without reading first. Returns 1 if written, 0 if nothing changed."""
        attempt = {"fresh": fresh}
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type((StaleEntityError, EntityExistsError)),
            stop=tenacity.stop_after_attempt(_ATTEMPTS),
            wait=tenacity.wait_random_exponential(multiplier=0.02, max=1.0),
            reraise=True,
        )
        return retrying(self._update_once, page, change, attempt)

    def _update_once(self, page: str, change: Callable[[dict[str, Record]], None],
                     attempt: dict[str, bool]) -> int:
        if attempt["fresh"]:
            attempt["fresh"] = False  # a conflict means the page exists after all: read it next time
            records: dict[str, Record] = {}
            etag = None
        else:
            records, etag = self.read(page)
        before = json.dumps(records, sort_keys=True) if etag is not None else None
        change(records)
        if etag is not None and json.dumps(records, sort_keys=True) == before:
            return 0
        if not records:
            if etag is not None:
                self.store.delete(*self._keys(page), etag=etag)
            return 1 if etag is not None else 0
        entity = self._entity(page, records)
        if etag is None:
            self.store.insert(entity)
        else:
            self.store.update(entity, etag=etag, replace=True)
        return 1

    def update_many(self, changes: Mapping[str, Callable[[dict[str, Record]], None]], *,
                    fresh: bool = False) -> int:
        """``update`` for several pages: per partition, its pages are read (point reads for a few, one
        query for more; none when ``fresh``), changed, and written in entity-group transactions
        conditional on each page's ETag (create for a new page). A transaction whose condition fails
        (another writer, or a page a ``fresh`` run did not expect) is redone page by page with
        ``update``. Partitions run in parallel. Returns pages written."""
        if not changes:
            return 0
        by_partition: dict[str, list[str]] = {}
        for page in sorted(changes):
            by_partition.setdefault(self._keys(page)[0], []).append(page)

        def one(item: tuple[str, list[str]]) -> int:
            return self._update_partition(item[0], item[1], changes, fresh)

        items = sorted(by_partition.items())
        if len(items) == 1:
            return one(items[0])
        workers = min(self.workers, len(items))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pages") as pool:
            return sum(pool.map(one, items))

    def _current(self, partition: str, pages: list[str],
                 fresh: bool) -> dict[str, tuple[dict[str, Record], str]]:
        if fresh:
            return {}
        if len(pages) <= _POINT_READS:
            found = ((page, self.read(page)) for page in pages)
            return {page: (records, etag) for page, (records, etag) in found if etag is not None}
        wanted = {self._keys(page)[1]: page for page in pages}
        return {wanted[e["RowKey"]]: (self._records(e, details=True), e["etag"])
                for e in self.store.partition(partition) if e.get("RowKey") in wanted}

    def _update_partition(self, partition: str, pages: list[str],
                          changes: Mapping[str, Callable[[dict[str, Record]], None]], fresh: bool) -> int:
        current = self._current(partition, pages, fresh)
        operations: list[tuple[str, dict[str, Any], str | None]] = []
        for page in pages:
            records, etag = current.get(page, ({}, None))
            before = json.dumps(records, sort_keys=True) if etag is not None else None
            changes[page](records)
            if etag is not None and json.dumps(records, sort_keys=True) == before:
                continue
            if not records:
                if etag is not None:
                    keys = {"PartitionKey": partition, "RowKey": self._keys(page)[1]}
                    operations.append(("delete", keys, etag))
                continue
            operations.append(("create" if etag is None else "update", self._entity(page, records), etag))
        written = 0
        for group in _transactions(operations):
            if self.store.conditional_transaction(group):
                written += len(group)
                continue
            for _, entity, _ in group:  # someone else wrote one of them: page by page, from what is there
                page = str(entity["RowKey"])[1:]
                written += self.update(page, changes[page])
        return written


def _transactions(operations: list[tuple[str, dict[str, Any], str | None]]
                  ) -> Iterator[list[tuple[str, dict[str, Any], str | None]]]:
    """At most 100 operations and about 3 MB (base64 of the parts) per transaction (limit: 4 MiB)."""
    group: list[tuple[str, dict[str, Any], str | None]] = []
    size = 0
    for operation in operations:
        entity = operation[1]
        weight = sum(len(v) for v in entity.values() if isinstance(v, bytes)) * 4 // 3 + 1024
        if group and (len(group) == 100 or size + weight > _TRANSACTION_BYTES):
            yield group
            group, size = [], 0
        group.append(operation)
        size += weight
    if group:
        yield group
