"""Locally generated RSA keys, Entra-shaped tokens and a loopback JWKS endpoint for the auth tests."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from functions.config import ApiConfig

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "6e74172b-be56-4843-9ff4-e66a39bb12e3"
APP_ID_URI = "api://data-validation"
ISSUER_V2 = f"https://login.microsoftonline.com/{TENANT}/v2.0"
ISSUER_V1 = f"https://sts.windows.net/{TENANT}/"
ADMIN = "DataValidation.Admin"
READER = "DataValidation.Reader"
USER_OID = "690222be-ff1a-4d56-abd1-7e4f7d38e474"


@dataclass(frozen=True)
class KeyPair:
    kid: str
    private: rsa.RSAPrivateKey

    @property
    def public(self) -> rsa.RSAPublicKey:
        return self.private.public_key()

    def jwk(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self.public, as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}


@pytest.fixture(scope="session")
def signing_key() -> KeyPair:
    return KeyPair("key-1", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="session")
def other_key() -> KeyPair:
    """A key the API does not trust (an attacker's, or a tenant we do not accept)."""
    return KeyPair("key-2", rsa.generate_private_key(public_exponent=65537, key_size=2048))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def standard_claims(**overrides: Any) -> dict[str, Any]:
    """A v2.0 Entra access token for a user with the admin role; ``None`` overrides remove a claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "aud": CLIENT_ID, "iss": ISSUER_V2, "iat": now - 10, "nbf": now - 10, "exp": now + 3600,
        "oid": USER_OID, "sub": "HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ", "tid": TENANT,
        "preferred_username": "abeli@contoso.com", "name": "Abe Lincoln", "azp": CLIENT_ID,
        "roles": [ADMIN], "ver": "2.0",
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


@pytest.fixture
def make_token(signing_key: KeyPair) -> Callable[..., str]:
    def make(*, key: KeyPair | None = None, kid: str | None = None, headers: dict[str, Any] | None = None,
             **claims: Any) -> str:
        key = key or signing_key
        return jwt.encode(standard_claims(**claims), key.private, algorithm="RS256",
                          headers={"kid": kid or key.kid, **(headers or {})})

    return make


# Tests that inject a resolver never fetch; should one fall through to the default resolver by mistake, it
# meets a closed loopback port (and fails closed) instead of reaching out to the internet.
UNUSED_JWKS_URL = "http://127.0.0.1:9/never-fetched/keys"


def jwt_api(jwks_url: str = UNUSED_JWKS_URL, **overrides: Any) -> ApiConfig:
    values: dict[str, Any] = {"auth": "jwt", "jwt_audience": (CLIENT_ID, APP_ID_URI),
                              "jwt_issuer": (ISSUER_V2,), "jwks_url": jwks_url}
    values.update(overrides)
    return ApiConfig(**values)


@dataclass
class JwksServer:
    """A JWKS endpoint on loopback. ``document`` is served as JSON unless ``status``/``raw`` say otherwise;
    ``fetches`` counts GETs so tests can see the cache at work. Every server gets its own random path, so a
    reused port never meets a ``PyJWKClient`` cached for an earlier server."""

    document: dict[str, Any]
    status: int = 200
    raw: bytes | None = None
    fetches: int = 0
    path: str = field(default_factory=lambda: f"/{uuid.uuid4().hex}/discovery/v2.0/keys")
    server: ThreadingHTTPServer | None = None
    stopped: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{self.path}"

    def start(self) -> JwksServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with owner.lock:
                    owner.fetches += 1
                if self.path != owner.path:
                    self.send_error(404)
                    return
                body = owner.raw if owner.raw is not None else json.dumps(owner.document).encode()
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A short poll interval keeps shutdown (once per test) from costing half a second.
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None and not self.stopped:
            self.stopped = True
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def jwks_server(signing_key: KeyPair) -> Iterator[JwksServer]:
    server = JwksServer({"keys": [signing_key.jwk()]}).start()
    try:
        yield server
    finally:
        server.stop()
