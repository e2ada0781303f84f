"""Text that is not valid Unicode (issue 5, B2): a lone surrogate arrives as a JSON ``\\ud800`` escape
(ASCII on the wire) in a member name or value, or as a surrogate in a header or query parameter of a
request built in-process. Every such request ends in a problem response that encodes as UTF-8 - never
an exception out of the handler, the serialisation or the trigger."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import azure.functions as func
import pytest

from functions.api.http import ApiRequest, ApiResponse
from functions.api.routes import handle
from functions.triggers.admin_api import _serve
from tests.api.conftest import Api

SURROGATE_BODIES = [
    json.dumps({"\ud800": 1}),                                    # a member name, top level
    json.dumps({"sync_users": {"\udfff": 1}}),                    # a member name, nested
    json.dumps({"matching": {"x\ud800y": None}}),                 # nested, set to null
    json.dumps({"sync_users": {"team": "\ud800"}}),               # a string value
    json.dumps({"profile_source": {"file": "blob://c/\ud800.jsonl"}}),
    json.dumps({"sync_users": {"user_ids": ["\ud800"]}}),
    json.dumps({"\ud800" * 500: 1}),                              # long, too
]


def _status_of(api: Api, body: str, **headers: str) -> Any:
    _, etag = api.settings()
    response = api.request("PATCH", "/api/settings", data=body.encode("ascii"),
                           headers={"If-Match": etag, "Content-Type": "application/json", **headers})
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    response.content.decode("utf-8")  # valid UTF-8
    return response.json()


@pytest.mark.parametrize("body", SURROGATE_BODIES)
def test_surrogates_in_the_body_are_400_over_http(api: Api, body: str) -> None:
    problem = _status_of(api, body)
    assert problem["errors"], problem
    for error in problem["errors"]:
        assert not any("\ud800" <= c <= "\udfff" for c in error["field"] + error["reason"]), error
        assert len(error["field"]) <= 210


def test_surrogate_member_name_is_named_without_the_surrogate(api: Api) -> None:
    problem = _status_of(api, json.dumps({"sync_users": {"\ud800": 1}}))
    assert {"field": "sync_users.?", "reason": "unknown field"} in problem["errors"], problem


def test_surrogates_in_query_parameters_over_http(api: Api) -> None:
    for query in ("%ED%A0%80=1", "limit=%ED%A0%80", "limit=\\ud800", "%ED%A0%80"):
        response = api.get(f"/api/runs?{query}")
        assert response.status_code == 400, (query, response.text)
        response.content.decode("utf-8")


def _in_process(method: str, url: str, *, headers: dict[str, str] | None = None,
                body: bytes = b"", route_params: dict[str, str] | None = None) -> func.HttpResponse:
    request = func.HttpRequest(method=method, url=url, headers=headers or {}, params={},
                               route_params=route_params or {}, body=body)
    return _serve({"GET": "getRuns", "PATCH": "patchSettings"}.get(method, "getRuns"), request)


@pytest.mark.parametrize(("method", "url", "headers", "body"), [
    ("PATCH", "http://h/api/settings", {"If-Match": '"\ud800"', "Content-Type": "application/json"},
     b'{"dry_run":true}'),
    ("PATCH", "http://h/api/settings", {"If-Match": "*", "Content-Type": "application/json; charset=\ud800"},
     b'{"dry_run":true}'),
    ("PATCH", "http://h/api/settings", {"If-Match": "*", "Content-Type": "application/json"},
     json.dumps({"\ud800": 1}).encode()),
    ("PATCH", "http://h/api/settings", {"If-Match": "*", "Content-Type": "application/json"},
     json.dumps({"sync_users": {"\ud800": {"\udc00": 1}}}).encode()),
    ("PATCH", "http://h/api/settings", {"If-Match": "*", "Content-Type": "application/json",
                                        "X-\ud800": "\ud800"}, b"{}"),
    ("PATCH", "http://h/api/settings?\ud800=\ud800", {"If-Match": "*", "Content-Type": "application/json"},
     b"{}"),
    ("PATCH", "http://h/api/settings?x=\ud800", {"If-Match": "*", "Content-Type": "application/json"},
     b"{}"),
])
def test_surrogates_in_process_through_the_trigger(api: Api, method: str, url: str, headers: dict[str, str],
                                                   body: bytes) -> None:
    response = _in_process(method, url, headers=headers, body=body)
    assert response.status_code < 500, response.get_body()
    json.loads(response.get_body().decode("utf-8"))


def test_handle_serialises_inside_its_protection(api: Api) -> None:
    request = ApiRequest.build(method="PATCH", url="http://h/api/settings",
                               headers={"If-Match": "*", "Content-Type": "application/json"},
                               body=json.dumps({"\ud800": 1}).encode())
    response = handle("patchSettings", request)
    assert response.status == 400
    assert json.loads(response.body_bytes().decode("utf-8"))["errors"][0]["field"] == "?"


def test_a_body_that_cannot_be_encoded_as_utf8_is_escaped_not_raised() -> None:
    response = ApiResponse.json(200, {"\ud800": "\udfff"})
    assert json.loads(response.body_bytes()) == {"\ud800": "\udfff"}


def test_a_response_that_cannot_be_serialised_becomes_a_500_problem(api: Api, monkeypatch: Any) -> None:
    from functions.api import routing

    spec = routing.ROUTES["getHealth"]
    circular: dict[str, Any] = {}
    circular["self"] = circular
    broken = dataclasses.replace(spec, handler=lambda request: ApiResponse.json(200, circular))
    monkeypatch.setitem(routing.ROUTES, "getHealth", broken)
    response = handle("getHealth", ApiRequest.build(method="GET", url="http://h/api/health"))
    assert response.status == 500
    assert json.loads(response.body_bytes())["status"] == 500
