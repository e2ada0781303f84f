"""``POST $batch``: multipart/mixed parsing, change sets (atomic), Content-ID references and
responses formatted like Dataverse's (``batchresponse_<guid>`` / ``changesetresponse_<guid>``)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import bad_request
from .messages import REASONS, Headers, Request, Response

if TYPE_CHECKING:
    from .service import Service

MAX_REQUESTS = 1000
CRLF = "\r\n"


@dataclass
class Part:
    """One inner HTTP request of a batch."""

    method: str
    target: str
    headers: Headers
    body: bytes
    content_id: str | None = None


@dataclass
class ChangeSet:
    parts: list[Part] = field(default_factory=list)


class _Rollback(Exception):
    def __init__(self, response: Response, part: Part) -> None:
        super().__init__("change set failed")
        self.response, self.part = response, part


def _boundary(content_type: str) -> str:
    match = re.search(r'boundary="?([^";]+)"?', content_type or "")
    if not match:
        raise bad_request("The batch request must be multipart/mixed with a boundary.")
    return match.group(1).strip()


def _split(text: str, boundary: str) -> list[str]:
    """Body parts between ``--boundary`` lines (CRLF or LF line ends)."""
    parts: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines(keepends=True):
        stripped = line.rstrip("\r\n").rstrip()
        if stripped in (f"--{boundary}", f"--{boundary}--"):
            if current is not None:
                parts.append(_drop_last_newline("".join(current)))
            current = None if stripped.endswith("--") and stripped == f"--{boundary}--" else []
            continue
        if current is not None:
            current.append(line)
    return parts


def _drop_last_newline(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith("\n") else text


def _headers_and_rest(text: str) -> tuple[Headers, str]:
    headers = Headers()
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1  # tolerate blank lines before the headers
    while i < len(lines) and lines[i].strip():
        name, _, value = lines[i].partition(":")
        headers[name.strip()] = value.strip()
        i += 1
    return headers, "".join(lines[i + 1 :])


def _parse_http(text: str, content_id: str | None) -> Part:
    lines = text.lstrip("\r\n").splitlines(keepends=True)
    if not lines:
        raise bad_request("Empty request in batch.")
    request_line = lines[0].strip().split()
    if len(request_line) < 2:
        raise bad_request(f"Invalid request line in batch: '{lines[0].strip()}'.")
    headers, body = _headers_and_rest("".join(lines[1:]) if len(lines) > 1 else "")
    if not lines[1:] or not lines[1].strip():
        headers, body = Headers(), "".join(lines[2:])
    return Part(request_line[0].upper(), request_line[1], headers, body.strip("\r\n").encode(), content_id)


def parse(body: bytes, content_type: str) -> list[Part | ChangeSet]:
    """Parse a ``$batch`` body into requests and change sets."""
    items: list[Part | ChangeSet] = []
    for raw in _split(body.decode("utf-8"), _boundary(content_type)):
        headers, rest = _headers_and_rest(raw)
        ctype = headers.get("Content-Type", "")
        if ctype.lower().startswith("multipart/mixed"):
            change_set = ChangeSet()
            for inner in _split(rest, _boundary(ctype)):
                inner_headers, inner_rest = _headers_and_rest(inner)
                change_set.parts.append(_parse_http(inner_rest, inner_headers.get("Content-ID")))
            items.append(change_set)
        else:
            items.append(_parse_http(rest, headers.get("Content-ID")))
    return items


def _render(response: Response, content_id: str | None) -> str:
    head = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        head.append(f"Content-ID: {content_id}")
    lines = [*head, "", f"HTTP/1.1 {response.status} {REASONS.get(response.status, '')}".rstrip()]
    for name, value in response.headers.items():
        if name.lower() == "content-type" and value.startswith("application/json") and response.status < 400:
            value = "application/json; odata.metadata=minimal; odata.streaming=true"
        lines.append(f"{name}: {value}")
    lines.append("")
    lines.append(response.body.decode("utf-8"))
    return CRLF.join(lines) + CRLF


def handle(svc: Service, req: Request) -> Response:
    """Run the batch; see the module docstring for the wire format."""
    items = parse(req.body, req.headers.get("Content-Type", ""))
    total = sum(len(i.parts) if isinstance(i, ChangeSet) else 1 for i in items)
    if total > MAX_REQUESTS:
        raise bad_request(
            f"The number of requests in the batch ({total}) exceeds the limit of {MAX_REQUESTS}.",
            "0x8004112d",
        )
    continue_on_error = "odata.continue-on-error" in req.prefer
    auth = req.headers.get("Authorization")
    batch_boundary = f"batchresponse_{uuid.uuid4()}"
    chunks: list[str] = []

    def run(part: Part, references: dict[str, str]) -> Response:
        target = part.target
        ref = re.match(r"^\$(\w+)(.*)$", target)
        if ref:
            if ref.group(1) not in references:
                return Response.json(
                    400,
                    {
                        "error": {
                            "code": "0x80060888",
                            "message": f"Content-ID Reference: '${ref.group(1)}' does not exist in the batch "
                            "context.",
                        }
                    },
                )
            target = references[ref.group(1)] + ref.group(2)
        headers = Headers(part.headers)
        if auth:
            headers["Authorization"] = auth
        inner = Request.from_target(part.method, target, headers, part.body, in_batch=True)
        response = svc.handle(inner)
        if part.content_id and "OData-EntityId" in response.headers:
            references[part.content_id] = response.headers["OData-EntityId"]
        return response

    for item in items:
        if isinstance(item, Part):
            response = run(item, {})
            if response.status >= 400 and not continue_on_error:
                return _failed(batch_boundary, response, item.content_id)
            chunks.append(f"--{batch_boundary}{CRLF}{_render(response, item.content_id)}")
            continue
        references: dict[str, str] = {}
        rendered: list[str] = []
        try:
            with svc.store.transaction():  # a change set is atomic
                for part in item.parts:
                    if part.method == "GET":
                        response = Response.json(
                            400,
                            {
                                "error": {
                                    "code": "0x80060888",
                                    "message": "GET requests are not allowed within change sets.",
                                }
                            },
                        )
                        raise _Rollback(response, part)
                    response = run(part, references)
                    if response.status >= 400:
                        raise _Rollback(response, part)
                    rendered.append(_render(response, part.content_id))
        except _Rollback as failed:
            if not continue_on_error:
                return _failed(batch_boundary, failed.response, failed.part.content_id)
            chunks.append(f"--{batch_boundary}{CRLF}{_render(failed.response, failed.part.content_id)}")
            continue
        cs_boundary = f"changesetresponse_{uuid.uuid4()}"
        inner = "".join(f"--{cs_boundary}{CRLF}{r}" for r in rendered) + f"--{cs_boundary}--{CRLF}"
        chunks.append(
            f"--{batch_boundary}{CRLF}Content-Type: multipart/mixed; boundary={cs_boundary}{CRLF}"
            f"{CRLF}{inner}"
        )
    body = "".join(chunks) + f"--{batch_boundary}--{CRLF}"
    return Response(
        200,
        {
            "Content-Type": f"multipart/mixed; boundary={batch_boundary}",
            "OData-Version": "4.0",
            **({"Preference-Applied": "odata.continue-on-error"} if continue_on_error else {}),
        },
        body.encode("utf-8"),
    )


def _failed(boundary: str, response: Response, content_id: str | None) -> Response:
    """Without continue-on-error: the whole batch is 400 with just the failing part."""
    body = f"--{boundary}{CRLF}{_render(response, content_id)}--{boundary}--{CRLF}"
    return Response(
        400,
        {"Content-Type": f"multipart/mixed; boundary={boundary}", "OData-Version": "4.0"},
        body.encode("utf-8"),
    )
