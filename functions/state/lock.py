"""The run lock: one entity, taken with insert-if-absent, taken over only when expired (ETag-guarded).

``RunLock.acquire`` returns a :class:`LockLease` or raises :class:`LockHeld` naming the holder.
A lease is renewed between batches (``renew``); if someone took it over meanwhile (our lease had
expired), ``renew`` raises :class:`LockLost` and the run stops before it writes more.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from functions.state.table_store import EntityExistsError, StaleEntityError
from functions.state.tables import CountingStore

__all__ = ["LockHeld", "LockLease", "LockLost", "RunLock"]

PARTITION = "lock"


class LockHeld(Exception):
    """Another run holds the lock."""

    def __init__(self, holder: str, expires_at: str) -> None:
        super().__init__(f"run {holder} holds the scan lock until {expires_at}")
        self.holder = holder
        self.expires_at = expires_at


class LockLost(Exception):
    """Our lease expired and another run took the lock."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@dataclass
class LockLease:
    lock: RunLock
    owner: str
    etag: str
    expires_at: datetime
    took_over: str | None = None  # the expired run whose lock we took over

    def renew(self) -> None:
        """Push the expiry out by the TTL; ``LockLost`` if the lock is no longer ours."""
        now = self.lock.clock()
        expires = now + timedelta(seconds=self.lock.ttl_seconds)
        try:
            self.etag = self.lock.store.update(self.lock.entity(self.owner, expires), etag=self.etag)
        except StaleEntityError as exc:
            raise LockLost(f"run {self.owner} lost the scan lock") from exc
        self.expires_at = expires

    def renew_if_due(self) -> None:
        """Renew when a third of the TTL is used up (cheap to call after every batch)."""
        if self.expires_at - self.lock.clock() < timedelta(seconds=self.lock.ttl_seconds * 2 / 3):
            self.renew()

    def release(self) -> None:
        # Taken over after we expired: not ours to delete.
        with contextlib.suppress(StaleEntityError):
            self.lock.store.delete(PARTITION, self.lock.name, etag=self.etag)


class RunLock:
    def __init__(
        self, store: CountingStore, *, name: str = "scan", ttl_seconds: int = 900, clock=None
    ) -> None:
        self.store = store
        self.name = name
        self.ttl_seconds = ttl_seconds
        self.clock = clock or (lambda: datetime.now(UTC))

    def entity(self, owner: str, expires: datetime) -> dict:
        return {"PartitionKey": PARTITION, "RowKey": self.name, "owner": owner, "expires_at": _iso(expires)}

    def acquire(self, owner: str, *, wait_seconds: float = 0.0, poll_seconds: float = 2.0) -> LockLease:
        """Take the lock; wait up to ``wait_seconds`` for a live holder; ``LockHeld`` otherwise."""
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                return self._try(owner)
            except LockHeld:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(min(poll_seconds, max(0.05, deadline - time.monotonic())))

    def _try(self, owner: str) -> LockLease:
        now = self.clock()
        expires = now + timedelta(seconds=self.ttl_seconds)
        try:
            etag = self.store.insert(self.entity(owner, expires))
            return LockLease(self, owner, etag, expires)
        except EntityExistsError:
            pass
        current = self.store.get(PARTITION, self.name)
        if current is None:  # released between our insert and get: try once more
            try:
                etag = self.store.insert(self.entity(owner, expires))
            except EntityExistsError as exc:  # another run was quicker
                raise LockHeld("another run", "unknown") from exc
            return LockLease(self, owner, etag, expires)
        held_until = datetime.fromisoformat(current["expires_at"])
        if held_until > now:
            raise LockHeld(current.get("owner", "?"), current["expires_at"])
        try:  # expired: take it over, but only if nobody else did first
            etag = self.store.update(self.entity(owner, expires), etag=current["etag"])
        except StaleEntityError as exc:
            raise LockHeld("another run", "unknown") from exc
        return LockLease(self, owner, etag, expires, took_over=current.get("owner"))
