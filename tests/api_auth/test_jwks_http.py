"""API_AUTH=jwt with the real ``PyJWKClient`` fetching a JWKS document over loopback HTTP."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from functions.api.auth import (
    JWKS_LIFESPAN_SECONDS,
    JWKS_REFRESH_INTERVAL_SECONDS,
    JWKS_TIMEOUT_SECONDS,
    Principal,
    Role,
    Unauthenticated,
    authorize,
    jwks_client,
)
from tests.api_auth.conftest import ADMIN, READER, USER_OID, JwksServer, KeyPair, b64url, jwt_api

Maker = Callable[..., str]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refused(token: str, server_url: str, need: Role = Role.READER) -> str:
    with pytest.raises(Unauthenticated) as caught:
        authorize(bearer(token), jwt_api(server_url), need)
    assert caught.value.status == 401
    assert caught.value.www_authenticate.startswith('Bearer error="invalid_token"')
    return caught.value.detail


def test_keys_fetched_once_and_cached(make_token: Maker, jwks_server: JwksServer) -> None:
    api = jwt_api(jwks_server.url)
    principal = authorize(bearer(make_token()), api, Role.ADMIN)
    assert (principal.id, principal.auth, principal.roles) == (USER_OID, "jwt", frozenset({ADMIN}))
    assert authorize(bearer(make_token(roles=[READER])), api, Role.READER).roles == {READER}
    assert jwks_server.fetches == 1  # the JWK set (and the key) came from the cache the second time

    client = jwks_client(jwks_server.url)
    assert client is jwks_client(jwks_server.url)
    assert client.timeout == JWKS_TIMEOUT_SECONDS
    assert client.jwk_set_cache is not None
    assert client.jwk_set_cache.lifespan == JWKS_LIFESPAN_SECONDS


def test_cached_keys_outlive_a_jwks_outage(make_token: Maker, jwks_server: JwksServer) -> None:
    api = jwt_api(jwks_server.url)
    assert authorize(bearer(make_token()), api, Role.ADMIN)
    jwks_server.stop()
    assert authorize(bearer(make_token()), api, Role.ADMIN).id == USER_OID


def test_concurrent_first_requests_share_one_client(make_token: Maker, jwks_server: JwksServer) -> None:
    api = jwt_api(jwks_server.url)
    token = make_token()
    results: list[Principal | BaseException] = []
    start = threading.Barrier(8)

    def call() -> None:
        start.wait()
        try:
            results.append(authorize(bearer(token), api, Role.ADMIN))
        except BaseException as exc:  # collected and asserted below
            results.append(exc)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(isinstance(r, Principal) for r in results), results
    assert len(results) == 8
    assert jwks_server.fetches == 1


def test_unknown_kid(make_token: Maker, jwks_server: JwksServer, other_key: KeyPair) -> None:
    assert refused(make_token(key=other_key), jwks_server.url) == "the token signing key is unknown"
    # A known kid with a foreign signature is a bad signature, not an unknown key.
    forged = make_token(key=other_key, kid="key-1")
    assert refused(forged, jwks_server.url) == "the token signature is invalid"


def test_jwks_server_down_fails_closed(make_token: Maker, signing_key: KeyPair) -> None:
    server = JwksServer({"keys": [signing_key.jwk()]}).start()
    url = server.url
    server.stop()  # nothing listens on that port any more: connection refused
    detail = refused(make_token(), url, Role.ADMIN)
    assert detail == "the token signing keys could not be fetched (API_JWKS_URL)"


def test_jwks_server_error_fails_closed(make_token: Maker, jwks_server: JwksServer) -> None:
    jwks_server.status = 500
    assert "could not be fetched" in refused(make_token(), jwks_server.url)


@pytest.mark.parametrize("body", [b"<html>maintenance</html>", b"[]", b'{"keys": []}', b'{"keys": "x"}'])
def test_broken_jwks_document_fails_closed(make_token: Maker, jwks_server: JwksServer, body: bytes) -> None:
    jwks_server.raw = body
    refused(make_token(), jwks_server.url)


def test_symmetric_key_in_the_jwks_is_never_used(make_token: Maker, jwks_server: JwksServer,
                                                 signing_key: KeyPair) -> None:
    # A JWKS that publishes an "oct" key under the token's kid must not verify anything.
    jwks_server.document = {"keys": [{"kty": "oct", "kid": "key-1", "use": "sig",
                                      "k": b64url(b"0123456789abcdef0123456789abcdef")}]}
    assert refused(make_token(), jwks_server.url) == "the token signing key is not an RS256 key"


def test_unknown_kids_do_not_refetch_the_jwks_every_time(make_token: Maker, jwks_server: JwksServer,
                                                         other_key: KeyPair) -> None:
    """A made-up kid must not turn each request into a JWKS download: after a fetch, unknown kids are
    refused from the cached set for JWKS_REFRESH_INTERVAL_SECONDS; known kids keep working."""
    assert authorize(bearer(make_token()), jwt_api(jwks_server.url), Role.ADMIN).id == USER_OID
    for i in range(5):
        detail = refused(make_token(key=other_key, kid=f"made-up-{i}"), jwks_server.url)
        assert detail == "the token signing key is unknown"
    assert jwks_server.fetches == 1
    assert jwks_client(jwks_server.url).cooldown_duration == JWKS_REFRESH_INTERVAL_SECONDS == 60
    assert authorize(bearer(make_token()), jwt_api(jwks_server.url), Role.ADMIN).id == USER_OID
    assert jwks_server.fetches == 1
