"""Queue trigger of the fan-out (``SCAN_FANOUT=queue``): validates and writes one batch of a run.

Thin: open the config and the state tables (``Services``), hand the message to
``functions.pipeline.batch_worker.process_batch``. A message that is not a batch reference is logged
and dropped; any other failure raises, so the host retries it (host.json ``maxDequeueCount``) and then
moves it to ``data-validation-batches-poison``, where the waiting run finds it (docs/scan.md, "Fan-out").
"""

from __future__ import annotations

import logging

import azure.functions as func

from functions.config import load_config
from functions.pipeline.batch_worker import BatchOutcome, process_batch
from functions.services import Services
from functions.state.batch_queue import BATCH_QUEUE_NAME, BadBatchMessage

bp = func.Blueprint()
log = logging.getLogger("functions.triggers.batch_worker")


@bp.queue_trigger(arg_name="msg", queue_name=BATCH_QUEUE_NAME, connection="AzureWebJobsStorage")
def batch_worker(msg: func.QueueMessage) -> None:
    process_batch_message(msg)


def process_batch_message(msg: func.QueueMessage) -> BatchOutcome | None:
    try:
        with Services(load_config()) as services:
            outcome = process_batch(services.config, services.tables, msg.get_body())
    except BadBatchMessage as exc:
        log.warning("batch queue message %s dropped: %s", msg.id, exc)
        return None
    log.info("batch %s/%d: %s", outcome.run_id, outcome.index, outcome.status)
    return outcome
