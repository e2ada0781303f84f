"""The corporate-group table shipped with the product, and how the engine uses group facts."""

from __future__ import annotations

import json
from collections import defaultdict
from importlib import resources

import pytest

from functions.matching import AccountRecord, Company, MatchingConfig, match_employer
from functions.matching.config import DEFAULT, FREE_MAIL_DOMAINS
from functions.matching.domains import registrable_domain
from functions.matching.groups import BUILTIN_FILE, CorporateGroup, builtin_groups, name_keys
from functions.matching.normalise import company_keys

MIN_GROUPS = 300
#: (group name, company, former name) facts the scenario set relies on (build_scenarios.TABLE_RENAMES,
#: build_scan_scenarios' guaranteed entries)
REQUIRED_RENAMES = [
    ("Meta Platforms, Inc.", "Facebook, Inc."),
    ("Mercedes-Benz Group AG", "Daimler AG"),
    ("TotalEnergies SE", "Total S.A."),
    ("X Corp.", "Twitter, Inc."),
    ("Block, Inc.", "Square, Inc."),
    ("Accenture", "Andersen Consulting"),
    ("Allianz Trade", "Euler Hermes"),
    ("Oracle Health", "Cerner Corporation"),
    ("Shell plc", "Royal Dutch Shell plc"),
]
REQUIRED_MEMBERS = {
    "Alphabet Inc.": ["Google", "YouTube", "DeepMind", "Waymo"],
    "Meta Platforms, Inc.": ["Instagram", "WhatsApp"],
    "Microsoft": ["LinkedIn", "GitHub", "Nuance Communications", "Activision Blizzard"],
    "Volkswagen AG": ["Audi", "Porsche AG", "Scania", "MAN Truck & Bus", "Traton"],
    "Robert Bosch GmbH": ["BSH Hausgeräte", "Bosch Rexroth"],
    "LVMH": ["Louis Vuitton", "Sephora", "Tiffany & Co."],
    "Siemens AG": ["Siemens Healthineers"],
}


@pytest.fixture(scope="module")
def groups() -> tuple[CorporateGroup, ...]:
    return builtin_groups()


def _by_name(groups: tuple[CorporateGroup, ...], name: str) -> CorporateGroup:
    found = [g for g in groups if g.name == name]
    assert found, f"group {name!r} is not in the shipped table"
    return found[0]


def test_the_shipped_table_is_large_valid_and_sourced(groups) -> None:
    assert len(groups) >= MIN_GROUPS
    assert len({g.id for g in groups}) == len(groups)
    assert all(g.source and g.source.startswith("https://") for g in groups), "every group names its source"
    assert sum(len(g.members) for g in groups) >= 5 * MIN_GROUPS
    raw = json.loads(resources.files("functions.matching").joinpath("data", BUILTIN_FILE).read_text("utf-8"))
    assert [g["id"] for g in raw] == sorted(g["id"] for g in raw), "kept sorted by id for reviewable diffs"


def test_no_company_and_no_domain_is_in_two_groups(groups) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    domains: dict[str, set[str]] = defaultdict(set)
    for g in groups:
        names = [g.name, *(m.name for m in g.members), *(r.name for r in g.former_names)]
        for name in names:
            keys = company_keys(name)
            if keys is not None:
                for key in name_keys(keys):
                    owners[key].add(g.id)
        for domain in (*g.domains, *(d for m in g.members for d in m.domains)):
            domains[registrable_domain(domain) or domain].add(g.id)
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}
    assert {k: v for k, v in domains.items() if len(v) > 1} == {}
    # a free-mail domain identifies no employer, except on the company that runs it (Zoho's own site)
    assert set(domains) & FREE_MAIL_DOMAINS <= {"zoho.com"}


@pytest.mark.parametrize(("group", "former"), REQUIRED_RENAMES)
def test_renames_the_scenarios_rely_on_are_listed(groups, group: str, former: str) -> None:
    formers = {r.name: r.now for g in groups for r in g.former_names}
    assert formers.get(former) == group


@pytest.mark.parametrize(("group", "members"), REQUIRED_MEMBERS.items())
def test_members_the_scenarios_rely_on_are_listed(groups, group: str, members: list[str]) -> None:
    names = {m.name for m in _by_name(groups, group).members}
    assert set(members) <= names


# --------------------------------------------------------------------------------------------- engine
def match(account: str, company: str, config: MatchingConfig = DEFAULT, **company_fields):
    return match_employer(AccountRecord("a", name=account), Company(name=company, **company_fields), config)


def test_a_former_name_is_the_same_company() -> None:
    m = match("Facebook, Inc.", "Meta Platforms, Inc.")
    assert (m.kind, m.basis) == ("same", "corporate_group_rename")
    assert m.evidence["group"]["source"] == "corporate_groups"
    assert m.evidence["group"]["facts"][0].startswith("https://")
    assert match("Daimler AG", "Mercedes-Benz Group AG").kind == "same"


def test_two_companies_of_one_group_are_related_never_different() -> None:
    for account, company in [("Google LLC", "YouTube"), ("Instagram", "Meta Platforms"),
                             ("AUDI AG", "Scania CV AB"), ("Robert Bosch GmbH", "BSH Hausgeräte GmbH"),
                             ("Sephora", "Louis Vuitton")]:
        m = match(account, company)
        assert (m.kind, m.basis) == ("related", "corporate_group"), (account, company, m.basis)


def test_a_company_of_the_group_with_a_country_suffix_is_related() -> None:
    m = match("DHL Express Germany GmbH", "Deutsche Post AG")
    assert (m.kind, m.basis) == ("related", "corporate_group")


def test_a_group_wide_domain_relates_but_never_makes_the_same_company() -> None:
    # both reach "Alphabet Inc." only through group domains (abc.xyz, google.com): one group, and no
    # proof that they are one company
    m = match_employer(AccountRecord("a", name="ABC Beteiligungen GmbH", website="https://abc.xyz/"),
                       Company(name="Google Cloud EMEA Ltd", website="https://cloud.google.com/"))
    assert (m.kind, m.basis) == ("related", "corporate_group")


def test_the_admins_groups_come_first_and_the_shipped_table_can_be_turned_off() -> None:
    mine = {"id": "nordwind", "name": "Halvorsen Holding ASA", "source": "https://intranet.example/groups",
            "members": [{"name": "Nordwind Logistik GmbH"}]}
    config = MatchingConfig(corporate_groups=[mine])
    m = match("Nordwind Logistik GmbH", "Halvorsen Holding ASA", config)
    assert (m.kind, m.evidence["group"]["source"]) == ("related", "settings")
    assert match("Nordwind Logistik GmbH", "Halvorsen Holding ASA").kind == "different"
    off = MatchingConfig(builtin_corporate_groups=False)
    assert match("Google LLC", "YouTube", off).kind == "different"


def test_names_sharing_a_brand_word_are_related_not_different() -> None:
    assert match("Delta Air Lines", "Delta Dental Plans Association").basis == "shared_brand_word"
    assert match("Deutsche Bank AG", "Deutsche Telekom AG").kind == "different"  # "Deutsche" names no brand
    assert match("Société Générale", "Compagnie Générale des Établissements Michelin").kind == "different"


@pytest.mark.parametrize("bad", [
    {"id": "x", "name": "X", "former_names": [{"name": "Y", "now": "Z"}]},  # now names no company
    {"id": "X!", "name": "X"},
    {"id": "x", "name": "X", "domains": ["not a domain"]},
    {"id": "x", "name": "X", "source": "http://insecure.example"},
    {"id": "x", "name": "X\u0007"},
    {"id": "x", "name": "X", "surprise": 1},
])
def test_bad_groups_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError, match="corporate_groups"):
        MatchingConfig(corporate_groups=[bad])


def test_other_names_of_a_renamed_company_feed_the_look_up() -> None:
    from functions.matching.employer import other_names

    assert "Mercedes-Benz Group AG" in other_names("Daimler AG")
    assert "Daimler AG" in other_names("Mercedes-Benz Group AG")
    assert other_names("Acme Widgets GmbH") == ()
    assert other_names(None) == ()
    assert other_names("Daimler AG", MatchingConfig(builtin_corporate_groups=False)) == ()
