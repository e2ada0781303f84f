"""Dataverse rows -> the verdict engine's records, and stable hashes of exactly what it reads.

Pure. A hash changes only when a field the verdict uses changes; our own columns (the flag,
validated-on, current employer) are never hashed, so writing them does not trigger a re-check.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from functions.matching.linkedin import linkedin_person_slug
from functions.matching.records import AccountRecord, ContactRecord

__all__ = [
    "ACCOUNT_COLUMNS",
    "CONTACT_COLUMNS",
    "DEFAULT_IDENTITY",
    "IdentityColumns",
    "account_from_row",
    "account_hash",
    "contact_from_row",
    "contact_hash",
    "stable_hash",
]

# Contact columns the verdict reads, plus what scope needs.
CONTACT_COLUMNS = (
    "contactid",
    "firstname",
    "middlename",
    "lastname",
    "fullname",
    "emailaddress1",
    "jobtitle",
    "telephone1",
    "address1_country",
    "_parentcustomerid_value",
    "_ownerid_value",
    "statecode",
)
ACCOUNT_COLUMNS = (
    "accountid",
    "name",
    "websiteurl",
    "address1_country",
    "telephone1",
    "_parentaccountid_value",
    "_ownerid_value",
    "statecode",
)


@dataclass(frozen=True, slots=True)
class IdentityColumns:
    """Which further contact columns identify the person (the ``identity`` settings).

    ``profile_url_columns``: text columns that may hold the contact's LinkedIn profile URL (custom or
    from another integration), read in order: the first value that is a LinkedIn profile URL counts.
    ``extra_email_columns``: e-mail columns besides ``emailaddress1`` (default ``emailaddress2``,
    ``emailaddress3``).
    """

    profile_url_columns: tuple[str, ...] = ()
    extra_email_columns: tuple[str, ...] = ("emailaddress2", "emailaddress3")

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns to add to the contact ``$select`` (without those it reads anyway)."""
        extra = (*self.extra_email_columns, *self.profile_url_columns)
        return tuple(c for c in dict.fromkeys(extra) if c not in CONTACT_COLUMNS)


DEFAULT_IDENTITY = IdentityColumns()


def _s(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _guid(value: Any) -> str | None:
    text = _s(value)
    return text.lower() if text else None


def _text(value: Any) -> str | None:
    """A text column's value; anything that is not a string (a number, a list) is no identity."""
    return _s(value) if isinstance(value, str) else None


def _profile_url(row: Mapping[str, Any], columns: tuple[str, ...]) -> str | None:
    for column in columns:
        value = _text(row.get(column))
        if value and linkedin_person_slug(value):
            return value
    return None


def _other_emails(row: Mapping[str, Any], columns: tuple[str, ...], first: str | None) -> tuple[str, ...]:
    seen = {first.lower()} if first else set()
    out = []
    for column in columns:
        value = _text(row.get(column))
        if value and "@" in value and value.lower() not in seen:
            seen.add(value.lower())
            out.append(value)
    return tuple(out)


def contact_from_row(row: Mapping[str, Any], identity: IdentityColumns = DEFAULT_IDENTITY) -> ContactRecord:
    """A Dataverse contact row -> the engine's record, with the identity columns ``identity`` names."""
    email = _s(row.get("emailaddress1"))
    return ContactRecord(
        contact_id=str(row["contactid"]).lower(),
        first_name=_s(row.get("firstname")),
        middle_name=_s(row.get("middlename")),
        last_name=_s(row.get("lastname")),
        full_name=_s(row.get("fullname")),
        email=email,
        job_title=_s(row.get("jobtitle")),
        phone=_s(row.get("telephone1")),
        country=_s(row.get("address1_country")),
        account_id=_guid(row.get("_parentcustomerid_value")),
        profile_url=_profile_url(row, identity.profile_url_columns),
        other_emails=_other_emails(row, identity.extra_email_columns, email),
    )


def account_from_row(row: Mapping[str, Any]) -> AccountRecord:
    return AccountRecord(
        account_id=str(row["accountid"]).lower(),
        name=_s(row.get("name")),
        website=_s(row.get("websiteurl")),
        country=_s(row.get("address1_country")),
        phone=_s(row.get("telephone1")),
    )


def stable_hash(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    # "surrogatepass": a lone surrogate a row may carry hashes like any other character, never raises
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


_CONTACT_FIELDS = tuple(f.name for f in fields(ContactRecord))
_ACCOUNT_FIELDS = tuple(f.name for f in fields(AccountRecord))


#: fields added after the first release: left out of a hash while empty, so that records which do not
#: use them keep the hash they had (an upgrade re-validates only the contacts they change)
_HASHED_ONLY_WHEN_SET = frozenset({"other_emails", "hierarchy"})


def record_dict(record: ContactRecord | AccountRecord) -> dict[str, Any]:
    """The record's fields as a JSON-ready dict (``dataclasses.asdict`` without its deep copies)."""
    names = _CONTACT_FIELDS if isinstance(record, ContactRecord) else _ACCOUNT_FIELDS
    data = {name: getattr(record, name) for name in names}
    for name in ("aliases", "other_emails"):
        if name in data:
            data[name] = list(data[name])
    if "hierarchy" in data:
        data["hierarchy"] = [list(pair) for pair in data["hierarchy"]]
    return data


def _hashed(record: ContactRecord | AccountRecord) -> dict[str, Any]:
    data = record_dict(record)
    for name in _HASHED_ONLY_WHEN_SET:
        if name in data and not data[name]:
            del data[name]
    return data


def contact_hash(contact: ContactRecord) -> str:
    """Every ContactRecord field (the account id included: a move to another account is a change)."""
    return stable_hash(_hashed(contact))


def account_hash(account: AccountRecord | None) -> str:
    """Every AccountRecord field, the names and websites of its Dataverse hierarchy included."""
    return stable_hash(_hashed(account)) if account is not None else "none"
