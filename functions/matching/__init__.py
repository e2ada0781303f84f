"""Employer and person matching, and the verdict (STILL_THERE / LEFT / UNKNOWN). Pure: no I/O.

Public API (docs/dev/CONTRACTS.md, issue #3); how it decides: docs/matching.md.
"""

from . import domains, employer, linkedin, normalise, person, verdict
from .config import DEFAULT, FREE_MAIL_DOMAINS, MatchingConfig
from .domains import email_domain, registrable_domain
from .employer import EmployerMatch, match_employer
from .linkedin import linkedin_company_key, linkedin_person_slug
from .normalise import NameKeys, company_keys, normalise_company_name
from .person import PersonMatch, match_person
from .records import AccountRecord, Company, ContactRecord, Outcome, Position, Profile, Verdict
from .verdict import RULES, decide


def clear_caches() -> None:
    """Drop every memoised normalisation and comparison (for cold-cache benchmarks and tests)."""
    normalise.clear_caches()
    domains.clear_caches()
    employer.clear_caches()
    person.clear_caches()
    linkedin.linkedin_company_key.cache_clear()
    verdict.parse_partial_date.cache_clear()
    verdict._profile_age.cache_clear()


__all__ = [
    "DEFAULT",
    "FREE_MAIL_DOMAINS",
    "RULES",
    "AccountRecord",
    "Company",
    "ContactRecord",
    "EmployerMatch",
    "MatchingConfig",
    "NameKeys",
    "Outcome",
    "PersonMatch",
    "Position",
    "Profile",
    "Verdict",
    "clear_caches",
    "company_keys",
    "decide",
    "email_domain",
    "linkedin_company_key",
    "linkedin_person_slug",
    "match_employer",
    "match_person",
    "normalise_company_name",
    "registrable_domain",
]
