"""How the triggers start runs: the requested run (queue worker) and the scheduled run (timer).

The triggers stay thin (parse, call, log); the bookkeeping that makes a queued request end in exactly
one run record lives here:

- **Claim.** A message is delivered at least once, and the same message can reach two workers at
  the same time. Before anything runs, the worker claims the request's record with an ETag-conditional
  update from ``queued`` to ``running`` (``worker`` = this invocation's token, ``claim_expires_at``);
  of two concurrent deliveries exactly one succeeds, the other drops the message. A ``running`` record
  is left alone while its claim is live or the run lock is held for the run; after that it is a crashed
  attempt and is claimed again (conditionally, so again only once).
- **Finish.** Whatever happened (disabled, lock busy, settings or config invalid, ``run_scan`` raised,
  its final save failed), the record ends in a final status: a ``running`` record is overwritten when
  this worker owned it (its claim, or its scan held the lock), never when another worker's is.
- **Never a poison loop** for a run that cannot work: invalid stored settings or a config error is
  recorded as ``failed`` and the message is consumed. Only storage trouble before the claim is raised,
  so the host retries the message.

The timer has no request: a run that cannot start because the stored settings no longer validate gets
a new ``failed`` record, so ``GET /api/status`` shows it as ``last_error``.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from functions.config import AppConfig, ConfigError
from functions.pipeline.requests import clear_pending
from functions.pipeline.run import RunHooks, run_scan
from functions.pipeline.summary import RunSummary
from functions.state.lock import PARTITION as LOCK_PARTITION
from functions.state.run_queue import RunMessage
from functions.state.runs import ACTIVE_STATUSES, RunRecords, StoredRun, new_run_id
from functions.state.settings_store import StoredSettingsInvalid, load_effective
from functions.state.table_store import EntityExistsError, StaleEntityError
from functions.state.tables import ScanTables

__all__ = ["CLAIM_MARGIN_SECONDS", "LOCK_WAIT_SECONDS", "ScheduledRun", "invalid_settings_message",
           "run_requested", "run_scheduled"]

log = logging.getLogger("functions.pipeline.worker")

LOCK_WAIT_SECONDS = 60  # a timer scan that is just finishing: wait a little before giving up
# A claim covers the wait for the lock plus loading settings and building clients; after that the run
# lock (renewed while the scan works) shows the run is alive. A claim older than this with no lock is
# a worker that died before its scan started.
CLAIM_MARGIN_SECONDS = 120
_LOCK_ROW = "scan"  # RunLock's default name, the one run_scan takes


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def invalid_settings_message(exc: StoredSettingsInvalid) -> str:
    """The run record's message for stored settings that no longer validate: the fields and why, never
    their values (``StoredSettingsInvalid.errors`` are value-free by contract)."""
    fields = [f"{e.field or '(document)'}: {e.reason}" for e in exc.errors[:10]]
    named = "; ".join(fields) if fields else "the stored document"
    return (f"the stored settings are no longer valid ({named}); nothing was run. Correct them with "
            "PATCH /api/settings")


# ---------------------------------------------------------------------------------------- requested


@dataclass
class _Attempt:
    """This worker's hold on one requested run."""

    request: RunMessage
    token: str  # the record's ``worker`` while the claim lasts
    locked: bool = False  # run_scan took the run lock for it in this invocation


def run_requested(
    config: AppConfig,
    tables: ScanTables,
    request: RunMessage,
    *,
    lock_wait_seconds: float = LOCK_WAIT_SECONDS,
    clock: Callable[[], datetime] = _now,
) -> RunSummary | None:
    """Run one requested scan (its ``queued`` record becomes the run's record) and return its
    summary, or None when the message was dropped (a duplicate delivery: the run ended, runs, or
    another worker claimed it). Never raises for a run that cannot work (recorded as ``failed``);
    storage errors before the claim are raised so the host retries the message."""
    runs = RunRecords(tables.runs)
    attempt = _claim(runs, tables, request, clock, lock_wait_seconds)
    if attempt is None:
        return None
    try:
        summary = _run(config, tables, attempt, clock, lock_wait_seconds)
    except Exception as exc:  # run_scan reports run failures itself; this is anything around it
        log.exception("requested scan %s could not run", request.run_id)
        summary = _ended(request, f"{type(exc).__name__}: {exc}", config, clock)
    _finish(runs, tables, attempt, summary, clock)
    return summary


def _run(config: AppConfig, tables: ScanTables, attempt: _Attempt, clock: Callable[[], datetime],
         lock_wait_seconds: float) -> RunSummary:
    request = attempt.request
    try:
        effective = load_effective(config, tables)
    except ConfigError as exc:  # app settings that cannot even give the settings' defaults
        return _ended(request, f"configuration error: {exc}", config, clock)
    except StoredSettingsInvalid as exc:
        return _ended(request, invalid_settings_message(exc), config, clock)

    def on_locked(_summary: RunSummary) -> None:
        attempt.locked = True
        _clear(tables, request.run_id)

    try:
        return run_scan(
            effective.config,
            run_id=request.run_id,
            matching=effective.matching,
            enabled=effective.settings.enabled,
            dry_run=request.dry_run,
            trigger=request.trigger,
            requested_by=request.requested_by,
            wait_for_lock_seconds=lock_wait_seconds,
            clock=clock,
            hooks=RunHooks(on_locked=on_locked),
        )
    except ConfigError as exc:  # e.g. no profile source: the run cannot start; say so in its record
        return _ended(request, f"configuration error: {exc}", effective.config, clock)


def _claim(runs: RunRecords, tables: ScanTables, request: RunMessage, clock: Callable[[], datetime],
           lock_wait_seconds: float) -> _Attempt | None:
    """Take the request for this invocation, or None (logged) when it is not ours to run."""
    now = clock()
    token = uuid.uuid4().hex
    claim = {"worker": token, "claimed_at": _iso(now),
             "claim_expires_at": _iso(now + timedelta(seconds=lock_wait_seconds + CLAIM_MARGIN_SECONDS)),
             "message": "picked up by the run worker; waiting for the run lock"}
    stored = runs.read(request.run_id)
    if stored is None:  # the request's record is gone (deleted by hand): run it, under a new record
        record = {**_ended(request, "", None, clock).to_dict(), "status": "running", "finished_at": None,
                  **claim}
        try:
            runs.create(record)
        except EntityExistsError:
            log.info("run %s was claimed by another delivery: duplicate queue message dropped",
                     request.run_id)
            return None
        return _Attempt(request, token)
    if stored.status not in ACTIVE_STATUSES:
        log.info("run %s is already %s: duplicate queue message dropped", request.run_id, stored.status)
        _clear(tables, request.run_id)
        return None
    if stored.status == "running" and _in_progress(stored, tables, request.run_id, now):
        log.info("run %s is running: duplicate queue message dropped", request.run_id)
        return None
    if stored.status == "running":
        log.warning("run %s was left running by an attempt that ended without finishing it; "
                    "running it again", request.run_id)
    record = {**stored.record, "status": "running", **claim}
    try:
        runs.save(record, etag=stored.etag)
    except StaleEntityError:  # another delivery of the same message was quicker
        log.info("run %s was claimed by another delivery: duplicate queue message dropped", request.run_id)
        return None
    return _Attempt(request, token)


def _in_progress(stored: StoredRun, tables: ScanTables, run_id: str, now: datetime) -> bool:
    """Whether a ``running`` record belongs to a live attempt: its claim has not expired (the worker is
    still waiting for the lock), or the run lock is held for this run (its scan is working)."""
    with contextlib.suppress(KeyError, TypeError, ValueError):
        if stored.record.get("worker") and datetime.fromisoformat(stored.record["claim_expires_at"]) > now:
            return True
    return _lock_held_for(tables, run_id, now)


def _lock_held_for(tables: ScanTables, run_id: str, now: datetime) -> bool:
    """Whether the run lock is live and taken for ``run_id`` (by whichever attempt)."""
    lock = tables.locks.get(LOCK_PARTITION, _LOCK_ROW)
    if lock is None or lock.get("owner") != run_id:
        return False
    try:
        return datetime.fromisoformat(lock["expires_at"]) > now
    except (KeyError, TypeError, ValueError):
        return False


def _finish(runs: RunRecords, tables: ScanTables, attempt: _Attempt, summary: RunSummary,
            clock: Callable[[], datetime]) -> None:
    """Make the record say how the run ended, and make sure the request is no longer pending."""
    _clear(tables, summary.run_id)
    try:
        stored = runs.read(summary.run_id)
        if stored is None:
            runs.save(summary.to_dict())
            return
        if stored.status not in ACTIVE_STATUSES:
            return  # run_scan recorded its outcome (succeeded, failed, skipped_locked, ...)
        worker = stored.record.get("worker")
        ours = (attempt.locked or worker == attempt.token
                or (worker is None and not _lock_held_for(tables, summary.run_id, clock())))
        if stored.status == "running" and not ours:
            log.warning("run %s: left to the attempt that claimed it after this one", summary.run_id)
            return
        # Still our claim (disabled, settings invalid, could not start), or our scan held the lock but
        # its final save failed or it raised: this worker owned the run, so its outcome is the record's.
        runs.save(summary.to_dict(), etag=stored.etag)
    except StaleEntityError:
        log.warning("run %s: record changed while finishing; left as written", summary.run_id)
    except Exception:
        log.exception("could not record the end of run %s", summary.run_id)
        raise


def _clear(tables: ScanTables, run_id: str) -> None:
    try:
        clear_pending(tables, run_id)
    except Exception:  # the marker expires on its own
        log.exception("could not clear the pending marker of run %s", run_id)


def _ended(request: RunMessage, message: str, config: AppConfig | None,
           clock: Callable[[], datetime]) -> RunSummary:
    now = _iso(clock())
    default_dry = config.scan.dry_run if config is not None else False
    return RunSummary(run_id=request.run_id, trigger=request.trigger,
                      dry_run=default_dry if request.dry_run is None else request.dry_run,
                      started_at=now, finished_at=now, status="failed", message=message,
                      requested_by=request.requested_by)


# ---------------------------------------------------------------------------------------- scheduled


@dataclass(frozen=True)
class ScheduledRun:
    summary: RunSummary
    started: bool  # False: the stored settings are invalid, nothing ran (the record says why)


def run_scheduled(config: AppConfig, tables: ScanTables, *,
                  clock: Callable[[], datetime] = _now) -> ScheduledRun:
    """The timer's run with the stored settings. Stored settings that no longer validate give a
    ``failed`` run record (nothing runs) instead of an exception, so the API's status shows the error.
    ``ConfigError`` (the app settings) is raised after it is recorded the same way."""
    try:
        effective = load_effective(config, tables)
    except StoredSettingsInvalid as exc:
        return ScheduledRun(_record_failed(tables, config, invalid_settings_message(exc), clock), False)
    except ConfigError as exc:
        _record_failed(tables, config, f"configuration error: {exc}", clock)
        raise
    try:
        return ScheduledRun(run_scan(effective.config, trigger="timer", enabled=effective.settings.enabled,
                                     dry_run=effective.settings.dry_run, matching=effective.matching,
                                     clock=clock), True)
    except ConfigError as exc:
        _record_failed(tables, effective.config, f"configuration error: {exc}", clock)
        raise


def _record_failed(tables: ScanTables, config: AppConfig, message: str,
                   clock: Callable[[], datetime]) -> RunSummary:
    now = clock()
    summary = RunSummary(run_id=new_run_id(now), trigger="timer", dry_run=config.scan.dry_run,
                         started_at=_iso(now), finished_at=_iso(now), status="failed", message=message)
    try:
        RunRecords(tables.runs).save(summary.to_dict())
    except Exception:  # the log still has it
        log.exception("could not save the run record of %s", summary.run_id)
    return summary
