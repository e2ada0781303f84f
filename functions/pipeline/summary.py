"""The run record: what one scan did, as the run keeps it, stores it and prints it. Pure: no I/O.

A :class:`RunSummary` is filled in while the scan works (counters, reasons, Dataverse requests, table
operations, notes), saved as the run's record (``to_dict``, ``functions.state.runs.RunRecords``: the
same dict the API serves as a run), and printed by the CLI and the demo (``render``). The fan-out's
batch worker fills one per batch and sends its counts back to the run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from functions.dataverse.counters import EVENT_KINDS

__all__ = ["COUNTER_ORDER", "REQUEST_EVENTS", "RunSummary", "requests_sent"]

#: Keys of a Dataverse client's ``request_counts`` that count events around requests, not requests.
REQUEST_EVENTS = EVENT_KINDS

#: The counters every record lists, in this order (zero when nothing happened); others follow.
COUNTER_ORDER = (
    "in_scope",
    "planned",
    "looked_up",
    "still_there",
    "left",
    "unknown",
    "flagged",
    "unflagged",
    "employer_updated",
    "ignored",
    "unchanged",
    "skipped",
    "deferred",
    "left_scope",
    "deleted",
    "writes",
    "errors",
)


def requests_sent(request_counts: Mapping[str, int]) -> int:
    """The Dataverse requests among ``request_counts`` (a client's counters, or a difference of two):
    everything but the events (retries, throttling, token refreshes, shared-pause waits)."""
    return sum(n for kind, n in request_counts.items() if kind not in REQUEST_EVENTS)


@dataclass
class RunSummary:
    run_id: str
    trigger: str
    dry_run: bool
    started_at: str
    # queued (a request, before the worker starts it) | running | succeeded | completed_with_errors |
    # failed | skipped_locked | disabled (functions.state.runs.RUN_STATUSES)
    status: str = "running"
    finished_at: str | None = None
    mode: str = ""  # full | delta
    message: str = ""
    counters: Counter[str] = field(default_factory=Counter)
    planned: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    requests: dict[str, int] = field(default_factory=dict)
    table_operations: dict[str, int] = field(default_factory=dict)
    duration_seconds: float = 0.0
    provisioning: str = ""
    provisioning_requests: int = 0
    rows_read: Counter[str] = field(default_factory=Counter)  # change-tracking rows per table
    seconds: Counter[str] = field(default_factory=Counter)  # wall time per phase
    sync_users: str = ""
    notes: list[str] = field(default_factory=list)
    would_write: list[dict[str, Any]] = field(default_factory=list)
    #: what reading the profile file found: rows read, profiles loaded, malformed rows by reason
    profile_file: dict[str, Any] = field(default_factory=dict)
    requested_by: str | None = None  # who asked for the run (API requests only)

    @property
    def ok(self) -> bool:
        return self.status in ("succeeded", "completed_with_errors")

    @property
    def request_total(self) -> int:
        return requests_sent(self.requests)

    def to_dict(self) -> dict[str, Any]:
        """The run record as stored and served: JSON-ready, counters in ``COUNTER_ORDER`` first."""
        out = {
            "run_id": self.run_id,
            "trigger": self.trigger,
            "dry_run": self.dry_run,
            "status": self.status,
            "message": self.message,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration_seconds": round(self.duration_seconds, 3),
            "mode": self.mode,
            "provisioning": self.provisioning,
            "provisioning_requests": self.provisioning_requests,
            "sync_users": self.sync_users,
            "rows_read": dict(self.rows_read),
            "seconds_by_phase": {k: round(v, 2) for k, v in self.seconds.items()},
            "counters": {k: self.counters.get(k, 0) for k in COUNTER_ORDER}
            | {k: v for k, v in self.counters.items() if k not in COUNTER_ORDER},
            "planned_by_reason": dict(self.planned),
            "skipped_by_reason": dict(self.skipped),
            "errors_by_kind": dict(self.errors),
            "dataverse_requests": {"total": self.request_total, **self.requests},
            "table_operations": {"total": sum(self.table_operations.values()), **self.table_operations},
            "notes": list(self.notes),
            "would_write": list(self.would_write),
        }
        if self.profile_file:
            out["profile_file"] = dict(self.profile_file)
        if self.requested_by is not None:
            out["requested_by"] = self.requested_by
        return out

    def render(self) -> str:
        """The summary for a terminal: title, one line per counter, reasons, costs and notes."""
        d = self.to_dict()
        title = f"Scan {self.run_id} ({self.trigger}) - {self.status.upper()}"
        if self.dry_run:
            title += " - DRY RUN, nothing written"
        lines = [title]
        if self.message:
            lines.append(f"  {self.message}")
        lines.append(f"  mode {self.mode or '-'}, provisioning {self.provisioning or '-'}, "
                     f"sync users: {self.sync_users or '-'}, {self.duration_seconds:.1f} s")
        rows = [(k.replace("_", " "), str(v)) for k, v in d["counters"].items()]
        width = max((len(k) for k, _ in rows), default=10)
        lines += [f"  {k.ljust(width)}  {v.rjust(8)}" for k, v in rows]
        for title_, data in (("planned by reason", self.planned), ("skipped by reason", self.skipped),
                             ("errors", self.errors)):
            if data:
                lines.append(f"  {title_}: " + ", ".join(f"{k} {v}" for k, v in sorted(data.items())))
        req = d["dataverse_requests"]
        lines.append("  Dataverse requests: " + str(req["total"]) + " (" + ", ".join(
            f"{k} {v}" for k, v in sorted(self.requests.items()) if v) + ")")
        lines.append(f"  table operations: {d['table_operations']['total']}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)
