"""Run requests against Azurite: the queued record, the message on the wire, one active run."""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from azure.core.exceptions import AzureError
from azure.storage.queue import QueueClient

from functions.pipeline.requests import RunAlreadyActive, active_run, clear_pending, request_run
from functions.state.lock import RunLock
from functions.state.run_queue import RunMessage, RunQueue
from functions.state.runs import RunRecords, is_run_id

from .conftest import RunWorld


def _raw_messages(world: RunWorld) -> list[str]:
    world.queue().ensure()  # nothing sent yet: no queue yet either
    with world.raw_queue() as raw:
        return [m.content for m in raw.peek_messages(max_messages=32)]


def test_request_writes_a_queued_record_and_a_base64_message(world: RunWorld) -> None:
    tables = world.tables()
    record = request_run(world.config(), tables, world.queue(), trigger="api", dry_run=True,
                         requested_by="alice@example.com")

    assert is_run_id(record["run_id"])
    assert record["status"] == "queued"
    assert record["trigger"] == "api"
    assert record["dry_run"] is True
    assert record["requested_by"] == "alice@example.com"
    assert RunRecords(tables.runs).get(record["run_id"]) == record
    assert RunRecords(tables.runs).latest(5) == [record]
    # on the wire: base64 text of the JSON request (the host's default messageEncoding)
    (content,) = _raw_messages(world)
    assert json.loads(base64.b64decode(content, validate=True)) == {
        "run_id": record["run_id"], "trigger": "api", "dry_run": True, "requested_by": "alice@example.com",
    }
    assert active_run(tables) == record
    # a second request while the first is pending
    with pytest.raises(RunAlreadyActive) as exc:
        request_run(world.config(), tables, world.queue(), trigger="api", dry_run=None, requested_by="bob")
    assert (exc.value.run_id, exc.value.status) == (record["run_id"], "queued")
    assert len(_raw_messages(world)) == 1


def test_dry_run_none_takes_the_stored_settings(world: RunWorld) -> None:
    tables = world.tables()
    record = request_run(world.config(), tables, world.queue(), trigger="enable", dry_run=None,
                         requested_by="carol")
    assert record["dry_run"] is False  # SCAN_DRY_RUN default, nothing stored
    assert record["trigger"] == "enable"


def test_concurrent_requests_queue_exactly_one_run(world: RunWorld) -> None:
    config = world.config()
    n = 6
    barrier = threading.Barrier(n)
    results: list[object] = []
    lock = threading.Lock()

    def request(i: int) -> None:
        tables, queue = world.tables(), world.queue()  # own clients, as separate instances would have
        barrier.wait(10)
        try:
            outcome: object = request_run(config, tables, queue, trigger="api", dry_run=False,
                                          requested_by=f"user{i}")
        except RunAlreadyActive as exc:
            outcome = exc
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=request, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    queued = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, RunAlreadyActive)]
    assert len(queued) == 1, results
    assert len(refused) == n - 1, results
    assert all(r.run_id == queued[0]["run_id"] or r.run_id == "another request" for r in refused)
    assert len(_raw_messages(world)) == 1
    assert [r["run_id"] for r in RunRecords(world.tables().runs).latest(10)] == [queued[0]["run_id"]]


def test_a_running_scan_refuses_requests(world: RunWorld) -> None:
    tables = world.tables()
    lease = RunLock(tables.locks).acquire("hand-run")
    try:
        with pytest.raises(RunAlreadyActive) as exc:
            request_run(world.config(), tables, world.queue(), trigger="api", dry_run=False,
                        requested_by="alice")
        assert (exc.value.run_id, exc.value.status) == ("hand-run", "running")
        assert active_run(tables) == {"run_id": "hand-run", "status": "running"}
    finally:
        lease.release()
    assert active_run(tables) is None
    assert _raw_messages(world) == []


def test_an_expired_request_is_taken_over_and_cleared_only_by_its_owner(world: RunWorld) -> None:
    tables = world.tables()
    config = world.config()
    long_ago = datetime.now(UTC) - timedelta(seconds=config.scan.lock_ttl_seconds + 60)
    stale = request_run(config, tables, world.queue(), trigger="api", dry_run=False, requested_by="a",
                        clock=lambda: long_ago)
    assert active_run(tables) is None  # its marker expired: nothing is pending any more
    fresh = request_run(config, tables, world.queue(), trigger="api", dry_run=False, requested_by="b")
    assert active_run(tables)["run_id"] == fresh["run_id"]
    assert clear_pending(tables, stale["run_id"]) is False  # not the stale run's to remove
    assert active_run(tables)["run_id"] == fresh["run_id"]
    assert clear_pending(tables, fresh["run_id"]) is True
    assert active_run(tables) is None
    assert clear_pending(tables, fresh["run_id"]) is False


def test_a_queue_that_cannot_be_reached_leaves_nothing_pending(world: RunWorld) -> None:
    tables = world.tables()
    # Azurite's account on a closed port, no retries: the send fails at once
    broken = QueueClient.from_connection_string(
        world.connection_string.replace(f":{_queue_port(world)}/", ":9/"), world.queue_name, retry_total=0,
    )
    with pytest.raises(AzureError):  # the SDK's error for a refused connection
        request_run(world.config(), tables, RunQueue(broken), trigger="api", dry_run=False,
                    requested_by="alice")
    assert active_run(tables) is None
    (record,) = RunRecords(tables.runs).latest(5)
    assert record["status"] == "failed"
    assert "could not queue" in record["message"]
    # and the next request goes through
    assert request_run(world.config(), tables, world.queue(), trigger="api", dry_run=False,
                       requested_by="alice")["status"] == "queued"


def _queue_port(world: RunWorld) -> int:
    for part in world.connection_string.split(";"):
        if part.startswith("QueueEndpoint="):
            return int(part.split(":")[-1].split("/")[0])
    raise AssertionError("no QueueEndpoint in the connection string")


@pytest.mark.parametrize("body", [
    {"run_id": "20260115T020000Z-1d8a1aaa", "trigger": "api"},
    {"run_id": "20260115T020000Z-1d8a1aaa", "trigger": "enable", "dry_run": True, "requested_by": "x"},
])
def test_messages_round_trip(body: dict) -> None:
    message = RunMessage.parse(json.dumps(body).encode())
    assert json.loads(message.to_json()) == {"dry_run": None, "requested_by": None, **body}
    assert RunMessage.parse(message.to_json()) == message


def test_request_rejects_an_unusable_trigger(world: RunWorld) -> None:
    tables = world.tables()
    with pytest.raises(ValueError, match="trigger"):
        request_run(world.config(), tables, world.queue(), trigger="Drop Table", dry_run=False,
                    requested_by="x")
    assert active_run(tables) is None
