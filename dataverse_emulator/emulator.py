"""The public face: :class:`Emulator` (in-process server over real HTTP on 127.0.0.1)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import seed
from .faults import Counters, FaultRegistry
from .server import HttpServer
from .service import Service
from .store import Store

if TYPE_CHECKING:
    from .generator import OrgSpec

log = logging.getLogger(__name__)
DEFAULT_CHANGE_TRACKING = frozenset({"contact", "account", "opportunity", "connection"})


class Emulator:
    """A Dataverse Web API v9.2 organisation for tests and the local demo.

    ``Emulator(OrgSpec(contacts=500))`` loads generated sample data; without an org the data
    tables start empty (OOB rows such as solutions, views and connection roles are always there).
    Use as a context manager or call :meth:`start` / :meth:`stop`. Point the app at
    ``DATAVERSE_URL=<emu.url>`` with ``DATAVERSE_AUTH=local``.
    """

    def __init__(
        self,
        org: OrgSpec | None = None,
        *,
        port: int = 0,
        bulk_tables: frozenset[str] = frozenset({"contact"}),
        provisioned_languages: tuple[int, ...] = (1033, 1031),
        base_language: int = 1033,
        with_msdyn_orgchangestatus: bool = False,
        change_tracking_tables: frozenset[str] = DEFAULT_CHANGE_TRACKING,
        dop_hint: int = 4,
        expire_change_tracking_in_days: int = 7,
        fault_seed: int = 0,
        privileges: Iterable[str] | Mapping[str, str] | None = None,
    ) -> None:
        """``privileges``: what the WhoAmI user holds, as names (Global depth) or name -> depth
        (``Basic|Local|Deep|Global``); None = every privilege the emulator knows, so the app can do
        everything. Missing table privileges are enforced (403, code 0x80040220)."""
        self.service = Service(
            bulk_tables=frozenset(bulk_tables),
            provisioned_languages=tuple(provisioned_languages),
            base_language=base_language,
            with_msdyn_orgchangestatus=with_msdyn_orgchangestatus,
            change_tracking_tables=frozenset(change_tracking_tables),
            dop_hint=dop_hint,
            fault_seed=fault_seed,
            privileges=privileges,
        )
        seed.seed(self.service, expire_change_tracking_in_days=expire_change_tracking_in_days)
        self._port = port
        self._http: HttpServer | None = None
        if org is not None:
            from .generator import generate_org

            self.load_sample(generate_org(org))

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> Emulator:
        """Bind 127.0.0.1 (port 0 = any free port) and serve in a daemon thread."""
        if self._http is None:
            self._http = HttpServer(self.service, self._port)
            self.service.api_url = f"http://127.0.0.1:{self._http.port}/api/data/v9.2/"
            self._http.start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.stop()
            self._http = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._http is None:
            raise RuntimeError("the emulator is not started")
        return self._http.port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (the organisation URL)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """``<url>/api/data/v9.2/``."""
        return f"{self.url}/api/data/v9.2/"

    # --- state for tests ------------------------------------------------------------------
    @property
    def store(self) -> Store:
        return self.service.store

    @property
    def faults(self) -> FaultRegistry:
        return self.service.faults

    @property
    def counters(self) -> Counters:
        return self.service.counters

    @property
    def publish_log(self) -> list[dict[str, Any]]:
        """Every PublishXml/PublishAllXml call: ``{"message": ..., "entities": [...]}``."""
        return list(self.service.publish_log)

    def unpublished(self, entity: str) -> set[str]:
        """Components created on ``entity`` but not published yet.

        Items look like ``attribute:<logical name>`` or ``savedquery:<id>``.
        """
        return set(self.service.unpublished.get(entity, set()))

    def loc_labels(self, entity_set: str, record_id: str, attribute: str) -> dict[int, str]:
        """Labels set with SetLocLabels for one record column, by LCID."""
        logical = self.store.tables[entity_set].table.logical_name
        return dict(self.service.loc_labels.get((logical, record_id.lower(), attribute), {}))

    def expire_token(self, token: str) -> None:
        """From now on requests with this bearer token get 401; other tokens still work."""
        self.service.expire_token(token)

    def expire_delta_tokens(self) -> None:
        """Every delta token issued so far now fails with 0x80044352."""
        self.service.expire_delta_tokens()

    # --- security and table settings at runtime -----------------------------------------------
    @property
    def user_id(self) -> str:
        """The application user's systemuserid (what WhoAmI returns)."""
        return self.service.user_id

    @property
    def privileges(self) -> dict[str, str]:
        """The WhoAmI user's privileges now: name -> depth."""
        return self.service.privileges.snapshot()

    def revoke_privilege(self, *names: str) -> None:
        """Take privileges away from the WhoAmI user (RetrieveUserPrivileges and enforcement follow)."""
        for name in names:
            self.service.privileges.revoke(name)

    def grant_privilege(self, name: str, depth: str | int = "Global") -> None:
        """Give (or change the depth of) one privilege: ``Basic|Local|Deep|Global`` or 0-3."""
        self.service.privileges.grant(name, depth)

    def set_change_tracking(self, table: str, enabled: bool) -> None:
        """Turn change tracking on/off for a table by logical name (``contact``): EntityDefinitions'
        ``ChangeTrackingEnabled`` and ``odata.track-changes`` reads follow at once."""
        self.service.set_change_tracking(table, enabled)

    # --- sample data ----------------------------------------------------------------------
    def load_sample(self, sample: Any) -> None:
        """Load a generator ``SampleOrg``: its entity sets in order, then the N:N associations."""
        for entity_set in sample.entity_sets:
            if entity_set not in self.store.tables:
                log.warning("emulator has no entity set %r; skipping its sample rows", entity_set)
                continue
            if entity_set == "connectionroles":
                self._drop_oob_roles({str(r.get("name", "")).lower() for r in sample.rows(entity_set)})
            self.store.load(entity_set, sample.rows(entity_set))
        for relationship, id_a, id_b in sample.associations:
            self.store.associate(relationship, id_a, id_b)

    def _drop_oob_roles(self, names: set[str]) -> None:
        # The sample brings its own connection roles (its connections point at them); keep one row per name.
        td = self.store.tables["connectionroles"]
        get_name = td.getter("name")
        with self.store.lock:
            for record_id, row in list(td.rows.items()):
                if (get_name(row) or "").lower() in names:
                    self.store._drop_row(td, record_id)
