"""One scan run: enabled? -> lock -> provision (cached) -> read -> plan -> validate in batches ->
write back -> record. See docs/scan.md.

At-least-once and idempotent: per-contact state is written only after its Dataverse write succeeded,
the checkpoint (delta links, profile digests) only after every batch succeeded. A failed or crashed run
leaves the previous checkpoint, so the next run sees the same changes again, skips the contacts whose
state already moved on, and never writes a value equal to the one it read.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from functions.config import AppConfig
from functions.dataverse import DataverseError, ExpiredDeltaTokenError
from functions.dataverse.column import ColumnBinding, SupportingColumns, option_values
from functions.dataverse.provisioning import provision
from functions.dataverse.provisioning_report import Action
from functions.dataverse.rounds import Read, Task, parallel
from functions.matching.config import DEFAULT as DEFAULT_MATCHING
from functions.matching.config import MatchingConfig
from functions.matching.records import Outcome
from functions.memory import give_back_free_memory
from functions.pipeline import crm_reader, fanout, hierarchy
from functions.pipeline.crm_reader import AccountInfo, CrmContact, CrmReader
from functions.pipeline.hashing import (
    ACCOUNT_COLUMNS,
    IdentityColumns,
    account_hash,
    contact_hash,
)
from functions.pipeline.plan import reason_for, shards_due
from functions.pipeline.scope import SyncUsers, in_scope, resolve_sync_users, sync_users_task
from functions.pipeline.spool import AccountSpool, PairSpool, PlanSpool, RowSpool, StateSpool, run_directory
from functions.pipeline.summary import RunSummary, requests_sent
from functions.pipeline.validate import BatchItem, lookup_key_hash, validate_batch
from functions.pipeline.writer import WRITE_FLUSH, BatchWriter, Planned, apply_facts, instant
from functions.profiles import ProfileCatalog
from functions.services import Services
from functions.state.batch_queue import BatchQueue
from functions.state.contacts import ContactState, ContactStates
from functions.state.crm_index import CrmIndex, PendingList, ProfileIndex, profile_shard
from functions.state.dataverse_limits import SharedPause
from functions.state.delta_links import ScanCheckpoint
from functions.state.echoes import WriteEchoes
from functions.state.lock import LockHeld, LockLost, RunLock
from functions.state.packed import delete_packed, write_packed
from functions.state.provisioned import ProvisionedRecord, ProvisionedStore, provisioning_fingerprint
from functions.state.runs import RunRecords, new_run_id
from functions.state.table_store import StaleEntityError

__all__ = ["RunHooks", "RunSummary", "new_run_id", "run_scan"]

log = logging.getLogger("functions.pipeline")

SCOPE_VERSION = 1  # bump when the scope rules change: forces a full read
POLL_SECONDS = 2.0  # fan-out: how often the run looks for batch results (one table query)
POISON_PEEK_SECONDS = 10.0  # fan-out: how often it peeks the poison queue for its batches
FACTS_FLUSH = 5000  # scope-fact updates buffered while reading


@dataclass
class RunHooks:
    """Callbacks for progress displays and tests (e.g. a crash injected after a batch)."""

    on_progress: Callable[[str, int, int], None] | None = None  # (phase, done, total)
    after_batch: Callable[[int, RunSummary], None] | None = None
    # Called once the run holds the run lock (and its "running" record is saved): the queue worker
    # removes the run request's pending marker here, so "queued" never outlives the request.
    on_locked: Callable[[RunSummary], None] | None = None

    def progress(self, phase: str, done: int, total: int) -> None:
        if self.on_progress:
            self.on_progress(phase, done, total)


class SyncUsersChanged(Exception):
    """The sync users are not those of the checkpoint (found with a delta read's first round): the run
    reads everything instead."""


class ProfileFileError(Exception):
    """The profile file looks empty or truncated: validating against it would unflag on no evidence."""


class _LeaseKeepingHooks(RunHooks):
    """Renews the run lock whenever progress is reported (a cheap clock check otherwise)."""

    def __init__(self, hooks: RunHooks, lease: Any) -> None:
        super().__init__(on_progress=hooks.on_progress, after_batch=hooks.after_batch)
        self._lease = lease

    def progress(self, phase: str, done: int, total: int) -> None:
        if self._lease is not None:
            self._lease.renew_if_due()
        super().progress(phase, done, total)


_Planned = Planned  # the plan spool pickles these
_instant = instant


def _now() -> datetime:
    return datetime.now(UTC)


def run_scan(
    config: AppConfig,
    *,
    services: Services | None = None,
    hooks: RunHooks | None = None,
    dry_run: bool | None = None,
    enabled: bool | None = None,
    trigger: str = "manual",
    wait_for_lock_seconds: float = 0.0,
    clock: Callable[[], datetime] = _now,
    run_id: str | None = None,
    matching: MatchingConfig | None = None,
    requested_by: str | None = None,
) -> RunSummary:
    """Run one scan and return its summary (also stored as the run record).

    ``enabled``: the toggle; ``None`` takes ``SCAN_ENABLED`` (the settings store passes its value).
    ``dry_run``: ``None`` takes ``SCAN_DRY_RUN``. Raises ``ConfigError`` only for missing settings;
    every other failure is reported in the summary (status ``failed``).
    ``run_id``: the id of a queued run request (its record is the same row); a new id otherwise.
    ``matching``: the verdict thresholds (the settings store's); the defaults otherwise.
    """
    scan = config.scan
    started = clock()
    summary = RunSummary(
        run_id=run_id or new_run_id(started),
        trigger=trigger,
        dry_run=scan.dry_run if dry_run is None else dry_run,
        started_at=started.isoformat(timespec="seconds"),
        requested_by=requested_by,
    )
    if not (scan.enabled if enabled is None else enabled):
        summary.status = "disabled"
        summary.message = "data validation is disabled (SCAN_ENABLED / settings); nothing done"
        summary.finished_at = summary.started_at
        log.info("scan skipped: disabled")
        return summary
    own = services is None
    services = services or Services.for_scan(config)
    hooks = hooks or RunHooks()
    t0 = time.monotonic()
    requests_before = dict(services.client.request_counts)
    tables = services.tables.ensure()
    if scan.fanout == "queue" and services.client.pause_gate is None:
        services.client.pause_gate = SharedPause(tables.locks)  # its workers' Retry-After is the run's too
    ops_before = Counter(tables.ops)
    runs = RunRecords(tables.runs)
    lock = RunLock(tables.locks, ttl_seconds=scan.lock_ttl_seconds, clock=clock)
    lease = None
    try:
        try:
            lease = lock.acquire(summary.run_id, wait_seconds=wait_for_lock_seconds)
        except LockHeld as exc:
            summary.status = "skipped_locked"
            summary.message = f"another scan is running ({exc}); this one did nothing"
            log.warning("scan %s skipped: %s", summary.run_id, exc)
            return summary
        if lease.took_over:
            summary.notes.append(f"took over the lock of run {lease.took_over}, which had expired")
            _mark_abandoned(runs, lease.took_over, summary.run_id, clock)
        runs.save(summary.to_dict())
        if hooks.on_locked:
            try:
                hooks.on_locked(summary)
            except Exception:  # bookkeeping of the caller; never a reason to fail the scan
                log.exception("scan %s: the on_locked hook failed", summary.run_id)
        scan_run = _Run(config, services, summary, hooks, lease, clock, matching or DEFAULT_MATCHING)
        try:
            scan_run.execute()
        finally:
            scan_run.close()
        summary.status = "completed_with_errors" if summary.counters["errors"] else "succeeded"
    except LockLost as exc:
        summary.status = "failed"
        summary.message = str(exc)
    except Exception as exc:  # reported in the run record; the next run redoes the work
        summary.status = "failed"
        summary.message = f"{type(exc).__name__}: {exc}"
        log.exception("scan %s failed", summary.run_id)
        if _org_may_have_changed(exc):
            try:  # the org may have changed under us (a deleted column): check provisioning next time
                ProvisionedStore(tables.provisioning).clear()
            except Exception:  # pragma: no cover
                log.exception("could not reset the provisioning record")
    finally:
        summary.finished_at = clock().isoformat(timespec="seconds")
        summary.duration_seconds = time.monotonic() - t0
        after = services.client.request_counts
        summary.requests = {k: after.get(k, 0) - requests_before.get(k, 0) for k in after}
        summary.requests = {k: v for k, v in summary.requests.items() if v}
        summary.table_operations = dict(Counter(tables.ops) - ops_before)
        try:
            runs.save(summary.to_dict())
        except Exception:  # pragma: no cover - storage gone; the log still has it
            log.exception("could not save the run record of %s", summary.run_id)
        if lease is not None:
            try:
                lease.release()
            except Exception:  # pragma: no cover - it expires on its own
                log.exception("could not release the scan lock")
        if own:
            services.close()
    log.info("scan %s %s: %s", summary.run_id, summary.status, json.dumps(dict(summary.counters)))
    return summary


def _mark_abandoned(runs: RunRecords, run_id: str, taken_over_by: str, clock: Callable[[], datetime]) -> None:
    """A run whose lock expired without a release stopped mid-way (its instance died): its record would
    say "running" for ever. Best effort, conditional on the row not having moved on meanwhile."""
    try:
        stored = runs.read(run_id)
        if stored is None or stored.record.get("status") not in ("running", "queued"):
            return
        record = {**stored.record, "status": "failed", "finished_at": clock().isoformat(timespec="seconds"),
                  "message": "abandoned: its run lock expired without being released (the instance "
                             f"stopped); run {taken_over_by} took over and redoes the work"}
        runs.save(record, etag=stored.etag)
    except Exception:  # never let bookkeeping of an old run stop this one
        log.warning("could not mark the abandoned run %s as failed", run_id, exc_info=True)


def _org_may_have_changed(exc: BaseException) -> bool:
    """A Dataverse answer suggesting our columns are gone (400 bad column, 404 not found), as opposed
    to a transient failure (timeouts, throttling, 5xx) that should keep the provisioning cache."""
    status = getattr(exc, "status", None)
    return isinstance(exc, DataverseError) and (status in (400, 404) or "not found" in str(exc).lower()
                                               or "does not exist" in str(exc).lower())


class _Run:
    def __init__(self, config: AppConfig, services: Services, summary: RunSummary, hooks: RunHooks,
                 lease: Any, clock: Callable[[], datetime],
                 matching: MatchingConfig = DEFAULT_MATCHING) -> None:
        self.config = config
        self.matching = matching
        self.scan = config.scan
        self.client = services.client
        self.tables = services.tables
        self.source = services.profiles
        self.summary = summary
        self.c = summary.counters
        self.hooks = _LeaseKeepingHooks(hooks, lease)
        self.lease = lease
        self.clock = clock
        self.now = clock()
        self.today: date = self.now.date()
        self.dry = summary.dry_run
        self.states = ContactStates(self.tables.contacts)
        self.index = CrmIndex(self.tables.crmindex)
        self.pending_list = PendingList(self.tables.crmindex)
        self.profile_index = ProfileIndex(self.tables.profiles)
        self.checkpoint_store = ScanCheckpoint(self.tables.deltalinks)
        self.echoes = WriteEchoes(self.tables.crmindex)
        # contact id -> the row version our write produced (recorded at commit for the next delta run)
        self.written_versions: dict[str, str] = {}
        # collected while reading/planning
        self.state_updates: list[ContactState] = []  # scope facts only (no validation)
        self.deleted: set[str] = set()
        # the run's scratch space on local disk: planned work and, on a full read, the stored states
        self.workdir = run_directory()
        self.plan = PlanSpool(self.workdir)
        self.pairs = PairSpool(ProfileIndex.page_of, self.workdir)  # written once, at the end
        self.pending: dict[str, dict[str, Any]] = {}
        self.new_pending: list[tuple[str, str, str]] = []
        # (opportunity, parent contact) and (connection, opportunity, contact) to store at commit
        self.index_opps = RowSpool("opportunities", self.workdir)
        self.index_conns = RowSpool("connections", self.workdir)
        self.index_deleted_opps: list[str] = []
        self.index_deleted_conns: list[str] = []
        self.drop_pending: list[str] = []
        # contacts that entered scope in this run (no in-scope state yet), and those whose state was
        # stored: one whose validation or write failed is not in scope until its state is stored, so a
        # later run does not count it twice
        self.entering = 0
        self.entering_stored = 0
        self.profile_changed: set[str] = set()
        self.profiles_moved = False
        self.profile_count: int | None = None
        self.profile_version: str | None = None
        self.profile_file_unchanged = False  # a file source whose version is the last run's
        self.checkpoint: dict[str, Any] = {}

    def close(self) -> None:
        """Remove the run's scratch files."""
        for spool in (self.plan, self.pairs, self.index_opps, self.index_conns):
            spool.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # ------------------------------------------------------------------ steps
    def _timed(self, phase: str, started: float) -> float:
        now = time.monotonic()
        self.summary.seconds[phase] += now - started
        return now

    def execute(self) -> None:
        t = time.monotonic()
        binding, supporting, flag_column = self._provision()
        t = self._timed("provisioning", t)
        self.binding, self.supporting = binding, supporting
        self.sync: SyncUsers | None = None  # read with a delta run's first round, or before a full read
        employer_column = supporting.current_employer if supporting and flag_column else None
        validated_on_column = supporting.validated_on if supporting and flag_column else None
        identity = IdentityColumns(self.scan.profile_url_columns, self.scan.extra_email_columns)
        reader = CrmReader(self.client, flag_column=flag_column, employer_column=employer_column,
                           page_size=self.config.dataverse.page_size, identity=identity,
                           validated_on_column=validated_on_column)
        self.reader = reader
        checkpoint = self.checkpoint_store.load()
        self.checkpoint = checkpoint
        links: dict[str, str] = checkpoint.get("delta_links", {})
        reasons_full = []
        if not checkpoint:
            reasons_full.append("first run")
        elif not all(links.get(t) for t in crm_reader.TABLES):
            reasons_full.append("no delta links yet")
        if checkpoint and (checkpoint.get("scope_version") != SCOPE_VERSION
                           or checkpoint.get("columns") != reader.contact_columns
                           or checkpoint.get("account_columns") != list(ACCOUNT_COLUMNS)):
            reasons_full.append("columns or scope rules changed")
        moved = self.states.migrate_if_needed(int(checkpoint.get("in_scope") or 0))
        if moved:
            self.summary.notes.append(f"{moved} contact states of an earlier version moved into pages")
        self.pending = self.pending_list.all()
        self.hooks.progress("reading profiles", 0, 0)
        t = self._timed("sync_users_and_checkpoint", t)
        digests = self._profile_digests()
        give_back_free_memory()  # what building the profile index freed: its key columns, parsed rows
        t = self._timed("profile_file", t)
        new_links: dict[str, str | None] = {}
        if not reasons_full:
            try:
                new_links = self._read_delta(links, checkpoint, digests)
                self.summary.mode = "delta"
            except ExpiredDeltaTokenError:
                self._reset_collections()
                reasons_full.append("delta token expired")
            except SyncUsersChanged:
                self._reset_collections()
                self.reader.bad_rows.clear()  # the full read meets the same rows again
                reasons_full.append("sync users changed")
        if reasons_full:
            self._sync_users_for_full_read(checkpoint, reasons_full)
            self.summary.mode = "full"
            self.summary.notes.append("full read: " + ", ".join(reasons_full))
            new_links = self._read_full()
        self.summary.rows_read.update(self.reader.rows_read)
        bad_rows = sum(self.reader.bad_rows.values())
        if bad_rows:
            self.c["skipped"] += bad_rows
            self.c["errors"] += bad_rows
            self.summary.skipped["bad_row"] += bad_rows
            self.summary.errors["bad_row"] += bad_rows
            self.summary.notes.append("malformed rows skipped: " + ", ".join(
                f"{k} {v}" for k, v in sorted(self.reader.bad_rows.items())))
        give_back_free_memory()  # what reading freed (pages of rows), before validating takes its share
        t = self._timed("read_and_plan", t)
        self._validate_and_write()
        t = time.monotonic()
        if self.dry:
            return
        self._commit(new_links, digests)
        self._timed("commit", t)

    def _reset_collections(self) -> None:
        self.state_updates, self.deleted = [], set()
        self.plan.close()
        self.plan = PlanSpool(self.workdir)
        for spool in (self.index_opps, self.index_conns):
            spool.close()
        self.index_opps = RowSpool("opportunities", self.workdir)
        self.index_conns = RowSpool("connections", self.workdir)
        self.index_deleted_opps, self.index_deleted_conns = [], []
        self.drop_pending = []
        self.entering, self.entering_stored = 0, 0
        self.pending = self.pending_list.all()
        self.c.clear()

    def _provision(self) -> tuple[ColumnBinding, SupportingColumns | None, str | None]:
        dv = self.config.dataverse
        store = ProvisionedStore(self.tables.provisioning)
        fingerprint = provisioning_fingerprint(dv)
        record = store.load()
        if record and record.fresh(fingerprint, self.now, self.scan.provisioning_max_age_hours):
            self.summary.provisioning = f"cached ({record.provisioned_at.isoformat(timespec='seconds')})"
            return record.binding, record.supporting, record.binding.logical_name
        before = requests_sent(self.client.request_counts)
        report = provision(self.client, dv, dry_run=self.dry)
        after = requests_sent(self.client.request_counts)
        self.summary.provisioning_requests = after - before
        self.summary.provisioning = "checked, changed" if report.changed else "checked, nothing to change"
        missing = {c.name.removeprefix("contact.") for c in report.components
                   if c.kind == "column" and c.action is Action.WOULD_CREATE}
        if report.binding is None or report.binding.logical_name in missing:
            # dry run against an org without the column yet: nothing to read, everything would be new
            self.summary.notes.append("the flag column does not exist yet (dry run): values read as empty")
            binding = report.binding or ColumnBinding(f"{dv.publisher_prefix}_nolongeratcompany",
                                                      option_values(dv.option_value_prefix))
            return binding, None, None
        created = {c.name.removeprefix("contact.") for c in report.components
                   if c.kind == "column" and c.action is Action.CREATED}
        if not self.dry and report.binding.logical_name in created:
            # the flag column was (re-)created: every value in it is gone. Forget the checkpoint so this
            # run reads every contact, and contacts we had flagged are re-planned (``value_drifted``).
            self.summary.notes.append("the flag column was created: full read, lost flags re-checked")
            self.checkpoint_store.clear()
        supporting = report.supporting_columns
        if supporting is not None and {supporting.validated_on, supporting.current_employer} & missing:
            supporting = None  # dry run: the supporting columns do not exist yet
        if not self.dry:
            store.save(ProvisionedRecord(fingerprint, self.now, report.binding, report.supporting_columns))
        return report.binding, supporting, report.binding.logical_name

    def _profile_digests(self) -> dict[str, str] | None:
        """The per-shard digests of the profile file's (profile id, content hash) pairs, streamed from
        the source's index (a local re-read, no billed look-up); None for sources without a cheap diff
        (PDL). Afterwards ``profiles_moved`` says whether a stored profile hash can be out of date.

        A file whose version (size and mtime, or the blob's ETag) is the one the last good run read
        has not changed: its digests come from the checkpoint and nothing is read."""
        if not isinstance(self.source, ProfileCatalog):
            return None
        self.profile_version = self.source.version()
        digests = self.checkpoint.get("profile_digests")
        previous = int(self.checkpoint.get("profile_count") or 0)
        if digests and previous and self.profile_version == self.checkpoint.get("profile_version"):
            self.profile_count = previous
            self.summary.profile_file = {"unchanged_since_last_run": True, "profiles": previous}
            self.profile_file_unchanged = True
            return digests
        count = 0

        def counted() -> Iterator[tuple[str, str]]:
            nonlocal count
            for pair in self.source.profile_hashes():
                count += 1
                yield pair

        digests = ProfileIndex.shard_digests(counted())
        self.profile_count = count
        self._record_profile_file_stats()
        if not count:
            raise ProfileFileError("PROFILE_FILE: the profile file holds no profiles (empty or truncated "
                                   "file?); the run stopped before validating anything")
        if previous and count * 2 < previous:
            raise ProfileFileError(f"PROFILE_FILE: the profile file holds {count} profiles, fewer "
                                   f"than half of the {previous} of the last good run (truncated file?); "
                                   "the run stopped before validating anything")
        self.profiles_moved = True
        return digests

    def _record_profile_file_stats(self) -> None:
        """Malformed profile rows go into the run record (counters, ``profile_file``), not only the log."""
        stats = getattr(self.source, "stats", None)
        as_dict = getattr(stats, "as_dict", None)
        if as_dict is None:
            return
        found = as_dict()
        malformed = dict(found.get("rows_malformed") or {})
        kept = ("rows_read", "profiles_loaded", "profiles_rejected")
        self.summary.profile_file = {k: found[k] for k in kept if k in found} | {"rows_malformed": malformed}
        if malformed:
            self.c["profile_rows_malformed"] = sum(malformed.values())
            self.summary.notes.append("profile file: malformed rows skipped: " + ", ".join(
                f"{reason} {count}" for reason, count in sorted(malformed.items())))

    # ------------------------------------------------------------------ sync users
    def _use_sync(self, sync: SyncUsers) -> None:
        self.sync = sync
        self.summary.sync_users = f"{len(sync.owner_ids)} ({sync.source})"

    def _sync_users_for_full_read(self, checkpoint: dict[str, Any], reasons: list[str]) -> None:
        """A full read needs the sync users first (one request, none with ``SYNC_USER_IDS``); other sync
        users than the checkpoint's are one more reason for it."""
        if self.sync is not None:
            return
        self._use_sync(resolve_sync_users(self.client, self.scan))
        if checkpoint and checkpoint.get("sync_fingerprint") != self.sync.fingerprint:
            reasons.insert(1 if reasons[:1] == ["no delta links yet"] else 0, "sync users changed")

    # ------------------------------------------------------------------ full read
    def _read_full(self) -> dict[str, str | None]:
        r = self.reader
        links: dict[str, str | None] = {}
        self.hooks.progress("reading accounts", 0, 0)
        with AccountSpool(self.workdir) as accounts:
            for info in r.converted("accounts", None):
                accounts.put(info.record.account_id, info.parent_id, info)
            links["accounts"] = r.last_link
            self._note_truncated(hierarchy.attach_spooled(accounts))
            links |= self._read_full_contacts(accounts)
        return links

    def _read_full_contacts(self, accounts: AccountSpool) -> dict[str, str | None]:
        r = self.reader
        links: dict[str, str | None] = {}
        self.hooks.progress("reading opportunities", 0, 0)
        scoped_opps: set[str] = set()
        linked: set[str] = set()
        for opp in r.converted("opportunities", None):
            if opp.open and opp.owner_id in self.sync:
                scoped_opps.add(opp.opportunity_id)
                if opp.parent_contact:
                    linked.add(opp.parent_contact)
            self.index_opps.append((opp.opportunity_id, opp.parent_contact))
        links["opportunities"] = r.last_link
        self.hooks.progress("reading connections", 0, 0)
        for conn in r.converted("connections", None):
            self.index_conns.append((conn.connection_id, conn.opportunity_id, conn.contact_id))
            if conn.active and conn.opportunity_id in scoped_opps:
                linked.add(conn.contact_id)
        links["connections"] = r.last_link
        del scoped_opps
        self.hooks.progress("reading state", 0, 0)
        with StateSpool(self.states.iter_compact(), key=lambda s: s.contact_id,
                        directory=self.workdir) as states:
            seen = 0
            for item in r.changes("contacts", None):
                if not hasattr(item, "row"):
                    continue
                contact = r.safe(r.contact, item.row, "contacts")
                if contact is None:  # malformed row: skipped (counted); its state is kept, not deleted
                    states.pop(str(item.row.get("contactid") or "").lower())
                    continue
                seen += 1
                if seen % 5000 == 0:
                    self.hooks.progress("reading contacts", seen, 0)
                cid = contact.contact_id
                account = accounts.get(contact.record.account_id) if contact.record.account_id else None
                self._evaluate(contact, account, cid in linked, states.pop(cid))
            links["contacts"] = r.last_link
            # state of contacts Dataverse no longer returns
            self.deleted |= {state.contact_id for state in states.rest()}
        return links

    # ------------------------------------------------------------------ delta read
    def _read_delta(self, links: dict[str, str], checkpoint: dict[str, Any],
                    digests: dict[str, str] | None) -> dict[str, str | None]:
        """The changes since the checkpoint, then the targeted reads they call for, in rounds
        (``functions.dataverse.rounds``): reads that do not wait for another's answer share a ``$batch``
        - the sync users, the contacts to read by id, the accounts they are expected at and those
        accounts' parents and children, the opportunity links - and each further round reads what the
        last one's answers asked for (the account of a contact that moved, the next level of a tree).

        Raises ``ExpiredDeltaTokenError`` and ``SyncUsersChanged`` before anything is evaluated: the
        caller then reads everything (``_read_full``)."""
        r = self.reader
        out: dict[str, str | None] = {}
        tables = {}
        for name in crm_reader.TABLES:
            self.hooks.progress(f"reading {name} changes", 0, 0)
            tables[name] = r.read_table(name, links[name])
            out[name] = tables[name].delta_link
        contact_rows: dict[str, CrmContact] = {c.contact_id: c for c in tables["contacts"].changed}
        self.deleted |= set(tables["contacts"].deleted)
        walk = hierarchy.TreeWalk()
        walk.know(tables["accounts"].changed)  # read in the delta: never read again
        _, found = r.run(parallel(self._sync_users_task(checkpoint),
                                  self._delta_reads(tables, contact_rows, walk, checkpoint, digests)))
        states, relink, links_found, used = found
        linked = links_found.linked(self.sync)
        for cid, contact in contact_rows.items():
            state = states.get(cid)
            opp_linked = cid in linked if cid in relink else bool(state and state.opp_linked)
            self._evaluate(contact, used.get(contact.record.account_id or ""), opp_linked, state)
        gone_in_scope = sum(1 for cid in self.deleted if states.get(cid) and states[cid].in_scope)
        # in-scope total = last run's total + entered - left (only candidates were looked at)
        self.c["in_scope"] = max(0, int(checkpoint.get("in_scope", 0)) + self.entering
                                 - self.c["left_scope"] - gone_in_scope)
        return out

    def _sync_users_task(self, checkpoint: dict[str, Any]) -> Task[None]:
        """The sync users, read in the first round of the delta's targeted reads (alone, as a plain
        GET, on a day without any). Other sync users than the checkpoint's: ``SyncUsersChanged``."""
        if self.sync is None:
            self._use_sync((yield from sync_users_task(self.scan)))
        if checkpoint.get("sync_fingerprint") != self.sync.fingerprint:
            raise SyncUsersChanged

    def _delta_reads(self, tables: dict[str, Any], contact_rows: dict[str, CrmContact],
                     walk: hierarchy.TreeWalk, checkpoint: dict[str, Any], digests: dict[str, str] | None,
                     ) -> Task[tuple[dict[str, ContactState], set[str], Any, dict[str, AccountInfo]]]:
        """What a delta run must look at, read in rounds; returns the stored states, the contacts whose
        opportunity link is read again, those links, and the accounts in use (with their hierarchies).
        Fills ``contact_rows`` with every contact to evaluate."""
        r = self.reader
        accounts: dict[str, AccountInfo] = {a.record.account_id: a for a in tables["accounts"].changed}
        recheck: set[str] = set()  # contacts whose opportunity link must be re-read
        opp_ids = []
        for opp in tables["opportunities"].changed:
            old = self.index.opportunity(opp.opportunity_id)
            recheck |= {c for c in (old, opp.parent_contact) if c}
            opp_ids.append(opp.opportunity_id)
            self.index_opps.append((opp.opportunity_id, opp.parent_contact))
        for opp_id in tables["opportunities"].deleted:
            old = self.index.opportunity(opp_id)
            if old:
                recheck.add(old)
            self.index_deleted_opps.append(opp_id)
        for conn in tables["connections"].changed:
            old_conn = self.index.connection(conn.connection_id)
            recheck.add(conn.contact_id)
            if old_conn:
                recheck.add(old_conn[1])
            self.index_conns.append((conn.connection_id, conn.opportunity_id, conn.contact_id))
        for conn_id in tables["connections"].deleted:
            old_conn = self.index.connection(conn_id)
            if old_conn:
                recheck.add(old_conn[1])
            self.index_deleted_conns.append(conn_id)
        # round(s) 1: the stakeholders of changed opportunities, the contacts of changed accounts and -
        # a changed account may change the hierarchy of every account under its top-level parent (a
        # sister renamed, a parent added) - the contacts of every account of their trees (re-validated
        # only where their account hash moved)
        in_changed_trees: set[str] = set()
        stakeholders = r.read_connections_of_opportunities(opp_ids)
        yield from self._changed_trees(accounts, tables["accounts"].deleted, walk, contact_rows,
                                       in_changed_trees, [stakeholders])
        recheck |= {conn.contact_id for conn in stakeholders.results}
        # profile changes (file source): only shards whose digest moved are read
        old_digests = checkpoint.get("profile_digests")
        if digests is not None and old_digests is not None and self.profiles_moved:
            for shard in sorted(set(digests) | set(old_digests)):
                if digests.get(shard) == old_digests.get(shard):
                    continue
                for pid, cid, phash in self.profile_index.pairs_in(shard):
                    if self.source.profile_hash(pid) != phash:
                        self.profile_changed.add(cid)
        # refresh due: the shards whose slot day came up since the last run
        last_day = checkpoint.get("last_day")
        since = date.fromisoformat(last_day) if last_day else None
        due_states: dict[str, ContactState] = {}
        if since is None or since < self.today:
            for state in self.states.iter_shards(shards_due(since, self.today, self.scan.refresh_days)):
                due = state.next_refresh and date.fromisoformat(state.next_refresh) <= self.today
                if state.in_scope and due:
                    due_states[state.contact_id] = state
        candidates = set(contact_rows) | recheck | set(self.pending) | self.profile_changed | set(due_states)
        candidates -= self.deleted
        # a row still at the version our last write produced was changed by nobody since: our echo,
        # nothing to read or decide (docs/scan.md, "Own write-back")
        echoes = self.echoes.load(checkpoint.get("echo_run_id")) if contact_rows else {}
        looked_at = recheck | set(self.pending) | self.profile_changed | set(due_states) | in_changed_trees
        for cid in [c for c in contact_rows if c in echoes and c not in looked_at]:
            contact = contact_rows[cid]
            if (contact.etag and echoes[cid] == contact.etag
                    and (contact.record.account_id or "") not in accounts):
                del contact_rows[cid]
                candidates.discard(cid)
                self.c["own_writes_recognised"] += 1
        del echoes
        states = dict(due_states)
        per_partition = int(checkpoint.get("in_scope", 0)) / 256
        states.update(self.states.get_many(candidates - set(due_states), partition_size=per_partition))
        # a changed row whose scope facts and hash are what we stored is our own write-back (or a column
        # the verdict does not read): nothing to do
        for cid in list(contact_rows):
            state = states.get(cid)
            if (cid in recheck or cid in self.pending or cid in self.profile_changed or cid in due_states
                    or cid in in_changed_trees):
                continue
            if state is not None and self._unchanged(contact_rows[cid], state, accounts):
                del contact_rows[cid]
                candidates.discard(cid)
        # next round: the contacts to read by id, their opportunity links and their accounts' trees. The
        # accounts are those of the rows at hand and, for the contacts still to read, the stored ones (a
        # contact that moved has its new account read in the round after)
        missing = candidates - set(contact_rows)
        maybe_relink = {cid for cid in set(contact_rows) | missing
                        if cid in recheck or states.get(cid) is None}
        expected = {c.record.account_id for c in contact_rows.values() if c.record.account_id}
        expected |= {s.account_id for cid in missing if (s := states.get(cid)) is not None and s.account_id}
        walk.add(sorted(expected))
        links_found, _ = yield from parallel(r.opportunity_links_task(maybe_relink),
                                             self._contacts_and_trees(missing, contact_rows, walk))
        used = {aid: walk.known[aid] for c in contact_rows.values()
                if (aid := c.record.account_id or "") in walk.known}
        if used:
            walk.attach(used)
            self._note_truncated(walk.truncated)
        relink = {cid for cid in contact_rows if cid in recheck or states.get(cid) is None}
        return states, relink, links_found, used

    def _changed_trees(self, accounts: dict[str, AccountInfo], deleted: list[str], walk: hierarchy.TreeWalk,
                       contact_rows: dict[str, CrmContact], in_changed_trees: set[str], first: list[Read],
                       ) -> Task[None]:
        """The contacts of changed (and deleted) accounts and of every account of the changed accounts'
        trees: the trees are read level by level (``TreeWalk``), the contacts of the accounts a round
        found in the next round, with the tree's next level; ``first`` goes in the first round."""
        r = self.reader
        reads = list(first)
        of_changed = r.read_contacts_of_accounts([*accounts, *deleted])
        reads.append(of_changed)
        walk.add(sorted(accounts))
        asked = set(accounts) | set(deleted)
        of_trees: list[Read] = []
        while True:
            reads += walk.reads(r.read_accounts_by_id, r.read_accounts_by_parent)
            fresh = walk.reached - asked
            if fresh:
                asked |= fresh
                of_trees.append(r.read_contacts_of_accounts(fresh))
                reads.append(of_trees[-1])
            if not any(read.filters for read in reads):
                break
            yield reads
            reads = []
            walk.settle()
        for contact in of_changed.results:
            contact_rows.setdefault(contact.contact_id, contact)
        for read in of_trees:
            for contact in read.results:
                contact_rows.setdefault(contact.contact_id, contact)
                in_changed_trees.add(contact.contact_id)

    def _contacts_and_trees(self, missing: set[str], contact_rows: dict[str, CrmContact],
                            walk: hierarchy.TreeWalk) -> Task[None]:
        """The contacts to read by id, with the trees of the accounts added to ``walk``, level by level;
        the accounts of the contacts read (if not expected) join the walk in the round after."""
        r = self.reader
        contacts: Read | None = r.read_contacts_by_id(missing)
        reads: list[Read] = [contacts] if contacts is not None else []
        while True:
            reads += walk.reads(r.read_accounts_by_id, r.read_accounts_by_parent)
            if not any(read.filters for read in reads):
                return
            yield reads
            reads = []
            walk.settle()
            if contacts is not None:
                for contact in contacts.results:
                    contact_rows[contact.contact_id] = contact
                self.deleted |= missing - set(contact_rows)  # no longer readable: forget them
                walk.add(sorted({c.record.account_id for c in contacts.results if c.record.account_id}))
                contacts = None

    def _note_truncated(self, cut: int) -> None:
        if cut:
            self.summary.notes.append(f"{cut} account hierarch{'y' if cut == 1 else 'ies'} larger than "
                                      f"{hierarchy.MAX_TREE} accounts: only the first {hierarchy.MAX_TREE} "
                                      "are compared")

    @staticmethod
    def _unchanged(contact: CrmContact, state: ContactState, changed_accounts: dict[str, Any]) -> bool:
        return (
            state.checked_at is not None
            and (contact.record.account_id or "") not in changed_accounts
            and state.in_scope
            and contact.active == state.active
            and contact.owner_id == state.owner_id
            and (contact.record.account_id or None) == (state.account_id or None)
            and contact_hash(contact.record) == state.contact_hash
            # a person reset the flag (or set Ignore): not our echo, look at it (value_drifted)
            and contact.flag_value == state.flag_value
        )

    # ------------------------------------------------------------------ planning
    def _evaluate(self, contact: CrmContact, account: AccountInfo | None, opp_linked: bool,
                  state: ContactState | None) -> None:
        cid = contact.contact_id
        account_owner = account.owner_id if account else None
        scoped = in_scope(active=contact.active, owner_id=contact.owner_id, account_owner_id=account_owner,
                          opp_linked=opp_linked, sync=self.sync)
        if not scoped:
            if state is not None and state.in_scope:
                self.c["left_scope"] += 1
                self._update_facts(self._facts(state, contact, account, opp_linked, in_scope=False))
            if cid in self.pending:
                self.pending.pop(cid)
                self.drop_pending.append(cid)
            return
        self.c["in_scope"] += 1
        if state is None or not state.in_scope:
            self.entering += 1
        c_hash = contact_hash(contact.record)
        a_hash = account_hash(account.record if account else None)
        pending = self.pending.get(cid)
        reason = reason_for(
            state,
            contact_hash=c_hash,
            account_id=contact.record.account_id,
            account_hash=a_hash,
            profile_changed=self._profile_moved(state),
            value_drifted=self._value_drifted(contact, state),
            pending_reason=pending.get("reason") if pending else None,
            today=self.today,
        )
        if reason is None:
            facts = (contact.owner_id, account_owner, opp_linked, contact.active)
            if state is not None and facts != (state.owner_id, state.account_owner_id, state.opp_linked,
                                               state.active):
                self._update_facts(self._facts(state, contact, account, opp_linked, in_scope=True))
            return
        last_checked = (state.checked_at or "") if state is not None else ""
        self.plan.add(cid, last_checked, reason,
                      _Planned(contact, account, reason, c_hash, a_hash, opp_linked, state,
                               self._known_profile(contact, account, reason, state)))

    def _known_profile(self, contact: CrmContact, account: AccountInfo | None, reason: str,
                       state: ContactState | None) -> str | None:
        """The profile a changed contact can be decided on again without a look-up: only a change that
        leaves every look-up key as it was (a new job title, a phone), on a day the profile file is
        the version the last run read (a look-up could find nothing else), for a matched profile."""
        if (reason != "contact_changed" or state is None or not state.profile_id or not state.lookup_hash
                or not self.profile_file_unchanged):
            return None
        item = BatchItem.of(contact, account, reason)
        return state.profile_id if lookup_key_hash(item, self.matching) == state.lookup_hash else None

    def _update_facts(self, state: ContactState) -> None:
        """Stage a scope-facts-only update; sent in chunks while reading, so they never pile up."""
        self.state_updates.append(state)
        if len(self.state_updates) >= FACTS_FLUSH and not self.dry:
            self.states.put_facts(self.state_updates)
            self.state_updates = []

    def _value_drifted(self, contact: CrmContact, state: ContactState | None) -> bool:
        """We flagged this contact, but the column now reads empty / "No feedback" (the column was
        deleted and re-created, or the value was cleared): validate it again."""
        nac = self.binding.not_at_company
        return (state is not None and state.value_written == nac and state.flag_value == nac
                and contact.flag_value in (None, self.binding.no_feedback))

    def _profile_moved(self, state: ContactState | None) -> bool:
        """The matched profile's content changed (or it left the file) since the last check."""
        if not self.profiles_moved or state is None or not state.profile_id:
            return False
        return self.source.profile_hash(state.profile_id) != state.profile_hash

    _facts = staticmethod(apply_facts)

    # ------------------------------------------------------------------ validate + write
    def _validate_and_write(self) -> None:
        budget = self.scan.lookup_budget
        planned = len(self.plan)
        if not self.dry:  # a first run sizes the state pages for the org it just read
            self.states.size_for(max(planned, self.c["in_scope"]))
        total = planned if budget is None else min(budget, planned)
        self.c["planned"] = total
        for cid, reason in self.plan.deferred(budget):  # oldest first: the budget's order (plan.py)
            self.c["deferred"] += 1
            self.summary.skipped["budget"] += 1
            self.new_pending.append((cid, reason, self.now.isoformat(timespec="seconds")))
        if not self.dry:
            self._write_scope_updates()
        self.writer = BatchWriter(
            client=self.client, reader=self.reader, binding=self.binding, supporting=self.supporting,
            now=self.now, today=self.today, dry=self.dry, scan=self.scan, states=self.states,
            pairs=self.pairs, summary=self.summary, lease=self.lease, pending=self.pending,
            new_pending=self.new_pending, written_versions=self.written_versions)
        self.writer.write_flush = WRITE_FLUSH
        try:
            if self.scan.fanout == "queue" and not self.dry:
                self._fan_out(budget, total)
            else:
                self._validate_in_process(budget, total)
        finally:
            self.entering_stored += self.writer.entering_stored
            self.writer.entering_stored = 0

    def _validate_in_process(self, budget: int | None, total: int) -> None:
        writer = self.writer
        stop_lookups = False
        done = 0
        for index, chunk in enumerate(self.plan.ordered(budget, chunk=self.scan.batch_size)):
            for p in chunk:
                self.summary.planned[p.reason] += 1
            done += len(chunk)
            if stop_lookups:
                writer.skip(chunk, "profile_source_auth")
                continue
            t = time.monotonic()
            refused = writer.validate(chunk, index, self.source, self.matching, validate_batch)
            if refused is not None:
                self.summary.notes.append(f"profile source refused look-ups, stopped: {refused}")
                stop_lookups = True
                continue
            t = self._timed("lookup_and_decide", t)
            if len(writer.write_buffer) >= WRITE_FLUSH:
                writer.flush_writes(final=False)
            t = self._timed("dataverse_writes", t)
            self._flush_states(final=False)
            self._timed("state_writes", t)
            self.hooks.progress("validating", done, total)
            if self.lease is not None:
                self.lease.renew_if_due()
            if self.hooks.after_batch:
                self.hooks.after_batch(index, self.summary)
        t = time.monotonic()
        writer.flush_writes()
        t = self._timed("dataverse_writes", t)
        self._flush_states(final=True)
        self._timed("state_writes", t)

    def _fan_out(self, budget: int | None, total: int) -> None:
        """``SCAN_FANOUT=queue``: each batch goes on the batch queue as a packed document; queue
        workers validate and write it and insert a result, which this run waits for (renewing its
        lease) and adds up. Batches without a result by the deadline, or found in the poison queue,
        count as ``batch_failed``: their contacts go on the pending list. See docs/scan.md."""
        store = self.tables.crmindex
        run_id = self.summary.run_id
        context = {
            "run_id": run_id, "now": self.now.isoformat(), "today": self.today.isoformat(),
            "binding": self.binding.to_dict(),
            "supporting": self.supporting.to_dict() if self.supporting is not None else None,
            "matching": self.matching.to_dict(), "refresh_days": self.scan.refresh_days,
            # the run's effective scan settings (the admin's stored ones over the app settings):
            # identity columns, refresh days... a worker must not fall back on the app settings
            "scan": self.scan.model_dump(mode="json"),
            "profile_version": self.profile_version,
        }
        ids: dict[int, list[str]] = {}
        queue = BatchQueue(self.config)
        t = time.monotonic()
        try:
            for index, chunk in enumerate(self.plan.ordered(budget, chunk=self.scan.batch_size)):
                for p in chunk:
                    self.summary.planned[p.reason] += 1
                write_packed(store, fanout.payload_partition(run_id, index), {
                    "context": {**context, "index": index}, "items": [fanout.encode_item(p) for p in chunk]})
                queue.send(run_id, index)
                ids[index] = [p.contact.contact_id for p in chunk]
                if self.lease is not None:
                    self.lease.renew_if_due()
            t = self._timed("fanout_enqueue", t)
            results, poisoned = self._wait_for_batches(queue, ids, total)
            t = self._timed("fanout_wait", t)
        finally:
            queue.close()
        worker_requests: Counter[str] = Counter()
        worker_ops: Counter[str] = Counter()
        for index in sorted(results):
            result = results[index]
            self.c.update(result.get("counters") or {})
            self.summary.skipped.update(result.get("skipped") or {})
            self.summary.errors.update(result.get("errors") or {})
            for note in result.get("notes") or []:
                if note not in self.summary.notes:
                    self.summary.notes.append(note)
            self.new_pending.extend(tuple(entry) for entry in result.get("new_pending") or [])
            self.written_versions.update(result.get("written_versions") or {})
            self.writer.entering_stored += int(result.get("entering_stored") or 0)
            self.writer.done_pending.extend(cid for cid in result.get("stored") or [] if cid in self.pending)
            for pid, cid, phash in result.get("pairs") or []:
                self.pairs.add(pid, cid, phash)
            worker_requests.update(result.get("requests") or {})
            worker_ops.update(result.get("table_operations") or {})
        missing = sorted(set(ids) - set(results))
        stamp = self.now.isoformat(timespec="seconds")
        lost: list[str] = []
        for index in missing:
            for cid in ids[index]:
                self.new_pending.append((cid, "retry_after_error", stamp))
                lost.append(cid)
        if lost:
            n = len(lost)
            self.c["skipped"] += n
            self.c["errors"] += n
            self.summary.skipped["batch_failed"] += n
            self.summary.errors["batch_failed"] += n
            in_poison = sorted(set(missing) & poisoned)
            self.summary.notes.append(
                f"batches without a result ({len(missing)} of {len(ids)}: {', '.join(map(str, missing))}; "
                f"in the poison queue: {', '.join(map(str, in_poison)) or 'none'}): their {n} contacts are "
                "on the pending list for the next run; first contacts: "
                + ", ".join(fanout.first_ids(lost, 50)))
        self.summary.notes.append(
            f"fan-out: {len(ids)} batches on the queue, {len(results)} results; workers made "
            f"{requests_sent(worker_requests)} Dataverse requests and "
            f"{sum(worker_ops.values())} table operations")
        self.c["fanout_batches"] += len(ids)
        self._flush_states(final=True)  # pairs and the pending contacts now stored
        self._timed("state_writes", t)
        for index in ids:  # best effort: a leftover document is dropped by the next worker that finds it
            try:
                delete_packed(store, fanout.payload_partition(run_id, index))
                if index in results:
                    store.delete(fanout.result_partition(run_id), fanout.result_row(index))
            except Exception:
                log.warning("could not delete the fan-out documents of batch %d", index, exc_info=True)

    def _wait_for_batches(self, queue: Any, ids: dict[int, list[str]], total: int
                          ) -> tuple[dict[int, dict[str, Any]], set[int]]:
        store = self.tables.crmindex
        partition = fanout.result_partition(self.summary.run_id)
        deadline = time.monotonic() + self.scan.fanout_wait_seconds
        results: dict[int, dict[str, Any]] = {}
        poisoned: set[int] = set()
        next_peek = time.monotonic() + POISON_PEEK_SECONDS
        while True:
            for entity in store.partition(partition, select=["RowKey"]):
                index = int(entity["RowKey"])
                if index in ids and index not in results:
                    full = store.get(partition, entity["RowKey"])
                    result = fanout.read_result(full) if full else None
                    if result is not None:
                        results[index] = result
            if self.lease is not None:
                self.lease.renew_if_due()
            self.hooks.progress("validating", sum(len(ids[i]) for i in results), total)
            open_ = set(ids) - set(results)
            if not open_ or time.monotonic() >= deadline:
                break
            if time.monotonic() >= next_peek:
                poisoned |= queue.poisoned(self.summary.run_id)
                next_peek = time.monotonic() + POISON_PEEK_SECONDS
                if open_ <= poisoned:
                    break
            time.sleep(POLL_SECONDS)
        return results, poisoned

    def _flush_states(self, *, final: bool) -> None:
        """States through the writer; at the end also the profile pairs (each pair page once per run:
        pairs of any batch touch every profile shard) and the pending contacts now stored."""
        if self.dry:
            return
        self.writer.flush_states(final=final)
        if final:
            for chunk in self.pairs.chunks():
                self.profile_index.put_pairs(chunk)
        done = self.writer.done_pending
        if done and final:
            self.pending_list.remove(done)
            for cid in done:
                self.pending.pop(cid, None)
            self.writer.done_pending = []

    def _write_scope_updates(self) -> None:
        if self.state_updates:
            self.states.put_facts(self.state_updates)
            self.state_updates = []
        if self.deleted:
            self.states.delete_many(self.deleted)
            self.c["deleted"] += len(self.deleted)

    # ------------------------------------------------------------------ commit
    def _commit(self, links: dict[str, str | None], digests: dict[str, str] | None) -> None:
        """Index, pending list and checkpoint: only after every batch went through."""
        if self.lease is not None:  # a run whose lease was taken over must not commit anything
            self.lease.renew()
        if self.index_opps:
            self.index.put_opportunities(self.index_opps)
        if self.index_conns:
            self.index.put_connections(self.index_conns)
        if self.index_deleted_opps:
            self.index.delete_opportunities(self.index_deleted_opps)
        if self.index_deleted_conns:
            self.index.delete_connections(self.index_deleted_conns)
        stale = [cid for cid in self.pending if cid in self.deleted] + self.drop_pending
        if stale:
            self.pending_list.remove(stale)
        if self.new_pending:
            self.pending_list.add_many(self.new_pending)
        previous_echoes = self.checkpoint.get("echo_run_id")
        echo_run_id = None
        if self.written_versions:
            self.echoes.save(self.summary.run_id, self.written_versions)
            echo_run_id = self.summary.run_id
        try:
            self._save_checkpoint(links, digests, echo_run_id)
        except StaleEntityError as exc:
            raise LockLost(f"run {self.summary.run_id}: the checkpoint was changed by another run; "
                           "not committed") from exc
        if previous_echoes and previous_echoes != echo_run_id:
            try:  # only the checkpoint's run's record is ever read; an old one is just space
                self.echoes.delete(previous_echoes)
            except Exception:
                log.warning("could not delete the write echoes of run %s", previous_echoes, exc_info=True)

    def _save_checkpoint(self, links: dict[str, str | None], digests: dict[str, str] | None,
                         echo_run_id: str | None = None) -> None:
        self.checkpoint_store.save({
            "echo_run_id": echo_run_id,
            "delta_links": links,
            "sync_fingerprint": self.sync.fingerprint,
            "scope_version": SCOPE_VERSION,
            "columns": self.reader.contact_columns,
            "account_columns": list(ACCOUNT_COLUMNS),
            "last_day": self.today.isoformat(),
            "profile_digests": digests,
            "run_id": self.summary.run_id,
            # the base of the next delta run's count: contacts whose in-scope state is stored. One that
            # entered scope but was not stored (skipped, deferred by the budget) enters again next run
            "in_scope": max(0, self.c["in_scope"] - (self.entering - self.entering_stored)),
            "profile_count": self.profile_count,
            "profile_version": self.profile_version,
        })


# Keep the type names importable for callers that build summaries themselves.
_ = (SyncUsers, Outcome, profile_shard)
