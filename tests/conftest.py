"""Shared fixtures: Azurite for storage tests, the Dataverse emulator (tests/fixtures_emulator.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from localdev.azurite import Azurite

pytest_plugins = ["tests.fixtures_emulator"]


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    """One in-memory Azurite for the whole test run, on free loopback ports, stopped at the end."""
    with Azurite() as server:
        yield server


@pytest.fixture
def table_service(azurite: Azurite):
    from azure.data.tables import TableServiceClient

    return TableServiceClient.from_connection_string(azurite.connection_string)


class _HeaderRecorder(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.seen.append(dict(self.headers.items()))  # type: ignore[attr-defined]
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[ThreadingHTTPServer]:
    """A loopback HTTP server that records the headers of every request (``.seen``) and answers 404:
    "some other host" that must never receive the app's credentials."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HeaderRecorder)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
