"""The daily scan: plan, validate in batches, write back, record (docs/scan.md).

``run_scan(config, ...) -> RunSummary`` runs one scan; the timer trigger and ``python -m functions
scan`` both call it. What it talks to comes from ``functions.services.Services``; the run record is
``functions.pipeline.summary.RunSummary``.
"""

from functions.pipeline.run import RunHooks, run_scan
from functions.pipeline.summary import RunSummary

__all__ = ["RunHooks", "RunSummary", "run_scan"]
