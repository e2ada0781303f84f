"""Provisioning against the Dataverse emulator over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from dataverse_emulator import Emulator, Fault
from functions.dataverse import build_client
from functions.dataverse.column import Flag
from functions.dataverse.provisioning import Action
from functions.dataverse.provisioning_errors import (
    ColumnConflictError,
    PublishFailedError,
    SolutionConflictError,
)
from functions.dataverse.views import canonical_xml, view_id
from tests.provisioning.helpers import actions, config_for, get_json, run_provisioning, writes

CONTACT_ATTRS = "EntityDefinitions(LogicalName='contact')/Attributes"
VIEW_KEYS = ("contacts_all", "contacts_mine", "opportunities_all", "opportunities_mine")
ENGLISH_VIEW_NAMES = {
    "contacts_all": "All Contacts No Longer at Company",
    "contacts_mine": "My Contacts No Longer at Company",
    "opportunities_all": "All Opportunities at Risk – Contact Has Left Company",
    "opportunities_mine": "My Opportunities at Risk – Contact Has Left Company",
}
GERMAN_VIEW_NAMES = {
    "contacts_all": "Alle Kontakte nicht mehr im Unternehmen",
    "contacts_mine": "Meine Kontakte nicht mehr im Unternehmen",
    "opportunities_all": "Alle Geschäftschancen gefährdet – Kontakt hat das Unternehmen verlassen",
    "opportunities_mine": "Meine Geschäftschancen gefährdet – Kontakt hat das Unternehmen verlassen",
}
OWN_COLUMNS = ("contact.dval_nolongeratcompany", "contact.dval_validatedon", "contact.dval_currentemployer")


def stored_view(emu: Emulator, key: str, solution: str = "DataValidation") -> dict | None:
    return emu.store.get("savedqueries", view_id(solution, key))


def attribute(emu: Emulator, name: str) -> dict:
    return get_json(emu, f"{CONTACT_ATTRS}(LogicalName='{name}')")


def options(emu: Emulator, name: str) -> dict[int, dict[int, str]]:
    row = get_json(
        emu,
        f"{CONTACT_ATTRS}(LogicalName='{name}')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
        **{"$select": "LogicalName", "$expand": "OptionSet($select=Options)"},
    )
    return {
        o["Value"]: {lbl["LanguageCode"]: lbl["Label"] for lbl in o["Label"]["LocalizedLabels"]}
        for o in row["OptionSet"]["Options"]
    }


def label_codes(label: dict) -> list[int]:
    return [lbl["LanguageCode"] for lbl in label["LocalizedLabels"]]


def attribute_exists(emu: Emulator, name: str) -> bool:
    from functions.dataverse import errors

    try:
        attribute(emu, name)
    except errors.NotFoundError:
        return False
    return True


# -- first and second run ---------------------------------------------------------------------------


def test_first_run_creates_publisher_solution_columns_views_and_publishes(emu: Emulator) -> None:
    report = run_provisioning(emu)

    assert actions(report) == {
        "dvaldatavalidation": "created",
        "DataValidation": "created",
        **dict.fromkeys(OWN_COLUMNS, "created"),
        **dict.fromkeys(ENGLISH_VIEW_NAMES.values(), "created"),
    }
    # 1 publisher + 1 solution + 3 columns + 4 views; 4 SetLocLabels (German names) + 1 PublishXml.
    assert emu.counters.requests["create"] == 9
    assert emu.counters.requests["action"] == 5
    assert report.published
    assert emu.publish_log == [{"message": "PublishXml", "entities": ["contact", "opportunity"]}]
    assert emu.unpublished("contact") == set()
    assert emu.unpublished("opportunity") == set()

    publishers = get_json(emu, "publishers", **{"$filter": "customizationprefix eq 'dval'"})["value"]
    assert len(publishers) == 1
    assert publishers[0]["customizationoptionvalueprefix"] == 41020
    solution = get_json(emu, "solutions", **{"$filter": "uniquename eq 'DataValidation'"})["value"][0]
    assert solution["version"] == "1.0.0.0"
    assert solution["ismanaged"] is False
    assert solution["_publisherid_value"] == publishers[0]["publisherid"]
    components = get_json(
        emu, "solutioncomponents", **{"$filter": f"_solutionid_value eq {solution['solutionid']}"}
    )["value"]
    assert sorted(c["componenttype"] for c in components) == [2, 2, 2, 26, 26, 26, 26]

    binding = report.binding
    assert binding is not None
    assert binding.logical_name == "dval_nolongeratcompany"
    assert dict(binding.values) == {
        Flag.NO_FEEDBACK: 410200000,
        Flag.NOT_AT_COMPANY: 410200001,
        Flag.IGNORE: 410200002,
    }
    assert options(emu, "dval_nolongeratcompany") == {
        410200000: {1033: "No feedback", 1031: "Kein Feedback"},
        410200001: {1033: "No longer at company", 1031: "Nicht mehr im Unternehmen"},
        410200002: {1033: "Ignore", 1031: "Ignorieren"},
    }
    flag = attribute(emu, "dval_nolongeratcompany")
    assert flag["AttributeType"] == "Picklist"
    assert {lbl["Label"] for lbl in flag["DisplayName"]["LocalizedLabels"]} == {
        "No longer at company",
        "Nicht mehr im Unternehmen",
    }
    assert attribute(emu, "dval_validatedon")["AttributeType"] == "DateTime"
    employer = attribute(emu, "dval_currentemployer")
    assert (employer["AttributeType"], employer["MaxLength"]) == ("String", 200)
    assert report.supporting_columns is not None
    assert report.supporting_columns.to_dict() == {
        "validated_on": "dval_validatedon",
        "current_employer": "dval_currentemployer",
    }

    for key in VIEW_KEYS:
        row = stored_view(emu, key)
        assert row is not None, key
        assert row["name"] == ENGLISH_VIEW_NAMES[key]
        assert row["querytype"] == 0
        assert row["returnedtypecode"] == ("contact" if key.startswith("contacts") else "opportunity")
        assert 'value="410200001"' in row["fetchxml"]
        assert emu.loc_labels("savedqueries", row["savedqueryid"], "name")[1031] == GERMAN_VIEW_NAMES[key]

    assert json.loads(json.dumps(report.to_dict()))["requests"]["total"] == report.request_total > 0
    text = report.render()
    assert "created" in text
    assert f"Requests: {report.request_total}" in text


def test_second_run_sends_no_write_and_publishes_nothing(emu: Emulator) -> None:
    first = run_provisioning(emu)
    emu.counters.reset()

    second = run_provisioning(emu)

    assert writes(emu) == {}, "a second run must not write"
    assert emu.counters.requests["create"] == 0
    assert set(actions(second).values()) == {"exists"}
    assert not second.changed
    assert not second.published
    assert len(emu.publish_log) == 1
    assert second.binding == first.binding
    assert second.request_total == sum(emu.counters.requests.values())
    assert "nothing changed, nothing published" in second.render()


# -- repair -------------------------------------------------------------------------------------------


def test_deleted_view_is_recreated_with_the_same_id(emu: Emulator) -> None:
    run_provisioning(emu)
    old_id = stored_view(emu, "opportunities_mine")["savedqueryid"]
    emu.store.delete("savedqueries", old_id)
    emu.counters.reset()

    report = run_provisioning(emu)

    assert actions(report)[ENGLISH_VIEW_NAMES["opportunities_mine"]] == "created"
    assert [c.action for c in report.components].count(Action.CREATED) == 1
    assert emu.counters.requests["create"] == 1
    assert stored_view(emu, "opportunities_mine")["savedqueryid"] == old_id
    assert report.published
    assert len(emu.publish_log) == 2


def test_drifted_view_is_updated_and_reserialised_view_is_not(emu: Emulator) -> None:
    run_provisioning(emu)
    desired = stored_view(emu, "contacts_all")
    drifted_id = desired["savedqueryid"]
    emu.store.update("savedqueries", drifted_id, {"fetchxml": desired["fetchxml"].replace("410200001", "1")})
    # Same XML with other quotes and spacing, as Dataverse may store it: not a drift.
    mine = stored_view(emu, "contacts_mine")
    emu.store.update(
        "savedqueries",
        mine["savedqueryid"],
        {"layoutxml": mine["layoutxml"].replace('"', "'").replace("><", "> <")},
    )
    emu.counters.reset()

    report = run_provisioning(emu)

    assert actions(report)[ENGLISH_VIEW_NAMES["contacts_all"]] == "updated"
    assert actions(report)[ENGLISH_VIEW_NAMES["contacts_mine"]] == "exists"
    assert emu.counters.requests["update"] == 1
    assert emu.counters.requests["create"] == 0
    assert canonical_xml(stored_view(emu, "contacts_all")["fetchxml"]) == canonical_xml(desired["fetchxml"])
    assert report.published


def test_renamed_view_and_lost_german_name_are_repaired(emu: Emulator) -> None:
    run_provisioning(emu)
    renamed = stored_view(emu, "contacts_mine")["savedqueryid"]
    emu.store.update("savedqueries", renamed, {"name": "Somebody renamed this"})
    lost = stored_view(emu, "opportunities_all")["savedqueryid"]
    emu.service.loc_labels.pop(("savedquery", lost, "name"))
    emu.counters.reset()

    report = run_provisioning(emu)

    assert actions(report)[ENGLISH_VIEW_NAMES["contacts_mine"]] == "updated"
    assert actions(report)[ENGLISH_VIEW_NAMES["opportunities_all"]] == "updated"
    assert emu.counters.requests["create"] == 0
    assert stored_view(emu, "contacts_mine")["name"] == ENGLISH_VIEW_NAMES["contacts_mine"]
    assert emu.loc_labels("savedqueries", lost, "name") == {1031: GERMAN_VIEW_NAMES["opportunities_all"]}


# -- languages ----------------------------------------------------------------------------------------


def test_english_only_org_gets_no_german_labels(emulator_factory: Callable[..., Emulator]) -> None:
    emu = emulator_factory(None, provisioned_languages=(1033,))

    report = run_provisioning(emu)

    assert report.languages == (1033,)
    assert label_codes(attribute(emu, "dval_nolongeratcompany")["DisplayName"]) == [1033]
    assert label_codes(attribute(emu, "dval_validatedon")["DisplayName"]) == [1033]
    assert label_codes(attribute(emu, "dval_currentemployer")["Description"]) == [1033]
    assert {code for labels in options(emu, "dval_nolongeratcompany").values() for code in labels} == {1033}
    assert emu.counters.requests["action"] == 1, "only PublishXml: no SetLocLabels without German"
    assert emu.loc_labels("savedqueries", view_id("DataValidation", "contacts_all"), "name") == {}

    emu.counters.reset()
    assert set(actions(run_provisioning(emu)).values()) == {"exists"}
    assert writes(emu) == {}


def test_german_base_language_org(emulator_factory: Callable[..., Emulator]) -> None:
    emu = emulator_factory(None, base_language=1031, provisioned_languages=(1031,))

    report = run_provisioning(emu)

    assert report.languages == (1031,)
    assert {c.name for c in report.components if c.kind == "view"} == set(GERMAN_VIEW_NAMES.values())
    for key in VIEW_KEYS:
        assert stored_view(emu, key)["name"] == GERMAN_VIEW_NAMES[key]
    flag = attribute(emu, "dval_nolongeratcompany")
    assert [(lbl["LanguageCode"], lbl["Label"]) for lbl in flag["DisplayName"]["LocalizedLabels"]] == [
        (1031, "Nicht mehr im Unternehmen")
    ]
    assert options(emu, "dval_nolongeratcompany")[410200001] == {1031: "Nicht mehr im Unternehmen"}
    assert emu.counters.requests["action"] == 1

    emu.counters.reset()
    assert set(actions(run_provisioning(emu)).values()) == {"exists"}
    assert writes(emu) == {}


def test_german_base_with_english_sets_english_view_names(emulator_factory: Callable[..., Emulator]) -> None:
    emu = emulator_factory(None, base_language=1031, provisioned_languages=(1031, 1033))

    run_provisioning(emu)

    row = stored_view(emu, "opportunities_all")
    assert row["name"] == GERMAN_VIEW_NAMES["opportunities_all"]
    assert emu.loc_labels("savedqueries", row["savedqueryid"], "name") == {
        1033: ENGLISH_VIEW_NAMES["opportunities_all"]
    }
    assert label_codes(attribute(emu, "dval_validatedon")["DisplayName"]) == [1031, 1033]
    emu.counters.reset()
    run_provisioning(emu)
    assert writes(emu) == {}


def test_org_without_english_or_german_gets_english_text_under_its_base_language(
    emulator_factory: Callable[..., Emulator],
) -> None:
    emu = emulator_factory(None, base_language=1036, provisioned_languages=(1036,))

    report = run_provisioning(emu)

    assert report.languages == (1036,)
    flag = attribute(emu, "dval_nolongeratcompany")
    assert [(lbl["LanguageCode"], lbl["Label"]) for lbl in flag["DisplayName"]["LocalizedLabels"]] == [
        (1036, "No longer at company")
    ]
    assert stored_view(emu, "contacts_all")["name"] == ENGLISH_VIEW_NAMES["contacts_all"]
    assert emu.counters.requests["action"] == 1


# -- msdyn_orgchangestatus ----------------------------------------------------------------------------


def test_msdyn_mode_uses_microsofts_column(emulator_factory: Callable[..., Emulator]) -> None:
    emu = emulator_factory(None, with_msdyn_orgchangestatus=True)

    report = run_provisioning(emu, target_column="msdyn_orgchangestatus")

    assert report.binding is not None
    assert report.binding.logical_name == "msdyn_orgchangestatus"
    assert (report.binding.no_feedback, report.binding.not_at_company, report.binding.ignore) == (0, 1, 2)
    assert actions(report)["contact.msdyn_orgchangestatus"] == "exists"
    assert not attribute_exists(emu, "dval_nolongeratcompany")
    # The supporting columns carry what Microsoft's column does not: still created.
    assert actions(report)["contact.dval_validatedon"] == "created"
    assert actions(report)["contact.dval_currentemployer"] == "created"
    assert emu.counters.requests["create"] == 2 + 2 + 4
    fetchxml = stored_view(emu, "contacts_all")["fetchxml"]
    assert 'attribute="msdyn_orgchangestatus" operator="eq" value="1"' in fetchxml

    emu.counters.reset()
    run_provisioning(emu, target_column="msdyn_orgchangestatus")
    assert writes(emu) == {}


def test_msdyn_mode_without_the_column_fails_before_writing(emu: Emulator) -> None:
    with pytest.raises(ColumnConflictError) as raised:
        run_provisioning(emu, target_column="msdyn_orgchangestatus")

    message = str(raised.value)
    assert "msdyn_orgchangestatus does not exist" in message
    assert "DATAVERSE_TARGET_COLUMN=own" in message
    assert writes(emu) == {}


# -- refusals -----------------------------------------------------------------------------------------


def test_solution_of_a_publisher_with_another_prefix_is_refused(emu: Emulator) -> None:
    publisher_id = emu.store.insert(
        "publishers",
        {
            "uniquename": "contoso",
            "friendlyname": "Contoso",
            "customizationprefix": "contoso",
            "customizationoptionvalueprefix": 55555,
        },
    )
    emu.store.insert(
        "solutions",
        {
            "uniquename": "DataValidation",
            "friendlyname": "DV",
            "version": "1.0.0.0",
            "_publisherid_value": publisher_id,
            "ismanaged": False,
        },
    )
    emu.counters.reset()

    with pytest.raises(SolutionConflictError) as raised:
        run_provisioning(emu)

    message = str(raised.value)
    assert "'contoso'" in message
    assert "'dval'" in message
    assert "DATAVERSE_PUBLISHER_PREFIX" in message
    assert (raised.value.expected_prefix, raised.value.actual_prefix) == ("dval", "contoso")
    assert writes(emu) == {}


def test_managed_solution_is_refused(emu: Emulator) -> None:
    with pytest.raises(SolutionConflictError, match="managed"):
        run_provisioning(emu, solution_name="System")
    assert writes(emu) == {}


def test_existing_column_of_the_wrong_type_is_refused(emu: Emulator) -> None:
    config = config_for(emu)
    with build_client(config) as client:
        client.create(
            CONTACT_ATTRS,
            {
                "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
                "SchemaName": "dval_NoLongerAtCompany",
                "MaxLength": 10,
            },
        )
    emu.counters.reset()

    with pytest.raises(ColumnConflictError, match=r"exists as String, not Picklist"):
        run_provisioning(emu)
    assert writes(emu) == {}


def test_existing_choice_column_without_our_options_is_refused(emu: Emulator) -> None:
    config = config_for(emu)
    label = {"LocalizedLabels": [{"Label": "Yes", "LanguageCode": 1033}]}
    with build_client(config) as client:
        client.create(
            CONTACT_ATTRS,
            {
                "@odata.type": "Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
                "SchemaName": "dval_NoLongerAtCompany",
                "OptionSet": {"IsGlobal": False, "Options": [{"Value": 1, "Label": label}]},
            },
        )
    emu.counters.reset()

    with pytest.raises(ColumnConflictError) as raised:
        run_provisioning(emu)
    assert "410200001 (No longer at company)" in str(raised.value)
    assert "1 (Yes)" in str(raised.value)
    assert writes(emu) == {}


def test_existing_publisher_option_value_prefix_wins(emu: Emulator) -> None:
    emu.store.insert(
        "publishers",
        {
            "uniquename": "dvalpub",
            "friendlyname": "DV",
            "customizationprefix": "dval",
            "customizationoptionvalueprefix": 12345,
        },
    )

    report = run_provisioning(emu)

    assert actions(report)["dvalpub"] == "exists"
    assert report.binding is not None
    assert dict(report.binding.values) == {
        Flag.NO_FEEDBACK: 123450000,
        Flag.NOT_AT_COMPANY: 123450001,
        Flag.IGNORE: 123450002,
    }
    assert 'value="123450001"' in stored_view(emu, "opportunities_mine")["fetchxml"]
    assert any("12345" in note for note in report.notes)


# -- dry run ------------------------------------------------------------------------------------------


def test_dry_run_writes_nothing_and_reports_what_it_would_do(emu: Emulator) -> None:
    report = run_provisioning(emu, dry_run=True)

    assert writes(emu) == {}
    assert emu.publish_log == []
    assert set(actions(report).values()) == {"would_create"}
    assert len(report.components) == 2 + 3 + 4
    assert report.binding is not None
    assert report.binding.not_at_company == 410200001
    assert not report.published
    assert "DRY RUN" in report.render()
    assert "would publish" in report.render()

    run_provisioning(emu)
    stored = stored_view(emu, "contacts_all")
    emu.store.update("savedqueries", stored["savedqueryid"], {"layoutxml": "<grid/>"})
    emu.counters.reset()

    again = run_provisioning(emu, dry_run=True)

    assert writes(emu) == {}
    assert actions(again)[ENGLISH_VIEW_NAMES["contacts_all"]] == "would_update"
    assert stored_view(emu, "contacts_all")["layoutxml"] == "<grid/>"


# -- publish failure ----------------------------------------------------------------------------------


def test_failed_publish_says_how_to_finish_and_force_publish_finishes(emu: Emulator) -> None:
    emu.faults.add(Fault("server_error", method="POST", path=r"^PublishXml", times=1, status=500))

    with pytest.raises(PublishFailedError) as raised:
        run_provisioning(emu)

    assert "provision --publish" in str(raised.value)
    assert raised.value.report.changed
    assert emu.publish_log == []
    assert emu.unpublished("contact")

    emu.counters.reset()
    unchanged = run_provisioning(emu)
    assert not unchanged.published, "nothing changed, so a plain run does not publish"

    forced = run_provisioning(emu, force_publish=True)
    assert forced.published
    assert set(actions(forced).values()) == {"exists"}
    assert emu.publish_log == [{"message": "PublishXml", "entities": ["contact", "opportunity"]}]
    assert emu.unpublished("contact") == set()
    assert emu.counters.requests["create"] == 0
