"""Framework-free HTTP request/response for the settings API, and the strict input readers.

``functions/triggers/admin_api.py`` turns an ``azure.functions.HttpRequest`` into an :class:`ApiRequest`
and an :class:`ApiResponse` back into an ``HttpResponse``; everything in between is plain Python, so
routes are tested through real HTTP and unit-tested without the Functions runtime alike.

Input rules (each refusal is an :class:`~functions.api.errors.ApiError` naming the field):

* query: only the parameters a route declares (plus ``code``, the function key the host reads) → else 400;
  a declared parameter given twice → 400.
* body: ``Content-Type`` must be ``application/json`` or ``application/merge-patch+json`` with no
  parameter but ``charset=utf-8`` (or ``utf8``, any case, optionally quoted) → else 415; a
  ``Content-Encoding`` other than ``identity`` → 415; more than 64 KiB (by ``Content-Length`` or actually
  received) → 413; not UTF-8, not JSON, duplicate object keys, ``NaN``/``Infinity``, numbers that are not
  finite, nesting deeper than 64 → 400.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from functions.api.errors import PROBLEM_MEDIA_TYPE, ApiError, problem_body

__all__ = [
    "IF_MATCH_PATTERN",
    "JSON_MEDIA_TYPES",
    "MAX_BODY_BYTES",
    "AmbiguousHeader",
    "ApiRequest",
    "ApiResponse",
    "Headers",
]

MAX_BODY_BYTES = 64 * 1024
JSON_MEDIA_TYPES = ("application/json", "application/merge-patch+json")
FUNCTION_KEY_PARAM = "code"  # read by the Functions host (and the local host); never by us
# If-Match as RFC 9110 8.8.3 has entity tags: visible ASCII but '"' between the quotes.
IF_MATCH_PATTERN = r'^[ \t]*(\*|(W/)?"[!#-~]*"([ \t]*,[ \t]*(W/)?"[!#-~]*")*)[ \t]*$'
_MAX_QUERY_FIELDS = 50
_MAX_DEPTH = 64


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only request headers (names lower-cased), the one header class of the API.

    Policy for a name given more than once (possible from a plain list, or a dict whose keys differ only
    in case): every value is kept. ``headers[name]`` / ``get`` join them with ``", "`` as HTTP does for
    list-valued headers (RFC 9110 5.3), so ``If-Match: a`` + ``If-Match: b`` reads as ``a, b``;
    :meth:`single` is for headers that must not be ambiguous (credentials): it returns the value only
    when all values agree, and raises :class:`AmbiguousHeader` otherwise."""

    def __init__(self, source: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        self._values: dict[str, list[str]] = {}
        if isinstance(source, Headers):
            self._values = {name: list(values) for name, values in source._values.items()}
            return
        items = source.items() if isinstance(source, Mapping) else source
        for name, value in items:
            self._values.setdefault(str(name).strip().lower(), []).append(str(value))

    def __getitem__(self, name: str) -> str:
        return ", ".join(self._values[name.lower()])

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def values_of(self, name: str) -> list[str]:
        """Every value given for ``name`` (empty when absent)."""
        return list(self._values.get(name.lower(), ()))

    def single(self, name: str) -> str | None:
        """The value of ``name`` (None when absent); :class:`AmbiguousHeader` when it was given more than
        once with different values."""
        values = self._values.get(name.lower())
        if not values:
            return None
        if len(set(values)) > 1:
            raise AmbiguousHeader(name)
        return values[0]


class AmbiguousHeader(ValueError):
    """A header that must be unambiguous was given more than once with different values."""

    def __init__(self, name: str) -> None:
        super().__init__(f"the {name} header is given more than once")
        self.name = name


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    headers: Headers
    query: tuple[tuple[str, str], ...]
    route_params: Mapping[str, str]
    body: bytes
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def build(
        cls,
        *,
        method: str,
        url: str,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        route_params: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> ApiRequest:
        """From the parts an ``azure.functions.HttpRequest`` has. The query is read from the URL (it keeps
        repeated parameters, which ``params`` folds into one) and from ``params`` when the URL has none."""
        try:
            parts = urlsplit(url or "")
        except ValueError:  # e.g. a malformed IPv6 host: the path and query are then unknown
            parts = urlsplit("/")
        query: list[tuple[str, str]]
        if parts.query:
            try:
                query = parse_qsl(parts.query, keep_blank_values=True, max_num_fields=_MAX_QUERY_FIELDS)
            except ValueError:
                query = [("", "")] * (_MAX_QUERY_FIELDS + 1)  # refused by query_values
        else:
            query = [(str(k), str(v)) for k, v in (params or {}).items()]
        return cls(
            method=(method or "GET").upper(),
            path=parts.path or "/",
            headers=Headers(headers or {}),
            query=tuple(query),
            route_params=dict(route_params or {}),
            body=bytes(body or b""),
        )

    # ------------------------------------------------------------------ query
    def query_values(self, allowed: Iterable[str]) -> dict[str, str]:
        """The declared query parameters given (each at most once); anything else is a 400."""
        allowed = set(allowed)
        if len(self.query) > _MAX_QUERY_FIELDS:
            raise ApiError(400, "too many query parameters", errors=[("query", "too many parameters")])
        values: dict[str, str] = {}
        errors: list[tuple[str, str]] = []
        for name, value in self.query:
            if name == FUNCTION_KEY_PARAM:
                continue
            if name not in allowed:
                shown = name if re.fullmatch(r"[A-Za-z0-9_.\-]{1,40}", name) else "(unnamed or unprintable)"
                errors.append((shown, "unknown query parameter"))
            elif name in values:
                errors.append((name, "given more than once"))
            else:
                values[name] = value
        if errors:
            known = ", ".join(sorted(allowed)) or "none"
            raise ApiError(400, f"invalid query parameters (this operation accepts: {known})", errors=errors)
        return values

    # ------------------------------------------------------------------ body
    def has_body(self) -> bool:
        length = self.headers.get("content-length", "").strip()
        return bool(self.body) or (length not in ("", "0"))

    def json_body(self, *, media_types: tuple[str, ...] = JSON_MEDIA_TYPES) -> Any:
        """The body as JSON, read under the rules in the module docstring."""
        self._check_length()
        _check_media_type(self.headers.get("content-type"), media_types)
        _check_content_encoding(self.headers.get("content-encoding"))
        if not self.body:
            raise ApiError(400, "a JSON request body is required", errors=[("", "the body is empty")])
        return parse_json(self.body)

    def _check_length(self) -> None:
        declared = self.headers.get("content-length", "").strip()
        if declared:
            if not declared.isdigit():
                raise ApiError(400, "the Content-Length header is not a number",
                               errors=[("Content-Length", "must be a non-negative integer")])
            if int(declared) > MAX_BODY_BYTES:
                raise _too_large()
        if len(self.body) > MAX_BODY_BYTES:
            raise _too_large()


def _too_large() -> ApiError:
    return ApiError(413, f"the request body is larger than {MAX_BODY_BYTES // 1024} KiB",
                    errors=[("", f"at most {MAX_BODY_BYTES} bytes")])


def _check_media_type(value: str | None, media_types: tuple[str, ...]) -> None:
    accepted = " or ".join(media_types)
    unsupported = ApiError(415, f"the request body must be {accepted} (charset utf-8)",
                           errors=[("Content-Type", f"must be {accepted}")])
    if not value or not value.strip():
        raise unsupported
    media_type, *params = (part.strip() for part in value.split(";"))
    if media_type.lower() not in media_types:
        raise unsupported
    for param in params:
        name, _, param_value = param.partition("=")
        charset = param_value.strip().strip('"').lower()
        if name.strip().lower() != "charset" or charset not in ("utf-8", "utf8"):
            raise unsupported


def _check_content_encoding(value: str | None) -> None:
    """Only an unencoded body is read: a ``Content-Encoding`` other than ``identity`` (gzip, br, ...)
    is a 415 naming the header, rather than compressed bytes refused as "not UTF-8"."""
    if value is None:
        return
    codings = [part.strip().lower() for part in value.split(",")]
    if any(coding not in ("", "identity") for coding in codings):
        raise ApiError(415, "the request body must not be compressed (Content-Encoding: identity only)",
                       errors=[("Content-Encoding", "must be absent or identity")])


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey("an object has the same member twice")
        result[key] = value
    return result


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("a number is out of range")
    return number


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth_ok(text: str) -> bool:
    # json.loads recurses per nesting level; bound it before Python's recursion limit becomes a 500.
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > _MAX_DEPTH:
                return False
        elif char in "]}":
            depth -= 1
    return True


def parse_json(body: bytes) -> Any:
    """Strict JSON from UTF-8 bytes; a 400 naming the position (never the content) otherwise."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "the request body is not UTF-8", errors=[("", "not UTF-8 text")]) from None
    text = text.removeprefix("\ufeff")
    if not _depth_ok(text):
        raise ApiError(400, "the request body is nested too deeply",
                       errors=[("", f"at most {_MAX_DEPTH} levels of nesting")])
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_float=_finite_float,
                          parse_constant=_constant)
    except json.JSONDecodeError as exc:
        reason = f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        raise ApiError(400, "the request body is not valid JSON", errors=[("", reason)]) from None
    except (ValueError, RecursionError) as exc:  # duplicate keys, NaN, huge integers, too deep
        reason = str(exc) if isinstance(exc, _DuplicateKey) else "invalid JSON value (number out of range?)"
        raise ApiError(400, "the request body is not valid JSON", errors=[("", reason)]) from None


@dataclass
class ApiResponse:
    status: int
    body: Any = None  # JSON-able; None = no body
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = "application/json"
    _encoded: bytes | None = field(default=None, repr=False, compare=False)

    def encode(self) -> bytes:
        """Serialise the body now (``routing.handle`` does, inside its protection) and keep the bytes."""
        self._encoded = self.body_bytes()
        return self._encoded

    def body_bytes(self) -> bytes:
        """The body as UTF-8 JSON. Text that is not valid Unicode (a lone surrogate that came in as a
        ``\\ud800`` escape) is written as a JSON escape instead, so this never raises
        ``UnicodeEncodeError``; ``routing.handle`` serialises inside its protection anyway."""
        if self._encoded is not None:
            return self._encoded
        if self.body is None:
            return b""
        try:
            return json.dumps(self.body, ensure_ascii=False, separators=(",", ":"),
                              default=str).encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(self.body, ensure_ascii=True, separators=(",", ":"),
                              default=str).encode("ascii")

    @classmethod
    def json(cls, status: int, body: Any, headers: Mapping[str, str] | None = None) -> ApiResponse:
        return cls(status, body, dict(headers or {}))

    @classmethod
    def problem(cls, error: ApiError, request_id: str | None = None) -> ApiResponse:
        body = problem_body(error.status, error.detail, errors=error.errors, extra=error.extra,
                            request_id=request_id)
        return cls(error.status, body, dict(error.headers), PROBLEM_MEDIA_TYPE)

