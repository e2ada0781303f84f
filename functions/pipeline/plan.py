"""Which contacts to re-validate, and why. Pure: no I/O.

Reasons, in priority order (a contact gets the first that applies): ``new_in_scope``,
``account_changed`` (another account, or the account's fields changed), ``contact_changed``,
``profile_changed``, ``value_drifted`` (we flagged it, the column now reads empty),
``retry_after_error``, ``deferred`` (did not fit the last run's budget),
``refresh_due``. The look-up budget takes the oldest first (never checked, then by last check).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from functions.state.contacts import ContactState

__all__ = [
    "REASONS",
    "PlanItem",
    "apply_budget",
    "next_refresh",
    "reason_for",
    "refresh_slot",
    "shards_due",
]

REASONS = (
    "new_in_scope",
    "account_changed",
    "contact_changed",
    "profile_changed",
    "value_drifted",
    "retry_after_error",
    "deferred",
    "refresh_due",
)


def refresh_slot(contact_id: str, refresh_days: int) -> int:
    """The day (mod ``refresh_days``) a contact's periodic refresh falls on: its shard (the first two
    hex digits of the GUID, uniformly spread) modulo the interval, so every day gets an equal share."""
    return int(contact_id[:2], 16) % refresh_days


def next_refresh(contact_id: str, checked: date, refresh_days: int) -> date:
    """The first slot day at least half an interval after ``checked``: a contact checked on its slot
    day comes back exactly ``refresh_days`` later; one checked off-cycle (a change) within 0.5-1.5x."""
    slot = refresh_slot(contact_id, refresh_days)
    earliest = checked + timedelta(days=math.ceil(refresh_days / 2))
    offset = (slot - earliest.toordinal()) % refresh_days
    return earliest + timedelta(days=offset)


def shards_due(since: date | None, today: date, refresh_days: int) -> list[str]:
    """Shards whose slot day fell in ``(since, today]`` (every shard when ``since`` is None or the gap
    covers a whole interval), so a skipped day is caught up by the next run."""
    if since is None or (today - since).days >= refresh_days:
        return [f"{s:02x}" for s in range(256)]
    gap = (today - since).days
    days = {(since + timedelta(days=n)).toordinal() % refresh_days for n in range(1, gap + 1)}
    return [f"{s:02x}" for s in range(256) if s % refresh_days in days]


def reason_for(
    state: ContactState | None,
    *,
    contact_hash: str,
    account_id: str | None,
    account_hash: str,
    profile_changed: bool = False,
    value_drifted: bool = False,
    pending_reason: str | None = None,
    today: date,
) -> str | None:
    """Why an in-scope contact must be validated now, or None if its last verdict still holds."""
    if state is None or not state.in_scope or not state.checked_at:
        return "new_in_scope"
    if (state.account_id or None) != (account_id or None) or state.account_hash != account_hash:
        return "account_changed"
    if state.contact_hash != contact_hash:
        return "contact_changed"
    if profile_changed:
        return "profile_changed"
    if value_drifted:
        return "value_drifted"
    if pending_reason:
        return pending_reason if pending_reason in REASONS else "retry_after_error"
    if state.next_refresh and date.fromisoformat(state.next_refresh) <= today:
        return "refresh_due"
    return None


@dataclass(frozen=True, slots=True)
class PlanItem:
    contact_id: str
    reason: str
    last_checked: str  # "" when never checked: sorts first

    @property
    def sort_key(self) -> tuple[str, str]:
        return (self.last_checked, self.contact_id)


def apply_budget(items: Iterable[PlanItem], budget: int | None) -> tuple[list[PlanItem], list[PlanItem]]:
    """Split into (now, deferred): the ``budget`` oldest first; ``None`` means no limit."""
    ordered = sorted(items, key=lambda item: item.sort_key)
    if budget is None:
        return ordered, []
    return ordered[:budget], ordered[budget:]
