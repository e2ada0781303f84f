"""Is the company on a profile the CRM account? Identifiers first, then aliases, then names.

Kinds:
- ``same``: LinkedIn id/slug equal, registrable domain equal, an alias, the normalised name equal
  (also after dropping generic words like "Group"), an acronym written in capitals (policy), or a
  fuzzy score >= ``employer_same_score`` with no subset risk.
- ``related``: parent / subsidiary / affiliate, one name's words a strict subset of the other's
  ("Bank" / "Bank of America"), mid scores, equal names on conflicting identifiers. Never proof either way.
- ``different``: names clearly differ (score <= ``employer_different_score``), or both sides carry
  LinkedIn identifiers that differ and the names are not related; always with no domain / alias relation.
- ``unknown``: too little data on one side.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Any, NamedTuple

from rapidfuzz.distance import Levenshtein
from rapidfuzz.fuzz import ratio, token_sort_ratio

from functions.matching import cache_size

from .config import DEFAULT, PLATFORM_DOMAINS, MatchingConfig
from .domains import company_domain
from .groups import GroupHit, GroupTable, group_table, name_keys
from .linkedin import linkedin_company_id, linkedin_company_key
from .normalise import COMMON_WORDS, NameKeys, company_keys
from .records import AccountRecord, Company

SAME = "same"
RELATED = "related"
DIFFERENT = "different"
UNKNOWN = "unknown"

_NO_KEYS: dict[str, Any] = {}  # never changed


class EmployerMatch(NamedTuple):
    """How a profile's company compares with the account. ``evidence`` is JSON-serialisable.

    A named tuple (immutable, and cheap to build: one is built for every new comparison).
    """

    kind: str  # same | related | different | unknown
    basis: str  # what decided: "linkedin_id", "domain", "name_equal", "name_subset", "names_differ", ...
    score: float | None  # the name score (0-100) where names were scored, 100 for an identifier match
    evidence: dict[str, Any]
    # pieces of ``evidence`` ready for the verdict's evidence (built once, shared with the cache)
    account_keys: dict[str, Any] = _NO_KEYS
    company_keys: dict[str, Any] = _NO_KEYS
    outcome_keys: dict[str, Any] = _NO_KEYS


class _Side(NamedTuple):
    """One side of a comparison, normalised once per record (cached) and shared by its comparisons."""

    name: str | None
    keys: NameKeys | None
    other_names: tuple[NameKeys, ...]  # aliases the record carries + names in parentheses
    parent: NameKeys | None
    domain: str | None
    li_id: str | None
    li_slug: str | None
    names: tuple[NameKeys | None, ...]  # keys, then other_names
    has_data: bool  # a name, a domain or a LinkedIn id
    summary: dict[str, Any]  # for the evidence: name, norm, domain, linkedin (shared: never change it)
    summary_keys: dict[str, Any]  # the same without the name
    # accounts of the same Dataverse hierarchy (account side only): name key / domain -> account name
    hierarchy_keys: Mapping[str, str] = MappingProxyType({})
    hierarchy_domains: Mapping[str, str] = MappingProxyType({})


def _company_domain(website: str | None) -> str | None:
    """The registrable domain of a company's website; None for a page on a platform ("facebook.com/acme")."""
    return company_domain(website, PLATFORM_DOMAINS)


@lru_cache(maxsize=256)
def _hierarchy_index(
    hierarchy: tuple[tuple[str | None, str | None], ...],
) -> tuple[Mapping[str, str], Mapping[str, str]]:
    """Name keys and domains of a hierarchy's accounts -> the account's name; one index per hierarchy,
    shared by all its accounts (cached by the tuple, not per account)."""
    keys: dict[str, str] = {}
    domains: dict[str, str] = {}
    for name, website in hierarchy:
        label = name or website or ""
        name_keys_ = company_keys(name)
        if name_keys_ is not None:
            for key in name_keys(name_keys_):
                keys.setdefault(key, label)
        domain = _company_domain(website)
        if domain:
            domains.setdefault(domain, label)
    return MappingProxyType(keys), MappingProxyType(domains)


def _side(
    name: str | None,
    aliases: tuple[str, ...],
    parent: str | None,
    website: str | None,
    linkedin_url: str | None,
    linkedin_id: str | None,
    hierarchy: tuple[tuple[str | None, str | None], ...] = (),
) -> _Side:
    keys = company_keys(name)
    others: list[NameKeys] = []
    if aliases or (keys and keys.alternatives):
        for alt in (*aliases, *(keys.alternatives if keys else ())):
            alt_keys = company_keys(alt)
            if alt_keys is not None:
                others.append(alt_keys)
    domain = _company_domain(website)
    li_key = linkedin_company_key(linkedin_url)
    li_id = linkedin_company_id(linkedin_id) or (li_key[1] if li_key and li_key[0] == "id" else None)
    li_slug = li_key[1] if li_key and li_key[0] == "slug" else None
    summary_keys: dict[str, Any] = {"norm": keys.norm if keys else None}
    if domain:
        summary_keys["domain"] = domain
    if li_id or li_slug:
        summary_keys["linkedin"] = li_id or li_slug
    return _Side(
        name,
        keys,
        tuple(others),
        company_keys(parent),
        domain,
        li_id,
        li_slug,
        (keys, *others),
        bool(keys is not None or domain or li_id or li_slug),
        {"name": name, **summary_keys},
        summary_keys,
        *(_hierarchy_index(hierarchy) if hierarchy else ()),
    )


@lru_cache(maxsize=cache_size.NAMES)
def _account_side(account: AccountRecord) -> _Side:
    return _side(
        account.name,
        account.aliases,
        account.parent_account_name,
        account.website,
        account.linkedin_url,
        None,
        tuple(tuple(pair) for pair in account.hierarchy),
    )


@lru_cache(maxsize=cache_size.NAMES)
def _company_side(company: Company) -> _Side:
    return _side(
        company.name,
        company.aliases,
        company.parent_name,
        company.website,
        company.linkedin_url,
        company.linkedin_id,
    )


# --- alias / affiliate tables --------------------------------------------------------------------


def _table_keys(keys: NameKeys) -> frozenset[str]:
    """The forms looked up in the alias / affiliate tables (spellings, no-space, without generic words)."""
    return keys.variants | keys.nospace | {keys.core}


@lru_cache(maxsize=64)
def _table_index(config: MatchingConfig, table: str) -> dict[str, frozenset[int]]:
    """normalised name variant -> ids of the alias (or affiliate) groups it belongs to."""
    index: dict[str, set[int]] = {}
    for group, (key, others) in enumerate(getattr(config, table).items()):
        for name in (key, *others):
            keys = company_keys(name)
            if keys is not None:
                for variant in _table_keys(keys):
                    index.setdefault(variant, set()).add(group)
    return {k: frozenset(v) for k, v in index.items()}


def _groups(side: _Side, index: dict[str, frozenset[int]]) -> set[int]:
    found: set[int] = set()
    if not index:
        return found
    for keys in (side.keys, *side.other_names):
        if keys is not None:
            for variant in _table_keys(keys):
                found |= index.get(variant, frozenset())
    return found


def _equal(a: NameKeys | None, b: NameKeys | None) -> bool:
    return (
        a is not None
        and b is not None
        and not (a.variants.isdisjoint(b.variants) and a.nospace.isdisjoint(b.nospace))
    )


def _abbreviates(short: str, long_: str) -> bool:
    """The letters of ``short`` appear in order in ``long_``, starting with its first letter."""
    if len(long_) <= len(short) or not long_.startswith(short[0]):
        return False
    pos = 0
    for ch in short:
        pos = long_.find(ch, pos)
        if pos < 0:
            return False
        pos += 1
    return True


_SHORT_WORD = 4


def _token_compatible(x: str, y: str) -> bool:
    """Two words that may be one word mistyped: short words must be equal ("bank" is not "bahn").

    Longer words are left to the whole-name scores.
    """
    if x == y or min(len(x), len(y)) > _SHORT_WORD:
        return True
    unknown = x.count("?") + y.count("?")
    return unknown > 0 and Levenshtein.distance(x, y, score_cutoff=unknown) <= unknown


def _tokens_compatible(a: NameKeys, b: NameKeys) -> bool:
    """Word by word (in order, or sorted), every word pair compatible; names of different length pass."""
    if len(a.tokens) != len(b.tokens):
        return True
    if all(_token_compatible(x, y) for x, y in zip(a.tokens, b.tokens, strict=True)):
        return True
    return all(_token_compatible(x, y) for x, y in zip(sorted(a.tokens), sorted(b.tokens), strict=True))


def _typo_distance(a: NameKeys, b: NameKeys, config: MatchingConfig) -> int | None:
    """Fewest edits between the no-space forms if within the typo allowance, else None."""
    if config.employer_typo_max_fraction <= 0:
        return None
    # the allowance grows with the name itself, not with its legal form ("Deutsche Bank AG")
    content = min(len("".join(a.tokens)), len("".join(b.tokens)))
    if content < config.employer_typo_min_length:
        return None
    allowed = max(1, int(content * config.employer_typo_max_fraction))
    best: int | None = None
    for x in a.nospace:
        for y in b.nospace:
            unknown = x.count("?") + y.count("?")  # unknown letters cost nothing
            if abs(len(x) - len(y)) > allowed + unknown:
                continue
            d = Levenshtein.distance(x, y, score_cutoff=allowed + unknown)
            d = max(d - unknown, 0) if d <= allowed + unknown else d
            if d <= allowed and (best is None or d < best):
                best = d
    return best


def _edits(x: str, y: str, cap: int) -> int:
    """Levenshtein distance with unknown letters ("?", encoding debris) free; > cap means "too far"."""
    unknown = x.count("?") + y.count("?")
    if abs(len(x) - len(y)) > cap + unknown:
        return cap + 1
    return max(Levenshtein.distance(x, y, score_cutoff=cap + unknown) - unknown, 0)


def _word_cap(word: str, keys: NameKeys) -> int:
    """Edits one word may carry: 1 up to 4 letters, 2 up to 8, 3 beyond.

    None for words of 1-2 letters or written in capitals: an acronym one letter off is another
    entity ("Samsung SDS" / "Samsung SDI").
    """
    n = len(word)
    if n <= 2 or word in keys.caps:
        return 0
    return 1 if n <= 4 else 2 if n <= 8 else 3


#: edits per paired letter allowed when one word is equal or the edits are spread over the words
_SPREAD_TYPO_FRACTION = 0.25
#: normalised edit distance of the whole (unstripped) names above which no alignment is tried
_PREFILTER_DISTANCE = 0.5


class _Alignment(NamedTuple):
    """Distinctive words of two names paired in order (see ``_align_words``)."""

    edits: int  # edits over all paired words (unknown letters free)
    anchored: bool  # a word of 3+ letters, not a common word, is equal on both sides
    letters: int  # letters of the paired words (the shorter side of each pair)
    worst: int  # most edits in one pair
    words: int  # paired words that are not common words
    short_typo: bool  # a word of up to 4 letters carries an edit ("Data" / "Date")


_NO_ALIGNMENT = _Alignment(1_000, False, 0, 1_000, 0, True)


def _better(x: _Alignment, y: _Alignment) -> bool:
    return (x.edits, not x.anchored, x.worst, -x.letters) < (y.edits, not y.anchored, y.worst, -y.letters)


def _paired(here: _Alignment, x: str, y: str, d: int, anchor: bool) -> _Alignment:
    return _Alignment(
        here.edits + d,
        here.anchored or anchor,
        here.letters + min(len(x), len(y)),
        max(here.worst, d),
        here.words + (x not in COMMON_WORDS),
        here.short_typo or (d > 0 and min(len(x), len(y)) <= _SHORT_WORD),
    )


def _align_words(a: NameKeys, b: NameKeys) -> _Alignment:
    """Pair the words of two names in order, every distinctive word with one on the other side.

    Optional words (legal forms, "and", "the") may be missing on either side or paired with a word one
    edit away ("Inc" / "Hnc", "and" / "aUd"); a word may pair with two neighbours written together
    ("Hessel2WaSlcwi" / "Hessel-Waelchi"). Each pair may carry ``_word_cap`` edits. The best
    alignment has the fewest edits; ``_NO_ALIGNMENT`` if some distinctive word has no partner.
    """
    aw, ao, bw, bo = a.words, a.optional, b.words, b.optional
    n, m = len(aw), len(bw)
    best: dict[tuple[int, int], _Alignment] = {(0, 0): _Alignment(0, False, 0, 0, 0, False)}

    def offer(i: int, j: int, value: _Alignment) -> None:
        old = best.get((i, j))
        if old is None or _better(value, old):
            best[(i, j)] = value

    for i in range(n + 1):
        for j in range(m + 1):
            here = best.get((i, j))
            if here is None:
                continue
            if i < n and ao[i]:  # an optional word missing on the other side ("Acme Inc" / "Acme")
                offer(i + 1, j, here)
            if j < m and bo[j]:
                offer(i, j + 1, here)
            if i < n and j < m:
                x, y = aw[i], bw[j]
                if ao[i] or bo[j]:
                    # a mistyped legal form or "and" ("Hnc" / "Inc", "aUd" / "and")
                    shorter, longer = sorted((len(x), len(y)))
                    if x == y or (shorter >= 2 and longer >= 3 and _edits(x, y, 1) <= 1):
                        offer(i + 1, j + 1, here)
                else:
                    cap = min(_word_cap(x, a), _word_cap(y, b))
                    if x != y and (x in COMMON_WORDS or y in COMMON_WORDS):
                        # a descriptive word differs: "Media" / "Medical" are two lines of business
                        cap = 0 if x in COMMON_WORDS and y in COMMON_WORDS else min(cap, 1)
                    d = _edits(x, y, cap)
                    if d <= cap:
                        anchor = d == 0 and len(x) >= 3 and x not in COMMON_WORDS
                        offer(i + 1, j + 1, _paired(here, x, y, d, anchor))
            # one word written as two neighbours together ("Hessel2WaSlcwi", "and?Sons", "an-d")
            for di, dj in ((1, 2), (2, 1)):
                if i + di <= n and j + dj <= m:
                    x, y = "".join(aw[i : i + di]), "".join(bw[j : j + dj])
                    cap = 1 if len(x) <= 8 else 2 if len(x) <= 12 else 3
                    d = _edits(x, y, cap)
                    if d <= cap:
                        if all(ao[i : i + di]) or all(bo[j : j + dj]):  # only "and" / a legal form
                            if d <= 1:
                                offer(i + di, j + dj, here)
                        else:
                            offer(i + di, j + dj, _paired(here, x, y, d, False))
    return best.get((n, m), _NO_ALIGNMENT)


def _word_typos(a: NameKeys, b: NameKeys, config: MatchingConfig) -> int | None:
    """Edits between two names compared word by word, if within the allowance, else None.

    A quarter of the paired letters may be mistyped when a distinctive word is equal on both sides
    ("Sauer, Harris and Littel" / "Swzer, Harris and Limtel"), or when two or more distinctive words
    carry one edit each at most ("Legros-Pouros" / "Segro-Podros"); otherwise the typo rule's
    fraction applies to the paired letters (so a mistyped legal form costs nothing: "Mitzhell 6nc")
    and short words must be equal ("First Data" / "First Date").
    """
    if config.employer_typo_max_fraction <= 0 or not a.words or not b.words:
        return None
    if Levenshtein.normalized_distance("".join(a.words), "".join(b.words)) > _PREFILTER_DISTANCE:
        return None  # a cheap first check: names more than half apart are not aligned word by word
    found = _align_words(a, b)
    if found is _NO_ALIGNMENT or found.letters == 0:
        return None
    if found.anchored or (found.words >= 2 and found.worst <= 1):
        allowed = int(found.letters * _SPREAD_TYPO_FRACTION)
    elif found.letters >= config.employer_typo_min_length and not found.short_typo:
        allowed = max(1, int(found.letters * config.employer_typo_max_fraction))
    else:
        return None
    return found.edits if found.edits <= allowed else None


def _beyond_common_words(a: NameKeys, b: NameKeys) -> float | None:
    """Score of what is left when the words both names share are all common words, else None.

    A shared brand ("Volkswagen Bank" / "Volkswagen Financial Services") keeps names related; shared
    descriptors ("General", "American", "Deutsche", "Bank") say nothing about which company it is.
    """
    shared = set(a.tokens) & set(b.tokens)
    if not shared or not shared <= COMMON_WORDS:
        return None
    rest_a = [t for t in a.tokens if t not in shared]
    rest_b = [t for t in b.tokens if t not in shared]
    if not rest_a or not rest_b:
        return None
    return max(token_sort_ratio(" ".join(rest_a), " ".join(rest_b)), ratio("".join(rest_a), "".join(rest_b)))


def _descriptive_words_differ(a: NameKeys, b: NameKeys) -> bool:
    """Each name has a common word the other lacks ("Hansa Medical" / "Hansa Media"): two businesses."""
    only_a, only_b = a.token_set - b.token_set, b.token_set - a.token_set
    return bool(only_a & COMMON_WORDS) and bool(only_b & COMMON_WORDS)


def _any_equal(many_a: tuple[NameKeys | None, ...], many_b: tuple[NameKeys | None, ...]) -> bool:
    return any(_equal(a, b) for a in many_a for b in many_b)


# --- the comparison ------------------------------------------------------------------------------


def _result(kind: str, basis: str, score: float | None, a: _Side, b: _Side, **extra: Any) -> EmployerMatch:
    outcome: dict[str, Any] = {"kind": kind, "basis": basis}
    evidence: dict[str, Any] = {"kind": kind, "basis": basis, "account": a.summary, "company": b.summary}
    if score is not None:
        score = round(score, 1)
        outcome["score"] = evidence["score"] = score
    if extra:
        outcome.update(extra)
        evidence.update(extra)
    return EmployerMatch(kind, basis, score, evidence, a.summary_keys, b.summary_keys, outcome)


# --- corporate groups and the account hierarchy ---------------------------------------------------

#: bases of a ``related`` result that mean "one corporate group" (the verdict names the source)
GROUP_BASES = frozenset({"account_hierarchy", "corporate_group", "affiliate", "affiliate_table"})


@lru_cache(maxsize=64)
def _tables(config: MatchingConfig) -> tuple[GroupTable, ...]:
    return group_table(config.builtin_corporate_groups, config.corporate_groups)


def other_names(name: str | None, config: MatchingConfig = DEFAULT) -> tuple[str, ...]:
    """The company's other names (its current name, former names) in the corporate-group tables: what
    a profile may call the account after a rename ("Daimler AG" -> "Mercedes-Benz Group AG")."""
    found: list[str] = []
    for table in _tables(config):
        found.extend(table.names_of_company(name))
    return tuple(dict.fromkeys(found))


def _hits(side: _Side, table: GroupTable) -> frozenset[GroupHit]:
    return table.hits(side.names, side.domain)


def _group_relation(a: _Side, b: _Side, config: MatchingConfig) -> tuple[str, str, dict[str, Any]] | None:
    """(kind, basis, evidence) when a corporate-group table relates the two companies, else None.

    The same company in the table (a former name, or one company named or reached by its domain on both
    sides) is ``same``; two companies of one group are ``related``.
    """
    related: tuple[GroupTable, GroupHit, GroupHit] | None = None
    for table in _tables(config):
        a_hits = _hits(a, table)
        if not a_hits:
            continue
        b_hits = _hits(b, table)
        for ha in a_hits:
            for hb in b_hits:
                if ha.group != hb.group:
                    continue
                if ha.company == hb.company and {ha.via, hb.via} <= {"name", "former_name"}:
                    # one company by its names; a domain alone may be a group-wide one (google.com)
                    renamed = "former_name" in (ha.via, hb.via)
                    basis = "corporate_group_rename" if renamed else "corporate_group_company"
                    return SAME, basis, table.evidence(ha, hb)
                if related is None:
                    related = (table, ha, hb)
    if related is not None:
        table, ha, hb = related
        return RELATED, "corporate_group", table.evidence(ha, hb)
    return None


def _in_hierarchy(a: _Side, b: _Side) -> str | None:
    """The name of an account in the account's Dataverse hierarchy that the company is, else None."""
    if not a.hierarchy_keys and not a.hierarchy_domains:
        return None
    if b.domain and b.domain in a.hierarchy_domains:
        return a.hierarchy_domains[b.domain]
    for keys in b.names:
        if keys is not None:
            for key in name_keys(keys):
                if key in a.hierarchy_keys:
                    return a.hierarchy_keys[key]
    return None


#: words that name no brand in other languages either: articles, "company", "general", "national", ...
def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NOT_A_BRAND = COMMON_WORDS | _word_set(

        "des der die das den del los las von van und for with compagnie societe sociedad societa "
        "gesellschaft generale generali generales nationale nazionale nacional internationale "
        "internazionale groupe gruppo grupo banque banca banco versicherung versicherungen assurances "
        "seguros industrie industria holding partners associates consulting management pjsc ojsc cjsc "
        "jsc"

)


def _shared_brand(a: NameKeys, b: NameKeys) -> str | None:
    """A distinctive word (not a common or generic word, 3+ letters) both names carry, else None."""
    shared = sorted(w for w in a.token_set & b.token_set if len(w) >= 3 and w not in _NOT_A_BRAND)
    return shared[0] if shared else None


def _names_differ(best: float, a: _Side, b: _Side, scores: dict[str, Any]) -> EmployerMatch:
    """Low name scores: ``different``, unless both names carry one distinctive word ("Bosch Rexroth" /
    "Bosch Siemens Hausgeraete", "Delta Air Lines" / "Delta Dental"): a shared brand may be one group
    the tables do not know, so it is ``related``, never proof of another company."""
    brand = _shared_brand(a.keys, b.keys) if a.keys is not None and b.keys is not None else None
    if brand is not None:
        return _result(RELATED, "shared_brand_word", best, a, b, word=brand, **scores)
    return _result(DIFFERENT, "names_differ", best, a, b, **scores)


#: below this best name score no typo rule can match (they need about 75 and more), so names that
#: share no word and hold no acronym or unreadable letter are "different" without further work
_CLEARLY_DIFFERENT = 50.0


def _compare(a: _Side, b: _Side, config: MatchingConfig) -> EmployerMatch:
    if not b.has_data:
        return _result(UNKNOWN, "no_company_data", None, a, b)
    if not a.has_data:
        return _result(UNKNOWN, "no_account_data", None, a, b)

    # 1. identifiers: equal is proof; a conflict counts only when both sides have the same kind of id
    id_conflict = False
    if a.li_id and b.li_id:
        if a.li_id == b.li_id:
            return _result(SAME, "linkedin_id", 100.0, a, b)
        id_conflict = True
    if a.li_slug and b.li_slug:
        if a.li_slug == b.li_slug:
            return _result(SAME, "linkedin_slug", 100.0, a, b)
        id_conflict = True
    if a.domain and b.domain and a.domain == b.domain:
        return _result(SAME, "domain", 100.0, a, b)
    extra: dict[str, Any] = {"identifier_conflict": True} if id_conflict else {}

    # 2. aliases: the records' own (rebrands, "(Google)") and the configured alias table
    a_names, b_names = a.names, b.names
    if (a.other_names or b.other_names) and _any_equal(a_names, b_names) and not _equal(a.keys, b.keys):
        return _result(SAME, "alias", 100.0, a, b, **extra)
    alias_index = _table_index(config, "aliases") if config.aliases else None
    if alias_index and _groups(a, alias_index) & _groups(b, alias_index):
        return _result(SAME, "alias_table", 100.0, a, b, **extra)
    in_group = _group_relation(a, b, config)

    # 3. names (equal names are the same company, whatever parents the records name)
    ak, bk = a.keys, b.keys
    if ak is None or bk is None:
        if in_group is not None and in_group[0] == SAME:
            return _result(SAME, in_group[1], 100.0, a, b, group=in_group[2], **extra)
        hierarchy_account = _in_hierarchy(a, b)
        if hierarchy_account is not None:
            group = {"source": "dataverse_account_hierarchy", "account": hierarchy_account}
            return _result(RELATED, "account_hierarchy", None, a, b, group=group, **extra)
        if in_group is not None:
            return _result(RELATED, in_group[1], None, a, b, group=in_group[2], **extra)
        if id_conflict:
            return _result(DIFFERENT, "identifier_conflict", None, a, b, **extra)
        return _result(UNKNOWN, "no_name", None, a, b, **extra)
    if _equal(ak, bk):
        if id_conflict:
            return _result(RELATED, "name_equal_identifier_conflict", 100.0, a, b, **extra)
        return _result(SAME, "name_equal", 100.0, a, b)
    a_set, b_set = ak.token_set, bk.token_set
    subset = a_set < b_set or b_set < a_set
    if subset and ak.core == bk.core:  # "KPMG International" / "KPMG": only generic words differ
        kind = RELATED if id_conflict else SAME
        return _result(kind, "name_equal_but_generic_words", 100.0, a, b, **extra)
    if in_group is not None and in_group[0] == SAME:  # a former name in a corporate-group table
        return _result(SAME, in_group[1], 100.0, a, b, group=in_group[2], **extra)
    # 4. one group: the account's Dataverse hierarchy, parents the records name, the corporate-group tables
    hierarchy_account = _in_hierarchy(a, b)
    if hierarchy_account is not None:
        group = {"source": "dataverse_account_hierarchy", "account": hierarchy_account}
        return _result(RELATED, "account_hierarchy", None, a, b, group=group, **extra)
    if (b.parent is not None and _any_equal((b.parent,), a_names)) or (
        a.parent is not None and (_any_equal((a.parent,), b_names) or _equal(a.parent, b.parent))
    ):
        return _result(RELATED, "affiliate", None, a, b, **extra)
    if in_group is not None:
        return _result(RELATED, in_group[1], None, a, b, group=in_group[2], **extra)
    if config.affiliates and (
        _groups(a, _table_index(config, "affiliates")) & _groups(b, _table_index(config, "affiliates"))
    ):
        return _result(RELATED, "affiliate_table", None, a, b, **extra)

    # 5. the rest of the names
    if ak.script != bk.script:
        # "삼성전자" / "Samsung Electronics": a transliteration is not a translation; names cannot tell
        return _result(UNKNOWN, "names_in_different_scripts", None, a, b, **extra)
    a_ns, b_ns = ak.joined, bk.joined
    if not (subset or ak.acronym_form or bk.acronym_form or "?" in a_ns or "?" in b_ns):
        # the common case, two unrelated names: score them first and stop when they clearly differ
        ts, ns = token_sort_ratio(ak.norm, bk.norm), ratio(a_ns, b_ns)
        best = max(ts, ns)
        if best < _CLEARLY_DIFFERENT and best <= config.employer_different_score:
            scores = {"token_sort": round(ts, 1), "nospace": round(ns, 1), **extra}
            return _names_differ(best, a, b, scores)
    compatible = _tokens_compatible(ak, bk)
    typo = _typo_distance(ak, bk, config) if compatible else None
    if typo is not None:
        kind = RELATED if id_conflict else SAME
        return _result(kind, "name_typo", None, a, b, edits=typo, **extra)
    typo = _word_typos(ak, bk, config)
    if typo is not None:
        kind = RELATED if id_conflict else SAME
        return _result(kind, "name_typo_by_word", None, a, b, edits=typo, **extra)
    short, long_ = (ak, bk) if ak.acronym_form else (bk, ak)
    if short.acronym_form and long_.acronym and short.acronym_form == long_.acronym:
        kind = SAME if config.acronym_policy == SAME and not id_conflict else RELATED
        return _result(kind, "acronym", None, a, b, acronym=short.acronym_form, **extra)
    if subset:  # "Bank" / "Bank of America": never proof of the same company, nor of a different one
        return _result(RELATED, "name_subset", None, a, b, **extra)
    ts = token_sort_ratio(ak.norm, bk.norm)
    ns = ratio(a_ns, b_ns)
    best = max(ts, ns)
    scores = {"token_sort": round(ts, 1), "nospace": round(ns, 1), **extra}
    if (
        best >= config.employer_same_score
        and compatible
        and min(len(a_ns), len(b_ns)) >= config.employer_fuzzy_min_length
        and not _descriptive_words_differ(ak, bk)
    ):
        kind = RELATED if id_conflict else SAME
        return _result(kind, "name_fuzzy", best, a, b, **scores)
    if best <= config.employer_different_score and ("?" in a_ns or "?" in b_ns):
        # a name with unreadable characters (encoding debris) is no proof of a different company
        return _result(RELATED, "name_unreadable", best, a, b, **scores)
    if best <= config.employer_different_score:
        if short.acronym_form and _abbreviates(short.acronym_form, long_.joined):
            # "VW" / "Volkswagen", "MSFT" / "Microsoft": maybe an abbreviation or ticker, not proof
            return _result(RELATED, "possible_abbreviation", best, a, b, **scores)
        return _names_differ(best, a, b, scores)
    if id_conflict:
        return _result(DIFFERENT, "identifier_conflict", best, a, b, **scores)
    rest = _beyond_common_words(ak, bk)
    if rest is not None and rest <= config.employer_different_score:
        # "General Motors" / "General Mills", "DNB Bank" / "Klarna Bank": only common words are shared
        return _result(
            DIFFERENT, "names_differ_beyond_common_words", best, a, b, rest=round(rest, 1), **scores
        )
    return _result(RELATED, "name_similar", best, a, b, **scores)


@lru_cache(maxsize=cache_size.NAMES)
def _match_cached(account: AccountRecord, company: Company, config: MatchingConfig) -> EmployerMatch:
    return _compare(_account_side(account), _company_side(company), config)


def match_employer(
    account: AccountRecord, company: Company, config: MatchingConfig = DEFAULT
) -> EmployerMatch:
    """Compare the account with a profile's company. Pure; cached per (account, company, config).

    The returned ``evidence`` dict is shared with the cache: copy it before changing it.
    """
    try:
        return _match_cached(account, company, config)
    except TypeError:  # a record holding a list instead of a tuple is unhashable: compare uncached
        return _compare(_account_side.__wrapped__(account), _company_side.__wrapped__(company), config)


def clear_caches() -> None:
    for fn in (_account_side, _company_side, _table_index, _match_cached, _tables, _hierarchy_index):
        fn.cache_clear()
