"""Registrable domains (offline public-suffix snapshot) and LinkedIn URL normalisation (pure)."""

from __future__ import annotations

import socket

import pytest

from functions.matching import email_domain, linkedin_company_key, linkedin_person_slug, registrable_domain
from functions.matching.domains import _extractor


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://www.bbc.co.uk/news", "bbc.co.uk"),
        ("bbc.co.uk", "bbc.co.uk"),
        ("WWW.Acme.COM", "acme.com"),
        ("http://shop.eu.acme.com:8080/de/?q=1#x", "acme.com"),
        ("//cdn.acme.de/path", "acme.de"),
        ("a.b.c.example.co.uk", "example.co.uk"),
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("https://xn--mnchen-3ya.de/", "xn--mnchen-3ya.de"),
        ("acme.myshopify.com", "acme.myshopify.com"),  # private suffix: not "myshopify.com"
        ("jane@sub.acme.de", "acme.de"),
        ("localhost", None),
        ("10.0.0.1", None),
        ("co.uk", None),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_registrable_domain(value: str | None, expected: str | None) -> None:
    assert registrable_domain(value) == expected


def test_idn_forms_compare_equal() -> None:
    assert registrable_domain("www.münchen.de") == registrable_domain("xn--mnchen-3ya.de")


def test_extractor_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    _extractor.cache_clear()
    registrable_domain.cache_clear()
    assert registrable_domain("https://www.example.co.uk") == "example.co.uk"
    extractor = _extractor()
    assert tuple(extractor.suffix_list_urls) == ()


def test_email_domain() -> None:
    assert email_domain("Jane.Doe@Mail.Acme.co.uk") == "acme.co.uk"
    assert email_domain("jane@gmail.com") == "gmail.com"
    assert email_domain("not-an-email") is None
    assert email_domain(None) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("linkedin.com/company/peopledatalabs", ("slug", "peopledatalabs")),
        ("https://www.linkedin.com/company/PeopleDataLabs/", ("slug", "peopledatalabs")),
        ("https://uk.linkedin.com/company/acme-corp/about/?trk=x", ("slug", "acme-corp")),
        ("http://www.linkedin.com/company/18170482", ("id", "18170482")),
        ("linkedin.com/showcase/acme-cloud", ("slug", "acme-cloud")),
        ("linkedin.com/school/tum", ("slug", "tum")),
        ("https://www.linkedin.com/in/someone", None),
        ("https://notlinkedin.com/company/x", None),
        ("", None),
        (None, None),
    ],
)
def test_linkedin_company_key(url: str | None, expected: tuple[str, str] | None) -> None:
    assert linkedin_company_key(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("linkedin.com/in/seanthorne", "seanthorne"),
        ("https://de.linkedin.com/in/Sean-Thorne/?trk=abc", "sean-thorne"),
        ("http://www.linkedin.com/in/j%C3%BCrgen-m", "jürgen-m"),
        ("https://www.linkedin.com/pub/jane-doe/1/2/3", "jane-doe"),
        ("https://www.linkedin.com/company/acme", None),
        ("  linkedin.com/in/seanthorne  ", "seanthorne"),  # surrounding blanks
        ("https://www.linkedin.com/in/J%C3%BCrgen-M/", "jürgen-m"),  # decoded, then lower-cased
        ("https://notlinkedin.com/in/x", None),
        (None, None),
    ],
)
def test_linkedin_person_slug(url: str | None, expected: str | None) -> None:
    assert linkedin_person_slug(url) == expected


def test_a_website_and_an_email_address_share_the_host_level_work() -> None:
    from functions.matching import clear_caches
    from functions.matching.domains import _registrable_domain_of_host

    clear_caches()
    assert registrable_domain("https://www.Müller-Bau.de/kontakt") == "xn--mller-bau-q9a.de"
    assert email_domain("anna@müller-bau.de") == "xn--mller-bau-q9a.de"
    assert _registrable_domain_of_host.cache_info().misses == 1  # the IDN was encoded once
    clear_caches()
    assert _registrable_domain_of_host.cache_info().currsize == 0
