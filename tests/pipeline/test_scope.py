"""Sync users from the emulator: ids, a team, a role, or all enabled human users."""

from __future__ import annotations

from functions.config import ScanConfig, load_config
from functions.dataverse import build_client
from functions.pipeline.scope import SyncUsers, in_scope, resolve_sync_users


def _client(emulator):
    return build_client(load_config({"DATAVERSE_URL": emulator.url, "DATAVERSE_AUTH": "local"}).dataverse)


def test_default_is_enabled_human_users(emulator) -> None:
    with _client(emulator) as client:
        sync = resolve_sync_users(client, ScanConfig())
        columns = ["systemuserid", "isdisabled", "accessmode", "applicationid",
                   "azureactivedirectoryobjectid"]
        rows = list(client.iter_rows("systemusers", select=columns))
    humans = {r["systemuserid"] for r in rows if not r["isdisabled"] and r["accessmode"] == 0
              and r["applicationid"] is None and r["azureactivedirectoryobjectid"]}
    assert sync.owner_ids == frozenset(humans)
    assert sync.source == "all enabled human users"
    assert len(rows) > len(humans)  # SYSTEM, INTEGRATION and application users are left out


def test_ids_team_and_role(emulator) -> None:
    with _client(emulator) as client:
        ids = ScanConfig(sync_user_ids="C892BDF0-F634-454A-932A-6DC0557B4E6C")
        assert resolve_sync_users(client, ids).owner_ids == {"c892bdf0-f634-454a-932a-6dc0557b4e6c"}
        before = client.request_counts
        team = resolve_sync_users(client, ScanConfig(sync_team="Sales UK"))
        after = client.request_counts
        # the team's id and its members: independent reads, one $batch
        assert (after["batch_read"] - before["batch_read"], after["read"] - before["read"]) == (1, 0)
        teams = client.iter_rows("teams", select=["teamid"], filter="name eq 'Sales UK'")
        team_id = next(iter(teams))["teamid"]
        assert team_id in team.owner_ids  # records the team owns
        assert len(team.owner_ids) >= 2
        role = resolve_sync_users(client, ScanConfig(sync_role="Salesperson"))
        before = client.request_counts["read"]
        everyone = resolve_sync_users(client, ScanConfig())
        assert client.request_counts["read"] - before == 1  # a lone read stays a plain GET
        assert role.owner_ids <= everyone.owner_ids
        assert role.fingerprint != everyone.fingerprint


def test_in_scope_rules() -> None:
    sync = SyncUsers(frozenset({"u1"}), "ids")
    assert in_scope(active=True, owner_id="u1", account_owner_id=None, opp_linked=False, sync=sync)
    assert in_scope(active=True, owner_id="x", account_owner_id="u1", opp_linked=False, sync=sync)
    assert in_scope(active=True, owner_id="x", account_owner_id=None, opp_linked=True, sync=sync)
    assert not in_scope(active=True, owner_id="x", account_owner_id="y", opp_linked=False, sync=sync)
    assert not in_scope(active=False, owner_id="u1", account_owner_id="u1", opp_linked=True, sync=sync)
