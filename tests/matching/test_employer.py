"""match_employer: identifiers first, aliases, affiliates, then names with the subset guard (pure)."""

from __future__ import annotations

import json

import pytest

from functions.matching import AccountRecord, Company, MatchingConfig, match_employer

#: the name rules on their own: the shipped corporate-group table has its own tests (test_groups.py)
CONFIG = MatchingConfig(builtin_corporate_groups=False)


def kind(
    account: str | AccountRecord, company: str | Company, config: MatchingConfig = CONFIG
) -> tuple[str, str]:
    acc = account if isinstance(account, AccountRecord) else AccountRecord("a", name=account)
    comp = company if isinstance(company, Company) else Company(name=company)
    m = match_employer(acc, comp, config)
    return m.kind, m.basis


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("Acme Corp", "ACME Corporation", ("same", "name_equal")),
        ("Müller GmbH", "Mueller AG", ("same", "name_equal")),
        ("Müller GmbH", "Muller", ("same", "name_equal")),
        ("Straße Bau GmbH", "Strasse Bau", ("same", "name_equal")),
        ("Société Générale S.A.", "Societe Generale", ("same", "name_equal")),
        ("Volkswagen AG", "Volkswagen Aktiengesellschaft", ("same", "name_equal")),
        ("Wal-Mart Inc", "Walmart", ("same", "name_equal")),
        ("Coca-Cola Company", "The Coca-Cola Company", ("same", "name_equal")),
        ("Ltd", "Ltd.", ("same", "name_equal")),
        ("KPMG International", "KPMG", ("same", "name_equal_but_generic_words")),
        ("Volkswagon", "Volkswagen", ("same", "name_typo")),
        ("Group Quitzon", "Quitzon Group", ("same", "name_fuzzy")),
    ],
)
def test_same_company_by_name(a: str, b: str, expected: tuple[str, str]) -> None:
    assert kind(a, b) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Bank", "Bank of America"),
        ("Bank of America", "Bank"),
        ("Apple", "Apple Bank for Savings"),
        ("Johnson & Johnson", "Johnson Controls"),  # token_set_ratio says 100
        ("Siemens AG", "Siemens Healthineers AG"),
        ("Meta", "Meta Platforms"),
    ],
)
def test_subset_names_are_related_never_same(a: str, b: str) -> None:
    assert kind(a, b) == ("related", "name_subset")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Delta Air Lines", "Delta Dental"),
        ("General Motors", "General Mills"),
        ("Deutsche Bank AG", "Deutsche Bahn AG"),  # one short word apart: no typo rule, no fuzzy same
        ("Sony", "Sonos"),
    ],
)
def test_look_alikes_are_never_same(a: str, b: str) -> None:
    assert kind(a, b)[0] in ("related", "different")


def test_clearly_different_names() -> None:
    assert kind("Acme Widgets GmbH", "Globex Corporation") == ("different", "names_differ")
    assert kind("Meta Platforms Inc", "Facebook Inc") == (
        "different",
        "names_differ",
    )  # rebrand: needs ids/aliases


def test_acronym_is_same_by_default_and_related_by_policy() -> None:
    assert kind("International Business Machines", "IBM") == ("same", "acronym")
    assert kind("Bayerische Motoren Werke AG", "BMW AG") == ("same", "acronym")
    assert kind("Procter & Gamble", "P&G") == ("same", "acronym")
    cautious = MatchingConfig(acronym_policy="related", builtin_corporate_groups=False)
    assert kind("International Business Machines", "IBM", cautious) == ("related", "acronym")


def test_possible_abbreviations_are_related_not_different() -> None:
    assert kind("Volkswagen", "VW") == ("related", "possible_abbreviation")
    assert kind("PricewaterhouseCoopers", "PwC") == ("related", "possible_abbreviation")
    assert kind("BNP Paribas", "BP")[0] == "related"


def test_linkedin_id_and_slug_beat_names() -> None:
    account = AccountRecord("a", name="Facebook", linkedin_url="https://www.linkedin.com/company/10667/")
    assert kind(account, Company(name="Meta", linkedin_id="10667")) == ("same", "linkedin_id")
    account = AccountRecord("a", name="Facebook", linkedin_url="linkedin.com/company/meta")
    assert kind(account, Company(name="Meta", linkedin_url="https://de.linkedin.com/company/Meta/")) == (
        "same",
        "linkedin_slug",
    )


def test_domain_equality_is_same_whatever_the_names() -> None:
    account = AccountRecord("a", name="Acme Widgets Ltd", website="acme-widgets.co.uk")
    company = Company(name="Widgetworks", website="http://shop.acme-widgets.co.uk/about")
    assert kind(account, company) == ("same", "domain")


def test_platform_websites_are_no_evidence() -> None:
    account = AccountRecord("a", name="Acme", website="https://www.facebook.com/acme")
    company = Company(name="Globex", website="https://facebook.com/globex")
    assert kind(account, company) == ("different", "names_differ")


def test_identifier_conflict_counts_only_when_both_sides_have_one() -> None:
    account = AccountRecord("a", name="Acme", linkedin_url="linkedin.com/company/111")
    # equal names but different company pages: related (regional page? namesake?), never same
    assert kind(account, Company(name="Acme", linkedin_id="222")) == (
        "related",
        "name_equal_identifier_conflict",
    )
    # similar names and different pages: different
    assert kind(
        AccountRecord("a", name="General Motors", linkedin_url="linkedin.com/company/111"),
        Company(name="General Mills", linkedin_id="222"),
    ) == ("different", "identifier_conflict")
    # only one side has an id: names decide
    assert kind(AccountRecord("a", name="Acme"), Company(name="Acme", linkedin_id="222")) == (
        "same",
        "name_equal",
    )
    # a subset name stays related even with conflicting ids
    assert (
        kind(
            AccountRecord("a", name="Siemens", linkedin_url="linkedin.com/company/1"),
            Company(name="Siemens Energy", linkedin_id="2"),
        )[0]
        == "related"
    )


def test_different_domains_do_not_override_equal_names() -> None:
    account = AccountRecord("a", name="Acme GmbH", website="acme.de")
    assert kind(account, Company(name="ACME", website="acme.com")) == ("same", "name_equal")


def test_aliases_from_the_profile_source_and_the_account() -> None:
    account = AccountRecord("a", name="Facebook Inc")
    assert kind(account, Company(name="Meta Platforms", aliases=("Facebook",))) == ("same", "alias")
    account = AccountRecord("a", name="Meta Platforms", aliases=("Facebook",))
    assert kind(account, Company(name="Facebook, Inc.")) == ("same", "alias")
    assert kind("Alphabet Inc. (Google)", "Google LLC") == ("same", "alias")


def test_alias_table() -> None:
    config = MatchingConfig(aliases={"Meta Platforms": ("Facebook", "FB")}, builtin_corporate_groups=False)
    assert kind("Facebook Inc.", "Meta Platforms, Inc.", config) == ("same", "alias_table")
    assert kind("Meta", "Facebook", config)[0] == "different"  # "Meta" alone is not in the table
    assert kind("Facebook Inc.", "Meta Platforms, Inc.") == ("different", "names_differ")  # default: no table


def test_affiliates_are_related() -> None:
    account = AccountRecord("a", name="Volkswagen AG")
    assert kind(account, Company(name="Audi AG", parent_name="Volkswagen AG")) == ("related", "affiliate")
    account = AccountRecord("a", name="Audi AG", parent_account_name="Volkswagen AG")
    assert kind(account, Company(name="Volkswagen")) == ("related", "affiliate")
    account = AccountRecord("a", name="Audi AG", parent_account_name="Volkswagen AG")
    assert kind(account, Company(name="Porsche AG", parent_name="Volkswagen AG")) == ("related", "affiliate")
    config = MatchingConfig(affiliates={"Deutsche Telekom": ("T-Systems", "T-Mobile US")},
                            builtin_corporate_groups=False)
    assert kind("Deutsche Telekom AG", "T-Systems International GmbH", config) == (
        "related",
        "affiliate_table",
    )


def test_unknown_when_a_side_has_no_data() -> None:
    assert kind("Acme", Company()) == ("unknown", "no_company_data")
    assert kind(AccountRecord("a"), Company(name="Acme")) == ("unknown", "no_account_data")
    assert kind(AccountRecord("a", website="acme.com"), Company(name="Acme")) == ("unknown", "no_name")
    assert kind("Acme", Company(name="  ")) == ("unknown", "no_company_data")


def test_unreadable_names_are_not_proof_of_difference() -> None:
    assert kind("Towne LLC", "Tw\x85\x85e LLC")[0] in ("same", "related")


def test_evidence_is_small_and_json_serialisable() -> None:
    account = AccountRecord("a", name="Acme Widgets GmbH", website="https://www.acme-widgets.de")
    m = match_employer(account, Company(name="Globex Corp", website="globex.com"), CONFIG)
    text = json.dumps(m.evidence)
    assert len(text) < 600
    assert m.evidence["basis"] == m.basis == "names_differ"
    assert m.evidence["account"]["domain"] == "acme-widgets.de"
    assert m.evidence["company"]["norm"] == "globex"
    assert "token_sort" in m.evidence


def test_results_are_cached_and_deterministic() -> None:
    account = AccountRecord("a", name="Acme")
    first = match_employer(account, Company(name="ACME Inc."), CONFIG)
    second = match_employer(AccountRecord("a", name="Acme"), Company(name="ACME Inc."), CONFIG)
    assert first == second


def test_names_in_different_scripts_cannot_be_told_apart() -> None:
    assert kind("삼성전자", "Samsung Electronics") == ("unknown", "names_in_different_scripts")
    assert kind("Газпром", "Gazprom") == ("same", "name_equal")  # the transliteration is the name
    assert kind("华为", "小米")[0] != "same"


def test_equal_names_are_same_whatever_parent_the_source_names() -> None:
    company = Company(name="Volkswagen AG", parent_name="Volkswagen AG")
    assert kind("Volkswagen Aktiengesellschaft", company) == ("same", "name_equal")


def test_a_platform_is_a_company_too() -> None:
    account = AccountRecord("gh", name="GitHub, Inc.", website="https://github.com/")
    assert kind(account, Company(name="Microsoft", website="github.com")) == ("same", "domain")


# --- typos compared word by word (docs/matching.md, step 6b) -------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Emard Inc", "Emard Hnc"),  # a mistyped legal form, where the other name has one
        ("Mayer Ltd", "Mayer LtZ"),
        ("Mitchell Inc", "Mitzhell 6nc"),  # ... and a typo in the name
        ("Terry and Sons", "Temry aUd Sons"),  # a mistyped "and"
        ("Terry and Sons", "Terry an-d Sons"),  # "and" split by a hyphen
        ("Hettinger and Sons", "Hettinger a\x84d Sons"),  # encoding debris in "and"
        ("Sauer, Harris and Littel", "Swzer, Harris and Limtel"),  # one word equal, the rest mistyped
        ("Becker and Sons", "Becker and Sonh"),
        ("Legros-Pouros", "Segro\x83-Podros"),  # one edit in each of two words
        ("Witting, Kuhic and Watsica", "Witking, Kxhic and Watdica"),
        ("Parker, Marvin and Sauer", "Parker, Marvin and1Sa\x85er"),  # two words written together
        ("Conn LLC", "C\x86nn LLC"),  # an unreadable letter costs nothing, even in a short name
    ],
)
def test_typos_word_by_word_are_same(a: str, b: str) -> None:
    assert kind(a, b) == ("same", "name_typo_by_word")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("First Data", "First Date"),  # a shared common word is no anchor; short words must be equal
        ("Samsung SDS", "Samsung SDI"),  # a word in capitals is an acronym: no typo allowed
        ("Bayer AG", "Bauer AG"),  # one short word, one letter apart: no anchor
        ("Sony Music", "Sonos Music"),  # "sony" / "sonos": more than one edit in a short word
        ("Siemens AG", "Siemens Energy AG"),  # every distinctive word needs a partner
        ("Deloitte", "Deloitte Consulting GmbH"),
        ("Alpha Bank", "Alphabet Inc."),
        ("Henkel AG & Co. KGaA", "Henkell Freixenet"),
        ("Pacific Life", "Pacific Lite"),  # only common words
        ("Hansa Medical", "Hansa Media"),  # a different descriptive word: two lines of business
        ("Krüger Media Ltd.", "Krüger Medical Inc."),
    ],
)
def test_word_typo_rule_guards(a: str, b: str) -> None:
    assert kind(a, b)[0] != "same"


def test_word_typo_rule_is_off_with_the_typo_rule() -> None:
    off = MatchingConfig(employer_typo_max_fraction=0, builtin_corporate_groups=False)
    assert kind("Emard Inc", "Emard Hnc", off)[0] != "same"
    assert kind("Sauer, Harris and Littel", "Swzer, Harris and Limtel", off)[0] != "same"
