"""Cap on in-flight requests, adapting to Dataverse's ``x-ms-dop-hint`` response header.

Dataverse tells clients the degree of parallelism it recommends (send-parallel-requests docs); more
in-flight requests than that only buy 429s (the hard concurrency limit is 52 per user per server).
The effective limit is ``min(max_concurrency, latest hint)``, clamped to ``[1, max_concurrency]``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["ConcurrencyLimiter"]


class ConcurrencyLimiter:
    """Condition-based counting semaphore whose limit can move at runtime.

    Lowering the limit never interrupts requests already in flight; new ones wait until the count
    drops below the new limit.
    """

    def __init__(self, max_concurrency: int) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        self._max = max_concurrency
        self._limit = max_concurrency
        self._in_flight = 0
        self._peak = 0
        self._cond = threading.Condition()

    @property
    def max_concurrency(self) -> int:
        return self._max

    @property
    def limit(self) -> int:
        """Current effective limit."""
        with self._cond:
            return self._limit

    @property
    def in_flight(self) -> int:
        with self._cond:
            return self._in_flight

    @property
    def peak(self) -> int:
        """Highest number of simultaneous requests seen since creation or ``reset_peak()``."""
        with self._cond:
            return self._peak

    def reset_peak(self) -> None:
        with self._cond:
            self._peak = self._in_flight

    def apply_hint(self, header_value: str | None) -> None:
        """Adopt an ``x-ms-dop-hint`` header value; ignores missing or malformed values."""
        if header_value is None:
            return
        try:
            hint = int(str(header_value).strip())
        except ValueError:
            return
        new_limit = max(1, min(self._max, hint))
        with self._cond:
            if new_limit != self._limit:
                self._limit = new_limit
                # Raising the limit may unblock waiters.
                self._cond.notify_all()

    def acquire(self) -> None:
        with self._cond:
            while self._in_flight >= self._limit:
                self._cond.wait()
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)

    def release(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one in-flight slot for the duration of the ``with`` block."""
        self.acquire()
        try:
            yield
        finally:
            self.release()
