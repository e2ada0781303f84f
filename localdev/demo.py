"""`make demo`: the main job, locally, against the Dataverse emulator and Azurite.

Starts Azurite and the emulator (a generated sample organisation) on free loopback ports, reads
the organisation through the real client, provisions the solution, columns and views, records
the result in Azure Table storage, and provisions again to show that a second run creates
nothing. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime

from dataverse_emulator import Emulator, OrgSpec
from functions.config import load_config
from functions.dataverse import build_client
from functions.dataverse.provisioning import provision
from functions.state import TableStore, build_table_service
from localdev.azurite import Azurite

PROVISIONING_TABLE = "provisioning"


def _heading(text: str) -> None:
    print(f"\n== {text} " + "=" * max(0, 76 - len(text)))


def _count_rows(client, entity_set: str, key: str, page_size: int) -> tuple[int, int]:
    before = client.request_counts.get("read", 0)
    rows = sum(1 for _ in client.iter_rows(entity_set, select=[key], page_size=page_size))
    return rows, client.request_counts.get("read", 0) - before


def run(contacts: int, seed: int) -> int:
    started = time.monotonic()
    _heading("Starting Azurite and the Dataverse emulator (loopback only)")
    with Azurite() as azurite, Emulator(OrgSpec(contacts=contacts, seed=seed)) as emulator:
        print(f"Azurite tables:     http://127.0.0.1:{azurite.table_port}/devstoreaccount1")
        print(f"Dataverse emulator: {emulator.url}  (sample org: {contacts} contacts, seed {seed})")
        config = load_config(
            {
                "DATAVERSE_URL": emulator.url,
                "DATAVERSE_AUTH": "local",
                "STATE_STORAGE_CONNECTION": azurite.connection_string,
            }
        )
        client = build_client(config.dataverse)
        who = client.who_am_i()
        print(f"WhoAmI: user {who['UserId']} in organisation {who['OrganizationId']}")

        _heading("The sample organisation, streamed through the client")
        page_size = 1000
        for entity_set, key in (
            ("systemusers", "systemuserid"),
            ("accounts", "accountid"),
            ("contacts", "contactid"),
            ("opportunities", "opportunityid"),
            ("connections", "connectionid"),
        ):
            rows, pages = _count_rows(client, entity_set, key, page_size)
            print(f"{entity_set:<14} {rows:>7} rows in {pages} page requests of up to {page_size}")

        _heading("Provisioning, first run")
        client.reset_counts()
        first = provision(client, config.dataverse)
        print(first.render())

        _heading("Provisioning, second run (idempotent)")
        client.reset_counts()
        emulator.counters.reset()
        second = provision(client, config.dataverse)
        print(second.render())
        creates = emulator.counters.requests.get("create", 0)
        publishes = len(emulator.publish_log)
        print(f"Emulator saw {creates} create requests in the second run; {publishes} publish call(s) in all")

        store = TableStore(build_table_service(config), PROVISIONING_TABLE).ensure()
        store.upsert(
            {
                "PartitionKey": "provisioning",
                "RowKey": "last",
                "at": datetime.now(UTC),
                "report": json.dumps(first.to_dict()),
            }
        )
        saved = store.get("provisioning", "last")
        size = len(saved["report"])
        print(f"Recorded the first run's report in Azure Table '{PROVISIONING_TABLE}' ({size} bytes)")

    _heading(f"Done in {time.monotonic() - started:.1f} s")
    ok = first.changed and not second.changed and creates == 0
    if not ok:
        print("Unexpected: the second provisioning run was not a no-op", file=sys.stderr)
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.demo", description=__doc__)
    parser.add_argument("--contacts", type=int, default=3000, help="sample organisation size (default 3000)")
    parser.add_argument("--seed", type=int, default=1, help="sample data seed (default 1)")
    args = parser.parse_args(argv)
    return run(args.contacts, args.seed)


if __name__ == "__main__":
    sys.exit(main())
