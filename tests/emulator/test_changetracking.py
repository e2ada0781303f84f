"""Change tracking: initial sync, delta links, deleted rows, paging, rejections, expiry."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import requests

from dataverse_emulator import Emulator, Fault

TRACK = {"Prefer": "odata.track-changes"}
TOKEN_RE = r"\$deltatoken=(\d+)%21\d\d%2f\d\d%2f\d{4}%20\d\d%3a\d\d%3a\d\d"


def initial_sync(emu: Emulator, http: requests.Session, select: str = "fullname,jobtitle") -> dict:
    r = http.get(emu.api_url + f"contacts?$select={select}", headers=TRACK)
    assert r.status_code == 200, r.text
    return r.json()


def test_initial_sync_returns_rows_and_delta_link(emu: Emulator, http: requests.Session) -> None:
    emu.store.insert("contacts", {"fullname": "Monte Orton"})
    r = http.get(emu.api_url + "contacts?$select=fullname,jobtitle", headers=TRACK)
    assert r.headers["Preference-Applied"] == "odata.track-changes"
    body = r.json()
    assert body["@odata.context"] == f"{emu.api_url}$metadata#contacts(fullname,jobtitle)"
    assert body["value"][0]["fullname"] == "Monte Orton"
    assert re.fullmatch(
        re.escape(f"{emu.api_url}contacts?$select=fullname,jobtitle&") + TOKEN_RE, body["@odata.deltaLink"]
    )


def test_delta_returns_changed_then_deleted_rows(emu: Emulator, http: requests.Session) -> None:
    kept = emu.store.insert("contacts", {"fullname": "Monte Orton"})
    gone = emu.store.insert("contacts", {"fullname": "Leaving Soon"})
    link = initial_sync(emu, http)["@odata.deltaLink"]
    emu.store.delete("contacts", gone)
    emu.store.update("contacts", kept, {"jobtitle": "CFO"})
    new = emu.store.insert("contacts", {"fullname": "New Person"})
    r = http.get(link, headers=TRACK)
    assert r.status_code == 200
    body = r.json()
    assert body["@odata.context"] == f"{emu.api_url}$metadata#contacts(fullname,jobtitle)/$delta"
    values = body["value"]
    assert [v.get("contactid") for v in values[:2]] == [kept, new]  # by version
    assert values[0]["jobtitle"] == "CFO"
    assert values[2] == {
        "@odata.context": f"{emu.api_url}$metadata#contacts/$deletedEntity",
        "id": gone,
        "reason": "deleted",
    }
    next_link = body["@odata.deltaLink"]
    assert next_link != link
    empty = http.get(next_link, headers=TRACK).json()
    assert empty["value"] == []
    assert "@odata.deltaLink" in empty


def test_created_and_deleted_between_deltas_is_reported_deleted(
    emu: Emulator, http: requests.Session
) -> None:
    link = initial_sync(emu, http)["@odata.deltaLink"]
    flash = emu.store.insert("contacts", {"fullname": "Flash"})
    emu.store.delete("contacts", flash)
    values = http.get(link, headers=TRACK).json()["value"]
    assert values == [
        {
            "@odata.context": f"{emu.api_url}$metadata#contacts/$deletedEntity",
            "id": flash,
            "reason": "deleted",
        }
    ]


def test_initial_and_delta_are_paged(emu: Emulator, http: requests.Session) -> None:
    ids = [emu.store.insert("contacts", {"fullname": f"C{i}"}) for i in range(5)]
    prefer = {"Prefer": "odata.track-changes, odata.maxpagesize=2"}
    r = http.get(emu.api_url + "contacts?$select=fullname", headers=prefer)
    assert r.headers["Preference-Applied"] == "odata.track-changes,odata.maxpagesize=2"
    body, seen = r.json(), []
    while True:
        seen += [v["contactid"] for v in body["value"]]
        if "@odata.nextLink" not in body:
            break
        assert "@odata.deltaLink" not in body
        assert "istracking=%22True%22" in body["@odata.nextLink"]
        body = http.get(body["@odata.nextLink"], headers=prefer).json()
    assert seen == sorted(ids)
    link = body["@odata.deltaLink"]
    for record in ids:
        emu.store.update("contacts", record, {"jobtitle": "x"})
    emu.store.delete("contacts", ids[0])
    body, changed, deleted = http.get(link, headers=prefer).json(), [], []
    while True:
        changed += [v["contactid"] for v in body["value"] if "contactid" in v]
        deleted += [v["id"] for v in body["value"] if v.get("reason") == "deleted"]
        if "@odata.nextLink" not in body:
            break
        body = http.get(body["@odata.nextLink"], headers=prefer).json()
    assert changed == ids[1:]
    assert deleted == [ids[0]]
    assert "@odata.deltaLink" in body


@pytest.mark.parametrize("option", ["$filter=statecode eq 0", "$orderby=fullname", "$top=5", "$expand=x"])
def test_query_options_rejected_with_track_changes(
    emu: Emulator, http: requests.Session, option: str
) -> None:
    r = http.get(emu.api_url + f"contacts?$select=fullname&{option}", headers=TRACK)
    assert r.status_code == 400
    name = option.split("=")[0]
    assert (
        r.json()["error"]["message"]
        == f'The "{name}" query parameter isn\'t supported when Change Tracking is enabled.'
    )


def test_table_without_change_tracking(emu: Emulator, http: requests.Session) -> None:
    r = http.get(emu.api_url + "savedqueries?$select=name", headers=TRACK)
    assert r.status_code == 400
    assert "not enabled" in r.json()["error"]["message"]


EXPIRED = {
    "error": {
        "code": "0x80044352",
        "message": "Version stamp associated with the client has expired. Please perform a full sync.",
    }
}


def test_expire_delta_tokens(emu: Emulator, http: requests.Session) -> None:
    link = initial_sync(emu, http)["@odata.deltaLink"]
    assert http.get(link, headers=TRACK).status_code == 200
    emu.expire_delta_tokens()
    r = http.get(link, headers=TRACK)
    assert r.status_code == 400
    assert r.json() == EXPIRED
    fresh = initial_sync(emu, http)["@odata.deltaLink"]
    assert http.get(fresh, headers=TRACK).status_code == 200


def test_expired_delta_fault(emu: Emulator, http: requests.Session) -> None:
    link = initial_sync(emu, http)["@odata.deltaLink"]
    emu.faults.add(Fault("expired_delta"))
    assert (
        http.get(emu.api_url + "contacts?$select=fullname", headers=TRACK).status_code == 200
    )  # not a delta
    assert http.get(link, headers=TRACK).json() == EXPIRED
    assert http.get(link, headers=TRACK).status_code == 200  # times=1


def test_token_older_than_retention_expires(emu: Emulator, http: requests.Session) -> None:
    old = datetime.now(UTC) - timedelta(days=8)
    token = quote(f"{emu.store.version}!{old:%m/%d/%Y %H:%M:%S}", safe="")
    r = http.get(emu.api_url + f"contacts?$select=fullname&$deltatoken={token}", headers=TRACK)
    assert r.status_code == 400
    assert r.json() == EXPIRED
