"""Normalisers and the profile content hash (pure)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from functions.matching.records import Company, Position, Profile
from functions.profiles import normalise_email, normalise_profile_url, profile_content_hash
from functions.profiles.base import (
    LookupResult,
    LookupStats,
    normalise_date,
)
from functions.profiles.lookup_keys import company_lookup_keys, names_agree, person_keys


@pytest.mark.parametrize(
    "raw",
    [
        "linkedin.com/in/seanthorne",
        "https://www.linkedin.com/in/SeanThorne/",
        "http://linkedin.com/in/seanthorne?trk=public_profile",
        "https://de.linkedin.com/in/seanthorne/#about",
        "www.linkedin.com/in/seanthorne//",
        "  HTTPS://WWW.LINKEDIN.COM/in/seanthorne  ",
        "https://www.linkedin.com/in/seanthorne/en/",
        "https://www.linkedin.com/in/seanthorne/details/experience/",
        "m.linkedin.com/in/seanthorne",
    ],
)
def test_profile_url_variants_normalise_to_one_form(raw: str) -> None:
    assert normalise_profile_url(raw) == "linkedin.com/in/seanthorne"


def test_profile_url_percent_escapes_and_empty() -> None:
    assert normalise_profile_url("https://www.linkedin.com/in/j%C3%BCrgen-m%C3%BCller/") == (
        "linkedin.com/in/jürgen-müller"
    )
    assert normalise_profile_url("") is None
    assert normalise_profile_url("   ") is None
    assert normalise_profile_url(None) is None
    assert normalise_profile_url("https://www.xing.com/profile/A_B/") == "xing.com/profile/a_b"


def test_email_normalisation() -> None:
    assert normalise_email("  Sean@PeopleDataLabs.COM ") == "sean@peopledatalabs.com"
    assert normalise_email("mailto:a@b.de") == "a@b.de"
    for bad in ("", "no-at-sign", "@b.de", "a@", "a b@c.de", None, True):
        assert normalise_email(bad) is None  # type: ignore[arg-type]


def test_look_up_keys_are_the_engines_normalisation() -> None:
    # both umlaut spellings, legal forms dropped, the registrable domain of any website form
    assert company_lookup_keys("Müller GmbH & Co. KG", None) >= {"c:mueller", "c:muller"}
    procter = company_lookup_keys("Procter & Gamble", None)
    assert procter == company_lookup_keys("Procter and Gamble Co.", None)
    assert "c:contoso" in company_lookup_keys("The Contoso Ltd.", None)
    sites = ("https://www.Contoso.com/de?x=1", "WWW.CONTOSO.COM", "careers.contoso.com", "contoso.com:443")
    for site in sites:
        assert "d:contoso.com" in company_lookup_keys(None, site), site
    assert "d:contoso.co.uk" in company_lookup_keys(None, "http://shop.contoso.co.uk/")
    assert company_lookup_keys(None, "https://www.linkedin.com/company/contoso") == frozenset()  # a platform
    assert company_lookup_keys(None, "https://www.google.com/maps/place/Contoso+GmbH") == frozenset()
    assert company_lookup_keys(None, "https://sites.google.com/view/contoso") == frozenset()
    assert company_lookup_keys(None, "https://www.google.com/") == {"d:google.com"}  # Google's own site
    assert company_lookup_keys("", "") == frozenset()


def test_person_keys_meet_across_umlauts_and_scripts() -> None:
    assert names_agree(person_keys("Jürgen", "Groß", None), person_keys("Juergen", "Gross", None))
    assert names_agree(person_keys("Jürgen", "Müller", None), person_keys("Jurgen", "Muller", None))
    assert names_agree(person_keys("Иван", "Петров", None), person_keys("Ivan", "Petrov", None))
    assert names_agree(person_keys(None, None, "Dr. Anna Schmidt"), person_keys("A.", "Schmidt", None))
    assert not names_agree(person_keys("Anna", "Schmidt", None), person_keys("Berta", "Schmidt", None))
    assert person_keys(None, None, "Cher") == frozenset()


@pytest.mark.parametrize("good", ["2024", "2024-02", "2024-02-29", None, ""])
def test_dates_accepted(good: str | None) -> None:
    assert normalise_date(good) == (good or None)


@pytest.mark.parametrize("bad", ["2024-13", "2023-02-29", "2024/01/01", "20240101", "24", "2024-1", 2024])
def test_dates_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="date"):
        normalise_date(bad)


def _profile(**changes: object) -> Profile:
    base = Profile(
        profile_id="p1",
        source="file",
        full_name="Ada Lovelace",
        first_name="Ada",
        last_name="Lovelace",
        profile_url="linkedin.com/in/ada",
        emails=("ada@contoso.com", "ada@home.example"),
        positions=(
            Position(Company(name="Contoso", website="contoso.com"), "CTO", "2021-04", None, True),
            Position(Company(name="Fabrikam", aliases=("Fabrikam Inc", "FBK")), "Dev", "2015", "2021-03"),
        ),
        last_verified="2025-06-01",
        last_changed="2021-04-15",
    )
    return replace(base, **changes)


def test_hash_is_sha256_hex_and_stable() -> None:
    digest = profile_content_hash(_profile())
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert profile_content_hash(_profile()) == digest


def test_hash_ignores_bookkeeping_order_and_whitespace() -> None:
    base = profile_content_hash(_profile())
    reordered = _profile(
        emails=("ADA@home.example", " ada@contoso.com"),
        positions=tuple(reversed(_profile().positions)),
    )
    assert profile_content_hash(reordered) == base
    assert profile_content_hash(_profile(profile_id="other", source="pdl", match_likelihood=9)) == base
    assert profile_content_hash(_profile(matched_on=("email",), content_hash="x")) == base
    assert profile_content_hash(_profile(full_name="  Ada Lovelace ")) == base
    aliases = _profile().positions[1].company.aliases
    swapped = replace(
        _profile().positions[1], company=replace(_profile().positions[1].company, aliases=aliases[::-1])
    )
    assert profile_content_hash(_profile(positions=(_profile().positions[0], swapped))) == base


def test_hash_changes_when_content_changes() -> None:
    base = profile_content_hash(_profile())
    ended = replace(_profile().positions[0], end_date="2025-05", is_primary=False)
    assert profile_content_hash(_profile(positions=(ended, _profile().positions[1]))) != base
    renamed = replace(_profile().positions[0], company=Company(name="Contoso Group", website="contoso.com"))
    assert profile_content_hash(_profile(positions=(renamed, _profile().positions[1]))) != base
    assert profile_content_hash(_profile(last_verified="2025-07-01")) != base
    assert profile_content_hash(_profile(last_name="King")) != base
    assert profile_content_hash(_profile(emails=("ada@contoso.com",))) != base


def test_lookup_stats_count_by_status() -> None:
    stats = LookupStats()
    for result in (
        LookupResult("matched"),
        LookupResult("not_found"),
        LookupResult("ambiguous"),
        LookupResult("low_likelihood"),
        LookupResult("skipped"),
        LookupResult("error", detail="http_400"),
        LookupResult("error", detail="http_400"),
    ):
        stats.count(result)
    assert stats.as_dict() == {
        "queries": 7,
        "matched": 1,
        "not_found": 1,
        "ambiguous": 1,
        "low_likelihood": 1,
        "skipped": 1,
        "errors": {"http_400": 2},
        "requests": 0,
        "retries": 0,
    }
