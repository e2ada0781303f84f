"""Which Dataverse privileges the app needs, and why - grounded in the calls the code makes.

Privilege names follow the security role reference (``prv<Access><Entity>``; the user table is
``User``, views are ``Query``); sources in docs/doctor.md. ``group`` decides how a missing privilege
counts in the preflight:

* ``data``: the daily scan cannot run without it -> failed.
* ``write``: the scan writes its verdicts through it -> failed (warning while ``SCAN_DRY_RUN``).
* ``team`` / ``role``: needed only with ``SYNC_TEAM`` / ``SYNC_ROLE`` -> failed when that is set,
  else a warning (the setting can be changed later through the settings API).
* ``customize_read``: provisioning reads the solution, publisher and views on every check, and the
  scan re-checks provisioning every ``SCAN_PROVISIONING_MAX_AGE_HOURS`` -> failed.
* ``customize``: creating/changing columns and views and publishing -> failed when a provisioning dry
  run says something would be created or changed, else a warning (nothing to do now; a later repair
  would need them - or an admin runs ``python -m functions provision`` once).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEPTHS", "DEPTH_LABELS", "REQUIRED_PRIVILEGES", "RequiredPrivilege"]

DEPTHS = ("Basic", "Local", "Deep", "Global")
# How the security role editor names the depths.
DEPTH_LABELS = {"Basic": "User", "Local": "Business Unit", "Deep": "Parent: Child Business Units",
                "Global": "Organization"}


@dataclass(frozen=True)
class RequiredPrivilege:
    name: str
    group: str  # data | write | team | role | customize_read | customize
    tab: str  # tab of the security role editor
    table: str  # row in that tab
    access: str  # column in that tab
    why: str
    depth: str = "Global"  # least depth that works: the app acts on every row of the organisation

    @property
    def where(self) -> str:
        """Where an admin ticks it in the security role editor."""
        return f"{self.tab} tab → {self.table} → {self.access}: {DEPTH_LABELS[self.depth]}"


REQUIRED_PRIVILEGES: tuple[RequiredPrivilege, ...] = (
    RequiredPrivilege("prvReadContact", "data", "Core Records", "Contact", "Read",
                      "the scan reads every contact (change tracking and targeted reads)"),
    RequiredPrivilege("prvReadAccount", "data", "Core Records", "Account", "Read",
                      "the scan reads each contact's account (owner, website, name)"),
    RequiredPrivilege("prvReadOpportunity", "data", "Core Records", "Opportunity", "Read",
                      "scope: contacts linked to open opportunities of sync users"),
    RequiredPrivilege("prvReadConnection", "data", "Core Records", "Connection", "Read",
                      "scope: stakeholder connections of opportunities"),
    RequiredPrivilege("prvReadUser", "data", "Business Management", "User", "Read",
                      "sync users are read from systemusers; also needed to probe privileges"),
    RequiredPrivilege("prvReadOrganization", "data", "Business Management", "Organization", "Read",
                      "provisioning reads the base language; needed to probe privileges"),
    RequiredPrivilege("prvWriteContact", "write", "Core Records", "Contact", "Write",
                      "the scan writes the flag, validated-on and current-employer columns"),
    RequiredPrivilege("prvReadTeam", "team", "Business Management", "Team", "Read",
                      "SYNC_TEAM: the team and its members are read"),
    RequiredPrivilege("prvReadRole", "role", "Business Management", "Security Role", "Read",
                      "SYNC_ROLE: the holders of the security role are read"),
    RequiredPrivilege("prvReadSolution", "customize_read", "Customization", "Solution", "Read",
                      "provisioning looks up the solution on every check"),
    RequiredPrivilege("prvReadPublisher", "customize_read", "Customization", "Publisher", "Read",
                      "provisioning looks up the solution's publisher"),
    RequiredPrivilege("prvReadQuery", "customize_read", "Customization", "View", "Read",
                      "provisioning compares the four views with the desired ones"),
    RequiredPrivilege("prvCreatePublisher", "customize", "Customization", "Publisher", "Create",
                      "provisioning creates the publisher if it is missing"),
    RequiredPrivilege("prvCreateSolution", "customize", "Customization", "Solution", "Create",
                      "provisioning creates the unmanaged solution if it is missing"),
    RequiredPrivilege("prvWriteSolution", "customize", "Customization", "Solution", "Write",
                      "components are added to the solution (assumed; see docs/doctor.md)"),
    RequiredPrivilege("prvCreateAttribute", "customize", "Customization", "Field", "Create",
                      "provisioning creates the three contact columns (CreateAttribute)"),
    RequiredPrivilege("prvCreateQuery", "customize", "Customization", "View", "Create",
                      "provisioning creates the four views"),
    RequiredPrivilege("prvWriteQuery", "customize", "Customization", "View", "Write",
                      "provisioning repairs drifted views and sets their German names"),
    RequiredPrivilege("prvReadCustomization", "customize", "Customization", "Customizations", "Read",
                      "PublishXml (publishing contact and opportunity)"),
    RequiredPrivilege("prvReadSystemForm", "customize", "Customization", "System Form", "Read",
                      "PublishXml (publishing contact and opportunity)"),
    RequiredPrivilege("prvReadSavedQueryVisualizations", "customize", "Customization", "System Chart",
                      "Read", "PublishXml (publishing contact and opportunity)"),
)
