"""Errors of the settings API as RFC 9457 problem details (``application/problem+json``).

Every refusal is an :class:`ApiError`; the request handler turns it into
``{"type": "about:blank", "title", "status", "detail", "errors": [{"field", "reason"}]}`` plus any
extra members (``checks`` of a failed preflight, ``active_run`` of a 409). Details and reasons are
written by us and never echo a request value, so a secret pasted into the wrong field cannot come back
in a response or a log line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

__all__ = ["MAX_FIELD_CHARS", "PROBLEM_MEDIA_TYPE", "ApiError", "field_error", "problem_body", "safe_field"]

PROBLEM_MEDIA_TYPE = "application/problem+json"


#: Longest field path shown as given; longer ones are cut (a member name is the client's text).
MAX_FIELD_CHARS = 200
# Control characters, and surrogates (a lone one arrives as a JSON "\ud800" escape and is no valid
# Unicode: it could not even be encoded as UTF-8).
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def safe_field(field: str) -> str:
    """A field path fit to show and to encode: unprintable characters and surrogates become ``?``, and
    a path longer than ``MAX_FIELD_CHARS`` is cut (with ``...``)."""
    text = _UNPRINTABLE.sub("?", str(field))
    return text if len(text) <= MAX_FIELD_CHARS else text[:MAX_FIELD_CHARS] + "..."


def field_error(field: str, reason: str) -> dict[str, str]:
    """One entry of a problem's ``errors``: the dotted path of the bad input and why it is bad."""
    return {"field": safe_field(field), "reason": _SURROGATE.sub("?", str(reason))}


class ApiError(Exception):
    """A request the API refuses, with its HTTP status.

    ``errors``: ``(field, reason)`` pairs or ``{"field", "reason"}`` dicts. ``headers``: response headers
    the refusal needs (``WWW-Authenticate``, ``ETag``). ``extra``: further problem members.
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: Iterable[tuple[str, str] | Mapping[str, str]] = (),
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = int(status)
        self.errors = [
            field_error(str(e["field"]), str(e["reason"])) if isinstance(e, Mapping) else field_error(*e)
            for e in errors
        ]
        self.detail = _SURROGATE.sub("?", detail)
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def title_for(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_body(
    status: int,
    detail: str,
    *,
    errors: Iterable[Mapping[str, str]] = (),
    extra: Mapping[str, Any] | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The problem+json document. ``type`` stays ``about:blank``: the status code says what kind of
    problem it is, ``detail`` and ``errors`` say what to change."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title_for(status),
        "status": status,
        "detail": detail,
        "errors": [dict(e) for e in errors],
    }
    if request_id:
        body["request_id"] = request_id
    for key, value in (extra or {}).items():
        body.setdefault(key, value)
    return body
