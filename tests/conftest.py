"""Shared fixtures: Azurite for storage tests, the Dataverse emulator (tests/fixtures_emulator.py)."""

from __future__ import annotations

from collections.abc import Iterator

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
