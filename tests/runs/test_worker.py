"""The queue worker and the timer with the stored settings: emulator over HTTP + Azurite."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import azure.functions as func
import pytest
from azure.functions.timer import TimerRequest

from functions.dataverse import DataverseClient
from functions.pipeline import run as run_module
from functions.pipeline import worker as worker_module
from functions.pipeline.requests import active_run, request_run
from functions.settings import defaults_from_config
from functions.state.lock import RunLock
from functions.state.runs import RunRecords
from functions.state.settings_store import SettingsStore
from functions.triggers import run_worker, scan_timer

from .conftest import RunWorld


@dataclass(frozen=True)
class Admin:
    id: str = "00000000-0000-4000-8000-000000000001"
    name: str = "admin@example.com"
    auth: str = "key"


def _store_settings(world: RunWorld, **changes: object) -> None:
    store = SettingsStore(world.tables())
    current = store.current(defaults_from_config(world.config()))
    assert current.settings is not None
    store.save(current.settings.model_copy(update=changes), expected=current, who=Admin())


def test_worker_binding() -> None:
    app = func.FunctionApp()
    app.register_functions(run_worker.bp)
    (function,) = app.get_functions()
    (binding,) = json.loads(function.get_function_json())["bindings"]  # as the host reads it
    assert function.get_function_name() == "run_worker"
    assert binding == {"type": "queueTrigger", "direction": "IN", "name": "msg",
                       "queueName": "data-validation-runs", "connection": "AzureWebJobsStorage"}


def test_requested_run_is_run_by_the_worker_in_the_same_record(world: RunWorld) -> None:
    tables = world.tables()
    queued = request_run(world.config(), tables, world.queue(), trigger="api", dry_run=False,
                         requested_by="alice@example.com")
    (msg,) = world.receive()

    summary = run_worker.process_run_message(msg, lock_wait_seconds=0)

    assert summary is not None
    assert summary.status == "succeeded", summary.message
    assert summary.run_id == queued["run_id"]
    records = RunRecords(tables.runs)
    record = records.get(queued["run_id"])
    assert record["status"] == "succeeded"
    assert record["trigger"] == "api"
    assert record["requested_by"] == "alice@example.com"
    assert record["counters"]["in_scope"] > 0
    assert [r["run_id"] for r in records.latest(5)] == [queued["run_id"]]  # one row, overwritten
    assert active_run(tables) is None  # marker and lock both gone
    # the next request is accepted again
    assert request_run(world.config(), tables, world.queue(), trigger="api", dry_run=True,
                       requested_by="bob")["status"] == "queued"
    # a duplicate delivery of the finished run's message is dropped, the record stays
    assert run_worker.process_run_message(msg, lock_wait_seconds=0) is None
    assert records.get(queued["run_id"])["status"] == "succeeded"


def test_worker_clears_the_marker_once_it_holds_the_lock(world: RunWorld,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    tables = world.tables()
    queued = request_run(world.config(), tables, world.queue(), trigger="api", dry_run=True,
                         requested_by="alice")
    seen: list[dict | None] = []
    original = worker_module.run_scan

    def spying_run_scan(*args, **kwargs):
        hook = kwargs["hooks"].on_locked

        def on_locked(summary):
            hook(summary)
            seen.append(active_run(tables))  # during the run: the lock's run, no longer "queued"
        kwargs["hooks"].on_locked = on_locked
        return original(*args, **kwargs)

    monkeypatch.setattr(worker_module, "run_scan", spying_run_scan)
    (msg,) = world.receive()
    summary = run_worker.process_run_message(msg, lock_wait_seconds=0)
    assert summary is not None
    assert summary.status == "succeeded", summary.message
    assert summary.dry_run is True
    assert world.writes() == 0
    assert seen
    assert seen[0]["run_id"] == queued["run_id"]
    assert seen[0]["status"] == "running"


def test_worker_with_settings_disabled_records_disabled(world: RunWorld) -> None:
    tables = world.tables()
    queued = request_run(world.config(), tables, world.queue(), trigger="api", dry_run=False,
                         requested_by="alice")
    _store_settings(world, enabled=False)  # disabled before the worker picks the request up
    (msg,) = world.receive()

    summary = run_worker.process_run_message(msg, lock_wait_seconds=0)

    assert summary is not None
    assert summary.status == "disabled"
    record = RunRecords(tables.runs).get(queued["run_id"])
    assert record["status"] == "disabled"
    assert record["requested_by"] == "alice"
    assert active_run(tables) is None
    assert world.writes() == 0


def test_worker_records_a_run_that_cannot_start(world: RunWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    tables = world.tables()
    queued = request_run(world.config(), tables, world.queue(), trigger="api", dry_run=False,
                         requested_by="alice")
    (msg,) = world.receive()
    monkeypatch.setenv("DATAVERSE_MAX_RETRIES", "0")
    world.emulator.stop()  # Dataverse unreachable: the run fails, recorded, not raised

    summary = run_worker.process_run_message(msg, lock_wait_seconds=0)

    assert summary is not None
    assert summary.status == "failed"
    assert RunRecords(tables.runs).get(queued["run_id"])["status"] == "failed"
    assert active_run(tables) is None


def test_worker_skips_while_another_scan_holds_the_lock(world: RunWorld) -> None:
    tables = world.tables()
    queued = request_run(world.config(), tables, world.queue(), trigger="api", dry_run=False,
                         requested_by="alice")
    (msg,) = world.receive()
    lease = RunLock(tables.locks).acquire("timer-run")  # the timer started after the request
    try:
        summary = run_worker.process_run_message(msg, lock_wait_seconds=0.2)
    finally:
        lease.release()
    assert summary is not None
    assert summary.status == "skipped_locked"
    assert RunRecords(tables.runs).get(queued["run_id"])["status"] == "skipped_locked"
    assert active_run(tables) is None  # the request is not pending any more either
    assert world.writes() == 0


@pytest.mark.parametrize("body", [
    b"not json",
    b"\xff\xfe\x00",
    b"[]",
    b"{}",
    json.dumps({"run_id": "../../etc", "trigger": "api"}).encode(),
    json.dumps({"run_id": "20260115T020000Z-1d8a1aaa", "trigger": "api", "extra": 1}).encode(),
    json.dumps({"run_id": "20260115T020000Z-1d8a1aaa", "trigger": "api", "dry_run": "yes"}).encode(),
    json.dumps({"run_id": "20261315T020000Z-1d8a1aaa", "trigger": "api"}).encode(),
    b"x" * 100_000,
])
def test_malformed_messages_are_logged_and_dropped(body: bytes, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="functions.triggers.run_worker"):
        assert run_worker.process_run_message(func.QueueMessage(id="m1", body=body)) is None
    assert "run queue message m1 dropped" in caplog.text
    assert "etc" not in caplog.text  # the body is never echoed


def test_timer_honours_the_stored_settings(world: RunWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    _store_settings(world, enabled=False)
    summary = scan_timer.run_timer(TimerRequest())
    assert summary is not None
    assert summary.status == "disabled"

    defaults = defaults_from_config(world.config())
    matching = defaults.matching.model_copy(update={"employer_same_score": 97.5})
    _store_settings(world, enabled=True, dry_run=True, matching=matching)
    seen: list[float] = []
    real_validate_batch = run_module.validate_batch

    def validate_batch(batch, source, *, matching):  # the real one, noting the thresholds it got
        seen.append(matching.employer_same_score)
        return real_validate_batch(batch, source, matching=matching)

    monkeypatch.setattr(run_module, "validate_batch", validate_batch)
    summary = scan_timer.run_timer(TimerRequest())
    assert summary is not None
    assert summary.status == "succeeded", summary.message
    assert summary.dry_run is True
    assert summary.trigger == "timer"
    assert world.writes() == 0
    assert seen
    assert set(seen) == {97.5}


# ------------------------------------------------------------------ stored settings no longer valid

def _corrupt_stored_settings(world: RunWorld) -> None:
    """Store valid settings, then break the stored document the way an older/newer app version or a
    hand edit could: values out of range (12345 must never appear in a message)."""
    _store_settings(world, enabled=True)
    tables = world.tables()
    entity = tables.settings.get("settings", "current")
    document = json.loads(entity["document"])
    document["refresh_days"] = 12345
    document["matching"]["employer_same_score"] = 12345
    tables.settings.upsert({"PartitionKey": "settings", "RowKey": "current",
                            "document": json.dumps(document)})


def test_worker_records_invalid_stored_settings_as_failed(world: RunWorld,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    tables = world.tables()
    queued = request_run(world.config(), tables, world.queue(), trigger="api", dry_run=False,
                         requested_by="alice")
    _corrupt_stored_settings(world)
    (msg,) = world.receive()

    with caplog.at_level(logging.INFO):
        summary = run_worker.process_run_message(msg, lock_wait_seconds=0)  # consumed: no exception

    assert summary is not None
    assert summary.status == "failed"
    record = RunRecords(tables.runs).get(queued["run_id"])
    assert record["status"] == "failed"
    assert "refresh_days" in record["message"]
    assert "matching.employer_same_score" in record["message"]
    assert "12345" not in record["message"]
    assert "12345" not in caplog.text
    assert record["requested_by"] == "alice"
    assert active_run(tables) is None
    assert world.writes() == 0
    # the same message again (the host would not redeliver it, but at-least-once): dropped
    assert run_worker.process_run_message(msg, lock_wait_seconds=0) is None


def test_timer_records_invalid_stored_settings_as_failed(world: RunWorld,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    _corrupt_stored_settings(world)
    with caplog.at_level(logging.ERROR, logger="functions.triggers.scan_timer"):
        summary = scan_timer.run_timer(TimerRequest())  # logged and recorded, not raised
    assert summary is not None
    assert summary.status == "failed"
    assert "scan " + summary.run_id + " failed" in caplog.text  # what the operations alert looks for
    (record,) = RunRecords(world.tables().runs).latest(5)
    assert record["run_id"] == summary.run_id
    assert record["trigger"] == "timer"
    assert record["status"] == "failed"
    assert "refresh_days" in record["message"]
    assert "12345" not in record["message"]
    assert world.writes() == 0


def test_worker_records_a_config_error_as_failed(world: RunWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    tables = world.tables()
    queued = request_run(world.config(), tables, world.queue(), trigger="api", dry_run=False,
                         requested_by="alice")
    (msg,) = world.receive()
    monkeypatch.delenv("PROFILE_FILE")  # no profile source: run_scan refuses with a ConfigError

    summary = run_worker.process_run_message(msg, lock_wait_seconds=0)

    assert summary is not None
    assert summary.status == "failed"
    record = RunRecords(tables.runs).get(queued["run_id"])
    assert record["status"] == "failed"
    assert record["message"].startswith("configuration error: PROFILE")
    assert active_run(tables) is None


# ------------------------------------------------------------------ stuck records, duplicate delivery

class _FinalSaveFails(RunRecords):
    """The run's own records, with the storage failing for every save after "running"."""

    def save(self, record, *, etag=None):
        if record["status"] != "running":
            raise ConnectionError("storage went away")
        return super().save(record, etag=etag)


@pytest.mark.parametrize("close_raises", [False, True])
def test_worker_finishes_a_record_run_scan_left_running(world: RunWorld, monkeypatch: pytest.MonkeyPatch,
                                                        close_raises: bool) -> None:
    tables = world.tables()
    queued = request_run(world.config(), tables, world.queue(), trigger="api", dry_run=True,
                         requested_by="alice")
    (msg,) = world.receive()
    monkeypatch.setattr(run_module, "RunRecords", _FinalSaveFails)
    if close_raises:  # run_scan raises after its "running" record (its final save failed too)
        def close(self):
            raise RuntimeError("client close failed")
        monkeypatch.setattr(DataverseClient, "close", close)

    summary = run_worker.process_run_message(msg, lock_wait_seconds=0)

    assert summary is not None
    record = RunRecords(tables.runs).get(queued["run_id"])
    if close_raises:
        assert summary.status == "failed"
        assert record["status"] == "failed"
        assert "client close failed" in record["message"]
    else:
        assert summary.status == "succeeded", summary.message
        assert record["status"] == "succeeded"
    assert active_run(tables) is None
    assert tables.locks.get("lock", "scan") is None


def _barrier_after_read(monkeypatch: pytest.MonkeyPatch, parties: int) -> None:
    """Let every worker read the record before any of them claims it (the race the claim is for)."""
    barrier = threading.Barrier(parties)
    real_read = RunRecords.read

    def read(self, run_id):
        stored = real_read(self, run_id)
        if stored is not None and stored.status == "queued":
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(10)
        return stored

    monkeypatch.setattr(RunRecords, "read", read)


@pytest.mark.parametrize("same_read", [True, False])
def test_duplicate_delivery_at_the_same_time_runs_once(world: RunWorld, monkeypatch: pytest.MonkeyPatch,
                                                       same_read: bool) -> None:
    tables = world.tables()
    queued = request_run(world.config(), tables, world.queue(), trigger="api", dry_run=False,
                         requested_by="alice")
    (msg,) = world.receive()
    scans: list[str] = []
    real_run_scan = worker_module.run_scan

    def counting_run_scan(*args, **kwargs):
        scans.append(kwargs["run_id"])
        return real_run_scan(*args, **kwargs)

    monkeypatch.setattr(worker_module, "run_scan", counting_run_scan)
    if same_read:
        _barrier_after_read(monkeypatch, 2)
    start = threading.Barrier(2)
    results: list[object] = []

    def deliver() -> None:
        start.wait(10)
        try:
            results.append(run_worker.process_run_message(msg, lock_wait_seconds=5))
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            results.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert len(results) == 2
    ran = [r for r in results if r is not None]
    assert len(ran) == 1, results
    assert ran[0].status == "succeeded", ran[0].message
    assert scans == [queued["run_id"]]  # the second delivery never started a scan
    record = RunRecords(tables.runs).get(queued["run_id"])
    assert record["status"] == "succeeded"
    assert "worker" not in record  # the claim was replaced by the run's own record
    assert active_run(tables) is None


def _leave_running(world: RunWorld, run_id: str, *, claim_expires: datetime) -> None:
    """A record as a worker that claimed it and then died (before its scan took the lock) leaves it."""
    records = RunRecords(world.tables().runs)
    stored = records.read(run_id)
    assert stored is not None
    records.save({**stored.record, "status": "running", "worker": "dead-worker",
                  "claimed_at": (claim_expires - timedelta(minutes=3)).isoformat(timespec="seconds"),
                  "claim_expires_at": claim_expires.isoformat(timespec="seconds")})


def test_running_record_with_a_live_claim_is_left_alone(world: RunWorld) -> None:
    tables = world.tables()
    queued = request_run(world.config(), tables, world.queue(), trigger="api", dry_run=False,
                         requested_by="alice")
    (msg,) = world.receive()
    _leave_running(world, queued["run_id"], claim_expires=datetime.now(UTC) + timedelta(minutes=2))

    assert run_worker.process_run_message(msg, lock_wait_seconds=0) is None
    record = RunRecords(tables.runs).get(queued["run_id"])
    assert (record["status"], record["worker"]) == ("running", "dead-worker")
    assert world.writes() == 0


def test_running_record_of_a_dead_attempt_is_run_again(world: RunWorld) -> None:
    tables = world.tables()
    queued = request_run(world.config(), tables, world.queue(), trigger="api", dry_run=False,
                         requested_by="alice")
    (msg,) = world.receive()
    _leave_running(world, queued["run_id"], claim_expires=datetime.now(UTC) - timedelta(seconds=1))

    summary = run_worker.process_run_message(msg, lock_wait_seconds=0)

    assert summary is not None
    assert summary.status == "succeeded", summary.message
    assert RunRecords(tables.runs).get(queued["run_id"])["status"] == "succeeded"
    assert active_run(tables) is None


def test_running_record_whose_scan_holds_the_lock_is_left_alone(world: RunWorld) -> None:
    tables = world.tables()
    queued = request_run(world.config(), tables, world.queue(), trigger="api", dry_run=False,
                         requested_by="alice")
    (msg,) = world.receive()
    _leave_running(world, queued["run_id"], claim_expires=datetime.now(UTC) - timedelta(seconds=1))
    lease = RunLock(tables.locks).acquire(queued["run_id"])  # its scan is working
    try:
        assert run_worker.process_run_message(msg, lock_wait_seconds=0) is None
    finally:
        lease.release()
    assert RunRecords(tables.runs).get(queued["run_id"])["status"] == "running"
