"""The fan-out's queue worker: validates and writes one batch of a run (``SCAN_FANOUT=queue``).

``process_batch(config, tables, body)``: read the batch document the run wrote (gone: the run ended,
drop the message), drop a duplicate delivery whose result exists, validate with ``validate_batch`` and
write with the same :class:`~functions.pipeline.writer.BatchWriter` the in-process path uses
(Dataverse writes conditional on the etags the run read: a redelivered batch gets 412 and the
read-back recognises our own write), store the states, then insert the result the run waits for.
Any failure raises, so the host retries the message and finally moves it to the poison queue; the run
then puts the batch's contacts on the pending list. See docs/scan.md, "Fan-out".

Dataverse's limits hold across all workers together (``functions/state/dataverse_limits.py``): the
client waits out and announces every 429's ``Retry-After`` through the shared pause, sends at most its
share of ``DATAVERSE_MAX_CONCURRENCY`` at once (``worker_config``), and writes only while it holds
one of the Dataverse slots. A worker that gets none within ``SCAN_FANOUT_SLOT_WAIT_SECONDS`` puts
its batch back on the queue as a new message, visible again after a minute or two, and ends without
an error: waiting is never a failure, and the new message starts with a dequeue count of 0, so
waiting never brings a batch nearer to the poison queue.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from functions.config import AppConfig, ScanConfig
from functions.dataverse import DataverseClient
from functions.dataverse.column import ColumnBinding, SupportingColumns
from functions.matching.config import MatchingConfig
from functions.pipeline.crm_reader import CrmReader
from functions.pipeline.fanout import (
    decode_item,
    payload_partition,
    result_partition,
    result_row,
    write_result,
)
from functions.pipeline.hashing import IdentityColumns
from functions.pipeline.summary import RunSummary
from functions.pipeline.writer import BatchWriter
from functions.services import Services
from functions.state.batch_queue import BatchMessage, BatchQueue
from functions.state.contacts import ContactStates
from functions.state.dataverse_limits import DataverseSlots, SharedPause, slot_plan
from functions.state.packed import read_packed
from functions.state.runs import RunRecords
from functions.state.settings_store import load_effective
from functions.state.tables import ScanTables

__all__ = ["BatchOutcome", "process_batch", "worker_config"]

log = logging.getLogger("functions.pipeline.batch_worker")

#: a batch put back on the queue (no Dataverse slot in time) is delivered again after 60-120 s
PUT_BACK_SECONDS = (60, 120)


@dataclass
class BatchOutcome:
    run_id: str
    index: int
    # done | duplicate | gone (payload missing / run over) | lost (another delivery won) |
    # put_back (no Dataverse slot in time: on the queue again as a new message)
    status: str
    result: dict[str, Any] | None = None


class _PairList:
    def __init__(self) -> None:
        self.pairs: list[tuple[str, str, str]] = []

    def add(self, profile_id: str, contact_id: str, profile_hash: str) -> None:
        self.pairs.append((profile_id, contact_id, profile_hash))


_services_lock = threading.Lock()
_cached: dict[str, Any] = {}


def worker_config(config: AppConfig) -> AppConfig:
    """``config`` as a batch worker's client uses it: at most its share of
    ``DATAVERSE_MAX_CONCURRENCY`` in flight (``DATAVERSE_WORKER_CONCURRENCY``, see ``slot_plan``)."""
    dataverse = config.dataverse
    share = slot_plan(dataverse.max_concurrency, dataverse.worker_concurrency).per_worker
    if share == dataverse.max_concurrency:
        return config
    return config.model_copy(update={"dataverse": dataverse.model_copy(update={"max_concurrency": share})})


def share_limits(client: DataverseClient, tables: ScanTables) -> None:
    """Let ``client`` wait out and announce Dataverse's ``Retry-After`` with every other process of the
    app (the fan-out run and its workers), unless it does already."""
    if client.pause_gate is None:
        client.pause_gate = SharedPause(tables.locks)


def shared_services(config: AppConfig, profile_version: str | None) -> Services:
    """Services kept for the worker process's life (a profile file is loaded once, not per batch);
    built again when the run read another version of the profile file, or the admin pointed the
    profile source elsewhere."""
    key = (profile_version, repr(config.profiles))  # secrets show masked: the location tells them apart
    with _services_lock:
        services: Services | None = _cached.get("services")
        if services is not None and _cached.get("key") == key:
            return services
        if services is not None:
            services.close()
        services = Services.for_scan(worker_config(config))
        _cached.update(services=services, key=key)
        return services


def run_scan_settings(context: dict[str, Any], app_scan: ScanConfig) -> ScanConfig:
    """The scan settings of the run that wrote the batch. A batch of an earlier version carries only
    its refresh days: those over the app settings."""
    if isinstance(context.get("scan"), dict):
        return ScanConfig.model_validate(context["scan"])
    return app_scan.model_copy(update={"refresh_days": int(context["refresh_days"])})


def process_batch(config: AppConfig, tables: ScanTables, body: bytes | str, *,
                  services: Services | None = None) -> BatchOutcome:
    """Handle one batch message. Raises ``BadBatchMessage`` for a message that is not one (the
    trigger logs and drops it) and any failure of the work (the host retries, then poisons)."""
    message = BatchMessage.parse(body)
    run_id, index = message.run_id, message.index
    store = tables.crmindex
    if store.get(result_partition(run_id), result_row(index)) is not None:
        log.info("batch %s/%d: a result exists (duplicate delivery); dropped", run_id, index)
        return BatchOutcome(run_id, index, "duplicate")
    payload = read_packed(store, payload_partition(run_id, index))
    if payload is None:
        log.warning("batch %s/%d: no batch document (the run ended); dropped", run_id, index)
        return BatchOutcome(run_id, index, "gone")
    ctx = payload["context"]
    stored = RunRecords(tables.runs).read(run_id)
    if stored is not None and stored.record.get("status") != "running":
        log.warning("batch %s/%d: run is %s; dropped", run_id, index, stored.record.get("status"))
        return BatchOutcome(run_id, index, "gone")
    if services is None:
        # the profile source the run used: the admin's stored settings over the app settings
        services = shared_services(load_effective(config, tables).config, ctx.get("profile_version"))
    share_limits(services.client, tables)
    binding = ColumnBinding.from_dict(ctx["binding"])
    supporting = SupportingColumns(**ctx["supporting"]) if ctx.get("supporting") else None
    scan = run_scan_settings(ctx, config.scan)
    reader = CrmReader(services.client, flag_column=binding.logical_name,
                       employer_column=supporting.current_employer if supporting else None,
                       validated_on_column=supporting.validated_on if supporting else None,
                       page_size=config.dataverse.page_size,
                       identity=IdentityColumns(scan.profile_url_columns, scan.extra_email_columns))
    summary = RunSummary(run_id=run_id, trigger="batch", dry_run=False, started_at=ctx["now"])
    pairs = _PairList()
    states = ContactStates(tables.contacts)
    requests_before = dict(services.client.request_counts)
    ops_before = Counter(tables.ops)
    writer = BatchWriter(client=services.client, reader=reader, binding=binding, supporting=supporting,
                         now=datetime.fromisoformat(ctx["now"]), today=date.fromisoformat(ctx["today"]),
                         dry=False, scan=scan, states=states, pairs=pairs, summary=summary,
                         keep_stored=True)
    chunk = [decode_item(item) for item in payload["items"]]
    t0 = time.monotonic()
    refused = writer.validate(chunk, index, services.profiles, MatchingConfig.from_mapping(ctx["matching"]))
    if refused is not None:
        summary.notes.append(f"profile source refused look-ups in batch {index}: {refused}")
    if writer.write_buffer:  # the only part that talks to Dataverse: done holding a Dataverse slot
        plan = slot_plan(config.dataverse.max_concurrency, config.dataverse.worker_concurrency)
        slots = DataverseSlots(tables.locks, plan.slots)
        lease = slots.claim(f"{run_id}:{index}:{uuid.uuid4().hex[:8]}",
                            wait_seconds=scan.fanout_slot_wait_seconds)
        if lease is None:
            return _put_back(config, run_id, index, plan.slots, scan.fanout_slot_wait_seconds)
        try:
            writer.flush_writes()
        finally:
            lease.release()
        if lease.waited > 0:
            summary.counters["dataverse_slot_waits"] += 1
            summary.counters["dataverse_slot_wait_seconds"] += round(lease.waited)
    writer.flush_states(final=True)
    after = services.client.request_counts
    pause_waits = after.get("shared_pause_waits", 0) - requests_before.get("shared_pause_waits", 0)
    if pause_waits:
        summary.counters["shared_pause_waits"] += pause_waits
    result = {
        "counters": dict(summary.counters),
        "skipped": dict(summary.skipped),
        "errors": dict(summary.errors),
        "notes": summary.notes,
        "new_pending": writer.new_pending,
        "written_versions": writer.written_versions,
        "stored": writer.stored,
        "entering_stored": writer.entering_stored,
        "pairs": pairs.pairs,
        "requests": {k: n for k, v in after.items() if (n := v - requests_before.get(k, 0))},
        "table_operations": dict(Counter(tables.ops) - ops_before),
        "seconds": round(time.monotonic() - t0, 3),
    }
    if not write_result(store, run_id, index, result):
        log.info("batch %s/%d: another delivery recorded its result first", run_id, index)
        return BatchOutcome(run_id, index, "lost")
    return BatchOutcome(run_id, index, "done", result)


def _put_back(config: AppConfig, run_id: str, index: int, slots: int, waited: int) -> BatchOutcome:
    """No Dataverse slot came free in time: send the batch again as a new message, visible after
    ``PUT_BACK_SECONDS``, and end this delivery without an error (its message is deleted). Nothing was
    written or stored yet, so the next delivery starts from the batch document as this one did."""
    delay = random.randint(*PUT_BACK_SECONDS)
    queue = BatchQueue(config)
    try:
        queue.send(run_id, index, delay_seconds=delay)
    finally:
        queue.close()
    log.warning("batch %s/%d: no Dataverse slot (of %d) came free within %d s; put back on the queue, "
                "visible again in %d s", run_id, index, slots, waited, delay)
    return BatchOutcome(run_id, index, "put_back")
