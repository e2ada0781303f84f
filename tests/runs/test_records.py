"""Run records' conditional forms against Azurite: what the worker's claim relies on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.state.runs import RUN_STATUSES, RunRecords, new_run_id
from functions.state.table_store import EntityExistsError, StaleEntityError

from .conftest import RunWorld


def _record(run_id: str, status: str) -> dict:
    return {"run_id": run_id, "status": status, "trigger": "api", "dry_run": False,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds")}


def test_conditional_save_create_and_read(world: RunWorld) -> None:
    records = RunRecords(world.tables().runs)
    run_id = new_run_id(datetime.now(UTC))
    assert records.read(run_id) is None
    etag = records.create(_record(run_id, "queued"))
    with pytest.raises(EntityExistsError):
        records.create(_record(run_id, "queued"))
    stored = records.read(run_id)
    assert stored is not None
    assert (stored.status, stored.etag) == ("queued", etag)
    # two claims from the same read: the first wins, the second finds the record changed
    records.save({**stored.record, "status": "running", "worker": "a"}, etag=stored.etag)
    with pytest.raises(StaleEntityError):
        records.save({**stored.record, "status": "running", "worker": "b"}, etag=stored.etag)
    assert records.get(run_id)["worker"] == "a"
    assert records.read("not-a-run-id") is None


def test_unknown_status_is_refused(world: RunWorld) -> None:
    records = RunRecords(world.tables().runs)
    run_id = new_run_id(datetime.now(UTC))
    assert "finished" not in RUN_STATUSES
    with pytest.raises(ValueError, match="unknown status"):
        records.save(_record(run_id, "finished"))
    assert records.get(run_id) is None
