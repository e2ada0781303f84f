"""A seeded fault campaign against the daily scan, driven until the org converges, then checked.

    .venv/bin/python benchmarks/chaos.py --faults 3000            # the on-demand campaign
    .venv/bin/python benchmarks/chaos.py --faults 200 --check     # what `make test` runs (smaller org)

Everything runs in its own process, on loopback: the Dataverse emulator (``python -m dataverse_emulator``,
its fault draws seeded), Azurite with on-disk persistence (so it can be killed with SIGKILL and come back
with its data), and every scan (``python -m functions scan``, so it can be killed with SIGKILL at any
point). Each round draws, from one seeded RNG:

* Dataverse faults installed in the emulator for the round's scans: 429 throttling, 500/503 errors,
  dropped connections, commit-then-drop (the ``$batch`` commits, the answer is lost), expired tokens
  (401), slow answers, per-record failures inside ``$batch``, and expired delta tokens;
* harness faults: SIGKILL of a scan at a random moment, SIGKILL of Azurite under a running scan (restarted
  with its data), two scans at once, and a wiped state store (every table deleted);
* what people do meanwhile: set "Ignore" on a flagged contact, reset a flag to "No feedback", and contacts
  whose profile shows them back at their account (they must be unflagged - flags must not be orphaned).

Then every fault is removed and scans run until one writes nothing and fails nothing. The final Dataverse
state is compared with the fault-free reference - the oracle ``expected_verdicts`` (which
tests/localdev shows a fault-free scan reaches) with the people's actions applied - and the emulator's
write log: ``missing`` (a mover not flagged), ``wrong`` (a flag on someone who did not leave, or out of
scope), ``orphaned`` (a contact back at the account still flagged), ``ignores_overwritten``, and
``duplicated`` (a committed write that changed nothing). ``--check`` exits 1 unless all are 0.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from azure.core.exceptions import ResourceNotFoundError  # noqa: E402

from dataverse_emulator.generator import OrgSpec, generate_org  # noqa: E402
from functions.config import load_config  # noqa: E402
from functions.matching.records import Outcome  # noqa: E402
from functions.state import build_table_service  # noqa: E402
from functions.state.lock import RunLock  # noqa: E402
from functions.state.runs import RunRecords  # noqa: E402
from functions.state.tables import ScanTables  # noqa: E402
from localdev.azurite import Azurite  # noqa: E402
from localdev.sample_profiles import expected_verdicts, profile_id_for, write_profile_file  # noqa: E402
from tests.e2e.conftest import expected_scope  # noqa: E402

FLAG = "dval_nolongeratcompany"
NO_FEEDBACK, NOT_AT_COMPANY, IGNORE = 410200000, 410200001, 410200002
HARNESS_KINDS = ("kill_scan", "kill_azurite", "concurrent_scans", "wipe_state")
DATAVERSE_KINDS = ("throttle", "server_error", "drop", "commit_drop", "unauthorized", "slow", "fail_record",
                   "expired_delta")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    """The emulator in its own process, driven through its control endpoints."""

    def __init__(self, contacts: int, seed: int, fault_seed: int, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = requests.Session()
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dataverse_emulator", "--port", str(self.port),
             "--contacts", str(contacts), "--seed", str(seed), "--fault-seed", str(fault_seed)],
            cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                self.control("GET", "/_emulator/counters")
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise TimeoutError("the emulator did not start")

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, self.url + path, json=body, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def api(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"{self.url}/api/data/v9.2/{path}", json=body, timeout=30,
                                     headers={"Authorization": "Bearer chaos", "If-Match": "*"})
        response.raise_for_status()
        return response.json() if response.content else None

    def flags(self, ids: list[str]) -> dict[str, int | None]:
        out: dict[str, int | None] = {}
        for start in range(0, len(ids), 40):
            chunk = ids[start:start + 40]
            condition = " or ".join(f"contactid eq {i}" for i in chunk)
            query = f"contacts?$select=contactid,{FLAG}&$filter={condition}"
            for row in self.api("GET", query)["value"]:
                out[row["contactid"]] = row.get(FLAG)
        return out

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


class Campaign:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.work = work
        self.today = date.today()
        self.sample = generate_org(OrgSpec(contacts=args.contacts, seed=args.org_seed))
        self.profile_path = work / "profiles.jsonl"
        write_profile_file(self.sample, self.profile_path, today=self.today)
        self.scope = sorted(expected_scope(self.sample))
        self.expected = expected_verdicts(self.sample, self.profile_path, today=self.today)
        self.movers = [c for c in self.scope if self.expected[c] is Outcome.LEFT]
        self.azurite = Azurite(location=work / "azurite").start()
        self.emulator = Emulator(args.contacts, args.org_seed, args.seed, work / "emulator.log")
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith(("DATAVERSE_", "STATE_",
                                                                                 "PROFILE_", "SCAN_"))},
                    "DATAVERSE_URL": self.emulator.url, "DATAVERSE_AUTH": "local",
                    "DATAVERSE_MAX_RETRY_WAIT_SECONDS": "0.2", "DATAVERSE_MAX_RETRIES": "4",
                    "STATE_STORAGE_CONNECTION": self.azurite.connection_string, "STATE_TABLE_PREFIX": "chaos",
                    "PROFILE_FILE": str(self.profile_path), "SCAN_ENABLED": "true", "SCAN_BATCH_SIZE": "40"}
        self.harness: Counter[str] = Counter()
        self.runs: Counter[str] = Counter()
        self.ignored: set[str] = set()
        self.returned: set[str] = set()
        self.person_writes = 0
        self.fired_dataverse: Counter[str] = Counter()
        self.reset_now: set[str] = set()
        self.recorded_writes = 0  # writes in run records that a wipe of the state store deleted

    # ---------------------------------------------------------------------------------- state
    def tables(self) -> ScanTables:
        config = load_config({k: v for k, v in self.env.items() if k.startswith(("DATAVERSE_", "STATE_"))})
        return ScanTables(build_table_service(config), "chaos")

    def expire_lock(self) -> None:
        """A killed scan's lease: as if its TTL had passed (the next scan takes it over)."""
        past = datetime.now(UTC) - timedelta(hours=1)
        lock = RunLock(self.tables().locks)
        with contextlib.suppress(ResourceNotFoundError):  # wiped, and no scan since: no lock to expire
            lock.store.upsert(lock.entity("killed", past))

    def recorded(self) -> int:
        try:
            records = RunRecords(self.tables().runs).latest(100)
        except ResourceNotFoundError:  # wiped, and no scan since
            return 0
        return sum((r.get("counters") or {}).get("writes", 0) for r in records)

    def wipe_state(self) -> None:
        self.recorded_writes += self.recorded()
        service = self.tables().service
        for table in list(service.list_tables()):
            service.delete_table(table.name)

    # ---------------------------------------------------------------------------------- faults
    def install_faults(self) -> None:
        r, e = self.rng, self.emulator
        e.control("DELETE", "/_emulator/faults")
        plan = [
            {"kind": "throttle", "rate": 0.05, "retry_after": 0, "times": r.randint(0, 3)},
            {"kind": "server_error", "status": 503, "rate": 0.03, "times": r.randint(0, 3)},
            {"kind": "server_error", "status": 500, "method": "GET", "rate": 0.03, "times": r.randint(0, 2)},
            {"kind": "drop", "rate": 0.03, "times": r.randint(0, 2)},
            {"kind": "commit_drop", "method": "POST", "path": r"\$batch", "rate": 0.7, "times": 1},
            {"kind": "unauthorized", "rate": 0.2, "times": r.randint(0, 6)},
            {"kind": "slow", "delay": 0.01, "rate": 0.8, "times": r.randint(0, 60)},
        ]
        for fault in plan:
            if fault["times"]:
                e.control("POST", "/_emulator/faults", fault)
        # per-record failures inside $batch: most writes of this round's re-flags fail once
        for cid in sorted(self.reset_now):
            e.control("POST", "/_emulator/faults", {"kind": "fail_record", "record_id": cid, "times": 1,
                                                    "rate": 0.7})
        if r.random() < 0.3:
            e.control("POST", "/_emulator/expire-delta-tokens")
            self.harness["expired_delta"] += 1

    # ---------------------------------------------------------------------------------- people
    def people_act(self) -> None:
        r = self.rng
        try:
            flags = self.emulator.flags(self.movers)
        except requests.HTTPError:  # the flag column is not provisioned yet (before the first scan)
            return
        flagged = [c for c in self.movers if flags.get(c) == NOT_AT_COMPANY and c not in self.returned]
        if flagged and r.random() < 0.15:
            cid = r.choice(flagged)
            self.emulator.api("PATCH", f"contacts({cid})", {FLAG: IGNORE})
            self.ignored.add(cid)
            self.person_writes += 1
        candidates = [c for c in flagged if c not in self.ignored]
        self.reset_now = set(r.sample(candidates, k=min(len(candidates), r.randint(0, 8))))
        for cid in sorted(self.reset_now):  # people reset our flag: the app flags the mover again
            self.emulator.api("PATCH", f"contacts({cid})", {FLAG: NO_FEEDBACK})
            self.person_writes += 1
        movers = [c for c in self.movers
                  if c not in self.returned and c not in self.ignored and c not in self.reset_now]
        if movers and r.random() < 0.3:
            self.back_at_the_account(r.sample(movers, k=1))

    def back_at_the_account(self, contact_ids: list[str]) -> None:
        wanted = {profile_id_for(c): c for c in contact_ids}
        verified = self.today.isoformat()
        lines = self.profile_path.read_text(encoding="utf-8").splitlines()
        out, done = [], set()
        for line in lines:
            row = json.loads(line)
            if row.get("profile_id") in wanted and len(row.get("positions") or []) >= 2:
                current, at_account = row["positions"][0], row["positions"][1]
                if current.get("is_primary") and at_account.get("end_date"):
                    current.update(is_primary=False, end_date=verified[:7])
                    at_account.update(is_primary=True, end_date=None, start_date=verified[:7])
                    row["positions"] = [at_account, current]
                    row["last_verified"] = row["last_changed"] = verified
                    done.add(wanted[row["profile_id"]])
            out.append(json.dumps(row))
        self.profile_path.write_text("\n".join(out) + "\n", encoding="utf-8")
        self.returned |= done

    # ---------------------------------------------------------------------------------- scans
    def start_scan(self) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "functions", "scan", "--force"], cwd=ROOT,
                                env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def round(self) -> None:
        r = self.rng
        self.people_act()  # before the faults: people's edits and the harness's reads go through
        self.install_faults()
        if r.random() < 0.1:
            self.wipe_state()
            self.harness["wipe_state"] += 1
        scans = [self.start_scan()]
        if r.random() < 0.15:
            scans.append(self.start_scan())
            self.harness["concurrent_scans"] += 1
        kill_at = time.monotonic() + r.uniform(0.3, 4.0) if r.random() < 0.25 else None
        azurite_at = time.monotonic() + r.uniform(0.3, 3.0) if r.random() < 0.15 else None
        deadline = time.monotonic() + 600
        while any(s.poll() is None for s in scans) and time.monotonic() < deadline:
            if kill_at is not None and time.monotonic() >= kill_at:
                for scan in scans:
                    if scan.poll() is None:
                        scan.send_signal(signal.SIGKILL)
                        self.harness["kill_scan"] += 1
                kill_at = None
            if azurite_at is not None and time.monotonic() >= azurite_at:
                self.azurite.kill()
                self.harness["kill_azurite"] += 1
                time.sleep(r.uniform(0.2, 1.0))
                self.azurite.restart()
                azurite_at = None
            time.sleep(0.05)
        for scan in scans:
            if scan.poll() is None:
                scan.kill()
            scan.wait()
            self.runs[f"exit {scan.returncode}"] += 1
        self.record_fired()
        self.emulator.control("DELETE", "/_emulator/faults")
        self.expire_lock()

    def record_fired(self) -> None:
        self.fired_dataverse = Counter(self.emulator.control("GET", "/_emulator/faults")["fired_by_kind"])

    def faults_fired(self) -> Counter[str]:
        return self.fired_dataverse + self.harness

    def converge(self) -> int:
        self.emulator.control("DELETE", "/_emulator/faults")
        for n in range(1, 8):
            scan = self.start_scan()
            scan.wait()
            latest = RunRecords(self.tables().runs).latest(1)
            counters = (latest[0].get("counters") or {}) if latest else {}
            if scan.returncode == 0 and not counters.get("writes") and not counters.get("errors"):
                return n
        return -1

    def verdict(self) -> dict[str, Any]:
        scope = set(self.scope)
        everyone = [c["contactid"] for c in self.sample.rows("contacts")]
        flags = self.emulator.flags(everyone)
        missing, wrong, orphaned, ignores = [], [], [], []
        for cid in everyone:
            flag = flags.get(cid)
            if cid in self.ignored:
                if flag != IGNORE:
                    ignores.append(cid)
            elif cid in self.returned:
                if flag == NOT_AT_COMPANY:
                    orphaned.append(cid)
            elif cid in scope and self.expected[cid] is Outcome.LEFT:
                if flag != NOT_AT_COMPANY:
                    missing.append(cid)
            elif flag == NOT_AT_COMPANY or (cid not in scope and flag is not None):
                wrong.append(cid)
        counters = self.emulator.control("GET", "/_emulator/counters")
        recorded = self.recorded_writes + self.recorded()
        return {"missing": len(missing), "wrong": len(wrong), "orphaned": len(orphaned),
                "ignores_overwritten": len(ignores),
                "duplicated": counters.get("noop_updates", {}).get("contacts", 0),
                "examples": {"missing": missing[:5], "wrong": wrong[:5], "orphaned": orphaned[:5]},
                "committed_contact_updates": counters.get("operations", {}).get("update", 0)
                - self.person_writes,
                "writes_in_run_records": recorded, "returned": len(self.returned),
                "ignored": len(self.ignored), "movers": len(self.movers), "in_scope": len(scope)}

    def close(self) -> None:
        self.emulator.stop()
        self.azurite.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", type=int, default=3000, help="stop injecting once this many have fired")
    parser.add_argument("--contacts", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7, help="campaign seed (faults, people, kills)")
    parser.add_argument("--org-seed", type=int, default=3)
    parser.add_argument("--max-rounds", type=int, default=400)
    parser.add_argument("--check", action="store_true", help="exit 1 unless every defect count is 0")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="chaos-") as tmp:
        campaign = Campaign(args, Path(tmp))
        try:
            rounds = 0
            while sum(campaign.faults_fired().values()) < args.faults and rounds < args.max_rounds:
                campaign.round()
                rounds += 1
            fired = campaign.faults_fired()
            converged_after = campaign.converge()
            result = campaign.verdict()
        finally:
            campaign.close()
    result.update(rounds=rounds, scans=dict(campaign.runs), faults_by_kind=dict(sorted(fired.items())),
                  faults_total=sum(fired.values()), converged_after_runs=converged_after,
                  seconds=round(time.monotonic() - started, 1), seed=args.seed)
    defects = sum(result[k] for k in ("missing", "wrong", "orphaned", "ignores_overwritten", "duplicated"))
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"chaos campaign, seed {args.seed}: {result['faults_total']} faults in {rounds} rounds, "
              f"{result['seconds']} s")
        print("  faults by kind  " + ", ".join(f"{k} {v}" for k, v in result["faults_by_kind"].items()))
        print(f"  scans           {result['scans']}; converged after {converged_after} fault-free run(s)")
        print(f"  org             {result['in_scope']} in scope, {result['movers']} movers, "
              f"{result['returned']} came back, {result['ignored']} set to Ignore")
        print(f"  missing {result['missing']}, wrong {result['wrong']}, duplicated {result['duplicated']}, "
              f"orphaned {result['orphaned']}, Ignores overwritten {result['ignores_overwritten']}")
        print(f"  committed contact updates {result['committed_contact_updates']}, writes in run records "
              f"{result['writes_in_run_records']} (a scan killed with SIGKILL records none of its writes)")
        if defects:
            print(f"  examples {result['examples']}")
    missing_kinds = [k for k in (*DATAVERSE_KINDS, *HARNESS_KINDS) if not result["faults_by_kind"].get(k)]
    if args.check and (defects or converged_after < 0):
        return 1
    if missing_kinds:
        print(f"  (kinds that did not fire: {', '.join(missing_kinds)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
