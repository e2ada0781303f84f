"""``python -m functions provision`` as a subprocess against the emulator."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from dataverse_emulator import Emulator
from functions.__main__ import build_parser
from tests.provisioning.helpers import writes

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # Only the settings the test gives: nothing from the developer's shell leaks in.
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATAVERSE_", "AZURE_", "STATE_STORAGE_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "functions", *args],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def emulator_env(emu: Emulator, **extra: str) -> dict[str, str]:
    return {"DATAVERSE_URL": emu.url, "DATAVERSE_AUTH": "local", **extra}


def test_provision_prints_the_report_and_exits_0(emu: Emulator) -> None:
    result = cli("provision", env=emulator_env(emu))

    assert result.returncode == 0, result.stderr
    assert "All Contacts No Longer at Company" in result.stdout
    assert "created" in result.stdout
    assert "published contact, opportunity" in result.stdout
    assert "Requests: " in result.stdout
    assert result.stderr == ""

    emu.counters.reset()
    again = cli("provision", "--json", env=emulator_env(emu))

    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert {c["action"] for c in report["components"]} == {"exists"}
    assert report["published"] is False
    assert report["binding"]["values"]["not_at_company"] == 410200001
    assert report["requests"]["total"] > 0
    assert writes(emu) == {}


def test_dry_run_flag_writes_nothing(emu: Emulator) -> None:
    result = cli("provision", "--dry-run", env=emulator_env(emu))

    assert result.returncode == 0, result.stderr
    assert "DRY RUN" in result.stdout
    assert "would_create" in result.stdout
    assert writes(emu) == {}


def test_config_error_exits_2_with_the_message() -> None:
    result = cli("provision", env={})

    assert result.returncode == 2
    assert "DATAVERSE_URL" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_refusal_exits_1_without_traceback(emu: Emulator) -> None:
    result = cli("provision", env=emulator_env(emu, DATAVERSE_TARGET_COLUMN="msdyn_orgchangestatus"))

    assert result.returncode == 1
    assert "Provisioning stopped" in result.stderr
    assert "msdyn_orgchangestatus" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_dataverse_exits_1_without_traceback() -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        "DATAVERSE_URL": f"http://127.0.0.1:{port}",
        "DATAVERSE_AUTH": "local",
        "DATAVERSE_MAX_RETRIES": "0",
    }

    result = cli("provision", env=env)

    assert result.returncode == 1
    assert "Dataverse error" in result.stderr
    assert "Traceback" not in result.stderr


def test_parser_has_provision_subcommand() -> None:
    args = build_parser().parse_args(["provision", "--dry-run", "--json"])
    assert (args.command, args.dry_run, args.json, args.publish) == ("provision", True, True, False)
    assert build_parser().parse_args(["provision", "--publish"]).publish is True
