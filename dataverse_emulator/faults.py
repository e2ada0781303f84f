"""Fault injection and request counters.

Faults are deterministic: ``rate`` draws from a seeded RNG, ``after=k`` lets the first k
matching requests through, ``times`` bounds how often a fault fires (None = forever).
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

KINDS = frozenset(
    {"throttle", "server_error", "slow", "drop", "commit_drop", "unauthorized", "forbidden", "expired_delta",
     "fail_record"}
)
#: kinds that can answer one part of a ``$batch`` (``in_batch=True``): the part gets the fault's answer,
#: the other parts theirs; the outer request answers 200
IN_BATCH_KINDS = frozenset({"throttle", "server_error", "slow", "unauthorized", "forbidden"})


@dataclass
class Fault:
    """One injected failure. ``path`` is a regex searched in the path after ``/api/data/v9.2/``.

    ``in_batch``: the fault hits the requests inside a ``$batch`` (one part answers, e.g., 429 or 503;
    ``server_error`` answers any ``status``, 404 too) instead of requests sent on their own.
    """

    kind: str
    method: str | None = None
    path: str | None = None
    times: int | None = 1
    rate: float | None = None
    after: int = 0
    retry_after: int = 1
    status: int = 503
    delay: float = 0.0
    record_id: str | None = None
    in_batch: bool = False
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {sorted(KINDS)}")
        if self.kind == "fail_record" and not self.record_id:
            raise ValueError("fail_record needs record_id=")
        if self.in_batch and self.kind not in IN_BATCH_KINDS:
            raise ValueError(f"{self.kind!r} cannot hit a part of a $batch; "
                             f"in_batch faults: {sorted(IN_BATCH_KINDS)}")
        if self.record_id:
            self.record_id = self.record_id.lower()
        self._pattern = re.compile(self.path) if self.path else None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        allowed = {
            "kind",
            "method",
            "path",
            "times",
            "rate",
            "after",
            "retry_after",
            "status",
            "delay",
            "record_id",
            "in_batch",
        }
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields {sorted(unknown)}")
        return cls(data["kind"], **{k: v for k, v in data.items() if k != "kind"})

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return not (self._pattern and not self._pattern.search(path))

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times


class FaultRegistry:
    """The active faults of one emulator. Thread-safe."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._rng = random.Random(seed)
        #: faults fired since the start, by kind (kept when faults are cleared)
        self.fired: Counter[str] = Counter()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def active(self) -> list[Fault]:
        with self._lock:
            return [f for f in self._faults if not f.exhausted]

    def take(self, method: str, path: str, kinds: frozenset[str], *,
             in_batch: bool | None = None) -> Fault | None:
        """The first fault of ``kinds`` that fires for this request (and count it as fired). ``in_batch``
        (when given): only faults for requests inside a ``$batch`` (True) or sent on their own (False)."""
        with self._lock:
            for fault in self._faults:
                if fault.kind not in kinds or fault.exhausted or not fault.matches(method, path):
                    continue
                if in_batch is not None and fault.in_batch != in_batch:
                    continue
                fault.seen += 1
                if fault.seen <= fault.after:
                    continue
                if fault.rate is not None and self._rng.random() >= fault.rate:
                    continue
                fault.fired += 1
                self.fired[fault.kind] += 1
                return fault
        return None

    def all(self) -> list[Fault]:
        """Every fault added since the last ``clear``, exhausted ones included."""
        with self._lock:
            return list(self._faults)

    def fail_record(self, record_id: str) -> Fault | None:
        """The fail_record fault for a write to ``record_id``, if one fires."""
        with self._lock:
            record_id = record_id.lower()
            for fault in self._faults:
                if fault.kind != "fail_record" or fault.exhausted or fault.record_id != record_id:
                    continue
                fault.seen += 1
                if fault.seen <= fault.after:
                    continue
                if fault.rate is not None and self._rng.random() >= fault.rate:
                    continue
                fault.fired += 1
                self.fired[fault.kind] += 1
                return fault
        return None


@dataclass
class Arrival:
    """One top-level request as the emulator saw it: wall-clock arrival (``time.time()``), method,
    path after ``/api/data/v9.2/`` (no query), and the status answered (0 until answered, or when
    the connection was dropped)."""

    at: float
    method: str
    path: str
    status: int = 0


#: requests the journal keeps (the newest; older ones are dropped)
JOURNAL_SIZE = 10_000


class Counters:
    """``requests``: HTTP requests by kind; ``operations``: logical writes that committed;
    ``journal``: the latest top-level requests with their arrival time (``arrivals()``), to tell
    *when* clients sent, e.g. that none sent during a pause."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.operations: Counter[str] = Counter()
        self.journal: deque[Arrival] = deque(maxlen=JOURNAL_SIZE)

    def request(self, kind: str) -> None:
        with self._lock:
            self.requests[kind] += 1

    def arrived(self, method: str, path: str) -> Arrival:
        """Note a request's arrival now; the caller sets ``status`` once it is answered."""
        entry = Arrival(time.time(), method, path.split("?", 1)[0])
        with self._lock:
            self.journal.append(entry)
        return entry

    def arrivals(self) -> list[Arrival]:
        with self._lock:
            return list(self.journal)

    def operation(self, kind: str, n: int = 1) -> None:
        with self._lock:
            self.operations[kind] += n

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.operations.clear()
            self.journal.clear()

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {"requests": dict(self.requests), "operations": dict(self.operations)}
