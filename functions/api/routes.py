"""The settings API's routes: the one table that declares them, and ``handle`` to run one.

The route functions live per resource in ``routes_settings.py`` (settings, status, audit, OpenAPI,
health) and ``routes_runs.py`` (runs, contact verdicts); importing them here registers them in
``ROUTES`` (``routing.py``), so whoever imports this module sees the complete table. The Functions
bindings (``functions/triggers/admin_api.py``) and the OpenAPI document are generated from it.

Status codes: 200/202 success; 400 bad input (field and reason in ``errors``); 401/403 auth; 404
unknown run or contact; 409 disabled, a run already active, or an enable in progress; 412 stale
``If-Match``; 413 body over 64 KiB; 415 not JSON; 422 enabling refused by preflight or provisioning;
428 ``If-Match`` missing; 503 configuration, state storage or stored settings unusable (names the
settings or fields, never values), or enabling took too long; 500 only for a bug (logged with the
request id, no internals in the body).
"""

from __future__ import annotations

from functions.api import routes_runs, routes_settings
from functions.api.http import IF_MATCH_PATTERN
from functions.api.routing import API_PREFIX, ROUTES, Call, QueryParam, Reply, RouteSpec, handle

__all__ = ["API_PREFIX", "IF_MATCH_PATTERN", "ROUTES", "Call", "QueryParam", "Reply", "RouteSpec", "handle",
           "routes_runs", "routes_settings"]
