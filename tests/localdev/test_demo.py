"""`make demo` (README command 1) keeps working: a small org end to end through the same code."""

from __future__ import annotations

import pytest

from localdev import demo


@pytest.mark.slow
def test_demo_runs_end_to_end_and_revalidates_only_what_changed(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main(["--contacts", "400", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "Run 1: first (back-fill) scan" in out
    assert "rule left.ended_at_account_now_elsewhere" in out
    assert "open opportunities at risk in all" in out
    assert "Run 3: 0 look-ups, 0 writes" in out
