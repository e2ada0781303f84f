"""Stored records the API did not write the way it expects (issue 5, S5): a run record with a float
counter, one with a member of the wrong type, one that is not JSON at all, an audit entry whose changes
are not JSON. Each is written straight into Azurite; the lists leave the unreadable ones out (and say
how many), a single run is shown as stored, and nothing is a 500."""

from __future__ import annotations

import json
from typing import Any

from azure.data.tables import TableServiceClient

from functions.state.runs import run_id_time, run_row_key
from localdev.azurite import Azurite
from tests.api.conftest import Api

GOOD = "20260101T020000Z-0000aaaa"
FLOAT = "20260102T020000Z-0000bbbb"
WRONG = "20260103T020000Z-0000cccc"
NOT_JSON = "20260104T020000Z-0000dddd"


def _table(api: Api, azurite: Azurite, name: str) -> Any:
    service = TableServiceClient.from_connection_string(azurite.connection_string)
    return service.get_table_client(f"{api.env['STATE_TABLE_PREFIX']}{name}")


def _put_run(api: Api, azurite: Azurite, run_id: str, record: Any) -> None:
    started = f"{run_id[:4]}-{run_id[4:6]}-{run_id[6:8]}T02:00:00+00:00"
    _table(api, azurite, "runs").upsert_entity({
        "PartitionKey": "run", "RowKey": run_row_key(run_id_time(run_id), run_id), "run_id": run_id,
        "status": "succeeded", "started_at": started, "finished_at": "", "dry_run": False, "trigger": "timer",
        "record": record if isinstance(record, str) else json.dumps(record),
    })


def _base(run_id: str) -> dict[str, Any]:
    return {"run_id": run_id, "status": "succeeded", "trigger": "timer", "dry_run": False,
            "started_at": f"{run_id[:4]}-{run_id[4:6]}-{run_id[6:8]}T02:00:00+00:00"}


def test_odd_run_records_do_not_break_runs_or_status(api: Api, azurite: Azurite) -> None:
    assert api.get("/api/status").status_code == 200  # creates the tables
    _put_run(api, azurite, GOOD, {**_base(GOOD), "counters": {"in_scope": 3}})
    _put_run(api, azurite, FLOAT, {**_base(FLOAT), "counters": {"in_scope": 2.5, "flagged": 1}})
    _put_run(api, azurite, WRONG, {**_base(WRONG), "counters": {"in_scope": "many"}, "dry_run": "maybe"})
    _put_run(api, azurite, NOT_JSON, "{not json")

    runs = api.get("/api/runs")
    assert runs.status_code == 200, runs.text
    body = runs.json()
    assert [r["run_id"] for r in body["runs"]] == [FLOAT, GOOD]  # newest first, unreadable ones left out
    assert body["runs"][0]["counters"] == {"in_scope": 2.5, "flagged": 1}
    assert body["skipped"] == 2

    status = api.get("/api/status")
    assert status.status_code == 200, status.text
    assert [r["run_id"] for r in status.json()["last_runs"]] == [FLOAT, GOOD]
    assert status.json()["runs_skipped"] == 2

    assert api.get(f"/api/runs/{GOOD}").json()["counters"] == {"in_scope": 3}
    assert api.get(f"/api/runs/{FLOAT}").json()["counters"]["in_scope"] == 2.5
    wrong = api.get(f"/api/runs/{WRONG}")
    assert wrong.status_code == 200, wrong.text
    assert wrong.json()["counters"] == {"in_scope": "many"}  # shown as stored
    broken = api.get(f"/api/runs/{NOT_JSON}")
    assert broken.status_code == 200, broken.text
    assert broken.json() == {"run_id": NOT_JSON, "status": "unreadable",
                             "message": "the stored run record is not valid JSON"}


def test_lists_without_odd_records_have_no_skipped_member(api: Api) -> None:
    assert "skipped" not in api.get("/api/runs").json()
    assert "runs_skipped" not in api.get("/api/status").json()
    assert "skipped" not in api.get("/api/audit").json()


def test_odd_audit_entries_do_not_break_the_audit_log(api: Api, azurite: Azurite) -> None:
    changed = api.change_settings({"dry_run": True})
    assert changed.status_code == 200, changed.text
    table = _table(api, azurite, "audit")
    table.upsert_entity({"PartitionKey": "audit", "RowKey": "0000000000001_notjson", "at": "x",
                         "who_id": "w", "who_name": "n", "auth": "key", "action": "settings.update",
                         "changes": "{not json"})
    table.upsert_entity({"PartitionKey": "audit", "RowKey": "0000000000002_list", "action": "settings.update",
                         "changes": "[1, 2]"})
    table.upsert_entity({"PartitionKey": "audit", "RowKey": "0000000000003_values",
                         "action": "settings.update", "changes": json.dumps({"dry_run": 5})})
    audit = api.get("/api/audit")
    assert audit.status_code == 200, audit.text
    entries = audit.json()["entries"]
    by_id = {e["id"]: e for e in entries}
    assert by_id["0000000000001_notjson"]["changes"] == {}
    assert by_id["0000000000001_notjson"]["unreadable"] == ["changes"]
    assert by_id["0000000000002_list"]["unreadable"] == ["changes"]
    assert any(e["action"] == "settings.update" and e["changes"].get("dry_run") == {"old": False, "new": True}
               for e in entries)
    assert len(entries) + audit.json().get("skipped", 0) == 4
