"""What a request works with: the app config and the services built from it, cached per config.

The Functions worker keeps the process alive between invocations, so the table service, the run
queue client and the Dataverse client are built once per configuration and reused (module-level,
keyed by the frozen ``AppConfig``; a changed app setting gives a new key). Nothing here touches the
network at import time: clients are created on first use, tables on the first request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from functions.config import AppConfig, ConfigError, TargetColumn, load_config

if TYPE_CHECKING:
    from functions.dataverse import DataverseClient
    from functions.settings import Settings
    from functions.state.audit import AuditLog
    from functions.state.run_queue import RunQueue
    from functions.state.settings_store import SettingsStore
    from functions.state.tables import ScanTables

__all__ = ["Services", "clear_cache", "load_services", "services_for"]

_MAX_CACHED = 8  # configs; tests start many Azurite/emulator pairs, a deployed app has one
_cache: OrderedDict[AppConfig, Services] = OrderedDict()
_clients: OrderedDict[Any, DataverseClient] = OrderedDict()
_cache_lock = threading.Lock()


class Services:
    """The services of one configuration. Properties build lazily and are then reused; the table set
    is created (``ensure``) once."""

    def __init__(self, config: AppConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._ensured = False

    @cached_property
    def _tables(self) -> ScanTables:
        from functions.state.tables import open_tables

        return open_tables(self.config, ensure=False)

    @property
    def tables(self) -> ScanTables:
        tables = self._tables
        if not self._ensured:
            with self._lock:
                if not self._ensured:
                    tables.ensure()  # network: the first request only (and again after a failure)
                    self._ensured = True
        return tables

    @cached_property
    def defaults(self) -> Settings:
        """The settings before any were saved (from the app settings); ``ConfigError`` if unusable."""
        from functions.settings import defaults_from_config

        return defaults_from_config(self.config)

    @cached_property
    def store(self) -> SettingsStore:
        from functions.state.settings_store import SettingsStore

        return SettingsStore(self.tables)

    @cached_property
    def audit(self) -> AuditLog:
        from functions.state.audit import AuditLog

        return AuditLog(self.tables)

    @cached_property
    def queue(self) -> RunQueue:
        from functions.state.run_queue import RunQueue

        try:
            return RunQueue(self.config)
        except ValueError as exc:
            raise ConfigError(f"STATE_QUEUE_ACCOUNT_URL: {exc}") from None

    @property
    def client(self) -> DataverseClient:
        return dataverse_client(self.config)

    def secrets_present(self) -> set[str]:
        """Names of the secret app settings that are set (validation needs to know, never the values)."""
        present: set[str] = set()
        profiles = self.config.profiles
        if profiles is not None and profiles.pdl_api_key is not None \
                and profiles.pdl_api_key.get_secret_value().strip():
            present.add("PDL_API_KEY")
        return present


def dataverse_client(config: AppConfig) -> DataverseClient:
    """One Dataverse client per connection (the target column does not change how we connect)."""
    from functions.dataverse import build_client

    key = config.dataverse.model_copy(update={"target_column": TargetColumn.OWN})
    with _cache_lock:
        client = _clients.get(key)
        if client is None:
            client = build_client(config.dataverse)  # no network until the first request
            _clients[key] = client
            while len(_clients) > _MAX_CACHED:
                _clients.popitem(last=False)  # dropped, not closed: a request may still be using it
        else:
            _clients.move_to_end(key)
        return client


def services_for(config: AppConfig) -> Services:
    with _cache_lock:
        services = _cache.get(config)
        if services is None:
            services = Services(config)
            _cache[config] = services
            while len(_cache) > _MAX_CACHED:
                _cache.popitem(last=False)
        else:
            _cache.move_to_end(config)
        return services


def load_services(environ: Mapping[str, str] | None = None) -> Services:
    """The services for the current app settings; ``ConfigError`` names the bad settings."""
    return services_for(load_config(environ))


def clear_cache() -> None:
    """Forget every cached service (tests that change app settings in-process)."""
    with _cache_lock:
        _cache.clear()
        _clients.clear()
