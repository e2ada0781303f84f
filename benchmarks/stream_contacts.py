"""Stream every contact through the Dataverse client and show memory does not grow with the table.

For each N (default 20,000 / 50,000 / 100,000) an emulator with N contacts runs in a *separate process*
(``python -m dataverse_emulator``), so the numbers below measure the client process alone. The client
streams all contacts with a realistic ``$select`` and ``odata.maxpagesize=5000`` and we report:

* page requests sent (must be ``ceil(N / 5000)``; checked against the client's and the emulator's
  counters),
* rows received, wall time, rows/s,
* ``tracemalloc`` peak of the streaming loop (Python allocations of the client process while
  streaming: one page of JSON plus the row being processed, independent of N).

Usage::

    .venv/bin/python benchmarks/stream_contacts.py                 # 20k, 50k, 100k
    .venv/bin/python benchmarks/stream_contacts.py --sizes 100000 --page-size 5000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from functions.dataverse import DataverseClient, StaticTokenProvider  # noqa: E402

SELECT = [
    "contactid",
    "fullname",
    "firstname",
    "lastname",
    "emailaddress1",
    "jobtitle",
    "_parentcustomerid_value",
    "_ownerid_value",
    "statecode",
    "modifiedon",
]
ANNOTATIONS = "Microsoft.Dynamics.CRM.lookuplogicalname"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_emulator(contacts: int, seed: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dataverse_emulator",
            "--port",
            str(port),
            "--contacts",
            str(contacts),
            "--seed",
            str(seed),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600  # generating 100k contacts takes a while
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise RuntimeError(f"emulator exited with {process.returncode}: {err[-2000:]}")
        try:
            if requests.get(f"{url}/_emulator/counters", timeout=2).status_code == 200:
                return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("emulator did not start in time")


def _emulator_counters(url: str) -> dict[str, object]:
    response = requests.get(f"{url}/_emulator/counters", timeout=10)
    response.raise_for_status()
    return response.json()


def _reset_emulator_counters(url: str) -> None:
    requests.post(f"{url}/_emulator/reset-counters", timeout=10).raise_for_status()


def measure(contacts: int, *, page_size: int, seed: int) -> dict[str, object]:
    process, url = _start_emulator(contacts, seed)
    try:
        client = DataverseClient(f"{url}/api/data/v9.2/", StaticTokenProvider(), page_size=page_size)
        client.who_am_i()  # warm up the connection and imports outside the measured loop
        client.reset_counts()
        _reset_emulator_counters(url)

        rows = 0
        checksum = 0
        tracemalloc.start()
        tracemalloc.reset_peak()
        started = time.perf_counter()
        for row in client.iter_rows("contacts", select=SELECT, annotations=ANNOTATIONS):
            rows += 1
            checksum += len(row.get("fullname") or "")  # touch the row like a real consumer
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        counts = client.request_counts
        emulator = _emulator_counters(url)
        client.close()
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
    expected_pages = math.ceil(contacts / page_size)
    emulator_reads = (emulator.get("requests") or {}).get("read") if isinstance(emulator, dict) else None
    return {
        "contacts": contacts,
        "rows": rows,
        "page_requests": counts["read"],
        "expected_page_requests": expected_pages,
        "emulator_read_requests": emulator_reads,
        "retries": counts["retries"],
        "seconds": round(elapsed, 2),
        "rows_per_second": round(rows / elapsed) if elapsed else None,
        "tracemalloc_peak_mib": round(peak / 2**20, 2),
        # Both counters must equal ceil(N / page size) exactly; a missing emulator count is a failure.
        "ok": rows == contacts and counts["read"] == expected_pages and emulator_reads == expected_pages,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 50_000, 100_000])
    parser.add_argument("--page-size", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object per size")
    args = parser.parse_args(argv)

    results = [measure(n, page_size=args.page_size, seed=args.seed) for n in args.sizes]
    if args.json:
        for result in results:
            print(json.dumps(result))
    else:
        header = (
            f"{'contacts':>9} {'rows':>9} {'pages':>6} {'expect':>6} {'emul':>5} {'secs':>7} "
            f"{'rows/s':>8} {'peak MiB':>9} ok"
        )
        print(header)
        for r in results:
            print(
                f"{r['contacts']:>9} {r['rows']:>9} {r['page_requests']:>6} {r['expected_page_requests']:>6} "
                f"{r['emulator_read_requests']!s:>5} {r['seconds']:>7} {r['rows_per_second']!s:>8} "
                f"{r['tracemalloc_peak_mib']:>9} {r['ok']}"
            )
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
