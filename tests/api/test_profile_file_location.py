"""Where ``profile_source.file`` may point when set through the API (issue 5, B1): only
``blob://<container>/<name>`` in the configured storage account, or exactly the PROFILE_FILE app setting
(without its query). Any other URL would make the app send its storage credential to a host of the
caller's choosing, and any other path would let an admin probe the app's file system: both are refused
with 400 before anything is read."""

from __future__ import annotations

import json
import uuid
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
from azure.data.tables import TableServiceClient

from functions.settings.merge_patch import FILE_LOCATION_REASON
from localdev.azurite import Azurite
from tests.api.conftest import Api, sas_profile_url


def _refused(response: Any) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["errors"] == [{"field": "profile_source.file", "reason": FILE_LOCATION_REASON}]


def test_a_url_of_another_host_is_refused_before_any_request(api: Api, listener: ThreadingHTTPServer) -> None:
    evil = f"http://127.0.0.1:{listener.server_address[1]}/devstoreaccount1/c/x.jsonl"
    before, etag = api.settings()
    # enabling with it (the preflight would read it), and changing it while enabled (checked too)
    _refused(api.patch("/api/settings", {"enabled": True, "profile_source": {"file": evil}}, if_match=etag))
    _refused(api.patch("/api/settings", {"profile_source": {"file": evil}}, if_match=etag))
    enabled = api.change_settings({"enabled": True})
    assert enabled.status_code == 202, enabled.text
    api.wait_for_run(enabled.json()["run"]["run_id"])
    _refused(api.change_settings({"profile_source": {"file": evil}}))
    for other in ("https://attacker.example/c/x.jsonl", "https://evil.blob.core.windows.net/c/x.jsonl"):
        _refused(api.change_settings({"profile_source": {"file": other}}))
    assert listener.seen == [], listener.seen  # type: ignore[attr-defined]
    assert api.settings()[0]["profile_source"] == before["profile_source"]


@pytest.mark.parametrize("path", ["/etc/passwd", "/dev/zero", "/proc/self/environ", "relative/p.jsonl",
                                  "file:///etc/passwd", "blob://", "blob://c", "blob://c/", "blob:///p.jsonl",
                                  "blob://c/../p.jsonl", "blob://c/./p.jsonl", "blob://c\\x/p.jsonl"])
def test_local_paths_and_malformed_blob_locations_are_refused(api: Api, path: str) -> None:
    _refused(api.change_settings({"profile_source": {"file": path, "file_format": "csv"}}))


def test_blob_locations_and_the_app_setting_are_accepted(api: Api) -> None:
    blob = f"blob://profiles-{uuid.uuid4().hex[:8]}/snapshots/p.jsonl"
    changed = api.change_settings({"profile_source": {"file": blob}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["profile_source"]["file"] == blob
    # back to the configured file: the PROFILE_FILE app setting (here a local path)
    back = api.change_settings({"profile_source": {"file": str(api.profile_path)}})
    assert back.status_code == 200, back.text
    assert back.json()["profile_source"]["file"] == str(api.profile_path)


def test_the_app_setting_url_without_its_sas_is_accepted(api_factory: Any, azurite: Azurite) -> None:
    sas_url, base = sas_profile_url(azurite)
    api = api_factory(env={"PROFILE_FILE": sas_url})
    away = api.change_settings({"profile_source": {"file": "blob://profiles/p.jsonl"}})
    assert away.status_code == 200, away.text
    back = api.change_settings({"profile_source": {"file": base}})
    assert back.status_code == 200, back.text
    # the same host and account, another blob: not the app setting, so refused
    _refused(api.change_settings({"profile_source": {"file": base.rsplit("/", 1)[0] + "/other.jsonl"}}))
    assert api.leaked() == []


def test_a_stored_file_from_before_the_rule_does_not_block_disabling(api: Api, azurite: Azurite) -> None:
    defaults, _ = api.settings()
    enabled = api.change_settings({"enabled": True})
    assert enabled.status_code == 202, enabled.text
    api.wait_for_run(enabled.json()["run"]["run_id"])
    table = TableServiceClient.from_connection_string(azurite.connection_string).get_table_client(
        f"{api.env['STATE_TABLE_PREFIX']}settings")
    entity = table.get_entity("settings", "current")
    document = json.loads(entity["document"])
    document["profile_source"]["file"] = "/srv/legacy/profiles.jsonl"
    entity["document"] = json.dumps(document)
    table.upsert_entity(entity)
    disabled = api.change_settings({"enabled": False})
    assert disabled.status_code == 200, disabled.text
    # but enabling again with it is refused until it is changed
    _refused(api.change_settings({"enabled": True}))
    assert defaults["profile_source"]["file"] != "/srv/legacy/profiles.jsonl"
