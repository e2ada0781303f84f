"""Benchmark of the fan-out (SCAN_FANOUT=queue): one orchestrator and K batch-worker processes.

    .venv/bin/python benchmarks/scale.py --contacts 20000 --workers 2

The Dataverse emulator runs in its own process and Azurite through localdev.azurite (as in
benchmarks/scan.py). One child process runs ``run_scan`` with ``SCAN_FANOUT=queue`` (the first run:
every contact validated); K child processes each loop over the batch queue (receive -> ``process_batch``
-> delete; on failure the message is made visible again) until the orchestrator is done. Each child
reports its wall time, CPU time and peak RSS (``VmHWM``, benchmarks/proc.py), its Dataverse requests
and its table operations.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.proc import own_peak_mb  # noqa: E402
from benchmarks.scan import _free_port, _get, _post, _wait_ready  # noqa: E402


def _usage() -> dict:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": own_peak_mb() or round(usage.ru_maxrss / 1024, 1)}


def orchestrator(env_json: str, day: str) -> None:
    from functions.config import load_config
    from functions.pipeline import run_scan

    config = load_config(json.loads(env_json))
    when = datetime.fromisoformat(day)
    wall = time.perf_counter()
    summary = run_scan(config, trigger="benchmark", clock=lambda: when)
    print(json.dumps({"summary": summary.to_dict(), "wall_seconds": round(time.perf_counter() - wall, 2),
                      **_usage()}))


def worker(env_json: str, stop_file: str) -> None:
    from azure.core.exceptions import ResourceExistsError

    from functions.config import load_config
    from functions.pipeline.batch_worker import process_batch, worker_config
    from functions.pipeline.summary import requests_sent
    from functions.services import Services
    from functions.state.batch_queue import BATCH_QUEUE_NAME
    from functions.state.run_queue import build_queue_client

    config = load_config(json.loads(env_json))
    services = Services.for_scan(worker_config(config))  # as the queue trigger's worker
    tables = services.tables
    queue = build_queue_client(config, BATCH_QUEUE_NAME)
    with contextlib.suppress(ResourceExistsError):
        queue.create_queue()
    wall = time.perf_counter()
    busy = 0.0
    outcomes: Counter[str] = Counter()
    failures = 0
    while True:
        messages = list(queue.receive_messages(max_messages=1, visibility_timeout=600))
        if not messages:
            if os.path.exists(stop_file):
                break
            time.sleep(0.2)
            continue
        for message in messages:
            t = time.perf_counter()
            try:
                outcome = process_batch(config, tables, message.content, services=services)
            except Exception as exc:  # make it visible again: another worker (or this one) retries
                failures += 1
                print(f"batch failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                queue.update_message(message, visibility_timeout=0)
                continue
            busy += time.perf_counter() - t
            outcomes[outcome.status] += 1
            queue.delete_message(message)
    requests = {k: v for k, v in services.client.request_counts.items() if v}
    print(json.dumps({"wall_seconds": round(time.perf_counter() - wall, 2), "busy_seconds": round(busy, 2),
                      "batches": dict(outcomes), "failures": failures,
                      "dataverse_requests": requests_sent(requests),
                      "dataverse_requests_by_kind": requests,
                      "table_operations": sum(tables.ops.values()), **_usage()}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--orchestrator", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.orchestrator:
        orchestrator(*args.orchestrator)
        return 0
    if args.worker:
        worker(*args.worker)
        return 0

    from dataverse_emulator.generator import OrgSpec, generate_org
    from localdev.azurite import Azurite
    from localdev.sample_profiles import write_profile_file

    today = datetime.now(UTC).date()
    work = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    profiles = work / "profiles.jsonl"
    write_profile_file(generate_org(OrgSpec(contacts=args.contacts, seed=args.seed)), profiles, today=today)
    port = _free_port()
    emulator = subprocess.Popen(
        [sys.executable, "-m", "dataverse_emulator", "--port", str(port), "--contacts", str(args.contacts),
         "--seed", str(args.seed)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    results: dict = {"contacts": args.contacts, "workers": args.workers, "batch_size": args.batch_size}
    # MALLOC_ARENA_MAX as infra sets it for the Function App (docs/scan.md, "Memory")
    child_env = {**os.environ, "PYTHONPATH": str(ROOT), "MALLOC_ARENA_MAX": "2"}
    try:
        _wait_ready(url, emulator, timeout=600)
        with Azurite() as azurite:
            env = {"DATAVERSE_URL": url, "DATAVERSE_AUTH": "local",
                   "STATE_STORAGE_CONNECTION": azurite.connection_string, "PROFILE_FILE": str(profiles),
                   "SCAN_ENABLED": "true", "SCAN_BATCH_SIZE": str(args.batch_size), "SCAN_FANOUT": "queue",
                   "SCAN_FANOUT_WAIT_SECONDS": "3600", "SCAN_LOCK_TTL_SECONDS": "900"}
            day = datetime.combine(today, datetime.min.time(), UTC).replace(hour=2).isoformat()
            stop_file = str(work / "stop")
            _post(url + "/_emulator/reset-counters")
            workers = [subprocess.Popen([sys.executable, __file__, "--worker", json.dumps(env), stop_file],
                                        cwd=ROOT, stdout=subprocess.PIPE, text=True, env=child_env)
                       for _ in range(args.workers)]
            wall = time.perf_counter()
            out = subprocess.run([sys.executable, __file__, "--orchestrator", json.dumps(env), day],
                                 cwd=ROOT, capture_output=True, text=True, check=True, env=child_env)
            results["wall_seconds"] = round(time.perf_counter() - wall, 2)
            Path(stop_file).touch()
            results["workers_out"] = [json.loads(w.communicate(timeout=600)[0].strip().splitlines()[-1])
                                      for w in workers]
            run = json.loads(out.stdout.strip().splitlines()[-1])
            summary = run.pop("summary")
            results["orchestrator"] = {**run, "status": summary["status"],
                                       "dataverse_requests": summary["dataverse_requests"]["total"],
                                       "table_operations": summary["table_operations"]["total"],
                                       "seconds_by_phase": summary["seconds_by_phase"]}
            results["counters"] = {k: v for k, v in summary["counters"].items() if v}
            results["notes"] = summary["notes"]
            results["emulator_requests"] = _get(url + "/_emulator/counters").get("requests")
    finally:
        emulator.terminate()
        emulator.wait(30)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    o = results["orchestrator"]
    print(f"Fan-out benchmark: {args.contacts} contacts, {args.workers} worker(s), "
          f"batch size {args.batch_size}")
    print(f"  run wall {results['wall_seconds']} s, status {o['status']}; emulator requests "
          f"{results['emulator_requests']}")
    print(f"  orchestrator: wall {o['wall_seconds']} s, CPU {o['cpu_seconds']} s, "
          f"peak RSS {o['peak_rss_mb']} MB, Dataverse requests {o['dataverse_requests']}, "
          f"table operations {o['table_operations']}")
    print(f"    seconds by phase {o['seconds_by_phase']}")
    for n, w in enumerate(results["workers_out"]):
        print(f"  worker {n}: wall {w['wall_seconds']} s (busy {w['busy_seconds']}), "
              f"CPU {w['cpu_seconds']} s, peak RSS {w['peak_rss_mb']} MB, batches {w['batches']}, "
              f"Dataverse requests {w['dataverse_requests']}, table operations {w['table_operations']}")
    print(f"  counters {results['counters']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
