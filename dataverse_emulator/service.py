"""The request dispatcher: auth, fault injection, counters, routing, error envelopes.

Transport-neutral: :meth:`Service.handle` takes a :class:`Request` and returns a
:class:`Response`; the HTTP server and ``$batch`` both call it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from . import batch, customizations, functions, metadata, reads, writes
from .catalog import build_tables
from .changetracking import DeltaTokens
from .errors import ODataError, bad_request
from .faults import Counters, FaultRegistry
from .messages import Request, Response
from .privileges import Privileges, table_privilege
from .query import annotation_filter
from .schema import stable_id
from .store import Store

log = logging.getLogger(__name__)
HTTP_FAULTS = frozenset(
    {"throttle", "server_error", "slow", "drop", "commit_drop", "unauthorized", "forbidden"}
)
ROUTE = re.compile(r"^(?P<set>[\w$]+)(?:\((?P<key>[^)]*)\))?(?:/(?P<rest>.+))?$")
FUNCTIONS = ("WhoAmI", "RetrieveProvisionedLanguages", "RetrieveLocLabels", "RetrieveVersion")
ACTIONS = ("PublishXml", "PublishAllXml", "SetLocLabels")


class Service:
    """One emulated organisation. See :class:`dataverse_emulator.Emulator` for the public face."""

    def __init__(
        self,
        *,
        bulk_tables: frozenset[str],
        provisioned_languages: tuple[int, ...],
        base_language: int,
        with_msdyn_orgchangestatus: bool,
        change_tracking_tables: frozenset[str],
        dop_hint: int = 4,
        fault_seed: int = 0,
        privileges: Any = None,
    ) -> None:
        self.api_url = "http://127.0.0.1/api/data/v9.2/"  # replaced once the server has a port
        self.bulk_tables = frozenset(bulk_tables)
        self.provisioned_languages = tuple(provisioned_languages)
        self.base_language = base_language
        self.change_tracking_tables = frozenset(change_tracking_tables)
        self.dop_hint = dop_hint
        self.store = Store(build_tables(with_msdyn_orgchangestatus=with_msdyn_orgchangestatus))
        self.faults = FaultRegistry(fault_seed)
        self.counters = Counters()
        self.delta_tokens = DeltaTokens()
        self.expired_tokens: set[str] = set()
        self._lock = threading.Lock()
        self.user_id = stable_id("systemuser", "application-user")
        self.business_unit_id = stable_id("businessunit", "root")
        self.organization_id = stable_id("organization")
        self.publish_log: list[dict[str, Any]] = []
        self.unpublished: dict[str, set[str]] = {}
        self.loc_labels: dict[tuple[str, str, str], dict[int, str]] = {}
        # The WhoAmI user's privileges (None: all the emulator knows); enforced in _route.
        self.privileges = Privileges(privileges)
        self.create_hooks: dict[str, Callable[..., None]] = {}
        self.delete_hooks: dict[str, Callable[..., None]] = {}
        customizations.install(self)

    # --- helpers used by handlers -----------------------------------------------------------
    def retention_days(self) -> int | None:
        org = self.store.tables["organizations"]
        with self.store.lock:
            for row in org.rows.values():
                return org.getter("expirechangetrackingindays")(row)
        return None

    def mark_unpublished(self, entity: str, component: str) -> None:
        with self._lock:
            self.unpublished.setdefault(entity, set()).add(component)

    # --- dispatch ---------------------------------------------------------------------------
    def classify(self, req: Request) -> str:
        """Request kind for the counters (read/create/update/delete/batch/action/function)."""
        name = req.path.split("(", 1)[0].split("/", 1)[0]
        if req.method == "GET":
            bound_function = "/Microsoft.Dynamics.CRM.RetrieveUserPrivileges" in req.path
            return "function" if name in FUNCTIONS or bound_function else "read"
        if req.method == "POST":
            if name == "$batch":
                return "batch"
            if name in ACTIONS or "/Microsoft.Dynamics.CRM." in req.path:
                return "action"
            return "create"
        if req.method in ("PATCH", "PUT"):
            return "update"
        if req.method == "DELETE":
            return "delete"
        return "read"

    def handle(self, req: Request) -> Response:
        """Answer one request. Inner ``$batch`` requests skip auth, request counters and the journal,
        and meet only the faults meant for them (``Fault(in_batch=True)``)."""
        if req.in_batch:
            return self._answer(req)
        arrival = self.counters.arrived(req.method, req.path)
        response = self._answer(req)
        arrival.status = response.status
        return response

    def _answer(self, req: Request) -> Response:
        if not req.in_batch:
            self.counters.request(self.classify(req))
            try:
                self._authenticate(req)
            except ODataError as exc:
                return self._error(exc, req)
            fault = self.faults.take(req.method, req.path, HTTP_FAULTS, in_batch=False)
            if fault is not None:
                answer = self._apply_fault(fault)
                if answer is not None:
                    return answer
        else:
            fault = self.faults.take(req.method, req.path, HTTP_FAULTS, in_batch=True)
            answer = self._apply_fault(fault) if fault is not None else None
            fault = None  # the in_batch kinds never drop the connection
            if answer is not None:
                return answer
        try:
            response = self._route(req)
        except ODataError as exc:
            response = self._error(exc, req)
        except Exception as exc:  # an emulator bug must still look like a server error, not a hang
            log.exception("emulator failed on %s %s", req.method, req.path)
            response = self._error(
                ODataError(500, "0x80040216", f"An unexpected error occurred: {exc!r}"), req
            )
        response.headers.setdefault("OData-Version", "4.0")
        if not req.in_batch:
            response.headers["x-ms-dop-hint"] = str(self.dop_hint)
        if fault is not None and fault.kind == "commit_drop":
            # processed and committed, then the connection drops: the client never learns it happened
            return Response(0, drop=True)
        return response

    def _error(self, exc: ODataError, req: Request) -> Response:
        envelope = exc.envelope()
        if annotation_filter(req.prefer)("Microsoft.PowerApps.CDS.HelpLink"):
            # The documented extra error details when annotations are requested.
            envelope["error"].update(
                {
                    "@Microsoft.PowerApps.CDS.ErrorDetails.OperationStatus": "0",
                    "@Microsoft.PowerApps.CDS.HelpLink": "http://go.microsoft.com/fwlink/?LinkID=398563&error="
                    f"Microsoft.Crm.CrmException%3a{exc.code.removeprefix('0x')}&client=platform",
                    "@Microsoft.PowerApps.CDS.TraceText": "",
                    "@Microsoft.PowerApps.CDS.InnerError.Message": exc.message,
                }
            )
        return Response.json(exc.status, envelope, exc.headers)

    def _authenticate(self, req: Request) -> None:
        header = req.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ODataError(
                401,
                "0x80072560",
                "RequestIsNotAuthenticated: the request has no bearer token.",
                {"WWW-Authenticate": "Bearer"},
            )
        with self._lock:
            expired = token.strip() in self.expired_tokens
        if expired:
            raise ODataError(
                401,
                "0x80072560",
                "ExpiredAuthTicket: The user authentication token has expired.",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )

    def expire_delta_tokens(self) -> None:
        """Every delta token issued so far fails from now on; tokens issued later work."""
        with self.store.lock:
            self.delta_tokens.expire_all()
            self.store.version += 1  # so a token issued next never equals an expired one

    def expire_token(self, token: str) -> None:
        with self._lock:
            self.expired_tokens.add(token)

    def set_change_tracking(self, logical_name: str, enabled: bool) -> None:
        """Turn change tracking on or off for one table (EntityDefinitions and delta reads follow)."""
        if logical_name not in self.store.by_logical:
            raise ValueError(f"unknown table {logical_name!r}")
        with self._lock:
            tables = set(self.change_tracking_tables)
            if enabled:
                tables.add(logical_name)
            else:
                tables.discard(logical_name)
            self.change_tracking_tables = frozenset(tables)

    def _require(self, access: str, logical_name: str) -> None:
        td = self.store.by_logical.get(logical_name)
        self.privileges.require(
            table_privilege(access, logical_name),
            user_id=self.user_id,
            logical_name=logical_name,
            otc=td.table.object_type_code if td is not None else None,
        )

    def _apply_fault(self, fault: Any) -> Response | None:
        if fault.kind == "slow":
            time.sleep(fault.delay)
            return None
        if fault.kind == "drop":
            return Response(0, drop=True)
        if fault.kind == "commit_drop":
            return None  # handled after the request is processed
        if fault.kind == "throttle":
            return Response.json(
                429,
                {
                    "error": {
                        "code": "0x80072322",
                        "message": "Number of requests exceeded the limit of 6000 over time window of 300 "
                        "seconds.",
                    }
                },
                {"Retry-After": str(fault.retry_after)},
            )
        if fault.kind == "server_error":
            return Response.json(
                fault.status, {"error": {"code": "0x80040216", "message": "An unexpected error occurred."}}
            )
        if fault.kind == "unauthorized":
            return Response.json(
                401,
                {
                    "error": {
                        "code": "0x80072560",
                        "message": "ExpiredAuthTicket: The user authentication token has expired.",
                    }
                },
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if fault.kind == "forbidden":
            # A valid token of a principal the environment does not let in: no (enabled) application
            # user, or not in the environment's security group.
            return Response.json(
                403,
                {"error": {"code": "0x80072560", "message": "The user is not a member of the organization."}},
            )
        return None

    def _route(self, req: Request) -> Response:
        path = req.path.rstrip("/")
        if path == "$batch":
            if req.method != "POST":
                raise ODataError(405, "0x80060888", "The $batch endpoint only accepts POST.")
            if req.in_batch:
                raise bad_request("A batch request can't contain another batch request.")
            return batch.handle(self, req)
        if path.startswith("EntityDefinitions"):
            if req.method == "POST":  # CreateAttribute message privilege
                self.privileges.require(
                    "prvCreateAttribute", user_id=self.user_id, logical_name="attribute", otc=None
                )
            return metadata.handle(self, req, path)
        name = path.split("(", 1)[0]
        if name in FUNCTIONS or name in ACTIONS:
            return functions.handle(self, req, name, path)
        match = ROUTE.match(path)
        if not match or match.group("set") not in self.store.tables:
            segment = match.group("set") if match else path
            raise ODataError(404, "0x80060888", f"Resource not found for the segment '{segment}'.")
        td = self.store.tables[match.group("set")]
        key, rest = match.group("key"), match.group("rest")
        self._check_privilege(req, td.table.logical_name, rest)
        if key is None:
            if rest and rest.startswith("Microsoft.Dynamics.CRM.") and req.method == "POST":
                return writes.bulk_action(self, req, td, rest.split(".")[-1])
            if rest == "$count" and req.method == "GET":
                return Response(
                    200,
                    {"Content-Type": "text/plain", "OData-Version": "4.0"},
                    str(self.store.count(td.table.entity_set)).encode(),
                )
            if rest:
                raise ODataError(404, "0x80060888", f"Resource not found for the segment '{rest}'.")
            if req.method == "GET":
                return reads.read_collection(self, req, td)
            if req.method == "POST":
                return writes.create(self, req, td)
            raise ODataError(
                405, "0x80060888", f"The HTTP method '{req.method}' is not allowed on a collection."
            )
        record_id = key.strip().strip("'").removeprefix(f"{td.table.primary_key}=")
        if not re.fullmatch(r"[0-9a-fA-F-]{36}", record_id):
            raise bad_request(
                f"Invalid key '{key}' for {td.table.entity_set}: only primary key GUIDs are supported."
            )
        if rest and rest.startswith("Microsoft.Dynamics.CRM.RetrieveUserPrivileges"):
            return functions.retrieve_user_privileges(self, req, td, record_id, rest)
        if rest:
            if rest.endswith("/$ref") and req.method in ("POST", "DELETE"):
                return writes.reference(self, req, td, record_id, rest.removesuffix("/$ref"))
            if req.method == "GET":
                return reads.read_related(self, req, td, record_id, rest)
            raise ODataError(405, "0x80060888", f"The HTTP method '{req.method}' is not supported here.")
        if req.method == "GET":
            return reads.read_one(self, req, td, record_id)
        if req.method in ("PATCH", "PUT"):
            return writes.patch(self, req, td, record_id)
        if req.method == "DELETE":
            return writes.delete(self, req, td, record_id)
        raise ODataError(405, "0x80060888", f"The HTTP method '{req.method}' is not allowed on an entity.")

    def _check_privilege(self, req: Request, logical_name: str, rest: str | None) -> None:
        """The table privilege a request needs (read, create, write, delete); 403 when it is missing."""
        if rest and rest.endswith("/$ref"):
            return  # associations need Append/AppendTo, which the emulator does not model
        if req.method in ("GET", "HEAD"):
            access = "Read"
        elif req.method == "POST":
            message = (rest or "").rsplit(".", 1)[-1]
            access = "Write" if message == "UpdateMultiple" else "Create"
        elif req.method in ("PATCH", "PUT"):
            access = "Write"
        elif req.method == "DELETE":
            access = "Delete"
        else:
            return
        self._require(access, logical_name)
