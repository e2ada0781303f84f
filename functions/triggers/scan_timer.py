"""Timer trigger: the daily scan. Thin: load the config and the stored settings (enabled, dry run,
matching thresholds, ... from the settings store, app settings as defaults), run the pipeline, log
the summary.

Schedule from the app setting ``SCAN_SCHEDULE`` (NCRONTAB, UTC; ``0 0 2 * * *`` = daily 02:00).
``use_monitor`` keeps the schedule across restarts (a missed occurrence runs once when the host is
back); ``run_on_startup`` is off, so a restart or scale-out never starts an extra run.
"""

from __future__ import annotations

import json
import logging

import azure.functions as func

from functions.config import AppConfig, ConfigError, load_config
from functions.pipeline import RunSummary, run_scan
from functions.state.tables import ScanTables

bp = func.Blueprint()
log = logging.getLogger("functions.triggers.scan_timer")


@bp.timer_trigger(schedule="%SCAN_SCHEDULE%", arg_name="timer", run_on_startup=False, use_monitor=True)
def scan_timer(timer: func.TimerRequest) -> None:
    run_timer(timer)


def state_tables(config: AppConfig) -> ScanTables:
    """The state tables (created if missing); ``ConfigError`` when storage is not configured."""
    from functions.state import build_table_service

    try:
        service = build_table_service(config)
    except ValueError as exc:
        raise ConfigError(f"STATE_STORAGE_CONNECTION: {exc}") from None
    return ScanTables(service, config.scan.state_table_prefix).ensure()


def run_timer(timer: func.TimerRequest) -> RunSummary | None:
    """The handler's body (callable from tests). A config error is logged and re-raised so the
    invocation shows as failed; a failed run is logged as an error with its run record's id."""
    if timer.past_due:
        log.warning("scan timer is past due: running now")
    try:
        config = load_config()
        tables = state_tables(config)
    except ConfigError as exc:
        log.error("scan not started, configuration error: %s", exc)
        raise
    from functions.settings import load_effective  # package A; imported lazily

    effective = load_effective(config, tables)
    summary = run_scan(effective.config, trigger="timer", enabled=effective.settings.enabled,
                       dry_run=effective.settings.dry_run, matching=effective.matching)
    payload = json.dumps(summary.to_dict(), default=str)
    if summary.status == "failed":
        log.error("scan %s failed: %s | %s", summary.run_id, summary.message, payload)
        raise RuntimeError(f"scan {summary.run_id} failed: {summary.message}")
    log.info("scan %s %s | %s", summary.run_id, summary.status, payload)
    return summary
