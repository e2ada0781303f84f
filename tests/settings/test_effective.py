"""The effective config: app settings with the admin settings laid over them, stored or default."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from azure.data.tables import TableServiceClient

from functions.config import AppConfig, ProfileSourceKind, TargetColumn, load_config
from functions.matching.config import DEFAULT
from functions.settings import (
    Settings,
    defaults_from_config,
    effective_config,
    validate_patch,
)
from functions.state.settings_store import SettingsStore, load_effective
from functions.state.tables import ScanTables

GUID = "abcdefab-0000-4000-8000-000000000042"


@dataclass(frozen=True)
class Who:
    id: str = "function-key"
    name: str = "function key holder"
    auth: str = "key"


def _config(**env: str) -> AppConfig:
    return load_config({"DATAVERSE_URL": "http://127.0.0.1:5555", "DATAVERSE_AUTH": "local", **env})


def _patched(config: AppConfig, patch: dict, secrets: set[str] | None = None) -> Settings:
    defaults = defaults_from_config(config)
    return validate_patch(defaults, patch, defaults=defaults, secrets_present=secrets or set())


def test_defaults_give_back_the_config_they_came_from() -> None:
    config = _config(PROFILE_FILE="/data/p.jsonl", SYNC_ROLE="Salesperson", SCAN_REFRESH_DAYS="12")
    effective = effective_config(config, defaults_from_config(config))
    assert effective.config == config
    assert effective.matching.to_dict() == DEFAULT.to_dict()


def test_settings_replace_scan_dataverse_and_profile_fields() -> None:
    config = _config(PROFILE_FILE="blob://c/p.jsonl", STATE_STORAGE_CONNECTION="UseDevelopmentStorage=true",
                     SCAN_BATCH_SIZE="50", DATAVERSE_PAGE_SIZE="100")
    settings = _patched(config, {
        "enabled": True, "dry_run": True, "sync_users": {"user_ids": [GUID]}, "lookup_budget": 77,
        "refresh_days": 3, "target_column": "msdyn_orgchangestatus",
        "profile_source": {"file": "/data/other.csv", "file_format": "csv"},
        "matching": {"employer_same_score": 95, "accept_stale_still_there": True},
    })
    effective = effective_config(config, settings)
    scan = effective.config.scan
    assert (scan.enabled, scan.dry_run, scan.sync_user_ids, scan.lookup_budget, scan.refresh_days) == (
        True, True, (GUID,), 77, 3)
    assert scan.sync_team is None
    assert scan.sync_role is None
    assert scan.batch_size == 50  # not a setting: kept
    assert effective.config.dataverse.target_column is TargetColumn.MSDYN_ORGCHANGESTATUS
    assert effective.config.dataverse.page_size == 100
    profiles = effective.config.profiles
    assert profiles is not None
    assert profiles.file == "/data/other.csv"
    assert profiles.file_format == "csv"
    # Connection strings stay app settings.
    assert profiles.storage_connection is not None
    assert profiles.storage_connection.get_secret_value() == "UseDevelopmentStorage=true"
    assert effective.matching.employer_same_score == 95
    assert effective.matching.accept_stale_still_there
    assert effective.matching.aliases == DEFAULT.aliases
    assert effective.settings is settings
    assert config.scan.enabled is False  # the app config itself is untouched


def test_switching_to_pdl_keeps_the_key_and_url_from_app_settings() -> None:
    config = _config(PROFILE_FILE="/data/p.jsonl", PDL_API_KEY="k-123", PDL_BASE_URL="http://127.0.0.1:9999",
                     PDL_BATCH_SIZE="20")
    settings = _patched(config, {"profile_source": {"kind": "pdl", "pdl_min_likelihood": 9,
                                                    "pdl_max_lookups": 1000}}, {"PDL_API_KEY"})
    profiles = effective_config(config, settings).config.profiles
    assert profiles is not None
    assert profiles.kind is ProfileSourceKind.PDL
    assert profiles.pdl_api_key is not None
    assert profiles.pdl_api_key.get_secret_value() == "k-123"
    assert profiles.pdl_base_url == "http://127.0.0.1:9999"
    assert profiles.pdl_batch_size == 20
    assert (profiles.pdl_min_likelihood, profiles.pdl_max_lookups) == (9, 1000)


def test_incomplete_profile_source_is_not_configured() -> None:
    config = _config()  # no PROFILE_* at all
    assert effective_config(config, defaults_from_config(config)).config.profiles is None
    # A file chosen in the settings alone is enough; blob:// falls back to the state storage account.
    config = _config(STATE_STORAGE_CONNECTION="UseDevelopmentStorage=true")
    settings = _patched(config, {"profile_source": {"file": "blob://c/p.jsonl"}})
    profiles = effective_config(config, settings).config.profiles
    assert profiles is not None
    assert profiles.file == "blob://c/p.jsonl"
    assert profiles.storage_connection is not None
    # pdl stored earlier, key app setting removed since: not configured (runs and preflight say why).
    pdl = Settings.model_validate({"profile_source": {"kind": "pdl"}})
    assert effective_config(config, pdl).config.profiles is None


@pytest.fixture
def tables(table_service: TableServiceClient) -> ScanTables:
    return ScanTables(table_service, prefix=f"t{uuid.uuid4().hex[:10]}")


def test_load_effective_uses_the_defaults_until_settings_are_saved(tables: ScanTables) -> None:
    config = _config(PROFILE_FILE="/data/p.jsonl", SCAN_ENABLED="true")
    before = load_effective(config, tables)  # the tables do not even exist yet
    assert before.settings == defaults_from_config(config)
    assert before.config.scan.enabled is True

    store = SettingsStore(tables)
    settings = _patched(config, {"enabled": False, "matching": {"min_match_likelihood": 8}})
    store.save(settings, expected=store.current(defaults_from_config(config)), who=Who())
    after = load_effective(config, tables)
    assert after.settings == settings
    assert after.config.scan.enabled is False
    assert after.matching.min_match_likelihood == 8


SAS = "?sv=2025-01-05&sr=b&sp=r&sig=c2VjcmV0"
BLOB = "https://acct.blob.core.windows.net/profiles/p.jsonl"


def test_a_sas_query_stays_in_the_app_setting() -> None:
    # The settings show the blob without its SAS; the run gets the SAS back for that same blob.
    config = _config(PROFILE_FILE=BLOB + SAS)
    defaults = defaults_from_config(config)
    assert defaults.profile_source.file == BLOB
    assert "sig=" not in str(defaults.to_json())
    effective = effective_config(config, defaults)
    assert effective.config.profiles is not None
    assert effective.config.profiles.file == BLOB + SAS
    assert effective.config == config


def test_a_sas_query_is_not_attached_to_another_file() -> None:
    config = _config(PROFILE_FILE=BLOB + SAS)
    other = "https://acct.blob.core.windows.net/profiles/other.jsonl"
    effective = effective_config(config, _patched(config, {"profile_source": {"file": other}}))
    assert effective.config.profiles is not None
    assert effective.config.profiles.file == other  # the managed identity reads it, or nothing does
    plain = _config(PROFILE_FILE="/data/p.jsonl")
    assert effective_config(plain, defaults_from_config(plain)).config.profiles.file == "/data/p.jsonl"
