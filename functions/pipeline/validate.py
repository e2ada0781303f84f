"""One self-contained batch of contacts -> verdicts.

A :class:`Batch` carries everything its validation needs (contact and account fields, the flag value
read in this run, why each contact is in it) and is JSON-serialisable (``to_json`` / ``from_json``),
so the scale-out can put batches on a Storage queue without changing them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from functions.matching import MatchingConfig, decide
from functions.matching.config import DEFAULT
from functions.matching.employer import other_names
from functions.matching.records import AccountRecord, ContactRecord, Outcome
from functions.pipeline.crm_reader import AccountInfo, CrmContact
from functions.pipeline.hashing import record_dict
from functions.profiles import (
    ProfileCatalog,
    ProfileQuery,
    ProfileSource,
    ProfileSourceAuthError,
    ProfileSourceError,
    profile_content_hash,
)

__all__ = ["Batch", "BatchItem", "ItemResult", "validate_batch"]

log = logging.getLogger("functions.pipeline")


@dataclass(frozen=True)
class BatchItem:
    contact: dict[str, Any]  # ContactRecord fields
    account: dict[str, Any] | None  # AccountRecord fields
    reason: str
    flag_value: int | None
    employer_value: str | None
    #: the profile the last verdict matched, when the contact's look-up keys are the same as then and
    #: the profile source has not changed: decided again on it without a look-up
    known_profile_id: str | None = None

    @property
    def contact_id(self) -> str:
        return str(self.contact["contact_id"])

    @classmethod
    def of(cls, contact: CrmContact, account: AccountInfo | None, reason: str,
           known_profile_id: str | None = None) -> BatchItem:
        """The item for a contact and its account as the scan read them."""
        return cls(contact=record_dict(contact.record),
                   account=record_dict(account.record) if account is not None else None,
                   reason=reason, flag_value=contact.flag_value, employer_value=contact.employer_value,
                   known_profile_id=known_profile_id)

    def contact_record(self) -> ContactRecord:
        data = dict(self.contact)
        data["other_emails"] = tuple(data.get("other_emails") or ())
        return ContactRecord(**data)

    def account_record(self) -> AccountRecord | None:
        if self.account is None:
            return None
        data = dict(self.account)
        data["aliases"] = tuple(data.get("aliases") or ())
        data["hierarchy"] = tuple(tuple(pair) for pair in data.get("hierarchy") or ())
        return AccountRecord(**data)


@dataclass(frozen=True)
class Batch:
    run_id: str
    index: int
    today: str  # ISO date the verdicts are computed for
    items: tuple[BatchItem, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Batch:
        data = json.loads(text)
        items = tuple(BatchItem(**item) for item in data.pop("items"))
        return cls(items=items, **data)


@dataclass
class ItemResult:
    contact_id: str
    outcome: Outcome | None = None  # None: skipped (see ``skipped``)
    rule: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    current_employer: str | None = None
    profile_id: str | None = None
    profile_hash: str = ""
    looked_up: bool = False
    skipped: str | None = None  # reason when no verdict could be reached (retried next run)
    lookup_hash: str = ""  # of the look-up keys the verdict was reached with (``lookup_key_hash``)


def _query(item: BatchItem, matching: MatchingConfig) -> ProfileQuery:
    c = item.contact
    a = item.account or {}
    return ProfileQuery(
        contact_id=item.contact_id,
        profile_url=c.get("profile_url"),
        email=c.get("email"),
        other_emails=tuple(c.get("other_emails") or ()),
        first_name=c.get("first_name"),
        last_name=c.get("last_name"),
        full_name=c.get("full_name"),
        company_name=a.get("name"),
        company_website=a.get("website"),
        company_other_names=other_names(a.get("name"), matching),
    )


def lookup_key_hash(item: BatchItem, matching: MatchingConfig = DEFAULT) -> str:
    """A digest of everything the profile look-up is asked with (URL, e-mails, names, the account's
    names and website): equal digests mean a look-up would be asked the same question."""
    query = _query(item, matching)
    keys = {k: v for k, v in asdict(query).items() if k != "contact_id"}
    return hashlib.sha256(json.dumps(keys, sort_keys=True, default=list).encode()).hexdigest()


def validate_batch(
    batch: Batch, source: ProfileSource, *, matching: MatchingConfig = DEFAULT
) -> list[ItemResult]:
    """Look the batch's contacts up in one bulk call and decide each. Never raises for a single contact:
    a look-up error for one contact skips it (``skipped``), and so does a failure of the whole call.
    ``ProfileSourceAuthError`` is re-raised (bad key, no credits): the run must stop looking up."""
    today = date.fromisoformat(batch.today)
    bad: dict[str, str] = {}  # contact id -> skip reason, for items that cannot even be queried
    queries = []
    known: dict[str, _Known] = {}  # decided on the profile the last verdict matched: no look-up
    for item in batch.items:
        if item.known_profile_id and isinstance(source, ProfileCatalog):
            profile = source.profile_by_id(item.known_profile_id)
            if profile is not None:
                known[_item_id(item)] = _Known(profile)
                continue
        try:
            queries.append(_query(item, matching))
        except Exception as exc:  # a malformed record must not sink the batch
            bad[_item_id(item)] = _bad_record(exc)
    try:
        answers = source.lookup_results(queries) if queries else {}  # answers with reasons
        answers = {**answers, **known}
    except ProfileSourceAuthError:
        raise
    except ProfileSourceError as exc:
        reason = f"profile_source_error: {type(exc).__name__}"
        return [ItemResult(_item_id(i), looked_up=True, skipped=reason) for i in batch.items]
    results = []
    for item in batch.items:
        if _item_id(item) in bad:
            results.append(ItemResult(_item_id(item), skipped=bad[_item_id(item)]))
            continue
        try:
            results.append(_decide_item(item, answers, today, matching))
        except Exception as exc:  # one bad record is skipped (and retried), never fails the run
            results.append(ItemResult(_item_id(item), looked_up=True, skipped=_bad_record(exc)))
    return results


def _item_id(item: BatchItem) -> str:
    return str((item.contact or {}).get("contact_id", ""))


def _bad_record(exc: BaseException) -> str:
    # only the exception type: its message may carry personal data
    log.warning("skipped a contact whose record could not be validated: %s", type(exc).__name__)
    return f"bad_record: {type(exc).__name__}"


def _decide_item(item: BatchItem, answers: Any, today: date, matching: MatchingConfig) -> ItemResult:
    answer = answers.get(item.contact_id)
    status = getattr(answer, "status", "not_found")
    if status == "skipped" and "budget" in getattr(answer, "detail", ""):
        # the source's own budget (PDL_MAX_LOOKUPS) is spent: no verdict, retried next run
        return ItemResult(item.contact_id, skipped="source_budget")
    if status == "error":
        return ItemResult(item.contact_id, looked_up=True,
                          skipped=f"lookup_error: {getattr(answer, 'detail', '')}"[:200])
    profile = getattr(answer, "profile", None)
    looked_up = not isinstance(answer, _Known)
    verdict = decide(item.contact_record(), item.account_record(), profile, today=today, config=matching)
    evidence = dict(verdict.evidence)
    evidence.setdefault("lookup", {"status": status, "detail": getattr(answer, "detail", "")})
    return ItemResult(
        item.contact_id,
        outcome=verdict.outcome,
        rule=verdict.rule,
        evidence=evidence,
        current_employer=verdict.current_employer,
        profile_id=profile.profile_id if profile else None,
        profile_hash=(profile.content_hash or profile_content_hash(profile)) if profile else "",
        looked_up=looked_up,
        lookup_hash=lookup_key_hash(item, matching),
    )


@dataclass(frozen=True)
class _Known:
    """The answer for a contact decided on its known profile."""

    profile: Any
    status: str = "matched"
    detail: str = "known profile: look-up keys unchanged"
