"""LinkedIn URL normalisation: company pages (numeric id or slug) and person profiles (slug)."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote

from functions.matching import cache_size

_COMPANY = re.compile(r"(?:^|[./])linkedin\.com/(?:company|school|showcase)/([^/?#\s]+)")
_PERSON = re.compile(r"(?:^|[./])linkedin\.com/(?:in|pub)/([^/?#\s]+)")


def _clean(url: str) -> str:
    return unquote(url.strip()).lower()


@lru_cache(maxsize=cache_size.NAMES)
def linkedin_company_key(url: str | None) -> tuple[str, str] | None:
    """("id", "18170482") or ("slug", "peopledatalabs") from any form of a company-page URL, else None.

    Handles scheme, "www." and country hosts ("uk.linkedin.com"), "/showcase/" and "/school/",
    trailing slashes, query strings and sub-pages ("/company/acme/about/").
    """
    if not url:
        return None
    m = _COMPANY.search(_clean(url))
    if not m:
        return None
    value = m.group(1)
    return ("id", value) if value.isdigit() else ("slug", value)


def linkedin_company_id(company_id: str | None) -> str | None:
    """A numeric company id as a clean string ("18170482"), else None."""
    if company_id is None:
        return None
    text = str(company_id).strip()
    return text if text.isdigit() else None


def linkedin_person_slug(url: str | None) -> str | None:
    """ "https://de.linkedin.com/in/Sean-Thorne/?trk=x" -> "sean-thorne"; not a profile URL -> None.

    Not cached: each person's URL is seen once a run (a cache would only grow).
    """
    if not url:
        return None
    text = url.strip().lower()
    if "%" in text:
        text = _clean(url)
    m = _PERSON.search(text)
    return m.group(1) if m else None
