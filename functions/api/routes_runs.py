"""Routes of runs (request, list, one) and of the scan's per-contact verdicts."""

from __future__ import annotations

import json
import logging
from typing import Any

from pydantic import ValidationError

from functions.api.auth import Role, principal_summary
from functions.api.errors import ApiError
from functions.api.http import ApiResponse
from functions.api.models import ContactValidation, RunList, RunRecord, RunRequest, short_run
from functions.api.routing import API_PREFIX, BODY_ERRORS, COMMON, Call, QueryParam, Reply, route
from functions.pipeline.requests import RunAlreadyActive, request_run
from functions.settings import effective_config
from functions.settings.model import GUID, GUID_PATTERN, errors_from
from functions.state.contacts import ContactStates
from functions.state.runs import PARTITION as RUNS_PARTITION
from functions.state.runs import RUN_ID_PATTERN, RunRecords, is_run_id

__all__ = ["readable_runs", "run_record"]

log = logging.getLogger("functions.api")


@route(
    operation_id="requestRun", method="POST", path="/api/runs", role=Role.ADMIN,
    summary="Run a scan now",
    description="Queues a run (the queue-triggered worker starts it). Optional body `{\"dry_run\": bool}`.",
    body="run_request",
    replies=(
        Reply(202, "Queued: the run record (status queued); poll `Location`.", RunRecord, ("Location",)),
        *COMMON, *BODY_ERRORS,
        Reply(409, "Data validation is disabled (field `enabled`), or a run is already running or queued "
                   "(`active_run`).", "Problem"),
    ),
)
def request_run_now(call: Call) -> ApiResponse:
    body: Any = {}
    if call.request.has_body():
        body = call.request.json_body(media_types=("application/json",))
    try:
        wanted = RunRequest.model_validate(body)
    except ValidationError as exc:
        raise ApiError(400, "invalid run request",
                       errors=[(e.field, e.reason) for e in errors_from(exc)]) from None
    services = call.services
    settings = services.settings_store.current(services.settings_defaults).require()
    if not settings.enabled:
        raise ApiError(409, "data validation is disabled: enable it first (PATCH /api/settings)",
                       errors=[("enabled", "is false")])
    effective = effective_config(call.config, settings).config
    try:
        record = request_run(effective, services.tables, services.run_queue, trigger="api",
                             dry_run=wanted.dry_run, requested_by=call.principal.name[:256])
    except RunAlreadyActive as exc:
        raise ApiError(409, f"a run is already {exc.status}: wait for it to finish",
                       errors=[("", f"run {exc.run_id} is {exc.status}")],
                       extra={"active_run": exc.run_id}) from None
    who = principal_summary(call.principal)
    try:
        services.audit_log.record(who_id=who["id"], who_name=who["name"], auth=who["auth"],
                              action="run.request", old=None,
                              new={"run_id": record["run_id"], "dry_run": record.get("dry_run")},
                              request_id=call.request.request_id)
    except Exception:
        # The run is queued (state changed): a failed audit write must not turn that into an error.
        # The run record itself names who requested it.
        log.exception("run %s queued, but its audit entry could not be written (%s)", record["run_id"],
                      call.request.request_id)
    body_out = RunRecord.model_validate(record).model_dump(mode="json")
    return ApiResponse.json(202, body_out, {"Location": f"{API_PREFIX}/runs/{record['run_id']}"})


_LIMIT_RUNS = QueryParam("limit", 1, 100, 20, "How many runs, newest first (1-100, default 20).")


@route(
    operation_id="listRuns", method="GET", path="/api/runs", role=Role.READER,
    summary="The latest runs (short records)", query=(_LIMIT_RUNS,),
    replies=(Reply(200, "Newest first.", RunList), *COMMON),
)
def list_runs(call: Call) -> ApiResponse:
    limit = _LIMIT_RUNS.read(call.query)
    runs, skipped = readable_runs(call.services.tables, limit)
    body = RunList(runs=[RunRecord.model_validate(short_run(r)) for r in runs], skipped=skipped or None)
    return ApiResponse.json(200, body.model_dump(mode="json", exclude_none=True))


def run_record(record: object) -> RunRecord | None:
    """``record`` as a (short) ``RunRecord``; None when it is not one (logged)."""
    try:
        if not isinstance(record, dict):
            raise TypeError("not a JSON object")
        return RunRecord.model_validate(short_run(record))
    except (TypeError, ValueError) as exc:  # ValidationError is a ValueError
        run_id = record.get("run_id") if isinstance(record, dict) else None
        log.warning("run record %r is not readable (%s); left out", str(run_id)[:64], type(exc).__name__)
        return None


def readable_runs(tables: Any, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The newest ``limit`` run records that read as run records, and how many among them did not (a
    record that is not JSON, or whose members have the wrong types, is left out, not fatal)."""
    out: list[dict[str, Any]] = []
    skipped = 0
    for entity in RunRecords(tables.runs).store.partition(RUNS_PARTITION):
        try:
            record = json.loads(entity.get("record") or "")
        except (TypeError, ValueError):
            record = None
        if run_record(record) is None:
            skipped += 1
        else:
            out.append(record)
        if len(out) + skipped >= limit:
            break
    return out, skipped


@route(
    operation_id="getRun", method="GET", path="/api/runs/{run_id}", role=Role.READER,
    summary="One run: its full record",
    path_params={"run_id": (RUN_ID_PATTERN.pattern,
                            "Run id, YYYYmmddTHHMMSSZ-<8 hex> (from Location or a list).")},
    replies=(Reply(200, "The run record.", RunRecord), *COMMON, Reply(404, "No such run.", "Problem")),
)
def get_run(call: Call) -> ApiResponse:
    run_id = call.request.route_params.get("run_id", "")
    if not RUN_ID_PATTERN.fullmatch(run_id):
        raise ApiError(400, "invalid run id", errors=[("run_id", "must look like 20260101T020000Z-1a2b3c4d")])
    # The pattern's shape but no real time (month 13): no such run.
    try:
        record = RunRecords(call.services.tables.runs).get(run_id) if is_run_id(run_id) else None
    except (TypeError, ValueError):  # stored, but not JSON
        log.warning("run record %s is not JSON (%s)", run_id, call.request.request_id)
        return ApiResponse.json(200, {"run_id": run_id, "status": "unreadable",
                                      "message": "the stored run record is not valid JSON"})
    if record is None:
        raise ApiError(404, "no run with this id")
    try:
        body = RunRecord.model_validate(record).model_dump(mode="json")
    except ValidationError:
        # Written by another version or by hand: shown as stored rather than not at all.
        log.warning("run record %s does not match the run record schema; shown as stored", run_id)
        body = record
    return ApiResponse.json(200, body)


@route(
    operation_id="getContactValidation", method="GET", path="/api/contacts/{contact_id}/validation",
    role=Role.READER, summary="Why a contact has its value: the last verdict with its evidence",
    path_params={"contact_id": (GUID_PATTERN, "The contact's id (contactid GUID).")},
    replies=(Reply(200, "The verdict.", ContactValidation), *COMMON,
             Reply(404, "The scan has not seen this contact.", "Problem")),
)
def get_contact_validation(call: Call) -> ApiResponse:
    contact_id = call.request.route_params.get("contact_id", "")
    if not GUID.fullmatch(contact_id):
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
