"""OData ``$batch`` multipart encoding and decoding (no HTTP here).

Request format (execute-batch-operations-using-web-api): ``multipart/mixed; boundary="batch_<id>"``,
each part ``Content-Type: application/http`` + ``Content-Transfer-Encoding: binary`` wrapping one HTTP
request whose URL is the absolute path (``/api/data/v9.2/contacts(<id>)``). Lines end with CRLF.

Response format: ``multipart/mixed; boundary=batchresponse_<id>`` (boundary unquoted), parts may be
nested ``changesetresponse_<id>`` multiparts; each leaf wraps an HTTP response (status line, headers,
blank line, optional JSON body). The decoder accepts CRLF or bare LF, quoted or unquoted boundaries.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from .errors import DataverseError, error_from_response

__all__ = [
    "BatchOperation",
    "BatchResult",
    "decode_batch_response",
    "encode_batch",
    "parse_boundary",
]

CRLF = "\r\n"


@dataclass(frozen=True)
class BatchOperation:
    """One request inside a ``$batch``.

    Attributes:
        method: ``GET``, ``POST``, ``PATCH``, ``DELETE`` (upper-cased on encode).
        path: Relative to the API root (``contacts(<id>)``) or already absolute (``/api/...``/``https://``).
        body: JSON body (dict/list) or ``None``.
        headers: Extra headers for this operation (e.g. ``{"If-Match": "*"}``).
    """

    method: str
    path: str
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchResult:
    """The response to one ``BatchOperation`` (same position as the operation).

    Attributes:
        status: HTTP status of the part, or ``None`` when the server returned no part for it.
        headers: Headers of the inner HTTP response (keys as sent by the server).
        body: Parsed JSON body, raw text if not JSON, or ``None`` when empty.
        error: Typed error when ``status >= 400`` or the operation did not run, else ``None``.
        content_id: ``Content-ID`` of the MIME part, if the server echoed it.
    """

    status: int | None
    headers: Mapping[str, str]
    body: Any
    error: DataverseError | None = None
    content_id: str | None = None

    @property
    def ok(self) -> bool:
        """True when the operation was applied.

        ``status`` is ``None`` with ``ok`` True only for operations that ran before the failing one in a
        batch sent without continue-on-error: Dataverse applied them but returns only the failing part.
        """
        return self.error is None and (self.status is None or self.status < 400)

    @property
    def entity_id(self) -> str | None:
        """Id from ``OData-EntityId``/``Location`` (creates), if present."""
        for key, value in self.headers.items():
            if key.lower() in ("odata-entityid", "location"):
                match = _ENTITY_ID.search(value)
                if match:
                    return match.group(1)
        return None


_ENTITY_ID = re.compile(
    r"\(([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\)\s*$"
)


def encode_batch(
    operations: Sequence[BatchOperation], *, api_path: str, boundary: str | None = None
) -> tuple[bytes, str]:
    """Encode operations as a ``$batch`` body (each operation its own top-level part, no change set).

    Top-level parts (not a change set) are what ``odata.continue-on-error`` needs: each succeeds or fails
    on its own. A change set would make them atomic.

    Args:
        operations: Up to 1000 operations (Dataverse's limit; checked by the client). Part ``n``
            (1-based) carries ``Content-ID: n``.
        api_path: Absolute path of the API root, e.g. ``/api/data/v9.2/``.
        boundary: Boundary to use (default ``batch_<uuid4>``).

    Returns:
        ``(body, content_type)``.
    """
    boundary = boundary or f"batch_{uuid.uuid4()}"
    if not api_path.endswith("/"):
        api_path += "/"
    out: list[str] = []
    for number, op in enumerate(operations, start=1):
        url = op.path if op.path.startswith(("/", "http://", "https://")) else api_path + op.path
        # The request line is space-separated: escape spaces (and other unsafe characters) in the URL,
        # leaving existing %-escapes and OData syntax alone.
        url = quote(url, safe="/:?&=$,'()@*%+;!~-._")
        out.append(f"--{boundary}{CRLF}")
        out.append(f"Content-Type: application/http{CRLF}")
        out.append(f"Content-Transfer-Encoding: binary{CRLF}")
        # Content-ID is echoed on the response part: it tells which operation a part belongs to even when
        # Dataverse returns only the failing part (no continue-on-error).
        out.append(f"Content-ID: {number}{CRLF}{CRLF}")
        out.append(f"{op.method.upper()} {url} HTTP/1.1{CRLF}")
        for name, value in op.headers.items():
            out.append(f"{name}: {value}{CRLF}")
        if op.body is not None:
            out.append(f"Content-Type: application/json; type=entry{CRLF}{CRLF}")
            out.append(json.dumps(op.body, separators=(",", ":"), ensure_ascii=False))
            out.append(CRLF)
        else:
            out.append(CRLF)
        out.append(CRLF)
    out.append(f"--{boundary}--{CRLF}")
    return "".join(out).encode("utf-8"), f'multipart/mixed; boundary="{boundary}"'


_BOUNDARY = re.compile(r'boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)


def parse_boundary(content_type: str) -> str | None:
    """Boundary parameter of a ``multipart/*`` content type (quoted or not), or ``None``."""
    match = _BOUNDARY.search(content_type or "")
    if not match:
        return None
    return match.group(1) or match.group(2)


def _split_headers(block: str) -> tuple[dict[str, str], str]:
    """Split ``headers\\n\\nbody`` (``block`` uses \\n line ends) into (headers, body)."""
    if block.startswith("\n"):
        return {}, block[1:]  # empty header section
    head, sep, body = block.partition("\n\n")
    if not sep:
        head, body = block, ""
    headers: dict[str, str] = {}
    for line in head.split("\n"):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip()] = value.strip()
    return headers, body


def _header(headers: Mapping[str, str], name: str) -> str:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return ""


def _multipart_parts(text: str, boundary: str) -> list[str]:
    """Return the raw parts between ``--boundary`` delimiters (``text`` uses \\n line ends)."""
    delimiter = "--" + boundary
    parts: list[str] = []
    # A delimiter must start a line; split on it and drop the preamble and the epilogue.
    pieces = re.split(r"(?:^|\n)" + re.escape(delimiter), text)
    for piece in pieces[1:]:
        if piece.startswith("--"):
            break  # close delimiter
        # Remainder of the delimiter line (transport padding) then the part.
        _, _, part = piece.partition("\n")
        parts.append(part)
    return parts


def _decode_parts(text: str, boundary: str) -> list[BatchResult]:
    results: list[BatchResult] = []
    for part in _multipart_parts(text, boundary):
        headers, body = _split_headers(part)
        content_type = _header(headers, "Content-Type")
        if content_type.lower().startswith("multipart/"):
            inner = parse_boundary(content_type)
            if inner:
                results.extend(_decode_parts(body, inner))
            continue
        result = _decode_http_response(body)
        content_id = _header(headers, "Content-ID") or None
        results.append(replace(result, content_id=content_id) if content_id else result)
    return results


_STATUS_LINE = re.compile(r"^HTTP/\d(?:\.\d)?\s+(\d{3})")


def _decode_http_response(text: str) -> BatchResult:
    text = text.lstrip("\n")
    status_line, _, rest = text.partition("\n")
    match = _STATUS_LINE.match(status_line.strip())
    if not match:
        error = DataverseError(None, "", f"unparseable batch part: {status_line[:80]!r}")
        return BatchResult(None, {}, text, error)
    status = int(match.group(1))
    headers, body_text = _split_headers(rest)
    body_text = body_text.strip()
    body: Any = None
    if body_text:
        try:
            body = json.loads(body_text)
        except ValueError:
            body = body_text
    error = error_from_response(status, body, headers) if status >= 400 else None
    return BatchResult(status, headers, body, error)


def decode_batch_response(content_type: str, body: bytes | str) -> list[BatchResult]:
    """Decode a ``$batch`` response into one ``BatchResult`` per leaf part, in response order.

    Change-set responses are flattened in place (their parts keep their order).

    Args:
        content_type: The response ``Content-Type`` header (carries the boundary).
        body: The raw response body.

    Raises:
        DataverseError: the content type has no boundary (not a multipart response).
    """
    boundary = parse_boundary(content_type)
    if not boundary:
        raise DataverseError(None, "", f"$batch response is not multipart: {content_type!r}")
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    # Normalise line ends once; JSON bodies are unaffected (a literal CR in JSON must be escaped).
    text = text.replace("\r\n", "\n")
    return _decode_parts(text, boundary)
