"""The queue worker and the timer with the stored settings: emulator over HTTP + Azurite."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import azure.functions as func
import pytest
from azure.functions.timer import TimerRequest

from functions.pipeline import run as run_module
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
    original = run_worker.run_scan

    def spying_run_scan(*args, **kwargs):
        hook = kwargs["hooks"].on_locked

        def on_locked(summary):
            hook(summary)
            seen.append(active_run(tables))  # during the run: the lock's run, no longer "queued"
        kwargs["hooks"].on_locked = on_locked
        return original(*args, **kwargs)

    monkeypatch.setattr(run_worker, "run_scan", spying_run_scan)
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
