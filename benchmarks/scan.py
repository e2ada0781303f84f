"""Benchmark of the daily scan: a generated org and the days of its life, each run measured alone.

    .venv/bin/python benchmarks/scan.py --contacts 100000

Runs, in order (``--runs`` picks a subset, order kept):

- ``first_run``: the back-fill, every contact validated.
- ``echo_run``: nothing changed since, but the delta returns every row the first run wrote.
- ``no_change_run``: nothing at all changed.
- ``one_percent_change_run``: 1 % of the contacts got a new job title (not a look-up key; the last
  verdict's profile is asked again only if the source is not a file) and 0.1 % a new e-mail (a key).
- ``expired_token_run``: the delta tokens expired: a full read that must find nothing to redo.

The Dataverse emulator runs in its own process (so its memory is not the client's) and Azurite is
started through localdev.azurite. Each scan runs in a fresh child process, which reports its own wall
time, CPU time (getrusage) and peak RSS (VmHWM, benchmarks/proc.py), so the numbers are those of the
scan alone: reading the profile file, reading Dataverse, planning, validating, writing back and
recording state.

Reported per run: Dataverse requests by kind (the client's counters and the emulator's), the floor
``sum(ceil(rows read / 5000)) + ceil(writes / 1000) + provisioning requests``, profile look-ups, Azure
Table operations, wall time, CPU and peak memory.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback only
        return json.loads(response.read())


def _post(url: str) -> None:
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=b"{}", method="POST", headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310 - loopback only
        pass


def _wait_ready(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the emulator exited during start-up")
        try:
            _get(url + "/_emulator/counters")
            return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError("the emulator did not start in time")


class _MemoryTracer:
    """Where the scan was when its memory grew: samples RSS, and at every new high 16 MB above the last
    one records the main thread's innermost project frames (BENCH_MEMORY_TRACE=1; printed to stderr)."""

    def __init__(self, step_mb: float = 16.0) -> None:
        import threading

        self._main = threading.main_thread().ident
        self._step = step_mb
        self._high = 0.0
        self.marks: list[tuple[float, float, str]] = []
        self._started = time.perf_counter()
        threading.Thread(target=self._sample, daemon=True).start()

    def _rss_mb(self) -> float:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    @staticmethod
    def _split() -> str:
        """Anonymous (heap) and file-backed (mapped files: the profile index, libraries) parts."""
        with open("/proc/self/status") as status:
            parts = dict(line.split(":", 1) for line in status if line.startswith(("RssAnon", "RssFile")))
        return " ".join(f"{k[3:].lower()} {int(v.split()[0]) // 1024}" for k, v in sorted(parts.items()))

    def _where(self) -> str:
        frame = sys._current_frames().get(self._main)
        names = []
        while frame is not None and len(names) < 4:
            path = frame.f_code.co_filename
            if "/functions/" in path:
                names.append(f"{Path(path).stem}.{frame.f_code.co_name}:{frame.f_lineno}")
            frame = frame.f_back
        return " < ".join(names)

    def _sample(self) -> None:
        while True:
            rss = self._rss_mb()
            if rss >= self._high + self._step:
                self._high = rss
                self.marks.append((time.perf_counter() - self._started, rss,
                                   f"({self._split()})  {self._where()}"))
            time.sleep(0.2)

    def report(self) -> None:
        for seconds, rss, where in self.marks:
            print(f"memory {seconds:7.1f} s {rss:7.0f} MB  {where}", file=sys.stderr)


class _HeapSnapshots:
    """What is allocated, by line, when a run enters a phase and half-way through validating
    (BENCH_HEAP_SNAPSHOTS=1: tracemalloc, so the run is about twice as slow; printed to stderr)."""

    def __init__(self) -> None:
        import tracemalloc

        self._tracemalloc = tracemalloc
        tracemalloc.start(4)
        self._seen: set[str] = set()

    def progress(self, phase: str, done: int, total: int) -> None:
        mark = phase if phase != "validating" else ("validating half" if total and done * 2 >= total else "")
        if not mark or mark in self._seen:
            return
        self._seen.add(mark)
        snapshot = self._tracemalloc.take_snapshot()
        current = self._tracemalloc.get_traced_memory()[0] / 2**20
        print(f"memory heap at '{mark}': {current:.0f} MB traced", file=sys.stderr)
        for stat in snapshot.statistics("traceback")[:8]:
            where = " < ".join(f"{Path(f.filename).stem}:{f.lineno}" for f in stat.traceback)
            print(f"memory   {stat.size / 2**20:6.1f} MB {stat.count:8d}  {where}", file=sys.stderr)


def child(env_json: str, day: str) -> None:
    """One scan in this process; prints a JSON line with the summary and the process's resources."""
    from benchmarks.proc import own_peak_mb
    from functions.config import load_config
    from functions.pipeline import run_scan
    from functions.pipeline.run import RunHooks

    env = json.loads(env_json)
    config = load_config(env)
    when = datetime.fromisoformat(day)
    tracer = _MemoryTracer() if os.environ.get("BENCH_MEMORY_TRACE") else None
    hooks = None
    if os.environ.get("BENCH_HEAP_SNAPSHOTS"):
        hooks = RunHooks(on_progress=_HeapSnapshots().progress)
    wall = time.perf_counter()
    summary = run_scan(config, trigger="benchmark", clock=lambda: when, hooks=hooks)
    if tracer is not None:
        tracer.report()
    wall = time.perf_counter() - wall
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "peak_rss_mb": own_peak_mb() or round(usage.ru_maxrss / 1024, 1),
        "summary": summary.to_dict(),
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
    }))


def _floor(summary: dict) -> int:
    rows = summary["rows_read"]
    tables = ("accounts", "opportunities", "connections", "contacts")
    reads = sum(max(1, math.ceil(rows.get(t, 0) / 5000)) for t in tables)
    return reads + math.ceil(summary["counters"].get("writes", 0) / 1000) + summary["provisioning_requests"]


def _change_contacts(url: str, share: float, email_share: float, seed: int) -> dict[str, int]:
    """Change ``share`` of the contacts' job titles and ``email_share`` of their e-mails through the
    Web API (as a user would), with the emulator's counters reset afterwards by the caller."""
    import random

    from functions.config import load_config
    from functions.dataverse import build_client

    config = load_config({"DATAVERSE_URL": url, "DATAVERSE_AUTH": "local",
                          "STATE_STORAGE_CONNECTION": "UseDevelopmentStorage=true", "PROFILE_FILE": "x"})
    rng = random.Random(seed)
    with build_client(config.dataverse) as client:
        ids = [row["contactid"] for row in client.iter_rows("contacts", select=["contactid"])]
        titles = rng.sample(ids, max(1, int(len(ids) * share)))
        emails = rng.sample(ids, max(1, int(len(ids) * email_share)))
        changes = {cid: {"contactid": cid, "jobtitle": f"Benchmark title {n}"}
                   for n, cid in enumerate(titles)}
        for n, cid in enumerate(emails):
            changes.setdefault(cid, {"contactid": cid})["emailaddress1"] = f"bench.{n}@example.org"
        results = client.update_many("contacts", list(changes.values()), logical_name="contact",
                                     primary_key="contactid")
    return {"job_titles": len(titles), "emails": len(emails), "failed": sum(not r.ok for r in results)}


RUNS = ("first_run", "echo_run", "no_change_run", "one_percent_change_run", "expired_token_run")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--runs", default=",".join(RUNS), help=f"comma-separated subset of {', '.join(RUNS)}")
    parser.add_argument("--json", action="store_true", help="print the results as JSON only")
    parser.add_argument("--child", nargs=2, metavar=("ENV", "DAY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0

    from dataverse_emulator.generator import OrgSpec, generate_org
    from localdev.azurite import Azurite
    from localdev.sample_profiles import write_profile_file

    today = datetime.now(UTC).date()
    work = Path(tempfile.mkdtemp(prefix="scan-bench-"))
    profiles = work / "profiles.jsonl"
    t = time.perf_counter()
    stats = write_profile_file(generate_org(OrgSpec(contacts=args.contacts, seed=args.seed)), profiles,
                               today=today)
    setup = {"profile_file_seconds": round(time.perf_counter() - t, 1), "profiles": stats.profiles}
    port = _free_port()
    emulator = subprocess.Popen(
        [sys.executable, "-m", "dataverse_emulator", "--port", str(port), "--contacts", str(args.contacts),
         "--seed", str(args.seed)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    results = {"contacts": args.contacts, "seed": args.seed, "batch_size": args.batch_size, **setup}
    try:
        t = time.perf_counter()
        _wait_ready(url, emulator, timeout=600)
        results["emulator_start_seconds"] = round(time.perf_counter() - t, 1)
        with Azurite() as azurite:
            env = {
                "DATAVERSE_URL": url,
                "DATAVERSE_AUTH": "local",
                "STATE_STORAGE_CONNECTION": azurite.connection_string,
                "PROFILE_FILE": str(profiles),
                "SCAN_ENABLED": "true",
                "SCAN_BATCH_SIZE": str(args.batch_size),
            }
            day = datetime.combine(today, datetime.min.time(), UTC).replace(hour=2).isoformat()
            runs = [name for name in RUNS if name in args.runs.split(",")]
            results["runs"] = runs
            for name in runs:
                if name == "one_percent_change_run":
                    results["changed"] = _change_contacts(url, 0.01, 0.001, args.seed)
                if name == "expired_token_run":
                    _post(url + "/_emulator/expire-delta-tokens")
                _post(url + "/_emulator/reset-counters")
                out = subprocess.run(
                    [sys.executable, __file__, "--child", json.dumps(env), day],
                    cwd=ROOT, capture_output=True, text=True, check=True,
                    # MALLOC_ARENA_MAX as infra sets it for the Function App (docs/scan.md, "Memory")
                    env={**os.environ, "PYTHONPATH": str(ROOT), "MALLOC_ARENA_MAX": "2"},
                )
                run = json.loads(out.stdout.strip().splitlines()[-1])
                for line in out.stderr.splitlines():
                    if line.startswith("memory "):
                        print(f"{name}: {line}", file=sys.stderr)
                summary = run.pop("summary")
                run["status"] = summary["status"]
                run["mode"] = summary["mode"]
                run["dataverse_requests"] = summary["dataverse_requests"]
                run["emulator_requests"] = _get(url + "/_emulator/counters").get("requests")
                run["floor"] = _floor(summary)
                run["rows_read"] = summary["rows_read"]
                run["provisioning_requests"] = summary["provisioning_requests"]
                run["counters"] = {k: v for k, v in summary["counters"].items() if v}
                run["profile_lookups"] = summary["counters"].get("looked_up", 0)
                run["table_operations"] = summary["table_operations"]
                run["seconds_by_phase"] = summary["seconds_by_phase"]
                seconds = summary["seconds_by_phase"]
                if seconds.get("lookup_and_decide"):
                    # bookkeeping against matching: the "state CPU per contact" ratio
                    run["state_to_matching_ratio"] = round(
                        seconds.get("state_writes", 0) / seconds["lookup_and_decide"], 2)
                results[name] = run
                # as each run ends (a run at 1M takes long): the numbers survive an interrupted benchmark
                print(json.dumps({name: run}), file=sys.stderr, flush=True)
    finally:
        emulator.terminate()
        emulator.wait(30)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"Scan benchmark: {args.contacts} contacts (seed {args.seed}), batch size {args.batch_size}, "
          f"{setup['profiles']} profiles in the file")
    if "changed" in results:
        print(f"changed before the 1 % run: {results['changed']}")
    for name in results["runs"]:
        r = results[name]
        req = r["dataverse_requests"]
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(req.items()) if k != "total" and v)
        print(f"\n{name.replace('_', ' ')} ({r['mode']}, {r['status']})")
        print(f"  Dataverse requests  {req['total']} ({kinds}); floor {r['floor']} "
              f"(rows read {r['rows_read']}, provisioning {r['provisioning_requests']})")
        print(f"  profile look-ups    {r['profile_lookups']}")
        print(f"  table operations    {r['table_operations']['total']} {r['table_operations']}")
        print(f"  wall {r['wall_seconds']} s, CPU {r['cpu_seconds']} s, peak RSS {r['peak_rss_mb']} MB")
        print(f"  counters            {r['counters']}")
        print(f"  seconds by phase    {r['seconds_by_phase']}")
        if "state_to_matching_ratio" in r:
            print(f"  state writes / matching time  {r['state_to_matching_ratio']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


