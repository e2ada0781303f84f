"""run_preflight against the emulator (real HTTP), Azurite and the PDL replay server, one failure at a
time."""

from __future__ import annotations

import gzip
import json
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from dataverse_emulator import Emulator, Fault
from functions.config import AppConfig
from functions.dataverse import build_client
from functions.dataverse.provisioning import provision
from functions.preflight import CHECK_NAMES, Check, CheckStatus, PreflightReport, run_preflight
from localdev.azurite import Azurite
from localdev.pdl_replay import SAMPLE_RECORD, PdlReplayServer

from .conftest import ORG, closed_port, config_of, env_for

DATAVERSE_CHECKS = ("privileges", "change_tracking", "languages", "bulk_update")


def only(config: AppConfig, name: str, **kwargs: Any) -> Check:
    """Run one check (and its prerequisites) and return it."""
    check = run_preflight(config, only=[name], **kwargs).get(name)
    assert check is not None
    return check


def statuses(report: PreflightReport) -> dict[str, str]:
    return {check.name: check.status.value for check in report.checks}


def test_healthy_setup_passes_every_check_in_order(env: dict[str, str]) -> None:
    report = run_preflight(config_of(env))
    assert [c.name for c in report.checks] == list(CHECK_NAMES)
    assert set(statuses(report).values()) == {"ok"}, report.render()
    assert report.ok
    assert report.get("dataverse").data["UserId"]  # type: ignore[union-attr]
    assert report.get("languages").data == {"languages": [1031, 1033]}  # type: ignore[union-attr]
    body = report.to_dict()
    assert body["ok"] is True
    assert [c["name"] for c in body["checks"]] == list(CHECK_NAMES)
    assert "All checks passed" in report.render()


# ------------------------------------------------------------------------------- privileges


def test_missing_read_privilege_fails_with_the_role_editor_fix(env: dict[str, str], emu: Emulator) -> None:
    emu.revoke_privilege("prvReadContact")
    report = run_preflight(config_of(env))
    check = report.get("privileges")
    assert check is not None
    assert check.status is CheckStatus.FAILED
    assert "prvReadContact" in check.detail
    assert "reads every contact" in check.detail
    assert "Core Records tab → Contact → Read: Organization" in check.fix
    assert "Security roles" in check.fix
    missing = {item["name"]: item for item in check.data["missing"]}  # type: ignore[index]
    assert missing["prvReadContact"]["required"] is True
    # The other Dataverse checks do not depend on privileges: they still run.
    assert statuses(report)["change_tracking"] == "ok"
    assert not report.ok


def test_missing_privilege_revoked_through_the_control_endpoint(env: dict[str, str], emu: Emulator) -> None:
    response = requests.post(f"{emu.url}/_emulator/privileges/revoke",
                             json={"names": ["prvReadOpportunity", "prvWriteContact"]}, timeout=10)
    assert response.status_code == 204
    check = only(config_of(env), "privileges")
    assert check is not None
    assert check.status is CheckStatus.FAILED
    assert {i["name"] for i in check.data["missing"]} == {"prvReadOpportunity", "prvWriteContact"}  # type: ignore[index]
    # The emulator enforces it too, with the documented error.
    denied = requests.get(f"{emu.api_url}opportunities?$select=name", headers={"Authorization": "Bearer t"},
                          timeout=10)
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "0x80040220"
    assert "prvReadOpportunity" in denied.json()["error"]["message"]


def test_user_level_depth_is_not_enough(env: dict[str, str], emu: Emulator) -> None:
    emu.grant_privilege("prvReadAccount", "Basic")
    check = only(config_of(env), "privileges")
    assert check is not None
    assert check.status is CheckStatus.FAILED
    assert "prvReadAccount (held at Basic depth only" in check.detail
    assert "Account → Read: Organization" in check.fix


def test_write_privilege_is_a_warning_in_dry_run(env: dict[str, str], emu: Emulator) -> None:
    emu.revoke_privilege("prvWriteContact")
    assert only(config_of(env), "privileges").status is CheckStatus.FAILED
    check = only(config_of(env, SCAN_DRY_RUN="true"), "privileges")
    assert check is not None
    assert check.status is CheckStatus.WARNING
    assert "not needed now: prvWriteContact" in check.detail


def test_team_privilege_matters_only_with_sync_team(env: dict[str, str], emu: Emulator) -> None:
    emu.revoke_privilege("prvReadTeam")
    check = only(config_of(env), "privileges")
    assert check is not None
    assert check.status is CheckStatus.WARNING
    check = only(config_of(env, SYNC_TEAM="Sales"), "privileges")
    assert check is not None
    assert check.status is CheckStatus.FAILED
    assert "prvReadTeam" in check.detail


def test_customization_privileges_fail_only_while_provisioning_has_work(
    env: dict[str, str], emu: Emulator
) -> None:
    emu.revoke_privilege("prvCreateQuery", "prvCreateAttribute")
    check = only(config_of(env), "privileges")
    assert check is not None
    assert check.status is CheckStatus.FAILED
    assert "provisioning would create or change" in check.detail
    assert "View → Create" in check.fix
    assert "Field → Create" in check.fix
    # An admin provisions once (with full rights); afterwards the app needs no create privileges.
    emu.grant_privilege("prvCreateQuery")
    emu.grant_privilege("prvCreateAttribute")
    config = config_of(env)
    with build_client(config.dataverse) as client:
        provision(client, config.dataverse)
    emu.revoke_privilege("prvCreateQuery", "prvCreateAttribute")
    check = only(config, "privileges")
    assert check is not None
    assert check.status is CheckStatus.WARNING
    assert "provisioning is complete" in check.detail


def test_user_that_cannot_read_its_privileges(env: dict[str, str], emu: Emulator) -> None:
    emu.revoke_privilege("prvReadUser")
    check = only(config_of(env), "privileges")
    assert check is not None
    assert check.status is CheckStatus.FAILED
    assert "may not read its own privileges" in check.detail
    assert "403" in check.detail
    assert "Business Management tab → User → Read: Organization" in check.fix


def test_retrieve_user_privileges_wire_format(emu: Emulator) -> None:
    url = f"{emu.api_url}systemusers({emu.user_id})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()"
    body = requests.get(url, headers={"Authorization": "Bearer t"}, timeout=10).json()
    assert body["@odata.context"].endswith("$metadata#Microsoft.Dynamics.CRM.RetrieveUserPrivilegesResponse")
    item = next(p for p in body["RolePrivileges"] if p["PrivilegeName"] == "prvReadContact")
    assert item["Depth"] == "Global"
    assert item["BusinessUnitId"]
    assert item["PrivilegeId"]
    assert emu.counters.requests["function"] == 1


def test_emulator_privileges_option_and_snapshot(emulator_factory: Callable[..., Emulator]) -> None:
    emulator = emulator_factory(None, privileges={"prvReadContact": "Local", "prvReadUser": 3})
    assert emulator.privileges == {"prvReadContact": "Local", "prvReadUser": "Global"}
    listed = requests.get(f"{emulator.url}/_emulator/privileges", timeout=10).json()
    assert listed == emulator.privileges
    headers = {"Authorization": "Bearer t"}
    accounts = requests.get(f"{emulator.api_url}accounts?$select=name", headers=headers, timeout=10)
    assert accounts.status_code == 403
    assert requests.get(f"{emulator.api_url}contacts?$select=fullname", headers=headers,
                        timeout=10).status_code == 200


# ------------------------------------------------------------------------------- tables, languages, bulk


def test_change_tracking_off(env: dict[str, str], emu: Emulator) -> None:
    emu.set_change_tracking("account", False)
    response = requests.post(f"{emu.url}/_emulator/change-tracking",
                             json={"table": "connection", "enabled": False}, timeout=10)
    assert response.status_code == 204
    check = only(config_of(env), "change_tracking")
    assert check is not None
    assert check.status is CheckStatus.FAILED
    assert check.data == {"off": ["account", "connection"]}
    assert "Track changes" in check.fix
    assert "account, connection" in check.fix
    emu.set_change_tracking("account", True)
    emu.set_change_tracking("connection", True)
    assert only(config_of(env), "change_tracking").status is CheckStatus.OK


def test_identity_columns_must_exist_hold_text_and_be_readable(env: dict[str, str]) -> None:
    check = only(config_of(env), "identity_columns")
    assert (check.status, check.data) == (CheckStatus.OK, {"columns": ["emailaddress2", "emailaddress3"]})
    bad = config_of({**env, "CONTACT_PROFILE_URL_COLUMNS": "new_linkedinurl,statecode",
                     "CONTACT_EMAIL_COLUMNS": "emailaddress2"})
    check = only(bad, "identity_columns")
    assert check.status is CheckStatus.FAILED
    assert check.data == {"problems": [
        "new_linkedinurl (profile URL): no such column on contact",
        "statecode (profile URL): is a State column, not text",
    ]}
    assert "Logical name" in check.fix
    assert "CONTACT_PROFILE_URL_COLUMNS" in check.fix
    # once the column exists it passes, and it is read with a real $select
    with build_client(bad.dataverse) as client:
        client.create("EntityDefinitions(LogicalName='contact')/Attributes", {
            "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
            "SchemaName": "new_LinkedInUrl", "MaxLength": 200})
    good = config_of({**env, "CONTACT_PROFILE_URL_COLUMNS": "new_linkedinurl",
                      "CONTACT_EMAIL_COLUMNS": "none"})
    check = only(good, "identity_columns")
    assert (check.status, check.data) == (CheckStatus.OK, {"columns": ["new_linkedinurl"]})


def test_german_not_provisioned_is_a_warning(
    emulator_factory: Callable[..., Emulator], azurite: Azurite, profile_file: Path
) -> None:
    emulator = emulator_factory(ORG, provisioned_languages=(1033,))
    check = only(config_of(env_for(emulator, azurite, profile_file)), "languages")
    assert check is not None
    assert check.status is CheckStatus.WARNING
    assert "German (1031)" in check.detail
    assert "Languages" in check.fix


def test_no_update_multiple_is_a_warning(
    emulator_factory: Callable[..., Emulator], azurite: Azurite, profile_file: Path
) -> None:
    emulator = emulator_factory(ORG, bulk_tables=frozenset())
    report = run_preflight(config_of(env_for(emulator, azurite, profile_file)))
    assert statuses(report)["bulk_update"] == "warning"
    assert "$batch" in report.get("bulk_update").detail  # type: ignore[union-attr]
    assert report.ok  # warnings never block


# ------------------------------------------------------------------------------- Dataverse reachability


def test_wrong_url_fails_fast_and_skips_dependent_checks(env: dict[str, str]) -> None:
    started = time.monotonic()
    report = run_preflight(config_of(env, DATAVERSE_URL=f"http://127.0.0.1:{closed_port()}"))
    assert time.monotonic() - started < 15
    check = report.get("dataverse")
    assert check is not None
    assert check.status is CheckStatus.FAILED
    assert "cannot connect" in check.detail
    assert "DATAVERSE_URL" in check.fix
    assert {statuses(report)[name] for name in DATAVERSE_CHECKS} == {"skipped"}
    assert statuses(report)["storage"] == "ok"
    assert statuses(report)["profile_source"] == "ok"
    assert "not run: dataverse did not pass" in report.get("privileges").detail  # type: ignore[union-attr]


def test_rejected_token_points_at_the_application_user(env: dict[str, str], emu: Emulator) -> None:
    emu.faults.add(Fault("unauthorized", times=None))
    report = run_preflight(config_of(env))
    check = report.get("dataverse")
    assert check is not None
    assert check.status is CheckStatus.FAILED
    assert "401" in check.detail
    assert "Application users" in check.fix
    assert "New app user" in check.fix
    assert {statuses(report)[name] for name in DATAVERSE_CHECKS} == {"skipped"}


def test_server_errors_are_reported_not_raised(env: dict[str, str], emu: Emulator) -> None:
    emu.faults.add(Fault("server_error", status=500, path="WhoAmI", times=None))
    check = only(config_of(env), "dataverse")
    assert check is not None
    assert check.status is CheckStatus.FAILED
    assert "HTTP 500" in check.detail


class NotDataverse:
    """A loopback web server that answers every request with a 404 HTML page: something is there,
    but it is no Dataverse Web API (a wrong host, a proxy, a web site)."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = b"<html><body><h1>404 Not Found</h1></body></html>"
                self.send_response(404)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _assert_not_a_web_api(report: PreflightReport, url: str) -> None:
    check = report.get("dataverse")
    assert check is not None
    assert check.status is CheckStatus.FAILED
    assert f"{url} does not answer like a Dataverse Web API (HTTP 404" in check.detail
    assert "Set DATAVERSE_URL to the environment URL" in check.fix
    assert {statuses(report)[name] for name in DATAVERSE_CHECKS} == {"skipped"}


def test_wrong_url_that_answers_but_is_no_web_api(env: dict[str, str]) -> None:
    server = NotDataverse()
    try:
        report = run_preflight(config_of(env, DATAVERSE_URL=server.url))
    finally:
        server.close()
    _assert_not_a_web_api(report, server.url)
    assert "404 Not Found" in report.get("dataverse").detail  # type: ignore[union-attr]


def test_wrong_url_pointing_at_a_storage_endpoint(env: dict[str, str], azurite: Azurite) -> None:
    # The blob service's host (DATAVERSE_URL must be an origin): storage answers with its own XML error.
    blob = next(part.split("=", 1)[1] for part in azurite.connection_string.split(";")
                if part.startswith("BlobEndpoint="))
    url = blob.rstrip("/").rsplit("/", 1)[0]
    report = run_preflight(config_of(env, DATAVERSE_URL=url))
    _assert_not_a_web_api(report, url)
    assert "ResourceNotFound" in report.get("dataverse").detail  # type: ignore[union-attr]


def test_whoami_forbidden_points_at_the_application_user(env: dict[str, str], emu: Emulator) -> None:
    emu.faults.add(Fault("forbidden", path="^WhoAmI", times=None))
    report = run_preflight(config_of(env))
    check = report.get("dataverse")
    assert check is not None
    assert check.status is CheckStatus.FAILED
    assert "may not use this environment (HTTP 403 0x80072560: The user is not a member" in check.detail
    assert "New app user" in check.fix
    assert "security group" in check.fix
    assert {statuses(report)[name] for name in DATAVERSE_CHECKS} == {"skipped"}
    assert statuses(report)["storage"] == "ok"


def test_token_acquisition_failure_points_at_the_credentials(env: dict[str, str], emu: Emulator) -> None:
    """msal against a loopback token endpoint that refuses the client (invalid_client): no token, so
    the identity side is named, not Dataverse. Nothing leaves 127.0.0.1 (LoopbackSession refuses any
    other host), and the secret appears nowhere in the report."""
    from functions.dataverse import DataverseClient, MsalTokenProvider
    from tests.dataverse.test_auth import LoopbackSession, TokenServer

    secret = "never-in-a-report-0123456789"
    config = config_of(env, DATAVERSE_AUTH="client_secret", DATAVERSE_TENANT_ID="tenant1",
                       DATAVERSE_CLIENT_ID="00000000-0000-0000-0000-0000000000aa",
                       DATAVERSE_CLIENT_SECRET=secret)
    server = TokenServer()
    server.fail_with = {"error": "invalid_client",
                        "error_description": "AADSTS7000215: Invalid client secret provided."}
    try:
        provider = MsalTokenProvider(client_id="00000000-0000-0000-0000-0000000000aa",
                                     client_credential=secret, scope=config.dataverse.scope,
                                     authority="https://login.test/tenant1",
                                     http_client=LoopbackSession(server.port), instance_discovery=False)
        with DataverseClient(emu.api_url, provider, timeout=10, max_retries=0) as client:
            report = run_preflight(config, client=client)
    finally:
        server.close()
    check = report.get("dataverse")
    assert check is not None
    assert check.status is CheckStatus.FAILED
    assert f"could not get a token for {config.dataverse.scope} (invalid_client" in check.detail
    assert "AADSTS7000215" in check.detail
    assert "DATAVERSE_CLIENT_SECRET" in check.fix
    assert "Key Vault" in check.fix
    assert {statuses(report)[name] for name in DATAVERSE_CHECKS} == {"skipped"}
    assert len(server.token_requests) >= 1
    assert emu.counters.requests.get("function", 0) == 0  # WhoAmI never reached Dataverse
    assert secret not in json.dumps(report.to_dict()) + report.render()


# ------------------------------------------------------------------------------- storage


def test_storage_unreachable(env: dict[str, str]) -> None:
    key = "c2VjcmV0LWtleS1mb3ItdGVzdHM="
    connection = (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={key};"
                  f"TableEndpoint=http://127.0.0.1:{closed_port()}/devstoreaccount1;")
    started = time.monotonic()
    report = run_preflight(config_of(env, STATE_STORAGE_CONNECTION=connection))
    assert time.monotonic() - started < 20
    check = report.get("storage")
    assert check is not None
    assert check.status is CheckStatus.FAILED
    assert "cannot reach table storage" in check.detail
    assert "STATE_STORAGE_CONNECTION" in check.fix
    assert statuses(report)["dataverse"] == "ok"  # storage is no prerequisite of Dataverse
    assert key not in json.dumps(report.to_dict())


def _with_key(connection: str, key: str) -> str:
    real = connection.split("AccountKey=")[1].split(";")[0]
    return connection.replace(real, key)


def test_storage_wrong_account_key_is_refused(env: dict[str, str], azurite: Azurite) -> None:
    """Live Azurite, the right account, a wrong key: 403 -> the role/credentials fix, key redacted."""
    key = "d3Jvbmcta2V5LWZvci10aGUtYWNjb3VudA=="
    report = run_preflight(config_of(env, STATE_STORAGE_CONNECTION=_with_key(azurite.connection_string, key)))
    check = report.get("storage")
    assert check is not None
    assert check.status is CheckStatus.FAILED
    assert "table storage refused access (HTTP 403" in check.detail
    assert "'Storage Table Data Contributor' role" in check.fix
    assert "connection string's key" in check.fix
    assert statuses(report)["dataverse"] == "ok"
    assert key not in json.dumps(report.to_dict()) + report.render()


def test_queue_refused_while_tables_work(env: dict[str, str], azurite: Azurite) -> None:
    """Tables reachable (the app has the table role), the run-request queue refused (wrong key, as
    when the identity lacks the queue role): storage fails with the queue fix."""
    from azure.data.tables import TableServiceClient

    from functions.state.tables import ScanTables

    key = "d3Jvbmcta2V5LWZvci10aGUtcXVldWU="
    tables = ScanTables(TableServiceClient.from_connection_string(azurite.connection_string), "dval")
    config = config_of(env, STATE_STORAGE_CONNECTION=_with_key(azurite.connection_string, key))
    check = only(config, "storage", tables=tables)
    assert check.status is CheckStatus.FAILED, check
    assert "tables reachable" in check.detail
    assert "queue storage (run requests) not usable" in check.detail
    assert "not usable: ClientAuthenticationError: Server failed to authenticate" in check.detail
    assert "'Storage Queue Data Contributor' role" in check.fix
    assert "HTTP 403: access refused" in check.detail
    assert key not in check.detail + check.fix


def test_queue_endpoint_that_is_no_queue_service(env: dict[str, str], azurite: Azurite) -> None:
    connection = azurite.connection_string
    queue = next(p for p in connection.split(";") if p.startswith("QueueEndpoint="))
    blob = next(p for p in connection.split(";") if p.startswith("BlobEndpoint="))
    wrong = connection.replace(queue, "QueueEndpoint=" + blob.split("=", 1)[1])
    check = only(config_of(env, STATE_STORAGE_CONNECTION=wrong), "storage")
    assert check.status is CheckStatus.FAILED, check
    assert "queue storage (run requests) not usable" in check.detail
    assert "unexpected error" not in check.detail
    # Not a permission problem: no role or key advice, but the endpoint to check.
    assert "Data Contributor" not in check.fix
    assert "QueueEndpoint" in check.fix


class _RejectsApiVersion(BaseHTTPRequestHandler):
    """Answers like Azurite 3.35.0 started without --skipApiVersionCheck to a newer SDK."""

    def do_GET(self) -> None:
        body = (b'<?xml version="1.0" encoding="utf-8"?><Error><Code>InvalidHeaderValue</Code><Message>'
                b"The API version 2099-01-01 is not supported by Azurite.</Message></Error>")
        self.send_response(400)
        self.send_header("x-ms-error-code", "InvalidHeaderValue")
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_queue_answering_400_is_not_blamed_on_roles(env: dict[str, str], azurite: Azurite) -> None:
    """An `npx azurite` without --skipApiVersionCheck answers the queue listing with 400: the check says
    what the service answered and how to fix that, not to assign a role."""
    from azure.data.tables import TableServiceClient

    from functions.state.tables import ScanTables

    server = ThreadingHTTPServer(("127.0.0.1", 0), _RejectsApiVersion)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        connection = azurite.connection_string
        queue = next(p for p in connection.split(";") if p.startswith("QueueEndpoint="))
        wrong = connection.replace(queue, f"QueueEndpoint=http://127.0.0.1:{server.server_port}/devstoreaccount1")
        tables = ScanTables(TableServiceClient.from_connection_string(connection), "dval")
        check = only(config_of(env, STATE_STORAGE_CONNECTION=wrong), "storage", tables=tables)
    finally:
        server.shutdown()
        server.server_close()
    assert check.status is CheckStatus.FAILED, check
    assert "tables reachable" in check.detail
    assert "HTTP 400 InvalidHeaderValue" in check.detail
    assert "API version" in check.detail
    assert "Data Contributor" not in check.fix
    assert "role" not in check.fix
    assert "--skipApiVersionCheck" in check.fix


def test_queue_unreachable_says_so(env: dict[str, str], azurite: Azurite) -> None:
    connection = azurite.connection_string
    queue = next(p for p in connection.split(";") if p.startswith("QueueEndpoint="))
    wrong = connection.replace(queue, f"QueueEndpoint=http://127.0.0.1:{closed_port()}/devstoreaccount1")
    check = only(config_of(env, STATE_STORAGE_CONNECTION=wrong), "storage")
    assert check.status is CheckStatus.FAILED, check
    assert "(unreachable)" in check.detail
    assert "Data Contributor" not in check.fix


def test_storage_not_configured(env: dict[str, str]) -> None:
    settings = {k: v for k, v in env.items() if k != "STATE_STORAGE_CONNECTION"}
    check = only(config_of(settings), "storage")
    assert check is not None
    assert check.status is CheckStatus.FAILED
    assert "STATE_STORAGE_ACCOUNT_URL" in check.fix


# ------------------------------------------------------------------------------- profile source


@pytest.mark.parametrize(
    ("content", "status", "text"),
    [
        (None, "failed", "not readable"),
        ("", "failed", "has no rows"),
        ('{"not": "a profile"}\nnot json\n', "failed", "none of the first 2 rows"),
        (json.dumps(SAMPLE_RECORD) + "\nnot json\n", "warning", "1 malformed"),
    ],
)
def test_bad_profile_files(env: dict[str, str], tmp_path: Path, content: str | None, status: str,
                           text: str) -> None:
    path = tmp_path / "broken.jsonl"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    check = only(config_of(env, PROFILE_FILE=str(path)), "profile_source")
    assert check.status.value == status, check
    assert text in check.detail
    assert check.fix


def test_unreadable_profile_file(env: dict[str, str], tmp_path: Path) -> None:
    # A directory cannot be opened as a file, whoever runs the tests (root reads any mode).
    (tmp_path / "dir.jsonl").mkdir()
    check = run_preflight(config_of(env, PROFILE_FILE=str(tmp_path / "dir.jsonl")),
                          only=["profile_source"]).get("profile_source")
    assert check is not None
    assert check.status is CheckStatus.FAILED
    assert "not readable" in check.detail
    assert "PROFILE_FILE" in check.fix


def test_only_the_head_of_a_big_gzipped_file_is_read(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl.gz"
    lines = [json.dumps({**SAMPLE_RECORD, "id": f"person-{n}"}) for n in range(5000)]
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    check = only(config_of(env, PROFILE_FILE=str(path)), "profile_source")
    assert check is not None
    assert check.status is CheckStatus.OK
    assert check.data["rows_sampled"] == 200  # type: ignore[index]


def test_a_huge_line_is_read_in_pieces_and_counted_malformed(env: dict[str, str], tmp_path: Path) -> None:
    import tracemalloc

    path = tmp_path / "huge-line.jsonl"
    with path.open("wb") as out:
        out.write(b'{"id": "' + b"x" * (20 * 1024 * 1024) + b'"}\n')  # 20 MiB, over the 1 MiB line cap
        out.write((json.dumps(SAMPLE_RECORD) + "\n").encode())
    tracemalloc.start()
    try:
        check = only(config_of(env, PROFILE_FILE=str(path)), "profile_source")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert check.status is CheckStatus.WARNING, check
    assert "1 malformed" in check.detail
    assert peak < 8 * 1024 * 1024  # never the whole line


def test_csv_profile_file(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "profiles.csv"
    path.write_text("profile_id,first_name,last_name,company_name,is_primary\n"
                    "p1,Ada,Lovelace,Contoso,true\n", encoding="utf-8")
    check = only(config_of(env, PROFILE_FILE=str(path)), "profile_source")
    assert check.status in (CheckStatus.OK, CheckStatus.WARNING), check
    assert check.data["profiles_valid"] == 1  # type: ignore[index]


def test_only_runs_the_check_and_its_prerequisites(env: dict[str, str]) -> None:
    report = run_preflight(config_of(env), only=["profile_source"])
    assert [c.name for c in report.checks] == ["config", "profile_source"]
    report = run_preflight(config_of(env), only=["privileges"])
    assert [c.name for c in report.checks] == ["config", "dataverse", "privileges"]
    report = run_preflight(config_of(env), only=["nonsense"])
    # An unknown name runs nothing else and fails on its own, with the valid names as the fix.
    assert statuses(report) == {"nonsense": "failed"}
    assert not report.ok
    check = report.get("nonsense")
    assert check is not None
    assert "unknown check 'nonsense'" in check.detail
    assert all(name in check.fix for name in CHECK_NAMES)


def test_a_broken_collaborator_becomes_a_failed_check(env: dict[str, str]) -> None:
    report = run_preflight(config_of(env), only=["profile_source"], profiles=object())
    check = report.get("profile_source")
    assert check is not None
    assert check.status is CheckStatus.FAILED
    assert "unexpected error" in check.detail


@pytest.fixture
def pdl() -> PdlReplayServer:
    with PdlReplayServer(api_key="right-key-0123456789") as server:
        server.add_sample()
        yield server


def pdl_env(env: dict[str, str], pdl: PdlReplayServer, key: str) -> dict[str, str]:
    settings = {k: v for k, v in env.items() if not k.startswith("PROFILE_")}
    return {**settings, "PROFILE_SOURCE": "pdl", "PDL_API_KEY": key, "PDL_BASE_URL": pdl.url}


def test_pdl_key_accepted(env: dict[str, str], pdl: PdlReplayServer) -> None:
    check = run_preflight(config_of(pdl_env(env, pdl, "right-key-0123456789")),
                          only=["profile_source"]).get("profile_source")
    assert check.status is CheckStatus.OK, check
    assert len(pdl.bulk_requests()) == 1  # one bulk call, one look-up that cannot match


def test_bad_pdl_key(env: dict[str, str], pdl: PdlReplayServer) -> None:
    secret = "wrong-key-9876543210"
    report = run_preflight(config_of(pdl_env(env, pdl, secret)), only=["profile_source"])
    check = report.get("profile_source")
    assert check is not None
    assert check.status is CheckStatus.FAILED
    assert check.data == {"status": 401}
    assert "PDL_API_KEY" in check.fix
    assert secret not in json.dumps(report.to_dict())
    assert secret not in report.render()


def test_pdl_out_of_credits(env: dict[str, str]) -> None:
    with PdlReplayServer(api_key="right-key-0123456789", credits=0) as server:
        check = run_preflight(config_of(pdl_env(env, server, "right-key-0123456789")),
                              only=["profile_source"]).get("profile_source")
    assert check is not None
    assert check.status is CheckStatus.FAILED
    assert check.data == {"status": 402}
    assert "credits" in check.fix


def test_pdl_unreachable(env: dict[str, str]) -> None:
    settings = {k: v for k, v in env.items() if not k.startswith("PROFILE_")}
    settings.update(PROFILE_SOURCE="pdl", PDL_API_KEY="k-0123456789", PDL_BASE_URL=f"http://127.0.0.1:{closed_port()}")
    check = only(config_of(settings), "profile_source")
    assert check is not None
    assert check.status is CheckStatus.FAILED
    assert "unreachable" in check.detail


def test_profile_blob_in_azurite(env: dict[str, str], azurite: Azurite) -> None:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    container = service.create_container(f"preflight-{uuid.uuid4().hex[:10]}")
    try:
        lines = [json.dumps({**SAMPLE_RECORD, "id": f"person-{n}"}) for n in range(300)]
        container.upload_blob("snap/profiles.jsonl.gz", gzip.compress("\n".join(lines).encode()))
        # blob://<container>/<name> falls back to STATE_STORAGE_CONNECTION for the account.
        check = only(config_of(env, PROFILE_FILE=f"blob://{container.container_name}/snap/profiles.jsonl.gz"),
                     "profile_source")
        assert check.status is CheckStatus.OK, check
        assert check.data["profiles_valid"] == 200  # type: ignore[index]
        missing = only(config_of(env, PROFILE_FILE=f"blob://{container.container_name}/nope.jsonl"),
                       "profile_source")
        assert missing.status is CheckStatus.FAILED
        assert "not found" in missing.detail
        assert azurite.connection_string.split("AccountKey=")[1].split(";")[0] not in missing.detail
    finally:
        container.delete_container()
