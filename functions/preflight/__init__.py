"""Preflight checks: is everything in place for a scan? (docs/doctor.md)

``run_preflight(config)`` -> :class:`PreflightReport` with one :class:`Check` per probe, in order:
config, storage, dataverse, privileges, change_tracking, languages, bulk_update, profile_source.
Used by ``python -m functions doctor`` and by the settings API before enabling the scan.
"""

from .checks import DEPENDS_ON, FILE_SAMPLE_ROWS, config_error_report, run_preflight
from .privileges import REQUIRED_PRIVILEGES, RequiredPrivilege
from .report import CHECK_NAMES, Check, CheckStatus, PreflightReport

__all__ = [
    "CHECK_NAMES",
    "DEPENDS_ON",
    "FILE_SAMPLE_ROWS",
    "REQUIRED_PRIVILEGES",
    "Check",
    "CheckStatus",
    "PreflightReport",
    "RequiredPrivilege",
    "config_error_report",
    "run_preflight",
]
