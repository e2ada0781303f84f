"""Fixtures for provisioning tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dataverse_emulator import Emulator


@pytest.fixture
def emu(emulator_factory: Callable[..., Emulator]) -> Emulator:
    """An emulator with no sample data: provisioning only touches metadata and customisation rows."""
    return emulator_factory(None)
