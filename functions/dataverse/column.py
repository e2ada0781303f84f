"""The contact columns we provision, their metadata bodies, and the binding read back from them.

Option values are never hard-coded in the rest of the app: our own choice column takes the
publisher's option value prefix (``<prefix>0000``, ``0001``, ``0002``), Microsoft's
``msdyn_orgchangestatus`` uses 0, 1, 2. Provisioning reads the real values from the metadata
and hands them on as a ``ColumnBinding``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from functions.dataverse.provisioning_errors import ColumnConflictError
from functions.dataverse.provisioning_labels import LanguagePlan, Text

CONTACT = "contact"
MSDYN_ORGCHANGESTATUS = "msdyn_orgchangestatus"


class Flag(StrEnum):
    """The three states of the "no longer at company" choice, independent of their option values."""

    NO_FEEDBACK = "no_feedback"
    NOT_AT_COMPANY = "not_at_company"
    IGNORE = "ignore"


# Offset of each flag within its value range: <prefix>0000 + offset, or 0/1/2 for msdyn.
FLAG_OFFSETS: dict[Flag, int] = {Flag.NO_FEEDBACK: 0, Flag.NOT_AT_COMPANY: 1, Flag.IGNORE: 2}
FLAG_TEXT: dict[Flag, Text] = {
    Flag.NO_FEEDBACK: Text("No feedback", "Kein Feedback"),
    Flag.NOT_AT_COMPANY: Text("No longer at company", "Nicht mehr im Unternehmen"),
    Flag.IGNORE: Text("Ignore", "Ignorieren"),
}
MSDYN_VALUES: dict[Flag, int] = dict(FLAG_OFFSETS)

PICKLIST = "Picklist"
DATETIME = "DateTime"
STRING = "String"


def option_values(option_value_prefix: int) -> dict[Flag, int]:
    """Option values under a publisher's option value prefix (41020 -> 410200000, 410200001, ...)."""
    if not 10000 <= option_value_prefix <= 99999:
        raise ValueError(f"option value prefix must have 5 digits (10000-99999), got {option_value_prefix}")
    return {flag: option_value_prefix * 10000 + offset for flag, offset in FLAG_OFFSETS.items()}


@dataclass(frozen=True)
class ColumnBinding:
    """Where the flag lives and which option value means what; later stages write through this."""

    logical_name: str
    values: Mapping[Flag, int]

    @property
    def no_feedback(self) -> int:
        return self.values[Flag.NO_FEEDBACK]

    @property
    def not_at_company(self) -> int:
        return self.values[Flag.NOT_AT_COMPANY]

    @property
    def ignore(self) -> int:
        return self.values[Flag.IGNORE]

    def flag_for(self, value: int | None) -> Flag | None:
        """The flag an option value stands for; ``None`` for empty or unknown values."""
        for flag, flag_value in self.values.items():
            if flag_value == value:
                return flag
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "logical_name": self.logical_name,
            "values": {flag.value: v for flag, v in self.values.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnBinding:
        """Inverse of ``to_dict`` (e.g. a binding kept in a run record); raises on a missing flag."""
        values = {Flag(name): int(value) for name, value in data["values"].items()}
        missing = sorted(flag.value for flag in set(Flag) - set(values))
        if missing:
            raise ValueError(f"binding lacks values for {', '.join(missing)}")
        return cls(logical_name=str(data["logical_name"]), values=values)


@dataclass(frozen=True)
class SupportingColumns:
    """Logical names of the columns that carry what the flag cannot: when, and where they went."""

    validated_on: str
    current_employer: str

    def to_dict(self) -> dict[str, str]:
        return {"validated_on": self.validated_on, "current_employer": self.current_employer}


@dataclass(frozen=True)
class ColumnSpec:
    """A contact column to create if missing. ``attribute_type`` is what metadata reports back."""

    schema_name: str
    attribute_type: str
    display_name: Text
    description: Text
    options: Mapping[Flag, int] = field(default_factory=dict)
    max_length: int | None = None

    @property
    def logical_name(self) -> str:
        return self.schema_name.lower()

    def create_body(self, plan: LanguagePlan) -> dict[str, Any]:
        """Body for ``POST EntityDefinitions(LogicalName='contact')/Attributes``."""
        body: dict[str, Any] = {
            "SchemaName": self.schema_name,
            "DisplayName": plan.label_body(self.display_name),
            "Description": plan.label_body(self.description),
            "RequiredLevel": {
                "Value": "None",
                "CanBeChanged": True,
                "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
            },
        }
        if self.attribute_type == PICKLIST:
            body.update(
                {
                    "@odata.type": "Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
                    "AttributeType": PICKLIST,
                    "AttributeTypeName": {"Value": "PicklistType"},
                    "SourceTypeMask": 0,
                    "DefaultFormValue": self.options[Flag.NO_FEEDBACK],
                    "OptionSet": {
                        "@odata.type": "Microsoft.Dynamics.CRM.OptionSetMetadata",
                        "IsGlobal": False,
                        "OptionSetType": "Picklist",
                        "Options": [
                            {"Value": value, "Label": plan.label_body(FLAG_TEXT[flag])}
                            for flag, value in self.options.items()
                        ],
                    },
                }
            )
        elif self.attribute_type == DATETIME:
            body.update(
                {
                    "@odata.type": "Microsoft.Dynamics.CRM.DateTimeAttributeMetadata",
                    "AttributeType": DATETIME,
                    "AttributeTypeName": {"Value": "DateTimeType"},
                    "Format": "DateAndTime",
                    # An instant in time, shown in each user's time zone.
                    "DateTimeBehavior": {"Value": "UserLocal"},
                }
            )
        elif self.attribute_type == STRING:
            body.update(
                {
                    "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
                    "AttributeType": STRING,
                    "AttributeTypeName": {"Value": "StringType"},
                    "MaxLength": self.max_length,
                    "FormatName": {"Value": "Text"},
                }
            )
        else:  # pragma: no cover - specs are built below, never from input
            raise ValueError(f"unsupported attribute type {self.attribute_type!r}")
        return body


def flag_column_spec(publisher_prefix: str, values: Mapping[Flag, int]) -> ColumnSpec:
    """Our own "No longer at company" choice column (local option set, default "No feedback")."""
    return ColumnSpec(
        schema_name=f"{publisher_prefix}_NoLongerAtCompany",
        attribute_type=PICKLIST,
        display_name=Text("No longer at company", "Nicht mehr im Unternehmen"),
        description=Text(
            "Set by Data Validation when the person's profile shows they no longer work at the "
            "contact's account. Set it to Ignore to keep the automation from changing it.",
            "Wird von Data Validation gesetzt, wenn das Profil der Person zeigt, dass sie nicht mehr "
            "beim Unternehmen des Kontakts arbeitet. „Ignorieren“ schützt den Wert vor der Automatisierung.",
        ),
        options=dict(values),
    )


def supporting_column_specs(publisher_prefix: str) -> tuple[ColumnSpec, ColumnSpec]:
    """The "Validated on" date-time and "Current employer (per profile)" text columns."""
    validated_on = ColumnSpec(
        schema_name=f"{publisher_prefix}_ValidatedOn",
        attribute_type=DATETIME,
        display_name=Text("Validated on", "Geprüft am"),
        description=Text(
            "When Data Validation last checked this contact and set No longer at company.",
            "Wann Data Validation diesen Kontakt zuletzt geprüft und "
            "„Nicht mehr im Unternehmen“ gesetzt hat.",
        ),
    )
    current_employer = ColumnSpec(
        schema_name=f"{publisher_prefix}_CurrentEmployer",
        attribute_type=STRING,
        display_name=Text("Current employer (per profile)", "Aktueller Arbeitgeber (laut Profil)"),
        description=Text(
            "The employer the person's profile shows now, so you can follow them to their new company.",
            "Der Arbeitgeber, den das Profil der Person jetzt zeigt – "
            "so finden Sie sie im neuen Unternehmen.",
        ),
        max_length=200,
    )
    return validated_on, current_employer


def option_label(option: Mapping[str, Any]) -> str:
    """The user-language label of a metadata option, falling back to the first localized one."""
    label = option.get("Label") or {}
    user_label = label.get("UserLocalizedLabel") or {}
    if user_label.get("Label"):
        return str(user_label["Label"])
    for localized in label.get("LocalizedLabels") or ():
        if localized.get("Label"):
            return str(localized["Label"])
    return ""


def binding_from_options(
    logical_name: str, options: Iterable[Mapping[str, Any]], expected: Mapping[Flag, int], *, fix: str
) -> ColumnBinding:
    """Map an existing choice column's options to flags by value.

    Raises ``ColumnConflictError`` (with ``fix`` appended) if any expected value is missing;
    extra options are allowed, since an admin may have added their own.
    """
    present = {int(option["Value"]): option_label(option) for option in options if "Value" in option}
    missing = [flag for flag, value in expected.items() if value not in present]
    if missing:
        wanted = ", ".join(f"{expected[flag]} ({FLAG_TEXT[flag].en})" for flag in missing)
        found = ", ".join(f"{value} ({label})" for value, label in sorted(present.items())) or "none"
        raise ColumnConflictError(
            f"Column contact.{logical_name} lacks option value(s) {wanted}; it has {found}. {fix}",
            column=logical_name,
        )
    return ColumnBinding(logical_name=logical_name, values={flag: expected[flag] for flag in FLAG_OFFSETS})
