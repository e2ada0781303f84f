"""Metadata and provisioning surface: EntityDefinitions, new columns, solutions, views, labels, publish."""

from __future__ import annotations

import copy
import re

import requests

from dataverse_emulator import Emulator

EN, DE = 1033, 1031
CONTACT_ATTRS = "EntityDefinitions(LogicalName='contact')/Attributes"


def label(*pairs: tuple[str, int]) -> dict:
    items = [
        {
            "@odata.type": "Microsoft.Dynamics.CRM.LocalizedLabel",
            "Label": text,
            "LanguageCode": lcid,
            "IsManaged": False,
        }
        for text, lcid in pairs
    ]
    return {
        "@odata.type": "Microsoft.Dynamics.CRM.Label",
        "LocalizedLabels": items,
        "UserLocalizedLabel": items[0],
    }


def picklist(schema_name: str, prefix: int = 41020) -> dict:
    """The documented 'create a choice column' body, with this app's options."""
    options = [
        ("No feedback", "Kein Feedback"),
        ("No longer at company", "Nicht mehr im Unternehmen"),
        ("Ignore", "Ignorieren"),
    ]
    return {
        "@odata.type": "Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
        "AttributeType": "Picklist",
        "AttributeTypeName": {"Value": "PicklistType"},
        "SourceTypeMask": 0,
        "OptionSet": {
            "@odata.type": "Microsoft.Dynamics.CRM.OptionSetMetadata",
            "Options": [
                {"Value": prefix * 10000 + i, "Label": label((en, EN), (de, DE))}
                for i, (en, de) in enumerate(options)
            ],
            "IsGlobal": False,
            "OptionSetType": "Picklist",
        },
        "Description": label(("Set by Data Validation", EN)),
        "DisplayName": label(("No longer at company", EN), ("Nicht mehr im Unternehmen", DE)),
        "RequiredLevel": {
            "Value": "None",
            "CanBeChanged": False,
            "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
        },
        "SchemaName": schema_name,
    }


def make_solution(emu: Emulator, http: requests.Session, prefix: str = "dval") -> None:
    r = http.post(
        emu.api_url + "publishers",
        json={
            "uniquename": "DataValidationPublisher",
            "friendlyname": "Data Validation",
            "customizationprefix": prefix,
            "customizationoptionvalueprefix": 41020,
        },
    )
    assert r.status_code == 204, r.text
    publisher = r.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")
    r = http.post(
        emu.api_url + "solutions",
        json={
            "uniquename": "DataValidation",
            "friendlyname": "Data Validation",
            "version": "1.0.0.0",
            "publisherid@odata.bind": f"/publishers({publisher})",
        },
    )
    assert r.status_code == 204, r.text


def test_entity_definition(emu: Emulator, http: requests.Session) -> None:
    r = http.get(
        emu.api_url + "EntityDefinitions(LogicalName='contact')",
        params={
            "$select": "LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute,ObjectTypeCode,"
            "ChangeTrackingEnabled"
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert {
        k: body[k]
        for k in (
            "LogicalName",
            "EntitySetName",
            "PrimaryIdAttribute",
            "PrimaryNameAttribute",
            "ObjectTypeCode",
            "ChangeTrackingEnabled",
        )
    } == {
        "LogicalName": "contact",
        "EntitySetName": "contacts",
        "PrimaryIdAttribute": "contactid",
        "PrimaryNameAttribute": "fullname",
        "ObjectTypeCode": 2,
        "ChangeTrackingEnabled": True,
    }
    assert body["MetadataId"]
    codes = {}
    for name in ("account", "opportunity"):
        codes[name] = http.get(
            emu.api_url + f"EntityDefinitions(LogicalName='{name}')?$select=ObjectTypeCode"
        ).json()["ObjectTypeCode"]
    assert codes == {"account": 1, "opportunity": 3}
    r = http.get(
        emu.api_url + "EntityDefinitions",
        params={"$select": "LogicalName", "$filter": "ChangeTrackingEnabled eq true"},
    )
    assert {v["LogicalName"] for v in r.json()["value"]} == {
        "contact",
        "account",
        "opportunity",
        "connection",
    }


def test_attribute_lookups(emu: Emulator, http: requests.Session) -> None:
    r = http.get(emu.api_url + CONTACT_ATTRS + "(LogicalName='dval_nolongeratcompany')")
    assert r.status_code == 404
    assert "Could not find an attribute with specified name" in r.json()["error"]["message"]
    r = http.get(
        emu.api_url + CONTACT_ATTRS,
        params={"$filter": "LogicalName eq 'msdyn_orgchangestatus'", "$select": "MetadataId"},
    )
    assert r.json()["value"][0]["@odata.type"] == "#Microsoft.Dynamics.CRM.PicklistAttributeMetadata"
    r = http.get(
        emu.api_url + CONTACT_ATTRS + "(LogicalName='msdyn_orgchangestatus')"
        "/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
        params={"$select": "LogicalName", "$expand": "OptionSet($select=Options)"},
    )
    assert r.status_code == 200
    options = r.json()["OptionSet"]["Options"]
    assert [(o["Value"], o["Label"]["UserLocalizedLabel"]["Label"]) for o in options] == [
        (0, "No Feedback"),
        (1, "Not at Company"),
        (2, "Ignore"),
    ]
    assert {x["LanguageCode"] for x in options[0]["Label"]["LocalizedLabels"]} == {EN, DE}


def test_create_choice_column_in_solution(emu: Emulator, http: requests.Session) -> None:
    make_solution(emu, http)
    headers = {"MSCRM.SolutionUniqueName": "DataValidation"}
    r = http.post(emu.api_url + CONTACT_ATTRS, json=picklist("dval_NoLongerAtCompany"), headers=headers)
    assert r.status_code == 204, r.text
    assert re.fullmatch(
        re.escape(emu.api_url + CONTACT_ATTRS) + r"\([0-9a-f-]{36}\)", r.headers["OData-EntityId"]
    )
    metadata_id = r.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")
    assert emu.unpublished("contact") == {"attribute:dval_nolongeratcompany"}
    components = http.get(emu.api_url + "solutioncomponents?$select=componenttype,objectid").json()["value"]
    assert {"componenttype": 2, "objectid": metadata_id} in [
        {"componenttype": c["componenttype"], "objectid": c["objectid"]} for c in components
    ]

    r = http.get(
        emu.api_url + CONTACT_ATTRS + "(LogicalName='dval_nolongeratcompany')"
        "/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options)"
    )
    assert [o["Value"] for o in r.json()["OptionSet"]["Options"]] == [410200000, 410200001, 410200002]

    # The new column is a real column now.
    record = emu.store.insert("contacts", {"lastname": "Moved"})
    assert (
        http.patch(
            emu.api_url + f"contacts({record})", json={"dval_nolongeratcompany": 410200001}
        ).status_code
        == 204
    )
    assert (
        http.patch(emu.api_url + f"contacts({record})", json={"dval_nolongeratcompany": 5}).status_code == 400
    )
    r = http.get(
        emu.api_url + "contacts",
        params={"$select": "dval_nolongeratcompany", "$filter": "dval_nolongeratcompany eq 410200001"},
        headers={"Prefer": 'odata.include-annotations="*"'},
    )
    row = r.json()["value"][0]
    assert row["dval_nolongeratcompany@OData.Community.Display.V1.FormattedValue"] == "No longer at company"
    r = http.post(
        emu.api_url + "contacts/Microsoft.Dynamics.CRM.UpdateMultiple",
        json={
            "Targets": [
                {
                    "@odata.type": "Microsoft.Dynamics.CRM.contact",
                    "contactid": record,
                    "dval_nolongeratcompany": 410200002,
                }
            ]
        },
    )
    assert r.status_code == 204

    r = http.post(
        emu.api_url + "PublishXml",
        json={
            "ParameterXml": "<importexportxml><entities><entity>contact</entity></entities></importexportxml>"
        },
    )
    assert r.status_code == 204
    assert emu.publish_log == [{"message": "PublishXml", "entities": ["contact"]}]
    assert emu.unpublished("contact") == set()

    again = http.post(emu.api_url + CONTACT_ATTRS, json=picklist("dval_NoLongerAtCompany"), headers=headers)
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "0x80047013"
    assert "already exists" in again.json()["error"]["message"]


def test_other_column_types(emu: Emulator, http: requests.Session) -> None:
    make_solution(emu, http)
    headers = {"MSCRM.SolutionUniqueName": "DataValidation"}
    r = http.post(
        emu.api_url + CONTACT_ATTRS,
        headers=headers,
        json={
            "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
            "SchemaName": "dval_CurrentEmployer",
            "MaxLength": 10,
            "DisplayName": label(("Current employer", EN)),
        },
    )
    assert r.status_code == 204
    r = http.post(
        emu.api_url + CONTACT_ATTRS,
        headers=headers,
        json={
            "@odata.type": "Microsoft.Dynamics.CRM.DateTimeAttributeMetadata",
            "SchemaName": "dval_CheckedOn",
            "Format": "DateAndTime",
            "DisplayName": label(("Checked on", EN)),
        },
    )
    assert r.status_code == 204
    assert http.post(emu.api_url + "contacts", json={"dval_currentemployer": "x" * 11}).json()["error"][
        "code"
    ] == ("0x80044331")
    assert (
        http.post(
            emu.api_url + "contacts",
            json={"dval_currentemployer": "Fabrikam", "dval_checkedon": "2026-11-27T10:00:00Z"},
        ).status_code
        == 204
    )
    meta = http.get(emu.api_url + CONTACT_ATTRS + "(LogicalName='dval_currentemployer')").json()
    assert meta["MaxLength"] == 10
    assert meta["IsCustomAttribute"] is True


def test_column_creation_errors(emu_factory_en_only: Emulator, http: requests.Session) -> None:
    emu = emu_factory_en_only
    make_solution(emu, http)
    r = http.post(
        emu.api_url + CONTACT_ATTRS,
        json=picklist("dval_NoLongerAtCompany"),
        headers={"MSCRM.SolutionUniqueName": "DataValidation"},
    )
    assert r.status_code == 400
    assert (
        r.json()["error"]["message"] == "The language code 1031 is not a valid language for this organization"
    )
    english = picklist("dval_NoLongerAtCompany")
    english["DisplayName"] = label(("No longer at company", EN))
    english["OptionSet"]["Options"] = [{"Value": 1, "Label": label(("x", EN))}]
    r = http.post(
        emu.api_url + CONTACT_ATTRS, json=english, headers={"MSCRM.SolutionUniqueName": "NoSuchSolution"}
    )
    assert r.status_code == 400
    assert "NoSuchSolution" in r.json()["error"]["message"]
    wrong_prefix = copy.deepcopy(english)
    wrong_prefix["SchemaName"] = "new_NoLongerAtCompany"
    r = http.post(
        emu.api_url + CONTACT_ATTRS, json=wrong_prefix, headers={"MSCRM.SolutionUniqueName": "DataValidation"}
    )
    assert r.status_code == 400
    assert "prefix" in r.json()["error"]["message"]
    assert (
        http.post(
            emu.api_url + CONTACT_ATTRS, json=english, headers={"MSCRM.SolutionUniqueName": "DataValidation"}
        ).status_code
        == 204
    )


def test_oob_rows(emu: Emulator, http: requests.Session) -> None:
    solutions = http.get(
        emu.api_url + "solutions?$select=uniquename,friendlyname,ismanaged,_publisherid_value"
    ).json()["value"]
    names = {s["uniquename"] for s in solutions}
    assert {"Default", "Active"} <= names
    pubs = http.get(emu.api_url + "publishers?$select=friendlyname,customizationprefix").json()["value"]
    cds = [p for p in pubs if p["friendlyname"] == "CDS Default Publisher"]
    assert cds
    assert cds[0]["customizationprefix"].startswith("cr")
    r = http.get(emu.api_url + "connectionroles", params={"$select": "name", "$filter": "category eq 1000"})
    assert {"Stakeholder", "Champion", "Decision Maker"} <= {v["name"] for v in r.json()["value"]}
    r = http.get(
        emu.api_url + "savedqueries",
        params={"$select": "name,isdefault", "$filter": "returnedtypecode eq 'contact' and querytype eq 0"},
    )
    assert any(v["isdefault"] for v in r.json()["value"])


VIEW_FETCH = (
    "<fetch><entity name='contact'><attribute name='fullname' /><filter>"
    "<condition attribute='dval_nolongeratcompany' operator='eq' value='410200001' />"
    "</filter></entity></fetch>"
)
VIEW_LAYOUT = (
    "<grid name='resultset' object='2' jump='fullname' select='1' icon='1' preview='1'>"
    "<row name='result' id='contactid'><cell name='fullname' width='300' /></row></grid>"
)


def test_savedquery_create_validate_label_and_delete(emu: Emulator, http: requests.Session) -> None:
    make_solution(emu, http)
    view = {
        "name": "All Contacts No Longer at Company",
        "returnedtypecode": "contact",
        "querytype": 0,
        "fetchxml": VIEW_FETCH,
        "layoutxml": VIEW_LAYOUT,
        "description": "d",
        "isdefault": False,
    }
    assert (
        http.post(emu.api_url + "savedqueries", json={**view, "fetchxml": "<fetch><entity"}).status_code
        == 400
    )
    assert (
        http.post(emu.api_url + "savedqueries", json={**view, "returnedtypecode": "opportunity"}).status_code
        == 400
    )
    r = http.post(
        emu.api_url + "savedqueries", json=view, headers={"MSCRM.SolutionUniqueName": "DataValidation"}
    )
    assert r.status_code == 204
    view_id = r.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")
    assert f"savedquery:{view_id}" in emu.unpublished("contact")
    components = http.get(emu.api_url + "solutioncomponents?$select=componenttype,objectid").json()["value"]
    assert any(c["componenttype"] == 26 and c["objectid"] == view_id for c in components)

    r = http.post(
        emu.api_url + "SetLocLabels",
        json={
            "EntityMoniker": {"@odata.type": "Microsoft.Dynamics.CRM.savedquery", "savedqueryid": view_id},
            "AttributeName": "name",
            "Labels": [
                {"Label": "Alle Kontakte nicht mehr im Unternehmen", "LanguageCode": DE},
                {"Label": "All Contacts No Longer at Company", "LanguageCode": EN},
            ],
        },
    )
    assert r.status_code == 204
    assert emu.loc_labels("savedqueries", view_id, "name")[DE] == "Alle Kontakte nicht mehr im Unternehmen"
    r = http.get(
        emu.api_url + "RetrieveLocLabels(EntityMoniker=@p1,AttributeName=@p2,IncludeUnpublished=@p3)",
        params={"@p1": f"{{'@odata.id':'savedqueries({view_id})'}}", "@p2": "'name'", "@p3": "true"},
    )
    assert r.status_code == 200
    labels = {x["LanguageCode"]: x["Label"] for x in r.json()["Label"]["LocalizedLabels"]}
    assert labels == {EN: "All Contacts No Longer at Company", DE: "Alle Kontakte nicht mehr im Unternehmen"}
    assert (
        http.post(
            emu.api_url + "SetLocLabels",
            json={
                "EntityMoniker": {
                    "@odata.type": "Microsoft.Dynamics.CRM.savedquery",
                    "savedqueryid": view_id,
                },
                "AttributeName": "name",
                "Labels": [{"Label": "x", "LanguageCode": 1036}],
            },
        ).status_code
        == 400
    )

    assert http.delete(emu.api_url + f"savedqueries({view_id})").status_code == 204


def test_functions(emu: Emulator, http: requests.Session) -> None:
    r = http.get(emu.api_url + "WhoAmI")
    body = r.json()
    assert body["@odata.context"] == f"{emu.api_url}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse"
    assert set(body) == {"@odata.context", "BusinessUnitId", "UserId", "OrganizationId"}
    me = http.get(emu.api_url + f"systemusers({body['UserId']})?$select=accessmode,applicationid").json()
    assert me["accessmode"] == 4
    assert me["applicationid"]
    assert http.get(emu.api_url + "RetrieveProvisionedLanguages").json()["RetrieveProvisionedLanguages"] == [
        EN,
        DE,
    ]
    assert emu.counters.requests == {"function": 2, "read": 1}
    bad = http.post(emu.api_url + "PublishXml", json={"ParameterXml": "<importexportxml><entities>"})
    assert bad.status_code == 400
