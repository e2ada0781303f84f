"""Preflight: probe everything a scan needs, in order, and say how to fix what is missing.

``run_preflight(config)`` is used by ``python -m functions doctor`` and by the settings API before it
enables the scan. It never raises: every failure becomes a failed :class:`Check` with a fix for a
Dynamics/Azure admin, and checks that depend on a failed one are ``skipped``. Secrets (client secret,
certificate password, PDL key, storage connection string) are redacted from every text.
Wire formats and privilege names: docs/doctor.md.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import IO, Any

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError
from azure.storage.queue import QueueServiceClient

from functions.config import AppConfig, DataverseAuthMode, ProfileSourceKind
from functions.dataverse import DataverseClient, build_token_provider, errors
from functions.dataverse.provisioning import ProvisioningError, provision
from functions.profiles import (
    FileSnapshotSource,
    PeopleDataLabsSource,
    ProfileQuery,
    ProfileSourceAuthError,
    ProfileSourceError,
    ProfileSourceUnavailable,
    build_profile_source,
)
from functions.profiles.file_snapshot import MAX_LINE_BYTES
from functions.state import build_table_service

from .privileges import DEPTHS, REQUIRED_PRIVILEGES, RequiredPrivilege
from .report import CHECK_NAMES, Check, CheckStatus, PreflightReport

__all__ = ["DEPENDS_ON", "FILE_SAMPLE_ROWS", "config_error_report", "run_preflight"]

log = logging.getLogger(__name__)

# A check runs only when every check it depends on passed (ok or warning); otherwise it is skipped.
DEPENDS_ON: dict[str, tuple[str, ...]] = {
    "config": (),
    "storage": ("config",),
    "dataverse": ("config",),
    "privileges": ("dataverse",),
    "change_tracking": ("dataverse",),
    "identity_columns": ("dataverse",),
    "languages": ("dataverse",),
    "bulk_update": ("dataverse",),
    "profile_source": ("config",),
}
TRACKED_TABLES = ("contact", "account", "opportunity", "connection")
GERMAN, ENGLISH = 1031, 1033
FILE_SAMPLE_ROWS = 200  # the profile file check reads at most this many rows
PPAC = "Power Platform admin center (admin.powerplatform.microsoft.com) → Environments → your environment"


@dataclass
class _Context:
    config: AppConfig
    client: Any = None
    tables: Any = None
    profiles: Any = None
    own_client: bool = False
    who: dict[str, Any] = field(default_factory=dict)

    def dataverse_client(self) -> Any:
        if self.client is None:
            dv = self.config.dataverse
            # Short timeouts and one retry: a preflight should answer in seconds, not after the
            # minutes of back-off a scan is allowed.
            self.client = DataverseClient(
                dv.api_url,
                build_token_provider(dv),
                timeout=min(dv.timeout_seconds, 20.0),
                max_concurrency=2,
                max_retries=1,
                max_retry_wait=5.0,
                retry_budget=30.0,
            )
            self.own_client = True
        return self.client


def run_preflight(
    config: AppConfig,
    *,
    only: Collection[str] | None = None,
    client: Any = None,
    tables: Any = None,
    profiles: Any = None,
) -> PreflightReport:
    """Run the checks (all, or ``only`` these plus the checks they depend on) and report.

    Args:
        config: the app's (effective) configuration.
        only: check names (``CHECK_NAMES``); their dependencies run too. An unknown name gives a
            failed check of that name.
        client: a ``DataverseClient`` to use (default: one built from ``config.dataverse`` with short
            timeouts and one retry; closed afterwards).
        tables: a ``ScanTables`` whose service is probed (default: built from the config).
        profiles: a ``ProfileSource`` to probe (default: built from ``config.profiles``).

    Never raises; secrets never appear in the report.
    """
    ctx = _Context(config, client=client, tables=tables, profiles=profiles)
    report = PreflightReport()
    wanted = _with_dependencies(only)
    statuses: dict[str, CheckStatus] = {}
    try:
        for name in CHECK_NAMES:
            if name not in wanted:
                continue
            blocked = [dep for dep in DEPENDS_ON[name] if statuses.get(dep) not in (CheckStatus.OK,
                                                                                   CheckStatus.WARNING)]
            if blocked:
                check = Check(name, CheckStatus.SKIPPED, f"not run: {', '.join(blocked)} did not pass")
            else:
                check = _run_one(name, ctx)
            statuses[name] = check.status
            report.checks.append(_redacted(check, _secrets(config)))
        for name in sorted(set(only or ()) - set(CHECK_NAMES)):
            report.checks.append(Check(name, CheckStatus.FAILED, f"unknown check {name!r}",
                                       f"use one of: {', '.join(CHECK_NAMES)}"))
    finally:
        if ctx.own_client and ctx.client is not None:
            try:
                ctx.client.close()
            except Exception:
                log.debug("closing the preflight Dataverse client failed", exc_info=True)
    return report


def _with_dependencies(only: Collection[str] | None) -> set[str]:
    if only is None:
        return set(CHECK_NAMES)
    wanted: set[str] = set()
    pending = [name for name in only if name in DEPENDS_ON]
    while pending:
        name = pending.pop()
        if name not in wanted:
            wanted.add(name)
            pending.extend(DEPENDS_ON[name])
    return wanted


def _run_one(name: str, ctx: _Context) -> Check:
    probe: Callable[[_Context], Check] = _PROBES[name]
    try:
        return probe(ctx)
    except Exception as exc:
        log.warning("preflight check %s failed unexpectedly", name, exc_info=True)
        return Check(name, CheckStatus.FAILED, f"unexpected error: {type(exc).__name__}: {exc}",
                     "Run `python -m functions doctor` again; if it persists, report this message.")


# ---------------------------------------------------------------------------------------- secrets


def _secrets(config: AppConfig) -> list[str]:
    values: list[str] = []
    dv = config.dataverse
    for secret in (dv.client_secret, dv.certificate_password, config.storage_connection):
        if secret is not None:
            values.append(secret.get_secret_value())
    if config.profiles is not None:
        for secret in (config.profiles.pdl_api_key, config.profiles.storage_connection):
            if secret is not None:
                values.append(secret.get_secret_value())
    parts: list[str] = []
    for value in values:
        parts.append(value)
        # Connection strings: the AccountKey / SharedAccessSignature parts on their own, too.
        for item in value.split(";"):
            key, sep, val = item.partition("=")
            if sep and key.strip().lower() in ("accountkey", "sharedaccesssignature") and val:
                parts.append(val)
    return sorted({p for p in parts if len(p) >= 4}, key=len, reverse=True)


def _redacted(check: Check, secrets: list[str]) -> Check:
    def clean(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, "***")
        return text

    detail, fix = clean(check.detail), clean(check.fix)
    if detail == check.detail and fix == check.fix:
        return check
    return Check(check.name, check.status, detail, fix, check.data)


# ---------------------------------------------------------------------------------------- config


def _check_config(ctx: _Context) -> Check:
    config = ctx.config
    dv = config.dataverse
    lines = [f"Dataverse: {dv.url} (auth {dv.auth.value}, solution {dv.solution_name}, "
             f"prefix {dv.publisher_prefix}, target column {dv.target_column.value})"]
    if config.profiles is not None:
        lines.append(f"Profile source: {config.profiles.kind.value}")
    if config.storage_connection is not None:
        lines.append("State storage: connection string")
    elif config.storage_account_url:
        lines.append(f"State storage: {config.storage_account_url} (managed identity)")
    # Deliberate choices are noted, not warned about: warnings are for things worth fixing.
    if config.scan.dry_run:
        lines.append("SCAN_DRY_RUN is on: runs compute verdicts but write nothing to Dataverse.")
    if dv.auth is DataverseAuthMode.LOCAL:
        lines.append("DATAVERSE_AUTH=local: only for the local emulator.")
    return Check("config", CheckStatus.OK, "\n".join(lines))


def config_error_report(message: str) -> PreflightReport:
    """The report when the app settings do not even load: config failed, everything else skipped."""
    checks = [Check("config", CheckStatus.FAILED, message,
                    "Fix the app settings named above in the environment (export ...) or, in Azure, the "
                    "Function App's app settings (Settings → Environment variables), and run again.")]
    checks += [Check(name, CheckStatus.SKIPPED, "not run: config did not pass") for name in CHECK_NAMES[1:]]
    return PreflightReport(checks)


# ---------------------------------------------------------------------------------------- storage


def _check_storage(ctx: _Context) -> Check:
    config = ctx.config
    fix_config = ("Set STATE_STORAGE_CONNECTION (locally: the Azurite connection string) or "
                  "STATE_STORAGE_ACCOUNT_URL (https://<account>.table.core.windows.net, managed identity).")
    if ctx.tables is not None:
        service, where = ctx.tables.service, "the given tables"
    else:
        try:
            service = build_table_service(config)
        except ValueError as exc:
            return Check("storage", CheckStatus.FAILED, str(exc), fix_config)
        where = config.storage_account_url or "the account of STATE_STORAGE_CONNECTION"
    # One request, no SDK retries and short timeouts: reachability and permission, not resilience.
    options = {"retry_total": 0, "connection_timeout": 5, "read_timeout": 10}
    try:
        pages = service.list_tables(results_per_page=1, **options).by_page()
        next(pages, None)
    except ClientAuthenticationError as exc:
        return Check("storage", CheckStatus.FAILED, f"table storage refused the credentials ({_short(exc)})",
                     _storage_access_fix("Table"))
    except HttpResponseError as exc:
        if exc.status_code in (401, 403):
            return Check("storage", CheckStatus.FAILED,
                         f"table storage refused access (HTTP {exc.status_code}, {_short(exc)})",
                         _storage_access_fix("Table"))
        return Check("storage", CheckStatus.FAILED, f"table storage answered HTTP {exc.status_code}: "
                     f"{_short(exc)}", fix_config)
    except (ServiceRequestError, ValueError) as exc:
        return Check("storage", CheckStatus.FAILED,
                     f"cannot reach table storage at {where}: {type(exc).__name__}: {_short(exc)}",
                     fix_config + " Check the storage account's networking (firewall, private endpoint) "
                     "allows the Function App.")
    detail = f"tables reachable ({where}); prefix {config.scan.state_table_prefix}"
    queue = _probe_queue(config)
    if queue is not None:
        problem, fix = queue
        return Check("storage", CheckStatus.FAILED, f"{detail}\n{problem}", fix)
    return Check("storage", CheckStatus.OK, detail)


_QUEUE_ENDPOINT = ("the queue endpoint (STATE_QUEUE_ACCOUNT_URL, https://<account>.queue.core.windows.net, "
                   "or the QueueEndpoint of STATE_STORAGE_CONNECTION)")


def _probe_queue(config: AppConfig) -> tuple[str, str] | None:
    """The run-request queue's endpoint, when configured: None when usable, else (what failed, fix).

    Only a refusal (401/403) suggests roles or keys; any other answer or failure says what kind it was.
    """
    if config.storage_queue_url is None and config.storage_connection is None:
        return None

    def failed(exc: BaseException, kind: str) -> str:
        return f"queue storage (run requests) not usable: {type(exc).__name__}: {_short(exc)} ({kind})"

    try:
        if config.storage_queue_url:
            from azure.identity import DefaultAzureCredential  # here: only a managed-identity queue needs it

            queues = QueueServiceClient(config.storage_queue_url, credential=DefaultAzureCredential())
        else:
            assert config.storage_connection is not None
            queues = QueueServiceClient.from_connection_string(config.storage_connection.get_secret_value())
        next(queues.list_queues(results_per_page=1, retry_total=0, connection_timeout=5,
                                read_timeout=10).by_page(), None)
    except (ClientAuthenticationError, HttpResponseError) as exc:
        status = exc.status_code
        if status in (401, 403) or (status is None and isinstance(exc, ClientAuthenticationError)):
            why = f"HTTP {status}: access refused" if status else "credentials refused"
            return failed(exc, why), _storage_access_fix("Queue")
        code = getattr(exc, "error_code", None)
        code = getattr(code, "value", code)  # the storage SDKs give an enum
        answered = f"HTTP {status}{f' {code}' if code else ''}"
        if status == 400:
            return (failed(exc, f"the service answered {answered}: an API version it does not support, or "
                            "not a queue endpoint"),
                    f"Check {_QUEUE_ENDPOINT} points at a queue service. Locally with Azurite: run the "
                    "pinned node_modules/.bin/azurite with --skipApiVersionCheck (as `make serve` and the "
                    "tests do), not an unpinned `npx azurite`.")
        if status in (404, 405):
            return (failed(exc, f"the service answered {answered}: not a queue endpoint"),
                    f"Check {_QUEUE_ENDPOINT} points at a queue service.")
        return (failed(exc, f"the service answered {answered}"),
                f"Try again in a few minutes; if it persists, check {_QUEUE_ENDPOINT} and the storage "
                "account's state in the Azure portal.")
    except (ServiceRequestError, ValueError) as exc:
        return (failed(exc, "unreachable"),
                f"Check {_QUEUE_ENDPOINT} and that the storage account's networking (firewall, private "
                "endpoint) allows the Function App; locally, that Azurite is running.")
    except Exception as exc:  # a probe: whatever else fails (SDK error, an endpoint that is no queue service)
        return (failed(exc, "unexpected answer"),
                f"Check {_QUEUE_ENDPOINT} points at an Azure Storage queue service.")
    return None


def _storage_access_fix(kind: str) -> str:
    return (f"Give the Function App's managed identity the 'Storage {kind} Data Contributor' role on the "
            "state storage account (Azure portal → storage account → Access control (IAM) → Add role "
            "assignment), or fix the connection string's key.")


# ---------------------------------------------------------------------------------------- Dataverse


def _check_dataverse(ctx: _Context) -> Check:
    dv = ctx.config.dataverse
    url_fix = (f"Set DATAVERSE_URL to the environment URL (e.g. https://contoso.crm4.dynamics.com: {PPAC} → "
               "Environment URL) and make sure the Function App can reach it over HTTPS.")
    try:
        who = ctx.dataverse_client().who_am_i()
    except errors.ConnectionFailedError as exc:
        return Check("dataverse", CheckStatus.FAILED, f"cannot connect to {dv.url}: {exc.message}", url_fix)
    except errors.AuthenticationError as exc:
        if exc.status is None:  # no token at all: the identity side
            return Check("dataverse", CheckStatus.FAILED,
                         f"could not get a token for {dv.scope} ({exc.code}: {exc.message})", _token_fix(dv))
        return Check("dataverse", CheckStatus.FAILED,
                     f"Dataverse rejected the app's token (HTTP 401 {exc.code}: {exc.message})",
                     _app_user_fix(dv))
    except errors.ForbiddenError as exc:
        return Check("dataverse", CheckStatus.FAILED,
                     "the application user may not use this environment "
                     f"(HTTP 403 {exc.code}: {exc.message})",
                     _app_user_fix(dv) + "\nIf the environment has a security group, add the identity's "
                     "service principal to it; make sure the application user is enabled and has a "
                     "security role.")
    except errors.DataverseError as exc:
        if exc.status in (429, 500, 502, 503, 504):
            return Check("dataverse", CheckStatus.FAILED,
                         f"Dataverse is not answering normally (HTTP {exc.status} {exc.code}: {exc.message})",
                         "Try again in a few minutes; check the environment's state in the " + PPAC + ".")
        return Check("dataverse", CheckStatus.FAILED,
                     f"{dv.url} does not answer like a Dataverse Web API (HTTP {exc.status} {exc.code}: "
                     f"{exc.message})", url_fix)
    user_id = str(who.get("UserId") or "").lower()
    if not user_id:
        return Check("dataverse", CheckStatus.FAILED, "WhoAmI answered without a UserId", url_fix)
    ctx.who = {"UserId": user_id, "BusinessUnitId": who.get("BusinessUnitId"),
               "OrganizationId": who.get("OrganizationId")}
    return Check("dataverse", CheckStatus.OK,
                 f"{dv.url}: WhoAmI user {user_id}, organization {who.get('OrganizationId')}",
                 data=dict(ctx.who))


def _token_fix(dv: Any) -> str:
    mode = dv.auth
    if mode is DataverseAuthMode.MANAGED_IDENTITY:
        return ("Turn on the Function App's managed identity (Settings → Identity); for a user-assigned "
                "identity set DATAVERSE_CLIENT_ID to its client id.")
    if mode is DataverseAuthMode.CLIENT_SECRET:
        return ("Check DATAVERSE_TENANT_ID, DATAVERSE_CLIENT_ID and DATAVERSE_CLIENT_SECRET (app "
                "registration → Certificates & secrets; a new secret goes into Key Vault).")
    if mode is DataverseAuthMode.CERTIFICATE:
        return ("Check DATAVERSE_TENANT_ID, DATAVERSE_CLIENT_ID, DATAVERSE_CLIENT_CERTIFICATE_PATH and the "
                "certificate uploaded to the app registration.")
    return "Sign in (az login) or set DATAVERSE_AUTH to how the app should authenticate."


def _app_user_fix(dv: Any) -> str:
    who = f"client id {dv.client_id}" if dv.client_id else "the Function App's managed identity"
    return (f"Create the application user for {who}: {PPAC} → Settings → Users + permissions → Application "
            "users → New app user (same tenant as the environment), then assign it the app's security role "
            "(docs/setup.md).")


# ---------------------------------------------------------------------------------------- privileges


def _check_privileges(ctx: _Context) -> Check:
    user_id = ctx.who["UserId"]
    path = f"systemusers({user_id})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()"
    try:
        answer = ctx.dataverse_client().get_json(path, kind="function")
    except errors.ForbiddenError as exc:
        needed = [p for p in REQUIRED_PRIVILEGES if p.name in ("prvReadUser", "prvReadOrganization")]
        return Check("privileges", CheckStatus.FAILED,
                     f"the application user may not read its own privileges (HTTP 403 {exc.code}: "
                     f"{exc.message})", _role_fix(needed), data={"missing": [_item(p, True) for p in needed]})
    except (errors.NotFoundError, errors.BadRequestError) as exc:
        return Check("privileges", CheckStatus.WARNING,
                     f"RetrieveUserPrivileges is not available (HTTP {exc.status} {exc.code}); privileges "
                     "were not probed", "Check the privileges by hand against docs/setup.md.")
    held = _held_privileges(answer.get("RolePrivileges"))
    config = ctx.config
    failing: list[tuple[RequiredPrivilege, str]] = []
    warning: list[tuple[RequiredPrivilege, str]] = []
    customize_missing: list[tuple[RequiredPrivilege, str]] = []
    for required in REQUIRED_PRIVILEGES:
        problem = _privilege_problem(required, held.get(required.name))
        if problem is None:
            continue
        group = required.group
        if group in ("data", "customize_read"):
            failing.append((required, problem))
        elif group == "write":
            (warning if config.scan.dry_run else failing).append((required, problem))
        elif group == "team":
            (failing if config.scan.sync_team else warning).append((required, problem))
        elif group == "role":
            (failing if config.scan.sync_role else warning).append((required, problem))
        else:
            customize_missing.append((required, problem))
    notes: list[str] = []
    if customize_missing:
        would_change, note = _provisioning_would_change(ctx)
        notes.append(note)
        (failing if would_change else warning).extend(customize_missing)
    lines = [f"{len(held)} privileges held by the application user {user_id}"]
    lines += [f"missing: {p.name} ({problem}) - {p.why}" for p, problem in failing]
    lines += [f"not needed now: {p.name} ({problem}) - {p.why}" for p, problem in warning]
    lines += notes
    data = {"missing": [_item(p, True, problem) for p, problem in failing]
            + [_item(p, False, problem) for p, problem in warning]}
    if failing:
        return Check("privileges", CheckStatus.FAILED, "\n".join(lines),
                     _role_fix([p for p, _ in failing] + [p for p, _ in warning]), data)
    if warning:
        return Check("privileges", CheckStatus.WARNING, "\n".join(lines), _role_fix([p for p, _ in warning]),
                     data)
    return Check("privileges", CheckStatus.OK, lines[0], data=data)


def _held_privileges(role_privileges: object) -> dict[str, str]:
    """Privilege name -> deepest depth held (a privilege can come from several roles and teams)."""
    held: dict[str, str] = {}
    for item in role_privileges if isinstance(role_privileges, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("PrivilegeName"), str):
            continue
        depth = item.get("Depth")
        if isinstance(depth, int) and not isinstance(depth, bool) and 0 <= depth < len(DEPTHS):
            depth = DEPTHS[depth]
        if depth not in DEPTHS:
            depth = "Global" if depth is None else str(depth)
        name = item["PrivilegeName"]
        known = held.get(name)
        deeper = depth in DEPTHS and known in DEPTHS and DEPTHS.index(depth) > DEPTHS.index(str(known))
        if known is None or deeper:
            held[name] = depth
    return held


def _privilege_problem(required: RequiredPrivilege, depth: str | None) -> str | None:
    if depth is None:
        return "not held"
    if depth in DEPTHS and DEPTHS.index(depth) < DEPTHS.index(required.depth):
        return f"held at {depth} depth only; the app acts on every row and needs {required.depth}"
    return None


def _item(p: RequiredPrivilege, required: bool, problem: str = "not held") -> dict[str, Any]:
    return {"name": p.name, "why": p.why, "where": p.where, "problem": problem, "required": required}


def _role_fix(privileges: list[RequiredPrivilege]) -> str:
    lines = [f"{PPAC} → Settings → Users + permissions → Security roles → the role of the application user:"]
    lines += [f"  {p.where}   ({p.name})" for p in privileges]
    lines.append("Save; the change applies at once (run the check again).")
    return "\n".join(lines)


def _provisioning_would_change(ctx: _Context) -> tuple[bool, str]:
    """(True if provisioning has something to create/change or cannot tell, note for the report)."""
    try:
        report = provision(ctx.dataverse_client(), ctx.config.dataverse, dry_run=True)
    except ProvisioningError as exc:
        return True, f"provisioning dry run stopped: {exc}"
    except errors.DataverseError as exc:
        return True, f"provisioning dry run failed (HTTP {exc.status} {exc.code}: {exc.message})"
    pending = [f"{c.kind} {c.name}" for c in report.components if c.action.value != "exists"]
    if pending:
        return True, ("customization privileges are needed now: provisioning would create or change "
                      + ", ".join(pending) + " (or an admin runs `python -m functions provision` once)")
    return False, "provisioning is complete: customization privileges are needed only for later repairs"


# ---------------------------------------------------------------------------------------- tables


def _check_change_tracking(ctx: _Context) -> Check:
    client = ctx.dataverse_client()
    off: list[str] = []
    for table in TRACKED_TABLES:
        try:
            meta = client.get_json(f"EntityDefinitions(LogicalName='{table}')",
                                   params={"$select": "LogicalName,ChangeTrackingEnabled"}, kind="metadata")
        except errors.DataverseError as exc:
            return Check("change_tracking", CheckStatus.FAILED,
                         f"cannot read the table definition of {table} (HTTP {exc.status} {exc.code}: "
                         f"{exc.message})", "Give the application user's role read access to table "
                         "definitions (it is part of every role) and run again.")
        if meta.get("ChangeTrackingEnabled") is not True:
            off.append(table)
    if off:
        return Check("change_tracking", CheckStatus.FAILED,
                     f"change tracking is off for: {', '.join(off)} (the scan reads only changes)",
                     "For each of them: make.powerapps.com → your environment → Tables → <table> → "
                     "Properties → Advanced options → tick 'Track changes' → Save.\n"
                     f"Tables: {', '.join(off)}.", data={"off": off})
    return Check("change_tracking", CheckStatus.OK, f"on for {', '.join(TRACKED_TABLES)}")


#: column types that hold text (a profile URL or an e-mail address)
_TEXT_TYPES = frozenset({"String", "Memo"})


def _check_identity_columns(ctx: _Context) -> Check:
    """Each contact column the identity settings name exists, holds text and can be read."""
    scan = ctx.config.scan
    wanted = [(c, "e-mail") for c in scan.extra_email_columns]
    wanted += [(c, "profile URL") for c in scan.profile_url_columns]
    if not wanted:
        return Check("identity_columns", CheckStatus.OK, "none configured (emailaddress1 only)")
    client = ctx.dataverse_client()
    problems: list[str] = []
    for column, role in wanted:
        try:
            path = f"EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='{column}')"
            meta = client.get_json(path, params={"$select": "LogicalName,AttributeType,IsValidForRead"},
                                   kind="metadata")
        except errors.DataverseError as exc:
            if exc.status == 404:
                problems.append(f"{column} ({role}): no such column on contact")
            else:
                problems.append(f"{column} ({role}): cannot read its definition "
                                f"(HTTP {exc.status} {exc.code})")
            continue
        if meta.get("AttributeType") not in _TEXT_TYPES:
            problems.append(f"{column} ({role}): is a {meta.get('AttributeType')} column, not text")
        elif meta.get("IsValidForRead") is False:
            problems.append(f"{column} ({role}): cannot be read")
    columns = [c for c, _ in wanted]
    if not problems:
        try:
            client.get_json("contacts", params={"$select": ",".join(columns), "$top": "1"})
        except errors.DataverseError as exc:
            problems.append(f"reading contacts with $select={','.join(columns)} failed "
                            f"(HTTP {exc.status} {exc.code}: {exc.message})")
    if problems:
        return Check("identity_columns", CheckStatus.FAILED, "\n".join(problems),
                     "Name existing text columns of the contact table by their logical name "
                     "(make.powerapps.com → Tables → Contact → Columns → the column → Advanced options → "
                     "Logical name) in the settings' identity.profile_url_columns / "
                     "identity.extra_email_columns (or the CONTACT_PROFILE_URL_COLUMNS / "
                     "CONTACT_EMAIL_COLUMNS app settings), or remove them; a column that exists but cannot "
                     "be read needs read access for the application user (column security).",
                     data={"problems": problems})
    return Check("identity_columns", CheckStatus.OK, f"readable: {', '.join(columns)}",
                 data={"columns": columns})


def _check_languages(ctx: _Context) -> Check:
    try:
        answer = ctx.dataverse_client().call_function("RetrieveProvisionedLanguages")
    except errors.DataverseError as exc:
        return Check("languages", CheckStatus.FAILED,
                     f"RetrieveProvisionedLanguages failed (HTTP {exc.status} {exc.code}: {exc.message})",
                     "Provisioning needs it to label the column and views; check the application user's "
                     "security role (docs/setup.md).")
    codes = sorted(int(c) for c in answer.get("RetrieveProvisionedLanguages") or [] if str(c).isdigit())
    data = {"languages": codes}
    missing = [name for code, name in ((ENGLISH, "English (1033)"), (GERMAN, "German (1031)"))
               if code not in codes]
    if missing:
        return Check("languages", CheckStatus.WARNING,
                     f"provisioned: {codes}; {' and '.join(missing)} not provisioned - labels in "
                     "that language are skipped (the base language gets the English text)",
                     f"{PPAC} → Settings → Product → Languages: enable {' and '.join(missing)}, then run "
                     "`python -m functions provision` to add the labels.", data)
    return Check("languages", CheckStatus.OK, f"provisioned: {codes}", data=data)


def _check_bulk_update(ctx: _Context) -> Check:
    try:
        supported = ctx.dataverse_client().supports_message("contact", "UpdateMultiple")
    except errors.DataverseError as exc:
        return Check("bulk_update", CheckStatus.WARNING,
                     f"could not tell (HTTP {exc.status} {exc.code}); the scan uses $batch",
                     "Nothing required; the scan writes with $batch when UpdateMultiple is unavailable.")
    if supported:
        return Check("bulk_update", CheckStatus.OK, "contact supports UpdateMultiple (sdkmessagefilters)")
    return Check("bulk_update", CheckStatus.WARNING,
                 "UpdateMultiple is not available for contact (or sdkmessagefilters is not readable); the "
                 "scan writes with $batch, up to 1000 changes per request - correct, only slower",
                 "Nothing required. UpdateMultiple is available on standard tables in current Dataverse "
                 "versions; if the environment is old, updating it enables the faster path.")


# ---------------------------------------------------------------------------------------- profiles


def _check_profile_source(ctx: _Context) -> Check:
    settings = ctx.config.profiles
    source = ctx.profiles
    if source is None and settings is None:
        return Check("profile_source", CheckStatus.FAILED, "no profile source is configured",
                     "Set PROFILE_SOURCE=file with PROFILE_FILE (path or blob URL), or PROFILE_SOURCE=pdl "
                     "with PDL_API_KEY (a Key Vault reference in Azure).")
    if isinstance(source, FileSnapshotSource) or (source is None and settings is not None
                                                  and settings.kind is ProfileSourceKind.FILE):
        return _check_profile_file(ctx, source)
    if source is None:
        assert settings is not None
        source = build_profile_source(settings)
        if isinstance(source, PeopleDataLabsSource):  # one quick try, not the scan's patience
            source.max_retries, source.timeout = 1, min(source.timeout, 15.0)
            source.max_retry_wait = 5.0
        try:
            return _check_lookup(source)
        finally:
            source.close()
    return _check_lookup(source)


def _check_lookup(source: Any) -> Check:
    """One look-up that cannot match (PDL bills matches only): reachability and the key."""
    query = ProfileQuery("00000000-0000-0000-0000-000000000000", email="preflight-check@example.invalid")
    name = getattr(source, "name", type(source).__name__)
    try:
        source.lookup([query])
    except ProfileSourceAuthError as exc:
        status = getattr(exc, "status", None)
        fixes = {
            401: "Set PDL_API_KEY to a valid key (PDL dashboard → API keys); in Azure update the Key Vault "
                 "secret the app setting refers to, then restart the Function App.",
            402: "The PDL account is out of credits or its plan does not include bulk person enrichment: "
                 "add credits or upgrade in the PDL dashboard.",
            403: "The PDL key may not use person enrichment (or is restricted by IP): check the key's "
                 "permissions in the PDL dashboard.",
        }
        return Check("profile_source", CheckStatus.FAILED,
                     f"{name} refused the look-up (HTTP {status}): {exc}",
                     fixes.get(status or 0, fixes[401]), data={"status": status})
    except ProfileSourceUnavailable as exc:
        return Check("profile_source", CheckStatus.FAILED, f"{name} is unreachable: {exc}",
                     "Check PDL_BASE_URL and that the Function App can reach it over HTTPS; try again later "
                     "if PDL reports an outage.")
    except ProfileSourceError as exc:
        return Check("profile_source", CheckStatus.FAILED, f"{name} rejected the look-up: {exc}",
                     "Check PDL_BASE_URL points at the PDL API (https://api.peopledatalabs.com).")
    return Check("profile_source", CheckStatus.OK,
                 f"{name}: reachable, key accepted (one look-up that cannot match; PDL bills matches only)")


def _check_profile_file(ctx: _Context, source: Any) -> Check:
    settings = ctx.config.profiles
    fix = ("Check PROFILE_FILE (a local path, https://<account>.blob.core.windows.net/<container>/<name> or "
           "blob://<container>/<name>) and, for a blob, that the Function App's identity has 'Storage Blob "
           "Data Reader' on the container.")
    try:
        if source is None:
            assert settings is not None
            assert settings.file is not None
            source = FileSnapshotSource(
                settings.file,
                connection_string=settings.storage_connection.get_secret_value()
                if settings.storage_connection else None,
                account_url=settings.storage_account_url,
                format=settings.file_format,
            )
        head = _HeadSnapshot(source, FILE_SAMPLE_ROWS)
        stats = head.load()
    except ProfileSourceError as exc:
        return Check("profile_source", CheckStatus.FAILED, f"profile file not readable: {exc}", fix)
    location = getattr(source, "location", "")
    where = location.split("?", 1)[0]  # a SAS query is a secret
    malformed = sum(stats.rows_malformed.values())
    data = {"rows_sampled": stats.rows_read, "profiles_valid": stats.profiles_loaded,
            "rows_malformed": dict(stats.rows_malformed)}
    if stats.rows_read == 0:
        return Check("profile_source", CheckStatus.FAILED, f"{where}: the file has no rows", fix, data)
    if stats.profiles_loaded == 0:
        reasons = ", ".join(f"{k} ×{v}" for k, v in sorted(stats.rows_malformed.items()))
        return Check("profile_source", CheckStatus.FAILED,
                     f"{where}: none of the first {stats.rows_read} rows is a valid profile ({reasons})",
                     "Fix the file's format: one JSON profile per line or the CSV columns of "
                     "docs/profile-sources.md (the first malformed lines are named in the logs).", data)
    text = (f"{where}: {stats.profiles_loaded} valid profile(s) in the first {stats.rows_read} row(s)"
            f"{f', {malformed} malformed' if malformed else ''}")
    if malformed:
        return Check("profile_source", CheckStatus.WARNING, text,
                     "Malformed rows are skipped; fix them at the source (docs/profile-sources.md).", data)
    return Check("profile_source", CheckStatus.OK, text, data=data)


class _HeadSnapshot:
    """Loads only the first ``rows`` lines of a ``FileSnapshotSource``'s file (same opening, gzip and
    blob handling, same parsing), so a huge snapshot is checked in milliseconds."""

    def __init__(self, source: Any, rows: int) -> None:
        class _Head(FileSnapshotSource):
            def _open(self) -> tuple[IO[bytes], IO[bytes]]:
                stream, raw = source._open()
                header = 1 if self.format == "csv" else 0  # a CSV file starts with its header line
                return io.BufferedReader(_LimitedLines(stream, rows + header)), raw

            def _log_summary(self) -> None:  # a sample, not the snapshot: say so
                stats = self.stats
                log.info("profile file check: sampled the first %d row(s) of %s (at most %d): %d valid "
                         "profile(s), %d malformed", stats.rows_read, self.location.split("?", 1)[0], rows,
                         stats.profiles_loaded, sum(stats.rows_malformed.values()))
                if stats.rows_malformed:
                    log.warning("profile file check: malformed rows in the sample %s, first at lines %s",
                                dict(stats.rows_malformed),
                                [line for line, _, _ in stats.malformed_examples[:5]])

        self._head = _Head(source.location, format=source.format)

    def load(self) -> Any:
        return self._head.load()


class _LimitedLines(io.RawIOBase):
    """The first ``lines`` lines of a binary stream (closing it closes the stream)."""

    def __init__(self, stream: IO[bytes], lines: int) -> None:
        self._stream = stream
        self._left = lines
        self._buffer = b""
        self._piece = MAX_LINE_BYTES + 1

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._buffer and self._left > 0:
            # In pieces of at most MAX_LINE_BYTES + 1: one huge line never sits in memory whole (the
            # snapshot reader counts it as line_too_long); a line ends at its newline.
            piece = self._stream.readline(self._piece)
            if not piece:
                self._left = 0
                break
            if piece.endswith(b"\n"):
                self._left -= 1
            self._buffer = piece
        n = min(len(buffer), len(self._buffer))
        buffer[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n

    def close(self) -> None:
        self._stream.close()
        super().close()


_PROBES: dict[str, Callable[[_Context], Check]] = {
    "config": _check_config,
    "storage": _check_storage,
    "dataverse": _check_dataverse,
    "privileges": _check_privileges,
    "change_tracking": _check_change_tracking,
    "identity_columns": _check_identity_columns,
    "languages": _check_languages,
    "bulk_update": _check_bulk_update,
    "profile_source": _check_profile_source,
}


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
