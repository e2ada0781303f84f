"""The settings API over real HTTP: ``function_app.app`` served by the local Functions host.

Fixture ``api`` (and ``api_factory`` for variants): a Dataverse emulator with a small generated org,
the session's Azurite (tables + the run queue), a sample profile snapshot for that org, the app settings
set in the process environment (the app reads them per request), and ``LocalFunctionsHost`` serving
``function_app.app`` on 127.0.0.1 with a known function key. Each test gets its own state tables
(unique STATE_TABLE_PREFIX); the run queue has a fixed name, so it is emptied before and after each
test (a message left by one test must not start a scan in the next one).

``jwt_issuer``: a locally generated RSA key whose JWKS is served over loopback HTTP, minting tokens
with PyJWT. Nothing reaches Entra ID or any other network.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from dataverse_emulator import Emulator, OrgSpec
from dataverse_emulator.generator import SampleOrg, generate_org
from localdev.azurite import Azurite
from localdev.sample_profiles import write_profile_file

ORG = OrgSpec(contacts=60)
RUN_QUEUE_NAME = "data-validation-runs"
# Markers standing in for secrets: no response body or header may ever contain them.
SECRET_PDL_KEY = "pdl-secret-MARKER-7f3a9c1e5b"
SECRET_CLIENT_SECRET = "client-secret-MARKER-2d8e4b6a0c"
# The signature of a blob SAS token in PROFILE_FILE (tests that set one use ``sas_profile_url``).
SECRET_SAS_SIG = "sas-sig-MARKER-9b1d3f5e7a"
ADMIN_ROLE = "DataValidation.Admin"
READER_ROLE = "DataValidation.Reader"
JWT_AUDIENCE = "api://dval-settings-test"
JWT_ISSUER = "https://login.test.invalid/tenant-0000/v2.0"
TERMINAL = {"succeeded", "completed_with_errors", "failed", "skipped_locked", "disabled"}


@dataclass
class Api:
    """A running host plus the things around it, with a few request helpers.

    Every response goes through :meth:`request` and is kept in ``responses`` so tests can check that
    nothing secret was ever echoed.
    """

    base: str  # http://127.0.0.1:<port> (routes are under /api)
    key: str
    emulator: Emulator
    sample: SampleOrg
    profile_path: Path
    env: dict[str, str]
    host: Any
    session: requests.Session = field(default_factory=requests.Session)
    responses: list[requests.Response] = field(default_factory=list)

    def url(self, path: str) -> str:
        return urljoin(self.base + "/", path.lstrip("/"))

    def request(self, method: str, path: str, *, key: bool | str = True,
                headers: Mapping[str, str] | None = None, fresh: bool = False,
                **kwargs: Any) -> requests.Response:
        """``key=True`` sends the function key in ``x-functions-key``; a string sends that key instead;
        ``False`` sends none. ``fresh=True`` uses a connection of its own (not the kept-alive one)."""
        sent = dict(headers or {})
        if key is True:
            sent["x-functions-key"] = self.key
        elif isinstance(key, str):
            sent["x-functions-key"] = key
        kwargs.setdefault("timeout", 60)
        if fresh:
            with requests.Session() as session:
                response = session.request(method, self.url(path), headers=sent, **kwargs)
        else:
            response = self.session.request(method, self.url(path), headers=sent, **kwargs)
        self.responses.append(response)
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def patch(self, path: str, body: Any, *, if_match: str | None = None, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if if_match is not None:
            headers["If-Match"] = if_match
        headers.setdefault("Content-Type", "application/merge-patch+json")
        return self.request("PATCH", path, data=json.dumps(body), headers=headers, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        data = None
        if body is not None:
            headers.setdefault("Content-Type", "application/json")
            data = json.dumps(body)
        return self.request("POST", path, data=data, headers=headers, **kwargs)

    def settings(self, **kwargs: Any) -> tuple[dict[str, Any], str]:
        """The current settings document and its ETag (asserting the GET itself succeeded)."""
        response = self.get("/api/settings", **kwargs)
        assert response.status_code == 200, (response.status_code, response.text)
        etag = response.headers.get("ETag")
        assert etag, "GET /api/settings must carry an ETag"
        return response.json(), etag

    def change_settings(self, patch: dict[str, Any], **kwargs: Any) -> requests.Response:
        _body, etag = self.settings(**kwargs)
        return self.patch("/api/settings", patch, if_match=etag, **kwargs)

    def wait_for_run(self, run_id: str, *, until: set[str] = TERMINAL,
                     timeout: float = 90.0) -> dict[str, Any]:
        """Poll GET /api/runs/{id} (what a client would do after a 202) until the status is in ``until``."""
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            response = self.get(f"/api/runs/{run_id}")
            assert response.status_code == 200, (response.status_code, response.text)
            last = response.json()
            if last.get("status") in until:
                return last
            time.sleep(0.2)
        raise AssertionError(f"run {run_id} did not reach {sorted(until)} in {timeout} s: {last}")

    def secrets(self) -> list[str]:
        return [SECRET_PDL_KEY, SECRET_CLIENT_SECRET, SECRET_SAS_SIG, self.key]

    def leaked(self) -> list[str]:
        """Requests whose response echoed a secret (body or any header)."""
        found = []
        for response in self.responses:
            text = response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
            for secret in self.secrets():
                if secret in text:
                    request = response.request
                    found.append(f"{request.method} {request.url} -> {response.status_code}")
        return found


def sas_profile_url(azurite: Azurite, name: str = "profiles.jsonl") -> tuple[str, str]:
    """(PROFILE_FILE with a SAS query carrying ``SECRET_SAS_SIG``, the same URL without its query). The
    blob does not exist; what matters is that the token never comes back in any response."""
    base = f"http://127.0.0.1:{azurite.blob_port}/devstoreaccount1/profiles-{uuid.uuid4().hex[:8]}/{name}"
    return f"{base}?sv=2025-01-05&sr=b&sp=r&se=2099-01-01T00%3A00%3A00Z&sig={SECRET_SAS_SIG}", base


def _host_base(host: Any) -> str:
    """The host's root URL (``http://127.0.0.1:<port>``): ``.url`` includes the route prefix."""
    url = str(host.url).rstrip("/")
    return url.removesuffix("/api")


def _clear_run_queue(connection_string: str) -> None:
    from azure.core.exceptions import ResourceNotFoundError
    from azure.storage.queue import QueueClient

    for name in (RUN_QUEUE_NAME, f"{RUN_QUEUE_NAME}-poison"):
        client = QueueClient.from_connection_string(connection_string, name)
        try:
            client.clear_messages()
        except ResourceNotFoundError:
            pass
        finally:
            client.close()


@pytest.fixture(scope="session")
def sample_org() -> SampleOrg:
    return generate_org(ORG)


@pytest.fixture(scope="session")
def profile_file(sample_org: SampleOrg, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One sample profile snapshot for the org (the file source only reads it)."""
    path = tmp_path_factory.mktemp("api-profiles") / "profiles.jsonl"
    write_profile_file(sample_org, path, today=datetime.now(UTC).date())
    return path


ApiFactory = Callable[..., Api]


@pytest.fixture
def api_factory(
    azurite: Azurite,
    emulator_factory: Callable[..., Emulator],
    sample_org: SampleOrg,
    profile_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[ApiFactory]:
    """``api_factory(auth="key", env={...}, emulator={...}, drain_queues=True) -> Api``.

    One host per test (the app reads its settings from ``os.environ`` per request, so two hosts with
    different settings cannot share a process at the same time)."""
    hosts: list[Any] = []
    apis: list[Api] = []
    _clear_run_queue(azurite.connection_string)

    def make(*, auth: str = "key", env: Mapping[str, str] | None = None,
             emulator: Mapping[str, Any] | None = None, drain_queues: bool = True) -> Api:
        import function_app
        from functions.localhost import LocalFunctionsHost

        assert not hosts, "one host per test"
        emu = emulator_factory(ORG, **dict(emulator or {}))
        settings = {
            "DATAVERSE_URL": emu.url,
            "DATAVERSE_AUTH": "local",
            "DATAVERSE_MAX_RETRIES": "0",
            "DATAVERSE_CLIENT_SECRET": SECRET_CLIENT_SECRET,
            "STATE_STORAGE_CONNECTION": azurite.connection_string,
            "AzureWebJobsStorage": azurite.connection_string,
            "PROFILE_FILE": str(profile_file),
            "PDL_API_KEY": SECRET_PDL_KEY,
            # if a test (or the fuzzer) switches to the PDL source, its calls hit a closed loopback
            # port instead of the internet
            "PDL_BASE_URL": "http://127.0.0.1:9",
            "PDL_MAX_RETRIES": "0",
            "PDL_TIMEOUT_SECONDS": "2",
            "STATE_TABLE_PREFIX": "t" + uuid.uuid4().hex[:12],
            "SCAN_BATCH_SIZE": "100",
            "API_AUTH": auth,
            **dict(env or {}),
        }
        for name in ("SCAN_ENABLED", "SCAN_DRY_RUN", "SYNC_USER_IDS", "SYNC_TEAM", "SYNC_ROLE",
                     "PROFILE_SOURCE", "API_ADMIN_ROLE", "API_READER_ROLE", "API_JWT_AUDIENCE",
                     "API_JWT_ISSUER", "API_JWKS_URL", "WEBSITE_AUTH_ENABLED"):
            monkeypatch.delenv(name, raising=False)
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        key = "test-key-" + uuid.uuid4().hex
        host = LocalFunctionsHost(function_app.app, host="127.0.0.1", port=0, key=key,
                                  drain_queues=drain_queues)
        host.start()
        hosts.append(host)
        api = Api(_host_base(host), key, emu, sample_org, profile_file, settings, host)
        apis.append(api)
        return api

    yield make
    for host in hosts:
        host.stop()
    for api in apis:
        api.session.close()
    _clear_run_queue(azurite.connection_string)


@pytest.fixture
def api(api_factory: ApiFactory) -> Api:
    """Function-key mode (API_AUTH=key): whoever holds the key is an admin."""
    return api_factory()


# --- platform authentication (App Service Authentication in front) ---------------------------------


MS_ROLE_CLAIM = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
MS_NAME_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"


def client_principal(*roles: str, name: str = "ada@contoso.test", oid: str | None = None,
                     role_claim: str = "roles", role_typ: str = "roles",
                     name_typ: str = "name") -> dict[str, str]:
    """The headers App Service Authentication adds for a signed-in caller (base64 JSON principal).
    Entra ID sign-ins look like ``role_typ=MS_ROLE_CLAIM`` with the app roles as ``roles`` claims."""
    oid = oid or str(uuid.uuid4())
    principal = {
        "auth_typ": "aad",
        "name_typ": name_typ,
        "role_typ": role_typ,
        "claims": [
            {"typ": name_typ, "val": name},
            {"typ": "http://schemas.microsoft.com/identity/claims/objectidentifier", "val": oid},
            *({"typ": role_claim, "val": role} for role in roles),
        ],
    }
    encoded = base64.b64encode(json.dumps(principal).encode()).decode()
    return {"X-MS-CLIENT-PRINCIPAL": encoded, "X-MS-CLIENT-PRINCIPAL-ID": oid,
            "X-MS-CLIENT-PRINCIPAL-NAME": name, "X-MS-CLIENT-PRINCIPAL-IDP": "aad"}


@pytest.fixture
def platform_api(api_factory: ApiFactory) -> Api:
    # WEBSITE_AUTH_ENABLED=True is what App Service injects when App Service Authentication is on
    return api_factory(auth="platform", env={"WEBSITE_AUTH_ENABLED": "True"})


# --- bearer tokens (JWT validated in code) ----------------------------------------------------------


class _JwksHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(self.server.jwks).encode()  # type: ignore[attr-defined]
        self.server.hits += 1  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class JwtIssuer:
    """A token issuer for tests: an RSA key, its JWKS on loopback HTTP, tokens signed with PyJWT."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa
        from jwt.algorithms import RSAAlgorithm

        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-kid-" + uuid.uuid4().hex[:8]
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _JwksHandler)
        self._server.jwks = {"keys": [jwk]}  # type: ignore[attr-defined]
        self._server.hits = 0  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    @property
    def jwks_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/discovery/v2.0/keys"

    @property
    def hits(self) -> int:
        return int(self._server.hits)  # type: ignore[attr-defined]

    def token(self, *roles: str, aud: str = JWT_AUDIENCE, iss: str = JWT_ISSUER, expires_in: int = 600,
              issued_ago: int = 0, key: Any = None, kid: str | None = None, algorithm: str = "RS256",
              extra: Mapping[str, Any] | None = None) -> str:
        import jwt

        now = datetime.now(UTC) - timedelta(seconds=issued_ago)
        claims = {
            "aud": aud, "iss": iss, "iat": now, "nbf": now, "exp": now + timedelta(seconds=expires_in),
            "sub": "sub-" + uuid.uuid4().hex[:8], "oid": str(uuid.uuid4()),
            "preferred_username": "bob@contoso.test",
            "roles": list(roles), **dict(extra or {}),
        }
        signing_key = None if algorithm == "none" else key if key is not None else self.key
        return jwt.encode(claims, signing_key, algorithm=algorithm, headers={"kid": kid or self.kid})

    def bearer(self, *roles: str, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(*roles, **kwargs)}"}

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def jwt_issuer() -> Iterator[JwtIssuer]:
    issuer = JwtIssuer()
    yield issuer
    issuer.close()


@pytest.fixture
def jwt_api(api_factory: ApiFactory, jwt_issuer: JwtIssuer) -> Api:
    return api_factory(auth="jwt", env={"API_JWT_AUDIENCE": JWT_AUDIENCE, "API_JWT_ISSUER": JWT_ISSUER,
                                        "API_JWKS_URL": jwt_issuer.jwks_url})
