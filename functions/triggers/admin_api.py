"""HTTP triggers of the settings API (docs/settings-api.md). Thin: one function per route turns the
``HttpRequest`` into an ``ApiRequest``, calls the route (``functions/api/routes.py``) and turns the
``ApiResponse`` back. Routes, methods and auth levels come from ``routes.ROUTES``, which also drives
the OpenAPI document. Every route but health needs a function key (``AuthLevel.FUNCTION``); the app
role check (``API_AUTH``) happens in the route.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import azure.functions as func

from functions.api.errors import PROBLEM_MEDIA_TYPE
from functions.api.http import ApiRequest
from functions.api.routes import ROUTES, handle

log = logging.getLogger("functions.api")

bp = func.Blueprint()

_LEVELS = {"function": func.AuthLevel.FUNCTION, "anonymous": func.AuthLevel.ANONYMOUS}


#: What a request gets if even building the request or the response failed (a bug): fixed bytes.
_FALLBACK = (b'{"type":"about:blank","title":"Internal Server Error","status":500,'
             b'"detail":"unexpected error; the log has the details","errors":[]}')


def _serve(operation_id: str, req: func.HttpRequest) -> func.HttpResponse:
    """``handle`` turns every outcome into a response; this guards the conversions around it too, so
    that the trigger itself cannot raise (the host would answer a bare 500)."""
    try:
        request = ApiRequest.build(method=req.method, url=req.url, headers=list(req.headers.items()),
                                   params=dict(req.params), route_params=dict(req.route_params),
                                   body=req.get_body())
        response = handle(operation_id, request)
        return func.HttpResponse(response.body_bytes(), status_code=response.status,
                                 headers=response.headers, mimetype=response.media_type, charset="utf-8")
    except Exception:
        log.exception("settings API: %s failed outside the request handler", operation_id)
        return func.HttpResponse(_FALLBACK, status_code=500, mimetype=PROBLEM_MEDIA_TYPE, charset="utf-8",
                                 headers={"Cache-Control": "no-store"})


def _route(operation_id: str) -> Callable[..., Any]:
    """The ``bp.route`` decorator for a declared route (path, method, auth level from ``ROUTES``)."""
    spec = ROUTES[operation_id]
    return bp.route(route=spec.route, methods=[spec.method], auth_level=_LEVELS[spec.auth_level])


@bp.function_name("api_get_settings")
@_route("getSettings")
def api_get_settings(req: func.HttpRequest) -> func.HttpResponse:
    return _serve("getSettings", req)


@bp.function_name("api_patch_settings")
@_route("patchSettings")
def api_patch_settings(req: func.HttpRequest) -> func.HttpResponse:
    return _serve("patchSettings", req)


@bp.function_name("api_get_status")
@_route("getStatus")
def api_get_status(req: func.HttpRequest) -> func.HttpResponse:
    return _serve("getStatus", req)


@bp.function_name("api_request_run")
@_route("requestRun")
def api_request_run(req: func.HttpRequest) -> func.HttpResponse:
    return _serve("requestRun", req)


@bp.function_name("api_list_runs")
@_route("listRuns")
def api_list_runs(req: func.HttpRequest) -> func.HttpResponse:
    return _serve("listRuns", req)


@bp.function_name("api_get_run")
@_route("getRun")
def api_get_run(req: func.HttpRequest) -> func.HttpResponse:
    return _serve("getRun", req)


@bp.function_name("api_get_contact_validation")
@_route("getContactValidation")
def api_get_contact_validation(req: func.HttpRequest) -> func.HttpResponse:
    return _serve("getContactValidation", req)


@bp.function_name("api_list_audit")
@_route("listAudit")
def api_list_audit(req: func.HttpRequest) -> func.HttpResponse:
    return _serve("listAudit", req)


@bp.function_name("api_get_openapi")
@_route("getOpenApi")
def api_get_openapi(req: func.HttpRequest) -> func.HttpResponse:
    return _serve("getOpenApi", req)


@bp.function_name("api_health")
@_route("getHealth")
def api_health(req: func.HttpRequest) -> func.HttpResponse:
    return _serve("getHealth", req)
