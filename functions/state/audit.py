"""The audit log: who changed what, when. One entity per change, newest first.

Only the changed paths are stored (``{"matching.employer_same_score": {"old": 90.0, "new": 92.0}}``),
never whole documents, and callers pass only non-secret data (settings hold no secrets by design).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from functions.state.tables import ScanTables

__all__ = ["ACTIONS", "AuditLog", "changed_paths"]

PARTITION = "audit"
_MAX_MS = 10**13  # year 2286: RowKey = inverted milliseconds, so a partition scan is newest first
_MAX_CHARS = 30000  # a string property holds 64 KiB of UTF-16
ACTIONS = ("settings.update", "settings.enable", "settings.disable", "settings.repair", "run.request")


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for name, item in value.items():
            _flatten(item, f"{prefix}.{name}" if prefix else str(name), out)
    else:
        out[prefix] = value  # lists are one value: "user_ids went from [a] to [a, b]"


def changed_paths(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """``{dotted path: {"old": ..., "new": ...}}`` for every leaf that differs (absent = ``None``)."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    _flatten(old or {}, "", before)
    _flatten(new or {}, "", after)
    out = {}
    for path in sorted(set(before) | set(after)):
        a, b = before.get(path), after.get(path)
        # 1 == 1.0 == True in Python; a change of JSON type is still a change.
        if a != b or type(a) is not type(b):
            out[path] = {"old": a, "new": b}
    out.pop("", None)  # both documents empty
    return out


class AuditLog:
    """``record`` one change; ``latest`` reads them back, newest first."""

    def __init__(self, tables: ScanTables, *, clock: Callable[[], datetime] | None = None) -> None:
        self.store = tables.audit
        self.clock = clock or (lambda: datetime.now(UTC))
        self._ensured = False
        self._lock = threading.Lock()

    def _ensure(self) -> None:
        # Created on first write: an audit log nobody wrote to needs no table.
        with self._lock:
            if not self._ensured:
                self.store.store.ensure()
                self._ensured = True

    def record(
        self,
        *,
        who_id: str,
        who_name: str,
        auth: str,
        action: str,
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
        request_id: str | None = None,
        invalid_fields: Sequence[str] | None = None,
    ) -> str:
        """Store one entry and return its id. ``action``: one of ``ACTIONS``; ``old``/``new``: the JSON
        documents before and after (only their differing paths are kept). ``invalid_fields``: for a
        repair (``settings.repair``), the paths of the stored document that no longer validated - the
        names only, never their values."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}; one of {', '.join(ACTIONS)}")
        now = self.clock().astimezone(UTC)
        ms = int(now.timestamp() * 1000)
        entry_id = f"{_MAX_MS - ms:013d}_{uuid.uuid4().hex[:12]}"
        changes = changed_paths(old, new)
        text = json.dumps(changes, sort_keys=True, default=str)
        truncated = len(text) > _MAX_CHARS
        if truncated:  # keep which paths changed (as many as fit); the values did not fit one property
            paths = sorted(changes)
            while True:
                text = json.dumps({path: {"omitted": True} for path in paths}, sort_keys=True)
                if len(text) <= _MAX_CHARS:
                    break
                paths = paths[: len(paths) // 2]
        entity: dict[str, Any] = {}
        if invalid_fields is not None:
            entity["invalid_fields"] = json.dumps([str(f)[:200] for f in invalid_fields][:100])
        self._ensure()
        self.store.insert({
            **entity,
            "PartitionKey": PARTITION,
            "RowKey": entry_id,
            "at": now.isoformat(timespec="milliseconds"),
            "who_id": who_id[:256],
            "who_name": who_name[:256],
            "auth": auth[:32],
            "action": action,
            "request_id": (request_id or "")[:128],
            "changes": text,
            "truncated": truncated,
        })
        return entry_id

    def latest(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest ``limit`` entries: ``{"id", "at", "who": {"id", "name", "auth"}, "action",
        "request_id", "changes", "truncated"}``."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        out: list[dict[str, Any]] = []
        try:
            entities = list(islice(self.store.partition(PARTITION), limit))
        except ResourceNotFoundError:  # the table is created on the first write
            return []
        for entity in entities:
            entry = {
                "id": entity["RowKey"],
                "at": _text(entity.get("at")),
                "who": {
                    "id": _text(entity.get("who_id")), "name": _text(entity.get("who_name")),
                    "auth": _text(entity.get("auth")),
                },
                "action": _text(entity.get("action")) or "unknown",
                "request_id": _text(entity.get("request_id")) or None,
                "changes": _json_of(entity.get("changes"), dict, {}),
                "truncated": bool(entity.get("truncated")),
            }
            if entry["changes"] is None:  # an entry written by hand or by another version: shown, not fatal
                entry["changes"] = {}
                entry["unreadable"] = ["changes"]
            if "invalid_fields" in entity:
                fields = _json_of(entity.get("invalid_fields"), list, [])
                entry["invalid_fields"] = [str(f) for f in fields] if fields is not None else []
            out.append(entry)
        return out


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _json_of(raw: object, kind: type, empty: Any) -> Any:
    """``raw`` parsed as JSON of type ``kind``; ``empty`` when absent; None when unreadable."""
    if raw is None or raw == "":
        return empty
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    return value if isinstance(value, kind) else None
