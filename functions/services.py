"""What the app talks to, built from one ``AppConfig`` in one place.

``Services(config)`` builds each part when it is first used and keeps it: the state tables (created if
missing), the Dataverse client, the profile source, the settings store and audit log over the tables,
and the run queue. Importing this module or building a ``Services`` touches no network. ``close()``,
or leaving a ``with Services(config) as services:`` block, closes the clients it holds.

Every entry point gets its parts here, so all of them reach the same tables, org and source the same
way and fail the same way when a setting is missing (``ConfigError`` naming it):

- the timer and the run worker (``functions/triggers/``): the tables for the stored settings and the
  run records; the scan builds ``Services.for_scan`` of the effective config (``run_scan``);
- the fan-out's batch worker (``functions/pipeline/batch_worker.py``): one ``for_scan`` per process,
  kept while the runs read the same profile file version;
- the admin API (``functions/api/context.py``): one per configuration, kept for the process's life;
- the CLI (``python -m functions scan`` and ``provision``).

``doctor`` (``functions/preflight``) builds its own Dataverse client on purpose: short timeouts and a
single retry, so that an unreachable org fails the check in seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from functions.config import AppConfig, ConfigError
from functions.dataverse import DataverseClient, build_client
from functions.profiles import ProfileSource, build_profile_source
from functions.settings import Settings, defaults_from_config
from functions.state.audit import AuditLog
from functions.state.run_queue import RunQueue
from functions.state.settings_store import SettingsStore
from functions.state.tables import ScanTables, open_tables

__all__ = ["NO_PROFILE_SOURCE", "Services"]

#: The ``ConfigError`` of a scan without a profile source.
NO_PROFILE_SOURCE = "PROFILE_SOURCE: missing; set PROFILE_FILE (file) or PDL_API_KEY (pdl)"

_Part = TypeVar("_Part")
_CLOSABLE = ("client", "profiles", "run_queue")  # the parts holding connections or files


class Services:
    """The parts of one configuration, each built on first use and reused after (also by concurrent
    requests: a part is built once)."""

    def __init__(self, config: AppConfig, *, tables: ScanTables | None = None,
                 client: DataverseClient | None = None, profiles: ProfileSource | None = None) -> None:
        """``tables``, ``client``, ``profiles``: parts the caller built already (tests bring their own
        org and profile file). They are used as given, and ``close()`` closes them like built ones."""
        self.config = config
        self._lock = threading.RLock()  # re-entrant: the settings store's builder asks for the tables
        self._parts: dict[str, Any] = {}
        self._tables_created = False
        for name, given in (("tables", tables), ("client", client), ("profiles", profiles)):
            if given is not None:
                self._parts[name] = given

    @classmethod
    def for_scan(cls, config: AppConfig) -> Services:
        """The services of one scan with ``config`` (the effective config: stored settings over app
        settings), with the Dataverse client and the profile source built now, so that a missing
        setting raises ``ConfigError`` before the scan takes its lock, never halfway through."""
        if config.profiles is None:
            raise ConfigError(NO_PROFILE_SOURCE)
        tables = open_tables(config, ensure=False)  # ConfigError when state storage is not configured
        client = build_client(config.dataverse)
        try:
            profiles = build_profile_source(config.profiles)
        except BaseException:
            client.close()
            raise
        return cls(config, tables=tables, client=client, profiles=profiles)

    def _part(self, name: str, build: Callable[[], _Part]) -> _Part:
        with self._lock:
            if name not in self._parts:
                self._parts[name] = build()
            part: _Part = self._parts[name]
            return part

    @property
    def tables(self) -> ScanTables:
        """The state tables (``STATE_TABLE_PREFIX``), created if missing when first used (again after a
        failed attempt). ``ConfigError`` when state storage is not configured."""
        tables = self._part("tables", lambda: open_tables(self.config, ensure=False))
        if not self._tables_created:
            with self._lock:
                if not self._tables_created:
                    tables.ensure()  # network, on first use only
                    self._tables_created = True
        return tables

    @property
    def client(self) -> DataverseClient:
        """The Dataverse Web API client (``DATAVERSE_*``); it connects on its first request."""
        return self._part("client", lambda: build_client(self.config.dataverse))

    @property
    def profiles(self) -> ProfileSource:
        """The profile source (a file snapshot or People Data Labs); ``ConfigError`` when none is set."""
        return self._part("profiles", self._build_profile_source)

    def _build_profile_source(self) -> ProfileSource:
        if self.config.profiles is None:
            raise ConfigError(NO_PROFILE_SOURCE)
        return build_profile_source(self.config.profiles)

    @property
    def settings_defaults(self) -> Settings:
        """The settings before any were saved (from the app settings); ``ConfigError`` if unusable."""
        return self._part("settings_defaults", lambda: defaults_from_config(self.config))

    @property
    def settings_store(self) -> SettingsStore:
        return self._part("settings_store", lambda: SettingsStore(self.tables))

    @property
    def audit_log(self) -> AuditLog:
        return self._part("audit_log", lambda: AuditLog(self.tables))

    @property
    def run_queue(self) -> RunQueue:
        """The queue of requested runs; ``ConfigError`` when the queue's account is not configured."""
        return self._part("run_queue", self._build_run_queue)

    def _build_run_queue(self) -> RunQueue:
        try:
            return RunQueue(self.config)
        except ValueError as exc:
            raise ConfigError(f"STATE_QUEUE_ACCOUNT_URL: {exc}") from None

    def close(self) -> None:
        """Close the Dataverse client, the profile source and the run queue (those built or given);
        the services build them again if used after."""
        with self._lock:
            held = [self._parts.pop(name) for name in _CLOSABLE if name in self._parts]
        failures: list[Exception] = []
        for part in held:
            try:
                part.close()
            except Exception as exc:  # the others are still closed; the first failure is raised after
                failures.append(exc)
        if failures:
            raise failures[0]

    def __enter__(self) -> Services:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
