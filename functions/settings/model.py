"""The admin settings: one strict pydantic model, its defaults from the app settings, its JSON schemas.

``Settings`` is what ``GET /api/settings`` returns and what the settings table stores. It holds no
secrets: the PDL key, client secrets and connection strings stay app settings (Key Vault references),
so nothing secret can reach the settings table, the audit log or a response.

Validation is strict on purpose (``strict=True``): a bool is only ``true``/``false`` (never ``1`` or
``"true"``), an int is never a float or a bool, numbers must be finite, unknown members are errors
at any depth. Error reasons never contain the submitted value (see ``errors_from``).
"""

from __future__ import annotations

import copy
import json
import re
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from functions.config import AppConfig, ConfigError
from functions.matching.config import ACRONYM_POLICIES, DEFAULT, MatchingConfig
from functions.matching.groups import CorporateGroup

__all__ = [
    "GUID",
    "GUID_PATTERN",
    "MAX_SYNC_USER_IDS",
    "SAS_REASON",
    "FieldError",
    "IdentitySettings",
    "MatchingSettings",
    "ProfileSourceSettings",
    "Settings",
    "SettingsValidationError",
    "SyncUsers",
    "defaults_from_config",
    "errors_from",
    "field_path",
    "split_query",
]

#: Upper bound of ``sync_users.user_ids`` (the scan filters on them; the audit stores old and new lists).
MAX_SYNC_USER_IDS = 200
#: The stored document's size limit: one Azure Table string property holds 64 KiB (UTF-16), less room
#: for the entity's other properties.
MAX_DOCUMENT_BYTES = 60 * 1024
#: Upper bound of ``matching.corporate_groups`` (larger tables belong in a pull request to the shipped one).
MAX_ADMIN_GROUPS = 200
#: Upper bound of each list of ``identity`` columns.
MAX_IDENTITY_COLUMNS = 5
#: Upper bound of the look-up counters: far above any real run, small enough for every consumer.
MAX_LOOKUPS = 1_000_000_000

#: A GUID as Dataverse writes it (8-4-4-4-12 hexadecimal digits, any case); the API's path
#: parameters and the settings use this one definition.
GUID_PATTERN = r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"
#: ``GUID_PATTERN`` compiled (ASCII digits only); use ``GUID.fullmatch``.
GUID = re.compile(GUID_PATTERN, re.ASCII)
#: Why a profile file with a query string is refused. A blob SAS token travels in the query; the
#: settings document is returned by GET, stored in a table and diffed into the audit log, so it must
#: never hold one.
SAS_REASON = ("must not contain a query string (a SAS token is a secret: keep it in the PROFILE_FILE app "
              "setting or use the managed identity)")
FRAGMENT_REASON = "must not contain a fragment ('#...')"
# Control characters would end up in OData filters, blob paths and logs; no legitimate name has one.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True)
class FieldError:
    """One problem: ``field`` is a dotted path with list indexes (``sync_users.user_ids[2]``), ``""``
    for the body itself; ``reason`` is human text that never repeats the submitted value."""

    field: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


class SettingsValidationError(ValueError):
    """A settings document or merge patch is invalid. ``errors`` lists every problem found."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field or '(body)'}: {e.reason}" for e in self.errors))


def _guid(value: str) -> str:
    if not GUID.fullmatch(value):
        raise ValueError("must be a GUID (8-4-4-4-12 hexadecimal digits)")
    return value.lower()


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    if _SURROGATE.search(value):  # a lone "\ud800" escape: not Unicode text, and not storable as UTF-8
        raise ValueError("must be valid Unicode text (no unpaired surrogate escapes)")
    return value


def _no_query(value: str) -> str:
    if "?" in value:
        raise ValueError(SAS_REASON)
    if "#" in value:
        raise ValueError(FRAGMENT_REASON)
    return value


def split_query(location: str) -> tuple[str, str]:
    """``(base, suffix)``: the location up to its first ``?`` or ``#``, and the rest (``""`` if none).
    ``base`` is what the settings may show; ``suffix`` (a SAS query) stays in the app setting."""
    cut = min((i for i in (location.find("?"), location.find("#")) if i >= 0), default=len(location))
    return location[:cut], location[cut:]


def _dedupe(values: tuple[str, ...]) -> tuple[str, ...]:
    # Duplicates say nothing new; dropping them keeps the stored list canonical (order kept).
    return tuple(dict.fromkeys(values))


def _json_array(value: object) -> object:
    # Lists are stored as tuples so that Settings stays hashable (frozen); a JSON array arrives as a
    # list. Anything else is left for strict validation to refuse.
    return tuple(value) if isinstance(value, list) else value


def _json_array_deduped(value: object) -> object:
    # duplicates dropped before the length limit counts them
    value = _json_array(value)
    return tuple(dict.fromkeys(value)) if isinstance(value, tuple) and all(
        isinstance(v, str) for v in value) else value


Guid = Annotated[
    str,
    AfterValidator(_guid),
    Field(json_schema_extra={"format": "uuid", "pattern": GUID_PATTERN}),
]
# The schema says what validation does: at least one character that is not white space (values are
# trimmed), and no control characters anywhere.
_NOT_CONTROL = r"[^\u0000-\u001f\u007f-\u009f]"
_TEXT_PATTERN = rf"^{_NOT_CONTROL}*[^\s\u0000-\u001f\u007f-\u009f]{_NOT_CONTROL}*$"
Name = Annotated[
    str, Field(min_length=1, max_length=160, json_schema_extra={"pattern": _TEXT_PATTERN}),
    AfterValidator(_no_control),
]
# No "?" or "#" (a SAS query must not become a setting); the schema says so too, so generated
# clients and fuzzers know.
_NOT_CONTROL_OR_QUERY = r"[^?#\u0000-\u001f\u007f-\u009f]"
_FILE_PATTERN = (rf"^{_NOT_CONTROL_OR_QUERY}*[^\s?#\u0000-\u001f\u007f-\u009f]"
                 rf"{_NOT_CONTROL_OR_QUERY}*$")
FilePath = Annotated[
    str, Field(min_length=1, max_length=1024, json_schema_extra={"pattern": _FILE_PATTERN}),
    AfterValidator(_no_control), AfterValidator(_no_query),
]


def _finite(default: float, description: str, **limits: float) -> Any:
    return Field(default=default, description=description, allow_inf_nan=False, **limits)


_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True, str_strip_whitespace=True)


def _takes_int(annotation: Any) -> bool:
    """An ``int`` (or ``int | None``) field; ``bool`` is not one."""
    if annotation is int:
        return True
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    return union and int in typing.get_args(annotation)


class _SettingsModel(BaseModel):
    """Strict settings models. JSON has one number type: 570.0 is the integer 570 to a JSON Schema
    validator (and to the OpenAPI document clients are generated from), so an integer-valued number is
    accepted for an integer member; 570.5, a string or a boolean is still refused."""

    @model_validator(mode="before")
    @classmethod
    def _whole_numbers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        changed = None
        for name, info in cls.model_fields.items():
            value = data.get(name)
            if isinstance(value, float) and value.is_integer() and _takes_int(info.annotation):
                changed = changed or dict(data)
                changed[name] = int(value)
        return changed if changed is not None else data


#: "at most one of user_ids, team, role", as JSON Schema: no two of them given together (a list with
#: an item, or a string); so generated clients and fuzzers know what validation refuses
_GIVEN = {"user_ids": {"type": "array", "minItems": 1}, "team": {"type": "string"},
          "role": {"type": "string"}}
_ONE_SYNC_SOURCE = {"not": {"anyOf": [
    {"required": [a, b], "properties": {a: _GIVEN[a], b: _GIVEN[b]}}
    for a, b in (("user_ids", "team"), ("user_ids", "role"), ("team", "role"))
]}}


class SyncUsers(_SettingsModel):
    """Whose records are in scope. At most one of the three may be given; none = all enabled human
    users (docs/scan.md)."""

    model_config = ConfigDict(**_STRICT, json_schema_extra=_ONE_SYNC_SOURCE)

    user_ids: Annotated[tuple[Guid, ...], BeforeValidator(_json_array), AfterValidator(_dedupe)] = Field(
        default=(),
        max_length=MAX_SYNC_USER_IDS,
        description="systemuserid GUIDs of the sync users (stored lower-case, duplicates dropped).",
    )
    team: Name | None = Field(
        default=None, description="A team (name or teamid): its members' and the team's own records."
    )
    role: Name | None = Field(
        default=None,
        description="A security role (name or roleid): records of enabled users holding it directly.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> SyncUsers:
        given = [name for name in ("user_ids", "team", "role") if getattr(self, name)]
        if len(given) > 1:
            raise PydanticCustomError(
                "sync_users_conflict", "set at most one of user_ids, team, role ({given} given)",
                {"given": ", ".join(given)},
            )
        return self


ColumnName = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_]{0,99}$"),
]


class IdentitySettings(_SettingsModel):
    """Contact columns that identify the person besides name and emailaddress1 (docs/scan.md). Each
    named column must exist on contact and be readable (preflight checks it); changing them makes the
    next run read every contact once, and re-validates the contacts whose values changed."""

    model_config = _STRICT

    profile_url_columns: Annotated[tuple[ColumnName, ...], BeforeValidator(_json_array_deduped)] = Field(
        default=(), max_length=MAX_IDENTITY_COLUMNS,
        description="Logical names of contact text columns that may hold the LinkedIn profile URL (custom "
        "or from another integration), in order: the first value that is a LinkedIn profile URL counts.",
    )
    extra_email_columns: Annotated[tuple[ColumnName, ...], BeforeValidator(_json_array_deduped)] = Field(
        default=("emailaddress2", "emailaddress3"), max_length=MAX_IDENTITY_COLUMNS,
        description="Logical names of contact e-mail columns read besides emailaddress1.",
    )


class ProfileSourceSettings(_SettingsModel):
    """Which person-profile source the scan uses (docs/profile-sources.md). Keys and connection strings
    are app settings, never settings."""

    model_config = _STRICT

    kind: Literal["file", "pdl"] = Field(
        default="file",
        description='"file": a profile snapshot file; "pdl": People Data Labs (needs the PDL_API_KEY '
        "app setting).",
    )
    file: FilePath | None = Field(
        default=None,
        description="kind file: blob://<container>/<name> in the configured storage account, or the "
        "PROFILE_FILE app setting (a local path or blob URL) without its query; the API refuses other "
        "locations, which are set as the PROFILE_FILE app setting. No query string: a SAS token stays in "
        "the PROFILE_FILE app setting (it is re-attached when this is the same blob), or the app reads "
        "the blob with its managed identity.",
    )
    file_format: Literal["jsonl", "csv"] | None = Field(
        default=None, description="Format of the file; null: from the file name's extension."
    )
    pdl_min_likelihood: int = Field(
        default=6, ge=0, le=10, description="kind pdl: lowest PDL match likelihood accepted (0-10)."
    )
    pdl_max_lookups: int | None = Field(
        default=None, ge=0, le=MAX_LOOKUPS,
        description="kind pdl: most PDL look-ups per process run; null: unlimited.",
    )


def _matching_default(name: str) -> Any:
    return getattr(DEFAULT, name)


class MatchingSettings(_SettingsModel):
    """Thresholds of the verdict engine (docs/matching.md); the defaults are the engine's."""

    model_config = _STRICT

    employer_same_score: float = _finite(
        _matching_default("employer_same_score"),
        "Employer-name score (0-100) at or above which two names are the same company; must be "
        "greater than employer_different_score.", ge=0, le=100,
    )
    employer_different_score: float = _finite(
        _matching_default("employer_different_score"),
        "Employer-name score (0-100) at or below which names clearly differ; between the two is "
        "'related'.", ge=0, le=100,
    )
    acronym_policy: Literal["same", "related"] = Field(
        default=_matching_default("acronym_policy"),
        description="What an acronym equality (IBM / International Business Machines) means.",
    )
    employer_fuzzy_min_length: int = Field(
        default=_matching_default("employer_fuzzy_min_length"), ge=1, le=100,
        description="Shortest name (without spaces) a fuzzy score may call the same company.",
    )
    employer_typo_max_fraction: float = _finite(
        _matching_default("employer_typo_max_fraction"),
        "Names at most this fraction of edits apart are the same company (0 turns the rule off; "
        "below 0.5).", ge=0, lt=0.5,
    )
    employer_typo_min_length: int = Field(
        default=_matching_default("employer_typo_min_length"), ge=2, le=100,
        description="Shortest name (without spaces) the typo rule applies to.",
    )
    person_name_score: float = _finite(
        _matching_default("person_name_score"),
        "A given name or surname agrees at or above this score (above 0, at most 100).", gt=0, le=100,
    )
    min_match_likelihood: int = Field(
        default=_matching_default("min_match_likelihood"), ge=0, le=10,
        description="Profiles with a source likelihood below this are never a strong match (0-10).",
    )
    strong_name_with_email_domain: bool = Field(
        default=_matching_default("strong_name_with_email_domain"),
        description="Same name + another address at the account's e-mail domain counts as a strong match.",
    )
    max_profile_age_days: int = Field(
        default=_matching_default("max_profile_age_days"), ge=1, le=3650,
        description="'Left the company' needs profile data verified or changed within this many days.",
    )
    accept_stale_still_there: bool = Field(
        default=_matching_default("accept_stale_still_there"),
        description="Accept 'still there' from profiles older than max_profile_age_days.",
    )
    strong_name_with_account_history: bool = Field(
        default=_matching_default("strong_name_with_account_history"),
        description="Exactly the same full name + an ended job at the account identified by its LinkedIn "
        "page or web domain + source likelihood >= history_min_likelihood + no conflicting e-mail or "
        "profile URL counts as a strong match (finds movers whose CRM e-mail is an old one).",
    )
    history_min_likelihood: int = Field(
        default=_matching_default("history_min_likelihood"), ge=1, le=10,
        description="Source likelihood (1-10) the account-history match needs.",
    )
    builtin_corporate_groups: bool = Field(
        default=_matching_default("builtin_corporate_groups"),
        description="Use the corporate-group table shipped with the product (docs/corporate-groups.md).",
    )
    corporate_groups: Annotated[tuple[CorporateGroup, ...], BeforeValidator(_json_array)] = Field(
        default=(), max_length=MAX_ADMIN_GROUPS,
        description="Your own corporate groups (same schema as the shipped table): a move between two "
        "companies of one group is never 'left'; a former name is the same company. Looked up before "
        "the shipped table.",
    )

    @model_validator(mode="after")
    def _unique_group_ids(self) -> MatchingSettings:
        ids = [g.id for g in self.corporate_groups]
        if len(ids) != len(set(ids)):
            raise PydanticCustomError("group_ids", "group ids must be unique")
        return self

    @model_validator(mode="after")
    def _ordered(self) -> MatchingSettings:
        if not self.employer_different_score < self.employer_same_score:
            raise PydanticCustomError(
                "matching_score_order", "must be greater than matching.employer_different_score"
            )
        return self

    def to_matching_config(self) -> MatchingConfig:
        """The engine's config: these thresholds, the engine's own tables (aliases etc.) unchanged."""
        return MatchingConfig.from_mapping({**self.model_dump(exclude={"corporate_groups"}),
                                            "corporate_groups": self.corporate_groups})


assert set(ACRONYM_POLICIES) == {"same", "related"}, "MatchingSettings.acronym_policy is out of date"


class Settings(_SettingsModel):
    """The admin settings of data validation: GET /api/settings returns them, PATCH /api/settings
    takes a JSON merge patch (RFC 7396) of them. They hold no secrets."""

    # Python: build from parsed JSON with ``Settings.model_validate(data)``; ``to_json()`` is the inverse.

    model_config = _STRICT

    enabled: bool = Field(
        default=False,
        description="The 'Enable data validation' toggle. Enabling runs preflight checks, provisions the "
        "column and views and starts the first run; disabling stops future runs and leaves values in "
        "Dynamics as they are.",
    )
    dry_run: bool = Field(
        default=False, description="Compute and record everything, write nothing to Dataverse."
    )
    sync_users: SyncUsers = Field(default_factory=SyncUsers, description=SyncUsers.__doc__)
    profile_source: ProfileSourceSettings = Field(
        default_factory=ProfileSourceSettings, description=ProfileSourceSettings.__doc__
    )
    matching: MatchingSettings = Field(default_factory=MatchingSettings, description=MatchingSettings.__doc__)
    identity: IdentitySettings = Field(default_factory=IdentitySettings, description=IdentitySettings.__doc__)
    lookup_budget: int | None = Field(
        default=None, ge=0, le=MAX_LOOKUPS,
        description="Profile look-ups one run may make; the rest waits for the next run. null: unlimited.",
    )
    refresh_days: int = Field(
        default=30, ge=1, le=3650,
        description="Every contact in scope is re-validated at least this often (days, 1-3650).",
    )
    target_column: Literal["own", "msdyn_orgchangestatus"] = Field(
        default="own",
        description='"own": our provisioned choice column; "msdyn_orgchangestatus": Microsoft\'s "Not at '
        'Company Flag".',
    )

    @model_validator(mode="after")
    def _fits_one_table_property(self) -> Settings:
        # the document is stored as one Azure Table string property (64 KiB, UTF-16): a document that
        # would not fit is a bad request naming what makes it large, never a storage error
        text = json.dumps(self.model_dump(mode="json"), separators=(",", ":"), ensure_ascii=False)
        if len(text.encode("utf-16-le")) > MAX_DOCUMENT_BYTES:
            raise PydanticCustomError(
                "settings_too_large", "the settings document would be too large to store (at most "
                "{limit} bytes as UTF-16); use fewer or shorter matching.corporate_groups",
                {"limit": MAX_DOCUMENT_BYTES})
        return self

    def to_json(self) -> dict[str, Any]:
        """The JSON document (plain dicts/lists/str/int/float/bool/None)."""
        return self.model_dump(mode="json")

    @classmethod
    def patch_schema(cls, ref_template: str = "#/$defs/{model}") -> dict[str, Any]:
        """JSON schema of a ``PATCH /api/settings`` body: the settings schema with every member
        optional and nullable (null resets a member to its default). Nested models are renamed
        ``<Name>Patch`` (title ``SettingsPatch``) so both schemas can share one OpenAPI components
        section; ``ref_template`` is as in ``model_json_schema``."""
        return _patch_schema(cls.model_json_schema(ref_template="\x00{model}\x00"), ref_template)


#: models that only appear as array items: a merge patch replaces an array whole, so its items keep
#: their full schema (every required member required) in the patch schema
WHOLE_IN_PATCH = frozenset({"CorporateGroup", "GroupMember", "Rename"})


def _patch_schema(schema: dict[str, Any], ref_template: str) -> dict[str, Any]:
    schema = copy.deepcopy(schema)
    defs = schema.pop("$defs", {})
    marker = re.compile("\x00([^\x00]+)\x00")

    def rename(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    value = marker.sub(lambda m: ref_template.format(
                        model=m.group(1) if m.group(1) in WHOLE_IN_PATCH else f"{m.group(1)}Patch"), value)
                out[key] = rename(value)
            return out
        if isinstance(node, list):
            return [rename(item) for item in node]
        return node

    def loosen(model_schema: dict[str, Any], title: str) -> dict[str, Any]:
        model_schema = rename(model_schema)
        model_schema.pop("required", None)
        model_schema["title"] = title
        for name, prop in list(model_schema.get("properties", {}).items()):
            prop = dict(prop)
            prop.pop("default", None)  # the default is the Settings schema's; a patch has none
            meta = {k: prop.pop(k) for k in ("title", "description") if k in prop}
            variants = prop.pop("anyOf") if "anyOf" in prop else [prop]
            if not any(v.get("type") == "null" for v in variants):
                variants = [*variants, {"type": "null"}]
            model_schema["properties"][name] = {**meta, "anyOf": variants}
        return model_schema

    out = loosen(schema, "SettingsPatch")
    if defs:
        out["$defs"] = {
            (name if name in WHOLE_IN_PATCH else f"{name}Patch"):
                (rename(body) if name in WHOLE_IN_PATCH else loosen(body, f"{name}Patch"))
            for name, body in defs.items()
        }
    return out


# ------------------------------------------------------------------------------------------------
# Errors


def field_path(loc: tuple[int | str, ...]) -> str:
    """``("sync_users", "user_ids", 2)`` -> ``"sync_users.user_ids[2]"``; ``()`` -> ``""``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# Model-level rules are reported by pydantic at the model's location; these name the member that
# the admin has to change instead.
_MODEL_RULE_FIELD = {
    "matching_score_order": "employer_same_score",
    "settings_too_large": "matching.corporate_groups",
}
# pydantic's wording names Python classes; these say what a JSON client must send.
_REASONS = {
    "extra_forbidden": "unknown field",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "list_type": "must be a JSON array",
    "tuple_type": "must be a JSON array",
    "string_type": "must be a string",
    "string_unicode": "must be valid Unicode text (no unpaired surrogate escapes)",
    "bool_type": "must be true or false",
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "missing": "is required",
}


def errors_from(exc: ValidationError, prefix: tuple[int | str, ...] = ()) -> list[FieldError]:
    """Field errors from a pydantic error, without the input values (only ``msg``/type are used)."""
    out: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for error in exc.errors(include_input=False, include_url=False):
        loc = (*prefix, *error["loc"])
        if error["type"] in _MODEL_RULE_FIELD:
            loc = (*loc, _MODEL_RULE_FIELD[error["type"]])
        reason = _REASONS.get(error["type"]) or str(error["msg"]).removeprefix("Value error, ")
        item = (field_path(loc), reason)
        if item not in seen:
            seen.add(item)
            out.append(FieldError(*item))
    return out


# ------------------------------------------------------------------------------------------------
# Defaults

# Settings path -> the app setting that provides its default (for ConfigError messages).
_APP_SETTING_OF = {
    "enabled": "SCAN_ENABLED",
    "dry_run": "SCAN_DRY_RUN",
    "sync_users.user_ids": "SYNC_USER_IDS",
    "sync_users.team": "SYNC_TEAM",
    "sync_users.role": "SYNC_ROLE",
    "sync_users": "SYNC_USER_IDS",
    "profile_source.kind": "PROFILE_SOURCE",
    "profile_source.file": "PROFILE_FILE",
    "profile_source.file_format": "PROFILE_FILE_FORMAT",
    "profile_source.pdl_min_likelihood": "PDL_MIN_LIKELIHOOD",
    "profile_source.pdl_max_lookups": "PDL_MAX_LOOKUPS",
    "lookup_budget": "SCAN_LOOKUP_BUDGET",
    "refresh_days": "SCAN_REFRESH_DAYS",
    "target_column": "DATAVERSE_TARGET_COLUMN",
    "identity.profile_url_columns": "CONTACT_PROFILE_URL_COLUMNS",
    "identity.extra_email_columns": "CONTACT_EMAIL_COLUMNS",
}


def defaults_from_config(config: AppConfig) -> Settings:
    """What the settings are before anything was stored: the app settings (``SCAN_ENABLED``,
    ``SCAN_DRY_RUN``, ``SYNC_*``, ``PROFILE_*``/``PDL_*``, ``SCAN_LOOKUP_BUDGET``, ``SCAN_REFRESH_DAYS``,
    ``DATAVERSE_TARGET_COLUMN``) and the verdict engine's default thresholds.

    Raises ``ConfigError`` naming the app setting when one is valid for the app but not as a setting
    (e.g. more than ``MAX_SYNC_USER_IDS`` sync user ids)."""
    scan = config.scan
    profiles = config.profiles
    profile_source: dict[str, Any] = {}
    if profiles is not None:
        profile_source = {
            "kind": profiles.kind.value,
            # Without its query: a SAS token in PROFILE_FILE is a secret and stays an app setting
            # (effective_config puts it back for the same blob).
            "file": split_query(profiles.file)[0] or None if profiles.file is not None else None,
            "file_format": profiles.file_format,
            "pdl_min_likelihood": profiles.pdl_min_likelihood,
            "pdl_max_lookups": profiles.pdl_max_lookups,
        }
    data = {
        "enabled": scan.enabled,
        "dry_run": scan.dry_run,
        "sync_users": {"user_ids": list(scan.sync_user_ids), "team": scan.sync_team, "role": scan.sync_role},
        "profile_source": profile_source,
        "matching": {},
        "identity": {"profile_url_columns": list(scan.profile_url_columns),
                     "extra_email_columns": list(scan.extra_email_columns)},
        "lookup_budget": scan.lookup_budget,
        "refresh_days": scan.refresh_days,
        "target_column": config.dataverse.target_column.value,
    }
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in errors_from(exc):
            setting = _APP_SETTING_OF.get(error.field) or _APP_SETTING_OF.get(error.field.split("[")[0], "")
            problems.append(f"{setting or error.field}: {error.reason}")
        raise ConfigError("; ".join(problems)) from None
