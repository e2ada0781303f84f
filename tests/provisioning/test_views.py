"""FetchXML / layoutxml of the four views, parsed back with ElementTree (pure)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from functions.dataverse.column import ColumnBinding, SupportingColumns, option_values
from functions.dataverse.provisioning_labels import plan_languages
from functions.dataverse.views import canonical_xml, desired_views, same_xml, view_id

BINDING = ColumnBinding("dval_nolongeratcompany", option_values(41020))
SUPPORTING = SupportingColumns(validated_on="dval_validatedon", current_employer="dval_currentemployer")
VIEWS = {view.key: view for view in desired_views(BINDING, SUPPORTING)}


def parse(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 - XML we generated ourselves


def conditions(element: ET.Element) -> set[tuple[str, str, str | None]]:
    """Conditions directly in the element's filters (not inside nested link-entities)."""
    found = set()
    for filter_el in element.findall("filter"):
        for cond in filter_el.iter("condition"):
            found.add((cond.get("attribute"), cond.get("operator"), cond.get("value")))
    return found


def direct_conditions(filter_el: ET.Element) -> set[tuple[str, str, str | None]]:
    return {(c.get("attribute"), c.get("operator"), c.get("value")) for c in filter_el.findall("condition")}


def test_four_views_with_english_and_german_names() -> None:
    assert [(v.entity, v.name.en, v.name.de) for v in VIEWS.values()] == [
        ("contact", "All Contacts No Longer at Company", "Alle Kontakte nicht mehr im Unternehmen"),
        ("contact", "My Contacts No Longer at Company", "Meine Kontakte nicht mehr im Unternehmen"),
        (
            "opportunity",
            "All Opportunities at Risk – Contact Has Left Company",
            "Alle Geschäftschancen gefährdet – Kontakt hat das Unternehmen verlassen",
        ),
        (
            "opportunity",
            "My Opportunities at Risk – Contact Has Left Company",
            "Meine Geschäftschancen gefährdet – Kontakt hat das Unternehmen verlassen",
        ),
    ]


@pytest.mark.parametrize(("key", "mine"), [("contacts_all", False), ("contacts_mine", True)])
def test_contact_view_fetchxml(key: str, mine: bool) -> None:
    fetch = parse(VIEWS[key].fetchxml)
    entity = fetch.find("entity")
    assert entity.get("name") == "contact"
    expected = {("statecode", "eq", "0"), ("dval_nolongeratcompany", "eq", "410200001")}
    if mine:
        expected.add(("ownerid", "eq-userid", None))
    assert conditions(entity) == expected
    assert entity.find("filter").get("type") == "and"
    assert [a.get("name") for a in entity.findall("attribute")] == [
        "fullname",
        "parentcustomerid",
        "dval_currentemployer",
        "dval_validatedon",
        "emailaddress1",
        "telephone1",
        "ownerid",
        "contactid",
    ]
    assert entity.find("link-entity") is None


def test_flag_value_comes_from_the_binding() -> None:
    msdyn = ColumnBinding("msdyn_orgchangestatus", dict(zip(BINDING.values, (0, 1, 2), strict=True)))
    views = {v.key: v for v in desired_views(msdyn, SUPPORTING)}
    entity = parse(views["contacts_all"].fetchxml).find("entity")
    assert ("msdyn_orgchangestatus", "eq", "1") in conditions(entity)
    assert 'value="1"' in views["opportunities_mine"].fetchxml
    assert "410200001" not in views["opportunities_mine"].fetchxml


@pytest.mark.parametrize(("key", "mine"), [("opportunities_all", False), ("opportunities_mine", True)])
def test_opportunity_view_fetchxml(key: str, mine: bool) -> None:
    fetch = parse(VIEWS[key].fetchxml)
    assert fetch.get("distinct") == "true"
    entity = fetch.find("entity")
    assert entity.get("name") == "opportunity"
    top = entity.find("filter")
    assert top.get("type") == "and"
    top_conditions = direct_conditions(top)
    assert ("statecode", "eq", "0") in top_conditions
    assert (("ownerid", "eq-userid", None) in top_conditions) is mine
    assert len(top_conditions) == (2 if mine else 1)
    assert entity.find("link-entity") is None, "links live inside the or-filter, not as joins"

    either = top.find("filter")
    assert either.get("type") == "or"
    parent, connection = either.findall("link-entity")

    assert (parent.get("name"), parent.get("from"), parent.get("to"), parent.get("link-type")) == (
        "contact",
        "contactid",
        "parentcontactid",
        "any",
    )
    assert direct_conditions(parent.find("filter")) == {("dval_nolongeratcompany", "eq", "410200001")}

    assert (
        connection.get("name"),
        connection.get("from"),
        connection.get("to"),
        connection.get("link-type"),
    ) == (
        "connection",
        "record1id",
        "opportunityid",
        "any",
    )
    assert direct_conditions(connection.find("filter")) == {
        ("statecode", "eq", "0"),
        ("record2objecttypecode", "eq", "2"),
    }
    role, stakeholder = connection.findall("link-entity")
    assert (role.get("name"), role.get("from"), role.get("to"), role.get("link-type")) == (
        "connectionrole",
        "connectionroleid",
        "record2roleid",
        "inner",
    )
    assert direct_conditions(role.find("filter")) == {("category", "eq", "1000")}
    assert (
        stakeholder.get("name"),
        stakeholder.get("from"),
        stakeholder.get("to"),
        stakeholder.get("link-type"),
    ) == (
        "contact",
        "contactid",
        "record2id",
        "inner",
    )
    assert direct_conditions(stakeholder.find("filter")) == {("dval_nolongeratcompany", "eq", "410200001")}
    assert [a.get("name") for a in entity.findall("attribute")] == [
        "name",
        "parentcontactid",
        "customerid",
        "estimatedvalue",
        "estimatedclosedate",
        "ownerid",
        "opportunityid",
    ]


@pytest.mark.parametrize(
    ("key", "obj", "jump", "row_id"),
    [
        ("contacts_all", "2", "fullname", "contactid"),
        ("contacts_mine", "2", "fullname", "contactid"),
        ("opportunities_all", "3", "name", "opportunityid"),
        ("opportunities_mine", "3", "name", "opportunityid"),
    ],
)
def test_layoutxml(key: str, obj: str, jump: str, row_id: str) -> None:
    grid = parse(VIEWS[key].layoutxml)
    assert (grid.tag, grid.get("name"), grid.get("object"), grid.get("jump")) == (
        "grid",
        "resultset",
        obj,
        jump,
    )
    row = grid.find("row")
    assert (row.get("name"), row.get("id")) == ("result", row_id)
    cells = [cell.get("name") for cell in row.findall("cell")]
    fetch_attributes = [a.get("name") for a in parse(VIEWS[key].fetchxml).find("entity").findall("attribute")]
    assert cells == fetch_attributes[:-1], "every grid column is fetched (primary key only fetched)"
    assert all(cell.get("width", "").isdigit() for cell in row.findall("cell"))


def test_values_are_escaped_by_the_xml_builder() -> None:
    hostile = ColumnBinding('x" operator="ne', option_values(41020))
    fetchxml = desired_views(hostile, SUPPORTING)[0].fetchxml
    entity = parse(fetchxml).find("entity")
    assert ('x" operator="ne', "eq", "410200001") in conditions(entity)


def test_create_body_uses_base_language_and_deterministic_id() -> None:
    view = VIEWS["opportunities_mine"]
    english = view.create_body(plan_languages([1033, 1031], base=1033), "DataValidation")
    german = view.create_body(plan_languages([1031], base=1031), "DataValidation")
    assert english["name"] == "My Opportunities at Risk – Contact Has Left Company"
    assert german["name"] == "Meine Geschäftschancen gefährdet – Kontakt hat das Unternehmen verlassen"
    assert english["querytype"] == 0
    assert english["returnedtypecode"] == "opportunity"
    assert (
        english["savedqueryid"] == german["savedqueryid"] == view_id("DataValidation", "opportunities_mine")
    )
    assert view_id("DataValidation", "contacts_all") != view_id("DataValidation", "contacts_mine")
    assert view_id("DataValidation", "contacts_all") != view_id("OtherSolution", "contacts_all")


def test_canonical_comparison_ignores_quotes_order_and_whitespace() -> None:
    view = VIEWS["contacts_all"]
    reserialised = (
        view.fetchxml.replace('"', "'")
        .replace("><", ">\n  <")
        .replace("version='1.0' output-format", "output-format")
    )
    reserialised = reserialised.replace("<fetch ", "<fetch version='1.0' ", 1)
    assert canonical_xml(reserialised) == canonical_xml(view.fetchxml)
    assert not view.differs_from({"fetchxml": reserialised, "layoutxml": view.layoutxml})
    assert view.differs_from(
        {"fetchxml": view.fetchxml.replace("410200001", "410200002"), "layoutxml": view.layoutxml}
    )
    assert view.differs_from({"fetchxml": "<fetch", "layoutxml": view.layoutxml})
    assert view.differs_from({"fetchxml": None, "layoutxml": view.layoutxml})
    assert not same_xml(view.layoutxml, "")
