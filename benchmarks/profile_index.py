"""Benchmark of the profile snapshot's index cache: first build, re-open from the cache, look-ups.

    .venv/bin/python benchmarks/profile_index.py --contacts 100000 [--contacts 1000000]

A JSONL snapshot is generated for a synthetic org (``localdev.sample_profiles`` over
``dataverse_emulator.generator``, as benchmarks/scan.py does) and aged by a minute (a file modified
within the last two seconds is never cached). Then each phase runs in a fresh child process, which
reports its own wall time, CPU time (getrusage) and peak RSS (ru_maxrss), plus its RSS before the phase
(the interpreter and imports), so the phase's own cost is the difference:

* ``memory``  parse into memory without a cache (the behaviour before the cache) + the look-ups
* ``build``   parse streaming into the cache file (records on disk as they are parsed, key columns in
              memory), map it (empty cache directory)
* ``reopen``  open the cache file written by ``build`` (no parse)
* ``lookups`` open the cache + the look-ups (by profile URL, e-mail, name + company, and misses)
* ``hashes``  open the cache + ``profile_hashes()`` over every profile

The look-up answers of ``memory`` and ``lookups`` are compared (status, profile id, content hash,
matched_on of every query) and must be identical.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _status_mb() -> dict[str, float]:
    """Linux /proc/self/status: VmHWM (peak RSS of this program image; ru_maxrss also counts the
    parent's RSS at fork, since Linux keeps it across exec), RssAnon (private heap) and RssFile (file
    pages mapped, here the cache file: page cache shared by every process mapping it)."""
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return {}
    wanted = {"VmHWM": "hwm_mb", "RssAnon": "rss_anon_mb", "RssFile": "rss_file_mb"}
    out = {}
    for line in lines:
        name, _, value = line.partition(":")
        if name in wanted:
            out[wanted[name]] = round(int(value.split()[0]) / 1024, 1)
    return out


def child(phase: str, path: str, index_dir: str, queries_file: str) -> None:
    """One phase in this process; prints one JSON line."""
    from functions.profiles import FileSnapshotSource, ProfileQuery

    queries = [ProfileQuery(**q) for q in json.loads(Path(queries_file).read_text())]
    cold, warm = queries[: len(queries) // 2], queries[len(queries) // 2 :]
    before = _status_mb()
    rss_before = _rss_mb()
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.perf_counter()
    source = FileSnapshotSource(path, index_dir=None if phase == "memory" else index_dir)
    stats = source.load()
    load_wall = time.perf_counter() - wall
    out: dict = {"phase": phase, "index_cache": stats.index_cache, "profiles": stats.profiles_loaded,
                 "load_seconds": round(load_wall, 3)}
    if phase in ("memory", "lookups"):
        t = time.perf_counter()
        results = source.lookup_results(cold)
        out["lookups_seconds"] = round(time.perf_counter() - t, 4)  # first batch: cold caches, imports
        t = time.perf_counter()
        results |= source.lookup_results(warm)
        out["lookups_warm_seconds"] = round(time.perf_counter() - t, 4)
        answers = [(cid, r.status, *((r.profile.profile_id, r.profile.content_hash, r.profile.matched_on)
                                     if r.profile else (None, None, None)))
                   for cid, r in sorted(results.items())]
        out["answers_digest"] = hashlib.sha256(json.dumps(answers).encode()).hexdigest()[:16]
        out["statuses"] = {s: sum(1 for a in answers if a[1] == s) for s in sorted({a[1] for a in answers})}
    if phase == "hashes":
        t = time.perf_counter()
        count = sum(1 for _ in source.profile_hashes())
        out["profile_hashes_seconds"] = round(time.perf_counter() - t, 3)
        out["profile_hashes"] = count
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out |= {
        "wall_seconds": round(time.perf_counter() - wall, 3),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime - usage0.ru_utime - usage0.ru_stime, 3),
        "rss_before_mb": rss_before,
        "peak_rss_mb": _rss_mb(),
        "anon_before_mb": before.get("rss_anon_mb"),
        **_status_mb(),
        "index_mb": round(stats.index_bytes / 1e6, 1),
    }
    print(json.dumps(out))


def _queries(path: Path, count: int) -> list[dict]:
    """``count`` queries spread over the file: a quarter each by URL, e-mail, name + company, and misses."""
    with open(path, encoding="utf-8") as lines:
        total = sum(1 for _ in lines)
    step = max(1, total // count)
    queries: list[dict] = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if number % step or len(queries) >= count:
                continue
            profile = json.loads(line)
            kind = len(queries) % 4
            query: dict = {"contact_id": f"q{len(queries)}"}
            if kind == 0:
                query["profile_url"] = profile.get("profile_url")
            elif kind == 1:
                query["email"] = (profile.get("emails") or [None])[0]
            elif kind == 2:
                company = next((p.get("company") or {} for p in profile.get("positions") or []), {})
                query |= {"first_name": profile.get("first_name"), "last_name": profile.get("last_name"),
                          "company_name": company.get("name"), "company_website": company.get("website")}
            else:
                query["email"] = f"nobody{number}@nowhere.example"
            queries.append(query)
    return queries


def _run(phase: str, path: Path, index_dir: Path, queries_file: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", phase, str(path), str(index_dir), str(queries_file)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def generate(contacts: str, seed: str, path: str) -> None:
    from dataverse_emulator.generator import OrgSpec, generate_org
    from localdev.sample_profiles import write_profile_file

    write_profile_file(generate_org(OrgSpec(contacts=int(contacts), seed=int(seed))), path, coverage=1.0,
                       today=datetime.now(UTC).date())


def bench(contacts: int, seed: int, lookups: int, work: Path) -> dict:
    path = work / f"profiles-{contacts}.jsonl"
    t = time.perf_counter()
    # In a child too: this process stays small, so the phases' ru_maxrss is not inflated by it (Linux
    # carries the parent's peak RSS over fork and exec).
    subprocess.run([sys.executable, __file__, "--generate", str(contacts), str(seed), str(path)], cwd=ROOT,
                   check=True)
    generated = round(time.perf_counter() - t, 1)
    old = time.time() - 60  # a snapshot delivered a minute ago: settled, so cacheable
    os.utime(path, (old, old))
    queries_file = work / f"queries-{contacts}.json"
    queries_file.write_text(json.dumps(_queries(path, 2 * lookups)))  # a cold and a warm batch
    index_dir = work / f"index-{contacts}"
    shutil.rmtree(index_dir, ignore_errors=True)
    runs = [_run(phase, path, index_dir, queries_file) for phase in ("memory", "build", "reopen", "lookups",
                                                                     "hashes")]
    memory, lookups_run = runs[0], runs[3]
    return {
        "contacts": contacts,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "generate_seconds": generated,
        "cache_file_mb": round(sum(f.stat().st_size for f in index_dir.glob("*.idx")) / 1e6, 1),
        "identical_answers": memory["answers_digest"] == lookups_run["answers_digest"],
        "runs": runs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, action="append", help="org size(s); default 100000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="print the results as JSON only")
    parser.add_argument("--child", nargs=4, metavar=("PHASE", "FILE", "DIR", "QUERIES"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--generate", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(*args.generate)
        return 0
    if args.child:
        child(*args.child)
        return 0
    work = Path(tempfile.mkdtemp(prefix="profile-index-bench-"))
    try:
        for contacts in args.contacts or [100_000]:
            result = bench(contacts, args.seed, args.lookups, work)
            if args.json:
                print(json.dumps(result))
                continue
            profiles = result["runs"][0]["profiles"]
            print(f"{contacts} contacts: {profiles} profiles, file {result['file_mb']} MB, "
                  f"cache file {result['cache_file_mb']} MB, generated in {result['generate_seconds']} s; "
                  f"look-up answers identical (memory vs cache): {result['identical_answers']}")
            print(f"  {'phase':8} {'index':9} {'load s':>8} {'wall s':>8} {'cpu s':>8} {'maxrss':>8} "
                  f"{'VmHWM':>8} {'anon 0':>8} {'anon':>8} {'file':>8}  extra (MB / s)")
            for run in result["runs"]:
                timed = ("lookups_seconds", "lookups_warm_seconds", "profile_hashes_seconds")
                extra = {k: run[k] for k in timed if k in run}
                print(f"  {run['phase']:8} {run['index_cache']:9} {run['load_seconds']:8.3f} "
                      f"{run['wall_seconds']:8.3f} {run['cpu_seconds']:8.3f} {run['peak_rss_mb']:8.1f} "
                      f"{run.get('hwm_mb', 0):8.1f} {run.get('anon_before_mb') or 0:8.1f} "
                      f"{run.get('rss_anon_mb', 0):8.1f} {run.get('rss_file_mb', 0):8.1f}  {extra or ''}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
