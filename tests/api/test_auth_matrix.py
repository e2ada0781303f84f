"""Who may call what (issue 5 "Auth (fail closed)"), over real HTTP through the local Functions host.

Every route x {no key, wrong key, key in the ``x-functions-key`` header, key in ``?code=``}; the
forged ``X-MS-CLIENT-PRINCIPAL`` while platform auth is off; platform auth (principal header, reader
vs admin role); bearer tokens (JWKS fetched over loopback, audience, issuer, expiry, roles). And no
response ever echoes a secret.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.api.conftest import (
    ADMIN_ROLE,
    JWT_AUDIENCE,
    JWT_ISSUER,
    MS_NAME_CLAIM,
    MS_ROLE_CLAIM,
    READER_ROLE,
    SECRET_CLIENT_SECRET,
    SECRET_PDL_KEY,
    Api,
    JwtIssuer,
    client_principal,
)

UNKNOWN_RUN_ID = "20260101T000000Z-0badc0de"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    admin: bool  # writes and the audit need the admin role; everything else the reader role
    ok: int  # status with a valid caller on a fresh app (disabled, nothing run, nothing saved)
    body: str | None = None  # JSON text (kept hashable: routes are dict keys)
    headers: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ROUTES = [
    Route("GET", "/api/settings", admin=False, ok=200),
    # no If-Match: reaching the handler shows as 428 (auth passed, precondition missing)
    Route("PATCH", "/api/settings", admin=True, ok=428, body="{}"),
    Route("GET", "/api/status", admin=False, ok=200),
    Route("POST", "/api/runs", admin=True, ok=409),  # disabled: no run can be requested
    Route("GET", "/api/runs", admin=False, ok=200),
    Route("GET", f"/api/runs/{UNKNOWN_RUN_ID}", admin=False, ok=404),
    Route("GET", f"/api/contacts/{uuid.UUID(int=7)}/validation", admin=False, ok=404),
    Route("GET", "/api/audit", admin=True, ok=200),
    Route("GET", "/api/openapi.json", admin=False, ok=200),
]
HEALTH = "/api/health"
ALL_401 = dict.fromkeys(ROUTES, 401)
ALL_403 = dict.fromkeys(ROUTES, 403)


def call(api: Api, route: Route, *, key: bool | str = True, headers: dict[str, str] | None = None,
         params: dict[str, str] | None = None) -> requests.Response:
    sent = dict(route.headers)
    sent.update(headers or {})
    data = None
    if route.body is not None:
        sent.setdefault("Content-Type", "application/merge-patch+json")
        data = route.body
    # a connection per call: a host that leaves a refused request's body unread would otherwise garble
    # the next request on a kept-alive connection (tested on its own below)
    return api.request(route.method, route.path, key=key, headers=sent, params=params, data=data, fresh=True)


def mismatches(api: Api, expected: dict[Route, int], **kwargs: Any) -> list[str]:
    """Call each route; list every (route, expected, got, body) that differs, so one run shows all."""
    wrong = []
    for route, status in expected.items():
        try:
            response = call(api, route, **kwargs)
        except requests.ConnectionError as exc:
            wrong.append(f"{route}: expected {status}, the connection failed: {exc}")
            continue
        if response.status_code != status:
            wrong.append(f"{route}: expected {status}, got {response.status_code} {response.text[:300]}")
    return wrong


def assert_no_leak(api: Api) -> None:
    assert api.leaked() == [], "a response echoed a secret"


# --- function key ---------------------------------------------------------------------------------


def test_function_key_matrix(api: Api) -> None:
    wrong: list[str] = []
    wrong += [f"no key: {m}" for m in mismatches(api, ALL_401, key=False)]
    wrong += [f"wrong key: {m}" for m in mismatches(api, ALL_401, key="not-the-key")]
    wrong += [f"wrong ?code=: {m}" for m in
              mismatches(api, ALL_401, key=False, params={"code": "not-the-key"})]
    wrong += [f"header key: {m}" for m in mismatches(api, {r: r.ok for r in ROUTES})]
    # the Functions host leaves ?code= in the query string: the API must not call it an unknown parameter
    wrong += [f"?code= key: {m}" for m in
              mismatches(api, {r: r.ok for r in ROUTES}, key=False, params={"code": api.key})]
    assert wrong == []
    assert_no_leak(api)


def test_health_needs_no_key_and_reveals_nothing(api: Api) -> None:
    for kwargs in ({"key": False}, {"key": "not-the-key"}, {"key": True}):
        response = api.get(HEALTH, **kwargs)
        assert response.status_code == 200, (kwargs, response.text)
        assert response.json() == {"status": "ok"}
    # nothing about versions, settings, runs or the environment in the headers either
    response = api.get(HEALTH, key=False)
    for header in ("ETag", "Location", "WWW-Authenticate", "X-Powered-By"):
        assert header not in response.headers
    assert_no_leak(api)


def test_key_mode_refuses_a_forged_client_principal(api: Api) -> None:
    """Platform auth is off: a caller-supplied principal header is a forgery or a misconfiguration."""
    forged = client_principal(ADMIN_ROLE)
    wrong = [f"forged principal: {m}" for m in mismatches(api, ALL_401, headers=forged)]
    only_id = {"X-MS-CLIENT-PRINCIPAL-ID": str(uuid.uuid4())}
    wrong += [f"forged principal id: {m}" for m in mismatches(api, ALL_401, headers=only_id)]
    only_name = {"X-MS-CLIENT-PRINCIPAL-NAME": "mallory@contoso.test"}
    wrong += [f"forged principal name: {m}"
              for m in mismatches(api, ALL_401, headers=only_name)]
    assert wrong == []
    body, _etag = api.settings()
    assert body["enabled"] is False


def test_key_mode_refuses_a_bearer_token(api: Api, jwt_issuer: JwtIssuer) -> None:
    wrong = mismatches(api, ALL_401, headers=jwt_issuer.bearer(ADMIN_ROLE))
    assert wrong == []


def test_a_refused_request_with_a_body_leaves_the_connection_usable(api: Api) -> None:
    """HTTP/1.1 keep-alive: the host answers 401 without the key, and the body it did not need must not
    be read as the start of the next request on the same connection."""
    with requests.Session() as session:
        for _ in range(3):
            refused = session.patch(api.url("/api/settings"), data=b'{"dry_run": true}',
                                    headers={"Content-Type": "application/json"}, timeout=30)
            assert refused.status_code == 401
            after = session.get(api.url("/api/settings"), headers={"x-functions-key": api.key}, timeout=30)
            assert after.status_code == 200, (after.status_code, after.text[:300])
        for path, status in (("/api/nope", 404), ("/api/health", 405)):
            rejected = session.post(api.url(path), data=b'{"x": 1}', headers={"x-functions-key": api.key},
                                    timeout=30)
            assert rejected.status_code == status
            after = session.get(api.url("/api/settings"), headers={"x-functions-key": api.key}, timeout=30)
            assert after.status_code == 200, (path, after.status_code, after.text[:300])


def test_unknown_route_and_wrong_method(api: Api) -> None:
    assert api.get("/api/nope").status_code == 404
    assert api.request("DELETE", "/api/settings").status_code == 405
    assert api.request("PUT", "/api/settings", data="{}").status_code == 405


# --- platform authentication ----------------------------------------------------------------------


def test_platform_mode_roles(platform_api: Api) -> None:
    api = platform_api
    reader = client_principal(READER_ROLE, name="rita.reader@contoso.test")
    admin_oid = str(uuid.uuid4())
    admin = client_principal(ADMIN_ROLE, name="ada.admin@contoso.test", oid=admin_oid)
    nobody = client_principal(name="nora.norole@contoso.test")
    other_role = client_principal("Some.Other.Role", name="otto@contoso.test")

    wrong: list[str] = []
    wrong += [f"no principal: {m}" for m in mismatches(api, ALL_401)]
    wrong += [f"no key: {m}" for m in mismatches(api, ALL_401, key=False, headers=admin)]
    wrong += [f"no role: {m}" for m in mismatches(api, ALL_403, headers=nobody)]
    wrong += [f"other role: {m}" for m in mismatches(api, ALL_403, headers=other_role)]
    wrong += [f"reader: {m}" for m in
              mismatches(api, {r: 403 if r.admin else r.ok for r in ROUTES}, headers=reader)]
    wrong += [f"admin: {m}" for m in mismatches(api, {r: r.ok for r in ROUTES}, headers=admin)]
    # as Entra ID sign-ins arrive: role_typ is the long claim URI, the app roles come as "roles" claims
    # (or under role_typ itself)
    entra_reader = client_principal(READER_ROLE, role_typ=MS_ROLE_CLAIM, name_typ=MS_NAME_CLAIM)
    entra_admin = client_principal(ADMIN_ROLE, role_claim=MS_ROLE_CLAIM, role_typ=MS_ROLE_CLAIM,
                                   name_typ=MS_NAME_CLAIM)
    wrong += [f"entra reader: {m}" for m in
              mismatches(api, {r: 403 if r.admin else r.ok for r in ROUTES}, headers=entra_reader)]
    wrong += [f"entra admin: {m}" for m in mismatches(api, {r: r.ok for r in ROUTES}, headers=entra_admin)]
    for malformed in ("not base64 !!", base64.b64encode(b"not json").decode(),
                      base64.b64encode(b'["a list"]').decode()):
        wrong += [f"malformed principal {malformed!r}: {m}" for m in
                  mismatches(api, ALL_401, headers={"X-MS-CLIENT-PRINCIPAL": malformed})]
    assert wrong == []

    # a reader can read the settings but not change them; an admin can, and is named as the author
    before, etag = api.settings(headers=reader)
    refused = api.patch("/api/settings", {"dry_run": not before["dry_run"]}, if_match=etag, headers=reader)
    assert refused.status_code == 403, refused.text
    assert api.settings(headers=reader) == (before, etag)
    changed = api.patch("/api/settings", {"dry_run": not before["dry_run"]}, if_match=etag, headers=admin)
    assert changed.status_code == 200, changed.text
    after, new_etag = api.settings(headers=reader)
    assert after["dry_run"] is (not before["dry_run"])
    assert new_etag != etag
    status = api.get("/api/status", headers=reader).json()
    updated_by = json.dumps(status["settings"])
    assert "ada.admin@contoso.test" in updated_by or admin_oid in updated_by, status
    audit = api.get("/api/audit", headers=admin)
    assert audit.status_code == 200
    assert "ada.admin@contoso.test" in audit.text
    assert_no_leak(api)


def test_platform_mode_without_app_service_auth_refuses_every_principal(api_factory: Any) -> None:
    """API_AUTH=platform, but App Service did not say that App Service Authentication is on
    (WEBSITE_AUTH_ENABLED absent): the principal header could come from anyone, so every route
    refuses it - and the app stays up (no configuration error; health still answers)."""
    api = api_factory(auth="platform")
    admin = client_principal(ADMIN_ROLE, name="ada.admin@contoso.test")
    assert mismatches(api, ALL_401, headers=admin) == []
    response = call(api, ROUTES[0], headers=admin)
    assert "WEBSITE_AUTH_ENABLED" in response.json()["detail"]
    assert api.get(HEALTH, key=False).status_code == 200
    assert_no_leak(api)


def test_platform_mode_health_is_still_anonymous(platform_api: Api) -> None:
    response = platform_api.get(HEALTH, key=False)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


# --- bearer tokens --------------------------------------------------------------------------------


def test_jwt_mode(jwt_api: Api, jwt_issuer: JwtIssuer) -> None:
    api = jwt_api
    reader = jwt_issuer.bearer(READER_ROLE)
    admin = jwt_issuer.bearer(ADMIN_ROLE)

    no_token = call(api, ROUTES[0])
    assert no_token.status_code == 401
    assert no_token.headers.get("WWW-Authenticate", "").lower().startswith("bearer")

    refused_401 = {
        "no token": {},
        "not a jwt": {"Authorization": "Bearer not.a.jwt"},
        "basic scheme": {"Authorization": "Basic " + base64.b64encode(b"ada:pw").decode()},
        "wrong audience": jwt_issuer.bearer(ADMIN_ROLE, aud="api://someone-else"),
        "wrong issuer": jwt_issuer.bearer(ADMIN_ROLE, iss="https://evil.test/v2.0"),
        "expired": jwt_issuer.bearer(ADMIN_ROLE, issued_ago=7200, expires_in=600),
        "not yet valid": jwt_issuer.bearer(ADMIN_ROLE, issued_ago=-3600),
        "signed by another key": jwt_issuer.bearer(ADMIN_ROLE, key=jwt_issuer.other_key),
        "unknown kid": jwt_issuer.bearer(ADMIN_ROLE, kid="no-such-kid"),
        "HS256": jwt_issuer.bearer(ADMIN_ROLE, key="a-shared-secret-of-32-bytes-len!", algorithm="HS256"),
        "alg none": jwt_issuer.bearer(ADMIN_ROLE, key=None, algorithm="none"),
    }
    wrong: list[str] = []
    for label, headers in refused_401.items():
        wrong += [f"{label}: {m}" for m in mismatches(api, ALL_401, headers=headers)]
    wrong += [f"admin token, no key: {m}"
              for m in mismatches(api, ALL_401, key=False, headers=admin)]
    wrong += [f"no roles: {m}" for m in mismatches(api, ALL_403, headers=jwt_issuer.bearer())]
    wrong += [f"reader: {m}" for m in
              mismatches(api, {r: 403 if r.admin else r.ok for r in ROUTES}, headers=reader)]
    wrong += [f"admin: {m}" for m in mismatches(api, {r: r.ok for r in ROUTES}, headers=admin)]
    assert wrong == []
    assert jwt_issuer.hits >= 1, "the signing key must come from the JWKS endpoint"

    before, etag = api.settings(headers=reader)
    refused = api.patch("/api/settings", {"refresh_days": 45}, if_match=etag, headers=reader)
    assert refused.status_code == 403, refused.text
    assert api.settings(headers=reader) == (before, etag)
    changed = api.patch("/api/settings", {"refresh_days": 45}, if_match=etag, headers=admin)
    assert changed.status_code == 200, changed.text
    assert api.settings(headers=reader)[0]["refresh_days"] == 45
    # tokens and the audience never come back in a response
    tokens = [h["Authorization"].split(" ", 1)[1] for h in (reader, admin)]
    assert not [r for r in api.responses if any(t in r.text for t in tokens)]
    assert_no_leak(api)


def test_jwt_mode_audience_list(api_factory: Any, jwt_issuer: JwtIssuer) -> None:
    """API_JWT_AUDIENCE may list several audiences (app id URI and client id): each is accepted."""
    client_id = "11111111-2222-3333-4444-555555555555"
    api = api_factory(auth="jwt", env={"API_JWT_AUDIENCE": f"{JWT_AUDIENCE}, {client_id}",
                                       "API_JWT_ISSUER": JWT_ISSUER, "API_JWKS_URL": jwt_issuer.jwks_url})
    for aud in (JWT_AUDIENCE, client_id):
        response = api.get("/api/settings", headers=jwt_issuer.bearer(READER_ROLE, aud=aud))
        assert response.status_code == 200, (aud, response.text)


# --- secrets --------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [
    {"refresh_days": SECRET_PDL_KEY},
    {"profile_source": {"file_format": SECRET_PDL_KEY}},
    {"sync_users": {"user_ids": [SECRET_PDL_KEY]}},
])
def test_rejected_values_are_not_echoed(api: Api, bad: dict[str, Any]) -> None:
    """Validation errors name the field and the reason, never the rejected value (it might be a secret
    pasted into the wrong field)."""
    before, etag = api.settings()
    response = api.patch("/api/settings", bad, if_match=etag)
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 400
    assert problem["errors"], problem
    assert api.settings() == (before, etag)
    assert_no_leak(api)


def test_no_response_echoes_a_secret(api_factory: Any) -> None:
    """The PDL key and the Dataverse client secret are app settings: never in a settings document, the
    status, the audit, an error or the OpenAPI document. The PDL source points at a closed loopback port
    (conftest), so enabling fails its preflight (and nothing leaves the machine)."""
    api = api_factory()
    switched = api.change_settings({"profile_source": {"kind": "pdl"}})
    assert switched.status_code == 200, switched.text
    enabling = api.change_settings({"enabled": True})
    assert enabling.status_code == 422, enabling.text
    assert api.settings()[0]["enabled"] is False
    for route in ROUTES:
        call(api, route)
    for path in ("/api/settings", "/api/status", "/api/audit", "/api/openapi.json", "/api/runs"):
        api.get(path)
    api.post("/api/runs", {"dry_run": True})
    api.request("PATCH", "/api/settings", data="{not json", headers={"Content-Type": "application/json"})
    assert len(api.responses) > 15
    assert api.leaked() == []
    assert not [r for r in api.responses if SECRET_CLIENT_SECRET in r.text or SECRET_PDL_KEY in r.text]
