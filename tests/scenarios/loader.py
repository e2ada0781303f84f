"""Loads the labelled scenario set (``tests/data/scenarios/*.jsonl``) into the records of
``functions.matching.records``, with strict validation: an unknown key, a missing required field, a value of
the wrong type or a malformed date fails loudly, naming the file and line.

One case per line::

    {"id": "move-001", "category": "moves", "description": "...", "today": "2026-11-01",
     "contact": {ContactRecord fields}, "account": {AccountRecord fields} | null,
     "profile": {Profile fields, "positions": [{"company": {Company fields}, ...}]} | null,
     "expected": "left" | "still_there" | "unknown",
     "alias_table": {"<account name>": ["<other name>", ...]}}        (optional)

The category must equal the file name without ``.jsonl``.
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from functions.matching.records import AccountRecord, ContactRecord, Outcome, Profile

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "tests" / "data" / "scenarios"

# Every category the issue asks for (plus look-alike company names); each must hold at least 15 cases.
CATEGORIES: tuple[str, ...] = (
    "moves",
    "still_there_variants",
    "domain_only",
    "rebrands",
    "affiliates",
    "namesakes",
    "stale",
    "nonprimary",
    "boomerang",
    "no_account",
    "international",
    "odd_fields",
    "lookalikes",
    # through the scan path (build_scan_scenarios.py): identity columns, groups, other scripts
    "old_email_movers",
    "group_moves",
    "group_rebrands",
    "same_company_namesakes",
    "other_scripts",
    "account_websites",
    "crm_identity",
)

CASE_KEYS_REQUIRED = frozenset(
    {"id", "category", "description", "today", "contact", "account", "profile", "expected"}
)
CASE_KEYS_OPTIONAL = frozenset({"alias_table", "related_accounts", "other_profiles"})
RELATED_ACCOUNT_KEYS = frozenset({"account_id", "name", "website", "parent_account_id"})
DATE_FIELDS = frozenset({"start_date", "end_date", "last_verified", "last_changed"})
MATCHED_ON = frozenset({"profile_url", "email", "name_company"})
_ID = re.compile(r"^[a-z][a-z0-9_]*-\d{3}$")
_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


class ScenarioError(ValueError):
    """A scenario line is malformed. The message starts with ``<file>:<line>:``."""


@dataclass(frozen=True, slots=True)
class Scenario:
    id: str
    category: str
    description: str
    today: date
    contact: ContactRecord
    account: AccountRecord | None
    profile: Profile | None
    expected: Outcome
    alias_table: Mapping[str, tuple[str, ...]] | None
    source: str  # "tests/data/scenarios/<file>.jsonl:<line>"
    #: the account's parent account id, and the other accounts of its Dataverse hierarchy
    #: ({"account_id", "name", "website", "parent_account_id"}): the scan reads them as account rows
    account_parent_id: str | None = None
    related_accounts: tuple[Mapping[str, str | None], ...] = ()
    other_profiles: tuple[Profile, ...] = ()  # further profiles in the snapshot file (namesakes)


class _Invalid(Exception):
    """Raised inside the converters; turned into ScenarioError with file and line."""


def _check_partial_date(value: str, where: str) -> None:
    m = _PARTIAL_DATE.match(value)
    if not m:
        raise _Invalid(f"{where}: {value!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = int(m[1]), m[2], m[3]
    try:
        date(year, int(month or 1), int(day or 1))
    except ValueError as exc:
        raise _Invalid(f"{where}: {value!r} is not a real date ({exc})") from None


def _convert(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            if type(None) in args:
                return None
            raise _Invalid(f"{where}: must not be null")
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(value, inner, where)
    if origin is tuple:
        if not isinstance(value, list):
            raise _Invalid(f"{where}: expected a list, got {type(value).__name__}")
        return tuple(_convert(item, args[0], f"{where}[{i}]") for i, item in enumerate(value))
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where)
    if hint is bool:
        if not isinstance(value, bool):
            raise _Invalid(f"{where}: expected true/false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(f"{where}: expected an integer, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise _Invalid(f"{where}: expected a string, got {value!r}")
        return value
    raise _Invalid(f"{where}: unsupported field type {hint!r}")  # pragma: no cover - records.py changed


def _build(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise _Invalid(f"{where}: expected an object for {cls.__name__}, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise _Invalid(f"{where}: unknown key(s) {unknown} for {cls.__name__} (allowed: {sorted(fields)})")
    kwargs = {}
    for name, f in fields.items():
        if name not in raw:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise _Invalid(f"{where}: {cls.__name__}.{name} is required")
            continue
        value = _convert(raw[name], hints[name], f"{where}.{name}")
        if name in DATE_FIELDS and value is not None:
            _check_partial_date(value, f"{where}.{name}")
        kwargs[name] = value
    return cls(**kwargs)


def _check_profile(profile: Profile) -> None:
    if not profile.profile_id.strip():
        raise _Invalid("profile.profile_id: must not be empty")
    if not profile.source.strip():
        raise _Invalid("profile.source: must not be empty")
    if profile.match_likelihood is not None and not 1 <= profile.match_likelihood <= 10:
        raise _Invalid(f"profile.match_likelihood: {profile.match_likelihood} is outside 1..10")
    bad = sorted(set(profile.matched_on) - MATCHED_ON)
    if bad:
        raise _Invalid(f"profile.matched_on: unknown value(s) {bad} (allowed: {sorted(MATCHED_ON)})")


def _parse_case(raw: Any, category: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _Invalid(f"a case must be a JSON object, got {type(raw).__name__}")
    missing = sorted(CASE_KEYS_REQUIRED - set(raw))
    if missing:
        raise _Invalid(f"missing key(s) {missing}")
    unknown = sorted(set(raw) - CASE_KEYS_REQUIRED - CASE_KEYS_OPTIONAL)
    if unknown:
        raise _Invalid(f"unknown key(s) {unknown}")
    cid = raw["id"]
    if not isinstance(cid, str) or not _ID.match(cid):
        raise _Invalid(f"id: {cid!r} must look like 'move-001'")
    if raw["category"] != category:
        raise _Invalid(f"category: {raw['category']!r} does not match the file name ({category!r})")
    if not isinstance(raw["description"], str) or not raw["description"].strip():
        raise _Invalid("description: must be a non-empty string")
    try:
        today = date.fromisoformat(raw["today"]) if isinstance(raw["today"], str) else None
    except ValueError:
        today = None
    if today is None or len(raw["today"]) != 10:
        raise _Invalid(f"today: {raw['today']!r} must be YYYY-MM-DD")
    try:
        expected = Outcome(raw["expected"])
    except ValueError:
        raise _Invalid(f"expected: {raw['expected']!r} must be one of {[o.value for o in Outcome]}") from None
    contact = _build(ContactRecord, raw["contact"], "contact")
    account_raw = raw["account"]
    parent_id = None
    if isinstance(account_raw, dict) and "parent_account_id" in account_raw:
        account_raw = dict(account_raw)
        parent_id = account_raw.pop("parent_account_id")
        if not isinstance(parent_id, str) or not parent_id:
            raise _Invalid("account.parent_account_id: must be a non-empty string")
    account = None if account_raw is None else _build(AccountRecord, account_raw, "account")
    profile = None if raw["profile"] is None else _build(Profile, raw["profile"], "profile")
    if profile is not None:
        _check_profile(profile)
    others_raw = raw.get("other_profiles", [])
    if not isinstance(others_raw, list):
        raise _Invalid("other_profiles: must be a list of profiles")
    other_profiles = tuple(_build(Profile, p, f"other_profiles[{i}]") for i, p in enumerate(others_raw))
    for other in other_profiles:
        _check_profile(other)
    related = raw.get("related_accounts", [])
    if not isinstance(related, list):
        raise _Invalid("related_accounts: must be a list of accounts")
    ids = {account.account_id} if account is not None else set()
    for i, entry in enumerate(related):
        if (not isinstance(entry, dict) or not RELATED_ACCOUNT_KEYS.issuperset(entry)
                or not isinstance(entry.get("account_id"), str)):
            keys = sorted(RELATED_ACCOUNT_KEYS)
            raise _Invalid(f"related_accounts[{i}]: an object of {keys} with account_id")
        ids.add(entry["account_id"])
    for i, entry in enumerate(related):
        if entry.get("parent_account_id") and entry["parent_account_id"] not in ids:
            raise _Invalid(f"related_accounts[{i}].parent_account_id: not the account or a related account")
    if parent_id is not None and parent_id not in ids:
        raise _Invalid("account.parent_account_id: not a related account")
    if account is not None and contact.account_id != account.account_id:
        raise _Invalid(
            f"contact.account_id {contact.account_id!r} != account.account_id {account.account_id!r}"
        )
    alias_table = None
    if "alias_table" in raw:
        table = raw["alias_table"]
        if not isinstance(table, dict) or not table:
            raise _Invalid("alias_table: must be a non-empty object of name -> [names]")
        for key, names in table.items():
            if (
                not key.strip()
                or not isinstance(names, list)
                or not names
                or not all(isinstance(n, str) and n.strip() for n in names)
            ):
                raise _Invalid(f"alias_table[{key!r}]: must be a non-empty list of non-empty strings")
        alias_table = {key: tuple(names) for key, names in table.items()}
    return {
        "id": cid,
        "category": category,
        "description": raw["description"],
        "today": today,
        "contact": contact,
        "account": account,
        "profile": profile,
        "expected": expected,
        "alias_table": alias_table,
        "account_parent_id": parent_id,
        "related_accounts": tuple(related),
        "other_profiles": other_profiles,
    }


def load_file(path: Path) -> list[Scenario]:
    rel = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
    out: list[Scenario] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                raise ScenarioError(f"{rel}:{lineno}: empty line")
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ScenarioError(f"{rel}:{lineno}: invalid JSON: {exc}") from None
            try:
                fields = _parse_case(raw, path.stem)
            except (_Invalid, TypeError) as exc:
                raise ScenarioError(f"{rel}:{lineno}: {exc}") from None
            out.append(Scenario(**fields, source=f"{rel}:{lineno}"))
    return out


def load_scenarios(directory: Path = DATA_DIR) -> list[Scenario]:
    """All scenarios, file by file (sorted by name), in line order. Ids must be unique across files."""
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        raise ScenarioError(f"{directory}: no *.jsonl scenario files")
    scenarios: list[Scenario] = []
    seen: dict[str, str] = {}
    for path in files:
        for sc in load_file(path):
            if sc.id in seen:
                raise ScenarioError(f"{sc.source}: duplicate id {sc.id!r} (first at {seen[sc.id]})")
            seen[sc.id] = sc.source
            scenarios.append(sc)
    return scenarios
