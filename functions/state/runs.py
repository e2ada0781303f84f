"""Run records: one entity per run, newest first (RowKey = inverted start time + run id).

The start time in the row key is the one encoded in the run id (``YYYYmmddTHHMMSSZ-<8 hex>``), so a
run requested through the API (record ``queued``, written at request time) and the records the worker's
scan writes later (``running``, then the outcome) are the same row, and ``get`` is a point read.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from functions.state.tables import CountingStore

__all__ = ["ACTIVE_STATUSES", "RUN_ID_PATTERN", "RUN_STATUSES", "RunRecords", "StoredRun", "is_run_id",
           "new_run_id", "run_id_time", "run_row_key"]

PARTITION = "run"
_MAX_MS = 10**13  # year 2286

RUN_ID_PATTERN = re.compile(r"^(\d{8}T\d{6}Z)-[0-9a-f]{8}$")
RUN_STATUSES = ("queued", "running", "succeeded", "completed_with_errors", "failed", "skipped_locked",
                "disabled")
# Not ended yet: the run worker may still claim (queued) or finish (running) these records; any other
# status is final and a duplicate queue message for it is dropped.
ACTIVE_STATUSES = ("queued", "running")


def new_run_id(now: datetime) -> str:
    """``YYYYmmddTHHMMSSZ-<8 hex>`` in UTC (the time part sorts and gives the record's row key)."""
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


def is_run_id(value: object) -> bool:
    """Whether ``value`` is a run id this app hands out (and so a valid key: no key-forbidden chars)."""
    return isinstance(value, str) and run_id_time(value) is not None


def run_id_time(run_id: str) -> datetime | None:
    """The UTC time encoded in a run id, or None for ids of another shape (old tests, hand-made)."""
    match = RUN_ID_PATTERN.fullmatch(run_id) if isinstance(run_id, str) else None
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:  # e.g. month 13: matches the pattern but is no time
        return None


def run_row_key(started: datetime, run_id: str) -> str:
    ms = int(started.astimezone(UTC).timestamp() * 1000)
    return f"{_MAX_MS - ms:013d}_{run_id}"


def _row_key(run_id: str, started_at: str | None) -> str:
    encoded = run_id_time(run_id)
    if encoded is not None:
        return run_row_key(encoded, run_id)
    if not started_at:
        raise ValueError(f"run {run_id!r}: no time in the id and no started_at")
    return run_row_key(datetime.fromisoformat(started_at), run_id)


_MAX_CHARS = 30000  # a string property holds 64 KiB of UTF-16


def _fit(record: dict[str, Any]) -> str:
    text = json.dumps(record, sort_keys=True, default=str)
    if len(text) > _MAX_CHARS:
        record = {**record, "would_write": [], "notes": record.get("notes", [])[:20], "truncated": True}
        text = json.dumps(record, sort_keys=True, default=str)
    return text


@dataclass(frozen=True)
class StoredRun:
    """A run record with its table ETag, for conditional updates (``RunRecords.save(..., etag=)``)."""

    record: dict[str, Any]
    etag: str

    @property
    def status(self) -> str:
        return str(self.record.get("status") or "")


class RunRecords:
    """``save`` writes (and overwrites) a run's record; ``latest`` reads the newest first; ``get`` is a
    point read by run id; ``read`` / ``create`` / ``save(etag=)`` are the conditional forms the run
    worker uses to claim a requested run exactly once."""

    def __init__(self, store: CountingStore) -> None:
        self.store = store

    def _entity(self, record: dict[str, Any]) -> dict[str, Any]:
        if record.get("status") not in RUN_STATUSES:  # a typo here would hide a run from every reader
            raise ValueError(f"run {record.get('run_id')!r}: unknown status {record.get('status')!r}")
        return {
            "PartitionKey": PARTITION,
            "RowKey": _row_key(record["run_id"], record.get("started_at")),
            "run_id": record["run_id"],
            "status": record["status"],
            "started_at": record["started_at"],
            "finished_at": record.get("finished_at") or "",
            "dry_run": bool(record.get("dry_run")),
            "trigger": record.get("trigger", ""),
            "record": _fit(record),
        }

    def save(self, record: dict[str, Any], *, etag: str | None = None) -> str:
        """Write the record (replacing the row); with ``etag`` only if the row still has it, else
        ``StaleEntityError``. Returns the new ETag."""
        entity = self._entity(record)
        if etag is None:
            return self.store.upsert(entity, replace=True)
        return self.store.update(entity, etag=etag, replace=True)

    def create(self, record: dict[str, Any]) -> str:
        """Write the record only if the run has none yet (``EntityExistsError`` otherwise)."""
        return self.store.insert(self._entity(record))

    def read(self, run_id: str) -> StoredRun | None:
        """The record of a standard-shaped ``run_id`` with its ETag (one point read), or None."""
        encoded = run_id_time(run_id)
        if encoded is None:
            return None
        entity = self.store.get(PARTITION, run_row_key(encoded, run_id))
        return StoredRun(json.loads(entity["record"]), entity["etag"]) if entity else None

    def latest(self, limit: int = 10) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if limit <= 0:
            return out
        for entity in self.store.partition(PARTITION):
            out.append(json.loads(entity["record"]))
            if len(out) >= limit:
                break
        return out

    def iter_all(self) -> Iterator[dict[str, Any]]:
        for entity in self.store.partition(PARTITION):
            yield json.loads(entity["record"])

    def get(self, run_id: str) -> dict[str, Any] | None:
        """The record of ``run_id``, or None. One point read for ids of the standard shape; other ids
        (only ever written by tests or by hand) are looked for in the whole partition."""
        encoded = run_id_time(run_id)
        if encoded is not None:
            entity = self.store.get(PARTITION, run_row_key(encoded, run_id))
            return json.loads(entity["record"]) if entity else None
        if not isinstance(run_id, str) or RUN_ID_PATTERN.match(run_id):
            return None
        for record in self.iter_all():
            if record["run_id"] == run_id:
                return record
        return None
