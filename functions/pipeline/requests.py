"""Run requests (``POST /api/runs``, enabling): record a queued run, put it on the run queue, and make
sure at most one run is active or pending at a time.

A pending request is a marker entity next to the run lock (``<prefix>locks``, PartitionKey ``lock``,
RowKey ``scan-request``). It is taken with a conditional insert, so of two concurrent requests one
gets its run queued and the other ``RunAlreadyActive``; a marker whose expiry passed (its message was
lost, or the worker never came) is taken over with an ETag-conditional update, like the run lock. The
worker removes the marker as soon as its scan holds the run lock (``clear_pending``), or when the run
ends without taking it (disabled, skipped, failed to start), so ``active_run`` reflects reality:
the run lock's holder while a scan runs, the pending request before.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.config import AppConfig
from functions.pipeline.summary import RunSummary
from functions.state.lock import PARTITION as LOCK_PARTITION
from functions.state.run_queue import RunMessage, RunQueue
from functions.state.runs import RunRecords, is_run_id, new_run_id
from functions.state.settings_store import load_effective
from functions.state.table_store import EntityExistsError, StaleEntityError
from functions.state.tables import ScanTables

__all__ = ["PENDING_ROW", "RunAlreadyActive", "active_run", "clear_pending", "request_run"]

log = logging.getLogger("functions.pipeline.requests")

PENDING_ROW = "scan-request"  # next to the run lock's "scan" row
_LOCK_ROW = "scan"  # RunLock's default name, the one run_scan takes


class RunAlreadyActive(Exception):
    """A scan is running (``status`` "running") or a run request is pending (``status`` "queued")."""

    def __init__(self, run_id: str, status: str) -> None:
        super().__init__(f"run {run_id} is {status}")
        self.run_id = run_id
        self.status = status


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _live(entity: dict[str, Any] | None, now: datetime) -> bool:
    if not entity:
        return False
    try:
        return datetime.fromisoformat(entity["expires_at"]) > now
    except (KeyError, TypeError, ValueError):  # unreadable: treat as expired, so it can be taken over
        return False


def request_run(
    config: AppConfig,
    tables: ScanTables,
    queue: RunQueue,
    *,
    trigger: str,
    dry_run: bool | None,
    requested_by: str,
    clock: Callable[[], datetime] = _now,
) -> dict[str, Any]:
    """Queue a run and return its record (status ``queued``, same shape as every run record).

    ``dry_run`` None: the stored settings' value (read now, so the record says what will happen).
    Raises ``RunAlreadyActive`` when a scan holds the run lock or another request is pending, and
    re-raises storage/queue errors (nothing stays pending then: the marker is removed). With
    ``dry_run`` None, ``StoredSettingsInvalid`` from the settings store passes through (nothing is
    queued). The worker side (claim, run, record) is ``functions.pipeline.worker``.
    """
    tables.ensure()
    now = clock()
    lock = tables.locks.get(LOCK_PARTITION, _LOCK_ROW)
    if lock is not None and _live(lock, now):
        raise RunAlreadyActive(str(lock.get("owner") or "?"), "running")
    if dry_run is None:
        dry_run = load_effective(config, tables).settings.dry_run
    run_id = new_run_id(now)
    message = RunMessage(run_id, trigger, dry_run, requested_by)  # validates trigger / requested_by
    marker_etag = _take_marker(tables, run_id, now, config.scan.lock_ttl_seconds)
    record = RunSummary(run_id=run_id, trigger=trigger, dry_run=bool(dry_run), started_at=_iso(now),
                        status="queued", requested_by=requested_by).to_dict()
    runs = RunRecords(tables.runs)
    try:
        runs.save(record)
        queue.send(message)
    except Exception as exc:
        log.error("run %s could not be queued: %s", run_id, type(exc).__name__)
        with contextlib.suppress(Exception):  # best effort: the record says why it never ran
            runs.save({**record, "status": "failed", "finished_at": _iso(clock()),
                       "message": f"could not queue the run: {type(exc).__name__}"})
        with contextlib.suppress(StaleEntityError):
            tables.locks.delete(LOCK_PARTITION, PENDING_ROW, etag=marker_etag)
        raise
    log.info("run %s queued (trigger %s, dry run %s)", run_id, trigger, dry_run)
    return record


def _take_marker(tables: ScanTables, run_id: str, now: datetime, ttl_seconds: int) -> str:
    entity = {"PartitionKey": LOCK_PARTITION, "RowKey": PENDING_ROW, "owner": run_id,
              "requested_at": _iso(now), "expires_at": _iso(now + timedelta(seconds=ttl_seconds))}
    try:
        return tables.locks.insert(entity)
    except EntityExistsError:
        pass
    current = tables.locks.get(LOCK_PARTITION, PENDING_ROW)
    if current is None:  # removed between our insert and get: once more, and whoever wins wins
        try:
            return tables.locks.insert(entity)
        except EntityExistsError:
            raise RunAlreadyActive("another request", "queued") from None
    if _live(current, now):
        raise RunAlreadyActive(str(current.get("owner") or "?"), "queued")
    try:  # expired: take it over, but only if nobody else did first
        etag = tables.locks.update(entity, etag=current["etag"], replace=True)
    except StaleEntityError:
        raise RunAlreadyActive("another request", "queued") from None
    log.warning("run request %s expired without being started; replaced by %s", current.get("owner"), run_id)
    return etag


def clear_pending(tables: ScanTables, run_id: str) -> bool:
    """Remove the pending marker if it is ``run_id``'s (idempotent). True if it was removed."""
    current = tables.locks.get(LOCK_PARTITION, PENDING_ROW)
    if current is None or current.get("owner") != run_id:
        return False
    try:
        tables.locks.delete(LOCK_PARTITION, PENDING_ROW, etag=current["etag"])
    except StaleEntityError:  # taken over meanwhile (ours had expired): no longer ours to remove
        return False
    return True


def active_run(tables: ScanTables, *, clock: Callable[[], datetime] = _now) -> dict[str, Any] | None:
    """The run that is running (holds the run lock) or queued (pending request), or None.

    Returns its stored record; when there is none (a lock taken by a hand-run tool, a record not yet
    written) a minimal ``{"run_id", "status"}``.
    """
    now = clock()
    runs = RunRecords(tables.runs)
    for row, status in ((_LOCK_ROW, "running"), (PENDING_ROW, "queued")):
        entity = tables.locks.get(LOCK_PARTITION, row)
        if entity is not None and _live(entity, now):
            owner = str(entity.get("owner") or "?")
            record = runs.get(owner) if is_run_id(owner) else None
            if record is not None and record.get("status") in ("queued", "running"):
                return record
            return {"run_id": owner, "status": status}
    return None
