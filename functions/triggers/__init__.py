"""Thin Azure Functions bindings. The only package that imports ``azure.functions``.

Each module exposes one ``Blueprint``; ``BLUEPRINTS`` lists them for ``function_app.py``: the daily
scan timer, the queue worker that runs requested scans, the fan-out's batch worker, and the settings
API. Each stays thin (parse,
call the pipeline or the API, log); the logic lives in ``functions.pipeline`` and ``functions.api``.
"""

import azure.functions as func

from functions.triggers.admin_api import bp as admin_api_bp
from functions.triggers.batch_worker import bp as batch_worker_bp
from functions.triggers.run_worker import bp as run_worker_bp
from functions.triggers.scan_timer import bp as scan_timer_bp

BLUEPRINTS: list[func.Blueprint] = [scan_timer_bp, run_worker_bp, batch_worker_bp, admin_api_bp]
