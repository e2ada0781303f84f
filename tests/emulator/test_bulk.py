"""UpdateMultiple / CreateMultiple: the documented request, atomicity, per-table support."""

from __future__ import annotations

import requests

from dataverse_emulator import Emulator, Fault

UPDATE_MULTIPLE = "contacts/Microsoft.Dynamics.CRM.UpdateMultiple"


def target(record: str, **values: object) -> dict:
    return {"@odata.type": "Microsoft.Dynamics.CRM.contact", "contactid": record, **values}


def test_update_multiple_updates_every_target(emu: Emulator, http: requests.Session) -> None:
    ids = [emu.store.insert("contacts", {"lastname": f"L{i}"}) for i in range(3)]
    r = http.post(
        emu.api_url + UPDATE_MULTIPLE,
        json={"Targets": [target(i, msdyn_orgchangestatus=1) for i in ids]},
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 204
    assert r.content == b""
    assert all(emu.store.get("contacts", i)["msdyn_orgchangestatus"] == 1 for i in ids)
    assert emu.counters.requests == {"action": 1}
    assert emu.counters.operations == {"update": 3}


def test_update_multiple_is_atomic(emu: Emulator, http: requests.Session) -> None:
    ids = [emu.store.insert("contacts", {"lastname": f"L{i}"}) for i in range(3)]
    targets = [
        target(ids[0], lastname="ok"),
        target(ids[1], msdyn_orgchangestatus=99),
        target(ids[2], lastname="ok"),
    ]
    r = http.post(emu.api_url + UPDATE_MULTIPLE, json={"Targets": targets})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "0x8004431a"
    assert [emu.store.get("contacts", i)["lastname"] for i in ids] == ["L0", "L1", "L2"]
    assert sum(emu.counters.operations.values()) == 0

    missing = "00000000-0000-0000-0000-0000000000aa"
    r = http.post(
        emu.api_url + UPDATE_MULTIPLE, json={"Targets": [target(ids[0], lastname="x"), target(missing)]}
    )
    assert r.status_code == 404
    assert emu.store.get("contacts", ids[0])["lastname"] == "L0"

    emu.faults.add(Fault("fail_record", record_id=ids[2]))
    r = http.post(emu.api_url + UPDATE_MULTIPLE, json={"Targets": [target(i, lastname="x") for i in ids]})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "0x80040265"
    assert emu.store.get("contacts", ids[0])["lastname"] == "L0"


def test_targets_need_odata_type(emu: Emulator, http: requests.Session) -> None:
    record = emu.store.insert("contacts", {"lastname": "L"})
    r = http.post(emu.api_url + UPDATE_MULTIPLE, json={"Targets": [{"contactid": record, "lastname": "x"}]})
    assert r.status_code == 400


def test_unsupported_table_and_org_without_bulk(
    emu_factory_no_bulk: Emulator, http: requests.Session
) -> None:
    emu = emu_factory_no_bulk
    record = emu.store.insert("contacts", {"lastname": "L"})
    r = http.post(emu.api_url + UPDATE_MULTIPLE, json={"Targets": [target(record, lastname="x")]})
    assert r.status_code == 400
    assert "does not support entities of type 'contact'" in r.json()["error"]["message"]
    r = http.get(
        emu.api_url + "sdkmessagefilters",
        params={"$filter": "sdkmessageid/name eq 'UpdateMultiple' and primaryobjecttypecode eq 'contact'"},
    )
    assert r.json()["value"] == []


def test_account_is_not_a_bulk_table_by_default(emu: Emulator, http: requests.Session) -> None:
    account = emu.store.insert("accounts", {"name": "A"})
    r = http.post(
        emu.api_url + "accounts/Microsoft.Dynamics.CRM.UpdateMultiple",
        json={
            "Targets": [{"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": account, "name": "B"}]
        },
    )
    assert r.status_code == 400


def test_create_multiple_returns_ids(emu: Emulator, http: requests.Session) -> None:
    r = http.post(
        emu.api_url + "contacts/Microsoft.Dynamics.CRM.CreateMultiple",
        json={
            "Targets": [
                {"@odata.type": "Microsoft.Dynamics.CRM.contact", "lastname": f"N{i}"} for i in range(2)
            ]
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert body["@odata.context"].endswith("$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse")
    assert len(body["Ids"]) == 2
    assert emu.store.count("contacts") == 2
