"""The run record (``functions/pipeline/summary.py``): what is stored and printed, without storage."""

from __future__ import annotations

import json
from collections import Counter

from functions.pipeline import RunSummary as ExportedRunSummary
from functions.pipeline.summary import COUNTER_ORDER, REQUEST_EVENTS, RunSummary, requests_sent


def _finished() -> RunSummary:
    return RunSummary(
        run_id="20260115T020000Z-0a1b2c3d", trigger="timer", dry_run=False,
        started_at="2026-01-15T02:00:00+00:00", status="completed_with_errors",
        finished_at="2026-01-15T02:00:12+00:00", mode="delta", duration_seconds=12.3456,
        provisioning="cached (2026-01-14T02:00:03+00:00)", sync_users="3 (team Sales)",
        counters=Counter(in_scope=120, planned=4, looked_up=4, flagged=1, writes=1, errors=1,
                         own_writes_recognised=2),
        planned=Counter(profile_changed=3, account_changed=1),
        skipped=Counter(bad_row=1), errors=Counter(bad_row=1),
        requests={"read": 3, "delta": 4, "batch": 1, "retries": 2, "throttled": 1},
        table_operations={"get": 5, "transaction": 2},
        rows_read=Counter(contacts=4), seconds=Counter(read_and_plan=0.123, commit=0.011),
        notes=["malformed rows skipped: contacts 1"],
    )


def test_the_package_exports_the_summary_module_s_class() -> None:
    assert ExportedRunSummary is RunSummary


def test_requests_sent_leaves_out_retries_throttling_and_token_refreshes() -> None:
    counts = {"read": 3, "write": 2, **dict.fromkeys(REQUEST_EVENTS, 7)}
    assert requests_sent(counts) == 5
    assert requests_sent({}) == 0


def test_the_record_lists_every_standard_counter_first_then_the_others() -> None:
    record = _finished().to_dict()
    counters = list(record["counters"].items())
    assert [name for name, _ in counters[:len(COUNTER_ORDER)]] == list(COUNTER_ORDER)
    assert record["counters"]["unflagged"] == 0  # listed even when nothing happened
    assert counters[len(COUNTER_ORDER):] == [("own_writes_recognised", 2)]


def test_the_record_totals_requests_and_table_operations_and_rounds_times() -> None:
    record = _finished().to_dict()
    assert record["dataverse_requests"] == {"total": 8, "read": 3, "delta": 4, "batch": 1, "retries": 2,
                                            "throttled": 1}
    assert record["table_operations"] == {"total": 7, "get": 5, "transaction": 2}
    assert record["duration_seconds"] == 12.346
    assert record["seconds_by_phase"] == {"read_and_plan": 0.12, "commit": 0.01}
    assert record["planned_by_reason"] == {"profile_changed": 3, "account_changed": 1}


def test_the_record_is_json_and_names_the_requester_and_profile_file_only_when_known() -> None:
    summary = _finished()
    record = summary.to_dict()
    assert json.loads(json.dumps(record)) == record
    assert "requested_by" not in record
    assert "profile_file" not in record
    summary.requested_by = "alice@example.com"
    summary.profile_file = {"rows_read": 10, "profiles_loaded": 9, "rows_malformed": {"no_name": 1}}
    record = summary.to_dict()
    assert record["requested_by"] == "alice@example.com"
    assert record["profile_file"]["rows_malformed"] == {"no_name": 1}


def test_ok_is_a_run_that_finished_its_work() -> None:
    summary = _finished()
    assert summary.ok
    for status in ("queued", "running", "failed", "skipped_locked", "disabled"):
        summary.status = status
        assert not summary.ok, status


def test_render_prints_counters_reasons_costs_and_notes() -> None:
    assert _finished().render().splitlines() == [
        "Scan 20260115T020000Z-0a1b2c3d (timer) - COMPLETED_WITH_ERRORS",
        "  mode delta, provisioning cached (2026-01-14T02:00:03+00:00), sync users: 3 (team Sales), 12.3 s",
        "  in scope                    120",
        "  planned                       4",
        "  looked up                     4",
        "  still there                   0",
        "  left                          0",
        "  unknown                       0",
        "  flagged                       1",
        "  unflagged                     0",
        "  employer updated              0",
        "  ignored                       0",
        "  unchanged                     0",
        "  skipped                       0",
        "  deferred                      0",
        "  left scope                    0",
        "  deleted                       0",
        "  writes                        1",
        "  errors                        1",
        "  own writes recognised         2",
        "  planned by reason: account_changed 1, profile_changed 3",
        "  skipped by reason: bad_row 1",
        "  errors: bad_row 1",
        "  Dataverse requests: 8 (batch 1, delta 4, read 3, retries 2, throttled 1)",
        "  table operations: 7",
        "  note: malformed rows skipped: contacts 1",
    ]


def test_render_of_a_dry_run_that_did_not_start_says_so() -> None:
    summary = RunSummary(run_id="20260115T020000Z-0a1b2c3d", trigger="cli", dry_run=True,
                         started_at="2026-01-15T02:00:00+00:00", status="disabled",
                         message="data validation is disabled")
    lines = summary.render().splitlines()
    assert lines[0] == "Scan 20260115T020000Z-0a1b2c3d (cli) - DISABLED - DRY RUN, nothing written"
    assert lines[1] == "  data validation is disabled"
    assert lines[2] == "  mode -, provisioning -, sync users: -, 0.0 s"
    assert lines[-2:] == ["  Dataverse requests: 0 ()", "  table operations: 0"]
