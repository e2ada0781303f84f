"""Thin Azure Functions bindings. The only package that imports ``azure.functions``.

Each module exposes one ``Blueprint``; ``BLUEPRINTS`` lists them for ``function_app.py``.
The timer (daily scan), the settings API and the queue worker are added by their issues.
"""

import azure.functions as func

BLUEPRINTS: list[func.Blueprint] = []
