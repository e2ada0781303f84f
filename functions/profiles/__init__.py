"""Person-profile sources: find each CRM contact's current profile, in bulk.

``ProfileSource.lookup(queries)`` answers many ``ProfileQuery``s at once with a ``Profile`` (see
``functions.matching.records``) or None each. Sources: ``FileSnapshotSource`` (JSONL/CSV, local or
Azure Blob) and ``PeopleDataLabsSource`` (PDL bulk person enrichment). ``build_profile_source``
builds the one the app settings name. A source that holds its whole population (the file) is also a
``ProfileCatalog``: ``version()``, ``profile_hashes()``, ``iter_profiles()``. Schema and settings:
docs/profile-sources.md.
"""

from .base import (
    LookupResult,
    LookupStats,
    ProfileCatalog,
    ProfileQuery,
    ProfileSource,
    ProfileSourceAuthError,
    ProfileSourceConfigError,
    ProfileSourceError,
    ProfileSourceUnavailable,
    normalise_email,
    normalise_profile_url,
    profile_content_hash,
    with_content_hash,
)
from .file_snapshot import CSV_COLUMNS, FileSnapshotSource, SnapshotStats
from .pdl import PeopleDataLabsSource
from .pdl_records import pdl_record_to_profile
from .settings import build_profile_source

__all__ = [
    "CSV_COLUMNS",
    "FileSnapshotSource",
    "LookupResult",
    "LookupStats",
    "PeopleDataLabsSource",
    "ProfileCatalog",
    "ProfileQuery",
    "ProfileSource",
    "ProfileSourceAuthError",
    "ProfileSourceConfigError",
    "ProfileSourceError",
    "ProfileSourceUnavailable",
    "SnapshotStats",
    "build_profile_source",
    "normalise_email",
    "normalise_profile_url",
    "pdl_record_to_profile",
    "profile_content_hash",
    "with_content_hash",
]
