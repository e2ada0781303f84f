"""The settings API's routes: one small function per route, plus the table that declares them.

Each route is ``(Call) -> ApiResponse``; :func:`handle` does what every route needs first (config,
auth, query validation) and turns every failure into a problem response, so nothing a caller sends
ends in an unhandled exception. ``ROUTES`` is the one declaration of paths, methods, roles, query
parameters, bodies and status codes: the Functions bindings (``functions/triggers/admin_api.py``) and
the OpenAPI document (``openapi.py``) are both generated from it.

Status codes: 200/202 success; 400 bad input (field and reason in ``errors``); 401/403 auth; 404
unknown run or contact; 409 disabled or a run already active; 412 stale ``If-Match``; 413 body over
64 KiB; 415 not JSON; 422 enabling refused by preflight or provisioning; 428 ``If-Match`` missing;
503 configuration or state storage unusable (names the settings, never values); 500 only for a bug
(logged with the request id, no internals in the body).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from azure.core.exceptions import AzureError
from pydantic import BaseModel, ValidationError

from functions.api.auth import AuthError, Principal, Role, authorize
from functions.api.context import Services, load_services
from functions.api.errors import ApiError
from functions.api.http import ApiRequest, ApiResponse
from functions.api.models import (
    AuditList,
    ContactValidation,
    EnableResponse,
    Health,
    RunList,
    RunRecord,
    RunRequest,
    Status,
    short_run,
)
from functions.config import AppConfig, ConfigError

__all__ = ["API_PREFIX", "ROUTES", "Call", "QueryParam", "RouteSpec", "handle"]

log = logging.getLogger("functions.api")

API_PREFIX = "/api"  # host.json keeps the default route prefix
RUN_ID_PATTERN = r"^\d{8}T\d{6}Z-[0-9a-f]{8}$"
GUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# Entity tags as RFC 9110 8.8.3 has them: visible ASCII but '"' between the quotes.
IF_MATCH_PATTERN = r'^[ \t]*(\*|(W/)?"[!#-~]*"([ \t]*,[ \t]*(W/)?"[!#-~]*")*)[ \t]*$'
_RUN_ID = re.compile(RUN_ID_PATTERN.strip("^$"), re.ASCII)
_GUID = re.compile(GUID_PATTERN.strip("^$"), re.ASCII)
_IF_MATCH = re.compile(IF_MATCH_PATTERN.strip("^$"), re.ASCII)
_ENTITY_TAG = re.compile(r'(W/)?("[!#-~]*")')
STATUS_RUNS = 5
_LAST_ERROR_WINDOW = 20


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
    """A documented response: status, description, body schema (a model, a components name, or None)."""

    status: int
    description: str
    schema: type[BaseModel] | str | None = None
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


# --------------------------------------------------------------------------------------------- handling


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


def _settings_headers(etag: str) -> dict[str, str]:
    return {"ETag": etag}


def _field_errors(exc: ValidationError) -> list[tuple[str, str]]:
    from functions.settings.model import errors_from

    return [(e.field, e.reason) for e in errors_from(exc)]


# ------------------------------------------------------------------------------------------ responses

_E400 = Reply(400, "Invalid input: unknown query parameter, bad path parameter or body; `errors` names "
                   "each field.", "Problem")
_E401 = Reply(401, "No acceptable credentials (function key checked by the host; in platform/jwt mode "
                   "the principal or token).", "Problem", ("WWW-Authenticate",))
_E403 = Reply(403, "Authenticated, but without the app role this operation needs.", "Problem")
_E500 = Reply(500, "A bug; the body has a request id to look up in the log.", "Problem")
_E503 = Reply(503, "Configuration error (names the app settings) or state storage unavailable.", "Problem")
_COMMON = (_E400, _E401, _E403, _E500, _E503)
_BODY_ERRORS = (
    Reply(413, "The body is larger than 64 KiB.", "Problem"),
    Reply(415, "The body is not application/json or application/merge-patch+json (charset utf-8).",
          "Problem"),
)


# ------------------------------------------------------------------------------------------- settings


@route(
    operation_id="getSettings", method="GET", path="/api/settings", role=Role.READER,
    summary="The current settings",
    description="The stored settings, or the defaults from the app settings before the first save. "
                "The `ETag` goes into `If-Match` of the next PATCH.",
    replies=(Reply(200, "The settings.", "Settings", ("ETag",)), *_COMMON),
)
def get_settings(call: Call) -> ApiResponse:
    stored = call.services.store.current(call.services.defaults)
    assert stored.settings is not None
    return ApiResponse.json(200, stored.settings.to_json(), _settings_headers(stored.etag))


def _if_match(request: ApiRequest) -> list[str] | None:
    """The strong entity tags of ``If-Match`` (None for ``*``); 428 when missing, 400 when malformed."""
    value = request.headers.get("if-match")
    if value is None or not value.strip():
        raise ApiError(428, "If-Match is required: send the ETag of GET /api/settings (or * to overwrite)",
                       errors=[("If-Match", "required")])
    if not _IF_MATCH.fullmatch(value):
        raise ApiError(400, "If-Match must be * or entity tags in double quotes, as ETag gives them",
                       errors=[("If-Match", 'must be * or a quoted entity tag such as "v3-1a2b3c4d"')])
    if value.strip() == "*":
        return None
    # If-Match compares strongly (RFC 9110 13.1.1): a weak tag never matches.
    return [tag for weak, tag in _ENTITY_TAG.findall(value) if not weak]


@route(
    operation_id="patchSettings", method="PATCH", path="/api/settings", role=Role.ADMIN,
    summary="Change settings (JSON merge patch); enabling starts the first run",
    description="RFC 7396 merge patch of the settings; `null` resets a member to its default. Needs "
                "`If-Match`. Enabling (enabled false -> true) runs the preflight checks, provisions the "
                "column and views, saves, and queues the first run: 202 with the run and a `Location`. "
                "Any refusal changes nothing.",
    body="patch", body_required=True, if_match=True,
    replies=(
        Reply(200, "Saved (or nothing to change): the settings.", "Settings", ("ETag",)),
        Reply(202, "Enabled: the settings were saved and the first run was queued; poll `Location`.",
              EnableResponse, ("ETag", "Location")),
        *_COMMON, *_BODY_ERRORS,
        Reply(412, "`If-Match` does not match the current settings: read them again.", "Problem", ("ETag",)),
        Reply(422, "Enabling (or changing the profile source while enabled) failed a preflight check or "
                   "provisioning; `errors` and `checks` say what to fix. Nothing was saved.", "Problem"),
        Reply(428, "`If-Match` is missing.", "Problem"),
    ),
)
def patch_settings(call: Call) -> ApiResponse:
    from functions.settings import SettingsValidationError, validate_patch
    from functions.state.settings_store import SettingsConflict

    tags = _if_match(call.request)
    patch = call.request.json_body()
    services = call.services
    defaults = services.defaults
    stored = services.store.current(defaults)
    assert stored.settings is not None
    if tags is not None and stored.etag not in tags:
        raise ApiError(412, "the settings changed since they were read: GET them again and retry",
                       errors=[("If-Match", "does not match the current ETag")],
                       headers=_settings_headers(stored.etag))
    try:
        new = validate_patch(stored.settings, patch, defaults=defaults,
                             secrets_present=services.secrets_present())
    except SettingsValidationError as exc:
        raise ApiError(400, "invalid settings: nothing was changed",
                       errors=[(e.field, e.reason) for e in exc.errors]) from None
    old = stored.settings
    if new == old:
        return ApiResponse.json(200, old.to_json(), _settings_headers(stored.etag))
    if new.enabled and not old.enabled:
        return _enable_serialised(call, stored, new)
    if new.enabled and new.profile_source != old.profile_source:
        _preflight(call, new, only=("profile_source",), field_name="profile_source")
    try:
        saved = services.store.save(new, expected=stored, who=call.principal,
                                    request_id=call.request.request_id)
    except SettingsConflict:
        raise _conflict() from None
    assert saved.settings is not None
    return ApiResponse.json(200, saved.settings.to_json(), _settings_headers(saved.etag))


def _conflict() -> ApiError:
    return ApiError(412, "the settings were changed by someone else meanwhile: GET them again and retry",
                    errors=[("If-Match", "does not match the current ETag")])


def _preflight(call: Call, new: Any, *, only: tuple[str, ...] | None, field_name: str) -> None:
    """Preflight with the configuration the new settings give; 422 listing each failed check."""
    from functions.preflight import run_preflight
    from functions.settings import effective_config

    effective = effective_config(call.config, new).config
    # Preflight builds its own Dataverse client with short timeouts: an unreachable org must fail the
    # check quickly, well inside the HTTP response limit, not after the scan's retries.
    report = run_preflight(effective, only=only, tables=call.services.tables)
    if report.ok:
        return
    checks = report.to_dict().get("checks", [])
    failed = report.failed
    errors = [(field_name, f"preflight check {c.name} failed: {c.detail}"
               + (f" Fix: {c.fix}" if c.fix else "")) for c in failed] or [(field_name, "preflight failed")]
    what = "enabled stays false" if field_name == "enabled" else "nothing was changed"
    raise ApiError(422, f"preflight failed ({', '.join(c.name for c in failed) or 'see checks'}); {what}",
                   errors=errors, extra={"checks": checks})


# Enabling provisions Dataverse, which is not safe to run twice at the same moment (both would create
# the publisher). Enables in this process take turns; the second then finds the settings changed (412).
_ENABLE_LOCK = threading.Lock()
_ENABLE_WAIT_SECONDS = 180.0


def _enable_serialised(call: Call, stored: Any, new: Any) -> ApiResponse:
    if not _ENABLE_LOCK.acquire(timeout=_ENABLE_WAIT_SECONDS):
        raise ApiError(409, "another request is enabling validation right now; try again shortly",
                       errors=[("enabled", "enabling is in progress")])
    try:
        if call.services.store.current(call.services.defaults).etag != stored.etag:
            raise _conflict()  # the turn before ours changed the settings
        return _enable(call, stored, new)
    finally:
        _ENABLE_LOCK.release()


def _provision(client: Any, dataverse: Any, *, dry_run: bool) -> Any:
    """Provisioning, tried twice: it is idempotent, and a concurrent enable in another instance may have
    created a component between our read and our create (the second pass then finds it)."""
    from functions.dataverse.errors import DataverseError
    from functions.dataverse.provisioning import provision
    from functions.dataverse.provisioning_errors import ProvisioningError

    try:
        return provision(client, dataverse, dry_run=dry_run)
    except (ProvisioningError, DataverseError):
        log.info("provisioning failed once; trying again (idempotent)")
        return provision(client, dataverse, dry_run=dry_run)


def _enable(call: Call, stored: Any, new: Any) -> ApiResponse:
    """Enabling: preflight -> provision -> save -> queue the first run -> 202 + Location."""
    from functions.dataverse.errors import DataverseError
    from functions.dataverse.provisioning_errors import ProvisioningError
    from functions.pipeline.requests import RunAlreadyActive, request_run
    from functions.settings import effective_config
    from functions.state.provisioned import ProvisionedRecord, ProvisionedStore, provisioning_fingerprint
    from functions.state.settings_store import SettingsConflict

    services = call.services
    _preflight(call, new, only=None, field_name="enabled")
    effective = effective_config(call.config, new).config
    dataverse = effective.dataverse
    try:
        report = _provision(services.client, dataverse, dry_run=new.dry_run)
    except (ProvisioningError, DataverseError) as exc:
        log.warning("enabling refused: provisioning failed (%s): %s", call.request.request_id, exc)
        raise ApiError(422, "provisioning the column and views failed; enabled stays false",
                       errors=[("enabled", f"provisioning failed: {exc}")]) from None
    except Exception as exc:  # e.g. the credential could not get a token: name the kind, not internals
        log.exception("enabling refused: provisioning failed (%s)", call.request.request_id)
        raise ApiError(422, "provisioning the column and views failed; enabled stays false",
                       errors=[("enabled", f"provisioning failed: {type(exc).__name__}")]) from None
    if not new.dry_run and report.binding is not None:
        # The first run then skips its own provisioning check (same as run_scan records it).
        record = ProvisionedRecord(provisioning_fingerprint(dataverse), datetime.now(UTC), report.binding,
                                   report.supporting_columns)
        ProvisionedStore(services.tables.provisioning).save(record)
    try:
        saved = services.store.save(new, expected=stored, who=call.principal,
                                    request_id=call.request.request_id)
    except SettingsConflict:
        raise _conflict() from None
    try:
        run = request_run(effective, services.tables, services.queue, trigger="enable", dry_run=None,
                          requested_by=call.principal.name[:256])
    except RunAlreadyActive as exc:
        # Enabled while a run is still queued or running (e.g. requested before a disable): that run
        # is the first run now; the worker reads the settings when it starts.
        from functions.pipeline.requests import active_run

        run = active_run(services.tables) or {"run_id": exc.run_id, "status": exc.status}
    except Exception as exc:
        # Saved, but not queued: say exactly that (the timer still runs it; POST /api/runs retries).
        log.exception("enabled, but the first run could not be queued (%s)", call.request.request_id)
        raise ApiError(503, "validation was enabled and saved, but the first run could not be queued "
                            f"({type(exc).__name__}); POST /api/runs to start it",
                       headers=_settings_headers(saved.etag)) from None
    headers = _settings_headers(saved.etag)
    if _RUN_ID.fullmatch(str(run.get("run_id", ""))):
        headers["Location"] = f"{API_PREFIX}/runs/{run['run_id']}"
    assert saved.settings is not None
    body = EnableResponse.model_validate({"settings": saved.settings.to_json(),
                                          "run": RunRecord.model_validate(run).model_dump(mode="json")})
    return ApiResponse.json(202, body.model_dump(mode="json"), headers)


# ---------------------------------------------------------------------------------------------- status


@route(
    operation_id="getStatus", method="GET", path="/api/status", role=Role.READER,
    summary="Enabled, next scheduled run, active run, last runs and last error",
    replies=(Reply(200, "The status.", Status), *_COMMON),
)
def get_status(call: Call) -> ApiResponse:
    from functions.pipeline.requests import active_run
    from functions.pipeline.schedule import next_occurrence
    from functions.state.runs import RunRecords

    services = call.services
    stored = services.store.current(services.defaults)
    settings = stored.settings
    assert settings is not None
    recent = RunRecords(services.tables.runs).latest(_LAST_ERROR_WINDOW)
    failed = next((r for r in recent if r.get("status") == "failed"), None)
    schedule = call.config.scan.schedule
    upcoming = next_occurrence(schedule, datetime.now(UTC)) if settings.enabled else None
    active = active_run(services.tables)
    body = Status(
        enabled=settings.enabled,
        dry_run=settings.dry_run,
        schedule=schedule,
        next_scheduled_run=upcoming.isoformat(timespec="seconds") if upcoming else None,
        active_run=RunRecord.model_validate(short_run(active)) if active else None,
        last_runs=[RunRecord.model_validate(short_run(r)) for r in recent[:STATUS_RUNS]],
        last_error=None if failed is None else {
            "run_id": failed["run_id"], "status": failed["status"],
            "at": failed.get("finished_at") or failed.get("started_at"), "message": failed.get("message")},
        settings={"version": stored.version, "updated_at": stored.updated_at,
                  "updated_by": stored.updated_by},
    )
    return ApiResponse.json(200, body.model_dump(mode="json", exclude_none=False))


# ------------------------------------------------------------------------------------------------ runs


@route(
    operation_id="requestRun", method="POST", path="/api/runs", role=Role.ADMIN,
    summary="Run a scan now",
    description="Queues a run (the queue-triggered worker starts it). Optional body `{\"dry_run\": bool}`.",
    body="run_request",
    replies=(
        Reply(202, "Queued: the run record (status queued); poll `Location`.", RunRecord, ("Location",)),
        *_COMMON, *_BODY_ERRORS,
        Reply(409, "Data validation is disabled (field `enabled`), or a run is already running or queued "
                   "(`active_run`).", "Problem"),
    ),
)
def request_run_now(call: Call) -> ApiResponse:
    from functions.pipeline.requests import RunAlreadyActive, request_run
    from functions.settings import effective_config

    body: Any = {}
    if call.request.has_body():
        body = call.request.json_body(media_types=("application/json",))
    try:
        wanted = RunRequest.model_validate(body)
    except ValidationError as exc:
        raise ApiError(400, "invalid run request", errors=_field_errors(exc)) from None
    services = call.services
    stored = services.store.current(services.defaults)
    assert stored.settings is not None
    if not stored.settings.enabled:
        raise ApiError(409, "data validation is disabled: enable it first (PATCH /api/settings)",
                       errors=[("enabled", "is false")])
    effective = effective_config(call.config, stored.settings).config
    try:
        record = request_run(effective, services.tables, services.queue, trigger="api",
                             dry_run=wanted.dry_run, requested_by=call.principal.name[:256])
    except RunAlreadyActive as exc:
        raise ApiError(409, f"a run is already {exc.status}: wait for it to finish",
                       errors=[("", f"run {exc.run_id} is {exc.status}")],
                       extra={"active_run": exc.run_id}) from None
    services.audit.record(who_id=call.principal.id, who_name=call.principal.name, auth=call.principal.auth,
                          action="run.request", old=None,
                          new={"run_id": record["run_id"], "dry_run": record.get("dry_run")},
                          request_id=call.request.request_id)
    body_out = RunRecord.model_validate(record).model_dump(mode="json")
    return ApiResponse.json(202, body_out, {"Location": f"{API_PREFIX}/runs/{record['run_id']}"})


_LIMIT_RUNS = QueryParam("limit", 1, 100, 20, "How many runs, newest first (1-100, default 20).")


@route(
    operation_id="listRuns", method="GET", path="/api/runs", role=Role.READER,
    summary="The latest runs (short records)", query=(_LIMIT_RUNS,),
    replies=(Reply(200, "Newest first.", RunList), *_COMMON),
)
def list_runs(call: Call) -> ApiResponse:
    from functions.state.runs import RunRecords

    limit = _LIMIT_RUNS.read(call.query)
    runs = RunRecords(call.services.tables.runs).latest(limit)
    body = RunList(runs=[RunRecord.model_validate(short_run(r)) for r in runs])
    return ApiResponse.json(200, body.model_dump(mode="json", exclude_none=True))


@route(
    operation_id="getRun", method="GET", path="/api/runs/{run_id}", role=Role.READER,
    summary="One run: its full record",
    path_params={"run_id": (RUN_ID_PATTERN, "Run id, YYYYmmddTHHMMSSZ-<8 hex> (from Location or a list).")},
    replies=(Reply(200, "The run record.", RunRecord), *_COMMON, Reply(404, "No such run.", "Problem")),
)
def get_run(call: Call) -> ApiResponse:
    from functions.state.runs import RunRecords, is_run_id

    run_id = call.request.route_params.get("run_id", "")
    if not _RUN_ID.fullmatch(run_id):
        raise ApiError(400, "invalid run id", errors=[("run_id", "must look like 20260101T020000Z-1a2b3c4d")])
    record = RunRecords(call.services.tables.runs).get(run_id) if is_run_id(run_id) else None
    if record is None:
        raise ApiError(404, "no run with this id")
    return ApiResponse.json(200, RunRecord.model_validate(record).model_dump(mode="json"))


# -------------------------------------------------------------------------------------------- contacts


@route(
    operation_id="getContactValidation", method="GET", path="/api/contacts/{contact_id}/validation",
    role=Role.READER, summary="Why a contact has its value: the last verdict with its evidence",
    path_params={"contact_id": (GUID_PATTERN, "The contact's id (contactid GUID).")},
    replies=(Reply(200, "The verdict.", ContactValidation), *_COMMON,
             Reply(404, "The scan has not seen this contact.", "Problem")),
)
def get_contact_validation(call: Call) -> ApiResponse:
    from functions.state.contacts import ContactStates

    contact_id = call.request.route_params.get("contact_id", "")
    if not _GUID.fullmatch(contact_id):
        raise ApiError(400, "invalid contact id",
                       errors=[("contact_id", "must be a GUID (8-4-4-4-12 hexadecimal digits)")])
    state = ContactStates(call.services.tables.contacts).get(contact_id.lower())
    if state is None:
        raise ApiError(404, "the scan has not seen this contact (not in scope, or no run yet)")
    try:
        evidence: Any = json.loads(state.evidence) if state.evidence else None
    except ValueError:
        evidence = state.evidence
    body = ContactValidation(
        contact_id=state.contact_id, outcome=state.outcome, rule=state.rule, evidence=evidence,
        current_employer=state.current_employer, checked_at=state.checked_at, flag_value=state.flag_value,
        value_written=state.value_written, reason=state.reason, in_scope=bool(state.in_scope),
        next_refresh=state.next_refresh, last_run_id=state.last_run_id,
    )
    return ApiResponse.json(200, body.model_dump(mode="json"))


# ----------------------------------------------------------------------------------------------- audit

_LIMIT_AUDIT = QueryParam("limit", 1, 100, 50, "How many entries, newest first (1-100, default 50).")


@route(
    operation_id="listAudit", method="GET", path="/api/audit", role=Role.ADMIN,
    summary="The audit log: who changed what, when", query=(_LIMIT_AUDIT,),
    replies=(Reply(200, "Newest first.", AuditList), *_COMMON),
)
def list_audit(call: Call) -> ApiResponse:
    limit = _LIMIT_AUDIT.read(call.query)
    body = AuditList.model_validate({"entries": call.services.audit.latest(limit)})
    return ApiResponse.json(200, body.model_dump(mode="json"))


# ------------------------------------------------------------------------------------- openapi, health


@route(
    operation_id="getOpenApi", method="GET", path="/api/openapi.json", role=Role.READER,
    summary="This API's OpenAPI 3.1 document",
    replies=(Reply(200, "OpenAPI 3.1 document.", "OpenApiDocument"), *_COMMON),
)
def get_openapi(call: Call) -> ApiResponse:
    from functions.api.openapi import openapi_document

    return ApiResponse.json(200, openapi_document(call.config.api.auth))


@route(
    operation_id="getHealth", method="GET", path="/api/health", role=None,
    summary="Liveness (no auth; reveals nothing)",
    replies=(Reply(200, "Alive.", Health), Reply(400, "A query parameter was given.", "Problem")),
)
def get_health(request: ApiRequest) -> ApiResponse:
    return ApiResponse.json(200, {"status": "ok"})

