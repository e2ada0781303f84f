"""The cost benchmark runs end to end on a small world and prints its four lines."""

from __future__ import annotations

import pytest

from benchmarks import matching_cost


def test_small_run_prints_every_line(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--contacts", "120", "--accounts", "12", "--popular", "5", "--page", "50", "--rounds", "1"]
    assert matching_cost.main(args) == 0
    out = capsys.readouterr().out
    for line in ("one run, fresh worker", "next run, same worker", "same pairs again", "nothing shared"):
        assert line in out


def test_contacts_are_new_people_on_shared_accounts() -> None:
    world = matching_cost.build_world(10, seed=1, n_popular=3)
    first = matching_cost.build_contacts(world, 40, seed=1)
    second = matching_cost.build_contacts(world, 40, seed=2)
    assert len({a.account_id for _, a, _ in first}) <= 10  # accounts repeat
    assert not {c.contact_id for c, _, _ in first} & {c.contact_id for c, _, _ in second}
    assert not {c.email for c, _, _ in first} & {c.email for c, _, _ in second}
    assert first == matching_cost.build_contacts(world, 40, seed=1)  # deterministic
