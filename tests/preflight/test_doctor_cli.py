"""``python -m functions doctor``: checklist, JSON, --only and the exit codes (0 ok, 1 failed, 2 config)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dataverse_emulator import Emulator
from functions.__main__ import main
from functions.config import API_SETTINGS, APP_SETTINGS, DATAVERSE_SETTINGS, PROFILE_SETTINGS, SCAN_SETTINGS

ROOT = Path(__file__).resolve().parents[2]
# Every setting config.py reads: none may leak from the developer's shell into a test.
ALL_SETTINGS = [*DATAVERSE_SETTINGS, *PROFILE_SETTINGS, *SCAN_SETTINGS, *API_SETTINGS, *APP_SETTINGS]


def doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ALL_SETTINGS}
    return subprocess.run(
        [sys.executable, "-m", "functions", "doctor", *args],
        cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120, check=False,
    )


def test_all_ok_exits_0_with_a_checklist(env: dict[str, str]) -> None:
    result = doctor(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✓ Dataverse reachable (WhoAmI) [ok]" in result.stdout
    assert "All checks passed" in result.stdout


def test_failed_check_exits_1_with_the_fix(env: dict[str, str], emu: Emulator) -> None:
    emu.revoke_privilege("prvReadConnection")
    emu.set_change_tracking("opportunity", False)
    result = doctor(env, "--json")
    assert result.returncode == 1, result.stderr
    body = json.loads(result.stdout)
    by_name = {c["name"]: c for c in body["checks"]}
    assert body["ok"] is False
    assert by_name["privileges"]["status"] == "failed"
    assert "prvReadConnection" in by_name["privileges"]["detail"]
    assert by_name["change_tracking"]["status"] == "failed"
    assert by_name["change_tracking"]["fix"]


def test_invalid_config_exits_2(env: dict[str, str]) -> None:
    result = doctor({**env, "DATAVERSE_URL": "not a url", "DATAVERSE_CLIENT_SECRET": "s3cr3t-value-xyz"})
    assert result.returncode == 2
    assert "✗ Configuration valid [failed]" in result.stdout
    assert "DATAVERSE_URL" in result.stdout
    assert "s3cr3t-value-xyz" not in result.stdout + result.stderr


def test_only_and_unknown_names(env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    for name in ALL_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["doctor", "--json", "--only", "languages,storage"]) == 0
    names = [c["name"] for c in json.loads(capsys.readouterr().out)["checks"]]
    assert names == ["config", "storage", "dataverse", "languages"]
    with pytest.raises(SystemExit) as exit_info:
        main(["doctor", "--only", "languages,bogus"])
    assert exit_info.value.code == 2
    assert "bogus" in capsys.readouterr().err
