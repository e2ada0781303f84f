"""Registrable web domains, offline: tldextract with its bundled public-suffix snapshot only."""

from __future__ import annotations

import re
from functools import lru_cache

import tldextract

from functions.matching import cache_size

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    # suffix_list_urls=() and cache_dir=None: never a download, never a disk cache (bundled snapshot).
    # Private suffixes on: "acme.myshopify.com" must not collapse into "myshopify.com".
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def host_of(url_or_host: str | None) -> str | None:
    """ "https://user@www.Acme.co.uk:8443/de?q=1" -> "www.acme.co.uk"; an e-mail gives its domain."""
    if not url_or_host:
        return None
    text = url_or_host.strip().lower()
    if not text:
        return None
    text = _SCHEME.sub("", text)
    if text.startswith("//"):
        text = text[2:]
    for sep in ("/", "?", "#", "\\"):
        text = text.split(sep, 1)[0]
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    text = text.split(":", 1)[0].strip(".").strip()
    if text.startswith("www."):
        text = text[4:]
    return text or None


@lru_cache(maxsize=cache_size.NAMES)
def registrable_domain(url_or_host: str | None) -> str | None:
    """The registrable domain ("eTLD+1") of a URL, host or e-mail address, IDNs in punycode; else None.

    "https://www.bbc.co.uk/news" -> "bbc.co.uk"; "münchen.de" -> "xn--mnchen-3ya.de";
    "localhost", IP addresses and bare suffixes ("co.uk") -> None.
    """
    return _registrable_domain_of_host(host_of(url_or_host))


@lru_cache(maxsize=cache_size.NAMES)
def _registrable_domain_of_host(host: str | None) -> str | None:
    """Cached per host as well: an account's website and its people's e-mail addresses share the work."""
    if not host or _IPV4.match(host) or "." not in host:
        return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    result = _extractor()(host).top_domain_under_public_suffix
    return result or None


def company_domain(website: str | None, platforms: frozenset[str]) -> str | None:
    """The registrable domain of a company's website, or None when the "website" is a page or a
    sub-site on a platform (``https://www.google.com/maps/place/...``, ``sites.google.com/view/x``,
    ``facebook.com/acme``): many companies share such a domain, so it identifies none of them."""
    domain = registrable_domain(website) if website else None
    if domain in platforms:
        host = host_of(website) or ""
        rest = _SCHEME.sub("", website.strip().lower()).removeprefix("//")  # type: ignore[union-attr]
        path = rest.split("/", 1)[1].split("?", 1)[0].strip("/") if "/" in rest else ""
        if path or host != domain:
            return None
    return domain


def email_domain(email: str | None) -> str | None:
    """The registrable domain of an e-mail address, or None."""
    if not email or "@" not in email:
        return None
    return registrable_domain(email.rsplit("@", 1)[1])


def clear_caches() -> None:
    registrable_domain.cache_clear()
    _registrable_domain_of_host.cache_clear()
