"""Build the profile source the settings name (settings: ``functions.config.ProfileSourceConfig``)."""

from __future__ import annotations

from functions.config import ProfileSourceConfig, ProfileSourceKind

from .base import ProfileSource
from .file_snapshot import FileSnapshotSource
from .pdl import PeopleDataLabsSource

__all__ = ["build_profile_source"]


def build_profile_source(
    settings: ProfileSourceConfig, *, blob_service: object | None = None
) -> ProfileSource:
    """The configured source: ``FileSnapshotSource`` or ``PeopleDataLabsSource``."""
    if settings.kind is ProfileSourceKind.PDL:
        assert settings.pdl_api_key is not None  # checked by the model
        return PeopleDataLabsSource(
            settings.pdl_api_key.get_secret_value(),
            base_url=settings.pdl_base_url,
            min_likelihood=settings.pdl_min_likelihood,
            batch_size=settings.pdl_batch_size,
            timeout=settings.pdl_timeout_seconds,
            max_retries=settings.pdl_max_retries,
            max_lookups=settings.pdl_max_lookups,
        )
    assert settings.file is not None
    return FileSnapshotSource(
        settings.file,
        blob_service=blob_service,
        connection_string=settings.storage_connection.get_secret_value()
        if settings.storage_connection
        else None,
        account_url=settings.storage_account_url,
        format=settings.file_format,
        index_dir=settings.index_dir,
    )
