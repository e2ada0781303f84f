"""Dataverse rows -> the verdict engine's records, and stable hashes of exactly what it reads.

Pure. A hash changes only when a field the verdict uses changes; our own columns (the flag,
validated-on, current employer) are never hashed, so writing them does not trigger a re-check.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from functions.matching.records import AccountRecord, ContactRecord

__all__ = [
    "ACCOUNT_COLUMNS",
    "CONTACT_COLUMNS",
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
    "_ownerid_value",
    "statecode",
)


def _s(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _guid(value: Any) -> str | None:
    text = _s(value)
    return text.lower() if text else None


def contact_from_row(row: Mapping[str, Any]) -> ContactRecord:
    return ContactRecord(
        contact_id=str(row["contactid"]).lower(),
        first_name=_s(row.get("firstname")),
        middle_name=_s(row.get("middlename")),
        last_name=_s(row.get("lastname")),
        full_name=_s(row.get("fullname")),
        email=_s(row.get("emailaddress1")),
        job_title=_s(row.get("jobtitle")),
        phone=_s(row.get("telephone1")),
        country=_s(row.get("address1_country")),
        account_id=_guid(row.get("_parentcustomerid_value")),
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
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


_CONTACT_FIELDS = tuple(f.name for f in fields(ContactRecord))
_ACCOUNT_FIELDS = tuple(f.name for f in fields(AccountRecord))


def record_dict(record: ContactRecord | AccountRecord) -> dict[str, Any]:
    """The record's fields as a JSON-ready dict (``dataclasses.asdict`` without its deep copies)."""
    names = _CONTACT_FIELDS if isinstance(record, ContactRecord) else _ACCOUNT_FIELDS
    data = {name: getattr(record, name) for name in names}
    if "aliases" in data:
        data["aliases"] = list(data["aliases"])
    return data


def contact_hash(contact: ContactRecord) -> str:
    """Every ContactRecord field (the account id included: a move to another account is a change)."""
    return stable_hash(record_dict(contact))


def account_hash(account: AccountRecord | None) -> str:
    return stable_hash(record_dict(account)) if account is not None else "none"
