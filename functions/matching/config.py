"""Thresholds and tables of the verdict engine. Every number here is configuration, with a default.

Scores are rapidfuzz scores, 0-100. Names are compared after ``normalise_company_name`` /
person-name normalisation, never raw.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from .groups import validate_groups


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: E-mail domains that say nothing about an employer.
FREE_MAIL_DOMAINS: frozenset[str] = _words(
    "gmail.com googlemail.com outlook.com hotmail.com hotmail.de hotmail.co.uk live.com live.de "
    "msn.com yahoo.com yahoo.de yahoo.co.uk ymail.com icloud.com me.com mac.com aol.com aol.de gmx.de "
    "gmx.net gmx.at gmx.ch gmx.com web.de t-online.de freenet.de posteo.de mailbox.org protonmail.com "
    "proton.me pm.me zoho.com yandex.ru yandex.com mail.ru qq.com 163.com 126.com orange.fr "
    "wanadoo.fr free.fr laposte.net libero.it btinternet.com comcast.net bluewin.ch arcor.de "
    "online.de"
)

#: Web hosts that carry many companies' pages: a company "website" that is a page there (a path, or a
#: sub-domain such as sites.google.com) says nothing about the company. The bare domain stays the
#: owner's ("google.com" is Google).
PLATFORM_DOMAINS: frozenset[str] = _words(
    "linkedin.com facebook.com twitter.com x.com instagram.com xing.com youtube.com github.com "
    "medium.com wikipedia.org crunchbase.com google.com goo.gl g.page business.site yelp.com "
    "tripadvisor.com bing.com apple.com linktr.ee about.me wix.com jimdo.com weebly.com wordpress.com "
    "blogspot.com squarespace.com tiktok.com pinterest.com bit.ly tinyurl.com gelbeseiten.de "
    "dasoertliche.de kununu.com glassdoor.com indeed.com northdata.de northdata.com"
)

ACRONYM_POLICIES = ("same", "related")


@dataclass(frozen=True, eq=False)
class MatchingConfig:
    """Thresholds of the matcher. Frozen; hashed by identity so that results can be cached per config.

    Build one per run (``MatchingConfig.from_mapping(settings)``) and pass it to every call.
    """

    # --- employer names -------------------------------------------------------------------
    #: best of token_sort_ratio / no-space ratio at or above which two names are the same company
    #: (only when neither name's tokens are a strict subset of the other's).
    employer_same_score: float = 90.0
    #: best score at or below which names "clearly differ"; between the two is ``related``.
    employer_different_score: float = 60.0
    #: what an acronym equality means ("IBM" / "International Business Machines"), when the short
    #: side is written in capitals: "same" (default, see docs/matching.md) or "related".
    acronym_policy: str = "same"
    #: shortest no-space name that may be called ``same`` by a fuzzy score (shorter: equality only).
    employer_fuzzy_min_length: int = 5
    #: typos: names whose no-space forms are at most this fraction of edits apart (Levenshtein, at
    #: least one edit allowed) are ``same`` ("Munray LLC" / "Murray LLC"); 0 turns the rule off.
    employer_typo_max_fraction: float = 0.15
    #: shortest no-space name the typo rule applies to.
    employer_typo_min_length: int = 6

    # --- people -----------------------------------------------------------------------------
    #: a given name or surname "agrees" at or above this ratio (typos, transliterations).
    person_name_score: float = 88.0
    #: a profile whose source likelihood (1-10) is below this is never a strong match.
    min_match_likelihood: int = 6
    #: count "exactly the same name + another address at the contact's (non-free-mail) e-mail domain,
    #: which is the account's domain" as a strong match (ethomas@ / thomas.emily@microsoft.com). Off:
    #: only the profile URL or the e-mail address itself identifies (no namesake at the same company).
    strong_name_with_email_domain: bool = True
    #: count "exactly the same full name + an ended job at the account, identified by its LinkedIn page or
    #: registrable web domain (never by name alone) + source likelihood >= history_min_likelihood + no
    #: e-mail or profile-URL conflict" as a strong match: finds movers whose CRM e-mail is an old one
    #: the profile does not list (docs/matching.md, "Strong-match policy").
    strong_name_with_account_history: bool = True
    #: the source likelihood (1-10) the account-history match needs; a profile without one never qualifies.
    history_min_likelihood: int = 8

    # --- freshness ---------------------------------------------------------------------------
    #: LEFT needs the profile's last_verified / last_changed (the newer) within this many days. Vendors
    #: refresh monthly to quarterly; a year is four quarterly cycles (docs/matching.md, "Freshness").
    max_profile_age_days: int = 365
    #: accept STILL_THERE from a profile older than max_profile_age_days. Off: stale data gives no
    #: verdict at all (product.md §4); on: old data may still say "still there" (it never flags anyone).
    accept_stale_still_there: bool = False

    # --- tables -------------------------------------------------------------------------------
    #: alias table: a company name -> other names of the *same* company (rebrands, brands, tickers).
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: affiliate table: a company name -> parents / subsidiaries / sister companies (``related``).
    affiliates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: extra e-mail domains that never identify an employer (added to FREE_MAIL_DOMAINS).
    extra_free_mail_domains: tuple[str, ...] = ()
    #: the admin's own corporate groups (same schema as the shipped table, see groups.py), looked up
    #: before the shipped ones; JSON objects or ``CorporateGroup``.
    corporate_groups: tuple[Any, ...] = ()
    #: use the corporate-group table shipped with the product.
    builtin_corporate_groups: bool = True

    def __post_init__(self) -> None:
        def check(cond: bool, name: str, why: str) -> None:
            if not cond:
                raise ValueError(f"MatchingConfig.{name}: {why}")

        check(
            0 <= self.employer_different_score < self.employer_same_score <= 100,
            "employer_same_score",
            "need 0 <= employer_different_score < employer_same_score <= 100",
        )
        check(0 < self.person_name_score <= 100, "person_name_score", "must be in (0, 100]")
        check(self.acronym_policy in ACRONYM_POLICIES, "acronym_policy", f"one of {ACRONYM_POLICIES}")
        check(self.max_profile_age_days > 0, "max_profile_age_days", "must be > 0")
        check(0 <= self.min_match_likelihood <= 10, "min_match_likelihood", "must be in 0..10")
        check(self.employer_fuzzy_min_length >= 1, "employer_fuzzy_min_length", "must be >= 1")
        check(0 <= self.employer_typo_max_fraction < 0.5, "employer_typo_max_fraction", "must be in [0, 0.5)")
        check(self.employer_typo_min_length >= 2, "employer_typo_min_length", "must be >= 2")
        check(1 <= self.history_min_likelihood <= 10, "history_min_likelihood", "must be in 1..10")
        try:
            groups = validate_groups(self.corporate_groups, "corporate_groups")
        except ValueError as exc:
            raise ValueError(f"MatchingConfig.corporate_groups: {exc}") from None
        object.__setattr__(self, "corporate_groups", groups)
        for table in ("aliases", "affiliates"):
            value = getattr(self, table)
            check(isinstance(value, Mapping), table, "must be a mapping name -> list of names")
            frozen = {}
            for key, others in value.items():
                check(isinstance(key, str), table, "keys must be strings")
                others = (others,) if isinstance(others, str) else tuple(others)
                check(all(isinstance(o, str) for o in others), table, "values must be lists of strings")
                frozen[key] = others
            object.__setattr__(self, table, MappingProxyType(frozen))
        object.__setattr__(
            self, "extra_free_mail_domains", tuple(d.strip().lower() for d in self.extra_free_mail_domains)
        )
        object.__setattr__(self, "_free_mail", FREE_MAIL_DOMAINS | frozenset(self.extra_free_mail_domains))

    @property
    def free_mail_domains(self) -> frozenset[str]:
        return self._free_mail  # type: ignore[attr-defined]

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> MatchingConfig:
        """Build from settings (JSON). Unknown keys raise ``ValueError`` naming the key."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"MatchingConfig: unknown setting(s) {', '.join(unknown)}")
        kwargs = dict(values)
        for name in ("extra_free_mail_domains", "corporate_groups"):
            if name in kwargs:
                kwargs[name] = tuple(kwargs[name])
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable settings (the inverse of ``from_mapping``)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Mapping):
                value = {k: list(v) for k, v in value.items()}
            elif f.name == "corporate_groups":
                value = [g.model_dump(mode="json", exclude_none=True) for g in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out


DEFAULT = MatchingConfig()
