"""Fixtures for the client tests: emulators over real loopback HTTP and clients pointed at them.

Uses ``dataverse_emulator.Emulator`` directly (its public API from CONTRACTS.md) so these tests do not
depend on the shape of the shared fixtures; every emulator is stopped at teardown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from functions.dataverse import DataverseClient, StaticTokenProvider

emulator_module = pytest.importorskip("dataverse_emulator")


class CountingTokenProvider:
    """Hands out ``token-1`` until forced to refresh, then ``token-2``, ``token-3``...; counts calls.

    Like the real providers, a forced refresh for a token that was already replaced is a no-op."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.generation = 1
        self.calls = 0
        self.forced = 0

    def get_token(self, *, force_refresh: bool = False, rejected_token: str | None = None) -> str:
        with self._lock:
            self.calls += 1
            if force_refresh and rejected_token in (None, f"token-{self.generation}"):
                self.forced += 1
                self.generation += 1
            return f"token-{self.generation}"


@pytest.fixture
def make_emulator(emulator_factory: Callable[..., Any]) -> Callable[..., Any]:
    """Start an emulator with ``contacts`` generated contacts (None/0: empty org); stopped at teardown."""

    def make(contacts: int | None = 12, **kwargs: Any) -> Any:
        return emulator_factory(emulator_module.OrgSpec(contacts=contacts) if contacts else None, **kwargs)

    return make


@pytest.fixture
def emu(make_emulator: Callable[..., Any]) -> Any:
    """An emulator with 12 generated contacts (and the related sample rows)."""
    return make_emulator(12)


@pytest.fixture
def make_client() -> Iterator[Callable[..., DataverseClient]]:
    clients: list[DataverseClient] = []

    def make(emulator: Any, **kwargs: Any) -> DataverseClient:
        options: dict[str, Any] = {"timeout": 10, "max_retries": 4, "max_retry_wait": 5}
        token_provider = kwargs.pop("token_provider", None) or StaticTokenProvider("test-token")
        options.update(kwargs)
        clients.append(DataverseClient(emulator.api_url, token_provider, **options))
        return clients[-1]

    yield make
    for client in clients:
        client.close()
