"""The preflight report: one :class:`Check` per probe, in the order they ran."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["CHECK_NAMES", "Check", "CheckStatus", "PreflightReport"]

# The checks, in the order they run (docs/doctor.md).
CHECK_NAMES: tuple[str, ...] = (
    "config",
    "storage",
    "dataverse",
    "privileges",
    "change_tracking",
    "identity_columns",
    "languages",
    "bulk_update",
    "profile_source",
)

TITLES: dict[str, str] = {
    "config": "Configuration valid",
    "storage": "State storage reachable",
    "dataverse": "Dataverse reachable (WhoAmI)",
    "privileges": "Privileges of the application user",
    "change_tracking": "Change tracking on contact, account, opportunity, connection",
    "identity_columns": "Identity columns (profile URL, e-mails) exist and are readable",
    "languages": "Provisioned languages",
    "bulk_update": "UpdateMultiple supported on contact",
    "profile_source": "Profile source reachable and valid",
}


class CheckStatus(StrEnum):
    OK = "ok"
    WARNING = "warning"  # works, but not as well as it could (the fix says how)
    FAILED = "failed"  # the scan cannot work until this is fixed
    SKIPPED = "skipped"  # not run: a check it depends on failed


_SYMBOLS = {
    CheckStatus.OK: "✓",
    CheckStatus.WARNING: "!",
    CheckStatus.FAILED: "✗",
    CheckStatus.SKIPPED: "-",
}


@dataclass(frozen=True)
class Check:
    """One probe's outcome. ``detail`` says what was found, ``fix`` what a Dynamics/Azure admin does
    about a failure or warning (empty when ok). ``data`` holds structured facts (e.g. the missing
    privileges) for API clients. Neither ever contains a secret."""

    name: str
    status: CheckStatus
    detail: str = ""
    fix: str = ""
    data: Mapping[str, Any] | None = None

    @property
    def title(self) -> str:
        return TITLES.get(self.name, self.name)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "title": self.title,
            "status": self.status.value,
            "detail": self.detail,
            "fix": self.fix,
        }
        if self.data is not None:
            out["data"] = dict(self.data)
        return out


@dataclass
class PreflightReport:
    """All checks that were asked for (and the ones they depend on), in run order."""

    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings are allowed)."""
        return not any(c.status is CheckStatus.FAILED for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status is CheckStatus.FAILED]

    def get(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [c.to_dict() for c in self.checks]}

    def render(self) -> str:
        """A checklist: one line per check, then its detail and the fix, indented."""
        lines = []
        for check in self.checks:
            lines.append(f"{_SYMBOLS[check.status]} {check.title} [{check.status.value}]")
            for text in check.detail.splitlines():
                lines.append(f"    {text}")
            if check.fix and check.status in (CheckStatus.FAILED, CheckStatus.WARNING):
                for number, text in enumerate(check.fix.splitlines()):
                    lines.append(f"    {'Fix: ' if number == 0 else '     '}{text}")
        failed, warnings = len(self.failed), sum(c.status is CheckStatus.WARNING for c in self.checks)
        if failed:
            lines.append(f"{failed} check(s) failed, {warnings} warning(s). Fix the failures and run again.")
        else:
            lines.append(f"All checks passed ({warnings} warning(s)).")
        return "\n".join(lines)
