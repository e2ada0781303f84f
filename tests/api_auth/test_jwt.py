"""API_AUTH=jwt with an injected key resolver: the token validation matrix.

The real ``PyJWKClient`` over loopback HTTP is covered in test_jwks_http.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from functions.api.auth import (
    Forbidden,
    Role,
    SigningKey,
    Unauthenticated,
    authorize,
    principal_summary,
)
from functions.config import ApiConfig
from tests.api_auth.conftest import (
    ADMIN,
    APP_ID_URI,
    CLIENT_ID,
    ISSUER_V1,
    ISSUER_V2,
    READER,
    TENANT,
    USER_OID,
    KeyPair,
    b64url,
    jwt_api,
)

API = jwt_api()
Maker = Callable[..., str]


class Resolver:
    """An in-memory key source that records which kids were asked for."""

    def __init__(self, *keys: KeyPair) -> None:
        self.keys: dict[str, SigningKey] = {k.kid: k.public for k in keys}
        self.asked: list[str] = []

    def __call__(self, kid: str) -> SigningKey:
        self.asked.append(kid)
        return self.keys[kid]  # KeyError for an unknown kid, like a real resolver's error


@pytest.fixture
def resolver(signing_key: KeyPair) -> Resolver:
    return Resolver(signing_key)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refused(headers: dict[str, str], resolver: Resolver, *, api: ApiConfig = API,
            need: Role = Role.READER) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as caught:
        authorize(headers, api, need, jwks=resolver)
    error = caught.value
    assert error.status == 401
    assert error.www_authenticate is not None
    assert error.www_authenticate.startswith("Bearer")
    assert error.headers == {"WWW-Authenticate": error.www_authenticate}
    token = headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if len(token) > 8:  # no part of the token is echoed back
        for part in token.split("."):
            assert not part or part not in error.detail + error.www_authenticate
    return error


def invalid_token(headers: dict[str, str], resolver: Resolver, **kwargs) -> str:
    error = refused(headers, resolver, **kwargs)
    assert error.www_authenticate.startswith('Bearer error="invalid_token"')
    return error.detail


# -------------------------------------------------------------------------------------- good tokens


@pytest.mark.parametrize("need", list(Role))
def test_admin_token_may_do_both(make_token: Maker, resolver: Resolver, need: Role) -> None:
    principal = authorize(bearer(make_token()), API, need, jwks=resolver)
    assert principal_summary(principal) == {"id": USER_OID, "name": "abeli@contoso.com", "auth": "jwt"}
    assert principal.roles == frozenset({ADMIN})
    assert resolver.asked == ["key-1"]


def test_reader_may_read_but_not_administer(make_token: Maker, resolver: Resolver) -> None:
    headers = bearer(make_token(roles=[READER]))
    assert authorize(headers, API, Role.READER, jwks=resolver).roles == frozenset({READER})
    with pytest.raises(Forbidden) as caught:
        authorize(headers, API, Role.ADMIN, jwks=resolver)
    assert caught.value.status == 403
    assert caught.value.headers == {"WWW-Authenticate": 'Bearer error="insufficient_scope"'}
    assert ADMIN in caught.value.detail


@pytest.mark.parametrize("roles", [None, [], ["Other.Role"], "Other.Role", 42, [{"x": ADMIN}]])
@pytest.mark.parametrize("need", list(Role))
def test_missing_roles_is_403(make_token: Maker, resolver: Resolver, roles: object, need: Role) -> None:
    token = make_token(roles=roles) if roles is not None else make_token(roles=None)
    with pytest.raises(Forbidden):
        authorize(bearer(token), API, need, jwks=resolver)


def test_single_string_role_counts(make_token: Maker, resolver: Resolver) -> None:
    assert authorize(bearer(make_token(roles=ADMIN)), API, Role.ADMIN, jwks=resolver).roles == {ADMIN}


def test_v1_token_with_app_id_uri_audience(make_token: Maker, resolver: Resolver) -> None:
    api = jwt_api(jwt_issuer=(ISSUER_V2, ISSUER_V1))
    token = make_token(aud=APP_ID_URI, iss=ISSUER_V1, ver="1.0", preferred_username=None, azp=None,
                       unique_name="abeli@contoso.com", appid=CLIENT_ID)
    principal = authorize(bearer(token), api, Role.ADMIN, jwks=resolver)
    assert (principal.id, principal.name) == (USER_OID, "abeli@contoso.com")


def test_app_only_token_named_by_its_client(make_token: Maker, resolver: Resolver) -> None:
    # Client-credentials tokens have no user names; the calling app's id stands in.
    token = make_token(preferred_username=None, name=None, azp="11111111-2222-3333-4444-555555555555")
    principal = authorize(bearer(token), API, Role.ADMIN, jwks=resolver)
    assert principal.name == "11111111-2222-3333-4444-555555555555"


def test_sub_when_there_is_no_oid(make_token: Maker, resolver: Resolver) -> None:
    principal = authorize(bearer(make_token(oid=None, sub="pairwise-sub")), API, Role.READER, jwks=resolver)
    assert principal.id == "pairwise-sub"


def test_no_oid_and_no_sub_is_401(make_token: Maker, resolver: Resolver) -> None:
    assert "oid" in invalid_token(bearer(make_token(oid=None, sub=None)), resolver)


def test_header_names_are_case_insensitive(make_token: Maker, resolver: Resolver) -> None:
    token = make_token()
    for name in ("authorization", "AUTHORIZATION", "AuThOrIzAtIoN"):
        for scheme in ("Bearer", "bearer", "BEARER"):
            assert authorize({name: f"{scheme} {token}"}, API, Role.ADMIN, jwks=resolver).auth == "jwt"


def test_within_leeway_is_accepted(make_token: Maker, resolver: Resolver) -> None:
    now = int(time.time())
    token = make_token(exp=now - 30, nbf=now + 30, iat=now + 30)
    assert authorize(bearer(token), API, Role.ADMIN, jwks=resolver)


# --------------------------------------------------------------------------------------- bad tokens


def test_no_authorization_header(resolver: Resolver) -> None:
    error = refused({}, resolver)
    assert error.www_authenticate == "Bearer"
    assert resolver.asked == []


def test_easy_auth_principal_is_not_a_credential_in_jwt_mode(resolver: Resolver) -> None:
    from tests.api_auth.test_key_and_platform import client_principal

    error = refused({"X-MS-CLIENT-PRINCIPAL": client_principal([ADMIN])}, resolver)
    assert error.www_authenticate == "Bearer"


@pytest.mark.parametrize("value", ["Basic dXNlcjpwdw==", "Token abc.def.ghi", "", "   "])
def test_other_schemes(value: str, resolver: Resolver) -> None:
    assert refused({"Authorization": value}, resolver).www_authenticate == "Bearer"


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c.d", "e30.e30.sig", "!!!.###.$$$",
                                   "bm90IGpzb24.e30.c2ln", "x" * 20_000])
def test_malformed_token(token: str, resolver: Resolver) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    if token:
        assert invalid_token(headers, resolver) in ("the token is malformed",
                                                    "the token algorithm is not accepted (RS256 only)")
    else:
        refused(headers, resolver)
    assert resolver.asked == []


def test_malformed_payload_under_a_valid_header(resolver: Resolver) -> None:
    head = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "key-1"}).encode())
    for body in ("not-json", b64url(b"[1, 2]"), b64url(b"\xff\xfe")):
        assert invalid_token(bearer(f"{head}.{body}.c2ln"), resolver) in (
            "the token is malformed", "the token signature is invalid")


def test_conflicting_duplicate_authorization_headers(make_token: Maker, resolver: Resolver) -> None:
    headers = {"Authorization": f"Bearer {make_token()}", "authorization": f"Bearer {make_token(roles=[])}"}
    assert "more than once" in refused(headers, resolver).detail


def test_wrong_audience(make_token: Maker, resolver: Resolver) -> None:
    detail = invalid_token(bearer(make_token(aud="00000003-0000-0000-c000-000000000000")), resolver)
    assert detail == "the token audience is not accepted (API_JWT_AUDIENCE)"
    assert "audience" in invalid_token(bearer(make_token(aud=["api://other", "api://another"])), resolver)


def test_wrong_issuer(make_token: Maker, resolver: Resolver) -> None:
    other_tenant = ISSUER_V2.replace(TENANT, "9188040d-6c67-4c5b-b112-36a304b66dad")
    assert "issuer" in invalid_token(bearer(make_token(iss=other_tenant)), resolver)
    # A v1 token is refused while only the v2 issuer is configured.
    assert "issuer" in invalid_token(bearer(make_token(iss=ISSUER_V1)), resolver)


def test_expired(make_token: Maker, resolver: Resolver) -> None:
    now = int(time.time())
    token = make_token(iat=now - 7200, nbf=now - 7200, exp=now - 61 - 5)
    assert invalid_token(bearer(token), resolver) == "the token has expired"


def test_not_yet_valid(make_token: Maker, resolver: Resolver) -> None:
    now = int(time.time())
    assert invalid_token(bearer(make_token(nbf=now + 600)), resolver) == "the token is not valid yet"
    assert "not valid yet" in invalid_token(bearer(make_token(iat=now + 600)), resolver)


@pytest.mark.parametrize("claim", ["exp", "iat", "aud", "iss"])
def test_required_claims(make_token: Maker, resolver: Resolver, claim: str) -> None:
    assert invalid_token(bearer(make_token(**{claim: None})), resolver) == (
        f"the token lacks the required claim {claim}")


def test_nbf_is_optional(make_token: Maker, resolver: Resolver) -> None:
    assert authorize(bearer(make_token(nbf=None)), API, Role.ADMIN, jwks=resolver)


def test_hs256_downgrade_with_the_public_key_as_secret(signing_key: KeyPair, resolver: Resolver) -> None:
    # The classic attack: sign with HMAC using the (public) RSA key as the shared secret.
    from tests.api_auth.conftest import standard_claims

    pem = signing_key.public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    for alg, digest in (("HS256", hashlib.sha256), ("HS512", hashlib.sha512)):
        head = b64url(json.dumps({"alg": alg, "typ": "JWT", "kid": signing_key.kid}).encode())
        body = b64url(json.dumps(standard_claims()).encode())
        signature = b64url(hmac.new(pem, f"{head}.{body}".encode(), digest).digest())
        detail = invalid_token(bearer(f"{head}.{body}.{signature}"), resolver, need=Role.ADMIN)
        assert detail == "the token algorithm is not accepted (RS256 only)"
    assert resolver.asked == []  # refused before any key was looked up


@pytest.mark.parametrize("alg", ["none", "None", "NONE", ""])
def test_alg_none(signing_key: KeyPair, resolver: Resolver, alg: str) -> None:
    from tests.api_auth.conftest import standard_claims

    head = b64url(json.dumps({"alg": alg, "typ": "JWT", "kid": signing_key.kid}).encode())
    body = b64url(json.dumps(standard_claims()).encode())
    assert "algorithm" in invalid_token(bearer(f"{head}.{body}."), resolver)
    assert resolver.asked == []


def test_other_asymmetric_algorithms_refused(make_token: Maker, signing_key: KeyPair,
                                             resolver: Resolver) -> None:
    from tests.api_auth.conftest import standard_claims

    token = jwt.encode(standard_claims(), signing_key.private, algorithm="PS256",
                       headers={"kid": signing_key.kid})
    assert "RS256" in invalid_token(bearer(token), resolver)


def test_unknown_kid(make_token: Maker, resolver: Resolver) -> None:
    detail = invalid_token(bearer(make_token(kid="rotated-away")), resolver)
    assert detail == "the token signing key is unknown"
    assert resolver.asked == ["rotated-away"]


@pytest.mark.parametrize("kid", [None, "", 7])
def test_missing_kid(signing_key: KeyPair, resolver: Resolver, kid: object) -> None:
    from tests.api_auth.conftest import standard_claims

    header = {"alg": "RS256", "typ": "JWT"} | ({} if kid is None else {"kid": kid})
    head = b64url(json.dumps(header).encode())
    body = b64url(json.dumps(standard_claims()).encode())
    token = f"{head}.{body}.c2ln"
    # PyJWT itself rejects a non-string kid while reading the header.
    detail = invalid_token(bearer(token), resolver)
    assert detail in ("the token has no key id (kid)", "the token is malformed")
    assert resolver.asked == []


def test_signed_by_an_untrusted_key_under_a_trusted_kid(make_token: Maker, other_key: KeyPair,
                                                          resolver: Resolver) -> None:
    token = make_token(key=other_key, kid="key-1")
    assert invalid_token(bearer(token), resolver) == "the token signature is invalid"


def test_tampered_payload(make_token: Maker, resolver: Resolver) -> None:
    from tests.api_auth.conftest import standard_claims

    head, _, signature = make_token(roles=[READER]).split(".")
    body = b64url(json.dumps(standard_claims(roles=[ADMIN])).encode())
    assert invalid_token(bearer(f"{head}.{body}.{signature}"), resolver, need=Role.ADMIN) == (
        "the token signature is invalid")


def test_resolver_returning_a_symmetric_key_is_refused(make_token: Maker) -> None:
    # A JWKS that (mis)publishes an "oct" key under the token's kid must not become an HMAC secret.
    oct_key = jwt.PyJWK({"kty": "oct", "k": b64url(b"0123456789abcdef0123456789abcdef"), "kid": "key-1"})
    for key in (oct_key, "a PEM string", b"bytes"):
        with pytest.raises(Unauthenticated, match="not an RS256 key"):
            authorize(bearer(make_token()), API, Role.READER, jwks=lambda kid, key=key: key)


def test_resolver_returning_a_pyjwk_rsa_key(make_token: Maker, signing_key: KeyPair) -> None:
    key = jwt.PyJWK(signing_key.jwk())
    assert authorize(bearer(make_token()), API, Role.ADMIN, jwks=lambda kid: key).id == USER_OID


def test_resolver_failure_of_any_kind_fails_closed(make_token: Maker) -> None:
    def broken(kid: str) -> SigningKey:
        raise RuntimeError("JWKS cache exploded")

    with pytest.raises(Unauthenticated, match="signing key is unknown"):
        authorize(bearer(make_token()), API, Role.READER, jwks=broken)
