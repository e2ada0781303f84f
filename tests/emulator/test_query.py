"""Reads: the documented paging, $select, $filter, annotation and error shapes."""

from __future__ import annotations

import re
from urllib.parse import unquote

import requests

from dataverse_emulator import Emulator

JSON_TYPE = "application/json; odata.metadata=minimal"


def add_contacts(emu: Emulator, n: int, **extra: object) -> list[str]:
    return [
        emu.store.insert(
            "contacts",
            {"firstname": f"First{i}", "lastname": f"Last{i}", "fullname": f"First{i} Last{i}", **extra},
        )
        for i in range(n)
    ]


def test_paging_with_maxpagesize_2_matches_the_documented_shape(
    emu: Emulator, http: requests.Session
) -> None:
    ids = add_contacts(emu, 5)
    r = http.get(emu.api_url + "contacts?$select=fullname", headers={"Prefer": "odata.maxpagesize=2"})
    assert r.status_code == 200
    assert r.headers["OData-Version"] == "4.0"
    assert r.headers["Content-Type"] == JSON_TYPE
    assert r.headers["Preference-Applied"] == "odata.maxpagesize=2"
    body = r.json()
    assert body["@odata.context"] == f"{emu.api_url}$metadata#contacts(fullname)"
    assert list(body["value"][0]) == ["@odata.etag", "fullname", "contactid"]
    assert re.fullmatch(r'W/"\d+"', body["value"][0]["@odata.etag"])
    link = body["@odata.nextLink"]
    assert link.startswith(
        f"{emu.api_url}contacts?$select=fullname&$skiptoken=%3Ccookie%20pagenumber=%222%22%20"
        "pagingcookie=%22%253ccookie%2520page%253d%25221%2522%253e%253ccontactid%2520last%253d"
    )
    assert link.endswith("%22%20istracking=%22False%22%20/%3E")
    last = body["value"][-1]["contactid"].upper()
    assert f"{{{last}}}" in unquote(unquote(link))

    seen = [row["contactid"] for row in body["value"]]
    while "@odata.nextLink" in body:
        body = http.get(body["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=2"}).json()
        seen += [row["contactid"] for row in body["value"]]
    assert seen == sorted(ids)


def test_default_and_capped_page_size_is_5000(emu: Emulator, http: requests.Session) -> None:
    add_contacts(emu, 5001)
    r = http.get(emu.api_url + "contacts?$select=fullname")
    assert len(r.json()["value"]) == 5000
    assert "Preference-Applied" not in r.headers
    r = http.get(emu.api_url + "contacts?$select=fullname", headers={"Prefer": "odata.maxpagesize=9000"})
    assert len(r.json()["value"]) == 5000
    rest = http.get(r.json()["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=9000"}).json()
    assert len(rest["value"]) == 1
    assert "@odata.nextLink" not in rest


def test_select_always_returns_the_key_and_rejects_unknown_columns(
    emu: Emulator, http: requests.Session
) -> None:
    add_contacts(emu, 1)
    row = http.get(emu.api_url + "contacts?$select=lastname").json()["value"][0]
    assert set(row) == {"@odata.etag", "lastname", "contactid"}
    r = http.get(emu.api_url + "contacts?$select=nosuchcolumn")
    assert r.status_code == 400
    assert r.json() == {
        "error": {
            "code": "0x80060888",
            "message": "Could not find a property named 'nosuchcolumn' on type "
            "'Microsoft.Dynamics.CRM.contact'.",
        }
    }


def test_filter_escaped_quote_is_case_insensitive(emu: Emulator, http: requests.Session) -> None:
    wanted = emu.store.insert("contacts", {"lastname": "O'Brien", "fullname": "Pat O'Brien"})
    emu.store.insert("contacts", {"lastname": "Brien"})
    r = http.get(
        emu.api_url + "contacts", params={"$select": "lastname", "$filter": "lastname eq 'o''brien'"}
    )
    assert r.status_code == 200
    assert [row["contactid"] for row in r.json()["value"]] == [wanted]


def test_filter_operators_functions_and_in(emu: Emulator, http: requests.Session) -> None:
    ids = add_contacts(emu, 6, statecode=0)
    emu.store.update("contacts", ids[0], {"statecode": 1, "jobtitle": "Chief Executive"})

    def names(expr: str) -> set[str]:
        r = http.get(emu.api_url + "contacts", params={"$select": "firstname", "$filter": expr})
        assert r.status_code == 200, r.text
        return {row["firstname"] for row in r.json()["value"]}

    assert names("statecode eq 1") == {"First0"}
    assert names("statecode ne 1 and (firstname eq 'First1' or startswith(lastname,'last2'))") == {
        "First1",
        "First2",
    }
    assert names("contains(jobtitle,'EXEC')") == {"First0"}
    assert names("endswith(firstname,'5')") == {"First5"}
    assert names("not (statecode eq 0)") == {"First0"}
    assert names("jobtitle eq null and firstname eq 'First3'") == {"First3"}
    assert names(
        f"Microsoft.Dynamics.CRM.In(PropertyName='contactid',PropertyValues=['{ids[1]}','{ids[4]}'])"
    ) == {"First1", "First4"}
    assert names(f"contactid eq {ids[3]}") == {"First3"}


def test_filter_on_lookup_navigation_and_bulk_message_support(emu: Emulator, http: requests.Session) -> None:
    r = http.get(
        emu.api_url + "sdkmessagefilters",
        params={
            "$select": "sdkmessagefilterid",
            "$filter": "sdkmessageid/name eq 'UpdateMultiple' and primaryobjecttypecode eq 'contact'",
        },
    )
    assert r.status_code == 200
    assert len(r.json()["value"]) == 1
    r = http.get(
        emu.api_url + "sdkmessagefilters",
        params={
            "$select": "sdkmessagefilterid",
            "$filter": "sdkmessageid/name eq @message and primaryobjecttypecode eq @table",
            "@message": "'UpdateMultiple'",
            "@table": "'account'",
        },
    )
    assert r.status_code == 200
    assert r.json()["value"] == []


def test_lambda_filters_over_teams_and_roles(emu: Emulator, http: requests.Session) -> None:
    store = emu.store
    alice = store.insert("systemusers", {"fullname": "Alice", "isdisabled": False})
    bob = store.insert("systemusers", {"fullname": "Bob", "isdisabled": False})
    carol = store.insert("systemusers", {"fullname": "Carol", "isdisabled": True})
    team = store.insert("teams", {"name": "Sales EMEA"})
    sales_role = store.insert("roles", {"name": "Salesperson"})
    store.associate("teammembership_association", alice, team)
    store.associate("teamroles_association", team, sales_role)
    store.associate("systemuserroles_association", bob, sales_role)
    store.associate("systemuserroles_association", carol, sales_role)

    def names(expr: str) -> set[str]:
        r = http.get(emu.api_url + "systemusers", params={"$select": "fullname", "$filter": expr})
        assert r.status_code == 200, r.text
        return {row["fullname"] for row in r.json()["value"]}

    assert names(f"teammembership_association/any(t:t/teamid eq {team})") == {"Alice"}
    assert names("isdisabled eq false and systemuserroles_association/any(r:r/name eq 'Salesperson')") == {
        "Bob"
    }
    assert names(
        "teammembership_association/any(t:t/teamroles_association/any(r:r/name eq 'salesperson'))"
    ) == {"Alice"}
    r = http.get(emu.api_url + f"systemusers({alice})/teammembership_association", params={"$select": "name"})
    assert [row["name"] for row in r.json()["value"]] == ["Sales EMEA"]
    r = http.get(emu.api_url + f"teams({team})/teamroles_association", params={"$select": "name"})
    assert [row["name"] for row in r.json()["value"]] == ["Salesperson"]


def test_formatted_values_and_lookup_annotations(emu: Emulator, http: requests.Session) -> None:
    account = emu.store.insert("accounts", {"name": "Litware, Inc. (sample)", "customertypecode": 1})
    emu.store.insert(
        "contacts",
        {
            "fullname": "Susanna Stubberod (sample)",
            "_parentcustomerid_value": account,
            "statecode": 0,
            "msdyn_orgchangestatus": 1,
        },
    )
    prefer = 'odata.include-annotations="*"'
    r = http.get(
        emu.api_url + "contacts",
        headers={"Prefer": prefer},
        params={"$select": "fullname,_parentcustomerid_value,statecode,msdyn_orgchangestatus"},
    )
    assert r.headers["Preference-Applied"] == prefer
    row = r.json()["value"][0]
    assert (
        row["_parentcustomerid_value@OData.Community.Display.V1.FormattedValue"] == "Litware, Inc. (sample)"
    )
    assert row["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "account"
    assert row["_parentcustomerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty"] == (
        "parentcustomerid_account"
    )
    assert row["_parentcustomerid_value"] == account
    assert row["statecode@OData.Community.Display.V1.FormattedValue"] == "Active"
    assert row["msdyn_orgchangestatus@OData.Community.Display.V1.FormattedValue"] == "Not at Company"

    only_formatted = 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"'
    r = http.get(
        emu.api_url + "accounts",
        headers={"Prefer": only_formatted},
        params={"$select": "name,customertypecode"},
    )
    assert r.headers["Preference-Applied"] == only_formatted
    row = r.json()["value"][0]
    assert row["customertypecode@OData.Community.Display.V1.FormattedValue"] == "Competitor"
    assert not any("lookuplogicalname" in key for key in row)

    plain = http.get(emu.api_url + "contacts", params={"$select": "_parentcustomerid_value"}).json()["value"][
        0
    ]
    assert not any("@OData" in key or "@Microsoft" in key for key in plain)


def test_orderby_top_and_unsupported_options(emu: Emulator, http: requests.Session) -> None:
    for name in ("Charlie", "alpha", "Bravo"):
        emu.store.insert("contacts", {"lastname": name})
    r = http.get(
        emu.api_url + "contacts", params={"$select": "lastname", "$orderby": "lastname desc", "$top": "2"}
    )
    assert [row["lastname"] for row in r.json()["value"]] == ["Charlie", "Bravo"]
    assert "@odata.nextLink" not in r.json()
    r = http.get(
        emu.api_url + "contacts",
        params={"$select": "lastname", "$orderby": "lastname"},
        headers={"Prefer": "odata.maxpagesize=2"},
    )
    first = r.json()
    second = http.get(first["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=2"}).json()
    assert [row["lastname"] for row in first["value"] + second["value"]] == ["alpha", "Bravo", "Charlie"]
    assert http.get(emu.api_url + "contacts?$skip=1").status_code == 400
    assert http.get(emu.api_url + "contacts?$filter=lastname eq").status_code == 400
    assert http.get(emu.api_url + "nosuchset").status_code == 404


def test_single_row_read_and_not_found(emu: Emulator, http: requests.Session) -> None:
    record = emu.store.insert("contacts", {"lastname": "Solo"})
    r = http.get(emu.api_url + f"contacts({record})?$select=lastname")
    assert r.status_code == 200
    body = r.json()
    assert body["@odata.context"] == f"{emu.api_url}$metadata#contacts(lastname)/$entity"
    assert body["lastname"] == "Solo"
    assert body["contactid"] == record
    assert (
        http.get(
            emu.api_url + f"contacts({record})", headers={"If-None-Match": body["@odata.etag"]}
        ).status_code
        == 304
    )
    missing = "00000000-0000-0000-0000-000000000001"
    r = http.get(emu.api_url + f"contacts({missing})")
    assert r.status_code == 404
    assert r.json()["error"] == {
        "code": "0x80040217",
        "message": f"contact With Id = {missing} Does Not Exist",
    }


def test_organization_row_and_count(emu: Emulator, http: requests.Session) -> None:
    row = http.get(emu.api_url + "organizations?$select=languagecode,expirechangetrackingindays").json()[
        "value"
    ][0]
    assert row["languagecode"] == 1033
    assert row["expirechangetrackingindays"] == 7
    add_contacts(emu, 3)
    assert http.get(emu.api_url + "contacts/$count").text == "3"
    assert http.get(emu.api_url + "contacts?$select=fullname&$count=true").json()["@odata.count"] == 3


def test_expand_single_valued_navigation(emu: Emulator, http: requests.Session) -> None:
    opportunity = emu.store.insert("opportunities", {"name": "Deal", "statecode": 0})
    contact = emu.store.insert("contacts", {"fullname": "Champion"})
    role = emu.store.insert("connectionroles", {"name": "Champion X", "category": 1000})
    emu.store.insert(
        "connections",
        {
            "_record1id_value": opportunity,
            "_record2id_value": contact,
            "_record2roleid_value": role,
            "statecode": 0,
        },
    )
    r = http.get(
        emu.api_url + f"opportunities({opportunity})/opportunity_connections1",
        params={
            "$select": "_record2id_value,_record2roleid_value,statecode",
            "$expand": "record2roleid($select=name,category)",
        },
        headers={"Prefer": 'odata.include-annotations="*"'},
    )
    assert r.status_code == 200, r.text
    row = r.json()["value"][0]
    assert row["_record2id_value"] == contact
    assert row["_record2id_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "contact"
    assert {k: v for k, v in row["record2roleid"].items() if "@" not in k} == {
        "name": "Champion X",
        "category": 1000,
        "connectionroleid": role,
    }
    r = http.get(
        emu.api_url + "contacts", params={"$select": "fullname", "$expand": "parentcustomerid_account"}
    )
    assert r.json()["value"][0]["parentcustomerid_account"] is None
    assert http.get(emu.api_url + "systemusers?$expand=teammembership_association").status_code == 400


def test_error_envelope_with_annotations(emu: Emulator, http: requests.Session) -> None:
    r = http.get(emu.api_url + "contacts?$select=nosuch", headers={"Prefer": 'odata.include-annotations="*"'})
    error = r.json()["error"]
    assert error["code"] == "0x80060888"
    assert error["@Microsoft.PowerApps.CDS.InnerError.Message"] == error["message"]
    assert "@Microsoft.PowerApps.CDS.HelpLink" in error


def test_id_filters_answer_like_a_scan_and_look_only_at_their_rows(emu: Emulator,
                                                                 http: requests.Session) -> None:
    from dataverse_emulator.query import key_candidates

    ids = add_contacts(emu, 30)
    wanted = [ids[3], ids[17], ids[29], "00000000-0000-0000-0000-00000000dead"]
    by_id = " or ".join(f"contactid eq {i.upper() if n % 2 else i}" for n, i in enumerate(wanted))
    scanned = " or ".join(f"(contactid eq {i})" for i in wanted)  # same meaning, not the fast shape
    td = emu.store.tables["contacts"]
    assert key_candidates(td, by_id) == sorted(i.lower() for i in wanted)
    assert key_candidates(td, scanned) is None
    assert key_candidates(td, f"contactid eq {ids[0]} or fullname eq 'x'") is None

    def read(text: str, page: int) -> list[str]:
        out, url = [], emu.api_url + f"contacts?$select=fullname&$filter={text}"
        while url:
            body = http.get(url, headers={"Prefer": f"odata.maxpagesize={page}"}).json()
            out += [row["contactid"] for row in body["value"]]
            url = body.get("@odata.nextLink")
        return out

    for page in (1, 2, 50):
        assert read(by_id, page) == read(scanned, page) == sorted([ids[3], ids[17], ids[29]])
