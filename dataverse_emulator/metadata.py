"""Metadata: EntityDefinitions and their Attributes (read, filter, cast, expand OptionSet, and
create new columns that become real columns of the table)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .customizations import COMPONENT_ATTRIBUTE, add_component, solution_from_header
from .errors import ODataError, bad_request
from .messages import Request, Response
from .odata_filter import compile_filter
from .query import split_top_level
from .schema import CHOICE_TYPES, TYPE_INFO, Attribute, Table, stable_id

if TYPE_CHECKING:
    from .service import Service

PATH_RE = re.compile(
    r"^EntityDefinitions(?:\((?P<ekey>[^)]*)\))?"
    r"(?:/Attributes(?:\((?P<akey>[^)]*)\))?)?"
    r"(?:/Microsoft\.Dynamics\.CRM\.(?P<cast>\w+))?$"
)
TYPE_NAMES = {
    "string": "StringType",
    "memo": "MemoType",
    "int": "IntegerType",
    "bigint": "BigIntType",
    "bool": "BooleanType",
    "decimal": "MoneyType",
    "datetime": "DateTimeType",
    "picklist": "PicklistType",
    "state": "StateType",
    "status": "StatusType",
    "lookup": "LookupType",
    "guid": "UniqueidentifierType",
    "entityname": "EntityNameType",
}
CREATABLE = {
    "PicklistAttributeMetadata": "picklist",
    "StringAttributeMetadata": "string",
    "MemoAttributeMetadata": "memo",
    "DateTimeAttributeMetadata": "datetime",
    "IntegerAttributeMetadata": "int",
    "BooleanAttributeMetadata": "bool",
    "DecimalAttributeMetadata": "decimal",
    "MoneyAttributeMetadata": "decimal",
}


# --- JSON shapes ------------------------------------------------------------------------------


def label_json(labels: dict[int, str], base: int) -> dict[str, Any]:
    localized = [
        {
            "Label": text,
            "LanguageCode": lcid,
            "IsManaged": False,
            "MetadataId": stable_id("label", lcid, text),
            "HasChanged": None,
        }
        for lcid, text in labels.items()
    ]
    user = next((x for x in localized if x["LanguageCode"] == base), localized[0] if localized else None)
    return {"LocalizedLabels": localized, "UserLocalizedLabel": user}


def entity_json(svc: Service, table: Table) -> dict[str, Any]:
    return {
        "@odata.type": "#Microsoft.Dynamics.CRM.EntityMetadata",
        "MetadataId": table.metadata_id,
        "LogicalName": table.logical_name,
        "SchemaName": table.logical_name.capitalize() if table.logical_name.isalpha() else table.logical_name,
        "EntitySetName": table.entity_set,
        "LogicalCollectionName": table.entity_set,
        "PrimaryIdAttribute": table.primary_key,
        "PrimaryNameAttribute": table.primary_name,
        "ObjectTypeCode": table.object_type_code,
        "ChangeTrackingEnabled": table.logical_name in svc.change_tracking_tables,
        "IsCustomEntity": False,
        "DisplayName": label_json({svc.base_language: table.display_name}, svc.base_language),
    }


def attribute_json(
    svc: Service, table: Table, attribute: Attribute, *, with_options: bool = False
) -> dict[str, Any]:
    kind = attribute.type
    type_name, odata_type, _ = TYPE_INFO[kind]
    out: dict[str, Any] = {
        "@odata.type": f"#Microsoft.Dynamics.CRM.{odata_type}",
        "MetadataId": attribute.metadata_id,
        "LogicalName": attribute.logical_name,
        "SchemaName": attribute.schema_name,
        "EntityLogicalName": table.logical_name,
        "AttributeType": type_name,
        "AttributeTypeName": {"Value": TYPE_NAMES[kind]},
        "IsCustomAttribute": attribute.is_custom,
        "IsPrimaryId": attribute.logical_name == table.primary_key,
        "IsPrimaryName": attribute.logical_name == table.primary_name,
        "IsValidForRead": True,
        "DisplayName": label_json(attribute.display_name, svc.base_language),
        "Description": label_json(attribute.description, svc.base_language),
        "RequiredLevel": {
            "Value": "None",
            "CanBeChanged": True,
            "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
        },
    }
    if kind in ("string", "memo"):
        out["MaxLength"] = attribute.max_length
        out["Format"] = attribute.format or "Text"
    if kind == "datetime":
        out["Format"] = attribute.format or "DateAndTime"
        out["DateTimeBehavior"] = {"Value": "UserLocal"}
    if kind == "lookup":
        out["Targets"] = list(attribute.targets)
    if kind in CHOICE_TYPES and with_options:
        out["OptionSet"] = {
            "MetadataId": stable_id("optionset", table.logical_name, attribute.logical_name),
            "Name": f"{table.logical_name}_{attribute.logical_name}",
            "IsGlobal": False,
            "OptionSetType": TYPE_INFO[kind][0],
            "Options": [
                {
                    "Value": value,
                    "Label": label_json(labels, svc.base_language),
                    "Description": label_json({}, svc.base_language),
                    "Color": None,
                    "IsManaged": False,
                    "ExternalValue": None,
                    "MetadataId": None,
                    "HasChanged": None,
                }
                for value, labels in sorted(attribute.options.items())
            ],
        }
    return out


class DictResolver:
    """Lets ``$filter`` run over metadata dicts (nested complex values via ``a/b``)."""

    type_name = "Microsoft.Dynamics.CRM.MetadataBase"

    def column(self, name: str) -> Any:
        return lambda d: d.get(name) if isinstance(d, dict) else None

    def single_nav(self, name: str) -> Any:
        return DictResolver(), (lambda d: d.get(name) if isinstance(d, dict) else None)

    def collection_nav(self, name: str) -> Any:
        return DictResolver(), (lambda d: d.get(name) or [] if isinstance(d, dict) else [])


def _select(
    item: dict[str, Any], select: str | None, keep: tuple[str, ...] = ("@odata.type", "MetadataId")
) -> dict:
    if not select:
        return item
    wanted = {s.strip() for s in select.split(",")}
    return {k: v for k, v in item.items() if k in wanted or k in keep}


# --- reads -----------------------------------------------------------------------------------


def _find_table(svc: Service, key: str) -> Table:
    key = key.strip()
    match = re.fullmatch(r"LogicalName\s*=\s*'([^']*)'", key)
    for td in svc.store.tables.values():
        table = td.table
        if (match and table.logical_name == match.group(1).lower()) or table.metadata_id == key.lower():
            return table
    raise ODataError(
        404, "0x80040217", f"Could not find an entity with specified name {match.group(1) if match else key}"
    )


def _find_attribute(table: Table, key: str) -> Attribute:
    key = key.strip()
    match = re.fullmatch(r"LogicalName\s*=\s*'([^']*)'", key)
    for attribute in table.attributes.values():
        if (
            match and attribute.logical_name == match.group(1).lower()
        ) or attribute.metadata_id == key.lower():
            return attribute
    name = match.group(1) if match else key
    raise ODataError(
        404,
        "0x80040217",
        f"Could not find an attribute with specified name {name} on entity {table.logical_name}",
    )


def handle(svc: Service, req: Request, path: str) -> Response:
    match = PATH_RE.match(path)
    if not match:
        raise ODataError(404, "0x80060888", f"Resource not found for the segment '{path}'.")
    ekey, akey, cast = match.group("ekey"), match.group("akey"), match.group("cast")
    has_attrs = "/Attributes" in path
    select, expand = req.query.get("$select"), req.query.get("$expand")
    ctx_base = f"{svc.api_url}$metadata#EntityDefinitions"
    if req.method == "POST":
        if ekey is None or not has_attrs or akey is not None:
            raise ODataError(405, "0x80060888", "Only POST EntityDefinitions(...)/Attributes is supported.")
        return create_attribute(svc, req, _find_table(svc, ekey))
    if req.method != "GET":
        raise ODataError(405, "0x80060888", f"The HTTP method '{req.method}' is not supported on metadata.")
    if ekey is None:
        items = [entity_json(svc, td.table) for td in svc.store.tables.values()]
        items = _filtered(items, req)
        return Response.json(
            200,
            {"@odata.context": f"{ctx_base}({select or ''})", "value": [_select(i, select) for i in items]},
        )
    table = _find_table(svc, ekey)
    if not has_attrs:
        body = {
            "@odata.context": f"{ctx_base}({select or ''})/$entity",
            **_select(entity_json(svc, table), select),
        }
        return Response.json(200, body)
    expands = {e.split("(", 1)[0]: e for e in split_top_level(expand or "")}
    if akey is None:
        items = [attribute_json(svc, table, a) for a in table.attributes.values()]
        if cast:
            items = [i for i in items if i["@odata.type"] == f"#Microsoft.Dynamics.CRM.{cast}"]
        items = _filtered(items, req)
        ctx = f"{ctx_base}('{table.metadata_id}')/Attributes({select or ''})"
        return Response.json(200, {"@odata.context": ctx, "value": [_select(i, select) for i in items]})
    attribute = _find_attribute(table, akey)
    item = attribute_json(svc, table, attribute, with_options="OptionSet" in expands)
    if cast and item["@odata.type"] != f"#Microsoft.Dynamics.CRM.{cast}":
        raise ODataError(404, "0x80060888", f"The attribute {attribute.logical_name} is not a {cast}.")
    keep: tuple[str, ...] = ("@odata.type", "MetadataId")
    if "OptionSet" in expands:
        inner = re.search(r"\$select=([^;)]*)", expands["OptionSet"])
        if inner:
            item["OptionSet"] = _select(item["OptionSet"], inner.group(1), ("MetadataId",))
        keep += ("OptionSet",)
    if "GlobalOptionSet" in expands:
        item["GlobalOptionSet"] = None
        keep += ("GlobalOptionSet",)
    cast_part = f"/Microsoft.Dynamics.CRM.{cast}" if cast else ""
    ctx = f"{ctx_base}('{table.metadata_id}')/Attributes{cast_part}({select or ''})/$entity"
    return Response.json(200, {"@odata.context": ctx, **_select(item, select, keep)})


def _filtered(items: list[dict[str, Any]], req: Request) -> list[dict[str, Any]]:
    text = req.query.get("$filter")
    if not text:
        return items
    aliases = {k: v for k, v in req.query.items() if k.startswith("@")}
    predicate = compile_filter(text, DictResolver(), aliases)
    return [i for i in items if predicate(i)]


def _check_labels(svc: Service, *labels: Any) -> None:
    for label in labels:
        if not isinstance(label, dict):
            continue
        for item in label.get("LocalizedLabels") or []:
            lcid = item.get("LanguageCode")
            if lcid not in svc.provisioned_languages:
                raise bad_request(
                    f"The language code {lcid} is not a valid language for this organization", "0x80040203"
                )


def _labels(label: Any) -> dict[int, str]:
    if not isinstance(label, dict):
        return {}
    return {int(i["LanguageCode"]): str(i.get("Label", "")) for i in label.get("LocalizedLabels") or []}


def create_attribute(svc: Service, req: Request, table: Table) -> Response:
    """POST EntityDefinitions(...)/Attributes: a real, usable new column. 204 + OData-EntityId."""
    body = req.json()
    odata_type = str(body.get("@odata.type", "")).lstrip("#").removeprefix("Microsoft.Dynamics.CRM.")
    kind = CREATABLE.get(odata_type)
    if kind is None:
        raise bad_request(f"The attribute type '{odata_type}' is not supported by the emulator.")
    schema_name = body.get("SchemaName")
    if not isinstance(schema_name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{1,49}", schema_name):
        raise bad_request("A valid SchemaName is required.")
    solution = solution_from_header(svc, req)
    if solution is not None:
        prefix = f"{solution[1].get('customizationprefix', '')}_"
        if not schema_name.lower().startswith(prefix.lower()):
            raise bad_request(
                f"The schema name {schema_name} for type Attribute is not prefixed with the "
                f"publisher prefix '{prefix}' of the solution.",
                "0x80048403",
            )
    elif "_" not in schema_name:
        raise bad_request(
            f"The schema name {schema_name} for type Attribute must have a customization prefix.",
            "0x80048403",
        )
    logical = schema_name.lower()
    if logical in table.attributes or f"_{logical}_value" in table.by_wire:
        raise bad_request(
            f"An attribute with the specified name {schema_name} already exists for entity "
            f"{table.logical_name}.",
            "0x80047013",
        )
    option_set = body.get("OptionSet") or {}
    options_in = option_set.get("Options") or [] if isinstance(option_set, dict) else []
    _check_labels(
        svc, body.get("DisplayName"), body.get("Description"), *(o.get("Label") for o in options_in)
    )
    attribute = Attribute(
        logical,
        kind,
        schema_name=schema_name,
        is_custom=True,
        display_name=_labels(body.get("DisplayName")),
        description=_labels(body.get("Description")),
        metadata_id=stable_id("attribute", table.logical_name, logical),
        definition=body,
    )
    if kind in ("string", "memo"):
        attribute.max_length = int(body.get("MaxLength") or (100 if kind == "string" else 2000))
        if attribute.max_length > (4000 if kind == "string" else 1_048_576):
            raise bad_request(f"MaxLength {attribute.max_length} is out of range.")
        fmt = body.get("FormatName") or {}
        attribute.format = body.get("Format") or (fmt.get("Value") if isinstance(fmt, dict) else None)
    if kind == "datetime":
        attribute.format = body.get("Format") or "DateAndTime"
        if attribute.format not in ("DateOnly", "DateAndTime"):
            raise bad_request(f"Invalid DateTime Format '{attribute.format}'.")
    if kind == "picklist":
        prefix = int(solution[1].get("customizationoptionvalueprefix") or 10000) if solution else 10000
        for i, option in enumerate(options_in):
            value = option.get("Value")
            value = prefix * 10000 + i if value is None else value
            if not isinstance(value, int) or value in attribute.options:
                raise bad_request(f"Option values must be unique integers; got {value!r}.")
            attribute.options[value] = _labels(option.get("Label")) or {svc.base_language: str(value)}
    with svc.store.transaction():
        table.add_attribute(attribute)
        svc.store.tables[table.entity_set].add_column(attribute)
        if solution is not None:
            add_component(svc, solution[0], COMPONENT_ATTRIBUTE, attribute.metadata_id)
    svc.mark_unpublished(table.logical_name, f"attribute:{logical}")
    entity = f"EntityDefinitions(LogicalName='{table.logical_name}')"
    url = f"{svc.api_url}{entity}/Attributes({attribute.metadata_id})"
    return Response.empty(204, {"OData-EntityId": url})
