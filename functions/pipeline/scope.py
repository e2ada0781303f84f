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

__all__ = ["SyncUsers", "in_scope", "resolve_sync_users"]

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
    """One Dataverse read (none for SYNC_USER_IDS)."""
    if config.sync_user_ids:
        return SyncUsers(frozenset(config.sync_user_ids), "ids")
    select = ["systemuserid"]
    enabled = "isdisabled eq false"
    extra: set[str] = set()
    if config.sync_team:
        team = config.sync_team.strip()
        if _GUID.match(team):
            condition = f"teammembership_association/any(t:t/teamid eq {team.lower()})"
            extra.add(team.lower())
        else:
            condition = f"teammembership_association/any(t:t/name eq {odata_string(team)})"
            for row in client.iter_rows("teams", select=["teamid"], filter=f"name eq {odata_string(team)}"):
                extra.add(str(row["teamid"]).lower())
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
    ids = {
        str(row["systemuserid"]).lower()
        for row in client.iter_rows("systemusers", select=select, filter=f"{enabled} and {condition}")
    }
    return SyncUsers(frozenset(ids | extra), source)


def in_scope(
    *, active: bool, owner_id: str | None, account_owner_id: str | None, opp_linked: bool, sync: SyncUsers
) -> bool:
    if not active:
        return False
    return owner_id in sync or account_owner_id in sync or opp_linked
