"""Each route of the settings API over real HTTP (``function_app.app`` on the local Functions host,
Azurite, the Dataverse emulator): happy paths, every documented error, problem+json bodies, ETags,
and the OpenAPI document generated from the same route table. Plus the strict input readers of
``functions.api.http`` on their own (pure functions, no I/O)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from functions.api.errors import ApiError
from functions.api.http import MAX_BODY_BYTES, ApiRequest, parse_json
from functions.settings.model import GUID_PATTERN
from functions.state.runs import RUN_ID_PATTERN
from tests.api.conftest import Api

PROBLEM = "application/problem+json"
RUN_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")


def problem(response: Any, status: int) -> dict[str, Any]:
    """The problem+json body of a refusal, checked for shape."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert isinstance(body["errors"], list)
    return body


def fields(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body["errors"]}


# --- health, settings ----------------------------------------------------------------------------


def test_health_and_get_settings(api: Api) -> None:
    health = api.get("/api/health", key=False)
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert fields(problem(api.get("/api/health", key=False, params={"verbose": "1"}), 400)) == {"verbose"}

    response = api.get("/api/settings")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Cache-Control"] == "no-store"
    etag = response.headers["ETag"]
    assert re.fullmatch(r'"v0-[0-9a-f]{8}"', etag), etag  # strong, version 0 = never saved
    body = response.json()
    assert body["enabled"] is False
    assert body["dry_run"] is False
    assert body["profile_source"] == {"kind": "file", "file": str(api.profile_path), "file_format": None,
                                      "pdl_min_likelihood": 6, "pdl_max_lookups": None}
    assert set(body) == {"enabled", "dry_run", "sync_users", "profile_source", "matching", "identity",
                         "lookup_budget", "refresh_days", "target_column"}
    # the function key may also come as ?code= (the host reads it; it is no unknown parameter for us)
    by_query = api.get("/api/settings", key=False, params={"code": api.key})
    assert by_query.status_code == 200
    assert by_query.headers["ETag"] == etag
    assert fields(problem(api.get("/api/settings", params={"foo": "1"}), 400)) == {"foo"}


def test_patch_settings_update_reset_and_audit(api: Api) -> None:
    _, etag = api.settings()
    changed = api.patch("/api/settings", {"dry_run": True, "refresh_days": 7,
                                          "matching": {"employer_same_score": 95}}, if_match=etag)
    assert changed.status_code == 200, changed.text
    assert changed.json()["dry_run"] is True
    assert changed.json()["refresh_days"] == 7
    new_etag = changed.headers["ETag"]
    assert new_etag != etag
    assert new_etag.startswith('"v1-')
    assert api.settings() == (changed.json(), new_etag)

    # the same patch again changes nothing: 200, same ETag, no new audit entry
    again = api.patch("/api/settings", {"dry_run": True}, if_match=new_etag)
    assert again.status_code == 200
    assert again.headers["ETag"] == new_etag

    # null resets a member to its default (RFC 7396); the plain JSON media type is accepted too
    reset = api.patch("/api/settings", {"refresh_days": None}, if_match=new_etag,
                      headers={"Content-Type": "application/json; charset=utf-8"})
    assert reset.status_code == 200, reset.text
    assert reset.json()["refresh_days"] == 30

    # the old ETag is stale now; a weak tag never matches (strong comparison)
    stale = problem(api.patch("/api/settings", {"dry_run": False}, if_match=new_etag), 412)
    assert fields(stale) == {"If-Match"}
    weak = "W/" + reset.headers["ETag"]
    problem(api.patch("/api/settings", {"dry_run": False}, if_match=weak), 412)
    assert fields(problem(api.patch("/api/settings", {"dry_run": False}), 428)) == {"If-Match"}
    assert fields(problem(api.patch("/api/settings", {"dry_run": False}, if_match="v2"), 400)) == {"If-Match"}
    assert api.settings() == (reset.json(), reset.headers["ETag"])

    entries = api.get("/api/audit", params={"limit": "10"}).json()["entries"]
    assert [e["action"] for e in entries] == ["settings.update", "settings.update"]
    newest, first = entries
    assert newest["changes"] == {"refresh_days": {"old": 7, "new": 30}}
    assert first["changes"]["matching.employer_same_score"]["new"] == 95
    assert first["who"] == {"id": "function-key", "name": "function key holder", "auth": "key"}
    assert first["at"]
    assert first["request_id"]
    assert len(api.get("/api/audit", params={"limit": "1"}).json()["entries"]) == 1


#: 200 valid groups that together do not fit the stored document (one table property of 64 KiB)
_TOO_MANY_GROUPS = json.dumps({"matching": {"corporate_groups": [
    {"id": f"g{i}", "name": f"Group {i}", "members": [{"name": f"Subsidiary number {j} of group {i}"}
                                                     for j in range(3)]}
    for i in range(200)]}})


@pytest.mark.parametrize(
    ("headers", "data", "status", "field"),
    [
        ({"Content-Type": "text/plain"}, '{"dry_run": true}', 415, "Content-Type"),
        ({"Content-Type": ""}, '{"dry_run": true}', 415, "Content-Type"),
        ({"Content-Type": "application/json; charset=latin-1"}, '{"dry_run": true}', 415, "Content-Type"),
        ({"Content-Encoding": "gzip"}, '{"dry_run": true}', 415, "Content-Encoding"),
        ({"Content-Encoding": "identity, br"}, '{"dry_run": true}', 415, "Content-Encoding"),
        ({}, "x" * (MAX_BODY_BYTES + 1), 413, ""),
        ({}, '{"dry_run": tru', 400, ""),
        ({}, '{"dry_run": true, "dry_run": false}', 400, ""),
        ({}, '{"matching": {"employer_same_score": NaN}}', 400, ""),
        ({}, '{"lookup_budget": 1e999}', 400, ""),
        ({}, "[" * 500 + "]" * 500, 400, ""),
        ({}, "", 400, ""),
        ({}, "[]", 400, ""),
        ({}, '{"enabeld": true}', 400, "enabeld"),
        ({}, '{"dry_run": "true"}', 400, "dry_run"),
        ({}, '{"refresh_days": 0}', 400, "refresh_days"),
        ({}, '{"refresh_days": 7.5}', 400, "refresh_days"),
        ({}, '{"sync_users": {"user_ids": ["00000000-0000-0000-0000-000000000001", "nope"]}}', 400,
         "sync_users.user_ids[1]"),
        ({}, '{"sync_users": {"team": "Sales", "role": "Seller"}}', 400, "sync_users"),
        ({}, '{"matching": {"employer_same_score": 101}}', 400, "matching.employer_same_score"),
        ({}, '{"target_column": "other"}', 400, "target_column"),
        ({}, '{"identity": {"profile_url_columns": ["new_LinkedIn"]}}', 400,
         "identity.profile_url_columns[0]"),
        ({}, '{"identity": {"extra_email_columns": "emailaddress2"}}', 400, "identity.extra_email_columns"),
        ({}, '{"identity": {"extra_email_columns": ["a", "b", "c", "d", "e", "f"]}}', 400,
         "identity.extra_email_columns"),
        ({}, '{"matching": {"corporate_groups": [{"id": "x"}]}}', 400, "matching.corporate_groups[0].name"),
        ({}, '{"matching": {"corporate_groups": [{"id": "x", "name": "X", "former_names": '
             '[{"name": "Y", "now": "Z"}]}]}}', 400, "matching.corporate_groups[0]"),
        ({}, '{"matching": {"corporate_groups": [{"id": "x", "name": "X"}, {"id": "x", "name": "Y"}]}}', 400,
         "matching"),
        ({}, '{"matching": {"history_min_likelihood": 11}}', 400, "matching.history_min_likelihood"),
        ({}, _TOO_MANY_GROUPS, 400, "matching.corporate_groups"),
    ],
)
def test_patch_refusals_change_nothing(api: Api, headers: dict[str, str], data: str, status: int,
                                       field: str) -> None:
    before, etag = api.settings()
    sent = {"Content-Type": "application/merge-patch+json", "If-Match": etag, **headers}
    response = api.request("PATCH", "/api/settings", data=data.encode(), headers=sent)
    body = problem(response, status)
    assert field in fields(body), body
    assert api.settings() == (before, etag)
    assert api.get("/api/audit").json()["entries"] == []


def test_patch_identity_columns_and_corporate_groups(api: Api) -> None:
    _, etag = api.settings()
    group = {"id": "nordwind", "name": "Halvorsen Holding ASA", "source": "https://intranet.example/groups",
             "members": [{"name": "Nordwind Logistik GmbH", "domains": ["nordwind.de"]}],
             "former_names": [{"name": "Nordwind Spedition", "now": "Nordwind Logistik GmbH", "year": 2019}]}
    body = {"identity": {"profile_url_columns": ["new_linkedinurl", "cr123_profile"]},
            "matching": {"corporate_groups": [group], "history_min_likelihood": 9}}
    response = api.patch("/api/settings", body, if_match=etag)
    assert response.status_code == 200, response.text
    saved = response.json()
    assert saved["identity"] == {"profile_url_columns": ["new_linkedinurl", "cr123_profile"],
                                 "extra_email_columns": ["emailaddress2", "emailaddress3"]}
    assert saved["matching"]["corporate_groups"][0]["members"][0]["domains"] == ["nordwind.de"]
    assert saved["matching"]["history_min_likelihood"] == 9
    changes = api.get("/api/audit").json()["entries"][0]["changes"]
    assert set(changes) >= {"identity.profile_url_columns", "matching.corporate_groups"}
    # null goes back to the default; an array is replaced whole (RFC 7396)
    reset = api.patch("/api/settings", {"identity": {"profile_url_columns": None},
                                        "matching": {"corporate_groups": []}},
                      if_match=response.headers["ETag"])
    assert reset.json()["identity"]["profile_url_columns"] == []
    assert reset.json()["matching"]["corporate_groups"] == []


# --- runs, status ------------------------------------------------------------------------------------


def test_runs_when_disabled_and_bad_ids(api: Api) -> None:
    refused = problem(api.post("/api/runs"), 409)
    assert fields(refused) == {"enabled"}
    assert api.get("/api/runs").json() == {"runs": []}
    for bad in ("nope", "20260101T000000Z-ABCDEF12", "20260101T000000Z-abcdef1", "%0a"):
        assert fields(problem(api.get(f"/api/runs/{bad}"), 400)) == {"run_id"}
    problem(api.get("/api/runs/20260101T020000Z-0123abcd"), 404)
    problem(api.get("/api/runs/20261399T020000Z-0123abcd"), 404)  # the pattern's shape, but no time
    for limit in ("0", "101", "abc", "1.5", "-1", ""):
        assert fields(problem(api.get("/api/runs", params={"limit": limit}), 400)) == {"limit"}
    assert fields(problem(api.get("/api/runs?limit=1&limit=2"), 400)) == {"limit"}
    assert fields(problem(api.get("/api/audit", params={"limit": "500"}), 400)) == {"limit"}


def test_request_run_status_and_run_record(api_factory: Any) -> None:
    # enabled from the app settings (SCAN_ENABLED), so no enable flow is needed; the queue is not
    # drained, so the run stays queued and a second request meets it
    api = api_factory(env={"SCAN_ENABLED": "true"}, drain_queues=False)
    for data, headers, status, field in (
        ('{"dry_run": "yes"}', {"Content-Type": "application/json"}, 400, "dry_run"),
        ('{"dryrun": true}', {"Content-Type": "application/json"}, 400, "dryrun"),
        ('{"dry_run": true}', {"Content-Type": "text/plain"}, 415, "Content-Type"),
        ('{"dry_run": true}', {"Content-Type": "application/merge-patch+json"}, 415, "Content-Type"),
        ('{"dry_run": true}', {"Content-Type": "application/json", "Content-Encoding": "deflate"}, 415,
         "Content-Encoding"),
    ):
        body = problem(api.request("POST", "/api/runs", data=data, headers=headers), status)
        assert field in fields(body)

    queued = api.post("/api/runs", {"dry_run": True})
    assert queued.status_code == 202, queued.text
    record = queued.json()
    assert RUN_ID.fullmatch(record["run_id"])
    assert record["status"] == "queued"
    assert record["trigger"] == "api"
    assert record["dry_run"] is True
    assert queued.headers["Location"] == f"/api/runs/{record['run_id']}"
    polled = api.get(queued.headers["Location"])
    assert polled.status_code == 200
    assert polled.json()["run_id"] == record["run_id"]
    assert polled.json()["status"] == "queued"

    busy = problem(api.post("/api/runs"), 409)
    assert busy["active_run"] == record["run_id"]

    status = api.get("/api/status")
    assert status.status_code == 200, status.text
    body = status.json()
    assert body["enabled"] is True
    assert body["dry_run"] is False
    assert body["schedule"] == "0 0 2 * * *"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT02:00:00\+00:00", body["next_scheduled_run"])
    assert body["active_run"]["run_id"] == record["run_id"]
    assert [r["run_id"] for r in body["last_runs"]] == [record["run_id"]]
    assert body["last_error"] is None
    assert body["settings"] == {"version": 0, "updated_at": None, "updated_by": None}

    runs = api.get("/api/runs", params={"limit": "5"}).json()["runs"]
    assert [r["run_id"] for r in runs] == [record["run_id"]]
    audit = api.get("/api/audit").json()["entries"]
    assert [e["action"] for e in audit] == ["run.request"]
    assert audit[0]["changes"]["run_id"]["new"] == record["run_id"]


def test_contact_validation(api_factory: Any) -> None:
    from functions.config import load_config
    from functions.pipeline import run_scan
    from functions.state import build_table_service
    from functions.state.contacts import ContactStates
    from functions.state.tables import ScanTables

    api = api_factory()
    summary = run_scan(load_config(api.env), enabled=True, trigger="manual")  # same tables as the API
    assert summary.ok, summary.message
    config = load_config(api.env)
    tables = ScanTables(build_table_service(config), config.scan.state_table_prefix)
    states = [s for s in ContactStates(tables.contacts).iter_all() if s.outcome]
    assert states, "the scan validated contacts"
    state = states[0]
    response = api.get(f"/api/contacts/{state.contact_id.upper()}/validation")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["contact_id"] == state.contact_id
    assert body["outcome"] == state.outcome
    assert body["evidence"] == json.loads(state.evidence)
    assert body["last_run_id"] == summary.run_id
    assert isinstance(body["evidence"], dict)  # parsed, not a JSON string
    assert body["in_scope"] is True

    assert fields(problem(api.get("/api/contacts/not-a-guid/validation"), 400)) == {"contact_id"}
    problem(api.get("/api/contacts/00000000-0000-0000-0000-000000000000/validation"), 404)

    run = api.get(f"/api/runs/{summary.run_id}").json()
    assert run["status"] == summary.status
    assert run["counters"]["in_scope"] > 0
    listed = api.get("/api/status").json()["last_runs"]
    assert listed[0]["run_id"] == summary.run_id
    assert "would_write" not in listed[0]


def test_configuration_error_is_503_naming_the_setting(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCAN_REFRESH_DAYS", "-12345")
    body = problem(api.get("/api/settings"), 503)
    assert "SCAN_REFRESH_DAYS" in body["detail"]
    assert "-12345" not in json.dumps(body)
    assert api.get("/api/health", key=False).status_code == 200  # liveness needs no config


# --- OpenAPI -----------------------------------------------------------------------------------------


def test_openapi_document(api: Api) -> None:
    import schemathesis

    from functions.api.routes import ROUTES

    response = api.get("/api/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"] == "3.1.0"
    for spec in ROUTES.values():
        op = doc["paths"][spec.path][spec.method.lower()]
        assert op["operationId"] == spec.operation_id
        codes = set(op["responses"])
        if spec.role is None:
            assert op["security"] == []
        else:
            assert {"400", "401", "403", "500", "503"} <= codes, spec.operation_id
            assert {"functionKey": []} in op["security"]
            assert {"functionKeyQuery": []} in op["security"]
    patch = doc["paths"]["/api/settings"]["patch"]
    assert {"200", "202", "412", "413", "415", "422", "428"} <= set(patch["responses"])
    assert set(patch["requestBody"]["content"]) == {"application/json", "application/merge-patch+json"}
    assert [p["name"] for p in patch["parameters"]] == ["If-Match"]
    run_param = doc["paths"]["/api/runs/{run_id}"]["get"]["parameters"][0]
    assert run_param["schema"]["pattern"] == RUN_ID_PATTERN.pattern  # the one definition of a run id
    assert RUN_ID_PATTERN.pattern.startswith("^")
    assert RUN_ID_PATTERN.pattern.endswith("$")
    contact_param = doc["paths"]["/api/contacts/{contact_id}/validation"]["get"]["parameters"][0]
    assert contact_param["schema"]["pattern"] == GUID_PATTERN
    limit = doc["paths"]["/api/runs"]["get"]["parameters"][0]["schema"]
    assert (limit["type"], limit["minimum"], limit["maximum"]) == ("integer", 1, 100)
    schemas = doc["components"]["schemas"]
    assert schemas["Settings"]["additionalProperties"] is False
    assert "required" not in schemas["SettingsPatch"]
    assert {"type": "null"} in schemas["SettingsPatch"]["properties"]["refresh_days"]["anyOf"]
    assert doc["components"]["securitySchemes"]["functionKey"] == {
        "type": "apiKey", "in": "header", "name": "x-functions-key",
        "description": "Function key (checked by the Functions host)."}
    # the GET response validates against its own documented schema, and schemathesis can load it
    loaded = schemathesis.openapi.from_dict(doc)
    assert len(list(loaded.get_all_operations())) == len(ROUTES)


# --- input readers (pure) ----------------------------------------------------------------------------


def _request(headers: dict[str, str], body: bytes, url: str = "http://h/api/settings") -> ApiRequest:
    return ApiRequest.build(method="PATCH", url=url, headers=headers, body=body)


@pytest.mark.parametrize("content_type", ["application/json", "Application/Merge-Patch+JSON",
                                          'application/json; charset="UTF-8"',
                                          "application/json;charset=utf8"])
def test_json_body_accepts(content_type: str) -> None:
    assert _request({"Content-Type": content_type}, b'{"a": [1, 2.5]}').json_body() == {"a": [1, 2.5]}
    identity = {"Content-Type": content_type, "Content-Encoding": "identity"}
    assert _request(identity, b'{"a": 1}').json_body() == {"a": 1}


@pytest.mark.parametrize(("headers", "body", "status"), [
    ({"content-type": "application/json", "content-length": str(MAX_BODY_BYTES + 1)}, b"{}", 413),
    ({"content-type": "application/json", "content-length": "ten"}, b"{}", 400),
    ({"content-type": "application/json; boundary=x"}, b"{}", 415),
    ({"content-type": "application/jsonx"}, b"{}", 415),
    ({"content-type": "application/json"}, b"\xff\xfe{}", 400),
    ({"content-type": "application/json", "content-encoding": "gzip"}, b"\x1f\x8b", 415),
    ({"content-type": "application/json; charset=utf-16"}, b"{}", 415),
    ({"content-type": "application/json; charset=utf_8"}, b"{}", 415),
])
def test_json_body_refuses(headers: dict[str, str], body: bytes, status: int) -> None:
    with pytest.raises(ApiError) as caught:
        _request(headers, body).json_body()
    assert caught.value.status == status


def test_parse_json_never_echoes_the_input() -> None:
    with pytest.raises(ApiError) as caught:
        parse_json(b'{"key": "secret-value-123"')
    assert "secret-value-123" not in json.dumps(caught.value.errors)
    assert parse_json(b'\xef\xbb\xbf{"a": "\\"[{"}') == {"a": '"[{'}  # BOM; brackets inside strings


def test_query_from_url_keeps_repeats_and_skips_the_key() -> None:
    request = _request({}, b"", url="http://h/api/runs?code=k&limit=3&code=k")
    assert request.query_values(["limit"]) == {"limit": "3"}
    with pytest.raises(ApiError) as caught:
        _request({}, b"", url="http://h/api/runs?limit=3&limit=4").query_values(["limit"])
    assert caught.value.errors == [{"field": "limit", "reason": "given more than once"}]


def test_unexpected_errors_are_500_without_internals(monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    from functions.api import routes

    def boom(request: ApiRequest) -> Any:
        raise RuntimeError("internal detail /secret/path")

    spec = routes.RouteSpec("boom", "GET", "/api/boom", None, boom, "test only")
    monkeypatch.setitem(routes.ROUTES, "boom", spec)
    request = ApiRequest.build(method="GET", url="http://h/api/boom")
    response = routes.handle("boom", request)
    assert response.status == 500
    assert response.media_type == PROBLEM
    assert "secret" not in response.body_bytes().decode()
    assert request.request_id in response.body["detail"]
    assert request.request_id in caplog.text  # the log line carries the same id, with the traceback


def test_services_are_cached_per_config_and_built_lazily() -> None:
    from functions.api.context import services_for
    from functions.config import load_config

    # a storage endpoint nobody listens on: building (and caching) services must not connect
    env = {"DATAVERSE_URL": "http://127.0.0.1:9", "DATAVERSE_AUTH": "local",
           "STATE_STORAGE_CONNECTION": "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
           "AccountKey=Zm9v;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;"
           "QueueEndpoint=http://127.0.0.1:9/devstoreaccount1"}
    first = services_for(load_config(env))
    assert services_for(load_config(dict(env))) is first
    assert first.client is first.client  # one Dataverse client per connection
    assert services_for(load_config({**env, "SCAN_REFRESH_DAYS": "7"})) is not first
