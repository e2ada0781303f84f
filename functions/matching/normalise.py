"""Company-name and person-name normalisation: pure string functions, cached.

Company names: NFKC, casefold, parenthesised text and "d/b/a" tails kept as alternative names,
German umlauts both ways (ü -> ue and ü -> u), transliteration with anyascii, "&"/"+" -> and,
punctuation, legal forms stripped with cleanco's term list (guarded: "Ltd" alone stays "ltd"),
a leading "the". From that come the keys the employer matcher compares: the normalised name, a
no-space key, a core key without generic words and an acronym key.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from anyascii import anyascii
from cleanco.clean import prepare_default_terms

from functions.matching import cache_size

_UMLAUTS_DE = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_HAS_UMLAUT = re.compile("[äöü]")
_PARENS = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]|（([^（）]*)）")
_ALT_TAIL = re.compile(r"\s*[,;]?\s*\b(?:d/b/a|dba|t/a|a/k/a|aka|formerly|vormals|ehemals)\b[\s.:]*(.*)$")
_DOMAIN_TAIL = re.compile(r"\b([a-z0-9][a-z0-9-]*)\.(?:com|net|org|io|ai|co\.uk|co|de|biz)\b")
_QUOTES = re.compile(r"[’'`´‘\"“”.]")
_AMP = re.compile(r"[&+]")
_NON_ALNUM = re.compile(r"[^a-z0-9?]+")
#: garbage inside a word (encoding debris, control characters): kept as "?", an unknown letter
_ODD = r"[{}\[\]<>^_|~`\\@*=#$%]"
_NOISE = re.compile(rf"[\x00-\x08\x0e-\x1f\x7f-\x9f?]|(?<=[^\W_]){_ODD}|{_ODD}(?=[^\W_])")
_RAW_WORDS = re.compile(r"[A-Za-z0-9]+")
_NOT_ALNUM_RAW = re.compile(r"[^A-Za-z0-9]")
#: words that start an alternative name in a plain name ("Acme dba Widgets", "Globex formerly Initech")
_MAY_HAVE_ALT_TAIL = re.compile(r"\b(?:dba|aka|formerly|vormals|ehemals)\b")
#: the same for any name: every match of _ALT_TAIL holds one of these (a cheap search before a slow one)
_ALT_TAIL_WORD = re.compile(r"d/b/a|dba|t/a|a/k/a|aka|formerly|vormals|ehemals")
#: every match of _NOISE holds one of these characters
_NOISE_CHAR = re.compile(rf"[\x00-\x08\x0e-\x1f\x7f-\x9f?]|{_ODD}")
#: every match of _DOMAIN_TAIL holds one of these
_DOMAIN_TAIL_TLD = re.compile(r"\.(?:com|net|org|io|ai|co|de|biz)")
#: the tokens _base_tokens keeps: runs of what _NON_ALNUM would turn into spaces
_ALNUM_RUN = re.compile(r"[a-z0-9?]+")
#: a legal form glued to the end of the name, told by its capitals: "SchummPLC", "AcmeGmbH", "Kihn5LLC"
_GLUED_FORMS = ("PLC", "LLC", "LLP", "Ltd", "LTD", "Inc", "INC", "Corp", "GmbH", "GMBH", "AG", "KGaA")
_GLUED_LEGAL_FORM = re.compile(rf"(?<=[a-z0-9])({'|'.join(_GLUED_FORMS)})\.?$")
_GLUED_ENDINGS = _GLUED_FORMS + tuple(form + "." for form in _GLUED_FORMS)
#: how far from the end a glued legal form can start (its letters, a dot, and the letter before it)
_GLUED_REACH = max(map(len, _GLUED_ENDINGS)) + 1
#: two adjacent capitals or a digit and a capital: a word written in capitals ("SDS", "A1") needs one
_CAPS_PAIR = re.compile(r"[A-Z][A-Z0-9]|[0-9][A-Z]")
#: a letter outside the Latin blocks (CJK, Hangul, Kana, Cyrillic, Greek, Arabic, ...)
_NON_LATIN = re.compile(r"[^\W\d_\u0000-\u024f\u1e00-\u1eff]")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NO_WORDS: frozenset[str] = frozenset()


#: words that say little about which company it is; ignored by the "core" key only.
GENERIC_WORDS = _words(
    "group groupe gruppe holding holdings international intl global worldwide services service "
    "solutions technologies technology systems company companies enterprises industries"
)
#: descriptive words many unrelated companies share (places, "general", industries). Two names that
#: share only such words are compared on the rest ("General Motors" / "General Mills").
COMMON_WORDS = GENERIC_WORDS | _words(
    "general american america national united first world deutsche deutscher german british royal "
    "pacific atlantic standard continental central southern northern western eastern north south east "
    "west new great union universal federal state european euro asia asian china japan nippon swiss "
    "dutch nordic bank banking financial finance capital insurance assurance life health healthcare "
    "medical pharma energy power electric electronics motor motors automotive airlines air airways "
    "lines express logistics transport shipping foods food retail media communications telecom "
    "networks software data digital consulting investments investment securities trust chemicals "
    "chemical steel oil gas petroleum construction engineering instruments mills manufacturing "
    "products"
)
#: words skipped when building an acronym ("Bank of America" -> "ba").
_ACRONYM_SKIP = _words("of the and for de der die das la le les du des von van y e di del a")
_NOT_CONTENT = frozenset({"the", "and"})
#: legal forms also stripped at the start of a name (only unambiguous ones).
_PREFIX_LEGAL_FORMS = frozenset(
    {"inc", "llc", "ltd", "plc", "gmbh", "corp", "pt", "ooo", "oao", "zao", "pao", "tov"}
)
#: legal forms cleanco 2.3 does not know.
_EXTRA_LEGAL_FORMS = (
    "aktiengesellschaft",
    "gesellschaft mit beschrankter haftung",
    "gesellschaft mbh",
    "kommanditgesellschaft",
    "offene handelsgesellschaft",
    "societe anonyme",
    "sociedad anonima",
    "societa per azioni",
    "public limited company",
    "limited liability company",
    "corp.",
    "ltd.",
    "inc.",
    "s.a.",
    "ug haftungsbeschrankt",
    "ug",
    "ev",
    "genossenschaft",
    "eingetragene genossenschaft",
    "pjsc",  # public joint-stock company (Russia, Ukraine, UAE)
    "ojsc",
    "cjsc",
    "jsc",
    "dac",  # Irish designated activity company
    "designated activity company",
)


def _nfkc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def _base_tokens(text: str) -> list[str]:
    """Lower-case ASCII tokens: quotes and dots vanish, & and + become "and", other marks split."""
    if text.replace(" ", "").isalnum() and text.isascii():
        return text.split()  # the common case: letters, digits and spaces only
    if "." in text and _DOMAIN_TAIL_TLD.search(text):
        text = _DOMAIN_TAIL.sub(r"\1", text)
    text = _QUOTES.sub("", text)
    if "&" in text or "+" in text:
        text = _AMP.sub(" and ", text)
    return _ALNUM_RUN.findall(text)  # == _NON_ALNUM.sub(" ", text).split()


def _build_legal_forms() -> dict[str, tuple[tuple[str, ...], ...]]:
    """cleanco's terms (plus a few it lacks), tokenised like names, indexed by their last token."""
    raw = [" ".join(parts) for _, parts in prepare_default_terms()] + list(_EXTRA_LEGAL_FORMS)
    by_last: dict[str, set[tuple[str, ...]]] = {}
    for term in raw:
        tokens = tuple(_base_tokens(anyascii(unicodedata.normalize("NFKC", term).casefold()).lower()))
        if tokens:
            by_last.setdefault(tokens[-1], set()).add(tokens)
    return {k: tuple(sorted(v, key=lambda t: (-len(t), t))) for k, v in by_last.items()}


_LEGAL_FORMS = _build_legal_forms()


def _has_content(tokens: list[str]) -> bool:
    return not _NOT_CONTENT.issuperset(tokens)


def strip_legal_forms(tokens: list[str]) -> list[str]:
    """Remove trailing legal forms ("co ltd", "gmbh and co kg"), repeatedly, but never the last content word.

    cleanco alone turns "Ltd" into "" and needs two passes for "Co., Ltd."; this loops and stops
    before a name would be left with nothing but "the"/"and".
    """
    tokens = list(tokens)
    if tokens and tokens[-1] not in _LEGAL_FORMS and tokens[-1] not in _NOT_CONTENT:
        return tokens  # the common case: no legal form at the end
    while tokens:
        if tokens[-1] in _NOT_CONTENT:  # "Coca-Cola Company, The" / a dangling "&"
            if _has_content(tokens[:-1]):
                tokens.pop()
                continue
            break
        for term in _LEGAL_FORMS.get(tokens[-1], ()):
            n = len(term)
            if tuple(tokens[-n:]) == term and _has_content(tokens[:-n]):
                del tokens[-n:]
                break
        else:
            break
    return tokens


def _variants(folded: str) -> tuple[str, ...]:
    """ü -> ue first (the German spelling), then the plain anyascii strip (ü -> u)."""
    if folded.isascii():
        return (folded,)
    if _HAS_UMLAUT.search(folded):
        return (anyascii(folded.translate(_UMLAUTS_DE)).lower(), anyascii(folded).lower())
    return (anyascii(folded).lower(),)


class NameKeys(NamedTuple):
    """The comparable forms of one company name (a named tuple: immutable and cheap to build)."""

    norm: str  # the normalised name ("" if nothing is left)
    tokens: tuple[str, ...]
    variants: frozenset[str]  # norm under each umlaut spelling
    nospace: frozenset[str]  # variants without spaces, plus the un-stripped no-space form
    core: str  # norm without generic words (or norm, if that would be empty)
    acronym: str | None  # initials of 2+ words: "international business machines" -> "ibm"
    acronym_form: str | None  # the name itself looks like an acronym in the raw text ("IBM", "P&G")
    alternatives: tuple[str, ...]  # names in parentheses or after "d/b/a" (raw)
    script: str = "latin"  # "latin", or "other" when written in another script (transliterated)
    # every word before legal forms were stripped ("emard", "inc"), and which of them are optional
    # (legal forms, "and", "the"): the word-by-word typo comparison aligns these
    words: tuple[str, ...] = ()
    optional: tuple[bool, ...] = ()
    caps: frozenset[str] = frozenset()  # words written in capitals in the raw name ("SDS", "BNP")
    token_set: frozenset[str] = frozenset()  # set(tokens)
    joined: str = ""  # "".join(tokens)


def _tokens_for(variant: str) -> tuple[list[str], str, list[str]]:
    base = _base_tokens(variant)
    if "und" in base or "et" in base:  # "und" / "et" between words are "and" ("Müller und Söhne")
        base = [("and" if t in ("und", "et") and 0 < i < len(base) - 1 else t) for i, t in enumerate(base)]
    unstripped = "".join(t for t in base if t != "and") if "and" in base else "".join(base)
    tokens = strip_legal_forms(base)
    if len(tokens) > 1 and tokens[0] in _PREFIX_LEGAL_FORMS:  # "PLC Torphy", "OOO Gazprom"
        tokens = tokens[1:]
    if len(tokens) > 1 and tokens[0] == "the":
        tokens = tokens[1:]
    if "and" in tokens and _has_content(tokens):
        tokens = [t for t in tokens if t != "and"]
    return tokens, unstripped, base


def _optional_words(base: list[str], tokens: list[str]) -> tuple[bool, ...]:
    """Which base words are not in the stripped name (legal forms, "and", "the"): tokens is a subsequence."""
    if len(base) == len(tokens):
        return (False,) * len(base)  # nothing was stripped
    out = []
    i = 0
    for word in base:
        if i < len(tokens) and word == tokens[i]:
            out.append(False)
            i += 1
        else:
            out.append(True)
    return tuple(out)


@lru_cache(maxsize=cache_size.NAMES)
def company_keys(name: str | None) -> NameKeys | None:
    """All keys of a company name, or None for an empty name. Cached: pure function of the string."""
    if not name or not name.strip():
        return None
    text = _nfkc(name).strip()
    if text.endswith(_GLUED_ENDINGS) and _GLUED_LEGAL_FORM.search(text, max(len(text) - _GLUED_REACH, 0)):
        text = _GLUED_LEGAL_FORM.sub(r" \1", text)
    folded = text.casefold()
    plain = folded.replace(" ", "").isalnum()  # letters, digits and spaces only: the common case
    if not plain and _NOISE_CHAR.search(folded):
        folded = _NOISE.sub("?", folded)
    alternatives: list[str] = []
    stripped = folded
    if "(" in folded or "[" in folded or "（" in folded:
        for m in _PARENS.finditer(folded):
            inner = next((g for g in m.groups() if g is not None), "").strip()
            if inner:
                alternatives.append(inner)
        stripped = _PARENS.sub(" ", folded)
    may_have_tail = (_MAY_HAVE_ALT_TAIL if plain else _ALT_TAIL_WORD).search(stripped)
    tail = _ALT_TAIL.search(stripped) if may_have_tail else None
    if tail:
        if tail.group(1).strip():
            alternatives.append(tail.group(1).strip())
        stripped = stripped[: tail.start()]
    if not stripped.strip():  # the whole name was in parentheses
        stripped = folded
    variant_tokens = [_tokens_for(v) for v in _variants(stripped)]
    tokens, _, base = variant_tokens[0]
    compact = "".join(tokens)
    if not _has_content(tokens) or not compact.strip("?"):  # tokens are [a-z0-9?]+: some letter is known
        return None
    norm = " ".join(tokens)
    if len(variant_tokens) == 1:  # an ASCII name: one spelling
        variants = frozenset((norm,))
        nospace = frozenset((compact, variant_tokens[0][1]) if variant_tokens[0][1] else (compact,))
    else:
        variants = frozenset(" ".join(t) for t, _, _ in variant_tokens)
        nospace = frozenset(x for t, u, _ in variant_tokens for x in ("".join(t), u) if x)
    core_tokens = [t for t in tokens if t not in GENERIC_WORDS]
    core = " ".join(core_tokens) if core_tokens else norm
    raw = name if name.isascii() else anyascii(_nfkc(name))
    initials = [t[0] for t in tokens if t not in _ACRONYM_SKIP]
    acronym = None
    caps = (
        frozenset([w.lower() for w in _RAW_WORDS.findall(raw) if len(w) >= 2 and w.isupper()])
        if _CAPS_PAIR.search(raw)
        else _NO_WORDS
    )
    if len(initials) >= 2 and len(tokens) >= 2:
        # no acronym from a name that already holds one ("BNP Paribas" is not "BP"), unless all-caps
        in_caps = [t in caps for t in tokens if t not in _ACRONYM_SKIP]
        if not any(in_caps) or all(in_caps):
            acronym = "".join(initials)
    acronym_form = None
    if 2 <= len(compact) <= 6 and (len(tokens) == 1 or all(len(t) == 1 for t in tokens)):
        raw_letters = _NOT_ALNUM_RAW.sub("", raw)
        words = _RAW_WORDS.findall(raw)
        mixed = any(w.lower() == compact and sum(c.isupper() for c in w) >= 2 for w in words)
        if compact.upper() in raw_letters or mixed:  # "IBM", "P&G", "PwC"
            acronym_form = compact
    # positional, in the order of the fields (keyword arguments cost ~1.5 us a name)
    return NameKeys(
        norm,
        tuple(tokens),
        variants,
        nospace,
        core,
        acronym,
        acronym_form,
        tuple(alternatives),
        script_of(name),
        tuple(base),
        _optional_words(base, tokens),
        caps,
        frozenset(tokens),
        compact,
    )


def script_of(text: str | None) -> str:
    """ "latin" (accented Latin too), or "other" when a letter is from another script (CJK, Cyrillic…)."""
    if not text or text.isascii() or not _NON_LATIN.search(text):
        return "latin"
    return "other"


def normalise_company_name(name: str | None) -> str:
    """The normalised company name ("" for empty input): "The Müller GmbH & Co. KG" -> "mueller"."""
    keys = company_keys(name)
    return keys.norm if keys else ""


# --- people -------------------------------------------------------------------------------------

#: titles and suffixes dropped from person names
PERSON_DROP = _words("dr prof mr mrs ms miss herr frau jr sr ii iii iv phd dipl ing mba md msc bsc ba ma esq")
_PARTICLES = frozenset(
    {"von", "van", "de", "der", "den", "da", "di", "del", "della", "la", "le", "zu", "ten", "ter"}
)
_PERSON_PUNCT = re.compile(r"[’'`´‘.]")


@lru_cache(maxsize=cache_size.NAMES)
def person_name_forms(name: str | None) -> tuple[tuple[str, ...], ...]:
    """Token tuples of a person name, one per spelling variant ("Jürgen" -> ("juergen",), ("jurgen",)).

    Titles and suffixes are dropped; hyphens split ("Hans-Peter" -> "hans peter").
    """
    if not name:
        return ()
    if name.isascii() and name.isalpha():  # the common case, one plain word: "Thomas", "mueller"
        word = name.lower()
        return ((word,),) if word not in PERSON_DROP else ()
    if not name.strip():
        return ()
    folded = _nfkc(name).casefold()
    out = []
    for variant in _variants(folded):
        tokens = tuple(
            t for t in _NON_ALNUM.sub(" ", _PERSON_PUNCT.sub("", variant)).split() if t not in PERSON_DROP
        )
        if tokens and tokens not in out:
            out.append(tokens)
    return tuple(out)


def without_particles(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """Surname tokens without "von", "van", "de", ... (unless nothing would be left)."""
    kept = tuple(t for t in tokens if t not in _PARTICLES)
    return kept or tokens


def clear_caches() -> None:
    """Forget cached normalisations (benchmarks measure cold runs with this)."""
    company_keys.cache_clear()
    person_name_forms.cache_clear()
