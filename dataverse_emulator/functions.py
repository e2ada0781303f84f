"""Unbound functions and actions: WhoAmI, RetrieveProvisionedLanguages, RetrieveLocLabels,
PublishXml, PublishAllXml, SetLocLabels; and the bound function RetrieveUserPrivileges."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from .errors import ODataError, bad_request, not_found
from .messages import Request, Response

if TYPE_CHECKING:
    from .service import Service
    from .store import TableData

MONIKER_RE = re.compile(r"(?P<set>\w+)\((?P<id>[0-9a-fA-F-]{36})\)")


def handle(svc: Service, req: Request, name: str, path: str) -> Response:
    method = (
        "GET"
        if name in ("WhoAmI", "RetrieveProvisionedLanguages", "RetrieveLocLabels", "RetrieveVersion")
        else "POST"
    )
    if req.method != method:
        raise ODataError(405, "0x80060888", f"{name} must be called with {method}.")
    ctx = f"{svc.api_url}$metadata#Microsoft.Dynamics.CRM.{name}Response"
    if name == "WhoAmI":
        return Response.json(
            200,
            {
                "@odata.context": ctx,
                "BusinessUnitId": svc.business_unit_id,
                "UserId": svc.user_id,
                "OrganizationId": svc.organization_id,
            },
        )
    if name == "RetrieveVersion":
        return Response.json(200, {"@odata.context": ctx, "Version": "9.2.25044.00000"})
    if name == "RetrieveProvisionedLanguages":
        return Response.json(
            200, {"@odata.context": ctx, "RetrieveProvisionedLanguages": list(svc.provisioned_languages)}
        )
    if name == "RetrieveLocLabels":
        return _retrieve_loc_labels(svc, req, path, ctx)
    if name == "SetLocLabels":
        return _set_loc_labels(svc, req)
    return _publish(svc, req, name)


def _parameters(req: Request, path: str) -> dict[str, str]:
    inside = path[path.find("(") + 1 : path.rfind(")")] if "(" in path else ""
    params = {}
    for part in re.split(r",(?![^{]*})", inside):
        key, sep, value = part.partition("=")
        if not sep:
            continue
        value = value.strip()
        if value.startswith("@"):
            if value not in req.query:
                raise bad_request(f"The parameter alias '{value}' is not defined.")
            value = req.query[value]
        params[key.strip()] = value
    return params


def _moniker(svc: Service, value: Any) -> tuple[str, str, str]:
    """(entity set, logical name, id) of an EntityMoniker given as @odata.id text or an entity object."""
    if isinstance(value, dict) and "@odata.type" in value:
        logical = str(value["@odata.type"]).lstrip("#").removeprefix("Microsoft.Dynamics.CRM.")
        td = svc.store.by_logical.get(logical)
        if td is None:
            raise bad_request(f"Unknown entity type '{logical}' in EntityMoniker.")
        record_id = str(value.get(td.table.primary_key, ""))
        return td.table.entity_set, logical, record_id.lower()
    match = MONIKER_RE.search(str(value.get("@odata.id") if isinstance(value, dict) else value))
    if not match or match.group("set") not in svc.store.tables:
        raise bad_request(f"Invalid EntityMoniker '{value}'.")
    td = svc.store.tables[match.group("set")]
    return td.table.entity_set, td.table.logical_name, match.group("id").lower()


def _label(text: str, lcid: int) -> dict[str, Any]:
    return {"Label": text, "LanguageCode": lcid, "IsManaged": False, "MetadataId": None, "HasChanged": None}


def _retrieve_loc_labels(svc: Service, req: Request, path: str, ctx: str) -> Response:
    params = _parameters(req, path)
    entity_set, logical, record_id = _moniker(svc, params.get("EntityMoniker", ""))
    attribute = params.get("AttributeName", "").strip("'")
    row = svc.store.get(entity_set, record_id)
    if row is None:
        raise not_found(logical, record_id)
    labels = dict(svc.loc_labels.get((logical, record_id, attribute), {}))
    if svc.base_language not in labels and row.get(attribute) is not None:
        labels[svc.base_language] = row[attribute]
    localized = [_label(text, lcid) for lcid, text in sorted(labels.items())]
    user = next(
        (x for x in localized if x["LanguageCode"] == svc.base_language), localized[0] if localized else None
    )
    return Response.json(
        200, {"@odata.context": ctx, "Label": {"LocalizedLabels": localized, "UserLocalizedLabel": user}}
    )


def _set_loc_labels(svc: Service, req: Request) -> Response:
    body = req.json()
    entity_set, logical, record_id = _moniker(svc, body.get("EntityMoniker"))
    attribute = body.get("AttributeName")
    labels = body.get("Labels")
    if not isinstance(attribute, str) or not isinstance(labels, list):
        raise bad_request("SetLocLabels needs EntityMoniker, AttributeName and Labels.")
    table = svc.store.tables[entity_set].table
    if attribute not in table.attributes:
        raise bad_request(f"Could not find a property named '{attribute}' on type '{table.odata_type}'.")
    if svc.store.get(entity_set, record_id) is None:
        raise not_found(logical, record_id)
    parsed = {}
    for label in labels:
        lcid = int(label.get("LanguageCode", 0))
        if lcid not in svc.provisioned_languages:
            raise bad_request(
                f"The language code {lcid} is not a valid language for this organization", "0x80040203"
            )
        parsed[lcid] = str(label.get("Label", ""))
    with svc.store.transaction():
        svc.loc_labels.setdefault((logical, record_id, attribute), {}).update(parsed)
        if svc.base_language in parsed:
            svc.store.update(entity_set, record_id, {attribute: parsed[svc.base_language]}, stamp=True)
    return Response.empty(204)


def _publish(svc: Service, req: Request, name: str) -> Response:
    if name == "PublishAllXml":
        entities = sorted(svc.unpublished)
    else:
        xml = req.json().get("ParameterXml")
        if not isinstance(xml, str):
            raise bad_request("PublishXml needs the ParameterXml parameter.")
        try:
            root = ElementTree.fromstring(xml)  # noqa: S314 - loopback test server, caller-supplied XML
        except ElementTree.ParseError as exc:
            raise bad_request(f"ParameterXml is not well-formed XML: {exc}") from None
        if root.tag != "importexportxml":
            raise bad_request("ParameterXml must have the root element <importexportxml>.")
        entities = [e.text.strip().lower() for e in root.iter("entity") if e.text]
        for entity in entities:
            if entity not in svc.store.by_logical:
                raise bad_request(f"Could not find entity '{entity}' to publish.")
    with svc._lock:
        svc.publish_log.append({"message": name, "entities": entities})
        for entity in entities:
            svc.unpublished.pop(entity, None)
    return Response.empty(204)


def retrieve_user_privileges(
    svc: Service, req: Request, td: TableData, record_id: str, rest: str
) -> Response:
    """``GET systemusers(<id>)/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()``.

    The WhoAmI user gets the emulator's privilege set; other existing users hold none (the emulator
    models no roles for them); an unknown id is 404.
    """
    if td.table.logical_name != "systemuser":
        raise bad_request(
            f"The function 'RetrieveUserPrivileges' is not bound to '{td.table.logical_name}'.", "0x80060888"
        )
    if rest.removeprefix("Microsoft.Dynamics.CRM.RetrieveUserPrivileges") not in ("", "()"):
        raise bad_request("RetrieveUserPrivileges takes no parameters.")
    if req.method != "GET":
        raise ODataError(405, "0x80060888", "RetrieveUserPrivileges must be called with GET.")
    record_id = record_id.lower()
    if svc.store.get(td.table.entity_set, record_id) is None:
        raise not_found("systemuser", record_id)
    held = svc.privileges.role_privileges(svc.business_unit_id) if record_id == svc.user_id.lower() else []
    ctx = f"{svc.api_url}$metadata#Microsoft.Dynamics.CRM.RetrieveUserPrivilegesResponse"
    return Response.json(200, {"@odata.context": ctx, "RolePrivileges": held})
