"""The client's pause gate hook (``pause.py``) against the emulator, with a plain in-memory gate: the
client waits out a pause before it sends, counts the wait, and announces every 429's Retry-After.
The table-backed gate shared by processes is tested in tests/state/test_dataverse_limits.py."""

from __future__ import annotations

import threading
import time

import pytest

from dataverse_emulator import Fault
from functions.dataverse import ThrottledError


class MemoryGate:
    """A pause kept in this process only."""

    def __init__(self) -> None:
        self.until = 0.0
        self.announced: list[float] = []
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return max(0.0, self.until - time.time())

    def announce(self, seconds: float) -> None:
        with self._lock:
            self.announced.append(seconds)
            self.until = max(self.until, time.time() + seconds)


def test_a_client_with_a_gate_announces_each_retry_after(emu, make_client) -> None:
    gate = MemoryGate()
    client = make_client(emu, pause_gate=gate)
    emu.faults.add(Fault("throttle", path=r"^contacts", times=2, retry_after=1))
    client.get_json("contacts", params={"$select": "fullname"})
    assert gate.announced == [1.0, 1.0]
    counts = client.request_counts
    assert (counts["throttled"], counts["retries"], counts["read"]) == (2, 2, 3)


def test_a_client_waits_for_the_gate_before_it_sends(emu, make_client) -> None:
    gate = MemoryGate()
    client = make_client(emu)
    assert client.pause_gate is None
    client.pause_gate = gate  # settable after construction (the run and the workers attach it)
    gate.until = time.time() + 1.0
    client.get_json("contacts", params={"$select": "fullname"})
    (arrival,) = emu.counters.arrivals()
    assert arrival.at >= gate.until
    assert client.request_counts["shared_pause_waits"] == 1
    client.get_json("contacts", params={"$select": "fullname"})  # the pause is over: no wait
    assert client.request_counts["shared_pause_waits"] == 1


def test_a_gate_pause_longer_than_max_retry_wait_raises_at_once(emu, make_client) -> None:
    gate = MemoryGate()
    client = make_client(emu, pause_gate=gate, max_retry_wait=5)
    gate.until = time.time() + 60
    started = time.monotonic()
    with pytest.raises(ThrottledError) as caught:
        client.get_json("contacts", params={"$select": "fullname"})
    assert time.monotonic() - started < 2
    assert caught.value.status is None
    assert caught.value.retry_after > 55
    assert emu.counters.arrivals() == []
    assert client.request_counts["read"] == 0
