"""Who may call the settings API: a pure policy from request headers + ``ApiConfig`` to a ``Principal``.

The function key is checked by the Functions host (or the local host) before this runs. On top of it
``API_AUTH`` picks one of three modes (docs/settings-api.md, "Authentication"):

* ``key``: whoever holds a function key is an admin. Identity headers are refused rather than ignored:
  a request carrying ``X-MS-CLIENT-PRINCIPAL`` or a bearer token either forged it or expects a check that
  is not configured, and both must fail closed.
* ``platform``: App Service Authentication (Easy Auth) sits in front and injects ``X-MS-CLIENT-PRINCIPAL``
  (Base64 JSON ``{auth_typ, claims: [{typ, val}], name_typ, role_typ}``). External requests cannot set it
  when Easy Auth is on, so the header is trusted only when App Service says it is on
  (``WEBSITE_AUTH_ENABLED=True``, which the platform injects; ``ApiConfig.platform_auth_enabled``).
  Otherwise every request is refused (401): the app setting alone proves nothing.
* ``jwt``: ``Authorization: Bearer <Entra access token>`` validated here: RS256 only, key from the tenant's
  JWKS by ``kid``, ``aud``/``iss`` allow-lists, ``exp``/``iat`` required, ``nbf`` honoured, 60 s leeway.
  App roles come from the ``roles`` claim.

Every failure is an ``Unauthenticated`` (401) or ``Forbidden`` (403); nothing in here raises anything
else for a bad request, and details never contain a token or a claim value sent by the caller.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from functions.api.http import AmbiguousHeader, Headers
from functions.config import ApiAuthMode, ApiConfig

log = logging.getLogger(__name__)

PRINCIPAL_HEADER = "x-ms-client-principal"
PRINCIPAL_ID_HEADER = "x-ms-client-principal-id"
PRINCIPAL_NAME_HEADER = "x-ms-client-principal-name"
PRINCIPAL_IDP_HEADER = "x-ms-client-principal-idp"
AUTHORIZATION_HEADER = "authorization"
_EASY_AUTH_HEADERS = (PRINCIPAL_HEADER, PRINCIPAL_ID_HEADER, PRINCIPAL_NAME_HEADER, PRINCIPAL_IDP_HEADER)

# Claim types as they appear after Easy Auth's default claim mapping, plus the raw token names.
ROLE_CLAIM_TYPES = ("roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role")
OBJECT_ID_CLAIM_TYPES = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")
NAME_CLAIM_TYPES = ("name", "preferred_username",
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name")

JWT_ALGORITHMS = ("RS256",)  # Entra signs access tokens with RS256; anything else is a downgrade attempt
JWT_LEEWAY_SECONDS = 60
JWT_REQUIRED_CLAIMS = ("exp", "iat", "aud", "iss")
JWKS_LIFESPAN_SECONDS = 300
JWKS_TIMEOUT_SECONDS = 10
# A token with a kid not in the cached JWK set forces a re-fetch (key rotation); at most one such
# re-fetch per URL in this interval, so made-up kids cannot turn every request into a JWKS download.
JWKS_REFRESH_INTERVAL_SECONDS = 60.0

# Size caps: a header this large is not something Easy Auth or Entra produce, and parsing it is wasted work.
MAX_PRINCIPAL_HEADER_CHARS = 64 * 1024
MAX_TOKEN_CHARS = 16 * 1024
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*$")


class Role(StrEnum):
    READER = "reader"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller. ``auth`` is the mode that vouched for it: "key", "platform" or "jwt"."""

    id: str
    name: str
    auth: str
    roles: frozenset[str]


class AuthError(Exception):
    """Base of the two refusals. ``status`` is the HTTP status, ``detail`` safe text for the problem body,
    ``www_authenticate`` the ``WWW-Authenticate`` value to send (jwt mode only, else None)."""

    status: int = 401

    def __init__(self, detail: str, *, www_authenticate: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.www_authenticate = www_authenticate

    @property
    def headers(self) -> dict[str, str]:
        """Response headers to add to the problem response."""
        return {"WWW-Authenticate": self.www_authenticate} if self.www_authenticate else {}


class Unauthenticated(AuthError):
    """No acceptable credentials (HTTP 401)."""

    status = 401


class Forbidden(AuthError):
    """Authenticated, but without the app role the operation needs (HTTP 403)."""

    status = 403


def principal_summary(principal: Principal) -> dict[str, str]:
    """What the audit log and logs record about a caller: never tokens, never roles or other claims."""
    return {"id": principal.id, "name": principal.name, "auth": principal.auth}


SigningKey = jwt.PyJWK | RSAPublicKey
# Given the token's ``kid``, return its verification key; raise anything (LookupError,
# jwt.PyJWKClientError, ...) when the key is unknown or cannot be fetched.
JwksResolver = Callable[[str], SigningKey]

_jwks_clients: dict[str, jwt.PyJWKClient] = {}
_jwks_lock = threading.Lock()


def jwks_client(jwks_url: str) -> jwt.PyJWKClient:
    """The process-wide ``PyJWKClient`` for ``jwks_url``: built once so its key cache survives requests."""
    with _jwks_lock:
        client = _jwks_clients.get(jwks_url)
        if client is None:
            # cache_keys=False: PyJWKClient's per-key LRU cache never expires, so a key Entra drops
            # (rotation, compromise) would stay trusted until a restart; the JWK set itself is still
            # cached for JWKS_LIFESPAN_SECONDS.
            # cooldown_duration: PyJWKClient re-fetches for an unknown kid at most once per interval
            # (counted from its last successful fetch), under its own lock.
            client = jwt.PyJWKClient(jwks_url, cache_keys=False, cache_jwk_set=True,
                                     lifespan=JWKS_LIFESPAN_SECONDS, timeout=JWKS_TIMEOUT_SECONDS,
                                     cooldown_duration=JWKS_REFRESH_INTERVAL_SECONDS)
            _jwks_clients[jwks_url] = client
        return client


def default_jwks_resolver(api: ApiConfig) -> JwksResolver:
    """Keys from ``API_JWKS_URL`` (cached per URL; the JWK set is re-fetched after 300 s, and for an
    unknown kid at most once a minute)."""
    if not api.jwks_url:
        raise Unauthenticated("JWT authentication is not configured: API_JWKS_URL is not set",
                              www_authenticate="Bearer")
    return jwks_client(api.jwks_url).get_signing_key


def authorize(headers: Mapping[str, str], api: ApiConfig, need: Role, *,
              jwks: JwksResolver | None = None) -> Principal:
    """The caller of this request, if it may do what ``need`` stands for.

    ``headers`` may be any mapping; names are matched case-insensitively. Raises ``Unauthenticated``
    or ``Forbidden``; ``jwks`` replaces the JWKS lookup (tests, or a caller with its own key source).
    """
    found = _Headers(headers)
    if api.auth is ApiAuthMode.KEY:
        principal = _key_principal(found, api)
    elif api.auth is ApiAuthMode.PLATFORM:
        if not api.platform_auth_enabled:
            # Fail closed, per request (never a config error: the timer and the worker must run on).
            raise Unauthenticated("App Service Authentication is not enabled on this app "
                                  "(WEBSITE_AUTH_ENABLED); X-MS-CLIENT-PRINCIPAL cannot be trusted")
        principal = _platform_principal(found)
    else:
        principal = _jwt_principal(found, api, jwks)
    _require(principal, api, need)
    return principal


def _require(principal: Principal, api: ApiConfig, need: Role) -> None:
    allowed = {api.admin_role} if need is Role.ADMIN else {api.admin_role, api.reader_role}
    if principal.roles & allowed:
        return
    wanted = api.admin_role if need is Role.ADMIN else f"{api.reader_role} or {api.admin_role}"
    # The id only: names and other claim values are personal data and stay out of the log.
    log.info("API access denied: principal %s (%s) lacks the app role for %s", principal.id, principal.auth,
             need.value)
    raise Forbidden(f"this operation needs the app role {wanted}",
                    www_authenticate='Bearer error="insufficient_scope"' if principal.auth == "jwt" else None)


class _Headers:
    """The request headers (``functions.api.http.Headers``) under the credential policy: a name given
    twice with different values is ambiguous, and ambiguity about credentials is refused (401)."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = Headers(headers)

    def has(self, name: str) -> bool:
        return name in self._headers

    def get(self, name: str, **error: Any) -> str | None:
        try:
            return self._headers.single(name)
        except AmbiguousHeader:
            raise Unauthenticated(f"the {name} header is given more than once", **error) from None


# ----------------------------------------------------------------------------------------------- key


def _key_principal(headers: _Headers, api: ApiConfig) -> Principal:
    if any(headers.has(name) for name in _EASY_AUTH_HEADERS):
        raise Unauthenticated("X-MS-CLIENT-PRINCIPAL is not trusted: platform authentication is not "
                              "configured (API_AUTH=platform)")
    if _bearer_scheme(headers.get(AUTHORIZATION_HEADER)):
        raise Unauthenticated("bearer tokens are not accepted: JWT authentication is not configured "
                              "(API_AUTH=jwt)")
    return Principal("function-key", "function key holder", ApiAuthMode.KEY.value,
                     frozenset({api.admin_role}))


def _bearer_scheme(value: str | None) -> bool:
    return value is not None and value.strip().split(" ", 1)[0].lower() == "bearer"


# ------------------------------------------------------------------------------------------ platform


def _platform_principal(headers: _Headers) -> Principal:
    raw = headers.get(PRINCIPAL_HEADER)
    if raw is None or not raw.strip():
        raise Unauthenticated("X-MS-CLIENT-PRINCIPAL is missing: sign in through App Service "
                              "Authentication")
    document = _decode_client_principal(raw)
    claims = _claims(document)
    role_typ = document.get("role_typ")
    name_typ = document.get("name_typ")
    role_types = {*ROLE_CLAIM_TYPES, *([role_typ] if isinstance(role_typ, str) and role_typ else [])}
    roles = frozenset(val for typ, val in claims if typ in role_types)

    principal_id = (headers.get(PRINCIPAL_ID_HEADER) or "").strip() or _first_claim(claims,
                                                                                  OBJECT_ID_CLAIM_TYPES)
    if not principal_id:
        raise Unauthenticated("X-MS-CLIENT-PRINCIPAL has no object id (oid) and X-MS-CLIENT-PRINCIPAL-ID "
                              "is missing")
    name_types = (*([name_typ] if isinstance(name_typ, str) and name_typ else []), *NAME_CLAIM_TYPES)
    name = (headers.get(PRINCIPAL_NAME_HEADER) or "").strip() or _first_claim(claims, name_types)
    return Principal(principal_id, name or principal_id, ApiAuthMode.PLATFORM.value, roles)


def _decode_client_principal(raw: str) -> dict[str, Any]:
    malformed = "X-MS-CLIENT-PRINCIPAL is malformed: expected Base64-encoded JSON"
    raw = raw.strip()
    if len(raw) > MAX_PRINCIPAL_HEADER_CHARS:
        raise Unauthenticated(malformed)
    try:
        # Easy Auth sends standard Base64 with padding; tolerate a stripped padding, nothing else.
        decoded = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
        document = json.loads(decoded.decode("utf-8"))
    except (binascii.Error, ValueError, RecursionError):  # UnicodeDecodeError, JSONDecodeError: ValueErrors
        raise Unauthenticated(malformed) from None
    if not isinstance(document, dict):
        raise Unauthenticated(malformed)
    return document


def _claims(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    claims = document.get("claims")
    if not isinstance(claims, list):
        raise Unauthenticated("X-MS-CLIENT-PRINCIPAL is malformed: 'claims' must be a list")
    pairs = []
    for claim in claims:
        if not (isinstance(claim, dict) and isinstance(claim.get("typ"), str)
                and isinstance(claim.get("val"), str)):
            raise Unauthenticated("X-MS-CLIENT-PRINCIPAL is malformed: each claim needs string typ and val")
        pairs.append((claim["typ"], claim["val"]))
    return pairs


def _first_claim(claims: list[tuple[str, str]], types: tuple[str, ...]) -> str:
    for wanted in types:
        for typ, val in claims:
            if typ == wanted and val.strip():
                return val.strip()
    return ""


# ----------------------------------------------------------------------------------------------- jwt

# PyJWT's own messages may quote parts of the token; the caller gets these fixed texts instead.
_JWT_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet"),
    (jwt.InvalidAudienceError, "the token audience is not accepted (API_JWT_AUDIENCE)"),
    (jwt.InvalidIssuerError, "the token issuer is not accepted (API_JWT_ISSUER)"),
    (jwt.InvalidIssuedAtError, "the token issue time is invalid"),
    (jwt.InvalidAlgorithmError, "the token algorithm is not accepted (RS256 only)"),
    (jwt.InvalidSignatureError, "the token signature is invalid"),
    (jwt.DecodeError, "the token is malformed"),
)


def _invalid_token(detail: str) -> Unauthenticated:
    # RFC 6750 section 3: the challenge names the error; detail is one of our fixed texts, never token data.
    return Unauthenticated(detail,
                           www_authenticate=f'Bearer error="invalid_token", error_description="{detail}"')


def _jwt_principal(headers: _Headers, api: ApiConfig, jwks: JwksResolver | None) -> Principal:
    value = headers.get(AUTHORIZATION_HEADER, www_authenticate="Bearer")
    if value is None or not value.strip():
        raise Unauthenticated("an Authorization: Bearer token is required", www_authenticate="Bearer")
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer":
        raise Unauthenticated("the Authorization header must use the Bearer scheme",
                              www_authenticate="Bearer")
    if not token or len(token) > MAX_TOKEN_CHARS or not _TOKEN_SHAPE.match(token):
        raise _invalid_token("the token is malformed")

    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise _invalid_token("the token is malformed") from None
    # Refuse "none" and HS* before any key lookup: with HS256 the public key would become the HMAC secret.
    if header.get("alg") not in JWT_ALGORITHMS:
        raise _invalid_token("the token algorithm is not accepted (RS256 only)")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _invalid_token("the token has no key id (kid)")

    key = _signing_key(kid, api, jwks)
    try:
        claims = jwt.decode(token, key, algorithms=list(JWT_ALGORITHMS), audience=list(api.jwt_audience),
                            issuer=tuple(api.jwt_issuer), leeway=JWT_LEEWAY_SECONDS,
                            options={"require": list(JWT_REQUIRED_CLAIMS), "verify_signature": True})
    except jwt.MissingRequiredClaimError as exc:
        raise _invalid_token(f"the token lacks the required claim {exc.claim}") from None
    except jwt.PyJWTError as exc:
        reason = next((text for kind, text in _JWT_REASONS if isinstance(exc, kind)), "the token is invalid")
        raise _invalid_token(reason) from None

    principal_id = _claim_str(claims, "oid") or _claim_str(claims, "sub")
    if not principal_id:
        raise _invalid_token("the token has neither an oid nor a sub claim")
    # A sign-in name (v2 preferred_username, v1 unique_name) says more in an audit trail than a display
    # name; app-only tokens carry neither, so the calling app's id (v1 appid, v2 azp) stands in.
    name = next((v for c in ("preferred_username", "unique_name", "name", "appid", "azp")
                 if (v := _claim_str(claims, c))), principal_id)
    return Principal(principal_id, name, ApiAuthMode.JWT.value, _token_roles(claims.get("roles")))


def _signing_key(kid: str, api: ApiConfig, jwks: JwksResolver | None) -> SigningKey:
    resolver = jwks if jwks is not None else default_jwks_resolver(api)
    try:
        key = resolver(kid)
    except jwt.PyJWKClientConnectionError as exc:
        # Fail closed: an unreachable key endpoint locks callers out (401), it never lets them in or
        # turns into a 500. The message names the URL, never the token.
        log.warning("JWKS fetch failed (%s): %s", type(exc).__name__, exc)
        raise _invalid_token("the token signing keys could not be fetched (API_JWKS_URL)") from None
    except Exception as exc:
        # Unknown kid (PyJWKClientError), a JWKS document that is not JSON (ValueError), an empty key set
        # (PyJWKSetError), a resolver's KeyError: all mean "no trusted key for this token".
        log.info("no signing key for the token's kid (%s)", type(exc).__name__)
        raise _invalid_token("the token signing key is unknown") from None
    # Only RSA keys may verify: an "oct" JWK would re-open the HMAC downgrade through the key set.
    if isinstance(key, jwt.PyJWK):
        if key.key_type != "RSA" or key.algorithm_name not in JWT_ALGORITHMS:
            raise _invalid_token("the token signing key is not an RS256 key")
    elif not isinstance(key, RSAPublicKey):
        raise _invalid_token("the token signing key is not an RS256 key")
    return key


def _claim_str(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    return value.strip() if isinstance(value, str) else ""


def _token_roles(value: object) -> frozenset[str]:
    # Entra emits an array of strings; a single string is accepted as one role, anything else as none.
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, list):
        return frozenset(v for v in value if isinstance(v, str))
    return frozenset()
