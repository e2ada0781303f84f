"""Pytest fixtures for the Dataverse emulator (registered from tests/conftest.py via pytest_plugins).

- ``emulator``: a started emulator with a small generated sample org (``OrgSpec(contacts=60)``),
  stopped after the test.
- ``emulator_factory``: ``emulator_factory(org=None, **Emulator kwargs)`` starts more emulators
  (e.g. ``bulk_tables=frozenset()`` or ``provisioned_languages=(1031,)``); all are stopped at teardown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dataverse_emulator import Emulator, OrgSpec

SMALL_ORG = OrgSpec(contacts=60)


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., Emulator]]:
    started: list[Emulator] = []

    def make(org: OrgSpec | None = None, **kwargs: Any) -> Emulator:
        emulator = Emulator(org, **kwargs).start()
        started.append(emulator)
        return emulator

    yield make
    for emulator in started:
        emulator.stop()


@pytest.fixture
def emulator(emulator_factory: Callable[..., Emulator]) -> Emulator:
    return emulator_factory(SMALL_ORG)
