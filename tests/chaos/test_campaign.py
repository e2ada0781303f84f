"""A small seeded fault campaign (benchmarks/chaos.py) in every `make test`: the scan converges to the
fault-free result - no flag missing, wrong, duplicated or orphaned, no Ignore overwritten."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_seeded_campaign_of_200_faults_converges_to_the_fault_free_flags(azurite) -> None:
    # (the session's Azurite fixture makes sure the pinned Azurite is installed; the campaign starts its
    # own, on disk, so that it can kill it)
    done = subprocess.run(
        [sys.executable, "benchmarks/chaos.py", "--faults", "200", "--contacts", "400", "--seed", "7",
         "--check", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["faults_total"] >= 200
    assert len(result["faults_by_kind"]) >= 8, result["faults_by_kind"]
    assert {k: result[k] for k in ("missing", "wrong", "duplicated", "orphaned", "ignores_overwritten")} == {
        "missing": 0, "wrong": 0, "duplicated": 0, "orphaned": 0, "ignores_overwritten": 0}
    assert result["converged_after_runs"] >= 1
