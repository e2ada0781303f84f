"""Queue trigger: runs the scans requested through the API (``functions/pipeline/requests.py``).

Thin: parse the message, open the config and the state tables (``Services``), hand the request to
``functions.pipeline.worker.run_requested`` (claim, run, record: docs/scan.md), log the outcome.
A message that is not a run request is logged and dropped; a run that cannot work is recorded as
``failed`` by the pipeline, not raised. Only state storage failing before the run is claimed raises,
so the host retries the message.
"""

from __future__ import annotations

import json
import logging

import azure.functions as func

from functions.config import ConfigError, load_config
from functions.pipeline import RunSummary
from functions.pipeline.worker import LOCK_WAIT_SECONDS, run_requested
from functions.services import Services
from functions.state.run_queue import RUN_QUEUE_NAME, BadRunMessage, RunMessage

bp = func.Blueprint()
log = logging.getLogger("functions.triggers.run_worker")


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
        services = Services(load_config())
        tables = services.tables  # storage down: raises, and the host retries the message
    except ConfigError as exc:  # no config, no state tables to record it in; the API fails the same way
        log.error("run %s not started, configuration error: %s", request.run_id, exc)
        return None
    with services:
        summary = run_requested(services.config, tables, request, lock_wait_seconds=lock_wait_seconds)
    if summary is None:
        return None
    payload = json.dumps(summary.to_dict(), default=str)
    if summary.status == "failed":
        log.error("requested scan %s failed: %s | %s", summary.run_id, summary.message, payload)
    else:
        log.info("requested scan %s %s | %s", summary.run_id, summary.status, payload)
    return summary
