"""Routes of the settings resource and the app around it: settings, status, audit, OpenAPI, health.

Each route parses, authorises (``routing.handle``), calls the settings services and shapes the answer;
the enable sequence itself is ``functions.pipeline.enable``.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from pydantic import ValidationError

from functions.api.auth import Role
from functions.api.errors import ApiError
from functions.api.http import IF_MATCH_PATTERN, ApiRequest, ApiResponse
from functions.api.models import AuditEntry, AuditList, EnableResponse, Health, RunRecord, Status
from functions.api.openapi import openapi_document
from functions.api.routes_runs import readable_runs, run_record
from functions.api.routing import API_PREFIX, BODY_ERRORS, COMMON, Call, QueryParam, Reply, route
from functions.config import AppConfig
from functions.pipeline.enable import (
    EnableInProgress,
    EnableResult,
    EnableTimedOut,
    PreflightFailed,
    ProvisioningFailed,
    check_identity_columns,
    check_profile_source,
    enable,
)
from functions.pipeline.requests import active_run
from functions.pipeline.schedule import next_occurrence
from functions.services import Services
from functions.settings import Settings, SettingsValidationError, profile_file_errors, validate_patch
from functions.state.runs import is_run_id
from functions.state.settings_store import (
    SettingsConflict,
    SettingsStore,
    StoredSettings,
    StoredSettingsInvalid,
)

__all__ = ["STATUS_RUNS"]

log = logging.getLogger("functions.api")

_IF_MATCH = re.compile(IF_MATCH_PATTERN.strip("^$"), re.ASCII)
_ENTITY_TAG = re.compile(r'(W/)?("[!#-~]*")')
STATUS_RUNS = 5
_LAST_ERROR_WINDOW = 20


def _settings_headers(etag: str) -> dict[str, str]:
    return {"ETag": etag}


def _secrets_present(config: AppConfig) -> set[str]:
    """Names of the secret app settings that are set (validation needs to know, never the values)."""
    present: set[str] = set()
    profiles = config.profiles
    if profiles is not None and profiles.pdl_api_key is not None \
            and profiles.pdl_api_key.get_secret_value().strip():
        present.add("PDL_API_KEY")
    return present


# ------------------------------------------------------------------------------------------- settings


@route(
    operation_id="getSettings", method="GET", path="/api/settings", role=Role.READER,
    summary="The current settings",
    description="The stored settings, or the defaults from the app settings before the first save. "
                "The `ETag` goes into `If-Match` of the next PATCH.",
    replies=(Reply(200, "The settings.", "Settings", ("ETag",)), *COMMON),
)
def get_settings(call: Call) -> ApiResponse:
    stored = call.services.settings_store.current(call.services.settings_defaults)
    return ApiResponse.json(200, stored.require().to_json(), _settings_headers(stored.etag))


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
                "column and views (within 120 s, else 503), saves, and queues the first run: 202 with "
                "the run and a "
                "`Location`; if the run cannot be queued after saving, 200 with `run` null and a warning. "
                "`If-Match: *` also repairs stored settings that no longer validate (503 otherwise): the "
                "patch is then applied to the stored members that still validate and the defaults for "
                "the rest (audited as settings.repair). `profile_source.file` may only be set to "
                "blob://<container>/<name> or the PROFILE_FILE app setting (400 otherwise). Any refusal "
                "changes nothing.",
    body="patch", body_required=True, if_match=True,
    replies=(
        Reply(200, "Saved (or nothing to change): the settings. Enabled, but the first run could not be "
                   "queued: `settings`, `run` null and `warnings`.", ("Settings", EnableResponse),
              ("ETag",)),
        Reply(202, "Enabled: the settings were saved and the first run was queued; poll `Location`.",
              EnableResponse, ("ETag", "Location")),
        *COMMON, *BODY_ERRORS,
        Reply(409, "Another enable is in progress in this instance; retry shortly.", "Problem"),
        Reply(412, "`If-Match` does not match the current settings, or another save won the race: read "
                   "them again (`ETag` is the current one).", "Problem", ("ETag",)),
        Reply(422, "Enabling (or changing the profile source while enabled) failed a preflight check or "
                   "provisioning; `errors` and `checks` say what to fix. Nothing was saved.", "Problem"),
        Reply(428, "`If-Match` is missing.", "Problem"),
    ),
)
def patch_settings(call: Call) -> ApiResponse:
    tags = _if_match(call.request)
    patch = call.request.json_body()
    services = call.services
    defaults = services.settings_defaults
    repaired: list[str] | None = None  # the invalid fields of a stored document this PATCH replaces
    try:
        stored = services.settings_store.current(defaults)
    except StoredSettingsInvalid as exc:
        if tags is not None:
            raise  # 503 naming the fields: only If-Match * may overwrite what nobody can read
        log.warning("repairing stored settings that no longer validate (%s)", call.request.request_id)
        stored = SettingsStore.repair_base(exc, defaults)
        repaired = sorted({e.field or "(document)" for e in exc.errors})
    old = stored.require()
    if tags is not None and stored.etag not in tags:
        raise ApiError(412, "the settings changed since they were read: GET them again and retry",
                       errors=[("If-Match", "does not match the current ETag")],
                       headers=_settings_headers(stored.etag))
    try:
        new = validate_patch(old, patch, defaults=defaults, secrets_present=_secrets_present(call.config))
    except SettingsValidationError as exc:
        raise ApiError(400, "invalid settings: nothing was changed",
                       errors=[(e.field, e.reason) for e in exc.errors]) from None
    location_errors = profile_file_errors(new, old, defaults=defaults)
    if location_errors:  # before any check reads the file: nothing leaves for a location we refuse
        raise ApiError(400, "invalid settings: nothing was changed",
                       errors=[(e.field, e.reason) for e in location_errors])
    if new == old and repaired is None:
        return ApiResponse.json(200, old.to_json(), _settings_headers(stored.etag))
    if new.enabled and not old.enabled:
        return _enable(call, stored, new, repaired)
    try:
        if new.enabled and new.profile_source != old.profile_source:
            check_profile_source(call.config, new, services.tables)
        if new.enabled and new.identity != old.identity:
            check_identity_columns(call.config, new, services.tables)
        saved = services.settings_store.save(new, expected=stored, who=call.principal,
                                    request_id=call.request.request_id, repaired=repaired)
    except PreflightFailed as exc:
        raise _preflight_refusal(exc) from None
    except EnableTimedOut:
        field = "profile_source" if new.profile_source != old.profile_source else "identity"
        log.error("checking the changed %s took too long (%s); nothing saved", field, call.request.request_id)
        raise ApiError(503, f"checking the changed {field} took too long; nothing was changed; retry",
                       errors=[(field, "the check did not finish in time")]) from None
    except SettingsConflict:
        raise _conflict(services) from None
    return ApiResponse.json(200, saved.require().to_json(), _settings_headers(saved.etag))


def _conflict(services: Services) -> ApiError:
    """412 for a save that lost a race: with the ETag of what is stored now (re-read), as for a stale
    If-Match; without one only when the stored settings cannot be read at all."""
    headers: dict[str, str] = {}
    try:
        headers = _settings_headers(services.settings_store.current(services.settings_defaults).etag)
    except Exception:  # invalid now, or storage failing: the 412 stands, without an ETag
        log.warning("settings conflict: the current ETag could not be read")
    return ApiError(412, "the settings were changed by someone else meanwhile: GET them again and retry",
                    errors=[("If-Match", "does not match the current ETag")], headers=headers)


def _preflight_refusal(exc: PreflightFailed) -> ApiError:
    """422 listing each failed check with its fix, and every check."""
    report = exc.report
    failed = report.failed
    errors = [(exc.field, f"preflight check {c.name} failed: {c.detail}"
               + (f" Fix: {c.fix}" if c.fix else "")) for c in failed] or [(exc.field, "preflight failed")]
    what = "enabled stays false" if exc.field == "enabled" else "nothing was changed"
    return ApiError(422, f"preflight failed ({', '.join(c.name for c in failed) or 'see checks'}); {what}",
                    errors=errors, extra={"checks": report.to_dict().get("checks", [])})


def _enable(call: Call, stored: StoredSettings, new: Settings, repaired: list[str] | None) -> ApiResponse:
    services = call.services
    try:
        result = enable(call.config, new, stored=stored, store=services.settings_store,
                        tables=services.tables, queue=services.run_queue, client=services.client,
                        who=call.principal, request_id=call.request.request_id, repaired=repaired)
    except EnableInProgress:
        raise ApiError(409, "an enable is in progress: wait for it to finish, then read the settings again",
                       errors=[("enabled", "an enable is in progress")]) from None
    except SettingsConflict:
        raise _conflict(services) from None
    except PreflightFailed as exc:
        raise _preflight_refusal(exc) from None
    except ProvisioningFailed as exc:
        log.warning("enabling refused (%s): %s", call.request.request_id, exc.reason)
        raise ApiError(422, "provisioning the column and views failed; enabled stays false",
                       errors=[("enabled", exc.reason)]) from None
    except EnableTimedOut:
        log.error("enabling took too long (%s); nothing was saved", call.request.request_id)
        raise ApiError(503, "enabling took too long; nothing was saved; retry",
                       errors=[("enabled", "preflight and provisioning did not finish in time")]) from None
    return _enabled_response(result)


def _enabled_response(result: EnableResult) -> ApiResponse:
    saved = result.saved
    headers = _settings_headers(saved.etag)
    run = None if result.run is None else RunRecord.model_validate(result.run)
    body = EnableResponse(settings=saved.require(), run=run, warnings=list(result.warnings))
    if run is None:  # saved, but not queued: the state changed, so no error status
        return ApiResponse.json(200, body.model_dump(mode="json"), headers)
    if is_run_id(run.run_id):
        headers["Location"] = f"{API_PREFIX}/runs/{run.run_id}"
    return ApiResponse.json(202, body.model_dump(mode="json"), headers)


# ---------------------------------------------------------------------------------------------- status


@route(
    operation_id="getStatus", method="GET", path="/api/status", role=Role.READER,
    summary="Enabled, next scheduled run, active run, last runs and last error",
    replies=(Reply(200, "The status.", Status), *COMMON),
)
def get_status(call: Call) -> ApiResponse:
    services = call.services
    stored = services.settings_store.current(services.settings_defaults)
    settings = stored.require()
    recent, skipped = readable_runs(services.tables, _LAST_ERROR_WINDOW)
    failed = next((r for r in recent if r.get("status") == "failed"), None)
    schedule = call.config.scan.schedule
    upcoming = next_occurrence(schedule, datetime.now(UTC)) if settings.enabled else None
    try:
        active = active_run(services.tables)
    except (TypeError, ValueError):  # the active run's record is not JSON
        log.warning("the active run's record is not readable (%s)", call.request.request_id)
        active = None
    body = Status(
        enabled=settings.enabled,
        dry_run=settings.dry_run,
        schedule=schedule,
        next_scheduled_run=upcoming.isoformat(timespec="seconds") if upcoming else None,
        active_run=run_record(active) if active else None,
        last_runs=[r for r in (run_record(r) for r in recent[:STATUS_RUNS]) if r is not None],
        runs_skipped=skipped or None,
        last_error=None if failed is None else {
            "run_id": str(failed["run_id"]), "status": str(failed["status"]),
            "at": _text(failed.get("finished_at") or failed.get("started_at")),
            "message": _text(failed.get("message"))},
        settings={"version": stored.version, "updated_at": stored.updated_at,
                  "updated_by": stored.updated_by},
    )
    hidden = {"runs_skipped"} if body.runs_skipped is None else set()
    return ApiResponse.json(200, body.model_dump(mode="json", exclude_none=False, exclude=hidden))


# ----------------------------------------------------------------------------------------------- audit

_LIMIT_AUDIT = QueryParam("limit", 1, 100, 50, "How many entries, newest first (1-100, default 50).")


@route(
    operation_id="listAudit", method="GET", path="/api/audit", role=Role.ADMIN,
    summary="The audit log: who changed what, when", query=(_LIMIT_AUDIT,),
    replies=(Reply(200, "Newest first.", AuditList), *COMMON),
)
def list_audit(call: Call) -> ApiResponse:
    limit = _LIMIT_AUDIT.read(call.query)
    entries: list[AuditEntry] = []
    skipped = 0
    for entry in call.services.audit_log.latest(limit):
        try:
            entries.append(AuditEntry.model_validate(entry))
        except ValidationError:  # written by hand or by another version: left out, counted
            log.warning("audit entry %s is not readable; left out", str(entry.get("id"))[:64])
            skipped += 1
    body = AuditList(entries=entries, skipped=skipped or None)
    return ApiResponse.json(200, body.model_dump(mode="json", exclude_none=True))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


# ------------------------------------------------------------------------------------- openapi, health


@route(
    operation_id="getOpenApi", method="GET", path="/api/openapi.json", role=Role.READER,
    summary="This API's OpenAPI 3.1 document",
    replies=(Reply(200, "OpenAPI 3.1 document.", "OpenApiDocument"), *COMMON),
)
def get_openapi(call: Call) -> ApiResponse:
    return ApiResponse.json(200, openapi_document(call.config.api.auth))


@route(
    operation_id="getHealth", method="GET", path="/api/health", role=None,
    summary="Liveness (no auth; reveals nothing)",
    replies=(Reply(200, "Alive.", Health), Reply(400, "A query parameter was given.", "Problem")),
)
def get_health(request: ApiRequest) -> ApiResponse:
    return ApiResponse.json(200, {"status": "ok"})
