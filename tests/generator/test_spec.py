"""OrgSpec validation and the sizes derived from it."""

from __future__ import annotations

import dataclasses

import pytest

from dataverse_emulator.generator import MAX_CONTACTS, OrgSpec, generate_org


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"contacts": -1}, "contacts"),
        ({"contacts": MAX_CONTACTS + 1}, "contacts"),
        ({"contacts": 10.0}, "contacts"),
        ({"contacts": "10"}, "contacts"),
        ({"contacts": True}, "contacts"),
        ({"seed": "1"}, "seed"),
        ({"seed": 2**64}, "seed"),
        ({"users": 0}, "users"),
        ({"users": 1.5}, "users"),
        ({"accounts": -5}, "accounts"),
        ({"opportunities": -1}, "opportunities"),
        ({"contacts": 0, "opportunities": 3}, "opportunities"),
        ({"mover_rate": 1.5}, "mover_rate"),
        ({"mover_rate": -0.01}, "mover_rate"),
        ({"mover_rate": "0.1"}, "mover_rate"),
        ({"mover_rate": float("nan")}, "mover_rate"),
        ({"mover_rate": True}, "mover_rate"),
    ],
)
def test_invalid_values_raise_naming_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        OrgSpec(**kwargs)


def test_defaults_and_derived_sizes() -> None:
    spec = OrgSpec()
    assert (spec.contacts, spec.seed, spec.mover_rate) == (500, 1, 0.08)
    assert spec.user_count == 5  # the minimum
    assert spec.account_count == round(500 / 8)
    assert spec.opportunity_count == 50
    assert OrgSpec(contacts=MAX_CONTACTS).user_count == 2000  # the cap
    assert OrgSpec(contacts=50_000).user_count == 500
    assert OrgSpec(contacts=0).account_count == 0


def test_overrides_win() -> None:
    spec = OrgSpec(contacts=1000, users=3, accounts=10, opportunities=7, mover_rate=0)
    assert (spec.user_count, spec.account_count, spec.opportunity_count) == (3, 10, 7)


def test_spec_is_frozen_and_hashable() -> None:
    spec = OrgSpec(contacts=10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.contacts = 11  # type: ignore[misc]
    assert hash(spec) == hash(OrgSpec(contacts=10))


def test_generate_org_wants_a_spec() -> None:
    with pytest.raises(TypeError):
        generate_org({"contacts": 10})  # type: ignore[arg-type]
