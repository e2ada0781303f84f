"""The OpenAPI 3.1 document of the settings API, generated, never written by hand.

Schemas come from the pydantic models (``Settings``, its merge-patch schema ``Settings.patch_schema``,
the response models in ``models.py``); paths, parameters, bodies, status codes and auth levels come
from ``routes.ROUTES``, the same table the Functions bindings are registered from. So the document
cannot disagree with what the code validates and answers.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from pydantic.json_schema import models_json_schema

from functions.api.errors import PROBLEM_MEDIA_TYPE
from functions.api.http import IF_MATCH_PATTERN, JSON_MEDIA_TYPES, MAX_BODY_BYTES
from functions.api.models import (
    AuditList,
    ContactValidation,
    EnableResponse,
    Health,
    Problem,
    RunList,
    RunRecord,
    RunRequest,
    Status,
)
from functions.api.routing import Reply, RouteSpec
from functions.config import ApiAuthMode
from functions.settings import Settings

__all__ = ["openapi_document"]

_REF = "#/components/schemas/{model}"
_MODELS = (Problem, Health, RunRecord, RunList, RunRequest, EnableResponse, Status, ContactValidation,
           AuditList)
_HEADER_DOCS = {
    "ETag": "Strong entity tag of the settings (\"v<version>-<hash>\"); send it as If-Match.",
    "Location": "Where to poll the run: /api/runs/{run_id}.",
    "WWW-Authenticate": "Bearer challenge (API_AUTH=jwt).",
}
_AUTH_TEXT = {
    ApiAuthMode.KEY: "Function key only (API_AUTH=key): every key holder is an admin.",
    ApiAuthMode.PLATFORM: "Function key plus App Service Authentication (API_AUTH=platform): the "
                          "X-MS-CLIENT-PRINCIPAL must carry the admin role for changes, the reader or "
                          "admin role for reads.",
    ApiAuthMode.JWT: "Function key plus an Entra ID bearer token (API_AUTH=jwt) validated in code; app "
                     "role admin for changes, reader or admin for reads.",
}


def _components() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    _, top = models_json_schema([(m, "validation") for m in (Settings, *_MODELS)], ref_template=_REF)
    schemas.update(top.get("$defs", {}))
    patch = Settings.patch_schema(ref_template=_REF)
    schemas.update(patch.pop("$defs", {}))
    schemas["SettingsPatch"] = patch
    schemas["OpenApiDocument"] = {"type": "object", "description": "An OpenAPI 3.1 document."}
    return schemas


def _ref(schema: Any) -> dict[str, Any]:
    if isinstance(schema, tuple):
        return {"anyOf": [_ref(one) for one in schema]}
    name = schema if isinstance(schema, str) else schema.__name__
    return {"$ref": _REF.format(model=name)}


def _operation(spec: RouteSpec, mode: ApiAuthMode) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": spec.operation_id,
        "summary": spec.summary,
        "tags": [spec.path.removeprefix("/api/").split("/")[0].removesuffix(".json")],
    }
    if spec.description:
        op["description"] = spec.description
    params: list[dict[str, Any]] = []
    for name, (pattern, description) in spec.path_params.items():
        params.append({"name": name, "in": "path", "required": True, "description": description,
                       "schema": {"type": "string", "pattern": pattern}})
    for query in spec.query:
        params.append({"name": query.name, "in": "query", "required": False, "description": query.description,
                       "schema": {"type": "integer", "minimum": query.minimum, "maximum": query.maximum,
                                  "default": query.default}})
    if spec.if_match:
        params.append({"name": "If-Match", "in": "header", "required": True,
                       "description": "The ETag of GET /api/settings, or * to patch what is stored when the "
                                      "PATCH is read (a write in between still gets 412).",
                       "schema": {"type": "string", "pattern": IF_MATCH_PATTERN}})
    if params:
        op["parameters"] = params
    if spec.body == "patch":
        op["requestBody"] = {
            "required": True,
            "description": "RFC 7396 JSON merge patch of the settings "
                           f"(at most {MAX_BODY_BYTES // 1024} KiB).",
            "content": {media: {"schema": _ref("SettingsPatch")} for media in reversed(JSON_MEDIA_TYPES)},
        }
    elif spec.body == "run_request":
        op["requestBody"] = {"required": False, "content": {"application/json": {"schema": _ref(RunRequest)}}}
    op["responses"] = {str(reply.status): _response(spec, reply) for reply in
                       sorted(spec.replies, key=lambda r: r.status)}
    if spec.role is None:
        op["security"] = []
    else:
        op["x-required-role"] = spec.role.value
        bearer = {"bearerAuth": []} if mode is ApiAuthMode.JWT else {}
        op["security"] = [{"functionKey": [], **bearer}, {"functionKeyQuery": [], **bearer}]
    return op


def _response(spec: RouteSpec, reply: Reply) -> dict[str, Any]:
    out: dict[str, Any] = {"description": reply.description}
    if reply.schema is not None:
        media = "application/json" if reply.status < 400 else PROBLEM_MEDIA_TYPE
        out["content"] = {media: {"schema": _ref(reply.schema)}}
    if reply.headers:
        out["headers"] = {
            name: {"description": _HEADER_DOCS[name], "required": name == "ETag" and reply.status < 300,
                   "schema": {"type": "string"}}
            for name in reply.headers
        }
    links = _links(spec.operation_id, reply.status)
    if links:
        out["links"] = links
    return out


def _links(operation_id: str, status: int) -> dict[str, Any]:
    # Lets clients (and stateful test generators) follow the ETag and the run id.
    if operation_id in ("getSettings", "patchSettings") and status in (200, 202):
        links = {"PatchSettings": {"operationId": "patchSettings",
                                   "parameters": {"header.If-Match": "$response.header.ETag"}}}
        if status == 202:
            links["GetRun"] = {"operationId": "getRun",
                               "parameters": {"path.run_id": "$response.body#/run/run_id"}}
        return links
    if operation_id == "requestRun" and status == 202:
        return {"GetRun": {"operationId": "getRun", "parameters": {"path.run_id": "$response.body#/run_id"}}}
    return {}


@functools.lru_cache(maxsize=4)
def _document(mode: ApiAuthMode) -> dict[str, Any]:
    # Imported here: functions.api.routes imports this module (for GET /api/openapi.json) and fills the
    # route table as it loads, so the complete table exists only once every route module has loaded.
    from functions.api.routes import ROUTES

    paths: dict[str, dict[str, Any]] = {}
    for spec in ROUTES.values():
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, mode)
    schemes: dict[str, Any] = {
        "functionKey": {"type": "apiKey", "in": "header", "name": "x-functions-key",
                        "description": "Function key (checked by the Functions host)."},
        "functionKeyQuery": {"type": "apiKey", "in": "query", "name": "code",
                             "description": "Function key as query parameter (same key)."},
    }
    if mode is ApiAuthMode.JWT:
        schemes["bearerAuth"] = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                 "description": "Entra ID access token with the app role in `roles`."}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Data Validation settings API",
            "version": "1",
            "description": "Enable, configure and watch data validation (docs/settings-api.md). "
                           + _AUTH_TEXT[mode] + " Errors are application/problem+json.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": _components(), "securitySchemes": schemes},
    }


def openapi_document(mode: ApiAuthMode = ApiAuthMode.KEY) -> dict[str, Any]:
    """The document for an ``API_AUTH`` mode (a fresh copy; built once per mode)."""
    return copy.deepcopy(_document(ApiAuthMode(mode)))
