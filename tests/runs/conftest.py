"""Run-request fixtures: the emulator's small org, its profile file, Azurite state and a queue of
its own per test (unique table prefix and queue name), the app settings in the environment."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import azure.functions as func
import pytest
from azure.storage.queue import QueueClient

from dataverse_emulator import Emulator
from dataverse_emulator.generator import generate_org
from functions.config import AppConfig, load_config
from functions.state import build_table_service
from functions.state.run_queue import RunQueue
from functions.state.tables import ScanTables
from localdev.sample_profiles import write_profile_file
from tests.fixtures_emulator import SMALL_ORG

TODAY = date(2026, 1, 15)


@dataclass
class RunWorld:
    emulator: Emulator
    env: dict[str, str]
    prefix: str
    queue_name: str
    connection_string: str

    def config(self) -> AppConfig:
        return load_config(self.env)

    def tables(self) -> ScanTables:
        return ScanTables(build_table_service(self.config()), self.prefix).ensure()

    def queue(self) -> RunQueue:
        return RunQueue(self.config(), queue_name=self.queue_name)

    def raw_queue(self) -> QueueClient:
        """The queue without the SDK's decoding: what is really on the wire."""
        return QueueClient.from_connection_string(self.connection_string, self.queue_name)

    def receive(self) -> list[func.QueueMessage]:
        """Take the messages off the queue as the Functions host does: base64-decode the text and hand
        the bytes over in a ``func.QueueMessage``."""
        out = []
        with self.raw_queue() as raw:
            for message in raw.receive_messages(max_messages=32, visibility_timeout=30):
                body = base64.b64decode(message.content, validate=True)
                out.append(func.QueueMessage(id=message.id, body=body, pop_receipt=message.pop_receipt))
                raw.delete_message(message)
        return out

    def writes(self) -> int:
        return self.emulator.counters.operations.get("update", 0)


@pytest.fixture
def world(azurite, emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunWorld]:
    path = tmp_path / "profiles.jsonl"
    write_profile_file(generate_org(SMALL_ORG), path, today=TODAY)
    prefix = "r" + uuid.uuid4().hex[:10]
    env = {
        "DATAVERSE_URL": emulator.url,
        "DATAVERSE_AUTH": "local",
        "STATE_STORAGE_CONNECTION": azurite.connection_string,
        "PROFILE_FILE": str(path),
        "SCAN_ENABLED": "true",
        "STATE_TABLE_PREFIX": prefix,
        "SCAN_BATCH_SIZE": "100",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return RunWorld(emulator, env, prefix, f"runs-{uuid.uuid4().hex[:12]}", azurite.connection_string)
