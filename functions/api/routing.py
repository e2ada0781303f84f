"""The machinery of the settings API's routes: the route table, the declaration decorator, and
:func:`handle`, which does what every route needs first (config, auth, query validation) and turns
every failure into a problem response, so nothing a caller sends ends in an unhandled exception.

``ROUTES`` is the one declaration of paths, methods, roles, query parameters, bodies and status codes:
the Functions bindings (``functions/triggers/admin_api.py``) and the OpenAPI document (``openapi.py``)
are both generated from it. The route functions themselves are in ``routes_settings.py`` and
``routes_runs.py``; ``routes.py`` imports them so the table is complete.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import AzureError
from pydantic import BaseModel

from functions.api.auth import AuthError, Principal, Role, authorize
from functions.api.context import load_services
from functions.api.errors import ApiError
from functions.api.http import ApiRequest, ApiResponse
from functions.config import AppConfig, ConfigError
from functions.services import Services
from functions.state.settings_store import StoredSettingsInvalid

__all__ = ["API_PREFIX", "ROUTES", "Call", "QueryParam", "Reply", "RouteSpec", "handle", "route",
           "stored_settings_invalid"]

log = logging.getLogger("functions.api")

API_PREFIX = "/api"  # host.json keeps the default route prefix


@dataclass(frozen=True)
class QueryParam:
    name: str
    minimum: int
    maximum: int
    default: int
    description: str

    def read(self, values: Mapping[str, str]) -> int:
        raw = values.get(self.name)
        if raw is None:
            return self.default
        if not re.fullmatch(r"[0-9]{1,4}", raw) or not self.minimum <= int(raw) <= self.maximum:
            raise ApiError(400, f"invalid query parameter {self.name}",
                           errors=[(self.name, f"must be an integer from {self.minimum} to {self.maximum}")])
        return int(raw)


@dataclass(frozen=True)
class Call:
    """One authorised request: what a route function gets."""

    request: ApiRequest
    services: Services
    principal: Principal
    query: Mapping[str, str]

    @property
    def config(self) -> AppConfig:
        return self.services.config


@dataclass(frozen=True)
class Reply:
    """A documented response: status, description, body schema (a model, a components name, a tuple of
    them for "any of", or None)."""

    status: int
    description: str
    schema: type[BaseModel] | str | tuple[type[BaseModel] | str, ...] | None = None
    headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouteSpec:
    operation_id: str
    method: str
    path: str  # OpenAPI path with the /api prefix
    role: Role | None  # None: anonymous (health)
    handler: Callable[..., ApiResponse]
    summary: str
    description: str = ""
    query: tuple[QueryParam, ...] = ()
    path_params: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # name -> (pattern, description)
    body: str | None = None  # "patch" | "run_request"
    body_required: bool = False
    if_match: bool = False
    replies: tuple[Reply, ...] = ()

    @property
    def route(self) -> str:
        """The Functions route template (without the route prefix)."""
        return self.path.removeprefix(API_PREFIX + "/")

    @property
    def auth_level(self) -> str:
        return "anonymous" if self.role is None else "function"


ROUTES: dict[str, RouteSpec] = {}


def route(**spec_args: Any) -> Callable[[Callable[..., ApiResponse]], Callable[..., ApiResponse]]:
    """Declare a route function (the arguments are ``RouteSpec``'s)."""

    def register(fn: Callable[..., ApiResponse]) -> Callable[..., ApiResponse]:
        spec = RouteSpec(handler=fn, **spec_args)
        ROUTES[spec.operation_id] = spec
        return fn

    return register


def stored_settings_invalid(exc: StoredSettingsInvalid) -> ApiError:
    """503 naming the fields of a stored settings document that no longer validates (never values)."""
    fields = ", ".join(e.field or "(document)" for e in exc.errors) or "(document)"
    return ApiError(
        503, f"the stored settings are no longer valid ({fields}); repair them with PATCH /api/settings "
             "and If-Match: * (the patch is applied to the stored members that are still valid, and to "
             "the defaults from the app settings for the rest)",
        errors=[(e.field, e.reason) for e in exc.errors])


def handle(operation_id: str, request: ApiRequest, *,
           environ: Mapping[str, str] | None = None) -> ApiResponse:
    """Run one route for one request. Every outcome is a response; nothing propagates."""
    spec = ROUTES[operation_id]
    try:
        response = _run(spec, request, environ)
    except ApiError as exc:
        response = ApiResponse.problem(exc, request.request_id)
    except AuthError as exc:
        refusal = ApiError(exc.status, exc.detail, headers=exc.headers)
        response = ApiResponse.problem(refusal, request.request_id)
    except ConfigError as exc:
        # ConfigError texts name settings and reasons, never values (functions/config.py).
        log.error("settings API: configuration error (%s): %s", request.request_id, exc)
        response = ApiResponse.problem(ApiError(503, f"configuration error: {exc}"), request.request_id)
    except StoredSettingsInvalid as exc:
        log.error("settings API: %s (%s)", exc, request.request_id)
        response = ApiResponse.problem(stored_settings_invalid(exc), request.request_id)
    except AzureError as exc:
        log.error("settings API: state storage failed (%s): %s", request.request_id, type(exc).__name__)
        response = ApiResponse.problem(ApiError(
            503, "state storage is unavailable or refused the request (check STATE_STORAGE_CONNECTION / "
                 f"STATE_STORAGE_ACCOUNT_URL / STATE_QUEUE_ACCOUNT_URL); request id {request.request_id}"),
            request.request_id)
    except Exception:
        log.exception("settings API: unexpected error in %s (%s)", operation_id, request.request_id)
        response = ApiResponse.problem(
            ApiError(500, f"unexpected error; the log has the details under request id {request.request_id}"),
            request.request_id)
    try:
        response.encode()  # here, so that not even serialising can end in an unhandled exception
    except Exception:
        log.exception("settings API: response of %s not serialisable (%s)", operation_id, request.request_id)
        response = ApiResponse.problem(
            ApiError(500, f"unexpected error; the log has the details under request id {request.request_id}"),
            request.request_id)
        response.encode()
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _run(spec: RouteSpec, request: ApiRequest, environ: Mapping[str, str] | None) -> ApiResponse:
    if spec.role is None:
        request.query_values(())
        return spec.handler(request)
    services = load_services(environ)
    principal = authorize(request.headers, services.config.api, spec.role)
    query = request.query_values([q.name for q in spec.query])
    return spec.handler(Call(request, services, principal, query))


# Replies most routes share.
E400 = Reply(400, "Invalid input: unknown query parameter, bad path parameter or body; `errors` names "
                  "each field.", "Problem")
E401 = Reply(401, "No acceptable credentials (function key checked by the host; in platform/jwt mode "
                  "the principal or token).", "Problem", ("WWW-Authenticate",))
E403 = Reply(403, "Authenticated, but without the app role this operation needs.", "Problem")
E500 = Reply(500, "A bug; the body has a request id to look up in the log.", "Problem")
E503 = Reply(503, "Configuration error (names the app settings), state storage unavailable, or stored "
                  "settings that no longer validate (`errors` names the fields).", "Problem")
COMMON = (E400, E401, E403, E500, E503)
BODY_ERRORS = (
    Reply(413, "The body is larger than 64 KiB.", "Problem"),
    Reply(415, "The body is not application/json or application/merge-patch+json (charset utf-8).",
          "Problem"),
)
