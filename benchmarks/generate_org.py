"""Benchmark the sample-org generator: wall time and peak memory to iterate every row.

Each size runs in a fresh interpreter so its peak RSS is its own. Rows are counted, never stored.

    .venv/bin/python benchmarks/generate_org.py                 # 100,000 and 1,000,000 contacts
    .venv/bin/python benchmarks/generate_org.py 20000 --tracemalloc
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dataverse_emulator.generator import OrgSpec, generate_org


def measure(contacts: int, seed: int, use_tracemalloc: bool) -> dict:
    """Generate an org and iterate all its rows once; return timings, row counts and memory."""
    if use_tracemalloc:  # exact Python allocations, but makes the run ~2x slower
        tracemalloc.start()
    started = time.perf_counter()
    sample = generate_org(OrgSpec(contacts=contacts, seed=seed))
    result: dict = {"contacts": contacts, "setup_s": round(time.perf_counter() - started, 3), "sets": {}}
    for entity_set in sample.entity_sets:
        t0 = time.perf_counter()
        count = sum(1 for _ in sample.rows(entity_set))
        result["sets"][entity_set] = {"rows": count, "s": round(time.perf_counter() - t0, 2)}
    t0 = time.perf_counter()
    result["associations"] = len(sample.associations)
    result["movers"] = sum(1 for _ in sample.movers())
    result["truth_s"] = round(time.perf_counter() - t0, 2)
    result["rows_s"] = round(sum(s["s"] for s in result["sets"].values()), 2)
    result["total_s"] = round(time.perf_counter() - started, 2)
    # ru_maxrss is KiB on Linux.
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if use_tracemalloc:
        result["tracemalloc_peak_mib"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.stop()
    return result


def report(result: dict) -> None:
    print(f"\n== {result['contacts']:,} contacts ==")
    for name, info in result["sets"].items():
        print(f"  {name:<16} {info['rows']:>10,} rows  {info['s']:>7.2f} s")
    print(f"  {'associations':<16} {result['associations']:>10,}")
    print(f"  setup {result['setup_s']:.2f} s | all rows {result['rows_s']:.2f} s | "
          f"truths/movers ({result['movers']:,} movers) {result['truth_s']:.2f} s | "
          f"total {result['total_s']:.2f} s")
    line = f"  peak RSS {result['peak_rss_mib']} MiB"
    if "tracemalloc_peak_mib" in result:
        line += f" | tracemalloc peak {result['tracemalloc_peak_mib']} MiB"
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tracemalloc", action="store_true", help="also report Python allocation peak")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.sizes[0], args.seed, args.tracemalloc)))
        return
    for size in args.sizes:
        command = [sys.executable, __file__, str(size), "--seed", str(args.seed), "--child"]
        if args.tracemalloc:
            command.append("--tracemalloc")
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        report(json.loads(output.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
