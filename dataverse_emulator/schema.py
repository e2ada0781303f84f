"""Table and column definitions: the shape of every entity set the emulator serves.

A column is an :class:`Attribute`; a table is a :class:`Table`. Values are kept in their Web API
wire form (GUIDs as lowercase strings, datetimes as ISO strings, choices as ints), so reading a
row needs no conversion. Lookups are exposed on the wire as ``_<name>_value``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import bad_request

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
LOOKUP_TYPE_SUFFIX = "@Microsoft.Dynamics.CRM.lookuplogicalname"

# Attribute type -> (AttributeType, @odata.type of its metadata, Edm type) as Dataverse reports them.
TYPE_INFO = {
    "string": ("String", "StringAttributeMetadata", "Edm.String"),
    "memo": ("Memo", "MemoAttributeMetadata", "Edm.String"),
    "int": ("Integer", "IntegerAttributeMetadata", "Edm.Int32"),
    "bigint": ("BigInt", "BigIntAttributeMetadata", "Edm.Int64"),
    "bool": ("Boolean", "BooleanAttributeMetadata", "Edm.Boolean"),
    "decimal": ("Money", "MoneyAttributeMetadata", "Edm.Decimal"),
    "datetime": ("DateTime", "DateTimeAttributeMetadata", "Edm.DateTimeOffset"),
    "picklist": ("Picklist", "PicklistAttributeMetadata", "Edm.Int32"),
    "state": ("State", "StateAttributeMetadata", "Edm.Int32"),
    "status": ("Status", "StatusAttributeMetadata", "Edm.Int32"),
    "lookup": ("Lookup", "LookupAttributeMetadata", "Edm.Guid"),
    "guid": ("Uniqueidentifier", "UniqueIdentifierAttributeMetadata", "Edm.Guid"),
    "entityname": ("EntityName", "EntityNameAttributeMetadata", "Edm.String"),
}
CHOICE_TYPES = frozenset({"picklist", "state", "status"})


def stable_id(*parts: object) -> str:
    """A deterministic GUID for OOB rows and metadata ids, so runs are reproducible."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "dataverse-emulator:" + ":".join(map(str, parts))))


@dataclass
class Attribute:
    """One column. ``options`` maps choice value -> {LCID: label}; ``targets`` maps target table ->
    navigation property name (several targets = polymorphic lookup)."""

    logical_name: str
    type: str
    max_length: int | None = None
    options: dict[int, dict[int, str]] = field(default_factory=dict)
    targets: dict[str, str] = field(default_factory=dict)
    schema_name: str = ""
    display_name: dict[int, str] = field(default_factory=dict)
    description: dict[int, str] = field(default_factory=dict)
    format: str | None = None
    is_custom: bool = False
    metadata_id: str = ""
    definition: dict[str, Any] | None = None  # the posted metadata body of custom columns

    def __post_init__(self) -> None:
        if not self.schema_name:
            self.schema_name = self.logical_name
        if not self.metadata_id:
            self.metadata_id = stable_id("attribute", self.logical_name, self.type)

    @property
    def wire_name(self) -> str:
        """The property name in Web API rows (``_x_value`` for lookups)."""
        return f"_{self.logical_name}_value" if self.type == "lookup" else self.logical_name

    @property
    def polymorphic(self) -> bool:
        return self.type == "lookup" and len(self.targets) > 1

    def option_label(self, value: int, lcid: int) -> str | None:
        labels = self.options.get(value)
        if not labels:
            return None
        return labels.get(lcid) or next(iter(labels.values()))


@dataclass
class Table:
    """One entity set. ``attributes`` is keyed by logical name (not wire name)."""

    logical_name: str
    entity_set: str
    primary_key: str
    primary_name: str | None
    object_type_code: int
    attributes: dict[str, Attribute] = field(default_factory=dict)
    display_name: str = ""
    metadata_id: str = ""

    def __post_init__(self) -> None:
        if not self.metadata_id:
            self.metadata_id = stable_id("entity", self.logical_name)
        if not self.display_name:
            self.display_name = self.logical_name.capitalize()
        self.by_wire: dict[str, Attribute] = {}
        for attribute in list(self.attributes.values()):
            self.by_wire[attribute.wire_name] = attribute
        self.nav_to_attribute: dict[str, tuple[Attribute, str]] = {}
        self._index_navs()

    def _index_navs(self) -> None:
        self.nav_to_attribute = {
            nav: (attribute, target)
            for attribute in self.attributes.values()
            for target, nav in attribute.targets.items()
        }

    def add_attribute(self, attribute: Attribute) -> None:
        self.attributes[attribute.logical_name] = attribute
        self.by_wire[attribute.wire_name] = attribute
        self._index_navs()

    @property
    def odata_type(self) -> str:
        return f"Microsoft.Dynamics.CRM.{self.logical_name}"


def check_value(table: Table, attribute: Attribute, value: Any) -> Any:
    """Validate one written value the way Dataverse does; return it in wire form.

    Raises the documented 400 envelopes: too long (0x80044331), choice outside its options
    (0x8004431a), wrong JSON type (0x80060888).
    """
    if value is None:
        return None
    kind = attribute.type
    name = attribute.logical_name
    if kind in ("string", "memo", "entityname"):
        if not isinstance(value, str):
            raise _conversion_error(value, "Edm.String")
        limit = attribute.max_length
        if limit is not None and len(value) > limit:
            raise bad_request(
                f"A validation error occurred. The length of the '{name}' attribute of the "
                f"'{table.logical_name}' entity exceeded the maximum allowed length of '{limit}'.",
                "0x80044331",
            )
        return value
    if kind in ("int", "bigint") or kind in CHOICE_TYPES:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _conversion_error(value, TYPE_INFO[kind][2])
        if kind in CHOICE_TYPES and value not in attribute.options:
            accepted = ",".join(str(v) for v in sorted(attribute.options))
            raise bad_request(
                f"A validation error occurred. The value {value} of '{name}' on record of type "
                f"'{table.logical_name}' is outside the valid range. Accepted Values: {accepted}",
                "0x8004431a",
            )
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise _conversion_error(value, "Edm.Boolean")
        return value
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _conversion_error(value, "Edm.Decimal")
        return value
    if kind == "datetime":
        if not isinstance(value, str) or parse_datetime(value) is None:
            raise _conversion_error(value, "Edm.DateTimeOffset")
        return value
    if kind in ("guid", "lookup"):
        if not isinstance(value, str) or not GUID_RE.match(value):
            raise _conversion_error(value, "Edm.Guid")
        return value.lower()
    return value


def _conversion_error(value: Any, edm: str) -> Exception:
    return bad_request(f"Cannot convert the literal '{value}' to the expected type '{edm}'.")


def parse_datetime(text: str) -> datetime | None:
    """Parse ``2023-04-07T21:59:01Z`` or ``2023-04-07``; None when it is neither."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
