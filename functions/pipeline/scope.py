"""Sync users and scope membership.

Scope (product §3): active contacts owned by a sync user, or whose parent account a sync user owns,
or that are the parent contact or a stakeholder (connection) of an open opportunity a sync user owns.
Sync users come from SYNC_USER_IDS, SYNC_TEAM (members, and the team itself as an owner) or SYNC_ROLE
(direct holders); by default every enabled human user (no application user, not SYSTEM/INTEGRATION).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from functions.config import ScanConfig
from functions.dataverse import DataverseClient, odata_string
from functions.dataverse.rounds import Read, Task, run_rounds

__all__ = ["SyncUsers", "in_scope", "resolve_sync_users", "sync_users_task"]

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")

ACTIVE = 0  # statecode of an active contact/account and an open opportunity
OPPORTUNITY_TYPE = 3
CONTACT_TYPE = 2


@dataclass(frozen=True)
class SyncUsers:
    owner_ids: frozenset[str]  # users (and, for SYNC_TEAM, the team) whose records are in scope
    source: str  # "ids", "team:<x>", "role:<x>", "all enabled human users"

    @property
    def fingerprint(self) -> str:
        text = self.source + "|" + ",".join(sorted(self.owner_ids))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def __contains__(self, owner_id: object) -> bool:
        return isinstance(owner_id, str) and owner_id.lower() in self.owner_ids


def resolve_sync_users(client: DataverseClient, config: ScanConfig) -> SyncUsers:
    """One Dataverse request (none for SYNC_USER_IDS; a team named, not by id: its id and its members
    in one ``$batch``)."""
    return run_rounds(client, sync_users_task(config))


def sync_users_task(config: ScanConfig) -> Task[SyncUsers]:
    """The sync users as a task of ``functions.dataverse.rounds``: a delta run reads them in the same
    ``$batch`` as its first targeted reads. A lone read of the users goes as a plain GET."""
    if config.sync_user_ids:
        return SyncUsers(frozenset(config.sync_user_ids), "ids")
    select = ["systemuserid"]
    enabled = "isdisabled eq false"
    extra: set[str] = set()
    teams: Read | None = None
    if config.sync_team:
        team = config.sync_team.strip()
        if _GUID.match(team):
            condition = f"teammembership_association/any(t:t/teamid eq {team.lower()})"
            extra.add(team.lower())
        else:
            condition = f"teammembership_association/any(t:t/name eq {odata_string(team)})"
            teams = Read("teams", [f"name eq {odata_string(team)}"], ["teamid"])
        source = f"team:{team}"
    elif config.sync_role:
        role = config.sync_role.strip()
        if _GUID.match(role):
            condition = f"systemuserroles_association/any(r:r/roleid eq {role.lower()})"
        else:  # a role exists once per business unit, with the same name
            condition = f"systemuserroles_association/any(r:r/name eq {odata_string(role)})"
        source = f"role:{role}"
    else:
        condition = "accessmode eq 0 and applicationid eq null and azureactivedirectoryobjectid ne null"
        source = "all enabled human users"
    users = Read("systemusers", [f"{enabled} and {condition}"], select, plain_when_alone=True)
    yield [users] if teams is None else [users, teams]
    ids = {str(row["systemuserid"]).lower() for row in users.results}
    if teams is not None:
        extra |= {str(row["teamid"]).lower() for row in teams.results}
    return SyncUsers(frozenset(ids | extra), source)


def in_scope(
    *, active: bool, owner_id: str | None, account_owner_id: str | None, opp_linked: bool, sync: SyncUsers
) -> bool:
    if not active:
        return False
    return owner_id in sync or account_owner_id in sync or opp_linked
