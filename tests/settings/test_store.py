"""SettingsStore and AuditLog against Azurite: conditional writes, concurrent saves, audit entries."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from azure.data.tables import TableServiceClient

from functions.config import load_config
from functions.settings import Settings, defaults_from_config, validate_patch
from functions.state.audit import AuditLog, changed_paths
from functions.state.settings_store import SettingsConflict, SettingsStore, StoredSettings
from functions.state.tables import ScanTables


@dataclass(frozen=True)
class Who:
    """Anything with id, name and auth (the API's Principal)."""

    id: str
    name: str
    auth: str


ADMIN = Who("6a1d2c3b-0000-4000-8000-000000000001", "admin@contoso.example", "platform")
KEY = Who("function-key", "function key holder", "key")


@pytest.fixture
def tables(table_service: TableServiceClient) -> ScanTables:
    # Not ensured on purpose: the store and the audit log create their tables on first write.
    return ScanTables(table_service, prefix=f"t{uuid.uuid4().hex[:10]}")


@pytest.fixture
def defaults() -> Settings:
    return defaults_from_config(load_config({
        "DATAVERSE_URL": "http://127.0.0.1:5555", "DATAVERSE_AUTH": "local", "PROFILE_FILE": "/data/p.jsonl",
    }))


def _patched(current: Settings, patch: dict, defaults: Settings) -> Settings:
    return validate_patch(current, patch, defaults=defaults, secrets_present=set())


def test_never_saved_reads_as_the_defaults_with_version_zero(tables: ScanTables, defaults: Settings) -> None:
    store = SettingsStore(tables)
    loaded = store.load()
    assert loaded == StoredSettings(settings=None, version=0, etag='"v0"')
    current = store.current(defaults)
    assert current.settings == defaults
    assert current.version == 0
    assert current.table_etag is None
    assert current.etag.startswith('"v0-')
    assert current.etag.endswith('"')
    # Other defaults (app settings changed before the first save) are another representation.
    other = _patched(defaults, {"refresh_days": 7}, defaults)
    assert store.current(other).etag != current.etag


def test_save_then_load_round_trip_and_versions(tables: ScanTables, defaults: Settings) -> None:
    store = SettingsStore(tables)
    first = store.current(defaults)
    new = _patched(defaults, {"dry_run": True, "sync_users": {"role": "Salesperson"}}, defaults)
    saved = store.save(new, expected=first, who=ADMIN)
    assert saved.version == 1
    assert saved.settings == new
    assert saved.updated_by == ADMIN.name
    assert saved.updated_by_id == ADMIN.id
    assert saved.updated_at
    loaded = store.load()
    assert loaded == saved
    assert loaded.etag.startswith('"v1-')
    entity = tables.settings.get("settings", "current")
    assert entity is not None
    assert json.loads(entity["document"]) == new.to_json()
    assert entity["version"] == 1

    second = store.save(_patched(new, {"refresh_days": 9}, defaults), expected=loaded, who=KEY)
    assert second.version == 2
    assert store.load().settings.refresh_days == 9
    assert second.etag != loaded.etag


def test_stale_expected_is_a_conflict_and_writes_nothing(tables: ScanTables, defaults: Settings) -> None:
    store = SettingsStore(tables)
    v0 = store.current(defaults)
    v1 = store.save(_patched(defaults, {"dry_run": True}, defaults), expected=v0, who=ADMIN)
    # A second "first save" from the same stale read.
    with pytest.raises(SettingsConflict):
        store.save(_patched(defaults, {"refresh_days": 5}, defaults), expected=v0, who=ADMIN)
    v2 = store.save(_patched(defaults, {"refresh_days": 6}, defaults), expected=v1, who=ADMIN)
    # An update from a stale read (v1 was overwritten by v2).
    with pytest.raises(SettingsConflict):
        store.save(_patched(defaults, {"refresh_days": 7}, defaults), expected=v1, who=ADMIN)
    assert store.load() == v2
    assert len(AuditLog(tables).latest()) == 2  # only the saves that happened are audited


@pytest.mark.parametrize("saved_before", [False, True], ids=["first-save-insert", "update"])
def test_concurrent_saves_with_the_same_expected_version_exactly_one_wins(
    tables: ScanTables, defaults: Settings, saved_before: bool
) -> None:
    store = SettingsStore(tables)
    if saved_before:
        store.save(defaults, expected=store.current(defaults), who=ADMIN)
    expected = store.current(defaults)
    contenders = 8
    barrier = threading.Barrier(contenders)
    wins: list[StoredSettings] = []
    conflicts: list[int] = []
    errors: list[BaseException] = []

    def attempt(n: int) -> None:
        # Each thread has its own store (as each request would): no shared client state decides.
        mine = SettingsStore(tables)
        new = _patched(defaults, {"refresh_days": 10 + n}, defaults)
        barrier.wait()
        try:
            wins.append(mine.save(new, expected=expected, who=Who(f"user-{n}", f"user {n}", "jwt")))
        except SettingsConflict:
            conflicts.append(n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert len(wins) == 1
    assert len(conflicts) == contenders - 1
    stored = store.load()
    assert stored == wins[0]
    assert stored.version == expected.version + 1
    audit = AuditLog(tables).latest()
    assert len(audit) == 1 + int(saved_before)
    assert audit[0]["who"]["id"] == stored.updated_by_id


def test_each_save_is_audited_with_only_the_changed_paths(tables: ScanTables, defaults: Settings) -> None:
    store = SettingsStore(tables)
    v0 = store.current(defaults)
    v1 = store.save(_patched(defaults, {"enabled": True}, defaults), expected=v0, who=ADMIN,
                    request_id="req-1")
    v2 = store.save(_patched(v1.settings, {"matching": {"person_name_score": 80}, "sync_users": {  # type: ignore[arg-type]
        "user_ids": ["AAAAAAAA-0000-0000-0000-000000000001"]}}, defaults), expected=v1, who=KEY)
    store.save(_patched(v2.settings, {"enabled": False}, defaults), expected=v2, who=ADMIN)  # type: ignore[arg-type]
    entries = AuditLog(tables).latest()
    assert [e["action"] for e in entries] == ["settings.disable", "settings.update", "settings.enable"]
    disable, update, enable = entries
    assert enable["changes"] == {"enabled": {"old": False, "new": True}}
    assert enable["who"] == {"id": ADMIN.id, "name": ADMIN.name, "auth": "platform"}
    assert enable["request_id"] == "req-1"
    assert update["request_id"] is None
    assert update["changes"] == {
        "matching.person_name_score": {"old": 88.0, "new": 80.0},
        "sync_users.user_ids": {"old": [], "new": ["aaaaaaaa-0000-0000-0000-000000000001"]},
    }
    assert update["who"]["auth"] == "key"
    assert disable["changes"] == {"enabled": {"old": True, "new": False}}
    assert all(datetime.fromisoformat(e["at"]).tzinfo is not None for e in entries)
    assert AuditLog(tables).latest(limit=2) == entries[:2]


def test_save_with_an_explicit_action_and_a_bad_action(tables: ScanTables, defaults: Settings) -> None:
    store = SettingsStore(tables)
    v0 = store.current(defaults)
    with pytest.raises(ValueError, match="unknown audit action"):
        store.save(defaults, expected=v0, who=ADMIN, action="settings.delete")
    assert store.load().settings is None  # refused before anything was written
    store.save(defaults, expected=v0, who=ADMIN, action="settings.update")
    assert AuditLog(tables).latest()[0]["changes"] == {}  # saved unchanged: nothing differs


def test_audit_log_is_newest_first_and_records_run_requests(tables: ScanTables) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ticks = iter(range(100))
    audit = AuditLog(tables, clock=lambda: start + timedelta(seconds=next(ticks)))
    ids = [audit.record(who_id="u", who_name="n", auth="key", action="run.request", old=None,
                        new={"run_id": f"run-{n}", "dry_run": n % 2 == 0}) for n in range(3)]
    entries = audit.latest()
    assert [e["id"] for e in entries] == ids[::-1]
    assert entries[0]["changes"] == {
        "run_id": {"old": None, "new": "run-2"}, "dry_run": {"old": None, "new": True}}
    assert entries[0]["at"] == "2026-01-01T00:00:02.000+00:00"
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(who_id="u", who_name="n", auth="key", action="drop.tables", old=None, new=None)
    with pytest.raises(ValueError, match="limit"):
        audit.latest(limit=0)


def test_audit_of_an_empty_table_is_empty(tables: ScanTables) -> None:
    assert AuditLog(tables).latest() == []


def test_oversized_changes_keep_the_paths(tables: ScanTables) -> None:
    audit = AuditLog(tables)
    audit.record(who_id="u", who_name="n", auth="key", action="settings.update",
                 old={"a": "x" * 20000}, new={"a": "y" * 20000, "b": 1})
    entry = audit.latest()[0]
    assert entry["truncated"] is True
    assert entry["changes"] == {"a": {"omitted": True}, "b": {"omitted": True}}


def test_changed_paths() -> None:
    assert changed_paths(None, None) == {}
    assert changed_paths({"a": 1}, {"a": 1}) == {}
    assert changed_paths({"a": 1}, {"a": 1.0}) == {"a": {"old": 1, "new": 1.0}}
    assert changed_paths({"a": True}, {"a": 1}) == {"a": {"old": True, "new": 1}}
    assert changed_paths({"s": {"x": [1], "y": None}}, {"s": {"x": [1, 2], "y": None}, "t": "new"}) == {
        "s.x": {"old": [1], "new": [1, 2]}, "t": {"old": None, "new": "new"}}
    assert changed_paths({"a": {"b": 1}}, None) == {"a.b": {"old": 1, "new": None}}


def _write(tables: ScanTables, table_service: TableServiceClient, document: object, version: int) -> None:
    tables.settings.store.ensure()
    client = table_service.get_table_client(f"{tables.prefix}settings")
    client.upsert_entity({"PartitionKey": "settings", "RowKey": "current", "version": version,
                          "document": document if isinstance(document, str) else json.dumps(document)})


@pytest.mark.parametrize(("document", "fields"), [
    ({"refresh_days": 0, "colour": "SECRETVALUE"}, ["colour", "refresh_days"]),
    ({"profile_source": {"file": "https://a.blob.core.windows.net/c/p?sig=SECRETVALUE"}},
     ["profile_source.file"]),
    ("{not json SECRETVALUE", [""]),
])
def test_a_stored_document_that_no_longer_validates(tables: ScanTables, table_service: TableServiceClient,
                                                    defaults: Settings, document: object,
                                                    fields: list[str]) -> None:
    from functions.state.settings_store import StoredSettingsInvalid, load_effective

    _write(tables, table_service, document, version=5)
    store = SettingsStore(tables)
    for read in (store.load, lambda: store.current(defaults)):
        with pytest.raises(StoredSettingsInvalid) as caught:
            read()
        assert isinstance(caught.value, ValueError)
        assert sorted(e.field for e in caught.value.errors) == fields
        assert "SECRETVALUE" not in f"{caught.value} {caught.value.errors}"
        assert caught.value.version == 5
    config = load_config({"DATAVERSE_URL": "http://127.0.0.1:5555", "DATAVERSE_AUTH": "local"})
    with pytest.raises(StoredSettingsInvalid):
        load_effective(config, tables)

    # the repair overwrites exactly that document (its version and storage ETag)
    base = SettingsStore.repair_base(caught.value, defaults)
    assert (base.settings, base.version, base.table_etag) == (defaults, 5, caught.value.table_etag)
    assert store.table_etag() == caught.value.table_etag
    saved = store.save(_patched(defaults, {"dry_run": True}, defaults), expected=base, who=KEY)
    assert saved.version == 6
    assert store.load().settings == saved.settings
