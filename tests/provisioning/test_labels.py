"""Label languages per provisioned-language combination (pure)."""

from __future__ import annotations

import pytest

from functions.dataverse.provisioning_labels import ENGLISH, GERMAN, Text, plan_languages

TEXT = Text("No longer at company", "Nicht mehr im Unternehmen")


def test_english_base_with_german_sends_both_base_first() -> None:
    plan = plan_languages([1031, 1033], base=ENGLISH)
    assert plan.codes == (1033, 1031)
    assert plan.others == (1031,)
    assert plan.labels(TEXT) == [(1033, "No longer at company"), (1031, "Nicht mehr im Unternehmen")]


def test_english_only_sends_no_german() -> None:
    plan = plan_languages([1033], base=ENGLISH)
    assert plan.codes == (1033,)
    assert plan.others == ()
    body = plan.label_body(TEXT)
    assert body["@odata.type"] == "Microsoft.Dynamics.CRM.Label"
    assert [(lbl["LanguageCode"], lbl["Label"]) for lbl in body["LocalizedLabels"]] == [
        (1033, "No longer at company")
    ]


def test_german_base_only_sends_german_text_under_1031() -> None:
    plan = plan_languages([1031], base=GERMAN)
    assert plan.codes == (1031,)
    assert plan.labels(TEXT) == [(1031, "Nicht mehr im Unternehmen")]


def test_german_base_with_english_puts_german_first() -> None:
    plan = plan_languages([1033, 1031], base=GERMAN)
    assert plan.codes == (1031, 1033)
    assert plan.others == (1033,)


def test_base_language_missing_from_provisioned_list_is_still_labelled() -> None:
    # Some orgs leave the base language out of RetrieveProvisionedLanguages.
    assert plan_languages([1031], base=ENGLISH).codes == (1033, 1031)


@pytest.mark.parametrize(
    ("provisioned", "expected"),
    [((1036,), (1036,)), ((1036, 1031), (1036, 1031)), ((1036, 1033, 1031, 1040), (1036, 1033, 1031))],
)
def test_other_base_language_gets_english_text_under_its_code(
    provisioned: tuple[int, ...], expected: tuple[int, ...]
) -> None:
    plan = plan_languages(provisioned, base=1036)
    assert plan.codes == expected
    assert plan.labels(TEXT)[0] == (1036, "No longer at company")


def test_localized_labels_carry_odata_types() -> None:
    label = plan_languages([1033, 1031], base=ENGLISH).label_body(TEXT)["LocalizedLabels"][1]
    assert label == {
        "@odata.type": "Microsoft.Dynamics.CRM.LocalizedLabel",
        "Label": "Nicht mehr im Unternehmen",
        "LanguageCode": 1031,
        "IsManaged": False,
    }
