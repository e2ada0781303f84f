"""Profile-source app settings and the factory."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.config import (
    PROFILE_SETTINGS,
    ConfigError,
    ProfileSourceKind,
    load_config,
    load_profile_config,
)
from functions.profiles import FileSnapshotSource, PeopleDataLabsSource, ProfileQuery, build_profile_source
from localdev.pdl_replay import PdlReplayServer

from .conftest import API_KEY, jsonl, person, write


def test_defaults_are_a_file_source_needing_a_file() -> None:
    with pytest.raises(ConfigError, match="PROFILE_FILE"):
        load_profile_config({})


def test_file_settings(tmp_path: Path) -> None:
    path = write(tmp_path / "p.jsonl", jsonl([person("a", "Ada", "Lovelace", emails=("ada@x.com",))]))
    settings = load_profile_config({"PROFILE_SOURCE": "FILE", "PROFILE_FILE": str(path)})
    assert settings.kind is ProfileSourceKind.FILE
    source = build_profile_source(settings)
    assert isinstance(source, FileSnapshotSource)
    assert source.lookup([ProfileQuery("c", email="ada@x.com")])["c"] is not None


def test_file_format_setting(tmp_path: Path) -> None:
    path = write(tmp_path / "export.txt", jsonl([person("a", "Ada", "Lovelace")]))
    config = load_profile_config({"PROFILE_FILE": str(path), "PROFILE_FILE_FORMAT": "jsonl"})
    source = build_profile_source(config)
    assert isinstance(source, FileSnapshotSource)
    assert source.format == "jsonl"


def test_pdl_settings_build_a_working_source(pdl: PdlReplayServer) -> None:
    pdl.add_sample()
    source = build_profile_source(
        load_profile_config(
            {
                "PROFILE_SOURCE": "pdl",
                "PDL_API_KEY": API_KEY,
                "PDL_BASE_URL": pdl.url,
                "PDL_MIN_LIKELIHOOD": "8",
                "PDL_BATCH_SIZE": "50",
                "PDL_MAX_LOOKUPS": "1000",
            }
        )
    )
    assert isinstance(source, PeopleDataLabsSource)
    assert (source.min_likelihood, source.batch_size, source.max_lookups) == (8, 50, 1000)
    assert source.lookup([ProfileQuery("c", email="sean@peopledatalabs.com")])["c"] is not None


def test_pdl_defaults() -> None:
    settings = load_profile_config({"PROFILE_SOURCE": "pdl", "PDL_API_KEY": "k"})
    assert settings.pdl_base_url == "https://api.peopledatalabs.com"
    assert (settings.pdl_min_likelihood, settings.pdl_batch_size, settings.pdl_max_retries) == (6, 80, 5)
    assert settings.pdl_max_lookups is None


def test_errors_name_settings_and_never_echo_values() -> None:
    secret = "super-secret-key-value"
    with pytest.raises(ConfigError) as caught:
        load_profile_config(
            {
                "PROFILE_SOURCE": "pdl",
                "PDL_API_KEY": secret,
                "PDL_BASE_URL": "http://api.peopledatalabs.com",
                "PDL_BATCH_SIZE": "101",
                "PDL_MIN_LIKELIHOOD": "eleven",
            }
        )
    message = str(caught.value)
    assert "PDL_BASE_URL" in message
    assert "PDL_BATCH_SIZE" in message
    assert "PDL_MIN_LIKELIHOOD" in message
    assert secret not in message
    with pytest.raises(ConfigError, match="PDL_API_KEY"):
        load_profile_config({"PROFILE_SOURCE": "pdl"})
    with pytest.raises(ConfigError, match="PROFILE_SOURCE"):
        load_profile_config({"PROFILE_SOURCE": "apollo", "PROFILE_FILE": "x.jsonl"})


def test_setting_names() -> None:
    assert set(PROFILE_SETTINGS) == {
        "PROFILE_SOURCE",
        "PROFILE_FILE",
        "PROFILE_FILE_FORMAT",
        "PROFILE_STORAGE_CONNECTION",
        "PROFILE_STORAGE_ACCOUNT_URL",
        "PROFILE_INDEX_DIR",
        "PDL_API_KEY",
        "PDL_BASE_URL",
        "PDL_MIN_LIKELIHOOD",
        "PDL_BATCH_SIZE",
        "PDL_TIMEOUT_SECONDS",
        "PDL_MAX_RETRIES",
        "PDL_MAX_LOOKUPS",
    }


def test_app_config_carries_the_profile_source_only_when_configured(tmp_path: Path) -> None:
    base = {"DATAVERSE_URL": "https://contoso.crm4.dynamics.com"}
    assert load_config(base).profiles is None
    config = load_config(base | {"PROFILE_FILE": str(tmp_path / "p.jsonl")})
    assert config.profiles is not None
    assert config.profiles.kind is ProfileSourceKind.FILE


def test_app_config_names_a_bad_profile_setting() -> None:
    with pytest.raises(ConfigError, match="PDL_API_KEY"):
        load_config({"DATAVERSE_URL": "https://contoso.crm4.dynamics.com", "PROFILE_SOURCE": "pdl"})


def test_blob_profile_file_falls_back_to_the_state_storage_connection() -> None:
    config = load_profile_config(
        {"PROFILE_FILE": "blob://profiles/p.jsonl", "STATE_STORAGE_CONNECTION": "X=1"}
    )
    assert config.storage_connection is not None
    assert config.storage_connection.get_secret_value() == "X=1"
