"""The settings model: defaults from app settings, strict validation, field paths, the patch schema."""

from __future__ import annotations

import json
import math

import pytest
from pydantic import ValidationError

from functions.config import ConfigError, load_config
from functions.matching.config import DEFAULT
from functions.settings import (
    MAX_SYNC_USER_IDS,
    FieldError,
    Settings,
    SettingsValidationError,
    defaults_from_config,
    validate_patch,
)
from functions.settings.model import SAS_REASON, errors_from

BASE_ENV = {"DATAVERSE_URL": "http://127.0.0.1:5555", "DATAVERSE_AUTH": "local"}
GUID_A = "8F2C1E4A-1B2C-4D5E-8F90-A1B2C3D4E5F6"
GUID_B = "00000000-0000-0000-0000-0000000000b2"


def _defaults(**env: str) -> Settings:
    return defaults_from_config(load_config({**BASE_ENV, **env}))


def _errors(patch: object, current: Settings | None = None, *, secrets: object = frozenset()
            ) -> list[FieldError]:
    base = current or _defaults(PROFILE_FILE="/data/profiles.jsonl")
    with pytest.raises(SettingsValidationError) as info:
        validate_patch(base, patch, defaults=base, secrets_present=secrets)  # type: ignore[arg-type]
    return info.value.errors


def _fields(patch: object, current: Settings | None = None) -> dict[str, str]:
    return {e.field: e.reason for e in _errors(patch, current)}


# --- defaults -----------------------------------------------------------------------------------


def test_defaults_without_app_settings_are_the_documented_ones() -> None:
    settings = _defaults()
    doc = settings.to_json()
    assert doc["enabled"] is False
    assert doc["dry_run"] is False
    assert doc["sync_users"] == {"user_ids": [], "team": None, "role": None}
    assert doc["profile_source"] == {"kind": "file", "file": None, "file_format": None,
                                     "pdl_min_likelihood": 6, "pdl_max_lookups": None}
    assert doc["lookup_budget"] is None
    assert doc["refresh_days"] == 30
    assert doc["target_column"] == "own"
    # The thresholds are the engine's defaults, not a second copy of them.
    engine = DEFAULT.to_dict()
    assert {k: engine[k] for k in doc["matching"]} == doc["matching"]
    assert settings.matching.to_matching_config().to_dict() == engine


def test_defaults_come_from_the_app_settings() -> None:
    settings = _defaults(
        SCAN_ENABLED="true", SCAN_DRY_RUN="true", SYNC_USER_IDS=f"{GUID_A}, {GUID_B}",
        PROFILE_SOURCE="pdl", PDL_API_KEY="secret-key-value", PDL_MIN_LIKELIHOOD="8", PDL_MAX_LOOKUPS="500",
        SCAN_LOOKUP_BUDGET="1000", SCAN_REFRESH_DAYS="14", DATAVERSE_TARGET_COLUMN="msdyn_orgchangestatus",
    )
    doc = settings.to_json()
    assert doc["enabled"] is True
    assert doc["dry_run"] is True
    assert doc["sync_users"]["user_ids"] == [GUID_A.lower(), GUID_B]
    assert doc["profile_source"]["kind"] == "pdl"
    assert doc["profile_source"]["pdl_min_likelihood"] == 8
    assert doc["profile_source"]["pdl_max_lookups"] == 500
    assert doc["lookup_budget"] == 1000
    assert doc["refresh_days"] == 14
    assert doc["target_column"] == "msdyn_orgchangestatus"
    assert "secret-key-value" not in json.dumps(doc)  # no secret is a setting


def test_defaults_with_team_and_file() -> None:
    doc = _defaults(SYNC_TEAM=" Sales EMEA ", PROFILE_FILE="blob://profiles/snap.csv",
                    PROFILE_FILE_FORMAT="csv").to_json()
    assert doc["sync_users"]["team"] == "Sales EMEA"
    assert doc["profile_source"]["file"] == "blob://profiles/snap.csv"
    assert doc["profile_source"]["file_format"] == "csv"


def test_app_settings_that_cannot_be_settings_are_named() -> None:
    ids = ",".join(f"00000000-0000-0000-0000-{n:012x}" for n in range(MAX_SYNC_USER_IDS + 1))
    with pytest.raises(ConfigError, match="SYNC_USER_IDS"):
        _defaults(SYNC_USER_IDS=ids)
    with pytest.raises(ConfigError, match="SYNC_TEAM"):
        _defaults(SYNC_TEAM="t" * 161)


# --- validation ---------------------------------------------------------------------------------


def test_valid_patch_changes_only_what_it_names() -> None:
    base = _defaults(PROFILE_FILE="/data/p.jsonl")
    new = validate_patch(base, {"dry_run": True, "matching": {"employer_same_score": 95}},
                         defaults=base, secrets_present=set())
    assert new.dry_run is True
    assert new.matching.employer_same_score == 95.0
    assert new.to_json() | {"dry_run": False, "matching": base.to_json()["matching"]} == base.to_json()


def test_guids_are_lower_cased_trimmed_and_deduplicated() -> None:
    base = _defaults()
    new = validate_patch(base, {"sync_users": {"user_ids": [f" {GUID_A} ", GUID_A.lower(), GUID_B]}},
                         defaults=base, secrets_present=set())
    assert new.sync_users.user_ids == (GUID_A.lower(), GUID_B)


@pytest.mark.parametrize(
    ("patch", "field", "reason"),
    [
        ({"enabled": 1}, "enabled", "must be true or false"),
        ({"enabled": "true"}, "enabled", "must be true or false"),
        ({"dry_run": 0}, "dry_run", "must be true or false"),
        ({"refresh_days": 1.5}, "refresh_days", "must be an integer"),
        ({"refresh_days": True}, "refresh_days", "must be an integer"),
        ({"refresh_days": "30"}, "refresh_days", "must be an integer"),
        ({"refresh_days": 0}, "refresh_days", "greater than or equal to 1"),
        ({"refresh_days": 3651}, "refresh_days", "less than or equal to 3650"),
        ({"lookup_budget": -1}, "lookup_budget", "greater than or equal to 0"),
        ({"lookup_budget": 10**40}, "lookup_budget", "less than or equal to"),
        ({"target_column": "other"}, "target_column", "'own' or 'msdyn_orgchangestatus'"),
        ({"matching": {"employer_same_score": math.nan}}, "matching.employer_same_score", "finite"),
        ({"matching": {"person_name_score": math.inf}}, "matching.person_name_score", "finite"),
        ({"matching": {"person_name_score": -math.inf}}, "matching.person_name_score", "finite"),
        ({"matching": {"employer_same_score": 101}}, "matching.employer_same_score", "less than or equal"),
        ({"matching": {"employer_same_score": True}}, "matching.employer_same_score", "must be a number"),
        ({"matching": {"employer_same_score": "90"}}, "matching.employer_same_score", "must be a number"),
        ({"matching": {"employer_same_score": 50}}, "matching.employer_same_score",
         "greater than matching.employer_different_score"),
        ({"matching": {"employer_typo_max_fraction": 0.5}}, "matching.employer_typo_max_fraction",
         "less than"),
        ({"matching": {"person_name_score": 0}}, "matching.person_name_score", "greater than 0"),
        ({"matching": {"min_match_likelihood": 11}}, "matching.min_match_likelihood", "less than or equal"),
        ({"matching": {"acronym_policy": "never"}}, "matching.acronym_policy", "'same' or 'related'"),
        ({"matching": {"strong_name_with_email_domain": "yes"}}, "matching.strong_name_with_email_domain",
         "must be true or false"),
        ({"matching": {"max_profile_age_days": 0}}, "matching.max_profile_age_days", "greater than or equal"),
        ({"matching": {"employer_typo_min_length": 1}}, "matching.employer_typo_min_length", "greater"),
        ({"matching": {"employer_fuzzy_min_length": 10**30}}, "matching.employer_fuzzy_min_length", "less"),
        ({"matching": {"foo": 1}}, "matching.foo", "unknown field"),
        ({"matching": {"foo": {"bar": {"baz": 1}}}}, "matching.foo", "unknown field"),
        ({"matching": {"foo": None}}, "matching.foo", "unknown field"),
        ({"nonsense": None}, "nonsense", "unknown field"),
        ({"nonsense": 1}, "nonsense", "unknown field"),
        ({"matching": 5}, "matching", "must be a JSON object"),
        ({"matching": [1]}, "matching", "must be a JSON object"),
        ({"sync_users": "me"}, "sync_users", "must be a JSON object"),
        ({"sync_users": {"user_ids": "x"}}, "sync_users.user_ids", "must be a JSON array"),
        ({"sync_users": {"user_ids": [GUID_A, GUID_B, "not-a-guid"]}}, "sync_users.user_ids[2]", "GUID"),
        ({"sync_users": {"user_ids": [GUID_A, 5]}}, "sync_users.user_ids[1]", "must be a string"),
        ({"sync_users": {"user_ids": [GUID_A.replace("-", "")]}}, "sync_users.user_ids[0]", "GUID"),
        ({"sync_users": {"user_ids": ["{" + GUID_A + "}"]}}, "sync_users.user_ids[0]", "GUID"),
        ({"sync_users": {"user_ids": [f"00000000-0000-0000-0000-{n:012x}"
                                      for n in range(MAX_SYNC_USER_IDS + 1)]}},
         "sync_users.user_ids", "at most 200"),
        ({"sync_users": {"team": "t" * 161}}, "sync_users.team", "at most 160 characters"),
        ({"sync_users": {"team": "   "}}, "sync_users.team", "at least 1 character"),
        ({"sync_users": {"role": "Sales\nManager"}}, "sync_users.role", "control characters"),
        ({"sync_users": {"team": "Sales", "role": "Manager"}}, "sync_users", "at most one"),
        ({"sync_users": {"team": "Sales", "user_ids": [GUID_A]}}, "sync_users", "at most one"),
        ({"profile_source": {"kind": "linkedin"}}, "profile_source.kind", "'file' or 'pdl'"),
        ({"profile_source": {"file": "f" * 1025}}, "profile_source.file", "at most 1024 characters"),
        ({"profile_source": {"file_format": "xml"}}, "profile_source.file_format", "'jsonl' or 'csv'"),
        ({"profile_source": {"pdl_min_likelihood": 11}}, "profile_source.pdl_min_likelihood", "less"),
        ({"profile_source": {"pdl_max_lookups": -5}}, "profile_source.pdl_max_lookups", "greater"),
        ({"profile_source": {"kind": "pdl"}}, "profile_source.kind", "PDL_API_KEY app setting is not set"),
    ],
)
def test_every_invalid_member_is_named_with_its_path(patch: dict, field: str, reason: str) -> None:
    errors = _fields(patch)
    assert field in errors, errors
    assert reason in errors[field]


@pytest.mark.parametrize("body", [[], [1], "x", 5, 1.5, True, None])
def test_a_body_that_is_not_an_object_is_an_error_of_the_body(body: object) -> None:
    assert _fields(body) == {"": "must be a JSON object (a JSON merge patch)"}


def test_deeply_nested_bodies_are_refused_without_recursing() -> None:
    deep: object = 1
    for _ in range(50_000):  # far beyond Python's recursion limit
        deep = {"a": deep} if isinstance(deep, list) else [deep]
    assert _fields({"matching": {"employer_same_score": deep}}) == {"": "is nested more than 16 levels deep"}
    assert _fields({"unknown": deep}) == {"": "is nested more than 16 levels deep"}


def test_all_problems_are_reported_together() -> None:
    errors = _fields({"enabled": "yes", "refresh_days": 0, "extra": 1,
                      "matching": {"x": 1, "person_name_score": 0}})
    assert set(errors) == {"enabled", "refresh_days", "extra", "matching.x", "matching.person_name_score"}


def test_reasons_never_echo_the_submitted_values() -> None:
    marker = "LEAKME-7f3a"
    patch = {
        "enabled": marker, "refresh_days": marker, "target_column": marker, marker: marker,
        "sync_users": {"user_ids": [marker], "team": marker * 100},
        "profile_source": {"kind": marker, "file_format": marker, "file": marker * 200},
        "matching": {"acronym_policy": marker, marker: {marker: marker}},
    }
    errors = _errors(patch)
    assert len(errors) >= 9
    assert not any(marker in e.reason for e in errors)


def test_kind_file_needs_a_file_when_the_source_changes_or_on_enable() -> None:
    base = _defaults()  # no PROFILE_* app settings: kind file, no file
    assert base.profile_source.file is None
    # Unrelated changes are fine while the source is incomplete ...
    assert validate_patch(base, {"dry_run": True}, defaults=base, secrets_present=set()).dry_run
    # ... but enabling, or touching the profile source, needs it complete.
    assert _fields({"enabled": True}, base) == {"profile_source.file": 'is required when kind is "file"'}
    assert _fields({"profile_source": {"file_format": "csv"}}, base) == {
        "profile_source.file": 'is required when kind is "file"'}
    new = validate_patch(base, {"enabled": True, "profile_source": {"file": "/data/p.csv"}},
                         defaults=base, secrets_present=set())
    assert new.enabled
    assert new.profile_source.file == "/data/p.csv"


def test_pdl_needs_the_key_app_setting_given_as_set_or_predicate() -> None:
    base = _defaults(PROFILE_FILE="/data/p.jsonl")
    for secrets in ({"PDL_API_KEY"}, lambda name: name == "PDL_API_KEY"):
        new = validate_patch(base, {"profile_source": {"kind": "pdl"}}, defaults=base,
                             secrets_present=secrets)
        assert new.profile_source.kind == "pdl"
    assert _fields({"profile_source": {"kind": "pdl"}}, base) == {
        "profile_source.kind": "PDL_API_KEY app setting is not set"}


def test_settings_model_is_strict_frozen_and_hashable() -> None:
    settings = Settings.model_validate({"sync_users": {"user_ids": [GUID_B]}})
    assert hash(settings) == hash(Settings.model_validate(settings.to_json()))
    assert settings.to_json()["sync_users"]["user_ids"] == [GUID_B]
    with pytest.raises(ValidationError):
        settings.enabled = True  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Settings.model_validate({"enabled": 1})
    assert Settings.model_validate(settings.to_json()) == settings
    custom = Settings.model_validate({"matching": {"employer_same_score": 91}})
    assert custom.matching.employer_same_score == 91.0


def test_matching_settings_cover_every_scalar_of_the_engine() -> None:
    scalars = {k for k, v in DEFAULT.to_dict().items() if isinstance(v, bool | int | float | str)}
    assert set(Settings().matching.model_dump()) == scalars | {"corporate_groups"}


# --- schemas ------------------------------------------------------------------------------------


def test_patch_schema_makes_every_member_optional_and_nullable() -> None:
    schema = Settings.patch_schema()
    assert schema["title"] == "SettingsPatch"
    assert "required" not in schema
    assert set(schema["properties"]) == set(Settings.model_fields)
    objects = [schema, *schema["$defs"].values()]
    assert {d["title"] for d in schema["$defs"].values()} == {
        "SyncUsersPatch", "ProfileSourceSettingsPatch", "MatchingSettingsPatch", "IdentitySettingsPatch",
        "CorporateGroup", "GroupMember", "Rename"}
    # array items are replaced whole by a merge patch: they keep their required members
    assert schema["$defs"]["CorporateGroup"]["required"] == ["id", "name"]
    objects = [o for o in objects if o["title"].endswith("Patch")]
    for obj in objects:
        assert "required" not in obj
        assert obj["additionalProperties"] is False
        for prop in obj["properties"].values():
            assert {"type": "null"} in prop["anyOf"]
            assert "default" not in prop
    text = json.dumps(schema)
    assert '"$ref": "#/$defs/MatchingSettingsPatch"' in text
    assert "\x00" not in text
    # Constraints come from the same model: ranges, enums, GUID pattern.
    refresh = schema["properties"]["refresh_days"]["anyOf"][0]
    assert refresh == {"maximum": 3650, "minimum": 1, "type": "integer"}
    ids = schema["$defs"]["SyncUsersPatch"]["properties"]["user_ids"]["anyOf"][0]
    assert ids["maxItems"] == MAX_SYNC_USER_IDS
    assert ids["items"]["format"] == "uuid"
    assert "description" in schema["properties"]["enabled"]


def test_patch_schema_ref_template_for_openapi_components() -> None:
    schema = Settings.patch_schema(ref_template="#/components/schemas/{model}")
    assert '"#/components/schemas/SyncUsersPatch"' in json.dumps(schema)
    full = Settings.model_json_schema(ref_template="#/components/schemas/{model}")
    # Both schemas can share one components section: a name used twice is the same schema
    for name in set(full["$defs"]) & set(schema["$defs"]):
        assert full["$defs"][name] == schema["$defs"][name], name


def test_every_field_has_a_description() -> None:
    schema = Settings.model_json_schema()
    for obj in [schema, *schema["$defs"].values()]:
        for name, prop in obj["properties"].items():
            assert prop.get("description") or "$ref" in json.dumps(prop), name


@pytest.mark.parametrize("team", ["Sales", " Sales ", "Vertrieb Süd", "   ", "", "a\nb", "a\x7fb", "\u00a0",
                                  "x" * 160])
def test_schema_pattern_of_names_agrees_with_validation(team: str) -> None:
    import re

    schema = Settings.model_json_schema()["$defs"]["SyncUsers"]["properties"]["team"]["anyOf"][0]
    by_schema = bool(re.match(schema["pattern"], team)) and len(team) <= schema["maxLength"]
    try:
        Settings.model_validate({"sync_users": {"team": team}})
        by_model = True
    except ValidationError:
        by_model = False
    assert by_schema == by_model


@pytest.mark.parametrize(("file", "reason"), [
    ("https://a.blob.core.windows.net/c/p.jsonl?sv=2025-01-05&sig=SECRETVALUE", SAS_REASON),
    ("/data/p.jsonl?x", SAS_REASON),
    ("https://a.blob.core.windows.net/c/p.jsonl#SECRETVALUE", "must not contain a fragment ('#...')"),
])
def test_profile_file_refuses_a_query_or_fragment(file: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings.model_validate({"profile_source": {"file": file}})
    errors = errors_from(caught.value)
    assert [(e.field, e.reason) for e in errors] == [("profile_source.file", reason)]
    assert "SECRETVALUE" not in str(errors)


def test_integer_valued_numbers_are_integers_as_in_the_json_schema() -> None:
    # the OpenAPI schema says "integer", which JSON Schema validators accept for 570.0
    matching = {"max_profile_age_days": 200.0, "history_min_likelihood": 9.0}
    settings = Settings.model_validate({"refresh_days": 570.0, "lookup_budget": 10.0, "matching": matching,
                                        "profile_source": {"pdl_min_likelihood": 7.0}})
    assert (settings.refresh_days, settings.lookup_budget) == (570, 10)
    assert isinstance(settings.refresh_days, int)
    assert (settings.matching.max_profile_age_days, settings.matching.history_min_likelihood) == (200, 9)
    assert settings.matching.employer_same_score == 90.0  # float members stay floats


def test_the_schema_says_at_most_one_sync_source_as_validation_does() -> None:
    import jsonschema_rs

    schema = Settings.model_json_schema()
    sync = jsonschema_rs.validator_for({**schema["$defs"]["SyncUsers"], "$defs": schema["$defs"]})
    guid = "00000000-0000-0000-0000-000000000001"
    for given in ({"team": "Sales", "role": "Seller"}, {"user_ids": [guid], "team": "Sales"},
                  {"user_ids": [guid], "role": "Seller"}):
        assert not sync.is_valid(given), given
        with pytest.raises(ValueError, match="at most one"):
            Settings.model_validate({"sync_users": given})
    for fine in ({"team": "Sales"}, {"user_ids": [], "team": "Sales", "role": None}, {}):
        assert sync.is_valid(fine), fine
        Settings.model_validate({"sync_users": fine})
