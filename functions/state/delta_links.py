"""Delta links per table and the scan's bookkeeping (committed together, only after a good run)."""

from __future__ import annotations

from typing import Any

from functions.state.tables import CountingStore

__all__ = ["ScanCheckpoint"]

PARTITION = "checkpoint"
ROW = "scan"


class ScanCheckpoint:
    """One entity: ``delta_links`` per entity set, the sync-user fingerprint, the last good run day,
    and the profile-file shard digests. Written only at the very end of a run whose batches all
    succeeded, so a failed run leaves the previous checkpoint and is simply redone."""

    def __init__(self, store: CountingStore) -> None:
        self.store = store

    def load(self) -> dict[str, Any]:
        entity = self.store.get(PARTITION, ROW)
        if entity is None:
            return {}
        import json

        return json.loads(entity.get("data", "{}"))

    def save(self, data: dict[str, Any]) -> None:
        import json

        text = json.dumps(data, sort_keys=True)
        if len(text) > 30000:  # a string property holds 64 KiB of UTF-16
            raise ValueError("checkpoint too large for one table property")
        self.store.upsert({"PartitionKey": PARTITION, "RowKey": ROW, "data": text}, replace=True)

    def clear(self) -> None:
        self.store.delete(PARTITION, ROW)
