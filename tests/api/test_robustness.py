"""The settings API when things go wrong around it, over real HTTP: a SAS token in PROFILE_FILE, a
stored settings document that no longer validates, a run queue or audit table that fails after the
state changed, provisioning refused by Dataverse, state storage unreachable, a failed run, and an
enable that takes too long or meets another one. Failing dependencies are real (a loopback endpoint
that refuses, a closed port, a dropped table, an emulator fault); nothing under test is mocked."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from azure.data.tables import TableServiceClient

from dataverse_emulator import Fault
from functions.settings.model import SAS_REASON
from localdev.azurite import Azurite
from tests.api.conftest import SECRET_SAS_SIG, Api, sas_profile_url

PROBLEM = "application/problem+json"


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == status
    return body


def fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body["errors"]]


# --- B1: a SAS token in PROFILE_FILE --------------------------------------------------------------


def test_sas_token_is_never_returned_stored_or_audited(api_factory: Any, azurite: Azurite) -> None:
    sas_url, base = sas_profile_url(azurite)
    api = api_factory(env={"PROFILE_FILE": sas_url})

    settings, etag = api.settings()
    assert settings["profile_source"]["file"] == base  # shown without its query

    # a query string or fragment in the setting is refused, naming the field, never echoing the value
    for bad in (f"{base}?sv=2025-01-05&sig={SECRET_SAS_SIG}", f"{base}#{SECRET_SAS_SIG}"):
        body = problem(api.patch("/api/settings", {"profile_source": {"file": bad}}, if_match=etag), 400)
        assert fields(body) == ["profile_source.file"], body
    refused = api.patch("/api/settings", {"profile_source": {"file": f"{base}?sig=x"}}, if_match=etag)
    body = problem(refused, 400)
    assert body["errors"] == [{"field": "profile_source.file", "reason": SAS_REASON}]

    # an unrelated change is saved (and audited) with the file as shown
    changed = api.patch("/api/settings", {"dry_run": True}, if_match=etag)
    assert changed.status_code == 200, changed.text
    assert changed.json()["profile_source"]["file"] == base

    # enabling checks the profile source with the token re-attached (same blob); the blob does not
    # exist, so the check fails - and the 422 says so without the token
    enabled = api.change_settings({"enabled": True})
    refusal = problem(enabled, 422)
    failed = [c for c in refusal["checks"] if c["status"] == "failed"]
    assert [c["name"] for c in failed] == ["profile_source"], refusal["checks"]
    assert base.split("/")[-2] in json.dumps(refusal)  # it is about this blob

    assert api.get("/api/status").status_code == 200
    audit = api.get("/api/audit").json()["entries"]
    assert [e["action"] for e in audit] == ["settings.update"]
    assert api.get("/api/openapi.json").status_code == 200
    assert api.leaked() == [], api.leaked()


# --- S1: stored settings that no longer validate -----------------------------------------------------


def _write_stored_document(api: Api, azurite: Azurite, document: dict[str, Any], version: int) -> None:
    service = TableServiceClient.from_connection_string(azurite.connection_string)
    table = service.get_table_client(f"{api.env['STATE_TABLE_PREFIX']}settings")
    table.upsert_entity({"PartitionKey": "settings", "RowKey": "current", "document": json.dumps(document),
                         "version": version, "updated_at": "2026-01-01T00:00:00+00:00",
                         "updated_by": "an older version", "updated_by_id": "x"})


def test_invalid_stored_document_is_503_until_repaired(api: Api, azurite: Azurite) -> None:
    defaults, _ = api.settings()  # also creates the tables
    broken = {**defaults, "enabled": True, "lookup_budget": 77, "refresh_days": 987654, "colour": "teal"}
    _write_stored_document(api, azurite, broken, version=3)

    for response in (api.get("/api/settings"), api.get("/api/status"),
                     api.patch("/api/settings", {"dry_run": True}, if_match='"v3-00000000"'),
                     api.post("/api/runs")):
        body = problem(response, 503)
        assert sorted(fields(body)) == ["colour", "refresh_days"], body
        assert "If-Match: *" in body["detail"]
        assert "987654" not in response.text
        assert "teal" not in response.text

    # If-Match: * repairs: the still-valid members of the stored document (enabled, lookup_budget) are
    # kept, the invalid ones fall back to the defaults, the patch applies on top, and the result is saved
    # over the document
    repaired = api.patch("/api/settings", {"dry_run": True}, if_match="*")
    assert repaired.status_code == 200, repaired.text
    assert repaired.json() == {**defaults, "enabled": True, "lookup_budget": 77, "dry_run": True}
    assert repaired.headers["ETag"].startswith('"v4-'), repaired.headers["ETag"]
    assert api.settings() == (repaired.json(), repaired.headers["ETag"])
    assert api.get("/api/status").json()["settings"]["version"] == 4
    # audited as a repair: the invalid fields by name (never their values) and the changed paths
    entry = api.get("/api/audit?limit=1").json()["entries"][0]
    assert entry["action"] == "settings.repair", entry
    assert entry["invalid_fields"] == ["colour", "refresh_days"], entry
    assert entry["changes"] == {"dry_run": {"old": False, "new": True}}, entry
    assert "987654" not in json.dumps(entry)
    assert "teal" not in json.dumps(entry)

    # a repair with an empty patch still saves (the defaults replace what nobody could read)
    _write_stored_document(api, azurite, {"enabled": "yes"}, version=7)
    problem(api.get("/api/settings"), 503)
    again = api.patch("/api/settings", {}, if_match="*")
    assert again.status_code == 200, again.text
    assert again.json() == defaults
    assert again.headers["ETag"].startswith('"v8-')
    assert api.get("/api/audit?limit=1").json()["entries"][0]["invalid_fields"] == ["enabled"]


def test_stored_version_that_is_not_a_number_is_an_invalid_document(api: Api, azurite: Azurite) -> None:
    defaults, default_etag = api.settings()
    service = TableServiceClient.from_connection_string(azurite.connection_string)
    table = service.get_table_client(f"{api.env['STATE_TABLE_PREFIX']}settings")
    table.upsert_entity({"PartitionKey": "settings", "RowKey": "current", "document": json.dumps(defaults),
                         "version": "abc"})
    body = problem(api.get("/api/settings"), 503)  # never the defaults' "v0-..." ETag
    assert fields(body) == ["version"], body
    stale = api.patch("/api/settings", {"dry_run": True}, if_match=default_etag)
    problem(stale, 503)
    repaired = api.patch("/api/settings", {"dry_run": True}, if_match="*")
    assert repaired.status_code == 200, repaired.text
    assert repaired.headers["ETag"].startswith('"v1-'), repaired.headers["ETag"]


def test_repair_that_enables_goes_through_the_enable_flow(api: Api, azurite: Azurite) -> None:
    defaults, _ = api.settings()
    _write_stored_document(api, azurite, {**defaults, "refresh_days": -5}, version=2)
    enabled = api.patch("/api/settings", {"enabled": True}, if_match="*")
    assert enabled.status_code == 202, enabled.text  # preflight, provisioning, first run queued
    body = enabled.json()
    assert body["settings"] == {**defaults, "enabled": True}
    assert body["run"]["run_id"]
    entry = api.get("/api/audit?limit=1").json()["entries"][0]
    assert entry["action"] == "settings.repair", entry
    assert entry["invalid_fields"] == ["refresh_days"]
    assert entry["changes"]["enabled"] == {"old": False, "new": True}
    api.wait_for_run(body["run"]["run_id"])


# --- S2: state changed, then a dependency failed -------------------------------------------------------


class _ReadOnlyQueues(BaseHTTPRequestHandler):
    """A queue endpoint for a caller that may list queues but not write them (a reader role): listing
    answers (so the preflight storage check passes), creating a queue or sending a message is 403."""

    def _refuse(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.command == "GET" and "comp=list" in self.path:
            listing = (b'<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Queues />'
                       b"<NextMarker /></EnumerationResults>")
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(listing)))
            self.end_headers()
            self.wfile.write(listing)
            return
        body = (b'<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationPermissionMismatch</Code>'
                b"<Message>This request is not authorized to perform this operation using this "
                b"permission.</Message></Error>")
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("x-ms-error-code", "AuthorizationPermissionMismatch")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _refuse

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def refusing_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ReadOnlyQueues)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/devstoreaccount1"
    server.shutdown()
    server.server_close()


def test_enable_saved_but_first_run_not_queued_is_200_with_a_warning(
        api_factory: Any, azurite: Azurite, refusing_endpoint: str) -> None:
    parts = [p for p in azurite.connection_string.split(";") if p and not p.startswith("QueueEndpoint=")]
    connection = ";".join([*parts, f"QueueEndpoint={refusing_endpoint}"])
    api = api_factory(env={"STATE_STORAGE_CONNECTION": connection})

    before, etag = api.settings()
    response = api.patch("/api/settings", {"enabled": True}, if_match=etag)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"settings", "run", "warnings"}
    assert body["settings"] == {**before, "enabled": True}
    assert body["run"] is None
    assert len(body["warnings"]) == 1
    assert "could not be queued" in body["warnings"][0]
    assert "POST /api/runs" in body["warnings"][0]
    assert "Location" not in response.headers
    # the settings were saved: that is what the 200 and its ETag say
    assert api.settings() == (body["settings"], response.headers["ETag"])
    actions = [e["action"] for e in api.get("/api/audit").json()["entries"]]
    assert actions == ["settings.enable"]
    # the retry it suggests meets the same broken queue: 503 (state storage), nothing left pending
    problem(api.post("/api/runs"), 503)
    assert api.get("/api/status").json()["active_run"] is None


def test_run_request_audit_is_best_effort(api_factory: Any, azurite: Azurite) -> None:
    api = api_factory(env={"SCAN_ENABLED": "true"})
    first = api.post("/api/runs")
    assert first.status_code == 202, first.text
    assert api.wait_for_run(first.json()["run_id"])["status"] == "succeeded"
    assert [e["action"] for e in api.get("/api/audit").json()["entries"]] == ["run.request"]

    # the audit table disappears (dropped by hand): the next run is still queued, not a 503
    service = TableServiceClient.from_connection_string(azurite.connection_string)
    service.delete_table(f"{api.env['STATE_TABLE_PREFIX']}audit")
    second = api.post("/api/runs")
    assert second.status_code == 202, second.text
    assert second.headers["Location"] == f"/api/runs/{second.json()['run_id']}"
    assert api.wait_for_run(second.json()["run_id"])["status"] == "succeeded"


# --- S8: provisioning refused, storage unreachable, a failed run -------------------------------------


def test_provisioning_failure_is_422_and_nothing_is_saved(api: Api) -> None:
    # The app user lacks a customization privilege, and its privileges cannot be probed beforehand
    # (RetrieveUserPrivileges unavailable: the preflight check only warns), so provisioning meets the 403.
    api.emulator.faults.add(Fault("server_error", path="RetrieveUserPrivileges", status=404, times=None))
    api.emulator.revoke_privilege("prvCreateAttribute")
    before, etag = api.settings()
    body = problem(api.patch("/api/settings", {"enabled": True}, if_match=etag), 422)
    assert fields(body) == ["enabled"], body
    assert body["errors"][0]["reason"].startswith("provisioning failed"), body
    assert "prvCreateAttribute" in body["errors"][0]["reason"], body
    assert body["detail"] == "provisioning the column and views failed; enabled stays false"
    assert api.settings() == (before, etag)
    assert api.get("/api/runs").json() == {"runs": []}
    assert api.get("/api/audit").json() == {"entries": []}


def test_state_storage_unreachable_is_503(api_factory: Any) -> None:
    closed = ("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Zm9vYmFy;"
              "TableEndpoint=http://127.0.0.1:9/devstoreaccount1;"
              "QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1")
    api = api_factory(env={"STATE_STORAGE_CONNECTION": closed})
    for response in (api.get("/api/settings"), api.get("/api/status"), api.get("/api/runs"),
                     api.patch("/api/settings", {"dry_run": True}, if_match="*"), api.get("/api/audit")):
        body = problem(response, 503)
        assert "STATE_STORAGE_CONNECTION" in body["detail"]
        assert body["request_id"] in body["detail"]
        assert "Zm9vYmFy" not in response.text
    assert api.get("/api/health", key=False).status_code == 200


def test_status_names_the_last_failed_run(api_factory: Any) -> None:
    api = api_factory(env={"SCAN_ENABLED": "true"})
    assert api.get("/api/status").json()["last_error"] is None
    api.emulator.stop()  # the organisation is unreachable now
    queued = api.post("/api/runs")
    assert queued.status_code == 202, queued.text
    run_id = queued.json()["run_id"]
    run = api.wait_for_run(run_id)
    assert run["status"] == "failed", run
    status = api.get("/api/status").json()
    last_error = status["last_error"]
    assert set(last_error) == {"run_id", "status", "at", "message"}, last_error
    assert (last_error["run_id"], last_error["status"]) == (run_id, "failed")
    assert last_error["at"] == (run.get("finished_at") or run.get("started_at"))
    assert last_error["message"], last_error
    assert status["last_runs"][0]["run_id"] == run_id


# --- S3: the enable deadline and a second enable meanwhile --------------------------------------------


def test_enable_past_its_deadline_is_503_and_a_second_enable_is_409(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every Dataverse request takes a second: preflight and provisioning cannot finish in 1.5 s.
    monkeypatch.setattr("functions.pipeline.enable.ENABLE_DEADLINE_SECONDS", 1.5)
    before, etag = api.settings()
    api.emulator.faults.add(Fault("slow", delay=1.0, times=None))
    started = time.monotonic()
    slow = problem(api.patch("/api/settings", {"enabled": True}, if_match=etag), 503)
    assert time.monotonic() - started < 10
    assert slow["detail"] == "enabling took too long; nothing was saved; retry"
    assert fields(slow) == ["enabled"]
    assert api.settings() == (before, etag)

    # the abandoned preflight is still running: a second enable does not wait for it
    started = time.monotonic()
    busy = problem(api.patch("/api/settings", {"enabled": True}, if_match=etag), 409)
    assert time.monotonic() - started < 5
    assert busy["errors"] == [{"field": "enabled", "reason": "an enable is in progress"}]
    assert api.settings() == (before, etag)

    # once it is done, enabling works (with the usual deadline)
    api.emulator.faults.clear()
    monkeypatch.setattr("functions.pipeline.enable.ENABLE_DEADLINE_SECONDS", 120.0)
    deadline = time.monotonic() + 90
    while True:
        response = api.patch("/api/settings", {"enabled": True}, if_match=etag)
        if response.status_code != 409 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert response.status_code == 202, response.text
    assert api.wait_for_run(response.json()["run"]["run_id"])["status"] == "succeeded"


class _SlowToAnswer(BaseHTTPRequestHandler):
    """A file host that takes 4 s to say "not found"."""

    def do_GET(self) -> None:
        time.sleep(4)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET

    def log_message(self, *args: Any) -> None:
        pass


def test_profile_source_check_while_enabled_has_a_deadline(
        api_factory: Any, azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.storage.blob import BlobServiceClient

    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowToAnswer)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        slow_file = f"http://127.0.0.1:{server.server_address[1]}/files/profiles.jsonl"
        api = api_factory(env={"PROFILE_FILE": slow_file})  # the app setting names the slow host
        container = BlobServiceClient.from_connection_string(azurite.connection_string).create_container(
            f"profiles-{uuid.uuid4().hex[:8]}")
        container.upload_blob("p.jsonl", api.profile_path.read_bytes())
        enabled = api.change_settings({"enabled": True,
                                       "profile_source": {"file": f"blob://{container.container_name}/p.jsonl"}})
        assert enabled.status_code == 202, enabled.text
        api.wait_for_run(enabled.json()["run"]["run_id"])
        before, etag = api.settings()

        monkeypatch.setattr("functions.pipeline.enable.ENABLE_DEADLINE_SECONDS", 1.0)
        started = time.monotonic()
        response = api.patch("/api/settings", {"profile_source": {"file": slow_file}}, if_match=etag)
        slow = problem(response, 503)
        assert time.monotonic() - started < 3.5
        assert fields(slow) == ["profile_source"]
        assert api.settings() == (before, etag)
        container.delete_container()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
