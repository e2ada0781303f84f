"""Fan-out under Dataverse's limits, end to end: the run and its batch workers share one pause (a 429's
Retry-After) and the Dataverse slots, over the emulator (HTTP, its journal of request arrivals) and
Azurite (tables, queues), with the real batch worker drained by the local host's ``QueueWorker``."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from dataverse_emulator import Fault
from functions.localhost.hostjson import HostSettings
from functions.localhost.queues import QueueWorker
from functions.pipeline import batch_worker as worker_module
from functions.pipeline.batch_worker import process_batch, worker_config
from functions.state.batch_queue import BATCH_QUEUE_NAME, BatchMessage
from functions.state.dataverse_limits import PAUSE_PARTITION, PAUSE_ROW, SLOT_PARTITION, SharedPause
from tests.e2e.conftest import ScanWorld
from tests.e2e.test_fanout import _fanout_scan, _fast_polls  # noqa: F401 - the autouse fixture

TOLERANCE = 0.6  # a pause written to the table is seen by the others within ~2 s refresh + this


@contextlib.contextmanager
def draining(world: ScanWorld, before: Callable[[BatchMessage, int], None] | None = None,
             **settings: str) -> Iterator[tuple[QueueWorker, Counter[str], list[int]]]:
    """The batch worker on the world's queue; yields the queue worker, the outcomes by status, and
    the writes the org had received whenever a batch was put back."""
    config = world.config(SCAN_FANOUT="queue", **settings)
    tables = world.services(config).tables.ensure()
    outcomes: Counter[str] = Counter()
    writes_at_put_back: list[int] = []

    def invoke(msg) -> None:
        if before is not None:
            before(BatchMessage.parse(msg.get_body()), msg.dequeue_count)
        services = world.services(worker_config(config))
        try:
            status = process_batch(config, tables, msg.get_body(), services=services).status
            outcomes[status] += 1
            if status == "put_back":
                writes_at_put_back.append(world.writes())
        finally:
            services.close()

    worker = QueueWorker(function_name="batch_worker", queue_name=BATCH_QUEUE_NAME,
                         connection_string=world.connection_string, invoke=invoke, poll_interval=0.1,
                         settings=HostSettings(max_dequeue_count=2, visibility_timeout=0, batch_size=4))
    worker.start()
    try:
        yield worker, outcomes, writes_at_put_back
    finally:
        worker.stop()


def _pause_until(world: ScanWorld) -> float:
    entity = world.services().tables.locks.get(PAUSE_PARTITION, PAUSE_ROW)
    assert entity is not None
    return datetime.fromisoformat(entity["pause_until"]).timestamp()


def test_the_run_and_its_workers_wait_out_a_shared_pause_and_share_their_429s(world: ScanWorld) -> None:
    locks = world.services().tables.ensure().locks
    SharedPause(locks).announce(2)  # another process was throttled just before the run started
    first_pause = _pause_until(world)
    announced: dict[str, float] = {}

    def before(message: BatchMessage, count: int) -> None:
        if message.index == 0 and count == 1:  # its first $batch POST is answered 429, Retry-After 1
            world.emulator.faults.add(Fault("throttle", method="POST", path=r"^\$batch", retry_after=1))
        if message.index == 1 and count == 1:  # someone else is throttled while batch 1 starts
            announced["at"] = time.time()
            SharedPause(world.services().tables.locks).announce(2)

    with draining(world, before) as (worker, _, _):
        summary = _fanout_scan(world)
    assert summary.status == "succeeded", summary.message
    assert worker.failed == worker.poisoned == 0
    journal = world.emulator.counters.arrivals()
    # the run: its first request only once the pause it found had passed, counted in its record
    assert journal[0].at >= first_pause
    assert summary.requests["shared_pause_waits"] == 1
    # a worker's 429 became everybody's pause: nothing was sent until it ended
    throttled = [r for r in journal if r.status == 429]
    assert len(throttled) == 1
    after_429 = [r.at for r in journal if r.at > throttled[0].at]
    assert after_429
    assert min(after_429) >= throttled[0].at + 1
    # batch 1's worker waited out the pause announced as it started; nobody sent meanwhile
    until = announced["at"] + 2
    inside = [r for r in journal if announced["at"] + TOLERANCE < r.at < until]
    assert inside == [], inside
    assert summary.counters["shared_pause_waits"] >= 1  # the workers' waits, added up by the run
    assert "dataverse_slot_waits" not in summary.counters  # one worker at a time: a slot at once
    assert summary.counters["writes"] == world.writes() > 0
    # every Dataverse slot was released
    assert list(world.services().tables.locks.partition(SLOT_PARTITION)) == []


def test_a_batch_that_gets_no_slot_in_time_goes_back_on_the_queue_not_to_poison(
        world: ScanWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """One slot (DATAVERSE_MAX_CONCURRENCY=1), held by a worker elsewhere for 4 s; workers wait 0 s
    for it, so each batch with writes is put back (visible again after 1 s) until the slot frees.
    With maxDequeueCount 2 a batch put back three times would be poisoned if waiting counted as a
    failure: it does not, every batch completes."""
    monkeypatch.setattr(worker_module, "PUT_BACK_SECONDS", (1, 1))
    held_until = datetime.now(UTC) + timedelta(seconds=4)
    world.services().tables.ensure().locks.insert({
        "PartitionKey": SLOT_PARTITION, "RowKey": "000", "holder": "a-worker-elsewhere",
        "expires_at": held_until.isoformat(timespec="milliseconds")})
    limits = {"DATAVERSE_MAX_CONCURRENCY": "1", "SCAN_FANOUT_SLOT_WAIT_SECONDS": "0"}
    with draining(world, **limits) as (worker, outcomes, writes_at_put_back):
        summary = world.scan(config=world.config(SCAN_FANOUT="queue", SCAN_FANOUT_WAIT_SECONDS="120",
                                                 **limits))
    assert summary.status == "succeeded", summary.message
    assert outcomes["put_back"] >= 3
    assert outcomes["done"] == summary.counters["fanout_batches"]
    assert worker.failed == worker.poisoned == 0
    assert "batch_failed" not in summary.errors
    assert writes_at_put_back == [0] * outcomes["put_back"]  # nothing written while the slot was held
    assert summary.counters["writes"] == world.writes() > 0
    assert list(world.services().tables.locks.partition(SLOT_PARTITION)) == []
