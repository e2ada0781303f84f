"""Sample profile snapshots for the generated organisation (``dataverse_emulator.generator``).

``write_profile_file(sample, path, today=...)`` writes a JSONL profile snapshot (schema:
docs/profile-sources.md) from the generator's ground truth, so that the real verdict engine
(``functions.matching.decide``, rules in docs/matching.md) has something true to find:

* ``moved``: an ended position at the account (the account row's name/website, end date known), and a
  fresh primary position at the new employer (``employer_name``/``employer_domain``) that started the
  month the old one ended or later; the contact's own e-mail on the profile (strong person match); both
  positions carry LinkedIn company ids, so a merely similar new name ("Protec Anlagenbau" for a
  "Dynachem Anlagenbau" account) is a different page, not a related company -> **LEFT**.
* ``stayed``: a primary position at the account, written as the account's exact name and website, its
  name in capitals, its name without (or with another spelling of) the legal form, or its website only
  -> **STILL_THERE**.
* ``rebrand``: the new name only (no job at the old name: the engine cannot know it is the same
  company) -> **UNKNOWN**; or the old name as an ended job plus the new name on the *same* LinkedIn page
  -> **STILL_THERE** (``current_shares_identifier_with_account_position``); or the new name with the old
  one among the company's aliases -> **STILL_THERE** (alias).
* ``subsidiary``: a primary position at the parent company (the account is its subsidiary), with or
  without an ended job at the account -> **UNKNOWN** (``current_employer_same_group``, never LEFT).
* ``no_account``: a profile (the engine cannot judge without an account) -> **UNKNOWN**.
* a few stayers and movers get a *stale* profile (``last_verified`` older than the engine's 365 days)
  -> **UNKNOWN**.
* contacts without an e-mail (the generated CRM has no profile URLs) get a name+company profile that
  looks like a move -> **UNKNOWN** (a name alone is never a strong person match).
* ``1 - coverage`` of the contacts get no profile at all -> **UNKNOWN**; some of those get a *namesake*
  instead: the same name, another e-mail, working elsewhere (half of them with a past job at the
  contact's account, so that the file's name+company look-up finds them) -> **UNKNOWN**, never the
  namesake's story.
* contacts the look-up could confuse get no profile (-> **UNKNOWN**): an e-mail address two contacts
  share (the generator makes those), and every member of a group of contacts of one account with the
  same surname and first initial when one of them has an e-mail that will not find a profile (its
  name+company fallback could find a colleague's profile, and "exact name + an address at the
  account's domain" is a strong match: the engine's documented residual risk, not something to test
  with random data). About 5% of the contacts at 2,000, 8% at 100,000 (bigger accounts).

``expected_verdicts(sample, path, today=...)`` recomputes, without calling the engine, what the
engine should conclude for every contact; ``mutate_profiles(path, ids, today=...)`` changes profiles
in place (a stayer moves away -> LEFT; anyone else gets a new title -> new content hash, same verdict).
Both rely on a small sidecar ``<path>.truth.json`` written next to the file: the org spec, ``seed``,
``coverage`` and ``today`` of the write, and the mutations applied since (``{contact_id: [op, ...]}``).
Everything else is recomputed deterministically from the org and the seed.

Profile ids: ``sp-<contactid>`` (the contact's profile), ``ns-<contactid>`` (a namesake of that contact).

CLI (demo, benchmarks)::

    python -m localdev.sample_profiles --contacts 100000 --seed 1 --out /tmp/profiles.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import random
import struct
import sys
import tempfile
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from dataverse_emulator.generator import ContactTruth, OrgSpec, SampleOrg, generate_org
from functions.matching.config import DEFAULT
from functions.matching.records import Outcome
from functions.profiles.base import fold_name

__all__ = [
    "SIDECAR_SUFFIX",
    "ProfileFileStats",
    "expected_verdicts",
    "main",
    "mutate_profiles",
    "profile_id_for",
    "sidecar_path",
    "write_profile_file",
]

SIDECAR_SUFFIX = ".truth.json"
_WORDS = struct.Struct(">16I")
FORMAT_VERSION = 1
FRESH_DAYS = DEFAULT.max_profile_age_days  # the engine's freshness window (365 days)

_STALE_RATE = 0.03  # share of stayers/movers whose profile is too old for a verdict
_NAMESAKE_RATE = 0.25  # share of uncovered contacts that get a namesake profile instead

# Fictitious employers (Microsoft's sample company names): never an account of the generated org,
# whose names are "<brand> <sector>" with hyphenated domains.
_OTHER_COMPANIES = (
    ("Northwind Traders", "northwindtraders.com"),
    ("Tailspin Toys", "tailspintoys.com"),
    ("Wide World Importers", "wideworldimporters.com"),
    ("Woodgrove Bank", "woodgrovebank.com"),
    ("Fourth Coffee", "fourthcoffee.com"),
    ("Litware Inc.", "litwareinc.com"),
    ("Proseware, Inc.", "proseware.com"),
    ("Adventure Works Cycles", "adventure-works.com"),
    ("Alpine Ski House", "alpineskihouse.com"),
    ("Coho Winery", "cohowinery.com"),
    ("Lamna Healthcare Company", "lamnahealthcare.com"),
    ("Relecloud", "relecloud.com"),
    ("VanArsdel, Ltd.", "vanarsdelltd.com"),
    ("Trey Research Inc.", "treyresearch.net"),
    ("Wingtip Toys", "wingtiptoys.com"),
    ("Humongous Insurance", "humongousinsurance.com"),
    ("Lucerne Publishing", "lucernepublishing.com"),
    ("Margie's Travel", "margiestravel.com"),
    ("Southridge Video", "southridgevideo.com"),
    ("Consolidated Messenger", "consolidatedmessenger.com"),
    ("Blue Yonder Airlines", "blueyonderairlines.com"),
    ("City Power & Light", "cpandl.com"),
    ("Graphic Design Institute", "graphicdesigninstitute.com"),
    ("Tailwind Traders", "tailwindtraders.com"),
)
_TITLES = (
    "Account Manager",
    "Head of Procurement",
    "Sales Director",
    "Project Manager",
    "CFO",
    "IT Manager",
    "Operations Lead",
    "Buyer",
    "Managing Director",
    "Marketing Manager",
    "Einkaufsleiter",
    "Geschäftsführer",
    "Data Analyst",
    "Engineering Manager",
)
_NEW_TITLES = (
    "Chief Operating Officer",
    "VP Sales",
    "Head of Partnerships",
    "Principal Consultant",
    "Director of Strategy",
)
# legal form spellings the engine strips (cleanco's list): the account name with the form written
# differently, or without it
_LEGAL_SPELLINGS = {
    "GmbH": "G.m.b.H.",
    "AG": "Aktiengesellschaft",
    "Ltd": "Limited",
    "PLC": "plc",
    "Inc.": "Inc",
    "Inc": "Incorporated",
    "LLC": "L.L.C.",
    "Corp.": "Corporation",
    "S.A.": "SA",
    "B.V.": "BV",
    "N.V.": "NV",
    "SAS": "S.A.S.",
    "S.L.": "SL",
    "KG": "KG",
    "SE": "SE",
    "LLP": "LLP",
    "SARL": "S.à r.l.",
    "GmbH & Co. KG": "GmbH & Co KG",
}

# Expected outcome per variant, for a fresh profile (stale ones are UNKNOWN whatever the variant).
_VARIANT_OUTCOME = {
    "moved": Outcome.LEFT,
    "stayed_exact": Outcome.STILL_THERE,
    "stayed_caps": Outcome.STILL_THERE,
    "stayed_legal_form": Outcome.STILL_THERE,
    "stayed_website_only": Outcome.STILL_THERE,
    "rebrand_new_name_only": Outcome.UNKNOWN,
    "rebrand_same_page": Outcome.STILL_THERE,
    "rebrand_alias": Outcome.STILL_THERE,
    "subsidiary_parent_current": Outcome.UNKNOWN,
    "subsidiary_from_account": Outcome.UNKNOWN,
    "no_account": Outcome.UNKNOWN,
    "no_email_name_company": Outcome.UNKNOWN,
}
_NO_PROFILE = ("no_profile", "no_profile_namesake", "no_profile_ambiguous")


@dataclass
class ProfileFileStats:
    """What ``write_profile_file`` wrote. ``by_kind``: contacts per ground-truth kind that got their own
    profile; ``by_variant``: contacts per plan (``no_profile*`` included); ``expected``: contacts per
    expected outcome (value of ``Outcome``)."""

    path: str
    contacts: int
    profiles: int = 0  # lines written (own profiles + namesakes)
    namesakes: int = 0
    without_profile: int = 0  # contacts with no profile of their own
    by_kind: dict[str, int] = field(default_factory=dict)
    by_variant: dict[str, int] = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- helpers ----------------------------------------------------------------------------------------


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """``<path>.truth.json``: what ``expected_verdicts`` and ``mutate_profiles`` need besides the org."""
    return Path(str(path) + SIDECAR_SUFFIX)


def profile_id_for(contact_id: str) -> str:
    """The profile id of a contact's own profile in the file."""
    return f"sp-{contact_id}"


def _h64(*parts: object) -> int:
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _unit(*parts: object) -> float:
    return _h64(*parts) / 2**64


class _Draws:
    """Deterministic draws from blake2b (cheaper than seeding a ``random.Random`` per contact)."""

    __slots__ = ("_key", "_n", "_values")

    def __init__(self, *parts: object) -> None:
        self._key = "\x1f".join(map(str, parts)).encode()
        self._n = 0
        self._values: list[int] = []

    def _next(self) -> int:
        if not self._values:
            digest = hashlib.blake2b(self._key + self._n.to_bytes(4, "big"), digest_size=64).digest()
            self._values = list(_WORDS.unpack(digest))
            self._values.reverse()
            self._n += 1
        return self._values.pop()

    def random(self) -> float:
        return self._next() / 2**32

    def randrange(self, n: int) -> int:
        return self._next() % n

    def choice(self, seq: Any) -> Any:
        return seq[self._next() % len(seq)]


def _months_back(day: date, months: int) -> tuple[int, int]:
    total = day.year * 12 + (day.month - 1) - months
    return total // 12, total % 12 + 1


def _ym(year_month: tuple[int, int]) -> str:
    return f"{year_month[0]:04d}-{year_month[1]:02d}"


@lru_cache(maxsize=65536)
def _linkedin_id(key: str) -> str:
    """A made-up, stable LinkedIn company page id for a company (its domain or name)."""
    return str(1_000_000 + _h64("li", key.lower()) % 90_000_000)


@lru_cache(maxsize=65536)
def _domain_of(website: str | None) -> str | None:
    if not website:
        return None
    host = website.split("//", 1)[-1].split("/", 1)[0].lower()
    return host[4:] if host.startswith("www.") else host or None


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text or None


def _name_key(row: dict[str, Any]) -> tuple[str, str] | None:
    """(folded last name, first initial) as the file source's name+company look-up compares them."""
    first, last = fold_name(row.get("firstname")), fold_name(row.get("lastname"))
    if not (first and last):
        tokens = fold_name(row.get("fullname")).split()
        if len(tokens) < 2:
            return None
        first, last = first or tokens[0], last or tokens[-1]
    return last, first.split()[0][:1]


def _account_info(sample: SampleOrg) -> dict[str, tuple[str | None, str | None, str | None]]:
    """account id -> (name, website, parent account id). O(accounts): an eighth of the contacts."""
    return {
        row["accountid"]: (row.get("name"), row.get("websiteurl"), row.get("_parentaccountid_value"))
        for row in sample.rows("accounts")
    }


def _dups(values: array) -> set[int]:
    ordered = sorted(v for v in values if v)
    return {a for a, b in itertools.pairwise(ordered) if a == b}


def _ambiguous(emails: array, names: array, unfound: array) -> set[int]:
    """Indexes of contacts the file look-up could give another person's profile, who therefore get none.

    * an e-mail address two contacts share (the e-mail look-up is ambiguous);
    * a group of contacts of one account with the same surname and first initial (the key of the
      name+company look-up) where one member has an e-mail but is not found by it (no profile of its
      own, or a shared address): its look-up falls back to name+company and could find a colleague's
      profile, which the engine may accept as a strong match (exact name + an address at the account's
      domain: docs/matching.md, a documented residual risk). The whole group then gets no profile.
    """
    dup_emails, dup_names = _dups(emails), _dups(names)
    risky = {
        names[i]
        for i in range(len(names))
        if names[i] in dup_names and (unfound[i] or emails[i] in dup_emails)
    }
    return {i for i in range(len(names)) if emails[i] in dup_emails or (names[i] and names[i] in risky)}


# --- the plan: what each contact gets (pure function of org, seed, coverage) -------------------------

_AMBIGUOUS = "no_profile_ambiguous"
_VARIANTS = (*_VARIANT_OUTCOME, *_NO_PROFILE)
_VARIANT_CODE = {v: i for i, v in enumerate(_VARIANTS)}
_KINDS = ("stayed", "moved", "rebrand", "subsidiary", "no_account")
_KIND_CODE = {k: i for i, k in enumerate(_KINDS)}


@dataclass(frozen=True, slots=True)
class _Plan:
    variant: str  # a key of _VARIANT_OUTCOME, or one of _NO_PROFILE
    stale: bool = False


def _plan(
    truth: ContactTruth, row: dict[str, Any], name: tuple[str, str] | None, units: _Draws, *, coverage: float
) -> _Plan:
    """The plan before the look-up ambiguity check (which needs every contact; see ``_scan``)."""
    covered, namesake_u, u, stale_u = units.random(), units.random(), units.random(), units.random()
    if covered >= coverage:
        namesake = truth.account_id is not None and name is not None and namesake_u < _NAMESAKE_RATE
        return _Plan("no_profile_namesake" if namesake else "no_profile")
    if truth.kind == "no_account":
        return _Plan("no_account")
    if not (row.get("emailaddress1") or "").strip():
        if name is None:
            return _Plan("no_profile")
        return _Plan("no_email_name_company")
    stale = stale_u < _STALE_RATE
    if truth.kind == "moved":
        return _Plan("moved", stale)
    if truth.kind == "stayed":
        variants = ("stayed_exact", "stayed_exact", "stayed_caps", "stayed_legal_form", "stayed_website_only")
        return _Plan(variants[int(u * len(variants))], stale)
    if truth.kind == "rebrand":
        variants = ("rebrand_new_name_only", "rebrand_same_page", "rebrand_alias")
        return _Plan(variants[int(u * len(variants))])
    if truth.kind == "subsidiary":
        return _Plan("subsidiary_parent_current" if u < 0.5 else "subsidiary_from_account")
    raise ValueError(f"unknown ground-truth kind {truth.kind!r}")


# --- profile building -----------------------------------------------------------------------------------


def _company(
    name: str | None,
    website: str | None,
    *,
    linkedin: bool = True,
    aliases: Iterable[str] = (),
    parent: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if name:
        out["name"] = name
    if website:
        out["website"] = website
    key = _domain_of(website) or (name or "").lower()
    if linkedin and key:
        out["linkedin_id"] = _linkedin_id(key)
    if aliases:
        out["aliases"] = list(aliases)
    if parent:
        out["parent_name"] = parent
    return out


def _position(
    company: dict[str, Any], title: str | None, start: str | None, end: str | None, primary: bool
) -> dict[str, Any]:
    return {"company": company, "title": title, "start_date": start, "end_date": end, "is_primary": primary}


def _legal_variant(name: str, rng: _Draws) -> str:
    for form in sorted(_LEGAL_SPELLINGS, key=len, reverse=True):
        if name.endswith(" " + form):
            base = name[: -len(form) - 1].rstrip(" ,")
            return base if rng.random() < 0.5 else f"{base} {_LEGAL_SPELLINGS[form]}"
    return name.lower()  # no legal form typed in the CRM: at least another casing


def _slug(row: dict[str, Any], cid: str, salt: str = "") -> str:
    words = fold_name(" ".join(filter(None, (row.get("firstname"), row.get("lastname"))))).split()
    base = "-".join(w for w in words if w.isascii()) or "member"
    return f"https://www.linkedin.com/in/{base}-{_h64('slug', salt, cid) % 16**8:08x}/"


def _dates(rng: _Draws, today: date, stale: bool) -> tuple[date, int]:
    """(last_verified, months since the current job's start is measured from)."""
    if stale:
        return today - timedelta(days=FRESH_DAYS + 20 + rng.randrange(400)), 8
    return today - timedelta(days=2 + rng.randrange(60)), 0


def _build(
    plan: _Plan,
    truth: ContactTruth,
    row: dict[str, Any],
    account: tuple | None,
    parent: tuple | None,
    draws: tuple,
) -> dict[str, Any]:
    """The contact's own profile; ``draws`` = (its _Draws after ``_dates``, last_verified, month offset)."""
    cid = truth.contact_id
    rng, verified, offset = draws
    v = plan.variant
    email = (row.get("emailaddress1") or "").strip()
    first, middle, last = (
        _clean(row.get("firstname")),
        _clean(row.get("middlename")),
        _clean(row.get("lastname")),
    )
    profile: dict[str, Any] = {
        "profile_id": profile_id_for(cid),
        "full_name": _clean(row.get("fullname")),
        "first_name": first,
        "middle_name": middle,
        "last_name": last,
        "profile_url": _slug(row, cid),
        "emails": [email] if email else [],
    }
    if first and first.isupper() and last and last.isupper():  # the CRM shouted; the profile did not
        profile["first_name"], profile["last_name"] = first.title(), last.title()
        profile["full_name"] = " ".join(filter(None, (first.title(), middle, last.title())))
    title = _clean(row.get("jobtitle")) or rng.choice(_TITLES)
    acc_name, acc_site = (account[0], account[1]) if account else (None, None)
    other_name, other_site = _OTHER_COMPANIES[rng.randrange(len(_OTHER_COMPANIES))]
    early_start = _months_back(verified, offset + 60 + rng.randrange(120))
    positions: list[dict[str, Any]] = []

    if v in ("moved", "no_email_name_company", "subsidiary_from_account"):
        # left the account m months ago, started elsewhere the same or the next month
        m = offset + 1 + rng.randrange(18)
        end = _months_back(verified, m)
        start_new = _months_back(verified, m - rng.randrange(2)) if m > 1 else end
        if v == "subsidiary_from_account":
            new = _company(parent[0] if parent else truth.employer_name, truth.employer_domain)
        elif v == "moved":
            new = _company(truth.employer_name, truth.employer_domain)
        else:
            new = _company(other_name, other_site)
        positions.append(_position(new, rng.choice(_TITLES), _ym(start_new), None, True))
        positions.append(
            _position(
                _company(acc_name, acc_site),
                title,
                _ym(_months_back(verified, m + 12 + rng.randrange(96))),
                _ym(end),
                False,
            )
        )
        changed = _ym(start_new)
    elif v.startswith("stayed_"):
        start = _months_back(verified, offset + 6 + rng.randrange(100))
        if v == "stayed_exact":
            company = _company(acc_name, acc_site or truth.employer_domain)
        elif v == "stayed_caps":
            company = _company((acc_name or "").upper() or None, None, linkedin=False)
        elif v == "stayed_legal_form":
            company = _company(_legal_variant(acc_name or "", rng) or None, None, linkedin=False)
        else:  # website only, where the CRM has one
            company = (
                _company(None, acc_site, linkedin=False)
                if acc_site
                else _company(acc_name, None, linkedin=False)
            )
        positions.append(_position(company, title, _ym(start), None, True))
        positions.append(
            _position(
                _company(other_name, other_site),
                rng.choice(_TITLES),
                _ym(early_start),
                _ym(_months_back(verified, offset + 6 + 100 + rng.randrange(12))),
                False,
            )
        )
        changed = _ym(start)
    elif v.startswith("rebrand_"):
        renamed = _months_back(verified, offset + 1 + rng.randrange(24))
        page = _linkedin_id(_domain_of(truth.employer_domain) or truth.employer_name or cid)
        new = _company(truth.employer_name, truth.employer_domain, linkedin=False)
        new["linkedin_id"] = page
        if v == "rebrand_alias" and acc_name:
            new["aliases"] = [acc_name]
        positions.append(_position(new, title, _ym(renamed), None, True))
        if v == "rebrand_same_page":
            old = _company(acc_name, acc_site, linkedin=False)
            old["linkedin_id"] = page  # one company page, renamed
            positions.append(_position(old, title, _ym(early_start), _ym(renamed), False))
        changed = _ym(renamed)
    elif v == "subsidiary_parent_current":
        start = _months_back(verified, offset + 3 + rng.randrange(60))
        positions.append(
            _position(
                _company(parent[0] if parent else truth.employer_name, truth.employer_domain),
                title,
                _ym(start),
                None,
                True,
            )
        )
        changed = _ym(start)
    elif v == "no_account":
        start = _months_back(verified, offset + 3 + rng.randrange(60))
        positions.append(_position(_company(other_name, other_site), title, _ym(start), None, True))
        changed = _ym(start)
    else:
        raise ValueError(f"no profile for variant {v!r}")
    profile["positions"] = positions
    profile["last_verified"] = verified.isoformat()
    profile["last_changed"] = changed
    # not part of the schema (the file source ignores unknown keys, the content hash does not see it):
    # what this sample profile stands for, for people reading the file and for mutate_profiles
    profile["x_sample"] = {"kind": truth.kind, "variant": v, "stale": plan.stale}
    return profile


def _namesake(
    truth: ContactTruth, row: dict[str, Any], account: tuple | None, *, seed: int, today: date
) -> dict[str, Any]:
    """Same name, another person: another e-mail, works elsewhere; half of them once worked at the
    contact's account (so the name+company look-up finds them)."""
    cid = truth.contact_id
    rng = _Draws(seed, "namesake", cid)
    name, site = _OTHER_COMPANIES[rng.randrange(len(_OTHER_COMPANIES))]
    first, last = _clean(row.get("firstname")), _clean(row.get("lastname"))
    local = ".".join(w for w in fold_name(f"{first or ''} {last or ''}").split() if w.isascii()) or "info"
    start = _months_back(today, 2 + rng.randrange(30))
    positions = [_position(_company(name, site), rng.choice(_TITLES), _ym(start), None, True)]
    if account and rng.random() < 0.5:
        positions.append(
            _position(
                _company(account[0], account[1]),
                rng.choice(_TITLES),
                _ym(_months_back(today, 40 + rng.randrange(60))),
                _ym(start),
                False,
            )
        )
    return {
        "profile_id": f"ns-{cid}",
        "full_name": _clean(row.get("fullname")),
        "first_name": first,
        "middle_name": None,
        "last_name": last,
        "profile_url": _slug(row, cid, "namesake"),
        "emails": [f"{local}{2 + rng.randrange(97)}@{site}"],
        "positions": positions,
        "last_verified": (today - timedelta(days=5 + rng.randrange(40))).isoformat(),
        "last_changed": _ym(start),
    }


# --- the walk over the org ----------------------------------------------------------------------------


@dataclass
class _Scan:
    """Per contact, in ``rows("contacts")`` order, a few bytes: what ``expected_verdicts`` and the stats
    need once the look-up ambiguity (which needs every contact) is known."""

    variants: array = field(default_factory=lambda: array("B"))  # _VARIANT_CODE
    kinds: array = field(default_factory=lambda: array("B"))  # _KIND_CODE
    stale: array = field(default_factory=lambda: array("b"))
    verified_age: array = field(default_factory=lambda: array("H"))  # days before the write's ``today``
    ambiguous: set[int] = field(default_factory=set)

    def variant(self, i: int) -> str:
        return _AMBIGUOUS if i in self.ambiguous else _VARIANTS[self.variants[i]]

    def outcome(self, i: int, written: date, today: date) -> Outcome:
        variant = self.variant(i)
        if variant in _NO_PROFILE:
            return Outcome.UNKNOWN
        outcome = _VARIANT_OUTCOME[variant]
        if outcome is not Outcome.UNKNOWN and not _fresh(
            written - timedelta(days=self.verified_age[i]), today
        ):
            return Outcome.UNKNOWN
        return outcome


def _scan(
    sample: SampleOrg,
    *,
    seed: int,
    coverage: float,
    today: date,
    emit: Callable[[_Plan, ContactTruth, dict[str, Any], tuple | None, tuple | None, tuple], None]
    | None = None,
) -> _Scan:
    """One pass over contacts and ground truth: plans every contact (``emit`` writes it), then finds the
    contacts the look-up could confuse. Memory: the accounts' name/website/parent plus ~30 bytes a contact."""
    accounts = _account_info(sample)
    scan = _Scan()
    emails, names, unfound = array("Q"), array("Q"), array("b")
    for row, truth in zip(sample.rows("contacts"), sample.truths(), strict=True):
        cid = truth.contact_id
        if row["contactid"] != cid:  # pragma: no cover - generator contract
            raise RuntimeError("contacts and ground truth are out of step")
        account_id, name = row.get("_parentcustomerid_value"), _name_key(row)
        plan = _plan(truth, row, name, _Draws(seed, cid), coverage=coverage)
        email = (row.get("emailaddress1") or "").strip().lower()
        emails.append(_h64("e", email) if email else 0)
        names.append(_h64("n", account_id, *name) if account_id and name else 0)
        unfound.append(1 if email and plan.variant in _NO_PROFILE else 0)
        scan.variants.append(_VARIANT_CODE[plan.variant])
        scan.kinds.append(_KIND_CODE[truth.kind])
        scan.stale.append(1 if plan.stale else 0)
        rng, verified, offset = None, today, 0
        if plan.variant not in _NO_PROFILE:
            rng = _Draws(seed, "profile", cid)
            verified, offset = _dates(rng, today, plan.stale)
        scan.verified_age.append((today - verified).days)
        if emit is not None:
            account = accounts.get(truth.account_id) if truth.account_id else None
            parent = accounts.get(account[2]) if account and account[2] else None
            emit(plan, truth, row, account, parent, (rng, verified, offset))
    scan.ambiguous = _ambiguous(emails, names, unfound)
    return scan


def _fresh(verified: date, today: date) -> bool:
    return (today - verified).days <= FRESH_DAYS


# --- public API -----------------------------------------------------------------------------------------


def write_profile_file(
    sample: SampleOrg, path: str | os.PathLike[str], *, coverage: float = 0.9, seed: int = 1, today: date
) -> ProfileFileStats:
    """Write the JSONL snapshot for ``sample`` to ``path`` (and the sidecar ``<path>.truth.json``).

    Deterministic: the same org, ``coverage``, ``seed`` and ``today`` give a byte-identical file.
    Streamed: one contact at a time; what stays in memory is a small per-account table and ~30 bytes
    per contact (to find the e-mail addresses and names the look-up could confuse, whose profiles are
    then dropped in a second pass over the file, not the org).
    """
    if not 0.0 <= coverage <= 1.0:
        raise ValueError(f"coverage must be between 0 and 1, got {coverage!r}")
    started = time.perf_counter()
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")

    with open(tmp, "w", encoding="utf-8", newline="\n") as out:

        def emit(
            plan: _Plan,
            truth: ContactTruth,
            row: dict,
            account: tuple | None,
            parent: tuple | None,
            draws: tuple,
        ) -> None:
            if plan.variant == "no_profile_namesake":
                out.write(_dumps(_namesake(truth, row, account, seed=seed, today=today)))
            elif plan.variant not in _NO_PROFILE:
                out.write(_dumps(_build(plan, truth, row, account, parent, draws)))

        scan = _scan(sample, seed=seed, coverage=coverage, today=today, emit=emit)

    stats = ProfileFileStats(path=str(path), contacts=len(scan.variants))
    dropped = {sample.id_of("contacts", i) for i in scan.ambiguous}
    with open(tmp, encoding="utf-8") as src, open(path, "w", encoding="utf-8", newline="\n") as out:
        for line in src:
            if dropped and _line_contact(line) in dropped:
                continue
            out.write(line)
            stats.profiles += 1
    tmp.unlink()
    by_kind: Counter[str] = Counter()
    by_variant: Counter[str] = Counter()
    expected: Counter[str] = Counter()
    for i in range(stats.contacts):
        variant = scan.variant(i)
        by_variant[variant + ("_stale" if scan.stale[i] and variant not in _NO_PROFILE else "")] += 1
        expected[scan.outcome(i, today, today).value] += 1
        if variant in _NO_PROFILE:
            stats.without_profile += 1
            stats.namesakes += variant == "no_profile_namesake"
        else:
            by_kind[_KINDS[scan.kinds[i]]] += 1
    meta = {
        "format": FORMAT_VERSION,
        "org": asdict(sample.spec),
        "seed": seed,
        "coverage": coverage,
        "today": today.isoformat(),
        "mutations": {},
    }
    _write_sidecar(path, meta)
    stats.by_kind = dict(sorted(by_kind.items()))
    stats.by_variant = dict(sorted(by_variant.items()))
    stats.expected = dict(sorted(expected.items()))
    stats.bytes = path.stat().st_size
    stats.seconds = round(time.perf_counter() - started, 3)
    return stats


def _line_contact(line: str) -> str | None:
    """The contact id in a line's ``sp-<id>`` / ``ns-<id>`` profile id (written first on every line)."""
    if not line.startswith('{"profile_id":"'):
        return None
    profile_id = line[15 : line.find('"', 15)]
    return profile_id[3:] if profile_id[:3] in ("sp-", "ns-") else None


def expected_verdicts(
    sample: SampleOrg, path: str | os.PathLike[str], *, today: date | None = None
) -> dict[str, Outcome]:
    """The outcome ``decide`` should give every contact of ``sample`` with the profiles in ``path``.

    Recomputed from the ground truth, the write's seed/coverage/date (sidecar) and the mutations
    recorded there - not by running the engine. ``today`` defaults to the date the file was written;
    a later date can turn fresh verdicts into UNKNOWN (stale profile), as the engine would.
    """
    meta = _read_sidecar(path)
    if meta["org"] != asdict(sample.spec):
        raise ValueError(f"{path} was written for another org: {meta['org']}, not {asdict(sample.spec)}")
    written = date.fromisoformat(meta["today"])
    when = today or written
    mutations: dict[str, list[dict[str, Any]]] = meta.get("mutations", {})
    scan = _scan(sample, seed=meta["seed"], coverage=meta["coverage"], today=written)
    out: dict[str, Outcome] = {}
    for i in range(len(scan.variants)):
        cid = sample.id_of("contacts", i)
        moved_away = [op for op in mutations.get(cid, ()) if op.get("op") == "moved_away"]
        if moved_away:
            verified = date.fromisoformat(moved_away[-1]["today"])
            out[cid] = Outcome.LEFT if _fresh(verified, when) else Outcome.UNKNOWN
        else:
            out[cid] = scan.outcome(i, written, when)
    return out


def mutate_profiles(path: str | os.PathLike[str], contact_ids: Iterable[str], *, today: date) -> None:
    """Change the profiles of ``contact_ids`` in the file, in place (and record it in the sidecar).

    A contact whose profile shows them at the account today (a stayer; also a stale one) moves away:
    the account job ends last month, a new primary job elsewhere starts this month, verified ``today``
    -> LEFT. Anyone else gets a new title on the current job (the content hash changes, the verdict
    does not). Raises ``KeyError`` for a contact without a profile of its own in the file.
    """
    meta = _read_sidecar(path)
    targets = {profile_id_for(c): c for c in contact_ids}
    if not targets:
        return
    path = Path(path)
    done: set[str] = set()
    tmp = path.with_name(path.name + ".tmp")
    with open(path, encoding="utf-8") as src, open(tmp, "w", encoding="utf-8", newline="\n") as out:
        for line in src:
            if '"sp-' not in line:
                out.write(line)
                continue
            profile = json.loads(line)
            cid = targets.get(profile.get("profile_id"))
            if cid is None:
                out.write(line)
                continue
            ops = meta["mutations"].setdefault(cid, [])
            op = _mutate(profile, cid, ops, today=today)
            ops.append({"op": op, "today": today.isoformat()})
            out.write(_dumps(profile))
            done.add(cid)
    missing = set(targets.values()) - done
    if missing:
        tmp.unlink()
        raise KeyError(f"no profile of their own in {path} for: {', '.join(sorted(missing))}")
    os.replace(tmp, path)
    _write_sidecar(path, meta)


def _mutate(profile: dict[str, Any], cid: str, ops: list[dict[str, Any]], *, today: date) -> str:
    rng = random.Random(_h64("mutate", cid, today.isoformat(), len(ops)))
    positions = profile["positions"]
    current = next(p for p in positions if p.get("is_primary"))
    variant = profile.get("x_sample", {}).get("variant", "")
    if variant.startswith("stayed_") and not any(op["op"] == "moved_away" for op in ops):
        last_month = _months_back(today, 1)
        current["is_primary"] = False
        current["end_date"] = _ym(last_month)
        name, site = _OTHER_COMPANIES[rng.randrange(len(_OTHER_COMPANIES))]
        positions.insert(
            0,
            _position(
                _company(name, site), rng.choice(_NEW_TITLES), _ym((today.year, today.month)), None, True
            ),
        )
        profile["last_verified"] = today.isoformat()
        profile["last_changed"] = _ym((today.year, today.month))
        return "moved_away"
    titles = [t for t in _NEW_TITLES if t != current.get("title")]
    current["title"] = rng.choice(titles)
    return "retitled"


def _dumps(profile: dict[str, Any]) -> str:
    return json.dumps(profile, ensure_ascii=False, separators=(",", ":")) + "\n"


def _write_sidecar(path: str | os.PathLike[str], meta: dict[str, Any]) -> None:
    target = sidecar_path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(meta, out, indent=1, sort_keys=True)
        out.write("\n")
    os.replace(tmp, target)


def _read_sidecar(path: str | os.PathLike[str]) -> dict[str, Any]:
    target = sidecar_path(path)
    try:
        meta = json.loads(target.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{target} not found: write the file with write_profile_file") from None
    if meta.get("format") != FORMAT_VERSION:
        raise ValueError(f"{target}: unknown format {meta.get('format')!r}")
    return meta


# --- CLI ------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m localdev.sample_profiles", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--contacts", type=int, default=2000, help="contacts in the generated org")
    parser.add_argument("--seed", type=int, default=1, help="org seed (OrgSpec.seed)")
    parser.add_argument("--profile-seed", type=int, default=1, help="seed of the profile choices")
    parser.add_argument("--coverage", type=float, default=0.9, help="share of contacts with a profile")
    parser.add_argument("--today", type=date.fromisoformat, default=date.today(), help="YYYY-MM-DD")
    parser.add_argument("--out", required=True, help="JSONL file to write (sidecar: <out>.truth.json)")
    args = parser.parse_args(argv)
    sample = generate_org(OrgSpec(contacts=args.contacts, seed=args.seed))
    stats = write_profile_file(
        sample, args.out, coverage=args.coverage, seed=args.profile_seed, today=args.today
    )
    json.dump(stats.as_dict(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
