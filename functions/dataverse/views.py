"""The four system views (savedquery): their FetchXML, layout XML, names, and stable ids.

XML is built with ElementTree so no value can break the markup, and compared in canonical form
(C14N, whitespace stripped) because Dataverse may re-serialise what it stores.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from functions.dataverse.column import ColumnBinding, SupportingColumns
from functions.dataverse.provisioning_labels import LanguagePlan, Text

CONTACT = "contact"
OPPORTUNITY = "opportunity"
# layoutxml "object" = entity type code.
OBJECT_TYPE_CODES = {CONTACT: 2, OPPORTUNITY: 3}
PRIMARY_NAME = {CONTACT: "fullname", OPPORTUNITY: "name"}
PRIMARY_KEY = {CONTACT: "contactid", OPPORTUNITY: "opportunityid"}
STAKEHOLDER_ROLE_CATEGORY = 1000
ACTIVE = 0  # statecode 0: active contact, open opportunity, active connection

# Fixed namespace for uuid5 view ids: the same solution and view key give the same savedqueryid
# in every run, so a deleted view comes back under its old id (bookmarks and links keep working).
VIEW_ID_NAMESPACE = uuid.UUID("6f0b7a52-3c1e-4d8a-9a51-2f4f1f7e9d10")


@dataclass(frozen=True)
class ViewSpec:
    """One system view as we want it to be."""

    key: str
    entity: str
    name: Text
    description: Text
    fetchxml: str
    layoutxml: str

    def savedquery_id(self, solution: str) -> str:
        """Deterministic ``savedqueryid`` for this view in this solution."""
        return view_id(solution, self.key)

    def create_body(self, plan: LanguagePlan, solution: str) -> dict[str, Any]:
        """Body for ``POST savedqueries``; name and description in the org's base language."""
        return {
            "savedqueryid": self.savedquery_id(solution),
            "name": self.name.in_language(plan.base),
            "description": self.description.in_language(plan.base),
            "returnedtypecode": self.entity,
            "querytype": 0,
            "isdefault": False,
            "isquickfindquery": False,
            "fetchxml": self.fetchxml,
            "layoutxml": self.layoutxml,
        }

    def differs_from(self, row: dict[str, Any]) -> bool:
        """True if a stored savedquery row has another query or layout than this spec."""
        return not (
            same_xml(self.fetchxml, row.get("fetchxml")) and same_xml(self.layoutxml, row.get("layoutxml"))
        )


def view_id(solution: str, key: str) -> str:
    return str(uuid.uuid5(VIEW_ID_NAMESPACE, f"{solution.lower()}/{key}"))


def canonical_xml(text: str) -> str:
    """C14N form without insignificant whitespace; raises ``ET.ParseError`` on bad XML."""
    return ET.canonicalize(xml_data=text, strip_text=True)


def same_xml(desired: str, stored: str | None) -> bool:
    """Compare two XML documents by meaning of markup, not by quoting, attribute order or spacing."""
    if not stored:
        return False
    try:
        return canonical_xml(desired) == canonical_xml(stored)
    except ET.ParseError:
        return False


def _sub(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, tag, attrs)


def _link(parent: ET.Element, entity: str, *, from_: str, to: str, link_type: str) -> ET.Element:
    # "from" and "link-type" are not Python identifiers, hence the explicit mapping.
    return ET.SubElement(
        parent, "link-entity", {"name": entity, "from": from_, "to": to, "link-type": link_type}
    )


def _condition(parent: ET.Element, attribute: str, operator: str, value: object | None = None) -> None:
    attrs = {"attribute": attribute, "operator": operator}
    if value is not None:
        attrs["value"] = str(value)
    _sub(parent, "condition", **attrs)


def _fetch(
    entity: str, attributes: list[str], *, distinct: bool, order_by: str
) -> tuple[ET.Element, ET.Element]:
    fetch = ET.Element(
        "fetch",
        {
            "version": "1.0",
            "output-format": "xml-platform",
            "mapping": "logical",
            "distinct": "true" if distinct else "false",
        },
    )
    entity_el = _sub(fetch, "entity", name=entity)
    for attribute in [*attributes, PRIMARY_KEY[entity]]:
        _sub(entity_el, "attribute", name=attribute)
    _sub(entity_el, "order", attribute=order_by, descending="false")
    return fetch, entity_el


def _to_string(element: ET.Element) -> str:
    return ET.tostring(element, encoding="unicode")


def contact_view_fetchxml(binding: ColumnBinding, supporting: SupportingColumns, *, mine: bool) -> str:
    """Active contacts flagged "No longer at company" (owned by the current user if ``mine``)."""
    fetch, entity = _fetch(CONTACT, contact_view_columns(supporting), distinct=False, order_by="fullname")
    where = _sub(entity, "filter", type="and")
    _condition(where, "statecode", "eq", ACTIVE)
    _condition(where, binding.logical_name, "eq", binding.not_at_company)
    if mine:
        _condition(where, "ownerid", "eq-userid")
    return _to_string(fetch)


def opportunity_view_fetchxml(binding: ColumnBinding, *, mine: bool) -> str:
    """Open opportunities whose parent contact or a stakeholder contact is flagged.

    Stakeholders are connections with record1 = the opportunity (each connection exists twice,
    once per direction; this side avoids double counting), active, record2 a contact, with a
    connection role of category Stakeholder. ``any`` links inside an ``or`` filter return each
    opportunity once; ``distinct`` guards against duplicates anyway.
    """
    fetch, entity = _fetch(
        OPPORTUNITY, OPPORTUNITY_VIEW_COLUMNS, distinct=True, order_by="estimatedclosedate"
    )
    where = _sub(entity, "filter", type="and")
    _condition(where, "statecode", "eq", ACTIVE)
    if mine:
        _condition(where, "ownerid", "eq-userid")
    either = _sub(where, "filter", type="or")

    parent = _link(either, CONTACT, from_="contactid", to="parentcontactid", link_type="any")
    parent_filter = _sub(parent, "filter", type="and")
    _condition(parent_filter, binding.logical_name, "eq", binding.not_at_company)

    connection = _link(either, "connection", from_="record1id", to="opportunityid", link_type="any")
    connection_filter = _sub(connection, "filter", type="and")
    _condition(connection_filter, "statecode", "eq", ACTIVE)
    _condition(connection_filter, "record2objecttypecode", "eq", OBJECT_TYPE_CODES[CONTACT])
    role = _link(
        connection, "connectionrole", from_="connectionroleid", to="record2roleid", link_type="inner"
    )
    role_filter = _sub(role, "filter", type="and")
    _condition(role_filter, "category", "eq", STAKEHOLDER_ROLE_CATEGORY)
    stakeholder = _link(connection, CONTACT, from_="contactid", to="record2id", link_type="inner")
    stakeholder_filter = _sub(stakeholder, "filter", type="and")
    _condition(stakeholder_filter, binding.logical_name, "eq", binding.not_at_company)
    return _to_string(fetch)


OPPORTUNITY_VIEW_COLUMNS = [
    "name",
    "parentcontactid",
    "customerid",
    "estimatedvalue",
    "estimatedclosedate",
    "ownerid",
]
# Grid widths in pixels, by column; anything else gets the default.
_WIDTHS = {
    "fullname": 200,
    "name": 250,
    "emailaddress1": 200,
    "telephone1": 125,
    "estimatedclosedate": 125,
    "estimatedvalue": 125,
}
_DEFAULT_WIDTH = 150


def contact_view_columns(supporting: SupportingColumns) -> list[str]:
    return [
        "fullname",
        "parentcustomerid",
        supporting.current_employer,
        supporting.validated_on,
        "emailaddress1",
        "telephone1",
        "ownerid",
    ]


def layoutxml(entity: str, columns: list[str]) -> str:
    """Grid layout: ``object`` = entity type code, ``jump`` = primary name, one cell per column."""
    grid = ET.Element(
        "grid",
        {
            "name": "resultset",
            "object": str(OBJECT_TYPE_CODES[entity]),
            "jump": PRIMARY_NAME[entity],
            "select": "1",
            "icon": "1",
            "preview": "1",
        },
    )
    row = _sub(grid, "row", name="result", id=PRIMARY_KEY[entity])
    for column in columns:
        _sub(row, "cell", name=column, width=str(_WIDTHS.get(column, _DEFAULT_WIDTH)))
    return _to_string(grid)


_CONTACTS_ALL = Text("All Contacts No Longer at Company", "Alle Kontakte nicht mehr im Unternehmen")
_CONTACTS_MINE = Text("My Contacts No Longer at Company", "Meine Kontakte nicht mehr im Unternehmen")
_OPPORTUNITIES_ALL = Text(
    "All Opportunities at Risk – Contact Has Left Company",
    "Alle Geschäftschancen gefährdet – Kontakt hat das Unternehmen verlassen",
)
_OPPORTUNITIES_MINE = Text(
    "My Opportunities at Risk – Contact Has Left Company",
    "Meine Geschäftschancen gefährdet – Kontakt hat das Unternehmen verlassen",
)
_CONTACTS_DESCRIPTION = Text(
    "Active contacts that Data Validation flagged as no longer working at their account's company.",
    "Aktive Kontakte, die laut Data Validation nicht mehr beim Unternehmen ihres Firmenkontos arbeiten.",
)
_OPPORTUNITIES_DESCRIPTION = Text(
    "Open opportunities whose contact or a stakeholder has left the company (per Data Validation).",
    "Offene Geschäftschancen, deren Kontakt oder ein Stakeholder das Unternehmen verlassen hat "
    "(laut Data Validation).",
)


def desired_views(binding: ColumnBinding, supporting: SupportingColumns) -> list[ViewSpec]:
    """The four views, "All" before "My", contacts before opportunities."""
    contact_layout = layoutxml(CONTACT, contact_view_columns(supporting))
    opportunity_layout = layoutxml(OPPORTUNITY, OPPORTUNITY_VIEW_COLUMNS)
    return [
        ViewSpec(
            "contacts_all",
            CONTACT,
            _CONTACTS_ALL,
            _CONTACTS_DESCRIPTION,
            contact_view_fetchxml(binding, supporting, mine=False),
            contact_layout,
        ),
        ViewSpec(
            "contacts_mine",
            CONTACT,
            _CONTACTS_MINE,
            _CONTACTS_DESCRIPTION,
            contact_view_fetchxml(binding, supporting, mine=True),
            contact_layout,
        ),
        ViewSpec(
            "opportunities_all",
            OPPORTUNITY,
            _OPPORTUNITIES_ALL,
            _OPPORTUNITIES_DESCRIPTION,
            opportunity_view_fetchxml(binding, mine=False),
            opportunity_layout,
        ),
        ViewSpec(
            "opportunities_mine",
            OPPORTUNITY,
            _OPPORTUNITIES_MINE,
            _OPPORTUNITIES_DESCRIPTION,
            opportunity_view_fetchxml(binding, mine=True),
            opportunity_layout,
        ),
    ]
