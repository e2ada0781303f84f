"""``?fetchXml=``: enough FetchXML to check what the app's system views return."""

from __future__ import annotations

import requests

from dataverse_emulator import Emulator

LEFT = 1

AT_RISK = """<fetch distinct='true'>
  <entity name='opportunity'>
    <attribute name='name' />
    <attribute name='parentcontactid' />
    <order attribute='name' descending='false' />
    <filter type='and'>
      <condition attribute='statecode' operator='eq' value='0' />
      <filter type='or'>
        <link-entity name='contact' from='contactid' to='parentcontactid' link-type='any'>
          <filter><condition attribute='msdyn_orgchangestatus' operator='eq' value='1' /></filter>
        </link-entity>
        <link-entity name='connection' from='record1id' to='opportunityid' link-type='any'>
          <filter>
            <condition attribute='statecode' operator='eq' value='0' />
            <condition attribute='record2objecttypecode' operator='eq' value='2' />
          </filter>
          <link-entity name='connectionrole' from='connectionroleid' to='record2roleid' link-type='inner'>
            <filter><condition attribute='category' operator='eq' value='1000' /></filter>
          </link-entity>
          <link-entity name='contact' from='contactid' to='record2id' link-type='inner'>
            <filter><condition attribute='msdyn_orgchangestatus' operator='eq' value='1' /></filter>
          </link-entity>
        </link-entity>
      </filter>
    </filter>
  </entity>
</fetch>"""


def test_at_risk_opportunity_view_query(emu: Emulator, http: requests.Session) -> None:
    store = emu.store
    left = store.insert("contacts", {"fullname": "Gone", "msdyn_orgchangestatus": LEFT})
    stays = store.insert("contacts", {"fullname": "Here", "msdyn_orgchangestatus": 0})
    stakeholder = store.insert("connectionroles", {"name": "Stakeholder X", "category": 1000})
    colleague = store.insert("connectionroles", {"name": "Colleague X", "category": 1})
    a = store.insert(
        "opportunities", {"name": "A parent left", "statecode": 0, "_parentcontactid_value": left}
    )
    b = store.insert(
        "opportunities", {"name": "B stakeholder left", "statecode": 0, "_parentcontactid_value": stays}
    )
    store.insert("opportunities", {"name": "C won", "statecode": 1, "_parentcontactid_value": left})
    d = store.insert(
        "opportunities", {"name": "D colleague left", "statecode": 0, "_parentcontactid_value": stays}
    )
    store.insert("opportunities", {"name": "E fine", "statecode": 0, "_parentcontactid_value": stays})
    for opportunity, role in ((b, stakeholder), (d, colleague)):
        store.insert(
            "connections",
            {
                "_record1id_value": opportunity,
                "_record2id_value": left,
                "_record2roleid_value": role,
                "record2objecttypecode": 2,
                "statecode": 0,
            },
        )
    r = http.get(emu.api_url + "opportunities", params={"fetchXml": AT_RISK})
    assert r.status_code == 200, r.text
    rows = r.json()["value"]
    assert [row["name"] for row in rows] == ["A parent left", "B stakeholder left"]
    assert rows[0]["_parentcontactid_value"] == left
    assert rows[0]["opportunityid"] == a


def test_my_view_and_errors(emu: Emulator, http: requests.Session) -> None:
    me = http.get(emu.api_url + "WhoAmI").json()["UserId"]
    emu.store.insert("contacts", {"fullname": "Mine", "_ownerid_value": me})
    emu.store.insert("contacts", {"fullname": "Theirs"})
    mine = (
        "<fetch><entity name='contact'><attribute name='fullname' /><filter>"
        "<condition attribute='ownerid' operator='eq-userid' /></filter></entity></fetch>"
    )
    rows = http.get(emu.api_url + "contacts", params={"fetchXml": mine}).json()["value"]
    assert [row["fullname"] for row in rows] == ["Mine"]
    assert http.get(emu.api_url + "accounts", params={"fetchXml": mine}).status_code == 400
    assert http.get(emu.api_url + "contacts", params={"fetchXml": "<fetch><entity"}).status_code == 400
    bad = mine.replace("ownerid", "nosuch")
    assert http.get(emu.api_url + "contacts", params={"fetchXml": bad}).status_code == 400
