"""Runs a labelled scenario through the scan's own path, as a real run would meet it.

For each case: the contact and its accounts become Web API-shaped rows (``emailaddress1..3``, the
profile-URL column the identity settings name, ``_parentcustomerid_value``, ``_parentaccountid_value``),
go through the scan's converters (``CrmReader.contact`` / ``CrmReader.account``) and the account
hierarchy of a full read (``hierarchy.attach``); the case's profiles are written to a JSONL snapshot
and looked up by the real ``FileSnapshotSource`` with the query the scan builds; ``validate_batch``
then decides with the matching config the settings produce. Fields the scan never reads (an
account's LinkedIn page or aliases, how a profile was ``matched_on``) play no part. A case's
``alias_table`` is given as what an admin can set: a corporate group of the settings document whose
former names are the aliases.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from functions.matching import MatchingConfig
from functions.matching.records import Outcome, Position, Profile
from functions.pipeline import hierarchy
from functions.pipeline.crm_reader import CrmReader
from functions.pipeline.hashing import IdentityColumns
from functions.pipeline.validate import Batch, BatchItem, ItemResult, validate_batch
from functions.profiles import FileSnapshotSource
from functions.settings.model import Settings
from tests.scenarios.loader import Scenario

#: the CRM column the scenarios' profile URLs live in (an integration's custom column)
PROFILE_URL_COLUMN = "new_linkedinprofileurl"
IDENTITY = IdentityColumns(profile_url_columns=(PROFILE_URL_COLUMN,))
OWNER = "00000000-0000-4000-8000-0000000000aa"


@dataclass(frozen=True, slots=True)
class ScanVerdict:
    """What the scan decided for one case (``validate_batch``'s answer)."""

    outcome: Outcome | None  # None: skipped (no verdict this run)
    rule: str
    evidence: dict[str, Any]
    current_employer: str | None
    lookup: str  # matched | not_found | ambiguous | low_likelihood | skipped | error
    skipped: str | None = None


def contact_row(sc: Scenario) -> dict[str, Any]:
    c = sc.contact
    others = [*c.other_emails, None, None]
    full = c.full_name or " ".join(p for p in (c.first_name, c.last_name) if p) or None
    return {
        "@odata.etag": 'W/"1"',
        "contactid": c.contact_id,
        "firstname": c.first_name,
        "middlename": c.middle_name,
        "lastname": c.last_name,
        "fullname": full,
        "emailaddress1": c.email,
        "emailaddress2": others[0],
        "emailaddress3": others[1],
        "jobtitle": c.job_title,
        "telephone1": c.phone,
        "address1_country": c.country,
        PROFILE_URL_COLUMN: c.profile_url,
        "_parentcustomerid_value": c.account_id,
        "_ownerid_value": OWNER,
        "statecode": 0,
    }


def account_rows(sc: Scenario) -> list[dict[str, Any]]:
    rows = []
    if sc.account is not None:
        a = sc.account
        rows.append({"accountid": a.account_id, "name": a.name, "websiteurl": a.website,
                     "address1_country": a.country, "telephone1": a.phone,
                     "_parentaccountid_value": sc.account_parent_id, "_ownerid_value": OWNER, "statecode": 0})
    for other in sc.related_accounts:
        rows.append({"accountid": other["account_id"], "name": other.get("name"),
                     "websiteurl": other.get("website"),
                     "_parentaccountid_value": other.get("parent_account_id"),
                     "_ownerid_value": OWNER, "statecode": 0})
    return rows


def _position_json(p: Position) -> dict[str, Any]:
    c = p.company
    company = {"name": c.name, "website": c.website, "linkedin_id": c.linkedin_id,
               "linkedin_url": c.linkedin_url, "aliases": list(c.aliases), "parent_name": c.parent_name}
    return {"company": {k: v for k, v in company.items() if v not in (None, [])}, "title": p.title,
            "start_date": p.start_date, "end_date": p.end_date, "is_primary": p.is_primary}


def profile_line(p: Profile) -> dict[str, Any]:
    """A profile as a line of the documented JSONL snapshot schema (docs/profile-sources.md)."""
    line = {"profile_id": p.profile_id, "full_name": p.full_name, "first_name": p.first_name,
            "middle_name": p.middle_name, "last_name": p.last_name, "profile_url": p.profile_url,
            "emails": list(p.emails), "positions": [_position_json(x) for x in p.positions],
            "last_verified": p.last_verified, "last_changed": p.last_changed,
            "likelihood": p.match_likelihood}
    return {k: v for k, v in line.items() if v is not None}


def write_snapshot(sc: Scenario, path: Path) -> Path:
    profiles = ([sc.profile] if sc.profile is not None else []) + list(sc.other_profiles)
    with path.open("w", encoding="utf-8") as fh:
        for p in profiles:
            fh.write(json.dumps(profile_line(p), ensure_ascii=False) + "\n")
    return path


@lru_cache(maxsize=256)
def _config(alias_items: tuple[tuple[str, tuple[str, ...]], ...]) -> MatchingConfig:
    """The matching config the settings document yields: defaults, plus the case's aliases as an
    admin's corporate groups (each key a company, its aliases former names of it)."""
    groups = [
        {"id": f"case-alias-{i}", "name": name,
         "former_names": [{"name": other, "now": name} for other in others]}
        for i, (name, others) in enumerate(alias_items)
    ]
    settings = Settings.model_validate({"matching": {"corporate_groups": groups}})
    return settings.matching.to_matching_config()


def config_for(sc: Scenario) -> MatchingConfig:
    items = tuple(sorted((k, tuple(v)) for k, v in (sc.alias_table or {}).items()))
    return _config(items)


def run_case(sc: Scenario, workdir: Path) -> ScanVerdict:
    reader = CrmReader(None, flag_column=None, employer_column=None, identity=IDENTITY)  # type: ignore[arg-type]
    contact = reader.contact(contact_row(sc))
    accounts = {info.record.account_id: info for info in map(reader.account, account_rows(sc))}
    hierarchy.attach(accounts)
    account = accounts.get(contact.record.account_id or "")
    source = FileSnapshotSource(str(write_snapshot(sc, workdir / f"{sc.id}.jsonl")))
    try:
        batch = Batch("scenarios", 0, sc.today.isoformat(), (BatchItem.of(contact, account, "new_in_scope"),))
        (result,) = validate_batch(batch, source, matching=config_for(sc))
    finally:
        source.close()
    return _verdict(result)


def _verdict(result: ItemResult) -> ScanVerdict:
    lookup = result.evidence.get("lookup", {}) if result.evidence else {}
    status = lookup.get("status", "") if isinstance(lookup, Mapping) else ""
    return ScanVerdict(result.outcome, result.rule, result.evidence, result.current_employer, status,
                       result.skipped)
