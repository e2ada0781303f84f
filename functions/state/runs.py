"""Run records: one entity per run, newest first (RowKey = inverted start time + run id)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from functions.state.tables import CountingStore

__all__ = ["RunRecords", "run_row_key"]

PARTITION = "run"
_MAX_MS = 10**13  # year 2286


def run_row_key(started: datetime, run_id: str) -> str:
    ms = int(started.astimezone(UTC).timestamp() * 1000)
    return f"{_MAX_MS - ms:013d}_{run_id}"


_MAX_CHARS = 30000  # a string property holds 64 KiB of UTF-16


def _fit(record: dict[str, Any]) -> str:
    text = json.dumps(record, sort_keys=True, default=str)
    if len(text) > _MAX_CHARS:
        record = {**record, "would_write": [], "notes": record.get("notes", [])[:20], "truncated": True}
        text = json.dumps(record, sort_keys=True, default=str)
    return text


class RunRecords:
    """``save`` writes (and overwrites) a run's record; ``latest`` reads the newest first."""

    def __init__(self, store: CountingStore) -> None:
        self.store = store

    def save(self, record: dict[str, Any]) -> None:
        started = datetime.fromisoformat(record["started_at"])
        entity = {
            "PartitionKey": PARTITION,
            "RowKey": run_row_key(started, record["run_id"]),
            "run_id": record["run_id"],
            "status": record["status"],
            "started_at": record["started_at"],
            "finished_at": record.get("finished_at") or "",
            "dry_run": bool(record.get("dry_run")),
            "trigger": record.get("trigger", ""),
            "record": _fit(record),
        }
        self.store.upsert(entity, replace=True)

    def latest(self, limit: int = 10) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for entity in self.store.partition(PARTITION):
            out.append(json.loads(entity["record"]))
            if len(out) >= limit:
                break
        return out

    def iter_all(self) -> Iterator[dict[str, Any]]:
        for entity in self.store.partition(PARTITION):
            yield json.loads(entity["record"])

    def get(self, run_id: str) -> dict[str, Any] | None:
        for record in self.iter_all():
            if record["run_id"] == run_id:
                return record
        return None
