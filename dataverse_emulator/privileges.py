"""Security privileges of the application user (the one ``WhoAmI`` returns).

Dataverse answers ``GET systemusers(<id>)/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()`` with
``{"RolePrivileges": [{"Depth", "PrivilegeId", "BusinessUnitId", "PrivilegeName"}, ...]}``
(RetrieveUserPrivilegesResponse / RolePrivilege complex types; ``Depth`` is the PrivilegeDepth enum
``Basic|Local|Deep|Global``, serialised by name). The emulator keeps one privilege set for that user,
configurable at construction and changeable at runtime, and enforces the table privileges on the
tables below: a request without the privilege gets the documented 403 with code ``0x80040220``
("Principal user is missing <privilege> privilege ... for entity '<table>'").
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import ODataError
from .schema import stable_id

DEPTHS = ("Basic", "Local", "Deep", "Global")
ACCESS_RIGHTS = ("Create", "Read", "Write", "Delete", "Append", "AppendTo", "Assign", "Share")

# Table logical name -> the entity part of its privilege names (prv<Access><Entity>). Names from the
# security role reference: the user table is "User" and the view table "Query" (prvReadQuery).
PRIVILEGE_ENTITY: dict[str, str] = {
    "contact": "Contact",
    "account": "Account",
    "opportunity": "Opportunity",
    "connection": "Connection",
    "connectionrole": "ConnectionRole",
    "systemuser": "User",
    "team": "Team",
    "role": "Role",
    "savedquery": "Query",
    "solution": "Solution",
    "publisher": "Publisher",
    "organization": "Organization",
}

# Privileges that are not table CRUD: metadata and customization (Customization tab).
OTHER_PRIVILEGES = (
    "prvCreateAttribute",
    "prvReadAttribute",
    "prvWriteAttribute",
    "prvCreateEntity",
    "prvReadEntity",
    "prvWriteEntity",
    "prvReadCustomization",
    "prvReadSystemForm",
    "prvReadSavedQueryVisualizations",
    "prvPublishCustomizations",
    "prvReadSdkMessage",
)


def table_privilege(access: str, logical_name: str) -> str | None:
    """``prv<Access><Entity>`` for a table the emulator checks, else None (no privilege checked)."""
    entity = PRIVILEGE_ENTITY.get(logical_name)
    return f"prv{access}{entity}" if entity else None


def all_privileges() -> dict[str, str]:
    """Everything the emulator knows, at Global (organization) depth: the default set."""
    names = [f"prv{access}{entity}" for entity in PRIVILEGE_ENTITY.values() for access in ACCESS_RIGHTS]
    return dict.fromkeys([*names, *OTHER_PRIVILEGES], "Global")


DEFAULT_PRIVILEGES: Mapping[str, str] = all_privileges()


def privilege_id(name: str) -> str:
    return stable_id("privilege", name.lower())


def _normalise(privileges: Iterable[str] | Mapping[str, Any]) -> dict[str, str]:
    if isinstance(privileges, Mapping):
        items = [(str(name), depth) for name, depth in privileges.items()]
    elif isinstance(privileges, str):
        raise TypeError("privileges must be a collection of names or a mapping name -> depth, not a str")
    else:
        items = [(str(name), "Global") for name in privileges]
    result: dict[str, str] = {}
    for name, depth in items:
        result[name] = _depth(depth)
    return result


def _depth(depth: str | int) -> str:
    if isinstance(depth, int) and not isinstance(depth, bool) and 0 <= depth < len(DEPTHS):
        return DEPTHS[depth]
    for known in DEPTHS:
        if str(depth).lower() == known.lower():
            return known
    raise ValueError(f"unknown privilege depth {depth!r}; expected one of {list(DEPTHS)}")


class Privileges:
    """The application user's privileges (name -> depth). Thread-safe."""

    def __init__(self, privileges: Iterable[str] | Mapping[str, str] | None = None) -> None:
        self._lock = threading.Lock()
        self._held = dict(DEFAULT_PRIVILEGES) if privileges is None else _normalise(privileges)

    def grant(self, name: str, depth: str | int = "Global") -> None:
        with self._lock:
            self._held[name] = _depth(depth)

    def revoke(self, name: str) -> None:
        with self._lock:
            self._held.pop(name, None)

    def has(self, name: str) -> bool:
        with self._lock:
            return name in self._held

    def snapshot(self) -> dict[str, str]:
        with self._lock:
            return dict(self._held)

    def role_privileges(self, business_unit_id: str) -> list[dict[str, Any]]:
        """The ``RolePrivileges`` array, sorted by name."""
        return [
            {
                "Depth": depth,
                "PrivilegeId": privilege_id(name),
                "BusinessUnitId": business_unit_id,
                "PrivilegeName": name,
                "RecordFilterId": None,
                "RecordFilterUniqueName": None,
            }
            for name, depth in sorted(self.snapshot().items())
        ]

    def require(self, name: str | None, *, user_id: str, logical_name: str, otc: int | None) -> None:
        """Raise the documented 403 when ``name`` is not held (None: nothing to check)."""
        if name is None:
            return
        with self._lock:
            held = name in self._held
            count = len(self._held)
        if held:
            return
        raise ODataError(
            403,
            "0x80040220",
            f"Principal user (Id={user_id}, type=8, roleCount=1, privilegeCount={count}, accessMode=4), "
            f"is missing {name} privilege (Id={privilege_id(name)}) on OTC={otc} for entity "
            f"'{logical_name}'. context.Caller={user_id}",
        )
