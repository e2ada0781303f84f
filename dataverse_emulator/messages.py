"""Transport-neutral request and response objects.

The HTTP server and the ``$batch`` handler both build a :class:`Request` and get back a
:class:`Response`, so an inner batch request goes through exactly the same code as a real one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

JSON_TYPE = "application/json; odata.metadata=minimal"


class Headers(dict[str, str]):
    """Case-insensitive header map (keys stored lower-case)."""

    def __init__(self, items: Any = ()) -> None:
        super().__init__()
        for key, value in dict(items).items():
            self[key] = value

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key.lower(), value)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


def parse_prefer(values: str) -> dict[str, str | None]:
    """``Prefer: odata.track-changes, odata.maxpagesize=2`` -> {name: value or None}.

    Commas inside quoted values (``odata.include-annotations="a,b"``) are kept.
    """
    prefs: dict[str, str | None] = {}
    part, quoted, parts = "", False, []
    for ch in values:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append(part)
            part = ""
        else:
            part += ch
    parts.append(part)
    for item in parts:
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        prefs[name.strip().lower()] = value.strip() if sep else None
    return prefs


@dataclass
class Request:
    """One Web API request. ``path`` is relative to ``/api/data/v9.2/`` and percent-decoded."""

    method: str
    path: str
    raw_query: str = ""
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    in_batch: bool = False

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self.query: dict[str, str] = {}
        for key, value in parse_qsl(self.raw_query, keep_blank_values=True):
            self.query[key] = value
        self.prefer = parse_prefer(",".join(v for k, v in self.headers.items() if k == "prefer"))

    @classmethod
    def from_target(cls, method: str, target: str, headers: Headers, body: bytes, **kw: Any) -> Request:
        """Build from a request target like ``/api/data/v9.2/contacts?$select=x`` or ``contacts``."""
        path, _, query = target.partition("?")
        marker = "/api/data/v9.2/"
        if marker in path:
            path = path.split(marker, 1)[1]
        elif path.endswith("/api/data/v9.2"):
            path = ""
        return cls(method, unquote(path.lstrip("/")), query, headers, body, **kw)

    def json(self) -> Any:
        from .errors import bad_request

        if not self.body.strip():
            return {}
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise bad_request(f"Invalid JSON payload: {exc}") from None


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    drop: bool = False  # fault injection: close the connection without answering

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        merged = {"Content-Type": JSON_TYPE, "OData-Version": "4.0", **(headers or {})}
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return cls(status, merged, body)

    @classmethod
    def empty(cls, status: int = 204, headers: dict[str, str] | None = None) -> Response:
        return cls(status, {"OData-Version": "4.0", **(headers or {})}, b"")


REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    412: "Precondition Failed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
