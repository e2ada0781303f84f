"""Enabling validation over the API (issue 5 "Enabling"): preflight, provisioning, the first run started
at once (202 + Location to poll), the host's queue worker finishing it; a failed preflight says what to
fix and leaves ``enabled`` false; disabling stops runs and leaves Dataverse values as they are; every
change is audited (who, when, old, new)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from dataverse_emulator import Emulator
from functions.config import DataverseConfig
from functions.dataverse import build_client, errors
from tests.api.conftest import Api

FLAG_COLUMN = "dval_nolongeratcompany"
VIEW_NAMES = ("All Contacts No Longer at Company", "My Contacts No Longer at Company")
RUN_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")
VALIDATION_FIELDS = {"contact_id", "outcome", "rule", "evidence", "current_employer", "checked_at",
                     "flag_value", "value_written", "reason", "in_scope", "next_refresh", "last_run_id"}
NO_CONTACT_CHANGE_TRACKING = {"change_tracking_tables": frozenset({"account", "opportunity", "connection"})}


# --- helpers --------------------------------------------------------------------------------------


def column_exists(emulator: Emulator, name: str) -> bool:
    config = DataverseConfig(url=emulator.url, auth="local", max_retries=0)
    with build_client(config) as client:
        try:
            client.get_json(f"EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='{name}')")
        except errors.NotFoundError:
            return False
    return True


def view_names(emulator: Emulator) -> set[str]:
    config = DataverseConfig(url=emulator.url, auth="local", max_retries=0)
    with build_client(config) as client:
        rows = client.get_json("savedqueries", params={"$select": "name"})["value"]
    return {row["name"] for row in rows}


def flag_values(api: Api) -> dict[str, Any]:
    return {c["contactid"]: (api.emulator.store.get("contacts", c["contactid"]) or {}).get(FLAG_COLUMN)
            for c in api.sample.rows("contacts")}


def location_path(response: Any) -> str:
    location = response.headers.get("Location")
    assert location, "a 202 must say where to poll"
    return "/" + location.split("://", 1)[-1].split("/", 1)[-1] if "://" in location else location


AUDIT_ENTRY_FIELDS = {"id", "at", "who", "action", "request_id", "changes", "truncated"}


def audit_entries(api: Api) -> list[dict[str, Any]]:
    """The documented body: {"entries": [entry, ...]}, each entry with exactly these members."""
    response = api.get("/api/audit")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"entries"}, body
    for entry in body["entries"]:
        assert set(entry) == AUDIT_ENTRY_FIELDS, entry
    return body["entries"]


def find_change(entry: dict[str, Any], path: str) -> tuple[Any, Any]:
    """(old, new) of one dotted path: entries carry {"changes": {path: {"old", "new"}}}."""
    change = entry["changes"][path]
    assert set(change) == {"old", "new"}, change
    return change["old"], change["new"]


def assert_who_and_when(entry: dict[str, Any]) -> None:
    assert entry["who"] == {"id": "function-key", "name": "function key holder", "auth": "key"}, entry
    today = datetime.now(UTC).date().isoformat()
    assert entry["at"].startswith(today), f"audit entry does not say when: {entry}"


# --- the flow -------------------------------------------------------------------------------------


def test_enable_runs_disable(api: Api) -> None:
    before, etag = api.settings()
    assert before["enabled"] is False
    assert not column_exists(api.emulator, FLAG_COLUMN)

    enabled = api.patch("/api/settings", {"enabled": True}, if_match=etag)
    assert enabled.status_code == 202, enabled.text
    body = enabled.json()
    assert set(body) == {"settings", "run", "warnings"}
    assert body["warnings"] == []
    assert body["settings"] == {**before, "enabled": True}
    run = body["run"]
    run_id = run["run_id"]
    assert RUN_ID.match(run_id), run
    assert run["status"] in ("queued", "running", "succeeded"), run
    assert location_path(enabled) == f"/api/runs/{run_id}"
    new_etag = enabled.headers.get("ETag")
    assert new_etag
    assert new_etag != etag

    # provisioning happened before the 202: the column and the views exist in Dataverse
    assert column_exists(api.emulator, FLAG_COLUMN)
    assert set(VIEW_NAMES) <= view_names(api.emulator)

    polled = api.get(location_path(enabled))
    assert polled.status_code == 200, polled.text
    assert polled.json()["run_id"] == run_id
    assert polled.json()["status"] in ("queued", "running", "succeeded")
    finished = api.wait_for_run(run_id)
    assert finished["status"] == "succeeded", finished
    assert finished.get("trigger") == "enable", finished

    settings_now, current_etag = api.settings()
    assert settings_now["enabled"] is True
    assert current_etag == new_etag

    status = api.get("/api/status")
    assert status.status_code == 200, status.text
    status_body = status.json()
    assert status_body["enabled"] is True
    assert run_id in [r["run_id"] for r in status_body["last_runs"]]
    assert status_body["active_run"] is None
    assert status_body["next_scheduled_run"], status_body
    assert status_body["settings"]["version"] >= 1

    runs = api.get("/api/runs", params={"limit": "5"})
    assert runs.status_code == 200, runs.text
    assert run_id in str(runs.json())

    # the scan wrote verdicts: some contact's validation is readable, with its evidence
    validations = [api.get(f"/api/contacts/{c['contactid']}/validation") for c in api.sample.rows("contacts")]
    assert {v.status_code for v in validations} <= {200, 404}
    found = [v.json() for v in validations if v.status_code == 200]
    assert found, "no contact has a validation after a successful run"
    assert set(found[0]) >= VALIDATION_FIELDS, found[0]
    assert any(v["last_run_id"] == run_id for v in found)
    assert all(isinstance(v["evidence"], dict | None) for v in found), "evidence is parsed JSON"
    assert any(v["evidence"] for v in found)
    # an upper-case GUID is the same contact
    upper = api.get(f"/api/contacts/{found[0]['contact_id'].upper()}/validation")
    assert upper.status_code == 200
    assert upper.json()["contact_id"] == found[0]["contact_id"]

    # run now, while enabled: 202 + Location, and the worker finishes it
    again = api.post("/api/runs")
    assert again.status_code == 202, again.text
    second_id = again.json()["run_id"]
    assert second_id != run_id
    assert location_path(again) == f"/api/runs/{second_id}"
    assert api.wait_for_run(second_id)["status"] == "succeeded"
    assert "run.request" in [e.get("action") for e in audit_entries(api)], "a run request is audited"

    # already enabled: a profile-source change is checked (422 for a blob that is not there in the
    # configured account), nothing saved
    missing_blob = f"blob://missing-{uuid.uuid4().hex[:8]}/p.jsonl"
    bad_file = api.change_settings({"profile_source": {"file": missing_blob}})
    assert bad_file.status_code == 422, bad_file.text
    assert api.settings() == (settings_now, current_etag)

    # disabling: 200, nothing in Dataverse touched, and no run can be requested any more
    flags = flag_values(api)
    disabled = api.patch("/api/settings", {"enabled": False}, if_match=current_etag)
    assert disabled.status_code == 200, disabled.text
    assert disabled.json() == {**settings_now, "enabled": False}
    assert api.settings()[0]["enabled"] is False
    assert flag_values(api) == flags
    assert column_exists(api.emulator, FLAG_COLUMN)
    refused = api.post("/api/runs")
    assert refused.status_code == 409, refused.text
    assert "enabled" in [e["field"] for e in refused.json().get("errors", [])], refused.text
    assert api.get("/api/status").json()["enabled"] is False

    # audit: who, when, old and new, newest first
    entries = audit_entries(api)
    actions = [e.get("action") for e in entries]
    assert "settings.enable" in actions, actions
    assert "settings.disable" in actions, actions
    assert actions.index("settings.disable") < actions.index("settings.enable"), "newest first"
    enable_entry = entries[actions.index("settings.enable")]
    assert find_change(enable_entry, "enabled") == (False, True)
    assert_who_and_when(enable_entry)
    disable_entry = entries[actions.index("settings.disable")]
    assert find_change(disable_entry, "enabled") == (True, False)
    assert_who_and_when(disable_entry)
    assert api.leaked() == []


def test_run_requests_while_one_is_pending(api_factory: Any) -> None:
    """Without a worker draining the queue the enable run stays queued: a second request gets 409
    naming it, and the queued record is readable at its Location."""
    api = api_factory(drain_queues=False)
    enabled = api.change_settings({"enabled": True})
    assert enabled.status_code == 202, enabled.text
    run_id = enabled.json()["run"]["run_id"]
    queued = api.get(location_path(enabled))
    assert queued.status_code == 200, queued.text
    assert queued.json()["status"] == "queued", queued.text
    assert queued.json().get("trigger") == "enable"

    busy = api.post("/api/runs", {"dry_run": True})
    assert busy.status_code == 409, busy.text
    assert run_id in busy.text
    status = api.get("/api/status").json()
    assert status["active_run"], status
    assert status["active_run"]["run_id"] == run_id, status


def test_disabling_stops_a_queued_run(api_factory: Any) -> None:
    """A run queued while enabled, then validation disabled before a worker picks it up: the worker
    sees ``enabled`` false and does not scan; Dataverse values stay as they are."""
    api = api_factory(drain_queues=False)
    enabled = api.change_settings({"enabled": True})
    assert enabled.status_code == 202, enabled.text
    run_id = enabled.json()["run"]["run_id"]
    disabled = api.change_settings({"enabled": False})
    assert disabled.status_code == 200, disabled.text
    flags = flag_values(api)
    writes = api.emulator.counters.operations.get("update", 0)

    import function_app
    from functions.localhost import LocalFunctionsHost

    # the worker comes up later (a second host on the same storage, draining the queue)
    with LocalFunctionsHost(function_app.app, key=api.key, drain_queues=True) as worker:
        assert worker.wait_idle(timeout=60)
    record = api.get(f"/api/runs/{run_id}").json()
    assert record["status"] not in ("succeeded", "completed_with_errors", "running"), record
    assert flag_values(api) == flags
    assert api.emulator.counters.operations.get("update", 0) == writes


def test_dry_run_setting_reaches_the_worker(api: Api) -> None:
    """The stored settings drive the run the enable starts: with dry_run on it decides but writes
    nothing to Dataverse (the first run with dry_run off flags contacts in this org)."""
    assert api.change_settings({"dry_run": True}).status_code == 200
    enabled = api.change_settings({"enabled": True})
    assert enabled.status_code == 202, enabled.text
    run = api.wait_for_run(enabled.json()["run"]["run_id"])
    assert run["status"] == "succeeded", run
    assert run["dry_run"] is True, run
    assert set(flag_values(api).values()) == {None}, "a dry run wrote flags"
    real = api.post("/api/runs", {"dry_run": False})
    assert real.status_code == 202, real.text
    assert api.wait_for_run(real.json()["run_id"])["status"] == "succeeded"
    assert set(flag_values(api).values()) - {None}, "the run with dry_run false flagged nobody"


def test_failed_preflight_change_tracking_off(api_factory: Any) -> None:
    api = api_factory(emulator=NO_CONTACT_CHANGE_TRACKING)
    before, etag = api.settings()
    response = api.patch("/api/settings", {"enabled": True}, if_match=etag)
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == ["enabled"], problem
    failed = [c for c in problem["checks"] if c["status"] == "failed"]
    assert [c["name"] for c in failed] == ["change_tracking"], problem["checks"]
    assert "contact" in f"{failed[0]['detail']} {failed[0]['fix']}"
    assert failed[0]["fix"], "a failed check says what to fix"

    assert api.settings() == (before, etag)
    assert not column_exists(api.emulator, FLAG_COLUMN), "nothing is provisioned when the preflight fails"
    runs = api.get("/api/runs")
    assert runs.status_code == 200, runs.text
    assert runs.json() == {"runs": []}
    assert api.get("/api/status").json()["enabled"] is False


def test_failed_preflight_dataverse_unreachable(api: Api) -> None:
    before, etag = api.settings()
    api.emulator.stop()  # the organisation URL now points at a closed loopback port
    response = api.patch("/api/settings", {"enabled": True}, if_match=etag)
    assert response.status_code == 422, response.text
    problem = response.json()
    failed = [c for c in problem["checks"] if c["status"] == "failed"]
    assert [c["name"] for c in failed] == ["dataverse"], problem["checks"]
    assert failed[0]["fix"]
    # the checks that need Dataverse are skipped, not reported as failures of their own
    skipped = {c["name"] for c in problem["checks"] if c["status"] == "skipped"}
    assert {"privileges", "change_tracking"} <= skipped, problem["checks"]
    assert api.settings() == (before, etag)


def test_failed_preflight_bad_profile_file(api: Api) -> None:
    before, etag = api.settings()
    missing = f"blob://missing-{uuid.uuid4().hex[:8]}/profiles.jsonl"  # not in the configured account
    patch = {"enabled": True, "profile_source": {"file": missing}}
    response = api.patch("/api/settings", patch, if_match=etag)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert "enabled" in [e["field"] for e in problem["errors"]], problem
    failed = [c for c in problem["checks"] if c["status"] == "failed"]
    assert [c["name"] for c in failed] == ["profile_source"], problem["checks"]
    assert failed[0]["fix"]
    # nothing of the rejected patch was kept: neither enabled nor the file
    assert api.settings() == (before, etag)


def test_empty_profile_file_fails_preflight(api_factory: Any, tmp_path: Any) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    api = api_factory(env={"PROFILE_FILE": str(empty)})  # a local path is the PROFILE_FILE app setting's
    response = api.change_settings({"enabled": True})
    assert response.status_code == 422, response.text
    assert api.settings()[0]["enabled"] is False



def test_identity_columns_are_checked_when_enabling_and_when_changed_while_enabled(api: Api) -> None:
    before, etag = api.settings()
    typo = {"enabled": True, "identity": {"profile_url_columns": ["new_linkdinurl"]}}
    refused = api.patch("/api/settings", typo, if_match=etag)
    assert refused.status_code == 422, refused.text
    assert [c["name"] for c in refused.json()["checks"] if c["status"] == "failed"] == ["identity_columns"]
    assert api.settings() == (before, etag)
    enabled = api.patch("/api/settings", {"enabled": True}, if_match=etag)
    assert enabled.status_code == 202, enabled.text
    # already enabled: a column that does not exist would fail every run, so it is refused and not saved
    current, etag = api.settings()
    refused = api.patch("/api/settings", {"identity": {"profile_url_columns": ["new_linkdinurl"]}},
                        if_match=etag)
    assert refused.status_code == 422, refused.text
    assert "identity" in [e["field"] for e in refused.json()["errors"]]
    assert api.settings() == (current, etag)
    fine = api.patch("/api/settings", {"identity": {"extra_email_columns": ["emailaddress3"]}}, if_match=etag)
    assert fine.status_code == 200, fine.text
