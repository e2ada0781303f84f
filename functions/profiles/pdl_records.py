"""People Data Labs person record (``data`` of an enrichment response) -> ``Profile``. Pure, no I/O.

Used by the API source and by the file snapshot (a PDL export as JSONL). Lenient by design: PDL
fields with no data are ``null``, free plans send ``true``/``false`` instead of contact values
(``"work_email": true``), and an unexpected type is treated as unknown, never as an error.

* ``experience[]`` -> positions; ``is_primary: true`` marks the current job (at most one is kept
  primary, the first). A non-primary entry keeps ``end_date: null`` (meaning "unknown").
* No ``experience`` but ``job_company_*`` fields -> one primary position from them.
* ``job_last_verified`` (formerly ``job_last_updated``) -> ``last_verified``; ``job_last_changed`` ->
  ``last_changed``. Dates outside ``YYYY``/``YYYY-MM``/``YYYY-MM-DD`` become None.
* ``company.raw[]`` (names people typed for that company) -> ``Company.aliases``.
"""

from __future__ import annotations

from collections.abc import Mapping

from functions.matching.records import Company, Position, Profile

from .base import normalise_date, normalise_email, normalise_profile_url, with_content_hash

__all__ = ["is_pdl_record", "pdl_record_to_profile"]


def _str(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def _date(value: object) -> str | None:
    try:
        return normalise_date(value)
    except ValueError:
        return None


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def is_pdl_record(obj: Mapping) -> bool:
    """True for a PDL person record (or an enrichment envelope ``{"status", "likelihood", "data"}``)."""
    if isinstance(obj.get("data"), Mapping) and "status" in obj:
        return True
    return "experience" in obj or "job_company_name" in obj


def _company(raw: object) -> Company:
    if not isinstance(raw, Mapping):
        return Company()
    name = _str(raw.get("name"))
    aliases: list[str] = []
    for alias in _list(raw.get("raw")):
        text = _str(alias)
        if text and text.casefold() != (name or "").casefold() and text not in aliases:
            aliases.append(text)
    return Company(
        name=name,
        website=_str(raw.get("website")),
        linkedin_id=_str(raw.get("linkedin_id")),
        linkedin_url=_str(raw.get("linkedin_url")),
        aliases=tuple(aliases),
    )


def _title(raw: object) -> str | None:
    if isinstance(raw, Mapping):
        return _str(raw.get("name"))
    return _str(raw)


def _positions(data: Mapping) -> tuple[Position, ...]:
    positions: list[Position] = []
    primary_seen = False
    for entry in _list(data.get("experience")):
        if not isinstance(entry, Mapping):
            continue
        is_primary = entry.get("is_primary") is True and not primary_seen
        primary_seen = primary_seen or is_primary
        positions.append(
            Position(
                company=_company(entry.get("company")),
                title=_title(entry.get("title")),
                start_date=_date(entry.get("start_date")),
                end_date=_date(entry.get("end_date")),
                is_primary=is_primary,
            )
        )
    if not positions and _str(data.get("job_company_name")):
        positions.append(
            Position(
                company=Company(
                    name=_str(data.get("job_company_name")),
                    website=_str(data.get("job_company_website")),
                    linkedin_id=_str(data.get("job_company_linkedin_id")),
                    linkedin_url=_str(data.get("job_company_linkedin_url")),
                ),
                title=_title(data.get("job_title")),
                start_date=_date(data.get("job_start_date")),
                is_primary=True,
            )
        )
    return tuple(positions)


def _emails(data: Mapping) -> tuple[str, ...]:
    candidates: list[object] = [data.get("work_email"), data.get("recommended_personal_email")]
    candidates += _list(data.get("personal_emails"))
    for entry in _list(data.get("emails")):
        candidates.append(entry.get("address") if isinstance(entry, Mapping) else entry)
    emails: list[str] = []
    for candidate in candidates:
        email = normalise_email(candidate) if isinstance(candidate, str) else None
        if email and email not in emails:
            emails.append(email)
    return tuple(emails)


def pdl_record_to_profile(
    record: Mapping,
    *,
    likelihood: int | None = None,
    matched_on: tuple[str, ...] = (),
    source: str = "pdl",
) -> Profile:
    """Map a PDL person record (or a whole ``{"status": 200, "likelihood", "data"}`` envelope).

    Raises ``ValueError`` when the record has no ``id`` (nothing to key the profile by).
    """
    data = record
    if isinstance(record.get("data"), Mapping) and "status" in record:
        data = record["data"]
        if likelihood is None and isinstance(record.get("likelihood"), int):
            likelihood = record["likelihood"]
    profile_id = _str(data.get("id"))
    if not profile_id:
        raise ValueError("PDL record without id")
    profile = Profile(
        profile_id=profile_id,
        source=source,
        full_name=_str(data.get("full_name")),
        first_name=_str(data.get("first_name")),
        middle_name=_str(data.get("middle_name")),
        last_name=_str(data.get("last_name")),
        profile_url=normalise_profile_url(_str(data.get("linkedin_url"))),
        emails=_emails(data),
        positions=_positions(data),
        last_verified=_date(data.get("job_last_verified")) or _date(data.get("job_last_updated")),
        last_changed=_date(data.get("job_last_changed")),
        match_likelihood=likelihood
        if isinstance(likelihood, int) and not isinstance(likelihood, bool)
        else None,
        matched_on=matched_on,
    )
    return with_content_hash(profile)
