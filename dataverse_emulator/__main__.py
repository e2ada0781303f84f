"""Run the emulator: ``python -m dataverse_emulator --port 5555 --contacts 5000 --seed 1``.

Then point the app at it: ``DATAVERSE_URL=http://127.0.0.1:5555 DATAVERSE_AUTH=local``.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

from .emulator import Emulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dataverse_emulator",
        description="Serve an emulated Dataverse Web API v9.2 organisation with sample data on 127.0.0.1.",
        epilog="Point the app at it with DATAVERSE_URL=http://127.0.0.1:<port> DATAVERSE_AUTH=local. "
        "Out-of-process control: GET /_emulator/counters, POST /_emulator/faults (a Fault as JSON), "
        "POST /_emulator/reset-counters, POST /_emulator/expire-delta-tokens.",
    )
    parser.add_argument("--port", type=int, default=5555, help="TCP port on 127.0.0.1 (0 = any free port)")
    parser.add_argument(
        "--contacts", type=int, default=500, help="sample contacts to generate (0 = empty org)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the sample data generator")
    parser.add_argument(
        "--msdyn-orgchangestatus",
        action="store_true",
        help="pre-create Microsoft's msdyn_orgchangestatus column on contact",
    )
    parser.add_argument("--languages", default="1033,1031", help="provisioned LCIDs, base language first")
    parser.add_argument("--no-bulk", action="store_true", help="contact does not support UpdateMultiple")
    parser.add_argument(
        "--expire-days",
        type=int,
        default=7,
        help="organization.expirechangetrackingindays (delta tokens older than this expire)",
    )
    parser.add_argument("--dop-hint", type=int, default=4, help="value of the x-ms-dop-hint response header")
    parser.add_argument("--fault-seed", type=int, default=0,
                        help="seed of the random draws of faults given with a rate (reproducible campaigns)")
    args = parser.parse_args(argv)

    languages = tuple(int(x) for x in args.languages.split(",") if x.strip())
    org = None
    if args.contacts > 0:
        from .generator import OrgSpec

        org = OrgSpec(contacts=args.contacts, seed=args.seed)
    emulator = Emulator(
        org,
        port=args.port,
        provisioned_languages=languages,
        base_language=languages[0],
        with_msdyn_orgchangestatus=args.msdyn_orgchangestatus,
        bulk_tables=frozenset() if args.no_bulk else frozenset({"contact"}),
        expire_change_tracking_in_days=args.expire_days,
        dop_hint=args.dop_hint,
        fault_seed=args.fault_seed,
    )
    emulator.start()
    print(f"Dataverse emulator listening on {emulator.url}  (Web API: {emulator.api_url})", flush=True)
    print(f"Point the app at it: DATAVERSE_URL={emulator.url} DATAVERSE_AUTH=local", flush=True)
    print("Any 'Authorization: Bearer <token>' is accepted. Ctrl+C stops.", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
