"""Creates, updates (upsert and conditional), deletes and write validation."""

from __future__ import annotations

import requests

from dataverse_emulator import Emulator

MISSING = "00000000-0000-0000-0000-000000000001"


def test_create_returns_204_and_entity_id(emu: Emulator, http: requests.Session) -> None:
    account = emu.store.insert("accounts", {"name": "Contoso"})
    r = http.post(
        emu.api_url + "contacts",
        json={
            "firstname": "Ada",
            "lastname": "Lovelace",
            "parentcustomerid_account@odata.bind": f"/accounts({account})",
        },
    )
    assert r.status_code == 204
    assert r.content == b""
    entity_id = r.headers["OData-EntityId"]
    assert entity_id.startswith(f"{emu.api_url}contacts(")
    assert entity_id.endswith(")")
    record = entity_id[len(emu.api_url) + len("contacts(") : -1]
    row = emu.store.get("contacts", record)
    assert row["fullname"] == "Ada Lovelace"
    assert row["_parentcustomerid_value"] == account
    assert row["createdon"]
    assert row["modifiedon"]
    assert emu.counters.operations["create"] == 1


def test_create_with_return_representation(emu: Emulator, http: requests.Session) -> None:
    r = http.post(
        emu.api_url + "contacts?$select=lastname",
        json={"lastname": "Hopper"},
        headers={"Prefer": "return=representation"},
    )
    assert r.status_code == 201
    assert r.headers["Preference-Applied"] == "return=representation"
    body = r.json()
    assert body["lastname"] == "Hopper"
    assert body["contactid"]
    assert body["@odata.etag"].startswith('W/"')


def test_patch_upserts_unless_if_match_star(emu: Emulator, http: requests.Session) -> None:
    r = http.patch(
        emu.api_url + f"contacts({MISSING})", json={"lastname": "Created"}, headers={"If-Match": "*"}
    )
    assert r.status_code == 404
    assert r.json() == {
        "error": {"code": "0x80040217", "message": f"contact With Id = {MISSING} Does Not Exist"}
    }
    assert emu.store.get("contacts", MISSING) is None

    r = http.patch(emu.api_url + f"contacts({MISSING})", json={"lastname": "Created"})
    assert r.status_code == 204
    assert emu.store.get("contacts", MISSING)["lastname"] == "Created"
    assert emu.counters.operations == {"create": 1}

    r = http.patch(
        emu.api_url + f"contacts({MISSING})", json={"lastname": "Updated"}, headers={"If-Match": "*"}
    )
    assert r.status_code == 204
    assert emu.store.get("contacts", MISSING)["lastname"] == "Updated"
    assert emu.counters.operations == {"create": 1, "update": 1}


def test_if_none_match_star_prevents_update(emu: Emulator, http: requests.Session) -> None:
    record = emu.store.insert("contacts", {"lastname": "Kept"})
    r = http.patch(
        emu.api_url + f"contacts({record})", json={"lastname": "Changed"}, headers={"If-None-Match": "*"}
    )
    assert r.status_code == 412
    assert r.json()["error"]["message"] == "A record with matching key values already exists."
    assert emu.store.get("contacts", record)["lastname"] == "Kept"


def test_stale_etag_gives_412(emu: Emulator, http: requests.Session) -> None:
    record = emu.store.insert("contacts", {"lastname": "V1"})
    etag = http.get(emu.api_url + f"contacts({record})?$select=lastname").json()["@odata.etag"]
    emu.store.update("contacts", record, {"lastname": "V2"})
    r = http.patch(emu.api_url + f"contacts({record})", json={"lastname": "V3"}, headers={"If-Match": etag})
    assert r.status_code == 412
    assert r.json()["error"]["message"] == (
        "The version of the existing record doesn't match the RowVersion property provided."
    )
    fresh = http.get(emu.api_url + f"contacts({record})?$select=lastname").json()["@odata.etag"]
    assert (
        http.patch(
            emu.api_url + f"contacts({record})", json={"lastname": "V3"}, headers={"If-Match": fresh}
        ).status_code
        == 204
    )
    assert http.delete(emu.api_url + f"contacts({record})", headers={"If-Match": etag}).status_code == 412


def test_patch_return_representation_and_delete(emu: Emulator, http: requests.Session) -> None:
    record = emu.store.insert("contacts", {"lastname": "Old"})
    r = http.patch(
        emu.api_url + f"contacts({record})?$select=lastname",
        json={"lastname": "New"},
        headers={"Prefer": "return=representation", "If-Match": "*"},
    )
    assert r.status_code == 200
    assert r.json()["lastname"] == "New"
    assert http.delete(emu.api_url + f"contacts({record})").status_code == 204
    assert emu.store.get("contacts", record) is None
    r = http.delete(emu.api_url + f"contacts({record})")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "0x80040217"
    assert emu.counters.operations == {"update": 1, "delete": 1}


def test_validation_errors(emu: Emulator, http: requests.Session) -> None:
    r = http.post(emu.api_url + "contacts", json={"nosuch": 1})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "0x80060888"
    assert r.json()["error"]["message"].startswith(
        "The property 'nosuch' does not exist on type 'Microsoft.Dynamics.CRM.contact'."
    )

    r = http.post(emu.api_url + "contacts", json={"firstname": "x" * 51})
    assert r.status_code == 400
    assert r.json()["error"] == {
        "code": "0x80044331",
        "message": "A validation error occurred. The length of the 'firstname' attribute of the "
        "'contact' entity exceeded the maximum allowed length of '50'.",
    }

    r = http.post(emu.api_url + "contacts", json={"msdyn_orgchangestatus": 42})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "0x8004431a"

    r = http.post(emu.api_url + "contacts", json={"_parentcustomerid_value": MISSING})
    assert r.status_code == 400

    r = http.post(
        emu.api_url + "contacts", json={"parentcustomerid_account@odata.bind": f"/accounts({MISSING})"}
    )
    assert r.status_code == 404
    assert r.json()["error"]["message"] == f"account With Id = {MISSING} Does Not Exist"

    r = http.post(emu.api_url + "contacts", data=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert emu.store.count("contacts") == 0
    assert sum(emu.counters.operations.values()) == 0


def test_bind_and_unbind_lookup_on_update(emu: Emulator, http: requests.Session) -> None:
    account = emu.store.insert("accounts", {"name": "A"})
    other = emu.store.insert("contacts", {"lastname": "Parent"})
    record = emu.store.insert("contacts", {"lastname": "Child"})
    assert (
        http.patch(
            emu.api_url + f"contacts({record})",
            json={"parentcustomerid_account@odata.bind": f"accounts({account})"},
        ).status_code
        == 204
    )
    assert emu.store.get("contacts", record)["_parentcustomerid_value"] == account
    assert (
        http.patch(
            emu.api_url + f"contacts({record})",
            json={"parentcustomerid_contact@odata.bind": f"{emu.api_url}contacts({other})"},
        ).status_code
        == 204
    )
    row = emu.store.get("contacts", record)
    assert row["_parentcustomerid_value"] == other
    assert row["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "contact"


def test_parallel_writes_are_consistent(emu: Emulator) -> None:
    from concurrent.futures import ThreadPoolExecutor

    ids = [emu.store.insert("contacts", {"lastname": f"L{i}"}) for i in range(40)]

    def write(record: str) -> int:
        with requests.Session() as session:
            session.headers["Authorization"] = "Bearer t"
            return session.patch(
                emu.api_url + f"contacts({record})", json={"jobtitle": "P"}, timeout=10
            ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(write, ids)) == {204}
    versions = [emu.store.get("contacts", i)["versionnumber"] for i in ids]
    assert len(set(versions)) == len(ids)
    assert emu.counters.operations == {"update": 40}


def test_associate_and_disassociate_with_ref(emu: Emulator, http: requests.Session) -> None:
    user = emu.store.insert("systemusers", {"fullname": "U"})
    team = emu.store.insert("teams", {"name": "T"})
    r = http.post(
        emu.api_url + f"teams({team})/teammembership_association/$ref",
        json={"@odata.id": f"{emu.api_url}systemusers({user})"},
    )
    assert r.status_code == 204
    names = http.get(emu.api_url + f"systemusers({user})/teammembership_association?$select=name").json()[
        "value"
    ]
    assert [n["name"] for n in names] == ["T"]
    r = http.delete(emu.api_url + f"systemusers({user})/teammembership_association({team})/$ref")
    assert r.status_code == 204
    assert http.get(emu.api_url + f"systemusers({user})/teammembership_association").json()["value"] == []
