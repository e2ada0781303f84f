"""End-to-end scan fixtures: a generated org in the emulator, its sample profile file, Azurite state.

Each test gets its own emulator and its own state tables (a unique STATE_TABLE_PREFIX on the
session's Azurite), so tests never see each other's runs.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from dataverse_emulator import Emulator, OrgSpec
from dataverse_emulator.generator import SampleOrg, generate_org
from functions.config import AppConfig, load_config
from functions.dataverse import DataverseClient, build_client
from functions.matching.records import Outcome
from functions.pipeline import RunHooks, RunSummary, run_scan
from functions.profiles import FileSnapshotSource
from functions.services import Services
from localdev.sample_profiles import expected_verdicts, write_profile_file

TODAY = date(2026, 1, 15)
ORG = OrgSpec(contacts=320, seed=11)
FLAG = "dval_nolongeratcompany"
NO_FEEDBACK, NOT_AT_COMPANY, IGNORE = 410200000, 410200001, 410200002


def at(day: date = TODAY, hour: int = 2) -> Callable[[], datetime]:
    return lambda: datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


def expected_scope(sample: SampleOrg) -> set[str]:
    """An independent oracle for product §3 (default sync users: enabled human users)."""
    users = {
        u["systemuserid"]
        for u in sample.rows("systemusers")
        if not u["isdisabled"] and u["accessmode"] == 0 and u["applicationid"] is None
        and u["azureactivedirectoryobjectid"]
    }
    account_owner = {a["accountid"]: a["_ownerid_value"] for a in sample.rows("accounts")}
    open_opps = {o["opportunityid"]: o for o in sample.rows("opportunities")
                 if o["statecode"] == 0 and o["_ownerid_value"] in users}
    linked = {o["_parentcontactid_value"] for o in open_opps.values() if o["_parentcontactid_value"]}
    for c in sample.rows("connections"):
        if c["statecode"] == 0 and c["_record1id_value"] in open_opps and c["record2objecttypecode"] == 2:
            linked.add(c["_record2id_value"])
    return {
        c["contactid"]
        for c in sample.rows("contacts")
        if c["statecode"] == 0
        and (c["_ownerid_value"] in users
             or account_owner.get(c["_parentcustomerid_value"]) in users
             or c["contactid"] in linked)
    }


@dataclass
class ScanWorld:
    emulator: Emulator
    sample: SampleOrg
    profile_path: Path
    connection_string: str
    prefix: str
    env: dict[str, str] = field(default_factory=dict)
    summaries: list[RunSummary] = field(default_factory=list)

    def config(self, **extra: str) -> AppConfig:
        return load_config({**self.env, **extra})

    def client(self) -> DataverseClient:
        return build_client(self.config().dataverse)

    def services(self, config: AppConfig | None = None) -> Services:
        """The app's services for the world's org and tables, on the world's profile file."""
        return Services(config or self.config(), profiles=FileSnapshotSource(str(self.profile_path)))

    def scan(self, *, day: date = TODAY, hooks: RunHooks | None = None, config: AppConfig | None = None,
             **kwargs: Any) -> RunSummary:
        with self.services(config) as services:
            summary = run_scan(config or self.config(), services=services, hooks=hooks, clock=at(day),
                               **kwargs)
        self.summaries.append(summary)
        return summary

    def flag(self, contact_id: str) -> int | None:
        return (self.emulator.store.get("contacts", contact_id) or {}).get(FLAG)

    def flags(self) -> dict[str, int | None]:
        return {c["contactid"]: self.flag(c["contactid"]) for c in self.sample.rows("contacts")}

    def flagged(self) -> set[str]:
        return {cid for cid, value in self.flags().items() if value == NOT_AT_COMPANY}

    def expected(self) -> dict[str, Outcome]:
        return expected_verdicts(self.sample, self.profile_path)

    def scope(self) -> set[str]:
        return expected_scope(self.sample)

    def writes(self) -> int:
        return self.emulator.counters.operations.get("update", 0)


@pytest.fixture
def world(azurite, tmp_path: Path) -> Iterator[ScanWorld]:
    sample = generate_org(ORG)
    path = tmp_path / "profiles.jsonl"
    write_profile_file(sample, path, today=TODAY)
    with Emulator(ORG) as emulator:
        prefix = "t" + uuid.uuid4().hex[:10]
        env = {
            "DATAVERSE_URL": emulator.url,
            "DATAVERSE_AUTH": "local",
            "STATE_STORAGE_CONNECTION": azurite.connection_string,
            "PROFILE_FILE": str(path),
            "SCAN_ENABLED": "true",
            "STATE_TABLE_PREFIX": prefix,
            "SCAN_BATCH_SIZE": "100",
        }
        yield ScanWorld(emulator, sample, path, azurite.connection_string, prefix, env)


def first(iterable, n: int = 1) -> list:
    return list(itertools.islice(iterable, n))
