"""Response and request models of the settings API (besides ``Settings`` and its patch schema, which
live in ``functions.settings``). They document the JSON shapes: ``openapi.py`` generates the
OpenAPI components from them, and the routes build their bodies through them, so a response cannot
drift from its documented schema."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from functions.settings import Settings

__all__ = [
    "AuditEntry",
    "AuditList",
    "ContactValidation",
    "EnableResponse",
    "FieldErrorItem",
    "Health",
    "LastError",
    "PreflightCheck",
    "Problem",
    "RunList",
    "RunRecord",
    "RunRequest",
    "SettingsVersion",
    "Status",
]

class FieldErrorItem(BaseModel):
    field: str = Field(description='Dotted path of the bad input ("matching.employer_same_score", '
                                   '"sync_users.user_ids[2]", a query parameter or header name; "" for '
                                   "the body as a whole).")
    reason: str = Field(description="Why it is refused. Never repeats the submitted value.")


class PreflightCheck(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(description="config, storage, dataverse, privileges, change_tracking, languages, "
                                  "bulk_update or profile_source")
    status: Literal["ok", "failed", "warning", "skipped"]
    detail: str = ""
    fix: str | None = Field(default=None, description="What to do about a failed or warning check.")


class Problem(BaseModel):
    """RFC 9457 problem details, the body of every 4xx/5xx response (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(default="about:blank", description="Always about:blank: the status says the kind.")
    title: str = Field(description="The HTTP status phrase.")
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="What went wrong and what to change, in one sentence.")
    errors: list[FieldErrorItem] = Field(default_factory=list, description="One entry per bad input.")
    request_id: str | None = Field(default=None,
                                   description="Quote it when reporting a 500; it is in the log.")
    checks: list[PreflightCheck] | None = Field(
        default=None, description="422 on enabling: every preflight check with its status and fix.")
    active_run: str | None = Field(default=None, description="409: the run that is running or queued.")


class Health(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["ok"]


class RunRecord(BaseModel):
    """A run record (docs/scan.md): the queued record of a requested run, then its summary. ``GET
    /api/runs/{run_id}`` returns all members; lists return the short form (these members only)."""

    model_config = ConfigDict(extra="allow")

    run_id: str = Field(description="YYYYmmddTHHMMSSZ-<8 hex>")
    # str, not RunStatus: a record written by a newer or older version must still be readable
    status: str = Field(description="queued, running, succeeded, completed_with_errors, failed, "
                                    "skipped_locked or disabled")
    trigger: str | None = Field(default=None, description="timer, api, enable, manual, ...")
    dry_run: bool | None = None
    started_at: str | None = Field(default=None, description="Request time for a queued run (UTC, ISO 8601).")
    finished_at: str | None = None
    message: str | None = None
    requested_by: str | None = None
    # int | float: a record written by another version (or by hand) may hold a non-integer count; it is
    # still shown rather than breaking the list it is in.
    counters: dict[str, int | float] | None = Field(default=None,
                                                    description="in_scope, flagged, unflagged, ...")


class RunList(BaseModel):
    runs: list[RunRecord] = Field(description="Newest first.")
    skipped: int | None = Field(default=None, ge=1, description="Present when stored records among the "
                                "newest could not be read (not JSON, or not a run record): how many were "
                                "left out; the log names them.")


class RunRequest(BaseModel):
    """Optional body of ``POST /api/runs``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    dry_run: bool | None = Field(default=None, description="Override the dry_run setting for this run; "
                                                           "null or absent: the setting.")


class EnableResponse(BaseModel):
    """A ``PATCH /api/settings`` that enabled validation: the saved settings and the first run (202), or
    - when the settings were saved but the run could not be queued - ``run`` null and a warning (200)."""

    settings: Settings
    run: RunRecord | None = Field(description="The first run (queued, or the run that was already "
                                              "active); null when it could not be queued.")
    warnings: list[str] = Field(default_factory=list, description="What went wrong after saving, with "
                                                                  "what to do (e.g. POST /api/runs).")


class LastError(BaseModel):
    model_config = ConfigDict(extra="allow")

    run_id: str
    status: str
    at: str | None = Field(default=None, description="When that run ended (or started).")
    message: str | None = None


class SettingsVersion(BaseModel):
    version: int = Field(ge=0, description="0 until the settings were first saved.")
    updated_at: str | None = None
    updated_by: str | None = None


class Status(BaseModel):
    enabled: bool
    dry_run: bool
    schedule: str = Field(description="SCAN_SCHEDULE (NCRONTAB, UTC).")
    next_scheduled_run: str | None = Field(description="Next timer occurrence (UTC); null when disabled.")
    active_run: RunRecord | None = Field(description="The run that is running or queued, if any.")
    last_runs: list[RunRecord] = Field(description="Up to 5 most recent runs, short form, newest first.")
    runs_skipped: int | None = Field(default=None, ge=1, description="Present when recent run records "
                                     "could not be read: how many were left out of last_runs and "
                                     "last_error.")
    last_error: LastError | None = Field(description="The most recent failed run among the last 20.")
    settings: SettingsVersion


class ContactValidation(BaseModel):
    """Why a contact has its value: the last verdict with its evidence (docs/matching.md)."""

    contact_id: str
    outcome: str | None = Field(description="still_there, left, unknown; null if never validated.")
    rule: str | None = Field(description="The rule that decided.")
    evidence: Any = Field(description="The evidence behind the verdict (profile, employer, scores).")
    current_employer: str | None
    checked_at: str | None
    flag_value: int | None = Field(description="The column's value after the last check.")
    value_written: int | None = Field(description="What this app last wrote (null: never wrote).")
    reason: str | None = Field(description="Why it was last validated (changed, new, refresh, ...).")
    in_scope: bool
    next_refresh: str | None
    last_run_id: str | None


class AuditWho(BaseModel):
    """Who made the change. Never tokens, roles or other claims."""

    id: str | None = Field(description="Principal id: the Entra object id (oid/sub), or \"function-key\".")
    name: str | None = Field(description="Sign-in name or display name; \"function key holder\" in key mode.")
    auth: str | None = Field(description="The API_AUTH mode that vouched for the caller: key, platform, jwt.")


class AuditChange(BaseModel):
    old: Any = Field(description="Value before (null: absent).")
    new: Any = Field(description="Value after (null: absent).")


class AuditEntry(BaseModel):
    """One change: who, when, what (old and new value of each changed member)."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(description="Entry id (sorts newest first).")
    at: str | None = Field(description="When (UTC, ISO 8601 with milliseconds).")
    who: AuditWho
    action: str = Field(description="settings.update, settings.enable, settings.disable, settings.repair "
                                    "(If-Match: * over stored settings that no longer validated), "
                                    "run.request")
    request_id: str | None = Field(default=None, description="The request that made the change.")
    changes: dict[str, AuditChange | dict[str, Any]] = Field(
        description="Dotted path of each changed member (\"matching.employer_same_score\") -> its old and "
                    "new value; {\"omitted\": true} per path when the values were too large to keep.")
    truncated: bool = Field(default=False, description="True when the values did not fit and were omitted.")
    invalid_fields: list[str] | None = Field(
        default=None, description="settings.repair: the fields of the stored document that no longer "
                                  "validated (names only, never their values).")


class AuditList(BaseModel):
    entries: list[AuditEntry] = Field(description="Newest first.")
    skipped: int | None = Field(default=None, ge=1, description="Present when stored entries among the "
                                "newest could not be read: how many were left out.")


def short_run(record: dict[str, Any]) -> dict[str, Any]:
    """The short form of a run record (lists, status)."""
    keep = ("run_id", "status", "trigger", "dry_run", "started_at", "finished_at", "message", "requested_by",
            "counters")
    return {k: record[k] for k in keep if k in record and record[k] is not None}
