"""Realistic content: sizes and ratios in range, the hard cases the matching engine needs, ground truth."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from dataverse_emulator.generator import LOOKUP_SUFFIX, SampleOrg

pytestmark = pytest.mark.slow  # one 20,000-contact org (a few seconds)


def _share(rows: list[dict[str, Any]], predicate) -> float:
    return sum(1 for r in rows if predicate(r)) / len(rows)


def test_sizes_follow_the_contacts(big_org: SampleOrg, big_rows: dict) -> None:
    assert len(big_rows["contacts"]) == 20_000
    assert len(big_rows["accounts"]) == 2_500
    assert len(big_rows["opportunities"]) == 2_000
    assert len(big_rows["systemusers"]) == 200 + 4
    assert 1.0 <= len(big_rows["connections"]) / 2 / len(big_rows["opportunities"]) <= 1.3
    open_opps = sum(1 for r in big_rows["opportunities"] if r["statecode"] == 0)
    open_pairs = big_org.count("connections") / 2
    assert open_pairs / open_opps >= 1.2  # ~1.5 on open deals, fewer on closed ones


def test_contact_ratios(big_rows: dict) -> None:
    contacts = big_rows["contacts"]
    assert 0.02 <= _share(contacts, lambda r: r["_parentcustomerid_value"] is None) <= 0.04
    assert 0.04 <= _share(contacts, lambda r: r["statecode"] == 1) <= 0.06
    assert all(r["statuscode"] == (2 if r["statecode"] else 1) for r in contacts)
    assert 0.04 <= _share(contacts, lambda r: r["emailaddress1"] is None) <= 0.12
    assert 0.03 <= _share(contacts, lambda r: r["middlename"]) <= 0.15
    team_owned = _share(contacts, lambda r: r[f"_ownerid_value{LOOKUP_SUFFIX}"] == "team")
    assert 0.02 <= team_owned <= 0.15


def test_opportunity_states(big_rows: dict) -> None:
    opps = big_rows["opportunities"]
    assert 0.55 <= _share(opps, lambda r: r["statecode"] == 0) <= 0.65
    status_for_state = {0: {1, 2}, 1: {3}, 2: {4, 5}}
    for r in opps:
        assert r["statuscode"] in status_for_state[r["statecode"]]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["estimatedclosedate"])
        assert 0 <= r["closeprobability"] <= 100
        assert r["estimatedvalue"] > 0
    assert {r["closeprobability"] for r in opps if r["statecode"] == 1} == {100}


def test_names_cover_the_hard_cases(big_rows: dict) -> None:
    contacts = big_rows["contacts"]
    last = {r["lastname"] for r in contacts}
    first = {r["firstname"] for r in contacts}
    assert {"Müller", "Groß", "Schäfer", "O'Brien", "D'Angelo"} <= last
    assert {"Jürgen", "Bob", "Robert"} <= first
    assert any("-" in name for name in last), "hyphenated surnames"
    assert any(re.search(r"[\u4e00-\u9fff]", r["fullname"]) for r in contacts), "CJK names"
    assert any(r["lastname"].isupper() and len(r["lastname"]) > 3 for r in contacts), "ALL CAPS"
    assert any(r["firstname"] and r["firstname"] != r["firstname"].strip() for r in contacts), "whitespace"
    assert any(r["firstname"] is None for r in contacts), "surname only"
    for r in contacts:
        assert r["fullname"] == r["fullname"].strip()
        assert r["lastname"]


def test_emails_mostly_at_the_account_domain(big_rows: dict) -> None:
    contacts = big_rows["contacts"]
    emails = [r["emailaddress1"] for r in contacts if r["emailaddress1"]]
    assert all(re.fullmatch(r"[a-z0-9.]+@[a-z0-9.-]+\.[a-z]{2,}", e) for e in emails), "ASCII addresses"
    personal = sum(1 for e in emails if e.split("@")[1] in {"gmail.com", "web.de", "gmx.de", "outlook.com",
                                                           "yahoo.co.uk", "hotmail.com", "t-online.de"})
    assert 0.05 <= personal / len(emails) <= 0.15
    assert any(e.endswith("@web.de") for e in emails)
    assert any(e.endswith("@gmail.com") for e in emails)


def test_accounts_cover_the_hard_cases(big_rows: dict) -> None:
    accounts = big_rows["accounts"]
    names = [r["name"] for r in accounts]
    for legal in ("GmbH", "AG", "KG", "Ltd", "Inc", "LLC", "S.A.", "B.V."):
        assert any(n.endswith(" " + legal) or f" {legal} " in n for n in names), legal
    assert any(n.startswith("The ") for n in names)
    assert any(re.search("[äöüß]", n) for n in names)
    assert any(n.isupper() for n in names)
    sites = [r["websiteurl"] for r in accounts]
    assert any(s is None for s in sites)
    assert any(s and s.startswith("https://www.") for s in sites)
    assert any(s and s.startswith("http://") and s.count("/") > 2 for s in sites)
    assert any(s and "://" not in s for s in sites)
    assert any(s and s.endswith(".co.uk") for s in sites)
    assert 0.01 <= _share(accounts, lambda r: r["statecode"] == 1) <= 0.06
    assert 0.02 <= _share(accounts, lambda r: r["_parentaccountid_value"]) <= 0.08
    assert all(isinstance(r["industrycode"], int) and 1 <= r["industrycode"] <= 33 for r in accounts)
    assert {r["address1_country"] for r in accounts} >= {"Germany", "Deutschland", "United Kingdom"}


def test_account_domains_are_unique_per_company(big_rows: dict) -> None:
    stems = Counter()
    for r in big_rows["accounts"]:
        if r["websiteurl"] and not r["_parentaccountid_value"]:
            host = re.sub(r"^(https?://)?(www\.)?", "", r["websiteurl"]).split("/")[0]
            stems[host] += 1
    assert stems
    assert max(stems.values()) == 1


def test_users_teams_roles(big_rows: dict) -> None:
    users = big_rows["systemusers"]
    apps = [u for u in users if u["applicationid"]]
    assert len(apps) == 2
    assert all(u["accessmode"] == 4 for u in apps)
    assert {"SYSTEM", "INTEGRATION"} <= {u["fullname"] for u in users}
    humans = [u for u in users if u["azureactivedirectoryobjectid"] and not u["applicationid"]]
    assert all(u["accessmode"] == 0 and u["domainname"] == u["internalemailaddress"] for u in humans)
    assert any(u["isdisabled"] for u in humans)
    assert _share(humans, lambda u: u["isdisabled"]) < 0.1
    assert len({u["domainname"] for u in humans}) == len(humans)
    assert {"Sales DACH", "Sales UK", "Key Accounts"} <= {t["name"] for t in big_rows["teams"]}
    assert all(t["teamtype"] == 0 for t in big_rows["teams"])
    assert {r["name"] for r in big_rows["roles"]} == {"Salesperson", "Sales Manager", "System Administrator"}
    disabled = {u["systemuserid"] for u in users if u["isdisabled"] or not u["azureactivedirectoryobjectid"]}
    for entity_set in ("accounts", "contacts", "opportunities"):
        assert not any(r["_ownerid_value"] in disabled for r in big_rows[entity_set]), entity_set


def test_connection_roles(big_rows: dict) -> None:
    roles = {r["name"]: r for r in big_rows["connectionroles"]}
    stakeholder = {"Stakeholder", "Champion", "Decision Maker", "Economic Buyer", "Influencer",
                   "Technical Buyer", "End User"}
    assert stakeholder <= set(roles)
    assert all(roles[n]["category"] == 1000 for n in stakeholder)
    assert roles["Former Employee"]["category"] == 1
    assert roles["Partner"]["category"] == 4
    used = {r["_record2roleid_value"] for r in big_rows["connections"] if r["ismaster"]}
    assert used <= {roles[n]["connectionroleid"] for n in stakeholder}
    assert 0.03 <= _share(big_rows["connections"], lambda r: r["statecode"] == 1) <= 0.15


def test_ground_truth(big_org: SampleOrg, big_rows: dict) -> None:
    truths = list(big_org.truths())
    kinds = Counter(t.kind for t in truths)
    assert set(kinds) == {"stayed", "moved", "rebrand", "subsidiary", "no_account"}
    movers = list(big_org.movers())
    assert movers == [t for t in truths if t.moved]
    assert all(t.kind == "moved" for t in movers)
    assert 0.06 <= len(movers) / len(truths) <= 0.10
    accounts = {r["accountid"]: r for r in big_rows["accounts"]}
    contacts = {r["contactid"]: r for r in big_rows["contacts"]}
    for t in truths:
        row = contacts[t.contact_id]
        assert t.account_id == row["_parentcustomerid_value"]
        if t.kind == "no_account":
            assert t.employer_name is None
            assert not t.moved
            continue
        assert t.employer_name
        assert t.employer_domain
        assert "." in t.employer_domain
        if t.kind == "stayed":
            assert t.employer_name == accounts[t.account_id]["name"]
        if t.moved:
            assert t.employer_name != accounts[t.account_id]["name"]
            if t.new_account_id:
                new, old = accounts[t.new_account_id], accounts[t.account_id]
                assert new["accountid"] != old["accountid"]
                assert new["accountid"] not in (old["_parentaccountid_value"],)
                assert old["accountid"] != new["_parentaccountid_value"]
    assert any(t.new_account_id for t in movers)
    assert any(not t.new_account_id for t in movers)


def test_mover_rate_is_configurable() -> None:
    from dataverse_emulator.generator import OrgSpec, generate_org

    assert not any(generate_org(OrgSpec(contacts=500, mover_rate=0)).movers())
    everyone = generate_org(OrgSpec(contacts=500, mover_rate=1))
    assert all(t.moved or t.kind == "no_account" for t in everyone.truths())


LIMITS = {  # max lengths of the Dataverse columns (as in the emulator's catalog)
    "contacts": {"firstname": 50, "lastname": 50, "middlename": 50, "fullname": 160, "jobtitle": 100,
                 "emailaddress1": 100, "telephone1": 50, "mobilephone": 50, "address1_country": 80},
    "accounts": {"name": 160, "websiteurl": 200, "telephone1": 50, "emailaddress1": 100},
    "opportunities": {"name": 300},
    "systemusers": {"fullname": 200, "internalemailaddress": 100},
}


def test_strings_fit_dataverse_column_lengths(big_rows: dict) -> None:
    for entity_set, limits in LIMITS.items():
        for row in big_rows[entity_set]:
            for column, limit in limits.items():
                assert row[column] is None or len(row[column]) <= limit, (entity_set, column, row[column])
