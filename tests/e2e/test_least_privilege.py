"""Least privilege, proven: the app works with exactly the privileges docs/setup.md asks for.

The emulator enforces table privileges (403, 0x80040220) for what the WhoAmI user does not hold. Each
test gives that user exactly ``functions.preflight.REQUIRED_PRIVILEGES`` (the list the setup guide and
the preflight check are built from), then runs what an admin would: preflight, provisioning, a scan.
A new Dataverse call that needs a privilege missing from functions/preflight/privileges.py fails here.

- Option B (setup step 4): the role includes the customization privileges; the app provisions itself.
- Option A: the role lacks them; an admin (full privileges, same environment) provisions once, then the
  app runs with the smaller role: the privileges check is a warning, never a failure.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dataverse_emulator import Emulator, OrgSpec
from dataverse_emulator.generator import generate_org
from functions.config import AppConfig, load_config
from functions.dataverse import build_client
from functions.dataverse.provisioning import provision
from functions.pipeline import RunSummary, run_scan
from functions.preflight import REQUIRED_PRIVILEGES, CheckStatus, run_preflight
from functions.profiles import FileSnapshotSource
from functions.services import Services
from localdev.azurite import Azurite
from localdev.sample_profiles import write_profile_file

from .conftest import TODAY, at

ORG = OrgSpec(contacts=80, seed=23)
REQUIRED = {p.name: p.depth for p in REQUIRED_PRIVILEGES}
# Option A's role: everything except what only provisioning's create/change steps need.
WITHOUT_CUSTOMIZE = {p.name: p.depth for p in REQUIRED_PRIVILEGES if p.group != "customize"}


@dataclass
class Setup:
    emulator: Emulator
    env: dict[str, str]

    def config(self) -> AppConfig:
        return load_config(self.env)

    def hold_exactly(self, privileges: dict[str, str]) -> None:
        """The application user's role now holds these privileges and nothing else."""
        self.emulator.revoke_privilege(*(set(self.emulator.privileges) - set(privileges)))
        for name, depth in privileges.items():
            self.emulator.grant_privilege(name, depth)
        assert self.emulator.privileges == privileges

    def scan(self) -> RunSummary:
        config = self.config()
        with Services(config, profiles=FileSnapshotSource(self.env["PROFILE_FILE"])) as services:
            return run_scan(config, services=services, clock=at(TODAY))


def _setup(emulator: Emulator, azurite: Azurite, tmp_path: Path) -> Setup:
    sample = generate_org(ORG)
    path = tmp_path / "profiles.jsonl"
    write_profile_file(sample, path, today=TODAY)
    return Setup(emulator, {
        "DATAVERSE_URL": emulator.url,
        "DATAVERSE_AUTH": "local",
        "STATE_STORAGE_CONNECTION": azurite.connection_string,
        "PROFILE_SOURCE": "file",
        "PROFILE_FILE": str(path),
        "SCAN_ENABLED": "true",
        "STATE_TABLE_PREFIX": "lp" + uuid.uuid4().hex[:10],
    })


@pytest.fixture
def least(azurite: Azurite, tmp_path: Path) -> Iterator[Setup]:
    """An environment whose application user holds exactly REQUIRED_PRIVILEGES from the start."""
    with Emulator(ORG, privileges=REQUIRED) as emulator:
        yield _setup(emulator, azurite, tmp_path)


@pytest.fixture
def full(azurite: Azurite, tmp_path: Path) -> Iterator[Setup]:
    """An environment whose user starts with every privilege (the admin); tests then shrink it."""
    with Emulator(ORG) as emulator:
        yield _setup(emulator, azurite, tmp_path)


def test_the_emulator_enforces_what_is_not_held(least: Setup) -> None:
    """The premise: a privilege outside the list is really refused (not silently allowed)."""
    import requests

    assert least.emulator.privileges == REQUIRED
    assert "prvDeleteContact" not in REQUIRED
    contact = next(iter(least.emulator.store.tables["contacts"].rows))
    denied = requests.delete(f"{least.emulator.api_url}contacts({contact})",
                             headers={"Authorization": "Bearer t"}, timeout=10)
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "0x80040220"


def test_option_b_required_privileges_are_enough_to_check_provision_and_scan(least: Setup) -> None:
    config = least.config()
    report = run_preflight(config)
    assert report.ok, report.render()
    privileges = report.get("privileges")
    assert privileges is not None
    # Nothing provisioned yet, and the role can do it: every required privilege is held.
    assert privileges.status is CheckStatus.OK, privileges.detail
    assert {c.status for c in report.checks} == {CheckStatus.OK}, report.render()

    with build_client(config.dataverse) as client:
        provisioned = provision(client, config.dataverse)
    assert any(c.action.value != "exists" for c in provisioned.components)

    summary = least.scan()
    assert summary.status == "succeeded", summary.message
    assert summary.counters["errors"] == 0
    assert summary.counters["in_scope"] > 0
    assert summary.counters["flagged"] > 0  # it wrote verdicts with prvWriteContact alone
    # Everything still passes afterwards (the enable flow runs the same checks again).
    assert run_preflight(least.config()).ok


def test_option_a_admin_provisions_then_the_app_runs_without_customization_privileges(full: Setup) -> None:
    config = full.config()
    with build_client(config.dataverse) as client:  # the admin, with every privilege
        provision(client, config.dataverse)

    full.hold_exactly(WITHOUT_CUSTOMIZE)
    report = run_preflight(full.config())
    assert report.ok, report.render()
    privileges = report.get("privileges")
    assert privileges is not None
    assert privileges.status is CheckStatus.WARNING, privileges.detail
    assert "provisioning is complete" in privileges.detail
    not_needed = {item["name"] for item in privileges.data["missing"]}  # type: ignore[index]
    assert not_needed == set(REQUIRED) - set(WITHOUT_CUSTOMIZE)
    assert all(item["required"] is False for item in privileges.data["missing"])  # type: ignore[index]
    others = {c.name: c.status for c in report.checks if c.name != "privileges"}
    assert set(others.values()) == {CheckStatus.OK}, report.render()

    summary = full.scan()
    assert summary.status == "succeeded", summary.message
    assert summary.counters["errors"] == 0
    assert summary.counters["flagged"] > 0
