"""Fan-out (SCAN_FANOUT=queue) end to end: the emulator over HTTP, Azurite tables and queues, the real
batch worker (``process_batch``) drained by the local host's ``QueueWorker`` (retries, poison)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from dataverse_emulator import Emulator
from dataverse_emulator.generator import generate_org
from functions.localhost.hostjson import HostSettings
from functions.localhost.queues import QueueWorker
from functions.pipeline import batch_worker as worker_module
from functions.pipeline import run as run_module
from functions.pipeline.batch_worker import process_batch, worker_config
from functions.state.batch_queue import BATCH_QUEUE_NAME, BatchMessage
from functions.state.contacts import ContactStates
from functions.state.crm_index import PendingList
from localdev.sample_profiles import write_profile_file
from tests.e2e.conftest import ORG, TODAY, ScanWorld

COMPARED = ("in_scope", "planned", "looked_up", "still_there", "left", "unknown", "flagged", "unflagged",
            "employer_updated", "unchanged", "writes", "skipped", "errors")


@contextlib.contextmanager
def other_world(azurite, tmp_path: Path) -> Iterator[ScanWorld]:
    """A second org like the ``world`` fixture's (same seed), for an in-process reference run."""
    sample = generate_org(ORG)
    path = tmp_path / "reference-profiles.jsonl"
    write_profile_file(sample, path, today=TODAY)
    with Emulator(ORG) as emulator:
        prefix = "t" + uuid.uuid4().hex[:10]
        env = {"DATAVERSE_URL": emulator.url, "DATAVERSE_AUTH": "local",
               "STATE_STORAGE_CONNECTION": azurite.connection_string, "PROFILE_FILE": str(path),
               "SCAN_ENABLED": "true", "STATE_TABLE_PREFIX": prefix, "SCAN_BATCH_SIZE": "100"}
        yield ScanWorld(emulator, sample, path, azurite.connection_string, prefix, env)


@contextlib.contextmanager
def draining(world: ScanWorld, *, fail: Callable[[BatchMessage, int], None] | None = None,
             max_dequeue: int = 5) -> Iterator[QueueWorker]:
    """A queue worker running the real batch worker on the world's tables and org."""
    config = world.config(SCAN_FANOUT="queue")
    tables = world.services(config).tables.ensure()

    def invoke(msg) -> None:
        body = msg.get_body()
        if fail is not None:
            fail(BatchMessage.parse(body), msg.dequeue_count)
        services = world.services(worker_config(config))  # as shared_services builds them
        try:
            process_batch(config, tables, body, services=services)
        finally:
            services.close()

    worker = QueueWorker(function_name="batch_worker", queue_name=BATCH_QUEUE_NAME,
                         connection_string=world.connection_string, invoke=invoke, poll_interval=0.1,
                         settings=HostSettings(max_dequeue_count=max_dequeue, visibility_timeout=0,
                                               batch_size=4))
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_module, "POLL_SECONDS", 0.2)
    monkeypatch.setattr(run_module, "POISON_PEEK_SECONDS", 0.5)


def _fanout_scan(world: ScanWorld, **kwargs):
    return world.scan(config=world.config(SCAN_FANOUT="queue", SCAN_FANOUT_WAIT_SECONDS="120"), **kwargs)


def test_a_fanned_out_run_writes_and_counts_what_an_in_process_run_does(
        world: ScanWorld, azurite, tmp_path: Path) -> None:
    with other_world(azurite, tmp_path) as reference:
        expected = reference.scan()
        expected_flags = reference.flags()
        expected_writes = reference.writes()
    with draining(world, max_dequeue=2) as worker:
        summary = _fanout_scan(world)
    assert summary.status == "succeeded", summary.message
    batches = -(-summary.counters["planned"] // 100)
    assert worker.processed == summary.counters["fanout_batches"] == batches > 1
    assert {k: summary.counters[k] for k in COMPARED} == {k: expected.counters[k] for k in COMPARED}
    assert summary.counters["flagged"] > 0
    assert world.flags() == expected_flags
    assert world.writes() == expected_writes
    # the next day is a delta run that sees only our own writes: nothing to validate, in process or not
    again = world.scan(day=TODAY + timedelta(days=1))
    assert again.status == "succeeded", again.message
    assert again.counters["looked_up"] == 0
    assert again.counters["writes"] == 0
    assert again.counters["in_scope"] == summary.counters["in_scope"]


def test_a_redelivered_batch_writes_nothing_twice_and_counts_once(
        world: ScanWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    real = worker_module.write_result
    killed: list[int] = []

    def dies_before_the_result(store, run_id, index, result):
        if not killed:  # the first delivery wrote Dataverse and states, then its instance died
            killed.append(index)
            raise RuntimeError("instance stopped before recording the result")
        return real(store, run_id, index, result)

    monkeypatch.setattr(worker_module, "write_result", dies_before_the_result)
    with draining(world) as worker:
        summary = _fanout_scan(world)
    assert summary.status == "succeeded", summary.message
    assert killed
    assert worker.failed == 1
    writes = world.writes()
    assert summary.counters["writes"] == writes > 0  # no PATCH sent twice, each write counted once
    assert summary.counters["writes_confirmed_by_reading"] > 0  # the redelivery's 412s: our own writes
    assert "changed_during_run" not in summary.skipped
    # the same batch delivered once more after its result exists: dropped, nothing written
    config = world.config(SCAN_FANOUT="queue")
    tables = world.services(config).tables
    late = process_batch(config, tables, BatchMessage(summary.run_id, killed[0]).to_json())
    assert late.status in ("duplicate", "gone")
    assert world.writes() == writes


def test_a_batch_that_always_fails_ends_in_poison_and_its_contacts_are_retried(world: ScanWorld) -> None:
    def batch_one_fails(message: BatchMessage, _count: int) -> None:
        if message.index == 1:
            raise RuntimeError("this batch cannot be processed")

    with draining(world, fail=batch_one_fails, max_dequeue=2) as worker:
        summary = _fanout_scan(world)
    assert worker.poisoned >= 1
    assert summary.status == "completed_with_errors", summary.message
    failed = summary.errors["batch_failed"]
    assert failed == 100
    assert summary.skipped["batch_failed"] == 100
    note = next(n for n in summary.notes if n.startswith("batches without a result"))
    assert f"1 of {summary.counters['fanout_batches']}: 1;" in note
    assert "in the poison queue: 1" in note
    pending = PendingList(world.services().tables.crmindex).all()
    named = note.rsplit("first contacts: ", 1)[1].split(", ")
    assert len(named) == 50
    assert all(pending[cid]["reason"] == "retry_after_error" for cid in named)
    assert sum(1 for p in pending.values() if p["reason"] == "retry_after_error") >= failed
    # the checkpoint committed: the next run (in process) is a delta run that validates them
    nxt = world.scan(day=TODAY + timedelta(days=1))
    assert nxt.status == "succeeded", nxt.message
    assert nxt.mode == "delta"
    assert nxt.counters["planned"] >= failed  # never checked: planned as new, off the pending list
    states = ContactStates(world.services().tables.contacts)
    day = (TODAY + timedelta(days=1)).isoformat()
    assert all((states.get(cid).checked_at or "").startswith(day) for cid in named)
    assert not PendingList(world.services().tables.crmindex).all()
