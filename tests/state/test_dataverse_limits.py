"""Dataverse limits shared by every process: the pause a 429 asks for and the Dataverse slots.

Real parts only: the emulator over loopback HTTP (its 429s with ``Retry-After`` and its journal of
request arrivals) and Azurite's tables. Each client, gate and slot holder has its own table client, as
separate worker processes would."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from azure.data.tables import TableServiceClient

from dataverse_emulator import Emulator, Fault, OrgSpec
from functions.dataverse import DataverseClient, StaticTokenProvider, ThrottledError
from functions.state import TableStore
from functions.state.dataverse_limits import (
    PAUSE_PARTITION,
    PAUSE_ROW,
    SLOT_PARTITION,
    DataverseSlots,
    SharedPause,
    slot_plan,
)

# How late a client may still send after another one's 429: the pause is written to the table after
# the 429 arrived (one Azurite round trip), then read within the reader's refresh interval. Generous,
# since the machine running the tests is shared.
NOTICE_TOLERANCE = 0.6


@pytest.fixture
def table_name(table_service: TableServiceClient) -> str:
    name = f"t{uuid.uuid4().hex[:12]}"
    TableStore(table_service, name).ensure()
    return name


@pytest.fixture
def new_store(azurite, table_name: str) -> Callable[[], TableStore]:
    """A store on the test's table through its own service client (another process, as it were)."""

    def make() -> TableStore:
        return TableStore(TableServiceClient.from_connection_string(azurite.connection_string), table_name)

    return make


@pytest.fixture
def emu(emulator_factory: Callable[..., Emulator]) -> Emulator:
    return emulator_factory(OrgSpec(contacts=12))


@pytest.fixture
def new_client(emu: Emulator) -> Iterator[Callable[..., DataverseClient]]:
    clients: list[DataverseClient] = []

    def make(**kwargs) -> DataverseClient:
        options = {"timeout": 10, "max_retries": 4, "max_retry_wait": 10, **kwargs}
        clients.append(DataverseClient(emu.api_url, StaticTokenProvider("test-token"), **options))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


def _stored_until(store: TableStore) -> float:
    entity = store.get(PAUSE_PARTITION, PAUSE_ROW)
    assert entity is not None, "no shared pause was stored"
    return datetime.fromisoformat(entity["pause_until"]).timestamp()


# ---------------------------------------------------------------------------------- shared pause


def test_no_client_sends_while_another_ones_retry_after_runs(
        emu: Emulator, new_client, new_store) -> None:
    """B reads contacts in a loop; A is throttled on accounts with ``Retry-After: 2``. From the moment
    B can have seen the pause until it ends, the emulator receives nothing from B; afterwards B goes on."""
    a = new_client(pause_gate=SharedPause(new_store()))
    b = new_client(pause_gate=SharedPause(new_store(), refresh_seconds=0.1))
    stop = threading.Event()
    errors: list[BaseException] = []

    def b_reads() -> None:
        try:
            while not stop.is_set():
                b.get_json("contacts", params={"$select": "fullname"})
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    reader = threading.Thread(target=b_reads, daemon=True)
    reader.start()
    deadline = time.monotonic() + 10
    while sum(1 for r in emu.counters.arrivals() if r.path == "contacts") < 5:
        assert time.monotonic() < deadline, "B never got going"
        time.sleep(0.02)
    emu.faults.add(Fault("throttle", path=r"^accounts", retry_after=2))
    a.get_json("accounts", params={"$select": "name"})  # 429, waits 2 s (+0-1 s), then 200
    time.sleep(0.5)
    stop.set()
    reader.join(timeout=15)
    assert not errors, errors

    journal = emu.counters.arrivals()
    throttled = [r for r in journal if r.path == "accounts" and r.status == 429]
    assert len(throttled) == 1
    t429 = throttled[0].at
    until = _stored_until(new_store())
    assert t429 + 2 <= until < t429 + 2 + NOTICE_TOLERANCE  # now + Retry-After, as A received it
    b_times = [r.at for r in journal if r.path == "contacts"]
    inside = [t - t429 for t in b_times if t429 + NOTICE_TOLERANCE < t < until]
    assert inside == [], f"B sent {len(inside)} requests during the pause (seconds after the 429: {inside})"
    assert any(t >= until for t in b_times), "B never sent again after the pause"
    assert b.request_counts["shared_pause_waits"] >= 1
    retry = [r for r in journal if r.path == "accounts" and r.status == 200]
    assert len(retry) == 1
    assert retry[0].at >= until  # A honoured its own Retry-After too
    counts = a.request_counts
    assert (counts["throttled"], counts["retries"], counts["shared_pause_waits"]) == (1, 1, 0)


def test_a_client_that_starts_during_the_pause_waits_for_its_end(
        emu: Emulator, new_client, new_store) -> None:
    a = new_client(pause_gate=SharedPause(new_store()), max_retries=0)
    emu.faults.add(Fault("throttle", path=r"^accounts", retry_after=2))
    with pytest.raises(ThrottledError):  # no retries: A gives up at once, the pause stays
        a.get_json("accounts", params={"$select": "name"})
    c = new_client(pause_gate=SharedPause(new_store()))  # a fresh worker: reads the pause first
    c.get_json("contacts", params={"$select": "fullname"})
    until = _stored_until(new_store())
    sent = [r.at for r in emu.counters.arrivals() if r.path == "contacts"]
    assert len(sent) == 1
    assert sent[0] >= until
    assert c.request_counts["shared_pause_waits"] == 1


def test_a_shared_pause_longer_than_the_client_may_wait_raises_without_sending(
        emu: Emulator, new_client, new_store) -> None:
    a = new_client(pause_gate=SharedPause(new_store()), max_retry_wait=60)
    emu.faults.add(Fault("throttle", path=r"^accounts", retry_after=120))
    with pytest.raises(ThrottledError):  # longer than its own max_retry_wait: not retried
        a.get_json("accounts", params={"$select": "name"})
    b = new_client(pause_gate=SharedPause(new_store()), max_retry_wait=5)
    with pytest.raises(ThrottledError) as caught:
        b.get_json("contacts", params={"$select": "fullname"})
    assert caught.value.status is None  # never sent: the emulator saw no contacts request
    assert 100 < caught.value.retry_after <= 120
    assert not [r for r in emu.counters.arrivals() if r.path == "contacts"]
    assert b.request_counts["read"] == 0


def test_a_client_without_a_gate_neither_waits_nor_announces(emu: Emulator, new_client, new_store) -> None:
    store = new_store()
    a = new_client()
    emu.faults.add(Fault("throttle", path=r"^accounts", retry_after=1))
    a.get_json("accounts", params={"$select": "name"})
    assert store.get(PAUSE_PARTITION, PAUSE_ROW) is None
    SharedPause(store).announce(30)
    started = time.monotonic()
    a.get_json("contacts", params={"$select": "fullname"})  # the stored pause means nothing to it
    assert time.monotonic() - started < 5
    assert a.request_counts["shared_pause_waits"] == 0


def test_the_stored_pause_only_moves_forward(new_store) -> None:
    first, second = SharedPause(new_store()), SharedPause(new_store())
    before = time.time()
    first.announce(30)
    second.announce(5)  # shorter: the stored 30 s stand
    assert before + 30 <= _stored_until(new_store()) < before + 31
    assert second.remaining() > 25  # it learnt the longer pause from the table
    second.announce(60)
    assert _stored_until(new_store()) >= before + 60
    reader = SharedPause(new_store())
    assert 55 < reader.remaining() <= 60


def test_concurrent_announcements_keep_the_latest_end(new_store) -> None:
    gates = [SharedPause(new_store()) for _ in range(6)]
    before = time.time()
    threads = [threading.Thread(target=gate.announce, args=(10 + n,)) for n, gate in enumerate(gates)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _stored_until(new_store()) >= before + 15  # the longest (15 s) won every conflict


def test_a_pause_is_read_at_most_every_refresh_interval(table_service: TableServiceClient,
                                                        table_name: str) -> None:
    from collections import Counter

    from functions.state.tables import CountingStore

    ops: Counter[str] = Counter()
    store = CountingStore(TableStore(table_service, table_name), ops, threading.Lock())
    gate = SharedPause(store, refresh_seconds=0.3)
    started = time.monotonic()
    while time.monotonic() - started < 1.0:
        assert gate.remaining() == 0
    assert 3 <= ops["get"] <= 5  # ~1 s / 0.3 s, however often it was asked


def test_storage_trouble_never_fails_a_request(emu: Emulator, new_client) -> None:
    broken = TableStore(TableServiceClient.from_connection_string(
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        "TableEndpoint=http://127.0.0.1:9/devstoreaccount1;"), "nowhere")
    a = new_client(pause_gate=SharedPause(broken), max_retry_wait=5)
    emu.faults.add(Fault("throttle", path=r"^accounts", retry_after=1))
    a.get_json("accounts", params={"$select": "name"})  # announcing fails quietly; its own retry works
    assert a.request_counts["throttled"] == 1


# ---------------------------------------------------------------------------------- slots


def test_slot_plan_divides_the_concurrency() -> None:
    def plan(total: int, share: int) -> tuple[int, int]:
        p = slot_plan(total, share)
        return p.slots, p.per_worker

    assert (plan(8, 1), plan(8, 2), plan(8, 3)) == ((8, 1), (4, 2), (2, 3))
    assert plan(52, 4) == (13, 4)
    assert plan(1, 4) == (1, 1)  # a share above the total is cut to it


def test_with_two_slots_at_most_two_of_three_claimers_hold_one_at_once(new_store) -> None:
    held: list[tuple[float, float, str, float]] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        slots = DataverseSlots(new_store(), 2, poll_seconds=(0.05, 0.15))
        lease = slots.claim(f"worker-{n}", wait_seconds=20)
        assert lease is not None
        got = time.monotonic()
        time.sleep(0.8)  # talking to Dataverse
        done = time.monotonic()
        lease.release()
        with lock:
            held.append((got, done, lease.row, lease.waited))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(held) == 3
    most = max(sum(1 for g, d, *_ in held if g <= moment < d) for moment, *_ in held)
    assert most == 2
    assert {row for *_, row, _ in held} <= {"000", "001"}
    assert max(waited for *_, waited in held) >= 0.5  # the third waited for a release
    assert list(new_store().partition(SLOT_PARTITION)) == []  # every slot released


def test_the_slot_of_a_dead_holder_is_taken_over_once_it_expires(new_store) -> None:
    store = new_store()
    expires = datetime.now(UTC) + timedelta(seconds=1.5)
    store.insert({"PartitionKey": SLOT_PARTITION, "RowKey": "000", "holder": "a-worker-that-died",
                  "expires_at": expires.isoformat(timespec="milliseconds")})
    slots = DataverseSlots(new_store(), 1, poll_seconds=(0.1, 0.2))
    assert slots.try_claim("me") is None  # still within its time
    lease = slots.claim("me", wait_seconds=10)
    assert lease is not None
    assert lease.row == "000"
    assert datetime.now(UTC) >= expires
    assert lease.waited >= 1.0
    assert store.get(SLOT_PARTITION, "000")["holder"] == "me"
    lease.release()


def test_a_live_holder_keeps_its_slot_past_the_ttl_and_release_frees_it(new_store) -> None:
    holder = DataverseSlots(new_store(), 1, ttl_seconds=1.0)
    other = DataverseSlots(new_store(), 1, ttl_seconds=1.0)
    lease = holder.claim("holder", wait_seconds=0)
    assert lease is not None
    assert lease.waited == 0  # a free slot at the first look: no wait counted
    time.sleep(2.0)  # twice the TTL: the heartbeat (every 0.25 s) renewed it
    assert other.try_claim("other") is None
    assert not lease.lost
    lease.release()
    assert new_store().get(SLOT_PARTITION, "000") is None
    taken = other.try_claim("other")
    assert taken is not None
    taken.release()


def test_a_claim_that_finds_no_slot_in_time_returns_none(new_store) -> None:
    first = DataverseSlots(new_store(), 1).claim("first", wait_seconds=0)
    assert first is not None
    started = time.monotonic()
    assert DataverseSlots(new_store(), 1, poll_seconds=(0.1, 0.2)).claim("second", wait_seconds=0.5) is None
    assert 0.4 <= time.monotonic() - started < 3
    first.release()
