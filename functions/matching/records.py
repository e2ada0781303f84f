"""Plain records the verdict engine compares. No I/O, no Azure types: built from Dataverse rows
by the pipeline and from profile sources by ``functions.profiles``.

Dates are ISO strings as sources give them: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (or None).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Company:
    """An employer as a profile source describes it. Every field is optional."""

    name: str | None = None
    website: str | None = None  # any form: "https://www.x.com/de", "x.co.uk"
    linkedin_id: str | None = None  # numeric LinkedIn company id, as a string
    linkedin_url: str | None = None  # "linkedin.com/company/<slug>"
    aliases: tuple[str, ...] = ()  # other names the source knows (former names, brands)
    parent_name: str | None = None  # affiliate: the parent company, when the source knows it


@dataclass(frozen=True, slots=True)
class Position:
    company: Company
    title: str | None = None
    start_date: str | None = None
    end_date: str | None = None  # None means "unknown" unless is_primary (then: current)
    is_primary: bool = False  # the person's current job, per the source


@dataclass(frozen=True, slots=True)
class Profile:
    """One person as a profile source knows them."""

    profile_id: str
    source: str  # "file", "pdl", ...
    full_name: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    profile_url: str | None = None  # "linkedin.com/in/<slug>"
    emails: tuple[str, ...] = ()
    positions: tuple[Position, ...] = ()
    last_verified: str | None = None  # when a source last confirmed the current job
    last_changed: str | None = None  # when the current job last changed
    match_likelihood: int | None = None  # source's confidence that this is the person looked up (1-10)
    matched_on: tuple[str, ...] = ()  # what the look-up matched: "profile_url", "email", "name_company"
    content_hash: str = ""  # stable hash of the profile content, to detect changes between runs


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """The Dataverse account a contact is filed under (its parent customer)."""

    account_id: str
    name: str | None = None
    website: str | None = None
    linkedin_url: str | None = None  # company page, where the CRM has one
    country: str | None = None
    phone: str | None = None
    parent_account_name: str | None = None
    aliases: tuple[str, ...] = ()  # from the configurable alias table
    #: (name, website) of the other accounts in the same Dataverse account hierarchy (the accounts that
    #: share its top-level parent): a move to one of them is a move inside the group, never LEFT
    hierarchy: tuple[tuple[str | None, str | None], ...] = ()


@dataclass(frozen=True, slots=True)
class ContactRecord:
    contact_id: str
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    email: str | None = None
    job_title: str | None = None
    phone: str | None = None
    country: str | None = None
    profile_url: str | None = None  # "linkedin.com/in/<slug>" where the CRM has one
    account_id: str | None = None
    other_emails: tuple[str, ...] = ()  # the CRM's further addresses (emailaddress2, emailaddress3, ...)

    @property
    def emails(self) -> tuple[str, ...]:
        """Every address the CRM holds for the contact, ``email`` first, without blanks and repeats."""
        if not self.other_emails:
            return (self.email,) if self.email else ()
        return tuple(dict.fromkeys(e for e in (self.email, *self.other_emails) if e))


class Outcome(StrEnum):
    STILL_THERE = "still_there"
    LEFT = "left"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision for one contact, with the evidence that explains it (JSON-serialisable)."""

    outcome: Outcome
    rule: str  # the rule that decided, e.g. "left.ended_at_account_now_elsewhere"
    evidence: dict = field(default_factory=dict)
    current_employer: str | None = None  # the employer the profile shows now, for reps to follow
