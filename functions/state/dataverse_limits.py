"""Dataverse's service protection limits held by every process of the app together.

Dataverse counts requests, execution time and concurrent requests per user (our one application
user), and a 429's ``Retry-After`` is "the duration before any new requests from the user can be
processed" (learn.microsoft.com/power-apps/developer/data-platform/api-limits). Each process has its
own client, retries and concurrency limiter; what they must agree on lives in the ``locks`` table:

* :class:`SharedPause` - partition ``limits``, row ``dataverse``, ``pause_until`` (UTC): the end of the
  latest pause a 429 asked for. It only moves forward (an ETag-conditional write, repeated after a
  conflict); every client reads it at most every ``refresh_seconds`` (2 s) and waits until it has
  passed. It is the client's :class:`~functions.dataverse.pause.PauseGate`.
* :class:`DataverseSlots` - partition ``dataverse-slots``, rows ``000``..: a batch worker holds one of
  ``S`` slots while it talks to Dataverse, and its client sends at most its share of requests at
  once, so all workers together stay within ``DATAVERSE_MAX_CONCURRENCY``
  (:func:`slot_plan`). A slot is an entity with ``holder`` and ``expires_at``, claimed by an insert or
  an ETag-conditional update of a free or expired one, kept alive by a heartbeat and deleted when the
  worker is done; a worker that dies leaves it to expire after ``ttl_seconds`` (60 s).

Storage trouble never fails a Dataverse call: the pause is then read as "none" (the client still
honours its own ``Retry-After``) and announcing it is skipped, with a warning.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from functions.state.table_store import EntityExistsError, StaleEntityError

__all__ = [
    "PAUSE_PARTITION",
    "PAUSE_ROW",
    "SLOT_PARTITION",
    "DataverseSlots",
    "SharedPause",
    "SlotLease",
    "SlotPlan",
    "slot_plan",
]

log = logging.getLogger("functions.state.dataverse_limits")

PAUSE_PARTITION = "limits"
PAUSE_ROW = "dataverse"
SLOT_PARTITION = "dataverse-slots"

#: how often a client reads the shared pause at most (the brief staleness a 429 may go unnoticed)
PAUSE_REFRESH_SECONDS = 2.0
#: a slot of a worker that stopped renewing it is free again after this long
SLOT_TTL_SECONDS = 60.0
#: a waiting worker looks for a free slot every 1-3 s (jittered: waiting workers do not poll together)
SLOT_POLL_SECONDS = (1.0, 3.0)


class _Store(Protocol):
    """The part of a ``CountingStore`` / ``TableStore`` used here."""

    def get(self, pk: str, rk: str) -> dict[str, Any] | None: ...
    def insert(self, entity: dict[str, Any]) -> str: ...
    def update(self, entity: dict[str, Any], *, etag: str, replace: bool = False) -> str: ...
    def delete(self, pk: str, rk: str, *, etag: str | None = None) -> None: ...
    def partition(self, pk: str, *, select: list[str] | None = None) -> Iterator[dict[str, Any]]: ...


def _utc(seconds: float) -> str:
    """ISO 8601 UTC to the millisecond, rounded up (a stored pause is never shorter than asked)."""
    return datetime.fromtimestamp(math.ceil(seconds * 1000) / 1000, UTC).isoformat(timespec="milliseconds")


def _seconds(text: Any) -> float:
    """POSIX seconds of a stored ISO instant; 0 for anything unreadable (no pause / expired)."""
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return 0.0
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


# ---------------------------------------------------------------------------------- shared pause


class SharedPause:
    """The pause a 429 asked for, shared through one table entity (a ``PauseGate``).

    Args:
        store: The ``locks`` table (``ScanTables.locks``).
        refresh_seconds: A cached ``pause_until`` is used for this long before it is read again.
        clock: POSIX seconds (tests may pass their own).
        attempts: Conditional writes tried when others write at the same moment.
    """

    def __init__(self, store: _Store, *, refresh_seconds: float = PAUSE_REFRESH_SECONDS,
                 clock: Callable[[], float] = time.time, attempts: int = 5) -> None:
        self._store = store
        self._refresh = refresh_seconds
        self._clock = clock
        self._attempts = attempts
        self._until = 0.0  # latest end of a pause known here (read, or announced by this process)
        self._stored = 0.0  # latest pause_until known to be in the table
        self._read_at = float("-inf")
        self._read_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._warned_at = float("-inf")

    def remaining(self) -> float:
        """Seconds until the shared pause ends (0: none). Reads the entity when the cached value is
        older than ``refresh_seconds``; one thread reads, the others use the cached value meanwhile."""
        now = self._clock()
        if now - self._read_at >= self._refresh and self._read_lock.acquire(blocking=False):
            try:
                self._read(now)
            finally:
                self._read_lock.release()
        return max(0.0, self._until - self._clock())

    def _read(self, now: float) -> None:
        self._read_at = now
        try:
            entity = self._store.get(PAUSE_PARTITION, PAUSE_ROW)
        except Exception as exc:
            self._warn("could not read the shared Dataverse pause (%s); only our own Retry-After counts",
                       type(exc).__name__)
            return
        if entity is not None:
            stored = _seconds(entity.get("pause_until"))
            self._stored = max(self._stored, stored)
            self._until = max(self._until, stored)

    def announce(self, seconds: float) -> None:
        """Make ``now + seconds`` the shared pause unless a later one is stored. Conditional on the
        entity's ETag, repeated (``attempts`` times) when another process wrote in between."""
        until = self._clock() + max(0.0, float(seconds))
        with self._write_lock:
            self._until = max(self._until, until)
            if self._stored >= until:
                return
            try:
                self._write(until)
            except Exception as exc:
                self._warn("could not share a Dataverse pause of %.0f s (%s)", seconds, type(exc).__name__)

    def _write(self, until: float) -> None:
        entity = {"PartitionKey": PAUSE_PARTITION, "RowKey": PAUSE_ROW, "pause_until": _utc(until)}
        for _ in range(self._attempts):
            current = self._store.get(PAUSE_PARTITION, PAUSE_ROW)
            try:
                if current is None:
                    self._store.insert(entity)
                else:
                    stored = _seconds(current.get("pause_until"))
                    if stored >= until:  # someone asked for a longer pause already
                        self._stored = max(self._stored, stored)
                        self._until = max(self._until, stored)
                        return
                    self._store.update(entity, etag=current["etag"], replace=True)
            except (EntityExistsError, StaleEntityError):
                continue  # another process wrote first: read again and compare
            self._stored = max(self._stored, until)
            log.info("shared Dataverse pause until %s", entity["pause_until"])
            return
        self._warn("the shared Dataverse pause kept changing under %d writes; not shared", self._attempts)

    def _warn(self, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._warned_at >= 60:  # once a minute: a storage outage must not flood the log
            self._warned_at = now
            log.warning(message, *args)


# ---------------------------------------------------------------------------------- slots


@dataclass(frozen=True)
class SlotPlan:
    """``slots`` workers may talk to Dataverse at once, each with at most ``per_worker`` requests in
    flight: ``slots * per_worker <= total`` (``DATAVERSE_MAX_CONCURRENCY``)."""

    slots: int
    per_worker: int


def slot_plan(total: int, per_worker: int) -> SlotPlan:
    """``S = max(1, total // share)`` with ``share = min(per_worker, total)`` (at least 1)."""
    share = max(1, min(per_worker, total))
    return SlotPlan(max(1, total // share), share)


class SlotLease:
    """One held slot; renewed by a heartbeat thread until :meth:`release` (also on leaving a ``with``)."""

    def __init__(self, slots: DataverseSlots, row: str, holder: str, etag: str, waited: float) -> None:
        self.slots = slots
        self.row = row
        self.holder = holder
        self.waited = waited  # seconds spent waiting for it
        self.lost = False  # the heartbeat found it taken over (we had not renewed it in time)
        self._etag = etag
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"dataverse-slot-{row}", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        interval = self.slots.ttl_seconds / 4
        while not self._stop.wait(interval):
            with self._lock:
                if self._stop.is_set():
                    return
                try:
                    self._etag = self.slots.store.update(self.slots.entity(self.row, self.holder),
                                                          etag=self._etag, replace=True)
                except StaleEntityError:
                    self.lost = True
                    log.warning("Dataverse slot %s of %s was taken over (not renewed in time)",
                                self.row, self.holder)
                    return
                except Exception as exc:  # storage trouble: try again at the next beat
                    log.warning("could not renew Dataverse slot %s (%s)", self.row, type(exc).__name__)

    def release(self) -> None:
        """Stop renewing and free the slot (a slot taken over meanwhile is left to its new holder)."""
        self._stop.set()
        with self._lock:
            if self.lost:
                return
            try:
                self.slots.store.delete(SLOT_PARTITION, self.row, etag=self._etag)
            except StaleEntityError:
                pass
            except Exception as exc:  # it expires on its own
                log.warning("could not release Dataverse slot %s (%s)", self.row, type(exc).__name__)
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def __enter__(self) -> SlotLease:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class DataverseSlots:
    """``count`` slots in the ``locks`` table; :meth:`claim` waits for one.

    Args:
        store: The ``locks`` table (``ScanTables.locks``).
        count: ``S`` (:func:`slot_plan`); entities of rows beyond it (a larger ``S`` of an older
            config) are ignored.
        ttl_seconds: A slot not renewed for this long is free (the heartbeat renews every quarter).
        poll_seconds: (low, high) of the jittered pause between two looks while waiting.
        clock: Aware UTC now (tests may pass their own).
    """

    def __init__(self, store: _Store, count: int, *, ttl_seconds: float = SLOT_TTL_SECONDS,
                 poll_seconds: tuple[float, float] = SLOT_POLL_SECONDS,
                 clock: Callable[[], datetime] | None = None) -> None:
        if count < 1:
            raise ValueError("count must be >= 1")
        self.store = store
        self.count = count
        self.ttl_seconds = ttl_seconds
        self._poll = poll_seconds
        self._clock = clock or (lambda: datetime.now(UTC))

    def entity(self, row: str, holder: str) -> dict[str, Any]:
        """Slot ``row`` held by ``holder`` for ``ttl_seconds`` from now."""
        expires = self._clock() + timedelta(seconds=self.ttl_seconds)
        return {"PartitionKey": SLOT_PARTITION, "RowKey": row, "holder": holder,
                "expires_at": expires.isoformat(timespec="milliseconds")}

    def try_claim(self, holder: str, *, waited: float = 0.0) -> SlotLease | None:
        """Take a free or expired slot now (one partition query, then an insert or a conditional
        update per candidate, in random order); None when all ``count`` are held."""
        now = self._clock().timestamp()
        existing = {e["RowKey"]: e for e in self.store.partition(SLOT_PARTITION)}
        rows = [f"{i:03d}" for i in range(self.count)]
        random.shuffle(rows)
        for row in rows:
            current = existing.get(row)
            try:
                if current is None:
                    etag = self.store.insert(self.entity(row, holder))
                elif _seconds(current.get("expires_at")) <= now or not current.get("holder"):
                    etag = self.store.update(self.entity(row, holder), etag=current["etag"], replace=True)
                    log.info("Dataverse slot %s of %s had expired; taken over by %s", row,
                             current.get("holder"), holder)
                else:
                    continue
            except (EntityExistsError, StaleEntityError):
                continue  # another worker was quicker
            return SlotLease(self, row, holder, etag, waited)
        return None

    def claim(self, holder: str, *, wait_seconds: float) -> SlotLease | None:
        """A slot, waiting up to ``wait_seconds`` for one (polling with jitter); None if none came
        free in time. A storage error while looking counts as "none free this time"."""
        started = time.monotonic()
        deadline = started + wait_seconds
        waited = 0.0  # none when the first look finds a slot
        while True:
            try:
                lease = self.try_claim(holder, waited=waited)
            except Exception as exc:
                log.warning("could not look for a Dataverse slot (%s)", type(exc).__name__)
                lease = None
            if lease is not None:
                return lease
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            time.sleep(min(left, random.uniform(*self._poll)))
            waited = time.monotonic() - started

