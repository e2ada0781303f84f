"""Timer trigger: the daily scan. Thin: load the config, open the state tables (``Services``), run the
scan with the stored settings (``functions.pipeline.worker.run_scheduled``: enabled, dry run, matching
thresholds, ... from the settings store, app settings as defaults), log the summary.

Schedule from the app setting ``SCAN_SCHEDULE`` (NCRONTAB, UTC; ``0 0 2 * * *`` = daily 02:00).
``use_monitor`` keeps the schedule across restarts (a missed occurrence runs once when the host is
back); ``run_on_startup`` is off, so a restart or scale-out never starts an extra run.
"""

from __future__ import annotations

import json
import logging

import azure.functions as func

from functions.config import ConfigError, load_config
from functions.pipeline import RunSummary
from functions.pipeline.worker import run_scheduled
from functions.services import Services

bp = func.Blueprint()
log = logging.getLogger("functions.triggers.scan_timer")


@bp.timer_trigger(schedule="%SCAN_SCHEDULE%", arg_name="timer", run_on_startup=False, use_monitor=True)
def scan_timer(timer: func.TimerRequest) -> None:
    run_timer(timer)


def run_timer(timer: func.TimerRequest) -> RunSummary | None:
    """The handler's body (callable from tests). A config error is logged and re-raised so the
    invocation shows as failed; so is a failed scan (with its run record's id). Stored settings that
    no longer validate are recorded as a failed run and logged as an error, not raised: nothing ran,
    and the record (``GET /api/status`` ``last_error``) says which fields to correct."""
    if timer.past_due:
        log.warning("scan timer is past due: running now")
    try:
        with Services(load_config()) as services:
            outcome = run_scheduled(services.config, services.tables)
    except ConfigError as exc:
        log.error("scan not started, configuration error: %s", exc)
        raise
    summary = outcome.summary
    payload = json.dumps(summary.to_dict(), default=str)
    if summary.status == "failed":
        log.error("scan %s failed: %s | %s", summary.run_id, summary.message, payload)
        if not outcome.started:  # stored settings invalid: recorded; an admin has to correct them
            return summary
        raise RuntimeError(f"scan {summary.run_id} failed: {summary.message}")
    log.info("scan %s %s | %s", summary.run_id, summary.status, payload)
    return summary
