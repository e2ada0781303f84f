"""The config a run actually uses: the app settings with the admin settings laid over them.

Pure: reading the stored settings is ``functions.state.settings_store.load_effective``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from functions.config import AppConfig, ProfileSourceConfig, ProfileSourceKind, TargetColumn
from functions.matching.config import MatchingConfig
from functions.settings.model import Settings, split_query

__all__ = ["Effective", "effective_config"]


@dataclass(frozen=True, eq=False)
class Effective:
    """``config``: the app config with the settings applied; ``matching``: the verdict thresholds;
    ``settings``: the settings they came from (stored, or the defaults)."""

    config: AppConfig
    matching: MatchingConfig
    settings: Settings


def _profiles(config: AppConfig, settings: Settings) -> ProfileSourceConfig | None:
    source = settings.profile_source
    # Everything that is not a setting (keys, connection strings, URLs, batch sizes, retries) stays as
    # the app settings have it; the settings only choose the source and its limits.
    values: dict[str, Any] = config.profiles.model_dump() if config.profiles is not None else {
        "storage_connection": config.storage_connection,  # blob:// files fall back to state storage
    }
    values.update(
        kind=ProfileSourceKind(source.kind),
        file=_with_app_setting_query(config, source.file),
        file_format=source.file_format,
        pdl_min_likelihood=source.pdl_min_likelihood,
        pdl_max_lookups=source.pdl_max_lookups,
    )
    try:
        return ProfileSourceConfig(**values)
    except ValidationError:
        # Incomplete (kind file without a file, pdl without PDL_API_KEY): "not configured", which a run
        # reports as a ConfigError naming PROFILE_FILE / PDL_API_KEY, and preflight as a failed check.
        return None


def _with_app_setting_query(config: AppConfig, file: str | None) -> str | None:
    """The settings' file, with the query (SAS token) of the PROFILE_FILE app setting put back when
    both name the same blob: settings never hold a query, the app setting may."""
    configured = config.profiles.file if config.profiles is not None else None
    if file is None or not configured:
        return file
    base, query = split_query(configured)
    return configured if query and base == file else file


def effective_config(config: AppConfig, settings: Settings) -> Effective:
    """``config`` with ``scan.enabled``, ``scan.dry_run``, ``scan.sync_*``, ``scan.lookup_budget``,
    ``scan.refresh_days``, ``dataverse.target_column`` and the profile source (kind, file, file_format,
    pdl_min_likelihood, pdl_max_lookups) taken from ``settings``; ``profiles`` is ``None`` when the
    resulting profile source is incomplete. Never raises for valid ``Settings``."""
    users = settings.sync_users
    scan = config.scan.model_copy(update={
        "enabled": settings.enabled,
        "dry_run": settings.dry_run,
        "sync_user_ids": tuple(users.user_ids),
        "sync_team": users.team,
        "sync_role": users.role,
        "lookup_budget": settings.lookup_budget,
        "refresh_days": settings.refresh_days,
        "profile_url_columns": tuple(settings.identity.profile_url_columns),
        "extra_email_columns": tuple(settings.identity.extra_email_columns),
    })
    dataverse = config.dataverse.model_copy(update={"target_column": TargetColumn(settings.target_column)})
    effective = config.model_copy(update={
        "scan": scan, "dataverse": dataverse, "profiles": _profiles(config, settings),
    })
    return Effective(config=effective, matching=settings.matching.to_matching_config(), settings=settings)
