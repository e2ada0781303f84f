"""The Function App indexes offline (what the Functions host does at start-up), and its bindings are the
ones the settings API promises (issue 5): every route behind a function key except health, the daily
timer, and the queue worker that runs requested scans."""

from __future__ import annotations

import json
from typing import Any

import pytest

# route (relative to the "api" prefix) -> (methods it must serve, auth level the host must enforce)
EXPECTED_ROUTES: dict[str, tuple[set[str], str]] = {
    "settings": ({"GET", "PATCH"}, "FUNCTION"),
    "status": ({"GET"}, "FUNCTION"),
    "runs": ({"GET", "POST"}, "FUNCTION"),
    "runs/{run_id}": ({"GET"}, "FUNCTION"),
    "contacts/{contact_id}/validation": ({"GET"}, "FUNCTION"),
    "audit": ({"GET"}, "FUNCTION"),
    "openapi.json": ({"GET"}, "FUNCTION"),
    "health": ({"GET"}, "ANONYMOUS"),
}
RUN_QUEUE_NAME = "data-validation-runs"
BATCH_QUEUE_NAME = "data-validation-batches"


def _functions() -> list[Any]:
    import function_app

    # azure-functions 1.26 remembers the names one get_functions() call saw and rejects them as
    # duplicates on the next call in the same process (the real host indexes once): forget them
    function_app.app.functions_bindings = None
    return function_app.app.get_functions()


def _bindings() -> list[tuple[str, dict[str, Any]]]:
    """(function name, trigger binding) for every registered function, as the host reads them."""
    found = []
    for function in _functions():
        document = json.loads(function.get_function_json())
        triggers = [b for b in document["bindings"] if str(b.get("type", "")).endswith("Trigger")]
        assert len(triggers) == 1, (function.get_function_name(), document)
        found.append((function.get_function_name(), triggers[0]))
    return found


def _http_routes() -> dict[str, list[dict[str, Any]]]:
    routes: dict[str, list[dict[str, Any]]] = {}
    for _name, binding in _bindings():
        if binding["type"] == "httpTrigger":
            routes.setdefault(str(binding["route"]).strip("/"), []).append(binding)
    return routes


def test_function_app_indexes_without_network() -> None:
    functions = _functions()
    names = [f.get_function_name() for f in functions]
    assert len(names) == len(set(names))


def test_every_api_route_is_registered_with_its_methods() -> None:
    routes = _http_routes()
    assert set(routes) == set(EXPECTED_ROUTES), "unexpected or missing HTTP routes"
    for route, (methods, _level) in EXPECTED_ROUTES.items():
        served = {m.upper() for binding in routes[route] for m in binding.get("methods") or ()}
        assert served == methods, route
        # one function per (route, method): the host would otherwise pick one arbitrarily
        per_method = [m.upper() for binding in routes[route] for m in binding.get("methods") or ()]
        assert len(per_method) == len(set(per_method)), route


@pytest.mark.parametrize("route", sorted(EXPECTED_ROUTES))
def test_route_auth_level(route: str) -> None:
    """Function key on every route but health (anonymous, reveals nothing)."""
    _methods, level = EXPECTED_ROUTES[route]
    bindings = _http_routes()[route]
    assert {str(b["authLevel"]).upper() for b in bindings} == {level}


def test_timer_trigger_runs_the_daily_scan_on_the_configured_schedule() -> None:
    timers = [(n, b) for n, b in _bindings() if b["type"] == "timerTrigger"]
    assert len(timers) == 1
    _name, binding = timers[0]
    assert binding["schedule"] == "%SCAN_SCHEDULE%"
    # a restart or a scale-out must never start an extra scan
    assert binding.get("runOnStartup") is False


def test_queue_triggers_drain_the_run_request_and_batch_queues() -> None:
    queues = {n: b for n, b in _bindings() if b["type"] == "queueTrigger"}
    assert {b["queueName"] for b in queues.values()} == {RUN_QUEUE_NAME, BATCH_QUEUE_NAME}
    assert queues["batch_worker"]["queueName"] == BATCH_QUEUE_NAME
    assert all(b["connection"] == "AzureWebJobsStorage" for b in queues.values())


def test_no_other_triggers() -> None:
    assert {b["type"] for _n, b in _bindings()} == {"timerTrigger", "queueTrigger", "httpTrigger"}
