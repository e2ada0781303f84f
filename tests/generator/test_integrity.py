"""Referential integrity: every lookup, annotation, mirrored connection and association is consistent."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from typing import Any

import pytest

from dataverse_emulator.generator import ENTITY_SETS, LOOKUP_SUFFIX, OrgSpec, SampleOrg, generate_org

from .conftest import materialise

POLYMORPHIC = ("_ownerid_value", "_parentcustomerid_value", "_customerid_value", "_record1id_value",
               "_record2id_value")
# Single-target lookups the generator fills -> the entity set they point into.
SINGLE_TARGET = {
    "_parentaccountid_value": "accounts", "_parentcontactid_value": "contacts",
    "_primarycontactid_value": "contacts", "_record1roleid_value": "connectionroles",
    "_record2roleid_value": "connectionroles", "_relatedconnectionid_value": "connections",
}
LOGICAL_TO_SET = {info.logical_name: name for name, info in ENTITY_SETS.items()}
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[45][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _ids(rows: dict[str, list[dict[str, Any]]]) -> dict[str, set[str]]:
    return {es: {r[ENTITY_SETS[es].primary_key] for r in es_rows} for es, es_rows in rows.items()}


def check_integrity(sample: SampleOrg, rows: dict[str, list[dict[str, Any]]]) -> None:
    ids = _ids(rows)
    all_ids = [i for es in ids.values() for i in es]
    assert len(all_ids) == len(set(all_ids)), "GUIDs must be unique across the org"
    for entity_set, es_rows in rows.items():
        assert len(es_rows) == sample.count(entity_set) == len(ids[entity_set])
        for row in es_rows:
            assert GUID.match(row[ENTITY_SETS[entity_set].primary_key])
            for name in POLYMORPHIC:
                if name not in row:
                    continue
                annotation = f"{name}{LOOKUP_SUFFIX}"
                if row[name] is None:
                    assert annotation not in row
                    continue
                assert row[name] in ids[LOGICAL_TO_SET[row[annotation]]], (entity_set, name, row)
            for name, target in SINGLE_TARGET.items():
                if row.get(name) is not None:
                    assert row[name] in ids[target], (entity_set, name)
            for key, value in row.items():
                assert isinstance(value, str | int | float | bool | type(None)), key
                if key.endswith(LOOKUP_SUFFIX):
                    assert row[key.removesuffix(LOOKUP_SUFFIX)] is not None


def test_small_org_is_consistent(small_org: SampleOrg, small_rows: dict) -> None:
    check_integrity(small_org, small_rows)


@pytest.mark.parametrize(
    "spec",
    [
        OrgSpec(contacts=0),
        OrgSpec(contacts=1),
        OrgSpec(contacts=2, seed=5),
        OrgSpec(contacts=300, accounts=0),
        OrgSpec(contacts=0, accounts=20, opportunities=15),
        OrgSpec(contacts=400, users=1, accounts=3, opportunities=100),
    ],
    ids=repr,
)
def test_edge_sizes_are_consistent(spec: OrgSpec) -> None:
    sample = generate_org(spec)
    check_integrity(sample, materialise(sample))


def test_every_polymorphic_lookup_is_annotated(small_rows: dict) -> None:
    contacts = small_rows["contacts"]
    assert all(f"_ownerid_value{LOOKUP_SUFFIX}" in r for r in contacts)
    assert {r[f"_ownerid_value{LOOKUP_SUFFIX}"] for r in small_rows["accounts"]} == {"systemuser", "team"}
    assert {r[f"_customerid_value{LOOKUP_SUFFIX}"] for r in small_rows["opportunities"]} == {
        "account", "contact"}
    with_account = [r for r in contacts if r["_parentcustomerid_value"]]
    assert all(r[f"_parentcustomerid_value{LOOKUP_SUFFIX}"] == "account" for r in with_account)


def test_connections_come_in_mirrored_pairs(small_rows: dict) -> None:
    by_id = {r["connectionid"]: r for r in small_rows["connections"]}
    assert by_id
    codes = {"opportunity": 3, "contact": 2}
    for row in by_id.values():
        mirror = by_id[row["_relatedconnectionid_value"]]
        assert mirror["_relatedconnectionid_value"] == row["connectionid"]
        assert mirror["ismaster"] is not row["ismaster"]
        assert (mirror["_record1id_value"], mirror["_record2id_value"]) == (
            row["_record2id_value"], row["_record1id_value"])
        assert (mirror["_record1roleid_value"], mirror["_record2roleid_value"]) == (
            row["_record2roleid_value"], row["_record1roleid_value"])
        assert mirror["statecode"] == row["statecode"]
        for n in (1, 2):
            kind = row[f"_record{n}id_value{LOOKUP_SUFFIX}"]
            assert row[f"record{n}objecttypecode"] == codes[kind]
    masters = [r for r in by_id.values() if r["ismaster"]]
    assert all(r[f"_record1id_value{LOOKUP_SUFFIX}"] == "opportunity" for r in masters)
    assert len(masters) * 2 == len(by_id)


def test_stakeholders_belong_to_the_deal(small_rows: dict) -> None:
    opps = {r["opportunityid"]: r for r in small_rows["opportunities"]}
    contacts = {r["contactid"]: r for r in small_rows["contacts"]}
    for row in small_rows["connections"]:
        if not row["ismaster"]:
            continue
        opp, contact = opps[row["_record1id_value"]], contacts[row["_record2id_value"]]
        assert contact["contactid"] == opp["_parentcontactid_value"] or (
            contact["_parentcustomerid_value"] == opp["_parentaccountid_value"])
    pairs = Counter((r["_record1id_value"], r["_record2id_value"]) for r in small_rows["connections"])
    assert max(pairs.values()) == 1, "a contact is a stakeholder of a deal at most once"


def test_opportunity_account_is_the_contacts_account(small_rows: dict) -> None:
    account_of = {r["contactid"]: r["_parentcustomerid_value"] for r in small_rows["contacts"]}
    for opp in small_rows["opportunities"]:
        assert opp["_parentaccountid_value"] == account_of[opp["_parentcontactid_value"]]
        assert opp["_customerid_value"] in (opp["_parentaccountid_value"], opp["_parentcontactid_value"])


def test_associations_reference_existing_rows(small_org: SampleOrg, small_rows: dict) -> None:
    ids = _ids(small_rows)
    sides = {"teammembership_association": ("systemusers", "teams"),
             "systemuserroles_association": ("systemusers", "roles"),
             "teamroles_association": ("teams", "roles")}
    associations = small_org.associations
    assert len(associations) == len(set(associations)), "no duplicate associations"
    assert {name for name, _, _ in associations} == set(sides)
    for name, a, b in associations:
        left, right = sides[name]
        assert a in ids[left], name
        assert b in ids[right], name
    assert list(associations) == list(small_org.associations)


def test_subsidiaries_point_to_top_level_parents(small_rows: dict) -> None:
    parent_of = {r["accountid"]: r["_parentaccountid_value"] for r in small_rows["accounts"]}
    children = [a for a, p in parent_of.items() if p]
    assert children
    assert all(parent_of[parent_of[c]] is None for c in children)


def test_guids_are_uuid4(small_rows: dict) -> None:
    for row in small_rows["contacts"][:50]:
        parsed = uuid.UUID(row["contactid"])
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def test_business_units_cover_every_reference(small_org: SampleOrg, small_rows: dict) -> None:
    units = small_org.business_units
    ids = {u["businessunitid"] for u in units}
    assert units[0]["_parentbusinessunitid_value"] is None
    assert all(u["_parentbusinessunitid_value"] == units[0]["businessunitid"] for u in units[1:])
    for entity_set in ("systemusers", "teams", "roles"):
        assert {r["_businessunitid_value"] for r in small_rows[entity_set]} <= ids
