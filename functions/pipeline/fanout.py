"""Fan-out (``SCAN_FANOUT=queue``): what travels from the run to a batch worker and back.

The run writes each batch as a packed document (``functions/state/packed.py``) in the ``crmindex``
table, partition ``batch-<run_id>-<index:05d>``: the run context (run id, instant, day, column binding,
matching settings, refresh days) and the items, each a contact *as the run read it* (flag value, etag,
validated-on, owner, active), its account with hierarchy, why it is planned, its hashes, the compact
stored state. A worker's result is one entity in partition ``batchdone-<run_id>``, row ``<index:05d>``,
inserted once (the first delivery that finishes wins; a later one finds it and drops its message).
See docs/scan.md, "Fan-out".
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable
from typing import Any

from functions.pipeline.crm_reader import AccountInfo, CrmContact
from functions.pipeline.hashing import record_dict
from functions.pipeline.validate import BatchItem
from functions.pipeline.writer import Planned
from functions.state.contacts import ContactState
from functions.state.table_store import EntityExistsError
from functions.state.tables import CountingStore

__all__ = [
    "decode_item",
    "encode_item",
    "payload_partition",
    "read_result",
    "result_partition",
    "write_result",
]

_PART_BYTES = 64_000  # a binary property holds 64 KiB
_MAX_PARTS = 14  # 896,000 bytes: under the 1 MiB entity limit


def payload_partition(run_id: str, index: int) -> str:
    return f"batch-{run_id}-{index:05d}"


def result_partition(run_id: str) -> str:
    return f"batchdone-{run_id}"


def result_row(index: int) -> str:
    return f"{index:05d}"


def encode_item(p: Planned) -> dict[str, Any]:
    c, a = p.contact, p.account
    return {
        "contact": {"record": record_dict(c.record), "owner_id": c.owner_id, "active": c.active,
                    "flag_value": c.flag_value, "employer_value": c.employer_value, "etag": c.etag,
                    "validated_on": c.validated_on},
        "account": None if a is None else {"record": record_dict(a.record), "owner_id": a.owner_id,
                                           "active": a.active},
        "reason": p.reason,
        "contact_hash": p.contact_hash,
        "account_hash": p.account_hash,
        "opp_linked": p.opp_linked,
        "entering": p.entering,
        "state": None if p.state is None else {"contact_id": p.state.contact_id, **p.state.to_record()},
        "known_profile_id": p.known_profile_id,
    }


def decode_item(data: dict[str, Any]) -> Planned:
    c, a = data["contact"], data["account"]
    records = BatchItem(contact=c["record"], account=a["record"] if a else None, reason=data["reason"],
                        flag_value=c["flag_value"], employer_value=c["employer_value"])
    contact = CrmContact(records.contact_record(), c["owner_id"], bool(c["active"]), c["flag_value"],
                         c["employer_value"], c["etag"], c["validated_on"])
    account_record = records.account_record()
    account = (AccountInfo(account_record, a["owner_id"], bool(a["active"]))
               if a is not None and account_record is not None else None)
    state = None
    if data["state"] is not None:
        stored = dict(data["state"])
        state = ContactState.from_record(stored.pop("contact_id"), stored)
    return Planned(contact, account, data["reason"], data["contact_hash"], data["account_hash"],
                   bool(data["opp_linked"]), state, data.get("known_profile_id"))


def write_result(store: CountingStore, run_id: str, index: int, result: dict[str, Any]) -> bool:
    """Insert the batch's result (one entity). False when a result exists already (another delivery
    of the same batch finished first: its result stands)."""
    data = zlib.compress(json.dumps(result, separators=(",", ":"), sort_keys=True).encode(), 6)
    parts = [data[i : i + _PART_BYTES] for i in range(0, len(data), _PART_BYTES)] or [b""]
    if len(parts) > _MAX_PARTS:
        raise ValueError(f"batch result of {len(data)} bytes does not fit one entity; lower SCAN_BATCH_SIZE")
    entity: dict[str, Any] = {"PartitionKey": result_partition(run_id), "RowKey": result_row(index),
                              "parts": len(parts), "sha256": hashlib.sha256(data).hexdigest()}
    for n, part in enumerate(parts):
        entity[f"p{n:02d}"] = part
    try:
        store.insert(entity)
    except EntityExistsError:
        return False
    return True


def read_result(entity: dict[str, Any]) -> dict[str, Any] | None:
    """A result entity's document; None when it is damaged (treated as no result)."""
    try:
        count, digest = int(entity["parts"]), str(entity["sha256"])
        data = b"".join(bytes(entity[f"p{n:02d}"]) for n in range(count))
    except (KeyError, TypeError, ValueError):
        return None
    if hashlib.sha256(data).hexdigest() != digest:
        return None
    try:
        result = json.loads(zlib.decompress(data))
    except (zlib.error, ValueError):
        return None
    return result if isinstance(result, dict) else None


def first_ids(ids: Iterable[str], n: int = 50) -> list[str]:
    out = []
    for cid in ids:
        if len(out) >= n:
            break
        out.append(cid)
    return out
