"""Access tokens for Dataverse.

One ``TokenProvider`` per process and config (``build_token_provider`` caches them), because both
azure-identity credentials and msal applications keep their token cache in memory on the instance: a
new instance per request would mean a new token request per request.

Nothing here touches the network at import or construction time; the first ``get_token()`` does.
Tokens, secrets and certificate passwords are never logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from functions.config import DataverseAuthMode, DataverseConfig

from .errors import AuthenticationError

__all__ = [
    "AzureIdentityTokenProvider",
    "MsalTokenProvider",
    "StaticTokenProvider",
    "TokenProvider",
    "build_token_provider",
    "clear_token_provider_cache",
]

log = logging.getLogger(__name__)

# Refresh this long before expiry so a request never leaves with a token that dies in flight.
DEFAULT_REFRESH_MARGIN = 300.0


@runtime_checkable
class TokenProvider(Protocol):
    """Anything that hands out a bearer token for the Dataverse org.

    The client calls ``get_token(force_refresh=True, rejected_token=<the token that got the 401>)``. The
    provider must then not hand out ``rejected_token`` again. It fetches a new token only while its cached
    token is still the rejected one; when another thread has refreshed in the meantime it returns that
    newer token, so a burst of parallel 401s leads to one refresh, not one per request. Without
    ``rejected_token`` a forced refresh always fetches a new token.
    """

    def get_token(self, *, force_refresh: bool = False, rejected_token: str | None = None) -> str: ...


class StaticTokenProvider:
    """A fixed token, for ``auth=local`` against the emulator only (config refuses it elsewhere).

    Args:
        token: The bearer token to send.
        refreshed_token: Returned after ``force_refresh`` (default: ``token``); lets tests model a rotation.
    """

    def __init__(
        self,
        token: str = "local-emulator-token",  # noqa: S107 - fixed token for the emulator only
        *,
        refreshed_token: str | None = None,
    ) -> None:
        if not token:
            raise ValueError("token must be non-empty")
        self._token = token
        self._refreshed = refreshed_token
        self.calls = 0
        self.forced = 0
        self._lock = threading.Lock()

    def get_token(self, *, force_refresh: bool = False, rejected_token: str | None = None) -> str:
        with self._lock:
            self.calls += 1
            if force_refresh and rejected_token in (None, self._token):
                self.forced += 1
                if self._refreshed:
                    self._token = self._refreshed
            return self._token


class AzureIdentityTokenProvider:
    """Tokens from an azure-identity ``TokenCredential`` (managed identity / DefaultAzureCredential).

    The ``AccessToken`` is cached here and renewed ``refresh_margin`` seconds before ``expires_on``.
    ``force_refresh`` builds a new credential through ``credential_factory``, which drops the
    credential's own in-memory cache (azure-identity TOKEN_CACHING.md: "the in-memory cache may be
    cleared by creating a new credential instance") - unless ``rejected_token`` shows the cached token
    was already replaced since it was handed out (see ``TokenProvider``).

    Args:
        scope: ``<org-url>/.default``.
        credential_factory: Returns a new credential; called lazily on first use and on force_refresh.
        refresh_margin: Seconds before expiry at which the cached token is renewed.
        clock: POSIX time source (tests).
    """

    def __init__(
        self,
        scope: str,
        credential_factory: Callable[[], Any],
        *,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._scope = scope
        self._factory = credential_factory
        self._margin = refresh_margin
        self._clock = clock
        self._credential: Any = None
        self._token: str | None = None
        self._expires_on = 0.0
        self._lock = threading.Lock()

    def get_token(self, *, force_refresh: bool = False, rejected_token: str | None = None) -> str:
        """Return a valid token.

        Raises:
            AuthenticationError: the credential could not obtain a token (message from azure-identity).
        """
        with self._lock:
            if force_refresh and rejected_token in (None, self._token):
                self._credential = None
                self._token = None
            if self._token is not None and self._clock() < self._expires_on - self._margin:
                return self._token
            if self._credential is None:
                self._credential = self._factory()
            try:
                access = self._credential.get_token(self._scope)
            except Exception as exc:  # azure-identity raises ClientAuthenticationError and friends
                log.warning("token acquisition failed: %s", type(exc).__name__)
                raise AuthenticationError(None, type(exc).__name__, _first_line(str(exc))) from exc
            self._token = access.token
            self._expires_on = float(access.expires_on)
            return access.token


class MsalTokenProvider:
    """Client-credentials tokens from an msal ``ConfidentialClientApplication`` (secret or certificate).

    ``acquire_token_for_client`` serves from msal's cache until the token is near expiry (msal >= 1.23).
    ``force_refresh`` first calls ``remove_tokens_for_client()`` so a token the server rejected is not
    served again - unless ``rejected_token`` is no longer the token last handed out (another thread
    already refreshed; see ``TokenProvider``).

    Token requests time out after ``timeout`` seconds (passed to msal, which hands it to its HTTP
    client); without it msal would wait for the authority indefinitely.

    Args:
        client_id: App registration (application) id.
        client_credential: Secret string or msal certificate dict.
        scope: ``<org-url>/.default``.
        authority: Defaults to ``https://login.microsoftonline.com/<tenant_id>``.
        tenant_id: Used to build the default authority.
        app_factory: Builds the msal application (tests inject ``http_client``/``instance_discovery``).
        app_kwargs: More ``ConfidentialClientApplication`` arguments, e.g. ``timeout``.
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_credential: str | dict[str, Any],
        scope: str,
        tenant_id: str | None = None,
        authority: str | None = None,
        app_factory: Callable[..., Any] | None = None,
        **app_kwargs: Any,
    ) -> None:
        if authority is None:
            if not tenant_id:
                raise ValueError("tenant_id or authority is required")
            authority = f"https://login.microsoftonline.com/{tenant_id}"
        self._client_id = client_id
        self._credential = client_credential
        self._authority = authority
        self._scope = scope
        self._app_factory = app_factory
        self._app_kwargs = app_kwargs
        self._app: Any = None
        self._last_token: str | None = None
        self._lock = threading.Lock()

    def _application(self) -> Any:
        if self._app is None:
            factory = self._app_factory
            if factory is None:
                import msal  # imported lazily: it is only needed for this auth mode

                factory = msal.ConfidentialClientApplication
            # msal contacts the authority (tenant discovery) during construction: do it lazily.
            self._app = factory(
                self._client_id,
                client_credential=self._credential,
                authority=self._authority,
                **self._app_kwargs,
            )
        return self._app

    def get_token(self, *, force_refresh: bool = False, rejected_token: str | None = None) -> str:
        """Return a valid token.

        Raises:
            AuthenticationError: msal returned an error (``code`` = msal ``error``, message =
                ``error_description``) or could not reach the authority.
        """
        with self._lock:
            try:
                app = self._application()
                if force_refresh and rejected_token in (None, self._last_token):
                    app.remove_tokens_for_client()
                result = app.acquire_token_for_client(scopes=[self._scope])
            except AuthenticationError:
                raise
            except Exception as exc:  # ValueError on bad authority, requests errors, ...
                log.warning("msal token acquisition failed: %s", type(exc).__name__)
                raise AuthenticationError(None, type(exc).__name__, _first_line(str(exc))) from exc
            token = result.get("access_token") if isinstance(result, dict) else None
            if not token:
                error = str(result.get("error", "")) if isinstance(result, dict) else ""
                description = str(result.get("error_description", "")) if isinstance(result, dict) else ""
                log.warning("msal token acquisition failed: %s", error or "no access_token")
                raise AuthenticationError(
                    None, error, _first_line(description) or "no access_token in result"
                )
            self._last_token = str(token)
            return self._last_token


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


_providers: dict[Any, TokenProvider] = {}
_providers_lock = threading.Lock()


def _provider_key(config: DataverseConfig) -> Any:
    secret = config.client_secret.get_secret_value() if config.client_secret else None
    password = config.certificate_password.get_secret_value() if config.certificate_password else None
    return (
        config.url,
        config.auth,
        config.tenant_id,
        config.client_id,
        secret,
        config.certificate_path,
        password,
    )


def build_token_provider(config: DataverseConfig) -> TokenProvider:
    """Return the process-wide token provider for ``config`` (created on first call, then reused).

    Modes: ``managed_identity`` -> ``ManagedIdentityCredential(client_id=config.client_id)`` (or
    system-assigned when no client id), ``default_credential`` -> ``DefaultAzureCredential()``,
    ``client_secret`` / ``certificate`` -> msal (token requests time out after
    ``config.timeout_seconds``), ``local`` -> ``StaticTokenProvider`` (emulator).

    Raises:
        ValueError: unknown auth mode.
    """
    key = _provider_key(config)
    with _providers_lock:
        provider = _providers.get(key)
        if provider is not None:
            return provider
        mode = config.auth
        if mode is DataverseAuthMode.LOCAL:
            provider = StaticTokenProvider()
        elif mode is DataverseAuthMode.MANAGED_IDENTITY:
            client_id = config.client_id

            def managed_identity() -> Any:
                from azure.identity import ManagedIdentityCredential  # here: only this auth mode needs it

                return (
                    ManagedIdentityCredential(client_id=client_id)
                    if client_id
                    else ManagedIdentityCredential()
                )

            provider = AzureIdentityTokenProvider(config.scope, managed_identity)
        elif mode is DataverseAuthMode.DEFAULT_CREDENTIAL:

            def default_credential() -> Any:
                from azure.identity import DefaultAzureCredential  # here: only this auth mode needs it

                return DefaultAzureCredential()

            provider = AzureIdentityTokenProvider(config.scope, default_credential)
        elif mode is DataverseAuthMode.CLIENT_SECRET:
            assert config.client_secret is not None  # guaranteed by config validation
            assert config.client_id
            provider = MsalTokenProvider(
                client_id=config.client_id,
                client_credential=config.client_secret.get_secret_value(),
                scope=config.scope,
                tenant_id=config.tenant_id,
                timeout=config.timeout_seconds,
            )
        elif mode is DataverseAuthMode.CERTIFICATE:
            assert config.certificate_path
            assert config.client_id
            provider = MsalTokenProvider(
                client_id=config.client_id,
                client_credential=_certificate_credential(
                    config.certificate_path,
                    config.certificate_password.get_secret_value() if config.certificate_password else None,
                ),
                scope=config.scope,
                tenant_id=config.tenant_id,
                timeout=config.timeout_seconds,
            )
        else:  # pragma: no cover - enum is exhaustive
            raise ValueError(f"unsupported auth mode {mode!r}")
        _providers[key] = provider
        return provider


def clear_token_provider_cache() -> None:
    """Forget cached providers (tests, or after a config change)."""
    with _providers_lock:
        _providers.clear()


def _certificate_credential(path: str, password: str | None) -> dict[str, Any]:
    """msal ``client_credential`` for a certificate file.

    ``.pfx``/``.p12``: msal reads it and uses the SHA-256 thumbprint (msal >= 1.29). ``.pem`` (private key
    and certificate in one file): the certificate is passed as ``public_certificate`` so msal computes
    the thumbprint itself (msal >= 1.35). A PEM file is read when the provider is built (no network);
    a PFX file is read by msal on the first token request.
    """
    credential: dict[str, Any]
    if path.lower().endswith((".pfx", ".p12")):
        credential = {"private_key_pfx_path": path}
    else:
        with open(path, encoding="utf-8") as handle:
            pem = handle.read()
        credential = {"private_key": pem, "public_certificate": pem}
    if password:
        credential["passphrase"] = password
    return credential
