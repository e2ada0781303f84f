"""``functions.services.Services``: every entry point's parts, built from one config (Azurite for tables)."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from azure.data.tables import TableServiceClient

from functions.config import AppConfig, ConfigError, load_config
from functions.dataverse import DataverseClient
from functions.profiles import FileSnapshotSource
from functions.services import NO_PROFILE_SOURCE, Services
from functions.state.tables import ScanTables
from localdev.azurite import Azurite

# Endpoints nobody listens on: a part that connected while being built would fail the test.
NOWHERE = {"DATAVERSE_URL": "http://127.0.0.1:9", "DATAVERSE_AUTH": "local"}
NOWHERE_STORAGE = ("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Zm9v;"
                   "TableEndpoint=http://127.0.0.1:9/devstoreaccount1;"
                   "QueueEndpoint=http://127.0.0.1:9/devstoreaccount1")


def _config(**settings: str) -> AppConfig:
    return load_config({**NOWHERE, **settings})


def _stored(azurite: Azurite, prefix: str, **settings: str) -> AppConfig:
    """A config on the session's Azurite, with tables of its own (``prefix``)."""
    return _config(STATE_STORAGE_CONNECTION=azurite.connection_string, STATE_TABLE_PREFIX=prefix, **settings)


def _profile_file(tmp_path: Path) -> str:
    path = tmp_path / "profiles.jsonl"
    path.write_text("")
    return str(path)


class _ClosingPart:
    """Stands in for a client or a profile source: ``Services`` only has to close it."""

    def __init__(self, fails: bool = False) -> None:
        self.closed = 0
        self.fails = fails

    def close(self) -> None:
        self.closed += 1
        if self.fails:
            raise RuntimeError("close failed")


def _table_names(service: TableServiceClient, prefix: str) -> set[str]:
    return {t.name for t in service.list_tables() if t.name.startswith(prefix)}


def test_building_the_services_and_their_clients_connects_to_nothing() -> None:
    services = Services(_config(STATE_STORAGE_CONNECTION=NOWHERE_STORAGE))
    assert isinstance(services.client, DataverseClient)
    assert services.client is services.client
    assert services.run_queue is services.run_queue
    assert services.settings_defaults.enabled is False
    services.close()


def test_missing_settings_are_config_errors_naming_them(tmp_path: Path) -> None:
    services = Services(_config())
    with pytest.raises(ConfigError, match="STATE_STORAGE_CONNECTION"):
        _ = services.tables
    with pytest.raises(ConfigError, match="STATE_QUEUE_ACCOUNT_URL"):
        _ = services.run_queue
    with pytest.raises(ConfigError) as missing:
        _ = services.profiles
    assert str(missing.value) == NO_PROFILE_SOURCE
    # a scan names the profile source first (as it always did), then state storage
    with pytest.raises(ConfigError) as first:
        Services.for_scan(_config())
    assert str(first.value) == NO_PROFILE_SOURCE
    with pytest.raises(ConfigError, match="STATE_STORAGE_CONNECTION"):
        Services.for_scan(_config(PROFILE_FILE=_profile_file(tmp_path)))


def test_the_tables_are_created_on_first_use_and_shared_by_the_stores(
        azurite: Azurite, table_service: TableServiceClient) -> None:
    prefix = "t" + uuid.uuid4().hex[:10]
    services = Services(_stored(azurite, prefix))
    defaults = services.settings_defaults
    assert _table_names(table_service, prefix) == set()  # nothing created by building
    tables = services.tables
    assert _table_names(table_service, prefix) == {prefix + name for name in ScanTables.NAMES}
    assert services.tables is tables
    assert services.settings_store.current(defaults).version == 0
    services.audit_log.record(who_id="1", who_name="test", auth="key", action="settings.update", old=None,
                              new={"enabled": False}, request_id=None)
    assert [e["action"] for e in services.audit_log.latest(5)] == ["settings.update"]
    assert tables.ops["get"] >= 1  # the stores count their operations on the same tables


def test_concurrent_first_use_builds_each_part_once(azurite: Azurite) -> None:
    prefix = "t" + uuid.uuid4().hex[:10]
    services = Services(_stored(azurite, prefix))
    start = threading.Barrier(6)
    seen: list[tuple[Any, Any]] = []

    def use() -> None:
        start.wait()
        seen.append((services.tables, services.client))

    threads = [threading.Thread(target=use) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(seen) == 6
    assert len({id(tables) for tables, _ in seen}) == 1
    assert len({id(client) for _, client in seen}) == 1
    services.close()


def test_for_scan_builds_the_client_and_source_now_and_leaves_the_tables_to_the_scan(
        azurite: Azurite, table_service: TableServiceClient, tmp_path: Path) -> None:
    prefix = "t" + uuid.uuid4().hex[:10]
    config = _stored(azurite, prefix, PROFILE_FILE=_profile_file(tmp_path))
    with Services.for_scan(config) as services:
        assert isinstance(services.profiles, FileSnapshotSource)
        assert isinstance(services.client, DataverseClient)
        assert _table_names(table_service, prefix) == set()  # a disabled scan creates nothing
        assert services.tables.ensure() is services.tables  # what run_scan does first
        assert _table_names(table_service, prefix) == {prefix + name for name in ScanTables.NAMES}


def test_close_closes_given_and_built_parts_once_and_they_are_built_again_after(tmp_path: Path) -> None:
    client, source = _ClosingPart(), _ClosingPart()
    config = _config(PROFILE_FILE=_profile_file(tmp_path))
    with Services(config, client=client, profiles=source) as services:  # type: ignore[arg-type]
        assert services.client is client
        assert services.profiles is source
    assert (client.closed, source.closed) == (1, 1)
    services.close()  # nothing held any more: nothing closed twice
    assert (client.closed, source.closed) == (1, 1)
    assert isinstance(services.profiles, FileSnapshotSource)  # used again: built from the config
    services.close()


def test_a_failing_close_still_closes_the_other_parts_then_raises() -> None:
    client, source = _ClosingPart(fails=True), _ClosingPart()
    services = Services(_config(), client=client, profiles=source)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="close failed"):
        services.close()
    assert (client.closed, source.closed) == (1, 1)
