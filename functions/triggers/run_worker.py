"""Queue trigger: runs the scans requested through the API (``functions/pipeline/requests.py``).

Thin: read the message, load the config and the stored settings, run the pipeline with the request's
run id (so its ``queued`` record becomes this run's record), log the summary. It never crash-loops:
a message that is not a run request is logged and dropped, and a failed run is recorded in its run
record, not re-raised (the host would otherwise re-run a whole scan up to maxDequeueCount times).
Only a failure before the run could start (state storage unreachable) is raised, so the host retries.
"""

from __future__ import annotations

import json
import logging

import azure.functions as func

from functions.config import AppConfig, ConfigError, load_config
from functions.pipeline import RunHooks, RunSummary, run_scan
from functions.state.run_queue import RUN_QUEUE_NAME, BadRunMessage, RunMessage
from functions.state.runs import RunRecords
from functions.state.tables import ScanTables
from functions.triggers.scan_timer import state_tables

bp = func.Blueprint()
log = logging.getLogger("functions.triggers.run_worker")

LOCK_WAIT_SECONDS = 60  # a timer scan that is just finishing: wait a little before giving up


@bp.queue_trigger(arg_name="msg", queue_name=RUN_QUEUE_NAME, connection="AzureWebJobsStorage")
def run_worker(msg: func.QueueMessage) -> None:
    process_run_message(msg)


def process_run_message(msg: func.QueueMessage, *, lock_wait_seconds: float = LOCK_WAIT_SECONDS
                        ) -> RunSummary | None:
    """The handler's body (callable from tests). Returns the run's summary, or None when the message
    was dropped (not a run request, a duplicate delivery, or no usable configuration)."""
    try:
        request = RunMessage.parse(msg.get_body())
    except BadRunMessage as exc:
        log.warning("run queue message %s dropped: %s", msg.id, exc)
        return None
    try:
        config = load_config()
        tables = state_tables(config)  # storage down: raises, and the host retries the message
    except ConfigError as exc:  # nothing to record it in; the app's other entry points fail the same way
        log.error("run %s not started, configuration error: %s", request.run_id, exc)
        return None
    from functions.settings import load_effective  # package A; imported lazily

    runs = RunRecords(tables.runs)
    if _already_handled(runs, tables, request):
        _clear(tables, request.run_id)
        return None
    try:
        effective = load_effective(config, tables)
    except ConfigError as exc:  # app settings that cannot even give the settings' defaults
        summary = _ended(request, f"configuration error: {exc}", config)
        _finish(runs, tables, summary)
        return summary
    try:
        summary = run_scan(
            effective.config,
            run_id=request.run_id,
            matching=effective.matching,
            enabled=effective.settings.enabled,
            dry_run=request.dry_run,
            trigger=request.trigger,
            requested_by=request.requested_by,
            wait_for_lock_seconds=lock_wait_seconds,
            hooks=RunHooks(on_locked=lambda _summary: _clear(tables, request.run_id)),
        )
    except ConfigError as exc:  # e.g. no profile source: the run cannot start; say so in its record
        summary = _ended(request, f"configuration error: {exc}", effective.config)
    except Exception as exc:  # run_scan reports run failures itself; this is storage before the lock
        log.exception("requested scan %s could not start", request.run_id)
        summary = _ended(request, f"{type(exc).__name__}: {exc}", effective.config)
    _finish(runs, tables, summary)
    return summary


def _clear(tables: ScanTables, run_id: str) -> None:
    from functions.pipeline.requests import clear_pending

    try:
        clear_pending(tables, run_id)
    except Exception:  # the marker expires on its own
        log.exception("could not clear the pending marker of run %s", run_id)


def _finish(runs: RunRecords, tables: ScanTables, summary: RunSummary) -> None:
    # disabled, skipped, or failed before the lock: the request is no longer pending either
    _clear(tables, summary.run_id)
    # run_scan stores its record once it tried the lock; a run that ended before (disabled, could not
    # start) would otherwise stay "queued"
    stored = runs.get(summary.run_id)
    if stored is None or stored.get("status") == "queued":
        runs.save(summary.to_dict())
    payload = json.dumps(summary.to_dict(), default=str)
    if summary.status == "failed":
        log.error("requested scan %s failed: %s | %s", summary.run_id, summary.message, payload)
    else:
        log.info("requested scan %s %s | %s", summary.run_id, summary.status, payload)


def _already_handled(runs: RunRecords, tables: ScanTables, request: RunMessage) -> bool:
    """At-least-once delivery: a message seen again after its run ended (or while it runs) is dropped.
    A ``running`` record whose lock is gone is a crashed attempt: run again."""
    record = runs.get(request.run_id)
    if record is None or record.get("status") == "queued":
        return False
    if record.get("status") == "running":
        from functions.pipeline.requests import active_run

        active = active_run(tables)
        if not (active and active.get("run_id") == request.run_id and active.get("status") == "running"):
            return False
    log.info("run %s is already %s: duplicate queue message dropped", request.run_id, record.get("status"))
    return True


def _ended(request: RunMessage, message: str, config: AppConfig) -> RunSummary:
    from datetime import UTC, datetime

    now = datetime.now(UTC).isoformat(timespec="seconds")
    return RunSummary(run_id=request.run_id, trigger=request.trigger,
                      dry_run=config.scan.dry_run if request.dry_run is None else request.dry_run,
                      started_at=now, finished_at=now, status="failed", message=message,
                      requested_by=request.requested_by)
