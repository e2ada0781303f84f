"""Helpers for provisioning tests against the emulator over real HTTP."""

from __future__ import annotations

from typing import Any

from dataverse_emulator import Emulator
from functions.config import DataverseConfig
from functions.dataverse import build_client
from functions.dataverse.provisioning import ProvisioningReport, provision

WRITE_KINDS = ("create", "update", "delete", "action", "batch")


def config_for(emu: Emulator, **overrides: Any) -> DataverseConfig:
    return DataverseConfig(**{"url": emu.url, "auth": "local", "max_retries": 0, **overrides})


def run_provisioning(
    emu: Emulator, *, dry_run: bool = False, force_publish: bool = False, **overrides: Any
) -> ProvisioningReport:
    config = config_for(emu, **overrides)
    with build_client(config) as client:
        return provision(client, config, dry_run=dry_run, force_publish=force_publish)


def writes(emu: Emulator) -> dict[str, int]:
    """Write requests (by kind) and committed write operations the emulator saw since its last reset."""
    seen = {kind: emu.counters.requests[kind] for kind in WRITE_KINDS if emu.counters.requests[kind]}
    seen.update({f"op:{kind}": n for kind, n in emu.counters.operations.items() if n})
    return seen


def actions(report: ProvisioningReport) -> dict[str, str]:
    return {c.name: c.action.value for c in report.components}


def get_json(emu: Emulator, path: str, **params: str) -> dict[str, Any]:
    with build_client(config_for(emu)) as client:
        return client.get_json(path, params=params or None)
