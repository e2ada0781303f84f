"""Run the FetchXML that provisioning stored in each view against seeded rows.

The queries are read back from the org (``savedquery.fetchxml``, not the spec in memory) and sent
as ``GET <entity set>?fetchXml=<url-encoded>``, the way a grid runs a view. The emulator evaluates
``eq-userid`` as the calling user, i.e. the user ``WhoAmI`` returns; that user owns some rows and
another user owns others.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest

from dataverse_emulator import Emulator
from dataverse_emulator.store import Store
from functions.dataverse import build_client
from functions.dataverse.client import DataverseClient
from functions.dataverse.column import ColumnBinding
from functions.dataverse.views import view_id
from tests.provisioning.helpers import config_for, run_provisioning

ENTITY_SETS = {"contact": "contacts", "opportunity": "opportunities"}
CONNECTION_ROLES = "connectionroles"


@dataclass
class Seeded:
    """Seeded row ids by a readable key; ``me`` is the calling user, ``other`` another owner."""

    me: str
    other: str
    contacts: dict[str, str] = field(default_factory=dict)
    opportunities: dict[str, str] = field(default_factory=dict)


def connect(store: Store, opportunity: str, contact: str, role: str, *, active: bool = True) -> None:
    """A connection as Dataverse stores it (and the sample generator makes it): the row created
    from the opportunity (record1 = opportunity, record2 = the contact in ``role``) and its mirror
    with the sides swapped, each pointing at the other."""
    master, mirror = str(uuid.uuid4()), str(uuid.uuid4())
    common = {"statecode": 0 if active else 1, "statuscode": 1 if active else 2}
    store.insert(
        "connections",
        {
            "connectionid": master,
            "_record1id_value": opportunity,
            "_record2id_value": contact,
            "_record1roleid_value": None,
            "_record2roleid_value": role,
            "record1objecttypecode": 3,
            "record2objecttypecode": 2,
            "_relatedconnectionid_value": mirror,
            "ismaster": True,
            **common,
        },
    )
    store.insert(
        "connections",
        {
            "connectionid": mirror,
            "_record1id_value": contact,
            "_record2id_value": opportunity,
            "_record1roleid_value": role,
            "_record2roleid_value": None,
            "record1objecttypecode": 2,
            "record2objecttypecode": 3,
            "_relatedconnectionid_value": master,
            "ismaster": False,
            **common,
        },
    )


def role_id(client: DataverseClient, name: str, category: int) -> str:
    rows = client.get_json(
        CONNECTION_ROLES, params={"$select": "connectionroleid,category", "$filter": f"name eq '{name}'"}
    )["value"]
    assert [row["category"] for row in rows] == [category], f"out-of-box role {name}"
    return rows[0]["connectionroleid"]


def seed(emu: Emulator, client: DataverseClient, binding: ColumnBinding) -> Seeded:
    store = emu.store
    flag = binding.logical_name
    me = client.call_function("WhoAmI")["UserId"]
    other = store.insert("systemusers", {"fullname": "Other Seller", "isdisabled": False})
    org = Seeded(me=me, other=other)
    stakeholder = role_id(client, "Stakeholder", 1000)
    champion = role_id(client, "Champion", 1000)
    colleague = role_id(client, "Colleague", 1)

    def contact(key: str, value: int | None, owner: str, *, active: bool = True) -> str:
        row = {"fullname": key, flag: value, "_ownerid_value": owner, "statecode": 0 if active else 1}
        org.contacts[key] = store.insert("contacts", row)
        return org.contacts[key]

    left = binding.not_at_company
    anna = contact("Anna Left Mine", left, me)
    bert = contact("Bert Left Theirs", left, other)
    contact("Carl Left Inactive", left, me, active=False)
    contact("Dora No Feedback", binding.no_feedback, me)
    contact("Emil Ignore", binding.ignore, me)
    contact("Fritz Unset", None, me)
    gina = contact("Gina Left Stakeholder", left, other)
    hans = contact("Hans Here", binding.no_feedback, me)

    def opportunity(key: str, parent: str | None, owner: str, close: str, *, state: int = 0) -> str:
        row = {
            "name": key,
            "_parentcontactid_value": parent,
            "_ownerid_value": owner,
            "estimatedclosedate": close,
            "statecode": state,
        }
        org.opportunities[key] = store.insert("opportunities", row)
        return org.opportunities[key]

    # Shown: a flagged parent contact, or an active stakeholder connection to a flagged contact.
    opportunity("parent left, theirs", bert, other, "2026-02-01")
    opportunity("parent left, mine", anna, me, "2026-03-01")
    connect(store, opportunity("stakeholder left, theirs", hans, other, "2026-03-02"), gina, stakeholder)
    both = opportunity("parent and stakeholder left, mine", bert, me, "2026-03-03")
    connect(store, both, gina, champion)
    connect(store, both, anna, stakeholder)
    connect(store, opportunity("stakeholder left, mine", None, me, "2026-03-04"), gina, stakeholder)
    # Not shown.
    won = opportunity("won, parent left", anna, me, "2026-01-15", state=1)
    connect(store, won, gina, stakeholder)
    opportunity("lost, parent left", bert, other, "2026-01-16", state=2)
    connect(
        store, opportunity("inactive connection", hans, me, "2026-04-01"), gina, stakeholder, active=False
    )
    connect(store, opportunity("colleague role", hans, me, "2026-04-02"), gina, colleague)
    connect(store, opportunity("stakeholder still here", hans, me, "2026-04-03"), hans, stakeholder)
    opportunity("no contact at all", None, me, "2026-04-05")
    return org


def run_view(
    client: DataverseClient, emu: Emulator, key: str, solution: str = "DataValidation"
) -> list[dict]:
    """Read the stored view back from the org and run its FetchXML like a grid does."""
    view = client.get_json(
        f"savedqueries({view_id(solution, key)})", params={"$select": "fetchxml,returnedtypecode"}
    )
    entity_set = ENTITY_SETS[view["returnedtypecode"]]
    return client.get_json(f"{entity_set}?fetchXml={quote(view['fetchxml'], safe='')}")["value"]


EXPECTED_CONTACTS = {
    "contacts_all": ["Anna Left Mine", "Bert Left Theirs", "Gina Left Stakeholder"],
    "contacts_mine": ["Anna Left Mine"],
}
EXPECTED_OPPORTUNITIES = {  # sorted by estimated close date
    "opportunities_all": [
        "parent left, theirs",
        "parent left, mine",
        "stakeholder left, theirs",
        "parent and stakeholder left, mine",
        "stakeholder left, mine",
    ],
    "opportunities_mine": [
        "parent left, mine",
        "parent and stakeholder left, mine",
        "stakeholder left, mine",
    ],
}


@pytest.mark.parametrize("target_column", ["own", "msdyn_orgchangestatus"])
def test_each_stored_view_returns_exactly_the_expected_rows(
    emulator_factory: Callable[..., Emulator], target_column: str
) -> None:
    emu = emulator_factory(None, with_msdyn_orgchangestatus=target_column != "own")
    report = run_provisioning(emu, target_column=target_column)
    assert report.binding is not None

    with build_client(config_for(emu)) as client:
        org = seed(emu, client, report.binding)
        results = {key: run_view(client, emu, key) for key in (*EXPECTED_CONTACTS, *EXPECTED_OPPORTUNITIES)}

    for key, names in EXPECTED_CONTACTS.items():
        rows = results[key]
        assert [row["fullname"] for row in rows] == names, key
        assert [row["contactid"] for row in rows] == [org.contacts[name] for name in names]
        # Every column of the layout came back (the supporting columns exist and are selectable).
        assert {
            "fullname",
            "_parentcustomerid_value",
            "dval_currentemployer",
            "dval_validatedon",
            "emailaddress1",
            "telephone1",
            "_ownerid_value",
        } <= set(rows[0])
    for key, names in EXPECTED_OPPORTUNITIES.items():
        rows = results[key]
        assert [row["name"] for row in rows] == names, key
        assert [row["opportunityid"] for row in rows] == [org.opportunities[name] for name in names]
        assert {
            "name",
            "_parentcontactid_value",
            "_customerid_value",
            "estimatedvalue",
            "estimatedclosedate",
            "_ownerid_value",
        } <= set(rows[0])
    mine = [*results["contacts_mine"], *results["opportunities_mine"]]
    assert {row["_ownerid_value"] for row in mine} == {org.me}
