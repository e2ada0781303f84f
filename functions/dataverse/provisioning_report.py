"""The result of a provisioning run: what exists, what was created or updated, and the binding."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from functions.dataverse.column import ColumnBinding, SupportingColumns
from functions.dataverse.counters import EVENT_KINDS

__all__ = ["Action", "Component", "ProvisioningReport"]

# Client counters that are events, not HTTP requests.
_EVENT_COUNTERS = frozenset(EVENT_KINDS)


class Action(StrEnum):
    EXISTS = "exists"
    CREATED = "created"
    UPDATED = "updated"
    WOULD_CREATE = "would_create"
    WOULD_UPDATE = "would_update"


@dataclass(frozen=True)
class Component:
    """One provisioned thing and what this run did to it."""

    kind: str  # publisher | solution | column | view
    name: str
    action: Action
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "action": self.action.value, "detail": self.detail}


@dataclass
class ProvisioningReport:
    """What provisioning found and did; ``binding`` is what later stages write through."""

    solution: str
    publisher_prefix: str
    dry_run: bool
    target_column: str
    languages: tuple[int, ...] = ()
    components: list[Component] = field(default_factory=list)
    binding: ColumnBinding | None = None
    supporting_columns: SupportingColumns | None = None
    published: bool = False
    requests: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True if this run wrote (or, in a dry run, would write) anything."""
        return any(c.action is not Action.EXISTS for c in self.components)

    @property
    def request_total(self) -> int:
        return sum(n for kind, n in self.requests.items() if kind not in _EVENT_COUNTERS)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (for ``--json`` and run records)."""
        return {
            "solution": self.solution,
            "publisher_prefix": self.publisher_prefix,
            "dry_run": self.dry_run,
            "target_column": self.target_column,
            "languages": list(self.languages),
            "components": [c.to_dict() for c in self.components],
            "binding": self.binding.to_dict() if self.binding else None,
            "supporting_columns": self.supporting_columns.to_dict() if self.supporting_columns else None,
            "changed": self.changed,
            "published": self.published,
            "requests": {"total": self.request_total, **self.requests},
            "notes": list(self.notes),
        }

    def render(self) -> str:
        """A readable text table for people running the CLI."""
        title = f"Provisioning solution {self.solution} (publisher prefix {self.publisher_prefix})"
        lines = [title + (" - DRY RUN, nothing written" if self.dry_run else "")]
        if self.languages:
            lines.append("Label languages: " + ", ".join(str(code) for code in self.languages))
        rows = [("KIND", "NAME", "ACTION", "DETAIL")] + [
            (c.kind, c.name, c.action.value, c.detail) for c in self.components
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            cells = [row[i].ljust(widths[i]) for i in range(3)] + [row[3]]
            lines.append("  ".join(cells).rstrip())
        if self.binding:
            values = ", ".join(f"{flag.value}={value}" for flag, value in self.binding.values.items())
            lines.append(f"Flag column: contact.{self.binding.logical_name} ({values})")
        if self.dry_run:
            publish = "would publish contact, opportunity" if self.changed else "nothing to publish"
        else:
            publish = (
                "published contact, opportunity" if self.published else "nothing changed, nothing published"
            )
        lines.append(f"Publish: {publish}")
        lines.extend(f"Note: {note}" for note in self.notes)
        counts = ", ".join(
            f"{kind} {n}" for kind, n in sorted(self.requests.items()) if n and kind not in _EVENT_COUNTERS
        )
        retries = self.requests.get("retries", 0)
        lines.append(
            f"Requests: {self.request_total}"
            + (f" ({counts})" if counts else "")
            + (f", {retries} retries" if retries else "")
        )
        return "\n".join(lines)
