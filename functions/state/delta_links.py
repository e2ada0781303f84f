"""Delta links per table and the scan's bookkeeping (committed together, only after a good run)."""

from __future__ import annotations

import json
from typing import Any

from functions.state.table_store import EntityExistsError, StaleEntityError
from functions.state.tables import CountingStore

__all__ = ["ScanCheckpoint"]

PARTITION = "checkpoint"
ROW = "scan"


class ScanCheckpoint:
    """One entity: ``delta_links`` per entity set, the sync-user fingerprint, the last good run day,
    and the profile-file shard digests. Written only at the very end of a run whose batches all
    succeeded, so a failed run leaves the previous checkpoint and is simply redone.

    After ``load`` the next ``save`` is conditional on the checkpoint being unchanged since (its ETag,
    or still absent): a run that lost its lock can never roll back a newer run's checkpoint; it gets
    ``StaleEntityError`` instead. Without a ``load`` (tools, tests) ``save`` overwrites.
    """

    def __init__(self, store: CountingStore) -> None:
        self.store = store
        self._loaded = False
        self._etag: str | None = None  # of the checkpoint as loaded (None: there was none)

    def load(self) -> dict[str, Any]:
        entity = self.store.get(PARTITION, ROW)
        self._loaded = True
        self._etag = entity.get("etag") if entity else None
        if entity is None:
            return {}
        return json.loads(entity.get("data", "{}"))

    def save(self, data: dict[str, Any]) -> None:
        text = json.dumps(data, sort_keys=True)
        if len(text) > 30000:  # a string property holds 64 KiB of UTF-16
            raise ValueError("checkpoint too large for one table property")
        entity = {"PartitionKey": PARTITION, "RowKey": ROW, "data": text}
        if not self._loaded:
            self._etag = self.store.upsert(entity, replace=True)
        elif self._etag is None:
            try:
                self._etag = self.store.insert(entity)
            except EntityExistsError as exc:
                raise StaleEntityError("checkpoint written by another run since it was loaded") from exc
        else:
            self._etag = self.store.update(entity, etag=self._etag, replace=True)

    def clear(self) -> None:
        """Delete it (forces a full read); conditional like ``save`` after a ``load``."""
        if self._loaded and self._etag is not None:
            self.store.delete(PARTITION, ROW, etag=self._etag)
        elif not self._loaded:
            self.store.delete(PARTITION, ROW)
        self._etag = None
