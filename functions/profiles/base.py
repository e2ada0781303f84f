"""What every profile source offers: the query, the protocol, the errors, the counters, the hash.

A source answers many look-ups at once (``lookup``), one entry per query, keyed by the CRM contact id:
a :class:`~functions.matching.records.Profile` or ``None`` (no match, a weak or ambiguous match, or an
error for that one query). Errors that make further look-ups pointless (bad key, no credits) raise
:class:`ProfileSourceAuthError`; a source that stays unreachable after bounded retries raises
:class:`ProfileSourceUnavailable`. Both carry the results obtained before the failure.

The normalisers here are the ones the sources index and query with, so a CRM value and a source value
meet in the same form: profile URLs as ``linkedin.com/in/<slug>``, emails stripped and lowercased.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from typing import Protocol, runtime_checkable
from urllib.parse import unquote

from functions.matching import cache_size
from functions.matching.records import Company, Position, Profile

__all__ = [
    "LookupResult",
    "LookupStats",
    "ProfileCatalog",
    "ProfileQuery",
    "ProfileSource",
    "ProfileSourceAuthError",
    "ProfileSourceConfigError",
    "ProfileSourceError",
    "ProfileSourceUnavailable",
    "fold_name",
    "normalise_date",
    "normalise_email",
    "normalise_profile_url",
    "profile_content_hash",
    "with_content_hash",
]


@dataclass(frozen=True, slots=True)
class ProfileQuery:
    """What the CRM knows about one contact, to find their profile.

    A source tries the strongest input first: ``profile_url``, then ``email``, then the name
    (``first_name`` + ``last_name``, or ``full_name``) together with the account's ``company_name``
    or ``company_website``. A query without any of these is skipped (answered ``None``).
    """

    contact_id: str
    profile_url: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    company_name: str | None = None
    company_website: str | None = None
    other_emails: tuple[str, ...] = ()  # the CRM's further addresses, tried after ``email``
    company_other_names: tuple[str, ...] = ()  # the account's former or new names (renames)

    @property
    def emails(self) -> tuple[str, ...]:
        """Every address to look up by, ``email`` first."""
        return tuple(dict.fromkeys(e for e in (self.email, *self.other_emails) if e))


@dataclass(frozen=True, slots=True)
class LookupResult:
    """One query's answer with the reason, for sources that explain themselves (``lookup_results``).

    ``status`` is one of ``matched``, ``not_found``, ``ambiguous`` (several profiles fit; none is
    returned), ``low_likelihood`` (the source's confidence is below the configured minimum),
    ``skipped`` (the query has nothing to look up by, or the look-up budget is spent) and ``error``
    (the source failed for this one query; ``detail`` says how). ``profile`` is set only when matched.
    """

    status: str
    profile: Profile | None = None
    detail: str = ""


@dataclass(slots=True)
class LookupStats:
    """Counters of one source object, cumulative over its ``lookup`` calls."""

    queries: int = 0
    matched: int = 0
    not_found: int = 0
    ambiguous: int = 0
    low_likelihood: int = 0
    skipped: int = 0
    errors: Counter[str] = field(default_factory=Counter)  # reason -> queries
    requests: int = 0  # HTTP requests sent, retries included (0 for a file)
    retries: int = 0

    def count(self, result: LookupResult) -> None:
        self.queries += 1
        if result.status == "matched":
            self.matched += 1
        elif result.status == "not_found":
            self.not_found += 1
        elif result.status == "ambiguous":
            self.ambiguous += 1
        elif result.status == "low_likelihood":
            self.low_likelihood += 1
        elif result.status == "skipped":
            self.skipped += 1
        else:
            self.errors[result.detail or "error"] += 1

    def as_dict(self) -> dict:
        return {
            "queries": self.queries,
            "matched": self.matched,
            "not_found": self.not_found,
            "ambiguous": self.ambiguous,
            "low_likelihood": self.low_likelihood,
            "skipped": self.skipped,
            "errors": dict(self.errors),
            "requests": self.requests,
            "retries": self.retries,
        }


class ProfileSourceError(Exception):
    """A profile source failed. ``partial_results`` holds the answers obtained before the failure
    (contact id -> profile or None), so a caller can keep what was already paid for."""

    def __init__(self, message: str, *, partial_results: dict[str, Profile | None] | None = None) -> None:
        super().__init__(message)
        self.partial_results: dict[str, Profile | None] = dict(partial_results or {})


class ProfileSourceConfigError(ProfileSourceError, ValueError):
    """The source settings are missing or invalid (the message names the setting, never its value)."""


class ProfileSourceAuthError(ProfileSourceError):
    """The source refuses us (invalid key, no credits left, forbidden): stop all look-ups."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        partial_results: dict[str, Profile | None] | None = None,
    ) -> None:
        super().__init__(message, partial_results=partial_results)
        self.status = status


class ProfileSourceUnavailable(ProfileSourceError):
    """The source stayed throttled or failing after bounded retries (429, 5xx, network)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        partial_results: dict[str, Profile | None] | None = None,
    ) -> None:
        super().__init__(message, partial_results=partial_results)
        self.status = status
        self.retry_after = retry_after


@runtime_checkable
class ProfileSource(Protocol):
    """A person-profile source. Implementations: ``FileSnapshotSource``, ``PeopleDataLabsSource``."""

    name: str

    def lookup(self, queries: Sequence[ProfileQuery]) -> dict[str, Profile | None]:
        """Answer every query: contact id -> profile, or None when there is no trustworthy match."""
        ...

    def lookup_results(self, queries: Sequence[ProfileQuery]) -> dict[str, LookupResult]:
        """Answer every query with the reason: contact id -> ``LookupResult``."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class ProfileCatalog(Protocol):
    """Optional capability of a source that holds its whole population (``FileSnapshotSource``; not PDL,
    which can only be asked): a run can see which profiles changed without a single look-up.

    Check with ``isinstance(source, ProfileCatalog)`` rather than probing for attributes.
    """

    def version(self) -> str:
        """An opaque identity of the current content, cheap to get (no read of the content): equal
        strings mean the same profiles. Raises ``ProfileSourceError`` when the data is missing."""
        ...

    def profile_hashes(self) -> Iterator[tuple[str, str]]:
        """(profile_id, content_hash) of every profile, without building the profiles."""
        ...

    def profile_hash(self, profile_id: str) -> str | None:
        """The content hash of the profile with this id, None when it is gone: one profile's entry
        of ``profile_hashes``, without holding them all."""
        ...

    def iter_profiles(self) -> Iterator[Profile]:
        """Every profile, with ``content_hash`` filled."""
        ...

    def profile_by_id(self, profile_id: str) -> Profile | None:
        """The profile with this id as the source holds it now (None when it is gone): a contact
        whose look-up keys did not change is decided again on it, without a look-up."""
        ...


# --------------------------------------------------------------------------------------------------
# Normalisers


_LINKEDIN_HOST = re.compile(r"^(?:[a-z]{2,3}\.|www\.|m\.)?linkedin\.com$")
_CACHE = cache_size.NAMES


def _host_and_path(value: str) -> tuple[str, str]:
    """Host (lowercase, no port/user) and path of a URL with or without scheme. No query/fragment."""
    scheme = value.find("://")
    text = value[scheme + 3 :] if 0 < scheme < 12 else value.lstrip("/")
    for mark in "?#":
        cut = text.find(mark)
        if cut != -1:
            text = text[:cut]
    slash = text.find("/")
    host, path = (text, "") if slash == -1 else (text[:slash], text[slash:])
    host = host.rpartition("@")[2].split(":", 1)[0].lower().rstrip(".")
    return host, path


def normalise_profile_url(url: str | None) -> str | None:
    """``https://www.LinkedIn.com/in/Sean-Thorne/?trk=x`` -> ``linkedin.com/in/sean-thorne``.

    Drops scheme, ``www.``/country/mobile subdomains of linkedin.com, query, fragment, trailing
    slashes and anything after the slug (``/en``, ``/details/...``); lowercases; decodes
    percent-escapes (non-ASCII slugs). Other URLs keep their host
    (without ``www.``) and path. Returns None for an empty value.
    """
    if not isinstance(url, str):
        return None
    value = url.strip()
    if not value:
        return None
    host, path = _host_and_path(value)
    if not host:
        return None
    if host == "linkedin.com" or _LINKEDIN_HOST.match(host):
        host = "linkedin.com"
    else:
        host = host.removeprefix("www.")
    if "%" in path:
        path = unquote(path)
    path = path.strip().rstrip("/").lower()
    if "//" in path:
        path = re.sub(r"/{2,}", "/", path)
    if host == "linkedin.com" and path.startswith("/in/"):
        path = "/in/" + path[4:].split("/", 1)[0]  # drop "/en", "/details/experience", ...
    return host + path


def normalise_email(email: str | None) -> str | None:
    """Strip, drop a ``mailto:`` prefix, lowercase. None unless it looks like ``local@domain``."""
    if not isinstance(email, str):
        return None
    value = email.strip().lower()
    value = value.removeprefix("mailto:").strip()
    local, at, domain = value.partition("@")
    if not at or not local or not domain or " " in value:
        return None
    return value


_NOT_WORD = re.compile(r"[^\w]+")


@lru_cache(maxsize=_CACHE)
def fold_name(value: str | None) -> str:
    """A person or company name for equality: casefolded, accents stripped, punctuation to spaces."""
    if not isinstance(value, str):
        return ""
    text = value.casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("&", " and ")
    return " ".join(_NOT_WORD.sub(" ", text).split())


_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@lru_cache(maxsize=_CACHE)
def _checked_date(text: str) -> str:
    match = _DATE.match(text)
    if not match:
        raise ValueError("date must be YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = match.groups()
    try:
        date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise ValueError("date is not a calendar date (month 13, Feb 30, ...)") from None
    return text


def normalise_date(value: object) -> str | None:
    """Return ``value`` if it is ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (a real date), else raise
    ``ValueError``. None and blank give None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("date must be a string")
    text = value.strip()
    if not text:
        return None
    return _checked_date(text)


# --------------------------------------------------------------------------------------------------
# Content hash

_HASH_VERSION = 1


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _company_content(company: Company) -> dict:
    return {
        "name": _clean(company.name),
        "website": _clean(company.website),
        "linkedin_id": _clean(company.linkedin_id),
        "linkedin_url": _clean(company.linkedin_url),
        "aliases": sorted({a.strip() for a in company.aliases if a and a.strip()}),
        "parent_name": _clean(company.parent_name),
    }


def _position_content(position: Position) -> dict:
    return {
        "company": _company_content(position.company),
        "title": _clean(position.title),
        "start_date": _clean(position.start_date),
        "end_date": _clean(position.end_date),
        "is_primary": bool(position.is_primary),
    }


def _canonical(obj: object) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def profile_content_hash(profile: Profile) -> str:
    """sha256 hex of a canonical JSON of what the verdict reads from a profile.

    Hashed: the names, profile URL, emails (normalised, as a set), positions (as a set: order does not
    matter; every company field, title, dates, is_primary), ``last_verified`` and ``last_changed``.
    Not hashed: ``profile_id`` and ``source`` (bookkeeping), ``match_likelihood`` and ``matched_on``
    (they describe the look-up, which follows from the CRM fields already hashed on the contact side,
    and would otherwise re-trigger validations when a vendor's score wobbles), ``content_hash``.
    """
    emails = sorted({e for e in (normalise_email(x) for x in profile.emails) if e})
    positions = sorted(_canonical(_position_content(p)) for p in profile.positions)
    content = {
        "v": _HASH_VERSION,
        "full_name": _clean(profile.full_name),
        "first_name": _clean(profile.first_name),
        "middle_name": _clean(profile.middle_name),
        "last_name": _clean(profile.last_name),
        "profile_url": normalise_profile_url(profile.profile_url),
        "emails": emails,
        "positions": positions,
        "last_verified": _clean(profile.last_verified),
        "last_changed": _clean(profile.last_changed),
    }
    return hashlib.sha256(_canonical(content).encode("utf-8")).hexdigest()


def with_content_hash(profile: Profile) -> Profile:
    """The same profile with ``content_hash`` filled in."""
    return replace(profile, content_hash=profile_content_hash(profile))
