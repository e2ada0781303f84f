"""The daily scan: plan, validate in batches, write back, record (docs/scan.md).

``run_scan(config, ...) -> RunSummary`` runs one scan; the timer trigger and ``python -m functions
scan`` both call it.
"""

from functions.pipeline.run import RunHooks, ScanServices, run_scan
from functions.pipeline.summary import RunSummary

__all__ = ["RunHooks", "RunSummary", "ScanServices", "run_scan"]
