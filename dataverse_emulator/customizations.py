"""Customisation rows: solutions, publishers and system views (savedqueries).

Creating them goes through the rules Dataverse applies (required fields, unique names, a valid
publisher prefix, well-formed FetchXML for the view's table) and ``MSCRM.SolutionUniqueName``
puts the new component into that solution.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from .errors import ODataError, bad_request
from .messages import Request

if TYPE_CHECKING:
    from .service import Service

COMPONENT_ENTITY, COMPONENT_ATTRIBUTE, COMPONENT_SAVEDQUERY = 1, 2, 26


# --- solutions -------------------------------------------------------------------------------


def solution_from_header(svc: Service, req: Request | None) -> tuple[str, dict[str, Any]] | None:
    """(solution id, publisher row) named by ``MSCRM.SolutionUniqueName``; 400 when it doesn't exist."""
    name = req.headers.get("MSCRM.SolutionUniqueName") if req is not None else None
    if not name:
        return None
    solutions = svc.store.tables["solutions"]
    get_name = solutions.getter("uniquename")
    for row in list(solutions.rows.values()):
        if (get_name(row) or "").lower() == name.lower():
            solution = solutions.to_dict(row)
            publisher = svc.store.get("publishers", solution["_publisherid_value"] or "") or {}
            return solution["solutionid"], publisher
    raise bad_request(
        f"The solution with unique name '{name}' specified in the MSCRM.SolutionUniqueName "
        "header does not exist.",
        "0x8004F00C",
    )


def add_component(svc: Service, solution_id: str, component_type: int, object_id: str) -> None:
    svc.store.insert(
        "solutioncomponents",
        {"componenttype": component_type, "objectid": object_id, "_solutionid_value": solution_id},
        stamp=True,
    )


# --- create rules for customisation rows -------------------------------------------------------


def _on_savedquery(svc: Service, values: dict[str, Any], req: Request | None) -> None:
    for required in ("name", "returnedtypecode", "fetchxml"):
        if not values.get(required):
            raise bad_request(f"The '{required}' attribute is required to create a savedquery.", "0x80040203")
    entity = values["returnedtypecode"].lower()
    if entity not in svc.store.by_logical:
        raise bad_request(f"'{entity}' is not a valid returnedtypecode.", "0x80040203")
    try:
        root = ElementTree.fromstring(values["fetchxml"])  # noqa: S314 - loopback test server
    except ElementTree.ParseError as exc:
        raise bad_request(f"The fetchxml is not well-formed XML: {exc}", "0x80041103") from None
    node = root.find("entity")
    if root.tag != "fetch" or node is None or node.get("name") != entity:
        raise bad_request(f"The fetchxml must be a <fetch> whose <entity name> is '{entity}'.", "0x80041103")
    if values.get("layoutxml"):
        try:
            ElementTree.fromstring(values["layoutxml"])  # noqa: S314 - loopback test server
        except ElementTree.ParseError as exc:
            raise bad_request(f"The layoutxml is not well-formed XML: {exc}", "0x80041103") from None
    values["returnedtypecode"] = entity
    for key, default in (
        ("querytype", 0),
        ("isdefault", False),
        ("isquickfindquery", False),
        ("statecode", 0),
        ("statuscode", 1),
        ("ismanaged", False),
        ("iscustomizable", True),
    ):
        if values.get(key) is None:
            values[key] = default
    solution = solution_from_header(svc, req)
    if solution is not None:
        add_component(svc, solution[0], COMPONENT_SAVEDQUERY, values["savedqueryid"])
    svc.mark_unpublished(entity, f"savedquery:{values['savedqueryid']}")


def _on_solution(svc: Service, values: dict[str, Any], req: Request | None) -> None:
    if not values.get("uniquename") or not values.get("friendlyname"):
        raise bad_request("uniquename and friendlyname are required to create a solution.", "0x80040203")
    if not values.get("_publisherid_value"):
        raise bad_request("A solution needs a publisher (publisherid@odata.bind).", "0x80040203")
    _unique(svc, "solutions", "uniquename", values["uniquename"], "solution")
    values.setdefault("version", "1.0.0.0")
    values.setdefault("ismanaged", False)
    values.setdefault("isvisible", True)


def _on_publisher(svc: Service, values: dict[str, Any], req: Request | None) -> None:
    prefix = values.get("customizationprefix") or ""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{1,7}", prefix) or prefix.lower().startswith("mscrm"):
        raise bad_request(
            "The prefix must be 2 to 8 characters long, can only consist of alpha-numerics, must "
            "start with a letter, and can't start with 'mscrm'.",
            "0x80040203",
        )
    option_prefix = values.get("customizationoptionvalueprefix")
    if not isinstance(option_prefix, int) or not 10000 <= option_prefix <= 99999:
        raise bad_request("customizationoptionvalueprefix must be between 10000 and 99999.", "0x80040203")
    if not values.get("uniquename"):
        raise bad_request("uniquename is required to create a publisher.", "0x80040203")
    _unique(svc, "publishers", "uniquename", values["uniquename"], "publisher")


def _unique(svc: Service, entity_set: str, column: str, value: str, logical: str) -> None:
    td = svc.store.tables[entity_set]
    get = td.getter(column)
    if any((get(r) or "").lower() == value.lower() for r in td.rows.values()):
        raise ODataError(412, "0x80040237", f"A {logical} with {column} '{value}' already exists.")


def install(svc: Service) -> None:
    """Register the create rules for customisation tables on a service."""
    svc.create_hooks.update(
        {"savedquery": _on_savedquery, "solution": _on_solution, "publisher": _on_publisher}
    )
