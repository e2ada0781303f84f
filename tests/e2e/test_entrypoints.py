"""The timer trigger (bindings and handler) and ``python -m functions scan``."""

from __future__ import annotations

import json

import pytest
from azure.functions.timer import TimerRequest

from functions.__main__ import main
from functions.state import build_table_service
from functions.state.lock import RunLock
from functions.state.tables import ScanTables
from functions.triggers import scan_timer

from .conftest import ScanWorld


def test_timer_binding() -> None:
    # A fresh app with the project's blueprints, as function_app.py builds it (get_functions() is not
    # idempotent on one app: calling it twice registers the blueprints twice).
    import azure.functions as func

    from functions.triggers import BLUEPRINTS

    app = func.FunctionApp()
    for blueprint in BLUEPRINTS:
        app.register_functions(blueprint)
    bindings = {f.get_function_name(): f.get_bindings_dict()["bindings"] for f in app.get_functions()}
    (timer,) = bindings["scan_timer"]
    assert timer["type"] == "timerTrigger"
    assert timer["schedule"] == "%SCAN_SCHEDULE%"
    assert timer["useMonitor"] is True
    assert timer["runOnStartup"] is False


@pytest.fixture
def env(world: ScanWorld, monkeypatch: pytest.MonkeyPatch) -> ScanWorld:
    for name, value in world.env.items():
        monkeypatch.setenv(name, value)
    return world


def test_timer_handler_runs_the_scan(env: ScanWorld) -> None:
    summary = scan_timer.run_timer(TimerRequest(past_due=True))
    assert summary is not None
    assert summary.status == "succeeded", summary.message
    assert summary.trigger == "timer"
    assert summary.counters["in_scope"] == len(env.scope())


def test_timer_handler_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATAVERSE_URL", raising=False)
    from functions.config import ConfigError

    with pytest.raises(ConfigError, match="DATAVERSE_URL"):
        scan_timer.run_timer(TimerRequest())


def test_cli_scan_dry_run_then_real_json(env: ScanWorld, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--dry-run"]) == 0
    out = capsys.readouterr()
    assert "DRY RUN" in out.out
    assert "in scope" in out.out
    assert env.writes() == 0
    assert main(["scan", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "succeeded"
    assert data["counters"]["in_scope"] == len(env.scope())
    assert data["dataverse_requests"]["total"] > 0


def test_cli_scan_exit_codes(env: ScanWorld, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SCAN_BATCH_SIZE", "0")
    assert main(["scan"]) == 2
    assert "SCAN_BATCH_SIZE" in capsys.readouterr().err
    monkeypatch.setenv("SCAN_BATCH_SIZE", "100")
    monkeypatch.setenv("SCAN_ENABLED", "false")
    assert main(["scan"]) == 0
    assert "disabled" in capsys.readouterr().out.lower()
    monkeypatch.setenv("SCAN_ENABLED", "true")
    # another run holds the lock -> 3
    tables = ScanTables(build_table_service(env.config()), env.prefix).ensure()
    lease = RunLock(tables.locks).acquire("someone-else")
    try:
        assert main(["scan"]) == 3
        assert "another scan is running" in capsys.readouterr().out
    finally:
        lease.release()
    # Dataverse down -> the run fails -> 1
    env.emulator.stop()
    monkeypatch.setenv("DATAVERSE_MAX_RETRIES", "0")
    assert main(["scan"]) == 1
    assert "FAILED" in capsys.readouterr().out


