"""Validated batch -> Dataverse writes -> contact states: the part of a run that handles one batch.

Extracted from the scan (``pipeline/run.py``) so that the in-process path and the queue worker of the
fan-out (``pipeline/batch_worker.py``) run exactly the same code: the decision per contact
(``decide_write``), the conditional ``$batch`` writes, the read-back of unanswered or 412 writes
(``settle``), and the state pages written only after a write succeeded. See docs/scan.md.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from functions.config import ScanConfig
from functions.dataverse import DataverseClient, DataverseError
from functions.dataverse.column import ColumnBinding, SupportingColumns
from functions.matching.config import MatchingConfig
from functions.memory import give_back_free_memory
from functions.pipeline.crm_reader import AccountInfo, CrmContact, CrmReader
from functions.pipeline.plan import next_refresh
from functions.pipeline.validate import Batch, BatchItem, ItemResult, validate_batch
from functions.pipeline.writeback import decide_write
from functions.profiles import ProfileSource, ProfileSourceAuthError
from functions.state.contacts import ContactState, ContactStates
from functions.state.lock import LockLost
from functions.state.table_store import StaleEntityError

__all__ = ["STATE_FLUSH", "WRITE_FLUSH", "BatchWriter", "Planned", "apply_facts", "instant"]

log = logging.getLogger("functions.pipeline")

WRITE_FLUSH = 1000  # Dataverse writes per request ($batch holds at most 1000 operations)
STATE_FLUSH = 2000  # buffered contact states (with evidence, ~4 KB each) before their pages are written
SAMPLE_WRITES = 50  # would-be writes kept in a dry run's record

# A pending write: the changed columns (with contactid), the state to store once written, the flag
# value read in this run, the row version (etag) read in this run, and whether the contact enters scope.
_Write = tuple[dict[str, Any], ContactState, int | None, str | None, bool]


@dataclass
class Planned:
    contact: CrmContact
    account: AccountInfo | None
    reason: str
    contact_hash: str
    account_hash: str
    opp_linked: bool
    state: ContactState | None
    known_profile_id: str | None = None  # decided again on this profile, without a look-up

    @property
    def entering(self) -> bool:
        """No in-scope state is stored for it yet (it counts in scope once its state is stored)."""
        return self.state is None or not self.state.in_scope


class _Summary(Protocol):
    """What the writer records into: the run's summary (or a batch's own, in the queue worker)."""

    run_id: str
    counters: Any
    skipped: Any
    errors: Any
    would_write: list[dict[str, Any]]


class _Pairs(Protocol):
    def add(self, profile_id: str, contact_id: str, profile_hash: str) -> None: ...


class _Lease(Protocol):
    def renew(self) -> Any: ...


def instant(text: str | None) -> datetime | None:
    """An ISO 8601 date-time as Dataverse or our state writes it ("...Z", "+00:00"), aware; else None."""
    if not text or not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def apply_facts(state: ContactState, contact: CrmContact, account: AccountInfo | None, opp_linked: bool, *,
                in_scope: bool) -> ContactState:
    """Copy the scope facts of a contact as read into its state (in place); returns the state."""
    state.in_scope = in_scope
    state.active = contact.active
    state.owner_id = contact.owner_id
    state.account_owner_id = account.owner_id if account else None
    state.opp_linked = opp_linked
    return state


class BatchWriter:
    """Turns validation results into conditional Dataverse writes and contact states.

    Records into ``summary`` (counters, skipped / errors by reason, a dry run's would-write sample);
    collects ``new_pending`` (contacts to retry next run), ``written_versions`` (row versions of our
    writes, for the next delta run's echo check), ``entering_stored`` and, with ``keep_stored`` (a
    queue worker's one batch, never a whole run: it would grow with the org), ``stored`` (ids whose
    state was staged). States are written to ``states`` by :meth:`flush_states`; profile pairs go to
    ``pairs`` as they are staged. ``lease`` (the run lock) is renewed right before every write.
    """

    def __init__(self, *, client: DataverseClient, reader: CrmReader, binding: ColumnBinding,
                 supporting: SupportingColumns | None, now: datetime, today: date, dry: bool,
                 scan: ScanConfig, states: ContactStates, pairs: _Pairs, summary: _Summary,
                 lease: _Lease | None = None, pending: Container[str] = (),
                 new_pending: list[tuple[str, str, str]] | None = None,
                 written_versions: dict[str, str] | None = None, keep_stored: bool = False) -> None:
        self.client = client
        self.reader = reader
        self.binding = binding
        self.supporting = supporting
        self.now = now
        self.today = today
        self.dry = dry
        self.scan = scan
        self.states = states
        self.pairs = pairs
        self.summary = summary
        self.c = summary.counters
        self.lease = lease
        self.pending = pending
        self.new_pending = new_pending if new_pending is not None else []
        self.written_versions = written_versions if written_versions is not None else {}
        self.write_buffer: list[_Write] = []
        self.state_buffer: list[ContactState] = []
        self.done_pending: list[str] = []
        self.stored: list[str] = []
        self.keep_stored = keep_stored
        self.entering_stored = 0
        self.write_flush = WRITE_FLUSH  # writes per $batch request (the run may set its own)

    def _stamp(self) -> str:
        return self.now.isoformat(timespec="seconds")

    # ------------------------------------------------------------------ per contact
    def skip(self, chunk: Iterable[Planned], reason: str) -> None:
        for p in chunk:
            self.c["skipped"] += 1
            self.summary.skipped[reason] += 1
            self.new_pending.append((p.contact.contact_id, "retry_after_error", self._stamp()))

    def handle(self, p: Planned, result: ItemResult) -> None:
        cid = p.contact.contact_id
        entering = p.entering  # before the state below is marked in scope
        if result.looked_up:
            self.c["looked_up"] += 1
        elif p.known_profile_id and result.profile_id == p.known_profile_id:
            self.c["decided_on_known_profile"] += 1
        if result.outcome is None:
            self.c["skipped"] += 1
            self.c["errors"] += 1
            kind = (result.skipped or "error").split(":")[0]
            self.summary.skipped[kind] += 1
            self.summary.errors[kind] += 1
            self.new_pending.append((cid, "retry_after_error", self._stamp()))
            return
        self.c[result.outcome.value] += 1
        written = p.state.value_written if p.state else None
        if written != self.binding.not_at_company and self._unrecorded_own_flag(p.contact, p.state):
            written = self.binding.not_at_company
            self.c["own_flag_recovered"] += 1
        decision = decide_write(result.outcome, result.current_employer, flag_value=p.contact.flag_value,
                                employer_value=p.contact.employer_value, binding=self.binding,
                                supporting=self.supporting, now=self.now,
                                value_written=written, rule=result.rule)
        state = apply_facts(p.state or ContactState(cid), p.contact, p.account, p.opp_linked, in_scope=True)
        state.contact_hash, state.account_hash = p.contact_hash, p.account_hash
        state.account_id = p.contact.record.account_id
        state.profile_id, state.profile_hash = result.profile_id, result.profile_hash
        state.outcome, state.rule = result.outcome.value, result.rule
        state.lookup_hash = result.lookup_hash
        state.evidence = json.dumps(result.evidence, sort_keys=True, default=str)
        state.current_employer = result.current_employer
        state.checked_at = self._stamp()
        state.next_refresh = next_refresh(cid, self.today, self.scan.refresh_days).isoformat()
        state.reason = p.reason
        state.last_run_id = self.summary.run_id
        state.flag_value = decision.new_value
        state.value_written = written
        kind = decision.kind
        if kind == "ignored":
            self.c["ignored"] += 1
        elif kind == "unexpected_value":
            self.c["unexpected_value"] += 1
        elif kind == "none":
            self.c["unchanged"] += 1
        if decision.changes is None:
            self.stage_state(state, entering)
            return
        self.c[{"flag": "flagged", "unflag": "unflagged", "employer": "employer_updated"}[kind]] += 1
        if self.dry:
            if len(self.summary.would_write) < SAMPLE_WRITES:
                self.summary.would_write.append({"contactid": cid, "kind": kind, **decision.changes})
            return
        state.value_written = decision.new_value
        self.write_buffer.append(
            ({"contactid": cid, **decision.changes}, state, p.contact.flag_value, p.contact.etag, entering)
        )

    def _unrecorded_own_flag(self, contact: CrmContact, state: ContactState | None) -> bool:
        """The row shows "No longer at company" with a validated-on stamp newer than anything our state
        recorded: a flag this app wrote whose state save never happened (a crash after the write, a lost
        answer, wiped state storage). Only this app writes validated-on, together with the flag."""
        if contact.flag_value != self.binding.not_at_company or not contact.validated_on:
            return False
        stamp = instant(contact.validated_on)
        if stamp is None:
            return False
        recorded = instant(state.checked_at) if state is not None and state.checked_at else None
        return recorded is None or stamp > recorded

    def stage_state(self, state: ContactState, entering: bool) -> None:
        if self.dry:
            return
        if entering:
            self.entering_stored += 1
        self.state_buffer.append(state)
        if self.keep_stored:
            self.stored.append(state.contact_id)
        if state.profile_id:
            self.pairs.add(state.profile_id, state.contact_id, state.profile_hash)
        if state.contact_id in self.pending:
            self.done_pending.append(state.contact_id)

    # ------------------------------------------------------------------ Dataverse writes
    def flush_writes(self, *, final: bool = True) -> None:
        """Send buffered writes: full requests of ``WRITE_FLUSH`` between batches, the rest at the end."""
        if not self.write_buffer or self.dry:
            return
        size = self.write_flush
        cut = len(self.write_buffer) if final else len(self.write_buffer) // size * size
        buffer, self.write_buffer = self.write_buffer[:cut], self.write_buffer[cut:]
        if not buffer:
            return
        if self.lease is not None:  # never write on a lease another run may have taken over
            self.lease.renew()
        buffer = self._drop_raced([entry for entry in buffer if not entry[3]]) + [
            entry for entry in buffer if entry[3]
        ]
        if not buffer:
            return
        # Conditional on the version read in this run: a row someone changed since (an "Ignore" set
        # by a person) answers 412 and is left alone.
        etags = {body["contactid"]: etag for body, _, _, etag, _ in buffer if etag}
        results = self.client.update_many("contacts", [body for body, *_ in buffer],
                                          logical_name="contact", primary_key="contactid",
                                          chunk_size=size, etags=etags, return_versions=True)
        unsure: list[tuple[dict[str, Any], ContactState, Any, bool]] = []
        for (body, state, _, _, entering), result in zip(buffer, results, strict=True):
            if result.ok:
                self.c["writes"] += 1
                if result.etag:
                    self.written_versions[state.contact_id] = result.etag
                self.stage_state(state, entering)
            elif getattr(result.error, "status", None) in (412, None):
                # 412: someone changed the row - or our own write did, when its answer was lost and the
                # request was repeated (or the batch was delivered twice); no status: the outcome is
                # unknown. The row tells which.
                unsure.append((body, state, result.error, entering))
            else:
                self._write_failed(body["contactid"], result.error)
        if unsure:
            self.settle(unsure)

    def settle(self, unsure: list[tuple[dict[str, Any], ContactState, Any, bool]]) -> None:
        """Writes whose answer says 412 or nothing: read the rows. A row holding exactly our flag and
        our validated-on stamp of this run holds our write (counted, state stored); otherwise a 412 is
        a person's change (``changed_during_run``) and an unknown outcome a failed write (retried)."""
        current: dict[str, dict[str, Any]] = {}
        stamp_column = self.supporting.validated_on if self.supporting is not None else None
        if stamp_column is not None:
            try:
                current = self.reader.current_values((b["contactid"] for b, *_ in unsure),
                                                     [self.binding.logical_name, stamp_column])
            except DataverseError as exc:
                log.warning("could not read back %d unanswered writes: %s", len(unsure), type(exc).__name__)
        for body, state, error, entering in unsure:
            cid = str(body["contactid"]).lower()
            row = current.get(cid)
            ours = (row is not None and stamp_column is not None
                    and row.get(self.binding.logical_name) == body.get(self.binding.logical_name)
                    and instant(row.get(stamp_column)) == instant(body.get(stamp_column)))
            if ours:
                self.c["writes"] += 1
                self.c["writes_confirmed_by_reading"] += 1
                self.stage_state(state, entering)
            elif getattr(error, "status", None) == 412:
                self._changed_during_run(cid)
            else:
                self._write_failed(cid, error)

    def _write_failed(self, cid: str, error: Any) -> None:
        self.c["errors"] += 1
        self.summary.errors["write_failed"] += 1
        self.summary.skipped["write_failed"] += 1
        self.new_pending.append((cid, "retry_after_error", self._stamp()))
        log.warning("write to contact %s failed: %s", cid, error)

    def _drop_raced(self, buffer: list[_Write]) -> list[_Write]:
        """For rows read without an etag only (writes are otherwise conditional on it): re-read the flag
        of every contact about to be written and drop the writes whose value changed since this run
        read it; those contacts are skipped as ``changed_during_run`` and validated again next run."""
        if not buffer:
            return []
        current = self.reader.current_flags(body["contactid"] for body, *_ in buffer)
        kept = []
        for entry in buffer:
            cid = str(entry[0]["contactid"]).lower()
            if cid in current and current[cid] == entry[2]:
                kept.append(entry)
            else:
                self._changed_during_run(cid)
        return kept

    def _changed_during_run(self, cid: str) -> None:
        self.c["skipped"] += 1
        self.summary.skipped["changed_during_run"] += 1
        self.new_pending.append((cid, "retry_after_error", self._stamp()))

    # ------------------------------------------------------------------ states
    def flush_states(self, *, final: bool) -> None:
        """Write buffered states, page by page, once enough are buffered (and at the end). A state
        written late only means a contact is re-checked after a crash, never a lost or repeated write
        (the value read in that run is compared first)."""
        if self.dry:
            return
        if not final and len(self.state_buffer) < STATE_FLUSH:
            return
        if self.lease is not None and (self.state_buffer or final):
            # a run whose lease was taken over must not overwrite the states the new owner writes
            self.lease.renew()
        if self.state_buffer:
            self.states.put_many(self.state_buffer)
            self.state_buffer = []
            # the page writes' threads freed their buffers into their own malloc arenas
            give_back_free_memory()

    # ------------------------------------------------------------------ one batch
    def validate(self, chunk: list[Planned], index: int, source: ProfileSource,
                 matching: MatchingConfig, validate: Callable[..., Any] = validate_batch) -> str | None:
        """Validate one batch and handle every result. Returns the profile source's refusal (401/402/
        403: the caller stops looking up) as text, else None. A batch that fails unexpectedly is skipped
        as ``batch_error`` (retried next run), a record that fails as ``bad_record``."""
        try:
            batch = Batch(self.summary.run_id, index, self.today.isoformat(), tuple(
                BatchItem.of(p.contact, p.account, p.reason, p.known_profile_id) for p in chunk))
            results = validate(batch, source, matching=matching)
        except ProfileSourceAuthError as exc:
            self.c["errors"] += 1
            self.summary.errors["profile_source_auth"] += 1
            self.skip(chunk, "profile_source_auth")
            return str(exc) or type(exc).__name__
        except Exception as exc:  # unexpected: skip this chunk (retried next run), keep going
            log.warning("batch %d skipped: %s", index, type(exc).__name__)
            self.c["errors"] += len(chunk)
            self.summary.errors["batch_error"] += len(chunk)
            self.skip(chunk, "batch_error")
            return None
        planned = {p.contact.contact_id: p for p in chunk}
        for result in results:
            p = planned.get(result.contact_id)
            if p is None:  # pragma: no cover - validate_batch answers for its own items only
                continue
            try:
                self.handle(p, result)
            except (LockLost, StaleEntityError):
                raise
            except Exception as exc:  # one bad record never fails the run
                log.warning("contact skipped: %s", type(exc).__name__)
                self.handle(p, ItemResult(result.contact_id, looked_up=False,
                                          skipped=f"bad_record: {type(exc).__name__}"))
        return None
