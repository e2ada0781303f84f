"""Same spec -> byte-identical rows; re-iterating and random access agree with iteration."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from dataverse_emulator.generator import OrgSpec, SampleOrg, generate_org

from .conftest import materialise


def _dump(rows: dict[str, list[dict[str, Any]]], associations: tuple) -> bytes:
    return json.dumps([rows, list(associations)], ensure_ascii=False).encode()


def test_two_generations_are_byte_identical() -> None:
    a, b = generate_org(OrgSpec(contacts=1500, seed=11)), generate_org(OrgSpec(contacts=1500, seed=11))
    assert _dump(materialise(a), a.associations) == _dump(materialise(b), b.associations)
    assert list(a.truths()) == list(b.truths())


def test_reiterating_yields_the_same_rows(small_org: SampleOrg, small_rows: dict) -> None:
    first = small_org.rows("contacts")
    second = small_org.rows("contacts")
    assert first is not second
    assert list(second) == small_rows["contacts"]
    assert _dump(materialise(small_org), ()) == _dump(small_rows, ())


def test_other_seed_gives_other_data() -> None:
    a, b = generate_org(OrgSpec(contacts=200, seed=1)), generate_org(OrgSpec(contacts=200, seed=2))
    assert [r["contactid"] for r in a.rows("contacts")] != [r["contactid"] for r in b.rows("contacts")]
    assert [r["name"] for r in a.rows("accounts")] != [r["name"] for r in b.rows("accounts")]


def test_oob_connection_roles_are_the_same_in_every_org() -> None:
    a, b = generate_org(OrgSpec(contacts=10, seed=1)), generate_org(OrgSpec(contacts=10, seed=99))
    assert list(a.rows("connectionroles")) == list(b.rows("connectionroles"))
    # Same ids as the emulator's own OOB roles (schema.stable_id("connectionrole", name)).
    stakeholder = next(r for r in a.rows("connectionroles") if r["name"] == "Stakeholder")
    expected = uuid.uuid5(uuid.NAMESPACE_URL, "dataverse-emulator:connectionrole:Stakeholder")
    assert stakeholder["connectionroleid"] == str(expected)


@pytest.mark.parametrize("entity_set", ["accounts", "contacts", "opportunities", "connections", "teams"])
def test_get_and_index_of_match_iteration(small_org: SampleOrg, small_rows: dict, entity_set: str) -> None:
    key = small_org.primary_key(entity_set)
    rows = small_rows[entity_set]
    for row in rows[:: max(1, len(rows) // 25)] + rows[-1:]:
        assert small_org.get(entity_set, row[key]) == row


def test_unknown_ids_are_not_found(small_org: SampleOrg, small_rows: dict) -> None:
    contact_id = small_rows["contacts"][0]["contactid"]
    assert small_org.index_of("accounts", contact_id) is None
    assert small_org.get("contacts", "00000000-0000-4000-8000-000000000000") is None
    assert small_org.index_of("contacts", "not-a-guid") is None
    with pytest.raises(KeyError):
        small_org.truth(small_rows["accounts"][0]["accountid"])
    with pytest.raises(KeyError):
        small_org.rows("leads")


def test_truth_lookup_matches_truths(small_org: SampleOrg) -> None:
    truths = list(small_org.truths())
    for truth in truths[::97]:
        assert small_org.truth(truth.contact_id) == truth
    assert [t.contact_id for t in truths] == [r["contactid"] for r in small_org.rows("contacts")]
