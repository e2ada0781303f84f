"""The keys a source finds a person by name + company with: the verdict engine's own normalisation.

A CRM value and a profile value must meet in one form, or the look-up misses people the engine would
recognise: company names go through ``functions.matching.company_keys`` (legal forms, both umlaut
spellings ü -> ue / ü -> u, transliteration to Latin, punctuation), websites through the registrable
domain (``https://WWW.Siemens.com/de`` and ``careers.siemens.com`` are both ``siemens.com``), person
names through ``person_name_forms`` (titles dropped, umlaut spellings, Cyrillic/Greek/Chinese written
in Latin letters). Pure and cached.
"""

from __future__ import annotations

from functools import lru_cache

from functions.matching import cache_size
from functions.matching.config import PLATFORM_DOMAINS
from functions.matching.domains import company_domain
from functions.matching.normalise import company_keys, person_name_forms

__all__ = ["company_lookup_keys", "names_agree", "person_keys"]

_CACHE = cache_size.NAMES


@lru_cache(maxsize=_CACHE)
def _surnames(last: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(" ".join(form) for form in person_name_forms(last)))


@lru_cache(maxsize=_CACHE)
def _given(first: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(form[0] for form in person_name_forms(first) if form))


@lru_cache(maxsize=_CACHE)
def person_keys(first: str | None, last: str | None, full: str | None) -> frozenset[tuple[str, str]]:
    """(first given name, surname) pairs under every spelling; from ``full`` where a part is missing.

    "Jürgen Groß" -> {("juergen", "gross"), ("jurgen", "gross")}; "Иван Петров" -> {("ivan", "petrov")}.
    """
    givens, surnames = _given(first), _surnames(last)
    if not (givens and surnames):
        forms = [f for f in person_name_forms(full) if len(f) >= 2]
        if not forms:
            return frozenset()
        givens = givens or tuple(dict.fromkeys(f[0] for f in forms))
        surnames = surnames or tuple(dict.fromkeys(f[-1] for f in forms))
    return frozenset((g, s) for g in givens for s in surnames)


def names_agree(a: frozenset[tuple[str, str]], b: frozenset[tuple[str, str]]) -> bool:
    """Some spelling of the two names has the same surname and a given name that agrees (equal, or one
    side an initial of the other)."""
    for given_a, surname_a in a:
        for given_b, surname_b in b:
            if surname_a == surname_b and (
                given_a == given_b or ((len(given_a) == 1 or len(given_b) == 1) and given_a[0] == given_b[0])
            ):
                return True
    return False


@lru_cache(maxsize=_CACHE)
def company_lookup_keys(name: str | None, website: str | None) -> frozenset[str]:
    """``c:<name form>`` for the engine's spellings of the name (and its form without generic words),
    ``d:<registrable domain>`` for the website."""
    keys: set[str] = set()
    found = company_keys(name)
    if found is not None:
        keys.update("c:" + variant for variant in found.variants)
        keys.add("c:" + found.core)
    domain = company_domain(website, PLATFORM_DOMAINS)  # "google.com/maps/place/..." says nothing
    if domain:
        keys.add("d:" + domain)
    return frozenset(keys)
