"""Delta tokens and delta pages (``Prefer: odata.track-changes`` / ``$deltatoken``).

A token is ``<version>!<MM/dd/yyyy HH:mm:ss>`` (UTC) like Dataverse's. A delta answers, for the
versions after the token up to a fixed upper bound, first the rows created or updated (latest
state, by version) and then the rows deleted. The upper bound travels in the paging cookie so
changes that arrive while a client pages are left for the next delta.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

from .errors import bad_request, expired_version_stamp
from .store import Row, Store, TableData

TOKEN_TIME = "%m/%d/%Y %H:%M:%S"  # noqa: S105 - a date format, not a secret


def encode_token(version: int, when: datetime | None = None) -> str:
    """URL-encoded token, e.g. ``919042%2108%2f22%2f2017%2008%3a10%3a44``."""
    stamp = (when or datetime.now(UTC)).strftime(TOKEN_TIME)
    encoded = quote(f"{version}!{stamp}", safe="")
    return "".join(p.lower() if p.startswith("%") else p for p in _split_escapes(encoded))


def _split_escapes(text: str) -> list[str]:
    parts, i = [], 0
    while i < len(text):
        if text[i] == "%":
            parts.append(text[i : i + 3])
            i += 3
        else:
            parts.append(text[i])
            i += 1
    return parts


def decode_token(token: str) -> tuple[int, datetime]:
    """(version, issue time) from a token, decoded or not; 400 when it is no token."""
    text = unquote(token)
    version, _, stamp = text.partition("!")
    try:
        return int(version), datetime.strptime(stamp, TOKEN_TIME).replace(tzinfo=UTC)
    except ValueError:
        raise bad_request(f"The delta token '{token}' is not valid.") from None


class DeltaTokens:
    """Remembers issued tokens so :meth:`expire_all` can invalidate every one of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._issued: set[int] = set()
        self._expired: set[int] = set()

    def issue(self, version: int) -> str:
        with self._lock:
            self._issued.add(version)
        return encode_token(version)

    def expire_all(self) -> None:
        with self._lock:
            self._expired |= self._issued
            self._issued = set()

    def check(self, token: str, retention_days: int | None) -> int:
        """The token's version; raises the 0x80044352 error when it expired."""
        version, issued_at = decode_token(token)
        with self._lock:
            if version in self._expired:
                raise expired_version_stamp()
        if (
            retention_days
            and retention_days > 0
            and datetime.now(UTC) - issued_at > timedelta(days=retention_days)
        ):
            raise expired_version_stamp()
        return version


@dataclass
class DeltaPage:
    changed: list[Row]
    deleted: list[str]
    more: bool
    cursor: dict[str, Any]


def delta_page(
    store: Store, td: TableData, since: int, upto: int, size: int, cursor: dict[str, Any] | None
) -> DeltaPage:
    """Up to ``size`` changes in (since, upto]: changed rows first, then deleted ids."""
    with store.lock:
        versions, ids = td.log_versions, td.log_ids
        lo = bisect.bisect_right(versions, since)
        hi = bisect.bisect_right(versions, upto)
        phase = cursor.get("phase", "c") if cursor else "c"
        pos = int(cursor.get("pos", lo)) if cursor else lo
        changed: list[Row] = []
        deleted: list[str] = []
        rows, deleted_at = td.rows, td.deleted_at
        seen = 0
        while True:
            while pos < hi:
                version, record_id = versions[pos], ids[pos]
                row = rows.get(record_id)
                if phase == "c":
                    hit = row is not None and row[0] == version
                else:
                    hit = deleted_at.get(record_id) == version and (row is None or row[0] > upto)
                if hit:
                    if seen == size:
                        return DeltaPage(changed, deleted, True, {"phase": phase, "pos": pos})
                    if phase == "c":
                        changed.append(row)  # type: ignore[arg-type]
                    else:
                        deleted.append(record_id)
                    seen += 1
                pos += 1
            if phase == "d":
                return DeltaPage(changed, deleted, False, {})
            phase, pos = "d", lo
