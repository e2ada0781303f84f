"""Many records in few table entities: one compressed document split over binary properties.

A table entity holds at most 1 MiB and a binary property at most 64 KiB
(https://learn.microsoft.com/en-us/rest/api/storageservices/understanding-the-table-service-data-model).
A document (JSON, deflated) is cut into properties of ``_PART_BYTES`` and entities of ``_PARTS_PER_ENTITY``
properties, all in one partition, so 50,000 small records cost one or two entity writes instead of
50,000. The first entity also holds the part count and a SHA-256 of the whole: a document that was
half written (a crash between entities) or mangled reads as missing, never as something else.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from typing import Any

from functions.state.tables import CountingStore

__all__ = ["delete_packed", "read_packed", "write_packed"]

_PART_BYTES = 64_000  # a binary property holds 64 KiB
_PARTS_PER_ENTITY = 10  # 640,000 bytes, 853,334 as base64 on the wire: under the 1 MiB entity limit


def _row(index: int) -> str:
    return f"{index:05d}"


def write_packed(store: CountingStore, partition: str, document: Any) -> int:
    """Store ``document`` (JSON-serialisable) under ``partition``, replacing what was there. Returns the
    number of entities written. Not atomic across entities: readers check the digest."""
    data = zlib.compress(json.dumps(document, separators=(",", ":"), sort_keys=True).encode(), 6)
    parts = [data[i : i + _PART_BYTES] for i in range(0, len(data), _PART_BYTES)] or [b""]
    digest = hashlib.sha256(data).hexdigest()
    entities = []
    for index, start in enumerate(range(0, len(parts), _PARTS_PER_ENTITY)):
        entity: dict[str, Any] = {"PartitionKey": partition, "RowKey": _row(index)}
        for offset, part in enumerate(parts[start : start + _PARTS_PER_ENTITY]):
            entity[f"p{offset:02d}"] = part
        if index == 0:
            entity.update(parts=len(parts), bytes=len(data), sha256=digest)
        entities.append(entity)
    for entity in entities:  # one by one: a transaction holds at most 4 MiB
        store.upsert(entity, replace=True)
    return len(entities)


def read_packed(store: CountingStore, partition: str) -> Any | None:
    """The document stored under ``partition``, or None when there is none or it is incomplete or
    damaged (the caller then does what it would do without it)."""
    entities = sorted(store.partition(partition), key=lambda e: e["RowKey"])
    if not entities or entities[0].get("RowKey") != _row(0):
        return None
    head = entities[0]
    try:
        count, size, digest = int(head["parts"]), int(head["bytes"]), str(head["sha256"])
    except (KeyError, TypeError, ValueError):
        return None
    parts: list[bytes] = []
    for entity in entities:
        for offset in range(_PARTS_PER_ENTITY):
            value = entity.get(f"p{offset:02d}")
            if value is None:
                break
            parts.append(bytes(value))
    data = b"".join(parts[:count])
    if len(parts) < count or len(data) != size or hashlib.sha256(data).hexdigest() != digest:
        return None
    try:
        return json.loads(zlib.decompress(data))
    except (zlib.error, ValueError):
        return None


def delete_packed(store: CountingStore, partition: str) -> None:
    """Remove every entity of the document (idempotent)."""
    for entity in list(store.partition(partition, select=["RowKey"])):
        store.delete(partition, entity["RowKey"])
