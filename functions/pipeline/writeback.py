"""What to write for a verdict, given the value read in this run. Pure.

- "Ignore" is never overwritten (counted as ``ignored``).
- LEFT -> "No longer at company" (with validated-on and the current employer), but only over an empty
  or "No feedback" value; any other (unexpected) option value is left alone (``unexpected_value``).
- STILL_THERE -> "No feedback" only when the contact is flagged now *and* that flag is one this app
  wrote (``value_written``): positive evidence the person is at the account, and never a person's flag.
- UNKNOWN never writes anything (no evidence either way: a missing account, an empty profile file...).
- Only values that change are written: a contact already flagged gets a write only if the employer
  the profile shows changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from functions.dataverse.column import ColumnBinding, SupportingColumns
from functions.matching.records import Outcome

__all__ = ["WriteDecision", "decide_write"]

_EMPLOYER_MAX = 200  # length of the provisioned current-employer column


@dataclass(frozen=True)
class WriteDecision:
    kind: str  # "none" | "flag" | "unflag" | "employer" | "ignored" | "unexpected_value"
    changes: dict[str, Any] | None = None  # columns to write (None: write nothing)
    new_value: int | None = None  # the flag value after the write (or the current one)


#: UNKNOWN rules that are positive evidence the person did not leave: a strong person match on fresh
#: data, now at a company of the account's own group (hierarchy or corporate-group table)
UNFLAGGING_RULES = frozenset({"unknown.current_employer_same_group"})


def decide_write(
    outcome: Outcome,
    current_employer: str | None,
    *,
    flag_value: int | None,
    employer_value: str | None,
    binding: ColumnBinding,
    supporting: SupportingColumns | None,
    now: datetime,
    value_written: int | None = None,
    rule: str = "",
) -> WriteDecision:
    """``value_written``: the flag value this app last wrote for the contact (from its state).
    ``rule``: the verdict's rule; a move inside the account's group takes back this app's own flag
    as "still there" does (the flag was written before the group was known)."""
    if flag_value == binding.ignore:
        return WriteDecision("ignored", None, flag_value)
    employer = (current_employer or "")[:_EMPLOYER_MAX] or None

    def body(value: int, employer_text: str | None) -> dict[str, Any]:
        changes: dict[str, Any] = {binding.logical_name: value}
        if supporting is not None:
            changes[supporting.validated_on] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
            changes[supporting.current_employer] = employer_text
        return changes

    if flag_value not in (None, binding.no_feedback, binding.not_at_company):
        return WriteDecision("unexpected_value", None, flag_value)
    if outcome is Outcome.LEFT:
        if flag_value != binding.not_at_company:
            return WriteDecision("flag", body(binding.not_at_company, employer), binding.not_at_company)
        if supporting is not None and employer and employer != employer_value:
            return WriteDecision("employer", body(binding.not_at_company, employer), binding.not_at_company)
        return WriteDecision("none", None, flag_value)
    not_left = outcome is Outcome.STILL_THERE or rule in UNFLAGGING_RULES
    if not_left and flag_value == binding.not_at_company and value_written == binding.not_at_company:
        return WriteDecision("unflag", body(binding.no_feedback, employer), binding.no_feedback)
    return WriteDecision("none", None, flag_value)
