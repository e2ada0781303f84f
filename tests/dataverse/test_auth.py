"""Token providers, without any Microsoft endpoint.

The msal path runs against a tiny token server on 127.0.0.1. msal only accepts ``https://`` authorities
(``msal.authority.canonicalize``), so the authority is ``https://login.test/<tenant>`` (a reserved
``.test`` name that cannot resolve) and an injected ``http_client`` rewrites it to the local http server.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests

from functions.config import DataverseConfig
from functions.dataverse import (
    AuthenticationError,
    AzureIdentityTokenProvider,
    MsalTokenProvider,
    StaticTokenProvider,
    TokenProvider,
    build_token_provider,
    clear_token_provider_cache,
)

SECRET = "s3cr3t-value-never-logged"


class FakeCredential:
    instances = 0

    def __init__(self, expires_in: float = 3600) -> None:
        FakeCredential.instances += 1
        self.number = FakeCredential.instances
        self.calls = 0
        self.expires_in = expires_in

    def get_token(self, *scopes: str) -> SimpleNamespace:
        self.calls += 1
        assert scopes == ("https://org.crm.dynamics.com/.default",)
        return SimpleNamespace(token=f"cred{self.number}-call{self.calls}", expires_on=1000 + self.expires_in)


def test_azure_identity_provider_caches_and_refreshes_before_expiry() -> None:
    now = [1000.0]
    made: list[FakeCredential] = []

    def factory() -> FakeCredential:
        made.append(FakeCredential())
        return made[-1]

    provider = AzureIdentityTokenProvider(
        "https://org.crm.dynamics.com/.default", factory, refresh_margin=300, clock=lambda: now[0]
    )
    assert made == []  # lazy: nothing built before the first token
    first = provider.get_token()
    assert provider.get_token() == first
    assert made[0].calls == 1
    now[0] = 1000 + 3600 - 299  # inside the refresh margin
    second = provider.get_token()
    assert second != first
    assert made[0].calls == 2
    assert len(made) == 1
    # force_refresh drops the credential (and with it azure-identity's in-memory cache).
    third = provider.get_token(force_refresh=True)
    assert len(made) == 2
    assert third.startswith(f"cred{made[1].number}-")


def test_azure_identity_forced_refresh_of_an_already_replaced_token_reuses_the_new_one() -> None:
    made: list[FakeCredential] = []

    def factory() -> FakeCredential:
        made.append(FakeCredential())
        return made[-1]

    provider = AzureIdentityTokenProvider(
        "https://org.crm.dynamics.com/.default", factory, clock=lambda: 1000.0
    )
    old = provider.get_token()
    new = provider.get_token(force_refresh=True, rejected_token=old)
    assert new != old
    assert len(made) == 2
    # A second request that was rejected with the old token must not trigger another refresh.
    assert provider.get_token(force_refresh=True, rejected_token=old) == new
    assert len(made) == 2
    assert made[1].calls == 1


def test_azure_identity_failure_becomes_authentication_error(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def get_token(self, *scopes: str) -> Any:
            raise RuntimeError("ManagedIdentityCredential authentication unavailable")

    provider = AzureIdentityTokenProvider("x/.default", Broken)
    with pytest.raises(AuthenticationError) as info:
        provider.get_token()
    assert info.value.status is None
    assert "unavailable" in info.value.message


def test_static_provider_rotation() -> None:
    provider = StaticTokenProvider("one", refreshed_token="two")
    assert isinstance(provider, TokenProvider)
    assert provider.get_token() == "one"
    assert provider.get_token(force_refresh=True) == "two"
    assert provider.get_token() == "two"
    assert (provider.calls, provider.forced) == (3, 1)


def test_build_token_provider_is_cached_per_config_and_lazy() -> None:
    clear_token_provider_cache()
    local = DataverseConfig(url="http://127.0.0.1:5555", auth="local")
    assert build_token_provider(local) is build_token_provider(
        DataverseConfig(url="http://127.0.0.1:5555", auth="local")
    )
    assert isinstance(build_token_provider(local), StaticTokenProvider)
    # Managed identity: building must not touch the network (no IMDS call until get_token()).
    mi = DataverseConfig(url="https://org.crm.dynamics.com", auth="managed_identity", client_id="abc")
    provider = build_token_provider(mi)
    assert isinstance(provider, AzureIdentityTokenProvider)
    assert provider is build_token_provider(mi)
    assert provider is not build_token_provider(DataverseConfig(url="https://org.crm.dynamics.com"))
    secret = DataverseConfig(
        url="https://org.crm.dynamics.com",
        auth="client_secret",
        tenant_id="t",
        client_id="c",
        client_secret=SECRET,
    )
    assert isinstance(build_token_provider(secret), MsalTokenProvider)
    assert SECRET not in repr(build_token_provider(secret).__dict__.get("_app"))
    clear_token_provider_cache()


def test_certificate_config_builds_pfx_credential() -> None:
    clear_token_provider_cache()
    cert = DataverseConfig(
        url="https://org.crm.dynamics.com",
        auth="certificate",
        tenant_id="t",
        client_id="c",
        certificate_path="/secrets/app.pfx",
        certificate_password="pw",
    )
    provider = build_token_provider(cert)
    assert isinstance(provider, MsalTokenProvider)
    assert provider._credential == {"private_key_pfx_path": "/secrets/app.pfx", "passphrase": "pw"}
    clear_token_provider_cache()


# ---------------------------------------------------------------- msal against a local token endpoint


class TokenServer:
    def __init__(self) -> None:
        self.token_requests: list[dict[str, list[str]]] = []
        self.fail_with: dict[str, str] | None = None
        self.delay = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, payload: dict[str, Any], status: int = 200) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                assert self.path.startswith("/tenant1/v2.0/.well-known/openid-configuration"), self.path
                self._send(
                    {
                        "authorization_endpoint": "https://login.test/tenant1/oauth2/v2.0/authorize",
                        "token_endpoint": "https://login.test/tenant1/oauth2/v2.0/token",
                        "issuer": "https://login.test/tenant1/v2.0",
                    }
                )

            def do_POST(self) -> None:
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                server.token_requests.append(form)
                if server.delay:
                    time.sleep(server.delay)
                if server.fail_with:
                    self._send(server.fail_with, 401)
                    return
                n = len(server.token_requests)
                self._send({"access_token": f"msal-token-{n}", "expires_in": 3600, "token_type": "Bearer"})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class LoopbackSession(requests.Session):
    """Rewrites https://login.test to the local token server; refuses any other host."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        prefix = "https://login.test/"
        if not url.startswith(prefix):
            raise AssertionError(f"msal tried to reach {url}")
        return super().request(method, f"http://127.0.0.1:{self.port}/" + url[len(prefix) :], *args, **kwargs)


@pytest.fixture
def token_server() -> Iterator[TokenServer]:
    server = TokenServer()
    yield server
    server.close()


def _msal_provider(server: TokenServer) -> MsalTokenProvider:
    return MsalTokenProvider(
        client_id="00000000-0000-0000-0000-0000000000aa",
        client_credential=SECRET,
        scope="https://org.crm.dynamics.com/.default",
        authority="https://login.test/tenant1",
        http_client=LoopbackSession(server.port),
        instance_discovery=False,
    )


def test_msal_provider_uses_cache_and_force_refresh_removes_tokens(token_server: TokenServer) -> None:
    provider = _msal_provider(token_server)
    assert provider.get_token() == "msal-token-1"
    assert provider.get_token() == "msal-token-1"  # served from msal's cache
    assert len(token_server.token_requests) == 1
    form = token_server.token_requests[0]
    assert form["grant_type"] == ["client_credentials"]
    assert form["scope"][0].split()[0] == "https://org.crm.dynamics.com/.default"
    assert provider.get_token(force_refresh=True) == "msal-token-2"
    assert len(token_server.token_requests) == 2


def test_msal_forced_refresh_of_an_already_replaced_token_reuses_the_new_one(
    token_server: TokenServer,
) -> None:
    provider = _msal_provider(token_server)
    old = provider.get_token()
    assert provider.get_token(force_refresh=True, rejected_token=old) == "msal-token-2"
    assert provider.get_token(force_refresh=True, rejected_token=old) == "msal-token-2"  # from cache
    assert len(token_server.token_requests) == 2


def test_msal_token_request_times_out(token_server: TokenServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # msal applies ``timeout`` only to the requests.Session it builds itself, so no http_client here:
    # requests.Session.request is wrapped to send msal's https://login.test calls to the local server.
    original = requests.Session.request
    timeouts: list[Any] = []

    def loopback(self: requests.Session, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        prefix = "https://login.test/"
        if not url.startswith(prefix):
            raise AssertionError(f"msal tried to reach {url}")
        timeouts.append(kwargs.get("timeout"))
        return original(
            self, method, f"http://127.0.0.1:{token_server.port}/" + url[len(prefix) :], *args, **kwargs
        )

    monkeypatch.setattr(requests.Session, "request", loopback)
    token_server.delay = 3.0
    provider = MsalTokenProvider(
        client_id="00000000-0000-0000-0000-0000000000aa",
        client_credential=SECRET,
        scope="https://org.crm.dynamics.com/.default",
        authority="https://login.test/tenant1",
        instance_discovery=False,
        timeout=0.5,
    )
    started = time.monotonic()
    with pytest.raises(AuthenticationError) as info:
        provider.get_token()
    assert time.monotonic() - started < 2.5  # not the 3 s the token endpoint takes
    assert "Timeout" in info.value.code
    assert timeouts
    assert set(timeouts) == {0.5}


@pytest.mark.parametrize("auth", ["client_secret", "certificate"])
def test_build_token_provider_gives_msal_the_request_timeout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, auth: str
) -> None:
    import msal

    seen: dict[str, Any] = {}

    class FakeApp:
        def __init__(self, client_id: str, **kwargs: Any) -> None:
            seen.update(kwargs)

        def acquire_token_for_client(self, scopes: list[str]) -> dict[str, Any]:
            return {"access_token": "t", "expires_in": 3600}

    monkeypatch.setattr(msal, "ConfidentialClientApplication", FakeApp)
    pem = tmp_path / "app.pem"
    pem.write_text("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n")
    options: dict[str, Any] = (
        {"client_secret": SECRET} if auth == "client_secret" else {"certificate_path": str(pem)}
    )
    clear_token_provider_cache()
    config = DataverseConfig(
        url="https://org.crm.dynamics.com",
        auth=auth,
        tenant_id="t",
        client_id="c",
        timeout_seconds=17,
        **options,
    )
    assert build_token_provider(config).get_token() == "t"
    assert seen["timeout"] == 17
    clear_token_provider_cache()


def test_msal_error_becomes_authentication_error_without_secret_in_logs(
    token_server: TokenServer, caplog: pytest.LogCaptureFixture
) -> None:
    token_server.fail_with = {
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret.",
    }
    provider = _msal_provider(token_server)
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationError) as info:
        provider.get_token()
    assert info.value.code == "invalid_client"
    assert "AADSTS7000215" in info.value.message
    assert SECRET not in caplog.text
    assert SECRET not in str(info.value)
