"""Typed errors of the Dataverse client.

Every HTTP failure is translated exactly once, at the client boundary, into one of these classes, so
callers branch on the type (and ``status``/``code``/``retry_after``) and never parse an HTTP body.

Hierarchy::

    DataverseError(status, code, message, retry_after=None)
      BadRequestError            400 (``code`` carries the Dataverse hex code, e.g. ``0x80044331``)
      AuthenticationError        401, or the token could not be acquired (status None)
      ForbiddenError             403
      NotFoundError              404
      PreconditionFailedError    412
      PayloadTooLargeError       413
      ThrottledError             429 (``retry_after`` seconds from the header, if any)
      ServerError                5xx
      ConnectionFailedError      connection refused/reset/dropped, timeout (status None)
      ExpiredDeltaTokenError     error code 0x80044352, whatever the HTTP status
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any

__all__ = [
    "EXPIRED_VERSION_STAMP",
    "AuthenticationError",
    "BadRequestError",
    "ConnectionFailedError",
    "DataverseError",
    "ExpiredDeltaTokenError",
    "ForbiddenError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PreconditionFailedError",
    "ServerError",
    "ThrottledError",
    "error_from_response",
    "parse_error_body",
    "parse_retry_after",
]

# ExpiredVersionStamp: "Version stamp associated with the client has expired. Please perform a full sync."
EXPIRED_VERSION_STAMP = "0x80044352"
_EXPIRED_VERSION_STAMP_DECIMAL = "-2147204270"

# Bodies can be huge HTML error pages from a proxy; keep messages readable.
_MAX_MESSAGE = 500


class DataverseError(Exception):
    """Base class of every error the client raises for a failed Dataverse call.

    Attributes:
        status: HTTP status code, or ``None`` when no HTTP response was received.
        code: Dataverse error code from the envelope (often a hex string such as ``0x80040217``; may be "").
        message: Human-readable message from the envelope (or a short description).
        retry_after: Seconds the server asked us to wait (``Retry-After``), if it said so.
    """

    def __init__(
        self,
        status: int | None,
        code: str = "",
        message: str = "",
        *,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.code = code or ""
        self.message = message or ""
        self.retry_after = retry_after
        super().__init__(self.__str__())

    def __str__(self) -> str:
        parts = [f"HTTP {self.status}" if self.status is not None else "no HTTP response"]
        if self.code:
            parts.append(f"code {self.code}")
        text = ", ".join(parts)
        return f"{text}: {self.message}" if self.message else text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, retry_after={self.retry_after!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep errors picklable (they may cross a process pool) despite the keyword-only argument.
        return (_rebuild, (type(self), self.status, self.code, self.message, self.retry_after))


def _rebuild(
    cls: type[DataverseError], status: int | None, code: str, message: str, retry_after: float | None
) -> DataverseError:
    return cls(status, code, message, retry_after=retry_after)


class BadRequestError(DataverseError):
    """400: the request (or one record in it) was rejected; see ``code``/``message``."""


class AuthenticationError(DataverseError):
    """401 after one forced token refresh, or the identity provider refused to issue a token."""


class ForbiddenError(DataverseError):
    """403: the application user lacks a privilege (security role)."""


class NotFoundError(DataverseError):
    """404: the record, table, column or endpoint does not exist."""


class PreconditionFailedError(DataverseError):
    """412: an ``If-Match``/``If-None-Match`` condition failed (e.g. stale etag, duplicate)."""


class PayloadTooLargeError(DataverseError):
    """413: the request body is too large; send fewer records per request."""


class ThrottledError(DataverseError):
    """429: service protection limit hit, and retries exhausted or ``Retry-After`` longer than the client
    may wait (``max_retry_wait``). ``retry_after`` is the server's hint."""


class ServerError(DataverseError):
    """5xx from Dataverse (or a gateway in front of it) that persisted through the retries."""


class ConnectionFailedError(DataverseError):
    """No usable HTTP response: connection refused/reset/dropped or timed out.

    ``sent`` is False when the failure happened before the request could have reached the server
    (connect timeout / refused), which makes even a non-idempotent request safe to retry.
    """

    def __init__(
        self,
        status: int | None = None,
        code: str = "",
        message: str = "",
        *,
        retry_after: float | None = None,
        sent: bool = True,
    ) -> None:
        self.sent = sent
        super().__init__(status, code, message, retry_after=retry_after)


class ExpiredDeltaTokenError(DataverseError):
    """The change-tracking (delta) token is older than the org keeps changes: do a full read instead."""


_BY_STATUS: dict[int, type[DataverseError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    412: PreconditionFailedError,
    413: PayloadTooLargeError,
    429: ThrottledError,
}


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Parse a ``Retry-After`` header value.

    Args:
        value: The raw header: delta-seconds (Dataverse sends these, possibly fractional) or an HTTP date
            (always GMT per RFC 9110; one without a zone, or with ``-0000``, is read as UTC).
        now: Current POSIX time, for HTTP-date values (default: ``time.time()``).

    Returns:
        Non-negative seconds to wait, or ``None`` if the header is missing or unparseable.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:  # never the local zone: HTTP dates are GMT
            when = when.replace(tzinfo=UTC)
        if now is None:
            now = time.time()
        seconds = when.timestamp() - now
    if seconds != seconds or seconds == float("inf"):  # NaN / inf are not a wait
        return None
    return max(0.0, seconds)


def parse_error_body(body: bytes | str | Mapping[str, Any] | None) -> tuple[str, str]:
    """Extract ``(code, message)`` from a Dataverse error body.

    Handles the OData envelope ``{"error": {"code", "message"}}``, a bare ``{"code", "message"}``,
    non-JSON bodies (HTML from a gateway, plain text) and empty bodies.

    Returns:
        ``(code, message)``; both may be "" when the body says nothing useful.
    """
    if body is None:
        return "", ""
    data: Any = body
    if isinstance(body, bytes | str):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        text = text.strip()
        if not text:
            return "", ""
        try:
            data = json.loads(text)
        except ValueError:
            return "", _shorten(text)
    if isinstance(data, Mapping):
        envelope = data.get("error", data)
        if isinstance(envelope, Mapping):
            code = envelope.get("code")
            message = envelope.get("message")
            if message is None:
                message = envelope.get("@Microsoft.PowerApps.CDS.InnerError.Message")
            return (str(code) if code is not None else ""), _shorten(str(message)) if message else ""
        if isinstance(envelope, str):
            return "", _shorten(envelope)
    return "", _shorten(str(data))


def error_from_response(
    status: int,
    body: bytes | str | Mapping[str, Any] | None,
    headers: Mapping[str, str] | None = None,
) -> DataverseError:
    """Translate an HTTP error response into the matching typed error.

    Args:
        status: HTTP status code (>= 400).
        body: Response body (bytes, text or already-parsed JSON).
        headers: Response headers (case-insensitive mapping preferred); used for ``Retry-After``.

    Returns:
        The exception instance (not raised), so batch parts can carry it as data.
    """
    code, message = parse_error_body(body)
    retry_after = None
    if headers is not None:
        retry_after = parse_retry_after(_header(headers, "Retry-After"))
    if not message:
        message = _reason(status)
    if code.lower() == EXPIRED_VERSION_STAMP or code == _EXPIRED_VERSION_STAMP_DECIMAL:
        return ExpiredDeltaTokenError(status, code, message, retry_after=retry_after)
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else DataverseError
    return cls(status, code, message, retry_after=retry_after)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "HTTP error"
