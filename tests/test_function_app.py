"""The Function App indexes offline (what the Functions host does at start-up)."""

from __future__ import annotations


def test_function_app_indexes_without_network() -> None:
    import function_app

    functions = function_app.app.get_functions()
    names = [f.get_function_name() for f in functions]
    assert len(names) == len(set(names))
