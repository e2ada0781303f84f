"""Helpers for the emulator fidelity tests: plain ``requests`` against a started emulator."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from dataverse_emulator import Emulator

STANDARD_HEADERS = {
    "Accept": "application/json",
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
    "If-None-Match": "null",
    "Authorization": "Bearer test-token",
}


@pytest.fixture
def emu(emulator_factory: Callable[..., Emulator]) -> Emulator:
    """An emulator with empty data tables (tests insert exactly the rows they need)."""
    return emulator_factory(None, with_msdyn_orgchangestatus=True)


@pytest.fixture
def http() -> requests.Session:
    """A session that sends the documented standard headers and a bearer token."""
    session = requests.Session()
    session.headers.update(STANDARD_HEADERS)
    yield session
    session.close()


@pytest.fixture
def emu_factory_no_bulk(emulator_factory: Callable[..., Emulator]) -> Emulator:
    """An org where contact does not support UpdateMultiple (older orgs)."""
    return emulator_factory(None, bulk_tables=frozenset())


@pytest.fixture
def emu_factory_en_only(emulator_factory: Callable[..., Emulator]) -> Emulator:
    """An org that has only English provisioned."""
    return emulator_factory(None, provisioned_languages=(1033,))
