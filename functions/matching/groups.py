"""Corporate groups: which companies belong to one group, and which names are a company's former names.

A move between two companies of one group (subsidiary -> parent, sister companies) is never LEFT; a
former name is the same company (a rebrand). The facts come from the table shipped with the product
(``data/corporate_groups.json``, each group with the public page its facts come from) and from the
admin's own groups in the settings document (``MatchingConfig.corporate_groups``). Both are indexed
once by the engine's own company-name keys and registrable domains, so a look-up costs a few set
operations. Pure: the shipped file is package data, read on first use, never fetched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_validator,
)

from .domains import registrable_domain
from .normalise import COMMON_WORDS, NameKeys, company_keys

__all__ = [
    "BUILTIN_FILE",
    "CorporateGroup",
    "GroupMember",
    "GroupTable",
    "Rename",
    "builtin_groups",
    "group_table",
    "name_keys",
    "validate_groups",
]

BUILTIN_FILE = "corporate_groups.json"

def _plain_text(value: str) -> str:
    # names end up in evidence, logs and the settings table: no control characters, no lone surrogates
    if any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F or 0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise ValueError("must be plain text (no control characters or unpaired surrogates)")
    return value


_Text = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                  AfterValidator(_plain_text)]
_Domain = Annotated[
    StrictStr,
    StringConstraints(strip_whitespace=True, to_lower=True, min_length=3, max_length=253,
                      pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$"),
]
_Url = Annotated[StrictStr, StringConstraints(strip_whitespace=True, max_length=500,
                                               pattern=r"^https://\S+$"), AfterValidator(_plain_text)]
_Id = Annotated[StrictStr, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$")]
# not strict: JSON arrays arrive as lists for the tuple fields; strings and the year stay typed
_STRICT = ConfigDict(extra="forbid", frozen=True)


class GroupMember(BaseModel):
    """A subsidiary or division that people name as their employer."""

    model_config = _STRICT
    name: _Text = Field(description="The company's name as people write it as their employer.")
    domains: tuple[_Domain, ...] = Field(default=(), max_length=20,
                                         description="Registrable web domains of the company.")
    source: _Url | None = Field(default=None, description="Public page this fact comes from (https), "
                                "when not the group's source.")


class Rename(BaseModel):
    """A former name of the group's parent or of one member: the same company under another name."""

    model_config = _STRICT
    name: _Text = Field(description="The former name.")
    now: _Text = Field(description="The current name: the group's name or one member's name, exactly.")
    year: StrictInt | None = Field(default=None, ge=1800, le=2100, description="Year of the rename.")
    source: _Url | None = Field(default=None, description="Public page this fact comes from (https).")


class CorporateGroup(BaseModel):
    """One corporate group: its parent, the companies it controls, their domains and former names."""

    model_config = _STRICT
    id: _Id = Field(description="Unique id: lower-case letters, digits and hyphens.")
    name: _Text = Field(description="The parent company's name.")
    source: _Url | None = Field(default=None, description="Public page the group's facts come from "
                                "(https; required in the shipped table).")
    domains: tuple[_Domain, ...] = Field(default=(), max_length=20,
                                         description="Registrable web domains of the parent.")
    members: tuple[GroupMember, ...] = Field(default=(), max_length=100, description="Subsidiaries and "
                                             "divisions people name as their employer.")
    former_names: tuple[Rename, ...] = Field(default=(), max_length=50, description="Former names of the "
                                             "parent or a member (the same company).")

    @model_validator(mode="after")
    def _renames_name_a_company(self) -> CorporateGroup:
        names = {self.name, *(m.name for m in self.members)}
        for rename in self.former_names:
            if rename.now not in names:
                raise ValueError(f"former_names: 'now' must be the group's name or a member's name "
                                 f"(group {self.id})")
        return self

    def domains_of(self, company: str) -> tuple[str, ...]:
        if company == self.name:
            return self.domains
        return next((m.domains for m in self.members if m.name == company), ())


@dataclass(frozen=True, slots=True)
class GroupHit:
    """What a company matched in a table: the group (index) and the member or rename it matched."""

    group: int
    company: str  # the group's or the member's current name
    via: str  # "name", "former_name", "domain" or "name_prefix" (the last two relate, never make "same")


def name_keys(keys: NameKeys) -> frozenset[str]:
    """The forms of a name looked up in the tables: spellings, no-space forms, without generic words."""
    return keys.variants | keys.nospace | {keys.core}


class GroupTable:
    """An index over corporate groups by name key and registrable domain."""

    def __init__(self, groups: Sequence[CorporateGroup], origin: str) -> None:
        self.groups = tuple(groups)
        self.origin = origin  # "corporate_groups" (shipped) or "settings" (the admin's)
        self._by_key: dict[str, set[GroupHit]] = {}
        self._by_domain: dict[str, set[GroupHit]] = {}
        for index, group in enumerate(self.groups):
            companies = [(group.name, group.domains), *((m.name, m.domains) for m in group.members)]
            for company, domains in companies:
                self._add_name(company, GroupHit(index, company, "name"))
                for domain in domains:
                    found = registrable_domain(domain)
                    if found:
                        self._by_domain.setdefault(found, set()).add(GroupHit(index, company, "domain"))
            for rename in group.former_names:
                self._add_name(rename.name, GroupHit(index, rename.now, "former_name"))

    def _add_name(self, name: str, hit: GroupHit) -> None:
        keys = company_keys(name)
        if keys is None:
            return
        for key in name_keys(keys):
            # a form that lost its distinctive words ("T-Systems" without "systems" is "t") names nothing
            if key in keys.variants or len(key.replace(" ", "")) >= 3:
                self._by_key.setdefault(key, set()).add(hit)

    def __len__(self) -> int:
        return len(self.groups)

    def hits(self, names: Iterable[NameKeys | None], domain: str | None) -> frozenset[GroupHit]:
        """Every group entry a company with these name keys and this registrable domain matches."""
        found: set[GroupHit] = set()
        for keys in names:
            if keys is None:
                continue
            for key in name_keys(keys):
                found |= self._by_key.get(key, set())
            # "DHL Express Germany GmbH", "Siemens Healthineers Deutschland": a company of the group
            # followed by a country, region or unit. Such a prefix relates, it never makes the same company.
            for k in range(len(keys.tokens) - 1, 0, -1):
                head = keys.tokens[:k]
                prefix = " ".join(head)
                if len(prefix) >= 3 and not COMMON_WORDS.issuperset(head) and prefix in self._by_key:
                    found |= {GroupHit(h.group, h.company, "name_prefix") for h in self._by_key[prefix]}
        if domain:
            found |= self._by_domain.get(domain, set())
        return frozenset(found)

    def names_of_company(self, name: str | None) -> tuple[str, ...]:
        """The other names (current and former) of the company ``name`` is, by name or former name."""
        keys = company_keys(name)
        if keys is None:
            return ()
        hits = {h for h in self.hits((keys,), None) if h.via in ("name", "former_name")}
        out: list[str] = []
        for hit in sorted(hits, key=lambda h: (h.group, h.company)):
            group = self.groups[hit.group]
            out.append(hit.company)
            out.extend(r.name for r in group.former_names if r.now == hit.company)
        return tuple(n for n in dict.fromkeys(out) if n != name)

    def evidence(self, hit: GroupHit, other: GroupHit) -> dict[str, Any]:
        group = self.groups[hit.group]
        member = next((m for m in group.members if m.name in (hit.company, other.company) and m.source),
                      None)
        rename = next((r for r in group.former_names
                       if r.now in (hit.company, other.company) and r.source), None)
        facts = [s for s in (group.source, member.source if member else None,
                             rename.source if rename else None) if s]
        return {"source": self.origin, "group": group.name, "group_id": group.id,
                "companies": sorted({hit.company, other.company}), **({"facts": facts} if facts else {})}


def _validated(raw: Any, where: str) -> list[CorporateGroup]:
    if not isinstance(raw, list):
        raise ValueError(f"{where}: expected a JSON array of groups")
    groups = [CorporateGroup.model_validate(item) for item in raw]
    ids = [g.id for g in groups]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{where}: group ids must be unique")
    return groups


@lru_cache(maxsize=1)
def builtin_groups() -> tuple[CorporateGroup, ...]:
    """The table shipped with the product (validated; read once per process)."""
    text = resources.files(__package__).joinpath("data", BUILTIN_FILE).read_text(encoding="utf-8")
    return tuple(_validated(json.loads(text), BUILTIN_FILE))


@lru_cache(maxsize=1)
def _builtin_table() -> GroupTable:
    return GroupTable(builtin_groups(), "corporate_groups")


def validate_groups(
    raw: Iterable[Mapping[str, Any] | CorporateGroup], where: str
) -> tuple[CorporateGroup, ...]:
    """Groups from JSON (or already validated); raises ``ValueError`` naming ``where`` when invalid."""
    return tuple(_validated([g.model_dump() if isinstance(g, CorporateGroup) else g for g in raw], where))


@lru_cache(maxsize=64)
def _admin_table(groups: tuple[CorporateGroup, ...]) -> GroupTable:
    return GroupTable(groups, "settings")


def group_table(builtin: bool, admin_groups: tuple[CorporateGroup, ...]) -> tuple[GroupTable, ...]:
    """The tables a config uses: the admin's groups first (their evidence names the settings), then the
    shipped table unless turned off."""
    tables = []
    if admin_groups:
        tables.append(_admin_table(admin_groups))
    if builtin:
        tables.append(_builtin_table())
    return tuple(tables)


def clear_caches() -> None:
    _admin_table.cache_clear()
