"""Admin settings (issue 5): the document model, merge-patch validation, and the effective run config.

The document and its rules only: no storage, Dataverse or pipeline imports (tests/test_import_layers.py).
Stored by ``functions.state.settings_store.SettingsStore``, which also reads the effective config of a
run (``load_effective``); changes audited by ``functions.state.audit.AuditLog``; enabling is
``functions.pipeline.enable``. docs/settings-api.md describes every setting.
"""

from functions.settings.effective import Effective, effective_config
from functions.settings.merge_patch import (
    PDL_KEY_SETTING,
    apply_merge_patch,
    profile_file_errors,
    validate_patch,
)
from functions.settings.model import (
    MAX_SYNC_USER_IDS,
    FieldError,
    MatchingSettings,
    ProfileSourceSettings,
    Settings,
    SettingsValidationError,
    SyncUsers,
    defaults_from_config,
)

__all__ = [
    "MAX_SYNC_USER_IDS",
    "PDL_KEY_SETTING",
    "Effective",
    "FieldError",
    "MatchingSettings",
    "ProfileSourceSettings",
    "Settings",
    "SettingsValidationError",
    "SyncUsers",
    "apply_merge_patch",
    "defaults_from_config",
    "effective_config",
    "profile_file_errors",
    "validate_patch",
]
