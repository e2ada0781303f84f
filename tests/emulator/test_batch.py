"""``$batch``: the documented request example (adapted to contacts), change sets, errors, limits."""

from __future__ import annotations

import json
import re

import requests

from dataverse_emulator import Emulator

BATCH = "batch_22975cad-7f57-410d-be15-6363209367ea"
CHANGESET = "changeset_246e6bfe-89a4-4c77-b293-7a433f082e8a"


def doc_example(account: str) -> str:
    """The documented change set + GET request, with ``tasks`` swapped for contacts."""
    return (
        f"--{BATCH}\r\n"
        f'Content-Type: multipart/mixed; boundary="{CHANGESET}"\r\n'
        "\r\n"
        f"--{CHANGESET}\r\n"
        "Content-Type: application/http\r\n"
        "Content-Transfer-Encoding: binary\r\n"
        "Content-ID: 1\r\n"
        "\r\n"
        "POST /api/data/v9.2/contacts HTTP/1.1\r\n"
        "Content-Type: application/json; type=entry\r\n"
        "\r\n"
        "{\r\n"
        '  "lastname": "Contact 1 in batch",\r\n'
        f'  "parentcustomerid_account@odata.bind": "accounts({account})"\r\n'
        "}\r\n"
        f"--{CHANGESET}--\r\n"
        "\r\n"
        f"--{BATCH}\r\n"
        "Content-Type: application/http\r\n"
        "Content-Transfer-Encoding: binary\r\n"
        "\r\n"
        f"GET /api/data/v9.2/accounts({account})/contact_customer_accounts?$select=lastname HTTP/1.1\r\n"
        "\r\n"
        "\r\n"
        f"--{BATCH}--\r\n"
    )


def post_batch(
    http: requests.Session, emu: Emulator, body: str, prefer: str | None = None
) -> requests.Response:
    headers = {"Content-Type": f'multipart/mixed; boundary="{BATCH}"'}
    if prefer:
        headers["Prefer"] = prefer
    return http.post(emu.api_url + "$batch", data=body.encode(), headers=headers)


def part(method: str, url: str, body: dict | None = None, content_id: str | None = None) -> str:
    text = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    if content_id:
        text += f"Content-ID: {content_id}\r\n"
    text += f"\r\n{method} {url} HTTP/1.1\r\n"
    if body is not None:
        text += f"Content-Type: application/json; type=entry\r\nIf-Match: *\r\n\r\n{json.dumps(body)}\r\n"
    else:
        text += "\r\n\r\n"
    return text


def batch_of(*parts: str) -> str:
    return "".join(f"--{BATCH}\r\n{p}" for p in parts) + f"--{BATCH}--\r\n"


def test_documented_batch_example(emu: Emulator, http: requests.Session) -> None:
    account = emu.store.insert("accounts", {"name": "Fourth Coffee"})
    r = post_batch(http, emu, doc_example(account))
    assert r.status_code == 200
    boundary = re.fullmatch(
        r"multipart/mixed; boundary=(batchresponse_[0-9a-f-]{36})", r.headers["Content-Type"]
    )
    assert boundary
    text = r.text
    cs = re.search(r"Content-Type: multipart/mixed; boundary=(changesetresponse_[0-9a-f-]{36})\r\n", text)
    assert cs
    created = emu.store.tables["contacts"].keys()[0]
    entity_url = f"{emu.api_url}contacts({created})"
    assert text.startswith(f"--{boundary.group(1)}\r\n")
    assert (
        f"--{cs.group(1)}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        f"Content-ID: 1\r\n\r\nHTTP/1.1 204 No Content\r\nOData-Version: 4.0\r\nLocation: {entity_url}\r\n"
        f"OData-EntityId: {entity_url}\r\n\r\n\r\n--{cs.group(1)}--\r\n"
    ) in text
    assert (
        "HTTP/1.1 200 OK\r\nContent-Type: application/json; odata.metadata=minimal; odata.streaming=true\r\n"
        in text
    )
    payload = json.loads(
        text.split("odata.streaming=true\r\nOData-Version: 4.0\r\n\r\n", 1)[1].split("\r\n--")[0]
    )
    assert [row["lastname"] for row in payload["value"]] == ["Contact 1 in batch"]
    assert text.endswith(f"--{boundary.group(1)}--\r\n")
    assert emu.counters.requests == {"batch": 1}
    assert emu.counters.operations == {"create": 1}


def test_lf_only_line_endings_are_accepted(emu: Emulator, http: requests.Session) -> None:
    account = emu.store.insert("accounts", {"name": "Fourth Coffee"})
    r = post_batch(http, emu, doc_example(account).replace("\r\n", "\n"))
    assert r.status_code == 200
    assert emu.store.count("contacts") == 1


def test_without_continue_on_error_stops_at_first_error(emu: Emulator, http: requests.Session) -> None:
    a = emu.store.insert("contacts", {"lastname": "A"})
    b = emu.store.insert("contacts", {"lastname": "B"})
    body = batch_of(
        part("PATCH", f"/api/data/v9.2/contacts({a})", {"lastname": "A2"}),
        part("PATCH", f"/api/data/v9.2/contacts({b})", {"firstname": "x" * 60}),
        part("PATCH", f"/api/data/v9.2/contacts({a})", {"lastname": "A3"}),
    )
    r = post_batch(http, emu, body)
    assert r.status_code == 400
    assert r.text.count("HTTP/1.1 ") == 1
    assert (
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; odata.metadata=minimal\r\n"
        "OData-Version: 4.0\r\n\r\n"
    ) in r.text
    assert (
        '{"error":{"code":"0x80044331","message":"A validation error occurred. The length of the ' in r.text
    )
    assert emu.store.get("contacts", a)["lastname"] == "A2"  # ran before the error, not in a change set
    assert emu.counters.operations == {"update": 1}


def test_continue_on_error_reports_every_part(emu: Emulator, http: requests.Session) -> None:
    a = emu.store.insert("contacts", {"lastname": "A"})
    missing = "00000000-0000-0000-0000-000000000009"
    body = batch_of(
        part("PATCH", f"/api/data/v9.2/contacts({missing})", {"lastname": "nope"}),
        part("PATCH", f"/api/data/v9.2/contacts({a})", {"lastname": "A2"}),
        part("GET", f"/api/data/v9.2/contacts({a})?$select=lastname"),
    )
    r = post_batch(http, emu, body, prefer="odata.continue-on-error")
    assert r.status_code == 200
    assert r.headers["Preference-Applied"] == "odata.continue-on-error"
    statuses = re.findall(r"HTTP/1\.1 (\d{3}) ", r.text)
    assert statuses == ["404", "204", "200"]
    assert emu.store.get("contacts", a)["lastname"] == "A2"


def test_change_set_is_atomic_and_content_id_references_work(emu: Emulator, http: requests.Session) -> None:
    a = emu.store.insert("contacts", {"lastname": "A"})
    changeset = (
        f"Content-Type: multipart/mixed; boundary={CHANGESET}\r\n\r\n"
        f"--{CHANGESET}\r\n"
        + part("PATCH", f"contacts({a})", {"lastname": "A2"})
        + f"--{CHANGESET}\r\n"
        + part("POST", "contacts", {"lastname": "New"}, content_id="1")
        + f"--{CHANGESET}\r\n"
        + part("PATCH", "$1", {"jobtitle": "x" * 200})
        + f"--{CHANGESET}--\r\n"
    )
    r = post_batch(http, emu, batch_of(changeset), prefer="odata.continue-on-error")
    assert r.status_code == 200
    assert re.findall(r"HTTP/1\.1 (\d{3}) ", r.text) == ["400"]
    assert emu.store.get("contacts", a)["lastname"] == "A"
    assert emu.store.count("contacts") == 1
    assert sum(emu.counters.operations.values()) == 0

    good = changeset.replace('"jobtitle": "' + "x" * 200 + '"', '"jobtitle": "CTO"')
    r = post_batch(http, emu, batch_of(good))
    assert r.status_code == 200
    assert re.findall(r"HTTP/1\.1 (\d{3}) ", r.text) == ["204", "204", "204"]
    new = [
        row
        for row in (emu.store.get("contacts", k) for k in emu.store.tables["contacts"].rows)
        if row["lastname"] == "New"
    ]
    assert new[0]["jobtitle"] == "CTO"
    assert emu.counters.operations == {"update": 2, "create": 1}


def test_unknown_content_id_reference(emu: Emulator, http: requests.Session) -> None:
    r = post_batch(http, emu, batch_of(part("PATCH", "$7", {"lastname": "x"})))
    assert r.status_code == 400
    assert "Content-ID Reference: '$7' does not exist in the batch context." in r.text


def test_more_than_1000_requests_is_rejected(emu: Emulator, http: requests.Session) -> None:
    body = batch_of(*[part("GET", "contacts?$select=lastname")] * 1001)
    r = post_batch(http, emu, body)
    assert r.status_code == 400
    assert "1000" in r.json()["error"]["message"]
    assert post_batch(http, emu, batch_of(*[part("GET", "WhoAmI")] * 1000)).status_code == 200


def test_get_is_not_allowed_in_a_change_set(emu: Emulator, http: requests.Session) -> None:
    changeset = (
        f"Content-Type: multipart/mixed; boundary={CHANGESET}\r\n\r\n"
        f"--{CHANGESET}\r\n" + part("GET", "contacts?$select=lastname") + f"--{CHANGESET}--\r\n"
    )
    r = post_batch(http, emu, batch_of(changeset))
    assert r.status_code == 400
    assert "not allowed within change sets" in r.text


def test_rolled_back_delete_leaves_no_trace(emu: Emulator, http: requests.Session) -> None:
    a = emu.store.insert("contacts", {"lastname": "A"})
    b = emu.store.insert("contacts", {"lastname": "B"})
    user = emu.store.insert("systemusers", {"fullname": "U"})
    team = emu.store.insert("teams", {"name": "T"})
    emu.store.associate("teammembership_association", user, team)
    link = http.get(
        emu.api_url + "contacts?$select=lastname", headers={"Prefer": "odata.track-changes"}
    ).json()["@odata.deltaLink"]
    changeset = (
        f"Content-Type: multipart/mixed; boundary={CHANGESET}\r\n\r\n"
        f"--{CHANGESET}\r\n"
        + part("DELETE", f"contacts({a})")
        + f"--{CHANGESET}\r\n"
        + part("DELETE", f"teams({team})")
        + f"--{CHANGESET}\r\n"
        + part("PATCH", f"contacts({b})", {"firstname": "x" * 99})
        + f"--{CHANGESET}--\r\n"
    )
    assert post_batch(http, emu, batch_of(changeset)).status_code == 400
    assert http.get(emu.api_url + f"contacts({a})").status_code == 200
    assert [
        c["lastname"] for c in http.get(emu.api_url + "contacts?$select=lastname").json()["value"]
    ] == sorted(["A", "B"], key=lambda n: {"A": a, "B": b}[n])
    teams = http.get(emu.api_url + f"systemusers({user})/teammembership_association").json()["value"]
    assert [t["teamid"] for t in teams] == [team]
    assert http.get(link, headers={"Prefer": "odata.track-changes"}).json()["value"] == []
