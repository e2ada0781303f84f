"""The scan's state tables (names from STATE_TABLE_PREFIX) and a counter of table operations.

Every table the pipeline uses is reached through :class:`ScanTables`, so a run can report how many
Azure Table operations it cost (``ops``: one per request the SDK sends, a transaction counts once).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from azure.data.tables import TableServiceClient

from functions.config import AppConfig, ConfigError
from functions.state.table_store import TableStore, build_table_service

__all__ = ["CountingStore", "ScanTables", "open_tables", "shard_of"]


def shard_of(record_id: str) -> str:
    """The 2-hex-character shard of a GUID (256 partitions: 100-op transactions, parallel writes)."""
    return record_id[:2].lower()


class CountingStore:
    """A ``TableStore`` that counts its requests into a shared counter."""

    def __init__(self, store: TableStore, counter: Counter[str], lock: threading.Lock) -> None:
        self.store = store
        self._counter = counter
        self._lock = lock

    def _count(self, kind: str, n: int = 1) -> None:
        with self._lock:
            self._counter[kind] += n

    def get(self, pk: str, rk: str) -> dict[str, Any] | None:
        self._count("get")
        return self.store.get(pk, rk)

    def insert(self, entity: Mapping[str, Any]) -> str:
        self._count("insert")
        return self.store.insert(entity)

    def upsert(self, entity: Mapping[str, Any], *, replace: bool = False) -> str:
        self._count("upsert")
        return self.store.upsert(entity, replace=replace)

    def update(self, entity: Mapping[str, Any], *, etag: str, replace: bool = False) -> str:
        self._count("update")
        return self.store.update(entity, etag=etag, replace=replace)

    def delete(self, pk: str, rk: str, *, etag: str | None = None) -> None:
        self._count("delete")
        self.store.delete(pk, rk, etag=etag)

    def partition(self, pk: str, *, select: list[str] | None = None) -> Iterator[dict[str, Any]]:
        self._count("query")
        for count, entity in enumerate(self.store.partition(pk, select=select), 1):
            if count % 1000 == 0:  # every further page of 1000 is one more request
                self._count("query")
            yield entity

    def all(self, *, select: list[str] | None = None) -> Iterator[dict[str, Any]]:
        """Every entity of the table (one request per 1000)."""
        self._count("query")
        table = self.store._table
        for count, entity in enumerate(table.list_entities(select=select), 1):
            if count % 1000 == 0:
                self._count("query")
            yield dict(entity)

    def conditional_transaction(self, operations: list[tuple[str, Mapping[str, Any], str | None]]) -> bool:
        self._count("transaction")
        return self.store.conditional_transaction(operations)

    def upsert_many(self, entities: Iterable[Mapping[str, Any]], *, workers: int = 8) -> int:
        """Upsert in 100-operation transactions per partition, partitions in parallel."""
        groups: dict[str, list[Mapping[str, Any]]] = {}
        for entity in entities:
            groups.setdefault(entity["PartitionKey"], []).append(entity)
        self._count("transaction", sum(-(-len(g) // 100) for g in groups.values()))
        if len(groups) <= 1 or workers <= 1:
            return sum(self.store.upsert_many(g) for g in groups.values())
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="table-upsert") as pool:
            return sum(pool.map(self.store.upsert_many, groups.values()))


class ScanTables:
    """The tables of the scan state, created on first use."""

    NAMES = ("contacts", "crmindex", "profiles", "runs", "locks", "deltalinks", "provisioning", "settings",
             "audit")

    def __init__(self, service: TableServiceClient, prefix: str = "dval") -> None:
        self.service = service
        self.prefix = prefix
        self.ops: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stores: dict[str, CountingStore] = {}
        self._ensured = False

    def ensure(self) -> ScanTables:
        if not self._ensured:
            for name in self.NAMES:
                self._store(name).store.ensure()
            self._ensured = True
        return self

    def _store(self, name: str) -> CountingStore:
        if name not in self._stores:
            store = TableStore(self.service, f"{self.prefix}{name}")
            self._stores[name] = CountingStore(store, self.ops, self._lock)
        return self._stores[name]

    def __getattr__(self, name: str) -> CountingStore:
        if name in ScanTables.NAMES:
            return self._store(name)
        raise AttributeError(name)

    @property
    def op_total(self) -> int:
        with self._lock:
            return sum(self.ops.values())


def open_tables(config: AppConfig, *, ensure: bool = True) -> ScanTables:
    """The state tables of ``config`` (``STATE_TABLE_PREFIX``), created if missing unless ``ensure`` is
    False. ``ConfigError`` when state storage is not configured; storage errors from ``ensure`` pass
    through (the caller decides whether to retry). Used by the timer, the run worker, the CLI and
    the settings API, so they all reach the same tables the same way."""
    try:
        service = build_table_service(config)
    except ValueError as exc:
        raise ConfigError(f"STATE_STORAGE_CONNECTION: {exc}") from None
    tables = ScanTables(service, config.scan.state_table_prefix)
    return tables.ensure() if ensure else tables
