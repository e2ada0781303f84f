"""Shared generated orgs: generating is cheap, but iterating 20,000 contacts many times is not."""

from __future__ import annotations

from typing import Any

import pytest

from dataverse_emulator.generator import OrgSpec, SampleOrg, generate_org


def materialise(sample: SampleOrg) -> dict[str, list[dict[str, Any]]]:
    """All rows of a (small) org by entity set."""
    return {entity_set: list(sample.rows(entity_set)) for entity_set in sample.entity_sets}


@pytest.fixture(scope="package")
def small_org() -> SampleOrg:
    return generate_org(OrgSpec(contacts=3000, seed=7))


@pytest.fixture(scope="package")
def small_rows(small_org: SampleOrg) -> dict[str, list[dict[str, Any]]]:
    return materialise(small_org)


@pytest.fixture(scope="package")
def big_org() -> SampleOrg:
    return generate_org(OrgSpec(contacts=20_000, seed=42))


@pytest.fixture(scope="package")
def big_rows(big_org: SampleOrg) -> dict[str, list[dict[str, Any]]]:
    return materialise(big_org)
