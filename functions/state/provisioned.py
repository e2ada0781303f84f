"""The last provisioning result and the fingerprint of the config that produced it.

A run re-provisions only when the fingerprint changed or the record is older than
SCAN_PROVISIONING_MAX_AGE_HOURS (default 168 h, a week); otherwise it reuses the stored column binding,
so a day without changes costs no provisioning requests. A failed run clears the record, so the
next run checks the org again (e.g. after someone deleted the column).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from functions.config import DataverseConfig
from functions.dataverse.column import ColumnBinding, SupportingColumns
from functions.state.tables import CountingStore

__all__ = ["ProvisionedRecord", "ProvisionedStore", "provisioning_fingerprint"]

PARTITION = "provisioning"
ROW = "current"


def provisioning_fingerprint(config: DataverseConfig) -> str:
    """What provisioning depends on: the org, solution, prefixes and target column."""
    parts = {
        "url": config.url,
        "solution": config.solution_name,
        "prefix": config.publisher_prefix,
        "option_value_prefix": config.option_value_prefix,
        "target": config.target_column.value,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ProvisionedRecord:
    fingerprint: str
    provisioned_at: datetime
    binding: ColumnBinding
    supporting: SupportingColumns | None

    def fresh(self, fingerprint: str, now: datetime, max_age_hours: float) -> bool:
        return self.fingerprint == fingerprint and now - self.provisioned_at < timedelta(hours=max_age_hours)


class ProvisionedStore:
    def __init__(self, store: CountingStore) -> None:
        self.store = store

    def load(self) -> ProvisionedRecord | None:
        entity = self.store.get(PARTITION, ROW)
        if entity is None:
            return None
        try:
            supporting = json.loads(entity.get("supporting") or "null")
            return ProvisionedRecord(
                fingerprint=entity["fingerprint"],
                provisioned_at=datetime.fromisoformat(entity["provisioned_at"]),
                binding=ColumnBinding.from_dict(json.loads(entity["binding"])),
                supporting=SupportingColumns(**supporting) if supporting else None,
            )
        except (KeyError, ValueError, TypeError):
            return None  # unreadable: provision again

    def clear(self) -> None:
        self.store.delete(PARTITION, ROW)

    def save(self, record: ProvisionedRecord) -> None:
        self.store.upsert(
            {
                "PartitionKey": PARTITION,
                "RowKey": ROW,
                "fingerprint": record.fingerprint,
                "provisioned_at": record.provisioned_at.astimezone(UTC).isoformat(),
                "binding": json.dumps(record.binding.to_dict()),
                "supporting": json.dumps(record.supporting.to_dict() if record.supporting else None),
            },
            replace=True,
        )
