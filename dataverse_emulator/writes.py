"""Entity-set writes: create, update/upsert (with If-Match / If-None-Match), delete, write
validation and ``@odata.bind``, and the bound bulk messages (UpdateMultiple, CreateMultiple)."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from .errors import ODataError, bad_request, not_found
from .messages import Request, Response
from .query import RowWriter, annotation_filter, choose_columns, context_url
from .schema import GUID_RE, LOOKUP_TYPE_SUFFIX, Table, check_value
from .store import TableData

if TYPE_CHECKING:
    from .service import Service

BIND_RE = re.compile(r"(?:.*/api/data/v9\.2/|/)?(?P<set>\w+)\((?P<id>[0-9a-fA-F-]{36})\)$")

# --- writes -----------------------------------------------------------------------------------


def parse_write_body(svc: Service, table: Table, body: Any) -> dict[str, Any]:
    """Validate a create/update body and return wire-shaped column values.

    Raises 0x80060888 for unknown properties, the length/choice validation errors, and a
    not-found error for ``@odata.bind`` to a row that does not exist.
    """
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    values: dict[str, Any] = {}
    for key, value in body.items():
        if key.startswith("@odata.") or key.startswith("@"):
            continue
        if key.endswith("@odata.bind"):
            nav = key[: -len("@odata.bind")]
            hit = table.nav_to_attribute.get(nav)
            if hit is None:
                raise bad_request(
                    f"An undeclared property '{nav}' which only has property annotations in the payload but "
                    "no property value was found in the payload. In OData, only declared navigation "
                    "properties and declared named streams can be represented as properties without values."
                )
            attribute, target_logical = hit
            values[attribute.wire_name], values[attribute.wire_name + LOOKUP_TYPE_SUFFIX] = (
                _resolve_bind(svc, target_logical, value) if value is not None else (None, None)
            )
            continue
        if "@" in key:
            continue
        attribute = table.by_wire.get(key)
        if attribute is None:
            raise bad_request(
                f"The property '{key}' does not exist on type '{table.odata_type}'. Make sure to only use "
                "property names that are defined by the type or mark the type as open type."
            )
        if attribute.type == "lookup":
            raise bad_request(
                "CRM do not support direct update of Entity Reference properties, "
                "Use Navigation properties instead."
            )
        if key in ("versionnumber", "createdon", "modifiedon"):
            continue  # system-managed: Dataverse ignores them on write
        values[key] = check_value(table, attribute, value)
    return values


def _resolve_bind(svc: Service, target_logical: str, value: Any) -> tuple[str, str]:
    match = BIND_RE.match(str(value).strip())
    if not match:
        raise bad_request(f"Invalid @odata.bind value '{value}'.")
    entity_set, record_id = match.group("set"), match.group("id").lower()
    td = svc.store.tables.get(entity_set)
    if td is None:
        raise bad_request(f"Resource not found for the segment '{entity_set}'.")
    if td.table.logical_name != target_logical:
        raise bad_request(f"'{entity_set}' is not a valid target for this navigation property.")
    if record_id not in td.rows:
        raise ODataError(404, "0x80040217", f"{target_logical} With Id = {record_id} Does Not Exist")
    return record_id, target_logical


def _computed(table: Table, current: dict[str, Any], values: dict[str, Any]) -> None:
    """Columns Dataverse computes: fullname from first/last name."""
    if table.logical_name in ("contact", "systemuser") and ({"firstname", "lastname"} & values.keys()):
        merged = {**current, **values}
        parts = [merged.get("firstname"), merged.get("lastname")]
        values["fullname"] = " ".join(p for p in parts if p) or None


def _check_record_fault(svc: Service, table: Table, record_id: str) -> None:
    if svc.faults.fail_record(record_id) is not None:
        raise ODataError(
            400,
            "0x80040265",
            f"Injected failure: the write to {table.logical_name}({record_id}) was rejected.",
        )


def _entity_url(svc: Service, table: Table, record_id: str) -> str:
    return f"{svc.api_url}{table.entity_set}({record_id})"


def create_row(svc: Service, table: Table, values: dict[str, Any], req: Request | None = None) -> str:
    """Insert validated values as a new row (hooks, computed columns, counters); returns the id."""
    pk = table.primary_key
    record_id = (values.get(pk) or str(uuid.uuid4())).lower()
    values[pk] = record_id
    _check_record_fault(svc, table, record_id)
    _computed(table, {}, values)
    hook = svc.create_hooks.get(table.logical_name)
    with svc.store.transaction():
        if hook is not None:
            hook(svc, values, req)
        if record_id in svc.store.tables[table.entity_set].rows:
            raise ODataError(412, "0x80040237", "A record with matching key values already exists.")
        svc.store.insert(table.entity_set, values, stamp=True)
        svc.store.after_commit(lambda: svc.counters.operation("create"))
    return record_id


def update_row(svc: Service, table: Table, record_id: str, values: dict[str, Any]) -> None:
    record_id = record_id.lower()
    _check_record_fault(svc, table, record_id)
    current = svc.store.get(table.entity_set, record_id)
    if current is None:
        raise not_found(table.logical_name, record_id)
    _computed(table, current, values)
    values.pop(table.primary_key, None)
    with svc.store.transaction():
        if record_id not in svc.store.tables[table.entity_set].rows:  # deleted meanwhile
            raise not_found(table.logical_name, record_id)
        svc.store.update(table.entity_set, record_id, values, stamp=True)
        svc.store.after_commit(lambda: svc.counters.operation("update"))


def _representation(svc: Service, req: Request, td: TableData, record_id: str, status: int) -> Response:
    row = svc.store.get_row(td.table.entity_set, record_id)
    assert row is not None
    select = req.query.get("$select")
    body = {"@odata.context": context_url(svc.api_url, td.table.entity_set, select, "/$entity")}
    body.update(
        RowWriter(
            svc.store, td, choose_columns(td, select), annotation_filter(req.prefer), svc.base_language
        ).write(row)
    )
    return Response.json(
        status,
        body,
        {
            "Preference-Applied": "return=representation",
            "OData-EntityId": _entity_url(svc, td.table, record_id),
        },
    )


def _entity_headers(svc: Service, req: Request, table: Table, record_id: str) -> dict[str, str]:
    url = _entity_url(svc, table, record_id)
    return {"Location": url, "OData-EntityId": url} if req.in_batch else {"OData-EntityId": url}


def create(svc: Service, req: Request, td: TableData) -> Response:
    """POST <entityset>: 204 + OData-EntityId, or 201 + body with return=representation."""
    values = parse_write_body(svc, td.table, req.json())
    record_id = create_row(svc, td.table, values, req)
    if req.prefer.get("return") == "representation":
        return _representation(svc, req, td, record_id, 201)
    return Response.empty(204, _entity_headers(svc, req, td.table, record_id))


def patch(svc: Service, req: Request, td: TableData, record_id: str) -> Response:
    """PATCH <set>(<id>): update, or create (upsert) unless If-Match forbids it."""
    table = td.table
    record_id = record_id.lower()
    row = svc.store.get_row(table.entity_set, record_id)
    if_match, if_none = req.headers.get("If-Match"), req.headers.get("If-None-Match")
    if row is None and if_match:
        raise not_found(table.logical_name, record_id)
    if row is not None and if_none == "*":
        raise ODataError(412, "0x80040237", "A record with matching key values already exists.")
    if row is not None and if_match and if_match != "*" and if_match != f'W/"{row[0]}"':
        raise ODataError(
            412,
            "0x80060882",
            "The version of the existing record doesn't match the RowVersion property provided.",
        )
    values = parse_write_body(svc, table, req.json())
    if row is None:
        values[table.primary_key] = record_id
        create_row(svc, table, values, req)
        if req.prefer.get("return") == "representation":
            return _representation(svc, req, td, record_id, 201)
        return Response.empty(204, _entity_headers(svc, req, table, record_id))
    update_row(svc, table, record_id, values)
    if req.prefer.get("return") == "representation":
        return _representation(svc, req, td, record_id, 200)
    return Response.empty(204, _entity_headers(svc, req, table, record_id))


def delete(svc: Service, req: Request, td: TableData, record_id: str) -> Response:
    table = td.table
    record_id = record_id.lower()
    row = svc.store.get_row(table.entity_set, record_id)
    if row is None:
        raise not_found(table.logical_name, record_id)
    if_match = req.headers.get("If-Match")
    if if_match and if_match != "*" and if_match != f'W/"{row[0]}"':
        raise ODataError(
            412,
            "0x80060882",
            "The version of the existing record doesn't match the RowVersion property provided.",
        )
    _check_record_fault(svc, table, record_id)
    hook = svc.delete_hooks.get(table.logical_name)
    with svc.store.transaction():
        if hook is not None:
            hook(svc, record_id)
        if record_id not in svc.store.tables[table.entity_set].rows:  # deleted meanwhile
            raise not_found(table.logical_name, record_id)
        svc.store.delete(table.entity_set, record_id)
        svc.store.after_commit(lambda: svc.counters.operation("delete"))
    return Response.empty(204)


# --- N:N links --------------------------------------------------------------------------------


def reference(svc: Service, req: Request, td: TableData, record_id: str, nav: str) -> Response:
    """``POST <set>(<id>)/<n:n nav>/$ref`` {"@odata.id": ".../teams(<id>)"} associates;
    ``DELETE <set>(<id>)/<n:n nav>(<other id>)/$ref`` disassociates. 204 either way."""
    from .catalog import RELATIONSHIPS

    other_id = None
    match = re.fullmatch(r"(\w+)\(([0-9a-fA-F-]{36})\)", nav)
    if match:
        nav, other_id = match.group(1), match.group(2).lower()
    logical = td.table.logical_name
    if nav not in RELATIONSHIPS or logical not in RELATIONSHIPS[nav]:
        raise bad_request(f"'{nav}' is not a collection-valued navigation property of '{logical}'.")
    side_a, side_b = RELATIONSHIPS[nav]
    other_logical = side_b if logical == side_a else side_a
    record_id = record_id.lower()
    if record_id not in td.rows:
        raise not_found(logical, record_id)
    if req.method == "POST":
        bind = BIND_RE.match(str(req.json().get("@odata.id", "")))
        if not bind:
            raise bad_request('The body must be {"@odata.id": "<entityset>(<id>)"}.')
        other_id = bind.group("id").lower()
    if other_id is None:
        raise bad_request("DELETE .../$ref needs the related record's id in the path.")
    if other_id not in svc.store.logical(other_logical).rows:
        raise not_found(other_logical, other_id)
    pair = (record_id, other_id) if logical == side_a else (other_id, record_id)
    if req.method == "POST":
        svc.store.associate(nav, *pair)
    else:
        svc.store.disassociate(nav, *pair)
    return Response.empty(204)


# --- bulk messages ----------------------------------------------------------------------------


def bulk_action(svc: Service, req: Request, td: TableData, message: str) -> Response:
    """``<set>/Microsoft.Dynamics.CRM.UpdateMultiple|CreateMultiple``: atomic, bulk tables only."""
    table = td.table
    if message not in ("UpdateMultiple", "CreateMultiple", "UpsertMultiple"):
        raise ODataError(
            404, "0x80060888", f"Resource not found for the segment 'Microsoft.Dynamics.CRM.{message}'."
        )
    if table.logical_name not in svc.bulk_tables:
        raise bad_request(
            f"The '{message}' method does not support entities of type '{table.logical_name}'. "
            "MessageProcessorCache returned MessageProcessor.Empty.",
            "0x80040800",
        )
    targets = req.json().get("Targets")
    if not isinstance(targets, list) or not targets:
        raise bad_request("The Targets parameter is required and must be a non-empty collection.")
    ids: list[str] = []
    with svc.store.transaction():  # any failing target rolls back all of them
        for target in targets:
            if not isinstance(target, dict):
                raise bad_request("Each item in Targets must be an entity object.")
            odata_type = str(target.get("@odata.type", "")).lstrip("#")
            if odata_type != table.odata_type:
                raise bad_request(
                    f"The @odata.type '{odata_type}' of an item in Targets must be '{table.odata_type}'."
                )
            values = parse_write_body(svc, table, target)
            record_id = values.get(table.primary_key)
            exists = bool(record_id) and record_id in td.rows
            if message == "CreateMultiple" or (message == "UpsertMultiple" and not exists):
                ids.append(create_row(svc, table, values, req))
            else:
                if not record_id or not GUID_RE.match(record_id):
                    raise bad_request(f"The {table.primary_key} of every target is required.")
                update_row(svc, table, record_id, values)
                ids.append(record_id)
    if message == "CreateMultiple":
        return Response.json(
            200,
            {
                "@odata.context": f"{svc.api_url}$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse",
                "Ids": ids,
            },
        )
    return Response.empty(204)
