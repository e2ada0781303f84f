"""Option values, column bodies and the binding read back from options (pure)."""

from __future__ import annotations

import pytest

from functions.dataverse.column import (
    MSDYN_VALUES,
    ColumnBinding,
    Flag,
    binding_from_options,
    flag_column_spec,
    option_values,
    supporting_column_specs,
)
from functions.dataverse.provisioning_errors import ColumnConflictError
from functions.dataverse.provisioning_labels import plan_languages


def test_option_values_follow_the_publisher_prefix() -> None:
    assert option_values(41020) == {
        Flag.NO_FEEDBACK: 410200000,
        Flag.NOT_AT_COMPANY: 410200001,
        Flag.IGNORE: 410200002,
    }
    assert option_values(10000)[Flag.IGNORE] == 100000002
    assert option_values(99999)[Flag.NO_FEEDBACK] == 999990000


@pytest.mark.parametrize("prefix", [9999, 100000, 0])
def test_option_value_prefix_must_have_five_digits(prefix: int) -> None:
    with pytest.raises(ValueError, match="5 digits"):
        option_values(prefix)


def test_msdyn_values_are_zero_one_two() -> None:
    assert MSDYN_VALUES == {Flag.NO_FEEDBACK: 0, Flag.NOT_AT_COMPANY: 1, Flag.IGNORE: 2}


def test_choice_column_body() -> None:
    spec = flag_column_spec("dval", option_values(41020))
    assert spec.logical_name == "dval_nolongeratcompany"
    body = spec.create_body(plan_languages([1033, 1031], base=1033))
    assert body["@odata.type"] == "Microsoft.Dynamics.CRM.PicklistAttributeMetadata"
    assert body["SchemaName"] == "dval_NoLongerAtCompany"
    assert body["DefaultFormValue"] == 410200000
    assert body["RequiredLevel"]["Value"] == "None"
    assert body["OptionSet"]["IsGlobal"] is False
    options = {
        o["Value"]: [(lbl["LanguageCode"], lbl["Label"]) for lbl in o["Label"]["LocalizedLabels"]]
        for o in body["OptionSet"]["Options"]
    }
    assert options == {
        410200000: [(1033, "No feedback"), (1031, "Kein Feedback")],
        410200001: [(1033, "No longer at company"), (1031, "Nicht mehr im Unternehmen")],
        410200002: [(1033, "Ignore"), (1031, "Ignorieren")],
    }
    display = body["DisplayName"]["LocalizedLabels"]
    assert [lbl["Label"] for lbl in display] == ["No longer at company", "Nicht mehr im Unternehmen"]


def test_choice_column_body_english_only_has_no_german() -> None:
    body = flag_column_spec("dval", option_values(41020)).create_body(plan_languages([1033], base=1033))
    codes = {
        lbl["LanguageCode"] for o in body["OptionSet"]["Options"] for lbl in o["Label"]["LocalizedLabels"]
    }
    assert codes == {1033}


def test_supporting_column_bodies() -> None:
    validated_on, employer = supporting_column_specs("dval")
    plan = plan_languages([1033, 1031], base=1033)
    v = validated_on.create_body(plan)
    assert v["@odata.type"] == "Microsoft.Dynamics.CRM.DateTimeAttributeMetadata"
    assert v["SchemaName"] == "dval_ValidatedOn"
    assert v["Format"] == "DateAndTime"
    assert [lbl["Label"] for lbl in v["DisplayName"]["LocalizedLabels"]] == ["Validated on", "Geprüft am"]
    e = employer.create_body(plan)
    assert e["@odata.type"] == "Microsoft.Dynamics.CRM.StringAttributeMetadata"
    assert e["SchemaName"] == "dval_CurrentEmployer"
    assert e["MaxLength"] == 200
    assert [lbl["Label"] for lbl in e["DisplayName"]["LocalizedLabels"]] == [
        "Current employer (per profile)",
        "Aktueller Arbeitgeber (laut Profil)",
    ]
    assert employer.logical_name == "dval_currentemployer"


def _option(value: int, label: str) -> dict:
    return {"Value": value, "Label": {"LocalizedLabels": [{"Label": label, "LanguageCode": 1033}]}}


def test_binding_maps_options_by_value_and_tolerates_extra_options() -> None:
    options = [_option(2, "Ignore"), _option(0, "No Feedback"), _option(1, "Not at Company"), _option(7, "x")]
    binding = binding_from_options("msdyn_orgchangestatus", options, MSDYN_VALUES, fix="")
    assert binding == ColumnBinding("msdyn_orgchangestatus", MSDYN_VALUES)
    assert (binding.no_feedback, binding.not_at_company, binding.ignore) == (0, 1, 2)
    assert binding.flag_for(1) is Flag.NOT_AT_COMPANY
    assert binding.flag_for(None) is None
    assert binding.flag_for(7) is None
    assert binding.to_dict() == {
        "logical_name": "msdyn_orgchangestatus",
        "values": {"no_feedback": 0, "not_at_company": 1, "ignore": 2},
    }


def test_binding_with_missing_values_raises_a_clear_error() -> None:
    options = [_option(410200000, "No feedback"), _option(5, "Other")]
    with pytest.raises(ColumnConflictError) as raised:
        binding_from_options("dval_nolongeratcompany", options, option_values(41020), fix="Fix it.")
    message = str(raised.value)
    assert "410200001 (No longer at company)" in message
    assert "410200002 (Ignore)" in message
    assert "5 (Other)" in message
    assert message.endswith("Fix it.")
    assert raised.value.column == "dval_nolongeratcompany"


def test_binding_round_trips_through_dict() -> None:
    binding = ColumnBinding("dval_nolongeratcompany", option_values(41020))
    assert ColumnBinding.from_dict(binding.to_dict()) == binding
    with pytest.raises(ValueError, match="ignore"):
        ColumnBinding.from_dict({"logical_name": "x", "values": {"no_feedback": 0, "not_at_company": 1}})
