"""Enabling data validation: preflight -> provision -> save -> queue the first run.

A use case over several packages (preflight, Dataverse provisioning, the settings store, run
requests), so it lives with the other ways a run starts, not in ``functions.settings``, which the
settings store itself imports.

The HTTP route only parses, authorises, calls :func:`enable` and shapes the answer; the sequence and
its rules live here:

* **Deadline.** An HTTP trigger is cut off by the front end after 230 s. Preflight plus provisioning
  must finish within ``ENABLE_DEADLINE_SECONDS`` (120 s); otherwise :class:`EnableTimedOut` and nothing
  is saved. The work runs on a helper thread so the deadline holds even when a Dataverse call hangs;
  the thread finishes on its own (provisioning is idempotent) and keeps the enable lock until then.
* **One at a time.** Provisioning is not safe twice at the same moment (both would create the
  publisher), so enables in one process take turns on a lock; a second enable does not wait for it:
  :class:`EnableInProgress` (HTTP 409) at once.
* **Saved, then queued.** When the first run cannot be queued after the settings were saved, that is
  no error (the state did change): the result carries ``run=None`` and a warning saying how to start it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from functions.config import AppConfig
from functions.dataverse.client import DataverseClient
from functions.dataverse.errors import DataverseError
from functions.dataverse.provisioning import provision
from functions.dataverse.provisioning_errors import ProvisioningError
from functions.dataverse.provisioning_report import ProvisioningReport
from functions.pipeline.requests import RunAlreadyActive, active_run, request_run
from functions.preflight import PreflightReport, run_preflight
from functions.settings.effective import effective_config
from functions.settings.model import Settings
from functions.state.provisioned import ProvisionedRecord, ProvisionedStore, provisioning_fingerprint
from functions.state.run_queue import RunQueue
from functions.state.settings_store import Principal, SettingsConflict, SettingsStore, StoredSettings
from functions.state.tables import ScanTables

__all__ = [
    "ENABLE_DEADLINE_SECONDS",
    "EnableInProgress",
    "EnableResult",
    "EnableTimedOut",
    "PreflightFailed",
    "ProvisioningFailed",
    "check_identity_columns",
    "check_preflight",
    "check_profile_source",
    "enable",
]

log = logging.getLogger("functions.pipeline.enable")

#: Preflight + provisioning together; well inside the 230 s HTTP limit, leaving time to save and queue.
ENABLE_DEADLINE_SECONDS = 120.0
#: The warning of an enable whose settings were saved but whose first run could not be queued.
RUN_NOT_QUEUED = ("the first run could not be queued ({kind}); validation is enabled and the timer will "
                  "run it; start it now with POST /api/runs")

_ENABLE_LOCK = threading.Lock()


class PreflightFailed(Exception):
    """A preflight check failed. ``field`` is the settings member the refusal is about (``enabled``, or
    ``profile_source`` when only the profile source was checked); ``report`` has every check."""

    def __init__(self, report: PreflightReport, field: str) -> None:
        super().__init__(f"preflight failed: {', '.join(c.name for c in report.failed) or 'see checks'}")
        self.report = report
        self.field = field


class ProvisioningFailed(Exception):
    """Provisioning the column and views failed; ``reason`` is safe to show (no secrets)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EnableTimedOut(Exception):
    """Preflight and provisioning did not finish within the deadline; nothing was saved."""


class EnableInProgress(Exception):
    """Another enable is running in this process right now."""


@dataclass(frozen=True)
class EnableResult:
    """``saved``: the stored settings now; ``run``: the first run's record (a new queued one, or the
    run that was already active), None when it could not be queued (``warnings`` say so)."""

    saved: StoredSettings
    run: dict[str, Any] | None
    warnings: tuple[str, ...] = ()


def check_preflight(config: AppConfig, settings: Settings, tables: ScanTables, *,
                    only: Collection[str] | None, field: str) -> None:
    """The preflight checks (all, or ``only`` these) with the config ``settings`` give; raises
    :class:`PreflightFailed` naming ``field`` when one fails."""
    _check(effective_config(config, settings).config, tables, only=only, field=field)


def _check(effective: AppConfig, tables: ScanTables, *, only: Collection[str] | None, field: str) -> None:
    # Preflight builds its own Dataverse client with short timeouts: an unreachable org fails the
    # check quickly, not after the scan's retries.
    report = run_preflight(effective, only=only, tables=tables)
    if not report.ok:
        raise PreflightFailed(report, field)


def check_profile_source(config: AppConfig, settings: Settings, tables: ScanTables, *,
                         deadline_seconds: float | None = None) -> None:
    """The ``profile_source`` preflight check for a changed profile source while enabled, under the same
    deadline as an enable (``ENABLE_DEADLINE_SECONDS``): a file that is slow to read (a huge blob, a
    host that never answers) ends in :class:`EnableTimedOut`, not in a request the front end cuts off.
    Raises :class:`PreflightFailed` (field ``profile_source``) when the check fails."""
    deadline = ENABLE_DEADLINE_SECONDS if deadline_seconds is None else deadline_seconds
    effective = effective_config(config, settings).config
    job = _Job(lambda: _check(effective, tables, only=("profile_source",), field="profile_source"),
               lambda: None)
    job.wait(deadline)


def check_identity_columns(config: AppConfig, settings: Settings, tables: ScanTables, *,
                           deadline_seconds: float | None = None) -> None:
    """The ``identity_columns`` preflight check for changed identity columns while enabled (a column
    that does not exist would fail every run). Raises :class:`PreflightFailed` (field ``identity``)."""
    deadline = ENABLE_DEADLINE_SECONDS if deadline_seconds is None else deadline_seconds
    effective = effective_config(config, settings).config
    job = _Job(lambda: _check(effective, tables, only=("identity_columns",), field="identity"), lambda: None)
    job.wait(deadline)


def _provision(client: DataverseClient, config: AppConfig, *, dry_run: bool) -> ProvisioningReport:
    """Provisioning, tried twice: it is idempotent, and a concurrent enable in another instance may have
    created a component between our read and our create (the second pass then finds it)."""
    try:
        return provision(client, config.dataverse, dry_run=dry_run)
    except (ProvisioningError, DataverseError):
        log.info("provisioning failed once; trying again (idempotent)")
        return provision(client, config.dataverse, dry_run=dry_run)


def _prepare(effective: AppConfig, new: Settings, tables: ScanTables, client: DataverseClient) -> None:
    """Preflight, then provisioning (and its record, so the first run skips its own check)."""
    _check(effective, tables, only=None, field="enabled")
    try:
        report = _provision(client, effective, dry_run=new.dry_run)
    except (ProvisioningError, DataverseError) as exc:
        raise ProvisioningFailed(f"provisioning failed: {exc}") from None
    except Exception as exc:  # e.g. the credential could not get a token: name the kind, not internals
        log.exception("enabling refused: provisioning failed")
        raise ProvisioningFailed(f"provisioning failed: {type(exc).__name__}") from None
    if not new.dry_run and report.binding is not None:
        record = ProvisionedRecord(provisioning_fingerprint(effective.dataverse), datetime.now(UTC),
                                   report.binding, report.supporting_columns)
        ProvisionedStore(tables.provisioning).save(record)


class _Job:
    """``fn`` on a helper thread; the caller waits at most until a deadline. If the caller gives up
    (``EnableTimedOut``), the thread runs ``release`` when ``fn`` is done, so the enable lock stays
    held exactly as long as preflight or provisioning may still be running; otherwise the caller
    releases it itself after saving and queueing."""

    def __init__(self, fn: Callable[[], object], release: Callable[[], None]) -> None:
        self._fn = fn
        self._release = release
        self._state = threading.Lock()
        self._done = threading.Event()
        self._finished = False
        self._abandoned = False
        self._result: object = None
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            self._result = self._fn()
        except BaseException as exc:  # handed to the caller (or logged when it gave up)
            self._error = exc
        with self._state:
            self._finished = True
            abandoned = self._abandoned
        self._done.set()
        if abandoned:
            if self._error is not None and not isinstance(self._error, PreflightFailed | ProvisioningFailed):
                log.error("an enable that timed out ended with %s", type(self._error).__name__)
            self._release()

    def wait(self, seconds: float) -> object:
        """The result, or the exception of ``fn``; ``EnableTimedOut`` after ``seconds``."""
        threading.Thread(target=self._run, name="enable", daemon=True).start()
        self._done.wait(max(seconds, 0.0))
        with self._state:
            if not self._finished:
                self._abandoned = True  # the thread releases when it is done
                raise EnableTimedOut(f"preflight and provisioning took longer than {seconds:.0f} s")
        if self._error is not None:
            raise self._error
        return self._result


def enable(
    config: AppConfig,
    new: Settings,
    *,
    stored: StoredSettings,
    store: SettingsStore,
    tables: ScanTables,
    queue: RunQueue,
    client: DataverseClient,
    who: Principal,
    request_id: str | None = None,
    deadline_seconds: float | None = None,
    repaired: Sequence[str] | None = None,
) -> EnableResult:
    """Enable with the settings ``new`` (``enabled`` true) in place of ``stored``.

    Raises :class:`EnableInProgress` (another enable runs in this process), ``SettingsConflict`` (the
    settings changed since ``stored`` was read), :class:`PreflightFailed`, :class:`ProvisioningFailed`,
    :class:`EnableTimedOut` (``deadline_seconds``, default ``ENABLE_DEADLINE_SECONDS``); in each case
    nothing was saved. Storage errors while saving propagate (``AzureError``). ``repaired``: the invalid
    fields of a stored document this enable replaces (``SettingsStore.save``; audited as
    ``settings.repair``)."""
    deadline = ENABLE_DEADLINE_SECONDS if deadline_seconds is None else deadline_seconds
    started = time.monotonic()
    if not _ENABLE_LOCK.acquire(blocking=False):
        raise EnableInProgress("another request is enabling data validation right now")
    handed_over = False
    try:
        # A turn that finished just before ours changed the settings: 412 now, not a second provisioning.
        if store.table_etag() != stored.table_etag:
            raise SettingsConflict("the settings changed before this enable started")
        effective = effective_config(config, new).config  # once: preflight, provisioning, the first run
        job = _Job(lambda: _prepare(effective, new, tables, client), _ENABLE_LOCK.release)
        try:
            job.wait(deadline - (time.monotonic() - started))
        except EnableTimedOut:
            handed_over = True  # the helper thread releases the lock when it is done
            raise
        saved = store.save(new, expected=stored, who=who, request_id=request_id, repaired=repaired)
        run, warnings = _first_run(effective, tables, queue, who, request_id)
        return EnableResult(saved, run, warnings)
    finally:
        if not handed_over:
            _ENABLE_LOCK.release()


def _first_run(effective: AppConfig, tables: ScanTables, queue: RunQueue, who: Principal,
               request_id: str | None) -> tuple[dict[str, Any] | None, tuple[str, ...]]:
    try:
        return request_run(effective, tables, queue, trigger="enable", dry_run=None,
                           requested_by=str(who.name)[:256]), ()
    except RunAlreadyActive as exc:
        # Enabled while a run is still queued or running (e.g. requested before a disable): that run
        # is the first run now; the worker reads the settings when it starts.
        return active_run(tables) or {"run_id": exc.run_id, "status": exc.status}, ()
    except Exception as exc:
        log.exception("enabled, but the first run could not be queued (%s)", request_id)
        return None, (RUN_NOT_QUEUED.format(kind=type(exc).__name__),)
