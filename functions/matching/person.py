"""Is the profile the CRM contact? Profile URL and e-mail identify; the name only supports or vetoes.

Strengths:
- ``strong``: the LinkedIn profile URL or the e-mail address is the same (and the names do not clash,
  and the source's likelihood is not below ``min_match_likelihood``).
- ``weak``: only the name agrees (a namesake is possible).
- ``none``: too little agrees.
- ``conflict``: the profile URLs differ, or an identifier agrees but the names clash.

Nicknames ("Bob" / "Robert") only ever *accept* a given-name difference; a missing nickname
relation never rejects one (the nicknames data is English-only and noisy).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from nicknames import NickNamer
from rapidfuzz.fuzz import ratio

from functions.matching import cache_size

from .config import DEFAULT, MatchingConfig
from .linkedin import linkedin_person_slug
from .normalise import PERSON_DROP, person_name_forms, script_of, without_particles
from .records import ContactRecord, Profile

STRONG = "strong"
WEAK = "weak"
NONE = "none"
CONFLICT = "conflict"


#: name categories that count as the same name (a weak match without an identifier)
NAME_AGREES = frozenset({"full", "swapped", "middle_name", "initial", "nickname"})


class PersonMatch(NamedTuple):
    """How sure we are that a profile is the contact (a named tuple: immutable and cheap to build)."""

    strength: str  # strong | weak | none | conflict
    basis: str  # "profile_url", "email", "name", "profile_url_differs", ...
    score: float | None  # the name score (0-100), None when names could not be compared
    evidence: dict[str, Any]


class _Name(NamedTuple):
    """One person's name in comparable forms (a tuple: built for every comparison, so it must be cheap)."""

    given: frozenset[str]  # first given name per spelling, plus the whole given part without spaces
    given_main: str
    middle: frozenset[str]
    surname: frozenset[str]  # whole surname per spelling (with and without particles, without spaces)
    surname_tokens: frozenset[str]  # single surname words, for double surnames
    surname_main: str
    script: str  # "latin" or "other": names in different scripts are not compared


_NO_WORDS: frozenset[str] = frozenset()


@lru_cache(maxsize=cache_size.NAMES)
def _given_part(first: str | None) -> tuple[frozenset[str], str, frozenset[str], bool]:
    """(given names, main given name, further given names, in Latin script) of a first-name field.

    Cached per lower-cased string (``_name`` lowers it: "Anna" and "anna" share one entry).
    """
    if first and first.isascii() and first.isalpha() and first not in PERSON_DROP:
        return frozenset((first,)), first, _NO_WORDS, True  # the common case: one plain word
    given: set[str] = set()
    mids: set[str] = set()
    forms = person_name_forms(first)
    for f in forms:
        given.add(f[0])
        if len(f) > 1:
            given.add("".join(f))  # "Hans-Peter" == "Hanspeter"
            mids.update(f[1:])
    return frozenset(given), forms[0][0] if forms else "", frozenset(mids), script_of(first) == "latin"


@lru_cache(maxsize=cache_size.NAMES)
def _surname_part(last: str | None) -> tuple[frozenset[str], frozenset[str], str, bool]:
    """(whole surnames with and without particles, surname words, main surname, in Latin script).

    Cached per lower-cased string, like ``_given_part``.
    """
    if last and last.isascii() and last.isalpha() and last not in PERSON_DROP:
        one = frozenset((last,))  # the common case: one plain word
        return one, one, last, True
    surname: set[str] = set()
    words: set[str] = set()
    forms = person_name_forms(last)
    for s in forms:
        kept = without_particles(s)
        surname.add("".join(s))
        surname.add("".join(kept))
        words.update(kept)
    return (
        frozenset(surname),
        frozenset(words),
        "".join(forms[0]) if forms else "",
        script_of(last) == "latin",
    )


def _name(first: str | None, middle: str | None, last: str | None, full: str | None) -> _Name | None:
    """The comparable forms of one person's name, from per-string cached parts.

    Not cached itself: a person's combination of names is seen once a run, and a cache of them would
    only grow (and keep the garbage collector busy); the parts (given names, surnames) repeat.
    """
    return _name_of(_name_fields(first, middle, last, full))


_NameFields = tuple[str | None, str | None, str | None, str | None]


def _name_fields(first: str | None, middle: str | None, last: str | None, full: str | None) -> _NameFields:
    """What ``_name`` depends on: given name and surname lower-cased ("" as None), the rest as given."""
    return (first.lower() if first else None, middle, last.lower() if last else None, full)


def _name_of(fields: _NameFields) -> _Name | None:
    """``_name`` of fields already passed through ``_name_fields``."""
    first, middle, last, full = fields
    given, given_main, mids, first_latin = _given_part(first)
    surname, surname_tokens, surname_main, last_latin = _surname_part(last)
    latin = first_latin and last_latin and (not full or full.isascii() or script_of(full) == "latin")
    script = "latin" if latin else "other"
    middle_words = frozenset(t for forms in person_name_forms(middle) for t in forms) if middle else _NO_WORDS
    if given_main or surname_main:
        return _Name(
            given,
            given_main,
            mids | middle_words if middle_words else mids,
            surname,
            surname_tokens,
            surname_main,
            script,
        )
    return _full_name(full, middle_words, script)


def _full_name(full: str | None, middle_words: frozenset[str], script: str) -> _Name | None:
    """A name given only as one string: "Hans Müller", "Müller, Hans", "Madonna"."""
    splits: list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = []
    if not full:
        return None
    if "," in full:  # "Müller, Hans"
        last_part, _, first_part = full.partition(",")
        for f, la in zip(person_name_forms(first_part), person_name_forms(last_part), strict=False):
            splits.append((f[:1], f[1:], la))
    else:
        for tokens in person_name_forms(full):
            if len(tokens) == 1:
                splits.append(((), (), tokens))
            else:
                splits.append((tokens[:1], tokens[1:-1], tokens[-1:]))
    if not splits:
        return None
    given: set[str] = set()
    mids: set[str] = set(middle_words)
    surname: set[str] = set()
    surname_tokens: set[str] = set()
    for g, m, s in splits:
        if g:
            given.add(g[0])
        mids.update(m)
        if s:
            surname.add("".join(s))
            surname.add("".join(without_particles(s)))
            surname_tokens.update(without_particles(s))
    g0, _, s0 = splits[0]
    return _Name(
        frozenset(given),
        g0[0] if g0 else "",
        frozenset(mids),
        frozenset(surname),
        frozenset(surname_tokens),
        "".join(s0),
        script,
    )


@lru_cache(maxsize=1)
def _nicknamer() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=cache_size.NAMES)
def _nickname_sets(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """(nicknames and canonical names, canonical names) of one given name, from the nicknames data.

    Cached per name: given names repeat far more than pairs of them (and the data copies its sets).
    """
    nn = _nicknamer()
    canonicals = frozenset(nn.canonicals_of(name))
    return frozenset(nn.nicknames_of(name)) | canonicals, canonicals


@lru_cache(maxsize=cache_size.NAMES)
def nickname_related(a: str, b: str) -> bool:
    """True if the nicknames data links the two given names (either direction, or a shared canonical)."""
    if not a or not b or a == b:
        return False
    related_a, canonicals_a = _nickname_sets(a)
    related_b, canonicals_b = _nickname_sets(b)
    return b in related_a or a in related_b or not canonicals_a.isdisjoint(canonicals_b)


def _agree(a: frozenset[str], b: frozenset[str], a_main: str, b_main: str, threshold: float) -> float:
    """100 if any spelling is equal, else the ratio of the main spellings if >= threshold, else 0."""
    if not a.isdisjoint(b):
        return 100.0
    if a_main and b_main and min(len(a_main), len(b_main)) >= 4:
        score = ratio(a_main, b_main)
        if score >= threshold:
            return score
    return 0.0


def compare_names(c: _Name | None, p: _Name | None, threshold: float) -> tuple[str, float | None]:
    """(category, score): full | swapped | middle_name | initial | nickname | surname_only | given_only |
    different_scripts | mismatch | missing."""
    if c is None or p is None:
        return "missing", None
    if c.script != p.script:  # "山田 太郎" / "Taro Yamada": a transliteration is no reading of the name
        return "different_scripts", None
    sur = _agree(c.surname, p.surname, c.surname_main, p.surname_main, threshold)
    if (
        not sur
        and (len(c.surname_tokens) > 1 or len(p.surname_tokens) > 1)
        and not c.surname_tokens.isdisjoint(p.surname_tokens)
    ):
        sur = 90.0  # double surname: "García Márquez" / "García"
    if not c.given or not p.given:
        return ("surname_only", sur) if sur else ("missing", None)
    given = _agree(c.given, p.given, c.given_main, p.given_main, threshold)
    if sur and given:
        return "full", min(sur, given)
    if not sur and not given and (c.given & p.surname_tokens) and (c.surname_tokens & p.given):
        return "swapped", 95.0  # "Zhang Wei" / "Wei Zhang"
    if sur:
        g, pg = c.given_main, p.given_main
        if (c.given & p.middle) or (p.given & c.middle):
            return "middle_name", sur  # goes by the middle name
        if (len(g) == 1 or len(pg) == 1) and g[:1] == pg[:1]:
            return "initial", sur
        if nickname_related(g, pg):
            return "nickname", sur  # support only: no relation in the data never rejects
        return "surname_only", sur
    if given:
        return "given_only", given
    return "mismatch", 0.0


def _email_agreement(contact: ContactRecord, profile: Profile, config: MatchingConfig) -> str | None:
    """How the CRM's addresses (every e-mail column) compare with the profile's: "match" (one of them is
    on the profile, or the source found the profile by one), "same_domain" (another address at one of
    the contacts' non-free-mail domains), "no_match", or None (no address on one side)."""
    c_emails = [e.strip().lower() for e in contact.emails if "@" in e]
    if not c_emails:
        return None
    if "email" in profile.matched_on or any(e in profile.emails for e in c_emails):
        return "match"
    if not profile.emails:
        return None
    p_emails = {e.strip().lower() for e in profile.emails if isinstance(e, str)}
    if not p_emails:
        return None
    if not p_emails.isdisjoint(c_emails):
        return "match"
    for c_email in c_emails:
        domain = c_email.rsplit("@", 1)[1]
        if domain not in config.free_mail_domains and any(e.endswith("@" + domain) for e in p_emails):
            return "same_domain"  # another address at the contact's (work) domain
    return "no_match"


def match_person(contact: ContactRecord, profile: Profile, config: MatchingConfig = DEFAULT) -> PersonMatch:
    """How sure we are that ``profile`` is ``contact``. Pure; never raises on missing fields."""
    c_fields = _name_fields(contact.first_name, contact.middle_name, contact.last_name, contact.full_name)
    p_fields = _name_fields(profile.first_name, profile.middle_name, profile.last_name, profile.full_name)
    c_name = _name_of(c_fields)
    # the profile usually writes the contact's name (in another case): then its forms are the same
    p_name = c_name if p_fields == c_fields else _name_of(p_fields)
    category, score = compare_names(c_name, p_name, config.person_name_score)

    url: str | None = None
    c_slug = linkedin_person_slug(contact.profile_url)
    if c_slug:
        p_slug = linkedin_person_slug(profile.profile_url)
        if p_slug:
            url = "match" if c_slug == p_slug else "differs"
        elif "profile_url" in profile.matched_on:
            url = "match"  # the source found this profile by the contact's URL
    email = _email_agreement(contact, profile, config)
    likelihood = profile.match_likelihood
    likelihood_low = likelihood is not None and likelihood < config.min_match_likelihood

    if url == "differs":
        strength, basis = CONFLICT, "profile_url_differs"
    elif (url == "match" or email == "match") and category == "mismatch":
        strength, basis = CONFLICT, "identifier_matches_but_name_differs"
    elif url == "match":
        strength, basis = STRONG, "profile_url"
    elif email == "match":
        strength, basis = STRONG, "email"
    elif (
        email == "same_domain"
        and config.strong_name_with_email_domain
        and category == "full"
        and score is not None
        and score >= 100
    ):
        strength, basis = STRONG, "name_and_email_domain"
    elif category in NAME_AGREES:
        strength, basis = WEAK, "name"
    else:
        strength, basis = NONE, "name_" + category if category != "mismatch" else "name_differs"
    if strength == STRONG and likelihood_low:
        strength, basis = WEAK, basis + "_low_likelihood"

    evidence: dict[str, Any] = {"strength": strength, "basis": basis, "name": category}
    if score is not None:
        score = evidence["name_score"] = round(score, 1)
    if url:
        evidence["profile_url"] = url
    if email:
        evidence["email"] = email
    if likelihood is not None:
        evidence["likelihood"] = likelihood
    return PersonMatch(strength, basis, score, evidence)


def clear_caches() -> None:
    _given_part.cache_clear()
    _surname_part.cache_clear()
    nickname_related.cache_clear()
    _nickname_sets.cache_clear()
