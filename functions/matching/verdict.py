"""The verdict: STILL_THERE, LEFT or UNKNOWN, decided by named rules, with evidence.

LEFT needs all of: a strong person match; a position at the account (employer ``same``) that has a
known end date (not in the future); one primary (current) position, at a company that is
``different`` from the account; that end not after the current start (when both are known); fresh
data. Anything short of that is UNKNOWN; STILL_THERE needs a strong person match, fresh data and
the current employer ``same`` as the account. See docs/matching.md for the rules table.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import lru_cache
from typing import Any

from .config import DEFAULT, PLATFORM_DOMAINS, MatchingConfig
from .domains import company_domain, email_domain
from .employer import DIFFERENT, GROUP_BASES, RELATED, SAME, EmployerMatch, match_employer
from .linkedin import linkedin_company_key
from .person import STRONG, WEAK, PersonMatch, match_person
from .records import AccountRecord, Company, ContactRecord, Outcome, Position, Profile, Verdict

EVIDENCE_VERSION = 1

#: every rule decide() can return, with its outcome (docs/matching.md explains each).
RULES: dict[str, Outcome] = {
    "unknown.no_account": Outcome.UNKNOWN,
    "unknown.no_profile": Outcome.UNKNOWN,
    "unknown.person_conflict": Outcome.UNKNOWN,
    "unknown.person_not_strong": Outcome.UNKNOWN,
    "unknown.no_current_position": Outcome.UNKNOWN,
    "unknown.several_current_positions": Outcome.UNKNOWN,
    "unknown.profile_age_unknown": Outcome.UNKNOWN,
    "unknown.stale_profile": Outcome.UNKNOWN,
    "still_there.current_employer_is_account": Outcome.STILL_THERE,
    "still_there.returned_to_account": Outcome.STILL_THERE,
    "still_there.current_shares_identifier_with_account_position": Outcome.STILL_THERE,
    "unknown.current_employer_same_group": Outcome.UNKNOWN,
    "unknown.current_employer_related": Outcome.UNKNOWN,
    "unknown.current_employer_unknown": Outcome.UNKNOWN,
    "unknown.no_position_at_account": Outcome.UNKNOWN,
    "unknown.account_position_not_ended": Outcome.UNKNOWN,
    "unknown.account_position_ends_in_future": Outcome.UNKNOWN,
    "unknown.positions_overlap": Outcome.UNKNOWN,
    "left.ended_at_account_now_elsewhere": Outcome.LEFT,
}


@lru_cache(maxsize=4096)
def parse_partial_date(text: str | None) -> tuple[int, ...] | None:
    """ "2023" -> (2023,), "2023-05" -> (2023, 5), "2023-05-17" -> (2023, 5, 17); junk -> None."""
    if not text or not isinstance(text, str):
        return None
    parts = text.strip()[:10].split("-")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        return None
    values = tuple(int(p) for p in parts)
    try:
        date(values[0], values[1] if len(values) > 1 else 1, values[2] if len(values) > 2 else 1)
    except ValueError:
        return None
    return values


def _as_date(parts: tuple[int, ...]) -> date:
    """The earliest day the partial date can mean (conservative for freshness)."""
    return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def _after(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """a is after b at the precision both have ("2021" is not after "2021-03")."""
    n = min(len(a), len(b))
    return a[:n] > b[:n]


@lru_cache(maxsize=4096)
def _profile_age(last_verified: str | None, last_changed: str | None, today: date) -> tuple[str | None, int]:
    """(as-of date, age in days): the newer of the two stamps; (None, 0) if neither is readable."""
    stamps = [d for d in map(parse_partial_date, (last_verified, last_changed)) if d]
    if not stamps:
        return None, 0
    as_of = max(_as_date(d) for d in stamps)
    return as_of.isoformat(), (today - as_of).days


def _position_summary(position: Position, match: EmployerMatch) -> dict[str, Any]:
    """The position and how its company compared with the account (names, domains, ids, scores)."""
    out: dict[str, Any] = {"company": position.company.name, **match.company_keys}
    if position.start_date:
        out["start"] = position.start_date
    if position.end_date:
        out["end"] = position.end_date
    out.update(match.outcome_keys)
    return out


def _verdict(rule: str, evidence: dict[str, Any], current_employer: str | None = None) -> Verdict:
    evidence["rule"] = rule
    return Verdict(RULES[rule], rule, evidence, current_employer)


def _shares_identifier(a: Position, b: Position) -> bool:
    """Two positions on the same company page or web domain (a rebrand keeps both)."""
    ca, cb = a.company, b.company
    if ca.linkedin_id and cb.linkedin_id and str(ca.linkedin_id) == str(cb.linkedin_id):
        return True
    if ca.linkedin_url and cb.linkedin_url:
        ka, kb = linkedin_company_key(ca.linkedin_url), linkedin_company_key(cb.linkedin_url)
        if ka is not None and ka == kb:
            return True
    da, db = _site(ca.website), _site(cb.website)
    return da is not None and da == db


_STRONG_BASES = frozenset(
    {
        "linkedin_id",
        "linkedin_slug",
        "domain",
        "alias",
        "alias_table",
        "name_equal",
        "name_equal_but_generic_words",
    }
)


def _page_key(company: Company) -> tuple[str, str] | None:
    if company.linkedin_id and str(company.linkedin_id).strip().isdigit():
        return ("id", str(company.linkedin_id).strip())
    return linkedin_company_key(company.linkedin_url)


def _page_conflict(current: Position, at_account: list[tuple[Position, EmployerMatch]]) -> str | None:
    """The account's LinkedIn page as a job at the account shows it, if the current company's differs."""
    mine = _page_key(current.company)
    if mine is None:
        return None
    pages = {_page_key(p.company) for p, m in at_account if m.basis in _STRONG_BASES}
    same_kind = {page for page in pages if page is not None and page[0] == mine[0]}
    if same_kind and mine not in same_kind:
        return sorted(same_kind)[0][1]
    return None


#: current-employer bases that a LinkedIn page of a job at the account can overturn (see decide)
_PAGE_CHECKED = frozenset({"name_similar", "name_equal"})


def _ended(end_date: str | None, today_parts: tuple[int, ...]) -> bool:
    end = parse_partial_date(end_date)
    return end is not None and not _after(end, today_parts)


def _returned(at_account: list[tuple[Position, EmployerMatch]], elsewhere: list[Position]) -> bool:
    """A boomerang: a job elsewhere that started after a job at the account had ended."""
    for position, _ in at_account:
        end = parse_partial_date(position.end_date)
        if end is None:
            continue
        for other in elsewhere:
            start = parse_partial_date(other.start_date)
            if start is not None and not _after(end, start):
                return True
    return False


def _may_have_returned(others: list[Position]) -> bool:
    """On dates alone: could one of ``others`` have started after another one ended?

    A necessary condition of ``_returned`` (it needs two different jobs), checked before comparing
    any of their companies with the account.
    """
    for position in others:
        end = parse_partial_date(position.end_date)
        if end is None:
            continue
        for other in others:
            if other is not position:
                start = parse_partial_date(other.start_date)
                if start is not None and not _after(end, start):
                    return True
    return False


def _split_at_account(
    account: AccountRecord, others: list[Position], config: MatchingConfig
) -> tuple[list[tuple[Position, EmployerMatch]], list[Position]]:
    """The jobs at the account (employer ``same``, with the match) and the jobs elsewhere."""
    at_account: list[tuple[Position, EmployerMatch]] = []
    elsewhere: list[Position] = []
    for position in others:
        m = match_employer(account, position.company, config)
        if m.kind == SAME:
            at_account.append((position, m))
        else:
            elsewhere.append(position)
    return at_account, elsewhere


def _site(website: str | None) -> str | None:
    """A company's own registrable domain (None for a page on a platform such as google.com/maps)."""
    return company_domain(website, PLATFORM_DOMAINS)


#: employer bases that identify the account without its name: a LinkedIn page or the web domain
_IDENTIFIER_BASES = frozenset({"linkedin_id", "linkedin_slug", "domain"})


def _email_conflict(contact: ContactRecord, account: AccountRecord, profile: Profile,
                    config: MatchingConfig) -> str | None:
    """A CRM work address at a domain that neither the account, nor a company on the profile, nor an
    address on the profile explains (a sign of another person); the domain, else None."""
    explained: set[str] | None = None
    for email in contact.emails:
        domain = email_domain(email)
        if not domain or domain in config.free_mail_domains:
            continue
        if explained is None:
            explained = {_site(account.website)}
            explained.update(_site(p.company.website) for p in profile.positions)
            explained.update(email_domain(e) for e in profile.emails)
        if domain not in explained:
            return domain
    return None


def _shares_account_domain(contact: ContactRecord, account: AccountRecord, profile: Profile) -> bool:
    """A CRM address and a profile address at the account's own domain (or the account has none)."""
    a_domain = _site(account.website)
    if not a_domain:
        return True
    return any(email_domain(e) == a_domain for e in contact.emails) and any(
        email_domain(e) == a_domain for e in profile.emails
    )


def _account_history_match(contact: ContactRecord, account: AccountRecord, profile: Profile,
                           person: PersonMatch, config: MatchingConfig,
                           today_parts: tuple[int, ...]) -> PersonMatch | None:
    """The strong-match policy for movers whose CRM e-mail is an old one the profile does not list.

    Strong when all hold: exactly the same full name; the source's likelihood at least
    ``history_min_likelihood``; no conflicting CRM address (``_email_conflict``; a differing profile URL
    is a conflict before this is asked); an ended job at the account identified by its LinkedIn page or
    registrable domain, never by name alone. Else None (the match stays weak).
    """
    likelihood = profile.match_likelihood
    if (
        person.strength != WEAK
        or person.evidence.get("name") != "full"
        or person.score is None
        or person.score < 100
        or likelihood is None
        or likelihood < max(config.history_min_likelihood, config.min_match_likelihood)
        or _email_conflict(contact, account, profile, config) is not None
    ):
        return None
    for position in profile.positions:
        if not _ended(position.end_date, today_parts):
            continue
        m = match_employer(account, position.company, config)
        if m.kind == SAME and m.basis in _IDENTIFIER_BASES:
            history = {"company": position.company.name, "end": position.end_date, "basis": m.basis}
            evidence = {**person.evidence, "strength": STRONG, "basis": "name_and_account_history",
                        "account_history": history}
            return PersonMatch(STRONG, "name_and_account_history", person.score, evidence)
    return None


def decide(
    contact: ContactRecord,
    account: AccountRecord | None,
    profile: Profile | None,
    *,
    today: date,
    config: MatchingConfig = DEFAULT,
) -> Verdict:
    """Decide whether ``contact`` still works at ``account``, from ``profile``. Pure and deterministic.

    Returns a ``Verdict`` whose ``evidence`` is a small JSON-serialisable dict: the inputs compared,
    the scores, and ``rule`` (the rule that decided).
    """
    evidence: dict[str, Any] = {"v": EVIDENCE_VERSION, "contact_id": contact.contact_id}
    if account is None:
        return _verdict("unknown.no_account", evidence)
    account_evidence: dict[str, Any] = {"id": account.account_id, "name": account.name}
    evidence["account"] = account_evidence
    if profile is None:
        return _verdict("unknown.no_profile", evidence)
    evidence["profile"] = {"id": profile.profile_id, "source": profile.source}

    person = match_person(contact, profile, config)
    evidence["person"] = person.evidence
    c_domain = email_domain(contact.email)
    email_vs_account: str | None = None
    if c_domain:
        a_domain = _site(account.website)
        email_vs_account = (
            "free_mail"
            if c_domain in config.free_mail_domains
            else "account"
            if a_domain and c_domain == a_domain
            else "other"
            if a_domain
            else "account_has_no_domain"
        )
        evidence["contact_email_domain"] = email_vs_account
    today_parts = (today.year, today.month, today.day)
    if person.basis == "name_and_email_domain" and not _shares_account_domain(contact, account, profile):
        # the shared e-mail domain must be the account's ("email domain vs account domain")
        weak_evidence = {**person.evidence, "strength": WEAK, "basis": "email_domain_not_account"}
        person = PersonMatch(WEAK, "email_domain_not_account", person.score, weak_evidence)
        evidence["person"] = weak_evidence
    if person.strength == WEAK and config.strong_name_with_account_history:
        person = _account_history_match(contact, account, profile, person, config, today_parts) or person
        evidence["person"] = person.evidence
    if person.strength != STRONG:
        if person.strength == "conflict":
            return _verdict("unknown.person_conflict", evidence)
        return _verdict("unknown.person_not_strong", evidence)

    # the current job is the primary one (never "end_date is null"); a primary job that has ended is none.
    # The other jobs (not primary) are compared with the account only where a rule needs them, below.
    primaries: list[Position] = []
    others: list[Position] = []
    for position in profile.positions:
        if not position.is_primary:
            others.append(position)
        elif position.end_date is None or not _ended(position.end_date, today_parts):
            primaries.append(position)
    if not primaries:
        return _verdict("unknown.no_current_position", evidence)
    current = primaries[0]
    current_match = match_employer(account, current.company, config)
    if len(primaries) > 1 and not all(
        match_employer(account, other.company, config).kind == current_match.kind == SAME
        for other in primaries
    ):
        # two "current" jobs at different companies: contradictory data
        evidence["current"] = [p.company.name for p in primaries]
        return _verdict("unknown.several_current_positions", evidence)
    account_evidence.update(current_match.account_keys)
    evidence["current"] = current_evidence = _position_summary(current, current_match)
    current_name = current.company.name

    # freshness: LEFT needs fresh data; STILL_THERE may use old data (config) since it flags nobody
    as_of, age = _profile_age(profile.last_verified, profile.last_changed, today)
    stale_rule: str | None = None
    if as_of is None:
        evidence["freshness"] = {"as_of": None, "max_age_days": config.max_profile_age_days}
        stale_rule = "unknown.profile_age_unknown"
    else:
        evidence["freshness"] = {"as_of": as_of, "age_days": age, "max_age_days": config.max_profile_age_days}
        if age > config.max_profile_age_days:
            stale_rule = "unknown.stale_profile"
    if stale_rule and not config.accept_stale_still_there and current_match.basis not in _PAGE_CHECKED:
        # stale data gives no verdict whatever the other jobs show: no need to compare them
        return _verdict(stale_rule, evidence, current_name)

    at_account: list[tuple[Position, EmployerMatch]] | None = None  # those at the account (employer "same")
    elsewhere: list[Position] = []

    # the account's own job on the profile names a LinkedIn page, and the current company names another:
    # similar names ("General Motors" / "General Mills") are then different companies
    current_kind = current_match.kind
    if current_match.basis in _PAGE_CHECKED and others and _page_key(current.company) is not None:
        at_account, elsewhere = _split_at_account(account, others, config)
        page = _page_conflict(current, at_account)
        if page is not None:
            # similar names: different companies; equal names on different pages: namesakes or regional
            # pages ("Merck" / "Merck", "Deloitte" / "Deloitte"), never proof either way
            current_kind = DIFFERENT if current_match.basis == "name_similar" else RELATED
            basis = "page_differs_from_account_position"
            current_evidence.update(kind=current_kind, basis=basis, account_page=page)

    if current_match.basis == "names_in_different_scripts" and others:
        # "ПАО «Северсталь»" in the CRM, "NLMK Group" on the profile: compare the current company with the
        # account as this profile names it (its job there, identified by LinkedIn page or domain)
        if at_account is None:
            at_account, elsewhere = _split_at_account(account, others, config)
        named = [p.company.name for p, m in at_account if m.basis in _IDENTIFIER_BASES and p.company.name]
        if named:
            kinds = {match_employer(replace(account, name=name), current.company, config).kind
                     for name in named}
            current_kind = SAME if SAME in kinds else RELATED if RELATED in kinds else (
                DIFFERENT if kinds == {DIFFERENT} else current_kind)
            current_evidence.update(kind=current_kind, basis="compared_with_account_as_profile_names_it",
                                    account_as_named=named[0])

    still_rule: str | None = None
    if current_kind == SAME:
        if at_account is None and _may_have_returned(others):
            at_account, elsewhere = _split_at_account(account, others, config)
        still_rule = (
            "still_there.returned_to_account"
            if at_account and _returned(at_account, elsewhere)
            else "still_there.current_employer_is_account"
        )
    elif any(
        _shares_identifier(p, current) and match_employer(account, p.company, config).kind == SAME
        for p in others
    ):
        # the current company is the same LinkedIn page / domain as a job at the account: a rebrand
        still_rule = "still_there.current_shares_identifier_with_account_position"
    if still_rule and (stale_rule is None or config.accept_stale_still_there):
        return _verdict(still_rule, evidence, current_name)
    if stale_rule:
        return _verdict(stale_rule, evidence, current_name)

    if current_kind == RELATED:
        if current_match.basis in GROUP_BASES and current_evidence.get("basis") == current_match.basis:
            evidence["group"] = current_match.evidence.get("group") or {"source": current_match.basis}
            return _verdict("unknown.current_employer_same_group", evidence, current_name)
        return _verdict("unknown.current_employer_related", evidence, current_name)
    if current_kind != DIFFERENT:
        return _verdict("unknown.current_employer_unknown", evidence, current_name)

    if at_account is None:
        at_account, elsewhere = _split_at_account(account, others, config)
    if not at_account:
        return _verdict("unknown.no_position_at_account", evidence, current_name)
    ended = [(p, m, parse_partial_date(p.end_date)) for p, m in at_account]
    open_positions = [(p, m) for p, m, end in ended if end is None]
    ended = [(p, m, end) for p, m, end in ended if end is not None]
    if open_positions:
        # a non-primary job at the account with no (or unreadable) end date: its dates are unknown,
        # so it is no evidence that the person left (it may even be a second, current job)
        evidence["account_position"] = _position_summary(*open_positions[0])
        return _verdict("unknown.account_position_not_ended", evidence, current_name)
    last, last_match, last_end = max(ended, key=lambda item: item[2])
    evidence["account_position"] = _position_summary(last, last_match)
    if _after(last_end, today_parts):
        return _verdict("unknown.account_position_ends_in_future", evidence, current_name)
    current_start = parse_partial_date(current.start_date)
    if current_start is not None and _after(last_end, current_start):
        return _verdict("unknown.positions_overlap", evidence, current_name)
    return _verdict("left.ended_at_account_now_elsewhere", evidence, current_name)
