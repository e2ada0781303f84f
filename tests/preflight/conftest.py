"""Fixtures for preflight tests: a healthy setup (emulator + Azurite + a valid profile file) as app
settings, so each test breaks one thing and checks what the report says."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from dataverse_emulator import Emulator, OrgSpec
from functions.config import AppConfig, load_config
from localdev.azurite import Azurite
from localdev.pdl_replay import SAMPLE_RECORD

ORG = OrgSpec(contacts=20)


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def profile_file(tmp_path: Path) -> Path:
    path = tmp_path / "profiles.jsonl"
    path.write_text(json.dumps(SAMPLE_RECORD) + "\n", encoding="utf-8")
    return path


def env_for(emulator: Emulator, azurite: Azurite, profile_file: Path) -> dict[str, str]:
    return {
        "DATAVERSE_URL": emulator.url,
        "DATAVERSE_AUTH": "local",
        "STATE_STORAGE_CONNECTION": azurite.connection_string,
        "PROFILE_SOURCE": "file",
        "PROFILE_FILE": str(profile_file),
    }


@pytest.fixture
def emu(emulator_factory: Callable[..., Emulator]) -> Emulator:
    return emulator_factory(ORG)


@pytest.fixture
def env(emu: Emulator, azurite: Azurite, profile_file: Path) -> dict[str, str]:
    """App settings of a healthy setup: every check passes."""
    return env_for(emu, azurite, profile_file)


def config_of(env: dict[str, str], **overrides: str) -> AppConfig:
    return load_config({**env, **overrides})
