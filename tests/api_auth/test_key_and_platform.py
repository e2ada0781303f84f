"""API_AUTH=key and API_AUTH=platform: forged identity headers, the Easy Auth client principal, app roles."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import azure.functions as func
import pytest

from functions.api.auth import (
    Forbidden,
    Principal,
    Role,
    Unauthenticated,
    authorize,
    principal_summary,
)
from functions.config import ApiConfig, load_config
from tests.api_auth.conftest import ADMIN, READER, USER_OID

KEY = ApiConfig()
# App Service injects WEBSITE_AUTH_ENABLED=True when App Service Authentication is on.
PLATFORM = ApiConfig(auth="platform", platform_auth_enabled=True)
ROLE_URI = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
OID_URI = "http://schemas.microsoft.com/identity/claims/objectidentifier"
NAME_URI = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"


def client_principal(roles: Sequence[str] = (), *, role_typ: str | None = ROLE_URI,
                     role_claim: str | None = None, extra: Sequence[dict[str, Any]] = (),
                     **fields: Any) -> str:
    """The header App Service Authentication injects (claims after default claim mapping)."""
    claims = [{"typ": OID_URI, "val": USER_OID}, {"typ": NAME_URI, "val": "abeli@contoso.com"},
              {"typ": "name", "val": "Abe Lincoln"},
              *({"typ": role_claim or role_typ or "roles", "val": role} for role in roles), *extra]
    document: dict[str, Any] = {"auth_typ": "aad", "claims": claims, "name_typ": NAME_URI, **fields}
    if role_typ is not None:
        document["role_typ"] = role_typ
    return base64.b64encode(json.dumps(document).encode()).decode()


def refused(headers: dict[str, str], api: ApiConfig, need: Role = Role.READER) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as caught:
        authorize(headers, api, need)
    assert caught.value.status == 401
    return caught.value


# ---------------------------------------------------------------------------------------------- key


@pytest.mark.parametrize("need", list(Role))
def test_key_mode_function_key_holder_is_admin(need: Role) -> None:
    principal = authorize({"x-functions-key": "whatever the host checked"}, KEY, need)
    assert principal == Principal("function-key", "function key holder", "key", frozenset({ADMIN}))
    assert principal_summary(principal) == {"id": "function-key", "name": "function key holder",
                                            "auth": "key"}


def test_key_mode_admin_role_follows_the_setting() -> None:
    principal = authorize({}, ApiConfig(admin_role="Ops.Admin"), Role.ADMIN)
    assert principal.roles == frozenset({"Ops.Admin"})


@pytest.mark.parametrize("name", ["X-MS-CLIENT-PRINCIPAL", "x-ms-client-principal", "X-Ms-Client-Principal",
                                  "X-MS-CLIENT-PRINCIPAL-ID", "x-ms-client-principal-name",
                                  "X-MS-CLIENT-PRINCIPAL-IDP"])
def test_key_mode_refuses_forged_principal_headers(name: str) -> None:
    value = client_principal([ADMIN]) if name.lower() == "x-ms-client-principal" else "attacker"
    error = refused({name: value}, KEY, Role.ADMIN)
    assert error.detail == ("X-MS-CLIENT-PRINCIPAL is not trusted: platform authentication is not configured "
                            "(API_AUTH=platform)")
    assert error.www_authenticate is None
    assert error.headers == {}


@pytest.mark.parametrize("value", ["Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "bearer abc", "BEARER x"])
def test_key_mode_refuses_bearer_tokens(value: str) -> None:
    error = refused({"Authorization": value}, KEY)
    assert "API_AUTH=jwt" in error.detail
    assert value.split()[-1] not in error.detail


def test_key_mode_ignores_other_authorization_schemes() -> None:
    # Basic credentials vouch for nothing here; the function key (checked by the host) is what counts.
    assert authorize({"Authorization": "Basic dXNlcjpwdw=="}, KEY, Role.ADMIN).auth == "key"


# ----------------------------------------------------------------------------------------- platform


def test_platform_missing_principal_is_401() -> None:
    for headers in ({}, {"X-MS-CLIENT-PRINCIPAL": ""}, {"X-MS-CLIENT-PRINCIPAL": "   "},
                    {"X-MS-CLIENT-PRINCIPAL-ID": USER_OID, "X-MS-CLIENT-PRINCIPAL-NAME": "abeli"}):
        assert "missing" in refused(headers, PLATFORM).detail


@pytest.mark.parametrize("value", [
    "not base64 at all!",
    "%%%%",
    base64.b64encode(b"{not json").decode(),
    base64.b64encode(b"\xff\xfe\x00garbage").decode(),  # not UTF-8
    base64.b64encode(b"[1, 2]").decode(),  # JSON, but not an object
    base64.b64encode(b'"aad"').decode(),
    base64.b64encode(json.dumps({"auth_typ": "aad"}).encode()).decode(),  # no claims
    base64.b64encode(json.dumps({"claims": {"typ": "roles"}}).encode()).decode(),  # claims not a list
    base64.b64encode(json.dumps({"claims": ["roles"]}).encode()).decode(),
    base64.b64encode(json.dumps({"claims": [{"typ": "roles", "val": 1}]}).encode()).decode(),
    base64.b64encode(json.dumps({"claims": [{"val": ADMIN}]}).encode()).decode(),
    "QQ==" * 20_000,  # far larger than anything Easy Auth sends
    base64.b64encode(b"[" * 20_000 + b"]" * 20_000).decode(),  # nested past the JSON parser's stack
    base64.b64encode(b'{"claims": ' + b"[" * 20_000 + b"]" * 20_000 + b"}").decode(),
])
def test_platform_malformed_principal_is_401(value: str) -> None:
    error = refused({"X-MS-CLIENT-PRINCIPAL": value}, PLATFORM)
    assert error.detail.startswith("X-MS-CLIENT-PRINCIPAL is malformed")


@pytest.mark.parametrize("need", list(Role))
def test_platform_without_role_is_403(need: Role) -> None:
    principal = client_principal([], extra=[{"typ": "groups", "val": ADMIN}])
    with pytest.raises(Forbidden) as caught:
        authorize({"X-MS-CLIENT-PRINCIPAL": principal}, PLATFORM, need)
    assert caught.value.status == 403
    assert ADMIN in caught.value.detail
    assert caught.value.headers == {}


def test_platform_reader_may_read_but_not_administer() -> None:
    headers = {"X-MS-CLIENT-PRINCIPAL": client_principal([READER])}
    principal = authorize(headers, PLATFORM, Role.READER)
    assert principal.roles == frozenset({READER})
    assert principal.auth == "platform"
    with pytest.raises(Forbidden):
        authorize(headers, PLATFORM, Role.ADMIN)


@pytest.mark.parametrize("need", list(Role))
def test_platform_admin_may_do_both(need: Role) -> None:
    principal = authorize({"X-MS-CLIENT-PRINCIPAL": client_principal([ADMIN, "Other"])}, PLATFORM, need)
    assert principal.roles == frozenset({ADMIN, "Other"})


@pytest.mark.parametrize(("role_typ", "role_claim"), [
    (ROLE_URI, None),  # the usual mapping: role_typ names the role claim URI
    ("roles", None),  # unmapped claim name
    ("app_roles", None),  # whatever role_typ says
    (None, "roles"),  # no role_typ at all: the raw "roles" claim still counts
    (None, ROLE_URI),
    ("app_roles", "roles"),  # role_typ custom, roles in the raw claim
    ("app_roles", ROLE_URI),
])
def test_platform_role_claim_type_variants(role_typ: str | None, role_claim: str | None) -> None:
    header = client_principal([ADMIN], role_typ=role_typ, role_claim=role_claim)
    assert authorize({"X-MS-CLIENT-PRINCIPAL": header}, PLATFORM, Role.ADMIN).roles == frozenset({ADMIN})


def test_platform_roles_only_from_role_claims() -> None:
    header = client_principal([ADMIN], role_typ=ROLE_URI, role_claim="groups")
    with pytest.raises(Forbidden):
        authorize({"X-MS-CLIENT-PRINCIPAL": header}, PLATFORM, Role.READER)


def test_platform_custom_role_names() -> None:
    api = ApiConfig(auth="platform", admin_role="Ops.Admin", reader_role="Ops.Read",
                    platform_auth_enabled=True)
    header = client_principal(["Ops.Read"])
    assert authorize({"X-MS-CLIENT-PRINCIPAL": header}, api, Role.READER).roles == frozenset({"Ops.Read"})
    with pytest.raises(Forbidden, match=r"Ops\.Admin"):
        authorize({"X-MS-CLIENT-PRINCIPAL": header}, api, Role.ADMIN)
    # The default names mean nothing once the settings name other roles.
    with pytest.raises(Forbidden):
        authorize({"X-MS-CLIENT-PRINCIPAL": client_principal([ADMIN])}, api, Role.READER)


def test_platform_identity_prefers_the_id_and_name_headers() -> None:
    headers = {"x-ms-client-principal": client_principal([READER]),
               "x-ms-client-principal-id": "id-from-header", "X-MS-CLIENT-PRINCIPAL-NAME": "name-from-header"}
    principal = authorize(headers, PLATFORM, Role.READER)
    assert (principal.id, principal.name) == ("id-from-header", "name-from-header")


def test_platform_identity_from_claims() -> None:
    principal = authorize({"X-MS-CLIENT-PRINCIPAL": client_principal([READER])}, PLATFORM, Role.READER)
    assert principal_summary(principal) == {"id": USER_OID, "name": "abeli@contoso.com", "auth": "platform"}


def test_platform_identity_from_raw_oid_claim_and_no_name() -> None:
    document = {"auth_typ": "aad", "role_typ": "roles",
                "claims": [{"typ": "oid", "val": "raw-oid"}, {"typ": "roles", "val": READER}]}
    header = base64.b64encode(json.dumps(document).encode()).decode()
    principal = authorize({"X-MS-CLIENT-PRINCIPAL": header}, PLATFORM, Role.READER)
    assert (principal.id, principal.name) == ("raw-oid", "raw-oid")


def test_platform_without_any_identifier_is_401() -> None:
    document = {"auth_typ": "aad", "role_typ": "roles", "claims": [{"typ": "roles", "val": ADMIN}]}
    header = base64.b64encode(json.dumps(document).encode()).decode()
    assert "object id" in refused({"X-MS-CLIENT-PRINCIPAL": header}, PLATFORM, Role.ADMIN).detail


def test_platform_accepts_base64_without_padding() -> None:
    header = client_principal([ADMIN]).rstrip("=")
    assert authorize({"X-MS-CLIENT-PRINCIPAL": header}, PLATFORM, Role.ADMIN).id == USER_OID


def test_platform_ignores_bearer_tokens() -> None:
    # Easy Auth forwards the Authorization header; in this mode only its principal counts.
    with pytest.raises(Unauthenticated):
        authorize({"Authorization": "Bearer a.b.c"}, PLATFORM, Role.READER)


def test_platform_conflicting_duplicate_header_is_401() -> None:
    headers = {"X-MS-CLIENT-PRINCIPAL": client_principal([READER]),
               "x-ms-client-principal": client_principal([ADMIN])}
    assert "more than once" in refused(headers, PLATFORM).detail


def test_platform_with_real_functions_request_headers() -> None:
    # What the HTTP trigger hands over: azure.functions' own (case-insensitive) header mapping.
    request = func.HttpRequest("GET", "http://127.0.0.1/api/settings", body=b"",
                               headers={"x-ms-client-principal": client_principal([ADMIN])})
    assert authorize(request.headers, PLATFORM, Role.ADMIN).roles == frozenset({ADMIN})


def test_modes_from_app_settings() -> None:
    config = load_config({"DATAVERSE_URL": "https://contoso.crm4.dynamics.com", "API_AUTH": "Platform",
                          "API_ADMIN_ROLE": "Ops.Admin", "WEBSITE_AUTH_ENABLED": "True"})
    with pytest.raises(Forbidden):
        authorize({"X-MS-CLIENT-PRINCIPAL": client_principal([ADMIN])}, config.api, Role.ADMIN)
    assert authorize({"X-MS-CLIENT-PRINCIPAL": client_principal(["Ops.Admin"])}, config.api, Role.ADMIN)


# ------------------------------------------------------------- platform without App Service Authentication

NOT_ENABLED = ("App Service Authentication is not enabled on this app (WEBSITE_AUTH_ENABLED); "
               "X-MS-CLIENT-PRINCIPAL cannot be trusted")


@pytest.mark.parametrize("value", [None, "", "False", "false", "0", "1", "yes", "garbage"])
def test_platform_mode_refuses_everything_unless_app_service_auth_is_on(value: str | None) -> None:
    env = {"DATAVERSE_URL": "https://contoso.crm4.dynamics.com", "API_AUTH": "platform"}
    if value is not None:
        env["WEBSITE_AUTH_ENABLED"] = value
    config = load_config(env)  # never a config error: timers and workers load the same config
    assert config.api.platform_auth_enabled is False
    # even a well-formed admin principal: without Easy Auth in front anyone could have sent it
    headers = {"X-MS-CLIENT-PRINCIPAL": client_principal([ADMIN])}
    for need in Role:
        assert refused(headers, config.api, need).detail == NOT_ENABLED


@pytest.mark.parametrize("value", ["True", "true", " TRUE "])
def test_website_auth_enabled_is_case_insensitive(value: str) -> None:
    config = load_config({"DATAVERSE_URL": "https://contoso.crm4.dynamics.com", "API_AUTH": "platform",
                          "WEBSITE_AUTH_ENABLED": value})
    assert config.api.platform_auth_enabled is True
    headers = {"X-MS-CLIENT-PRINCIPAL": client_principal([ADMIN])}
    assert authorize(headers, config.api, Role.ADMIN).roles == frozenset({ADMIN})


def test_website_auth_enabled_does_not_relax_key_mode() -> None:
    config = load_config({"DATAVERSE_URL": "https://contoso.crm4.dynamics.com",
                          "WEBSITE_AUTH_ENABLED": "True"})
    assert config.api.auth == "key"
    refused({"X-MS-CLIENT-PRINCIPAL": client_principal([ADMIN])}, config.api, Role.ADMIN)
