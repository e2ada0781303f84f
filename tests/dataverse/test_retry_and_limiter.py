"""Retry policy and concurrency limiter without HTTP."""

from __future__ import annotations

import threading
import time

import pytest

from functions.dataverse import errors
from functions.dataverse.limiter import ConcurrencyLimiter
from functions.dataverse.retry import RetryPolicy, is_retryable


def _policy(sleeps: list[float], **kwargs: object) -> RetryPolicy:
    defaults: dict[str, object] = {"max_retries": 3, "max_retry_wait": 10.0, "total_budget": 100.0}
    defaults["jitter"] = lambda: 0.25  # fixed "random" extra wait after Retry-After
    defaults.update(kwargs)
    return RetryPolicy(sleep=sleeps.append, **defaults)  # type: ignore[arg-type]


def _failing(*excs: BaseException, result: str = "ok"):
    remaining = list(excs)

    def call() -> str:
        if remaining:
            raise remaining.pop(0)
        return result

    return call


@pytest.mark.parametrize(
    ("exc", "idempotent", "expected"),
    [
        (errors.ThrottledError(429), False, True),
        (errors.ServerError(503), True, True),
        (errors.ServerError(503), False, False),  # a create may have been processed: no duplicate
        (errors.ServerError(502), True, True),
        (errors.ServerError(502), False, False),
        (errors.ServerError(504), True, True),
        (errors.ServerError(500), True, False),
        (errors.ConnectionFailedError(), True, True),
        (errors.ConnectionFailedError(), False, False),
        (errors.ConnectionFailedError(sent=False), False, True),
        (errors.BadRequestError(400), True, False),
        (errors.AuthenticationError(401), True, False),
        (errors.NotFoundError(404), True, False),
        (ValueError("x"), True, False),
    ],
)
def test_is_retryable(exc: BaseException, idempotent: bool, expected: bool) -> None:
    assert is_retryable(exc, idempotent=idempotent) is expected


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (errors.ServerError(500), True),
        (errors.AuthenticationError(401), True),
        (errors.ServerError(501), False),
        (errors.BadRequestError(400), False),
        (errors.NotFoundError(404), False),
    ],
)
def test_reads_also_retry_500_and_a_second_401(exc: BaseException, expected: bool) -> None:
    assert is_retryable(exc, idempotent=True, read=True) is expected


def test_retry_after_is_honoured_with_jitter() -> None:
    sleeps: list[float] = []
    seen: list[tuple[str, float]] = []
    policy = _policy(sleeps, max_retry_wait=5.0)
    call = _failing(errors.ThrottledError(429, retry_after=2), errors.ThrottledError(429, retry_after=5))
    result = policy.retrying(idempotent=True, on_retry=lambda e, w: seen.append((type(e).__name__, w)))(call)
    assert result == "ok"
    assert sleeps == [2.25, 5.25]  # Retry-After + jitter, never less than the server asked
    assert seen == [("ThrottledError", 2.25), ("ThrottledError", 5.25)]


def test_default_jitter_is_between_0_and_1_second() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(max_retries=20, max_retry_wait=5.0, sleep=sleeps.append)
    throttled = [errors.ThrottledError(429, retry_after=2) for _ in range(20)]
    policy.retrying(idempotent=True)(_failing(*throttled))
    assert all(2.0 <= s <= 3.0 for s in sleeps)
    assert len(set(sleeps)) > 1


def test_retry_after_longer_than_max_retry_wait_stops_at_once() -> None:
    sleeps: list[float] = []
    policy = _policy(sleeps, max_retry_wait=5.0)
    too_long = errors.ThrottledError(429, "0x80072322", "slow down", retry_after=60)
    with pytest.raises(errors.ThrottledError) as info:
        policy.retrying(idempotent=True)(_failing(errors.ThrottledError(429, retry_after=1), too_long))
    assert info.value is too_long  # carries retry_after=60 for the caller
    assert info.value.retry_after == 60
    assert sleeps == [1.25]  # the first (short) one was honoured, the long one not shortened


def test_backoff_without_retry_after_is_exponential_with_jitter_and_capped() -> None:
    sleeps: list[float] = []
    policy = _policy(sleeps, max_retries=6, max_retry_wait=6.0)
    call = _failing(*[errors.ServerError(503) for _ in range(6)])
    assert policy.retrying(idempotent=True)(call) == "ok"
    assert len(sleeps) == 6
    assert 1.0 <= sleeps[0] <= 2.0
    assert 2.0 <= sleeps[1] <= 3.0
    assert all(s <= 6.0 for s in sleeps)


def test_gives_up_after_max_retries_with_last_error() -> None:
    sleeps: list[float] = []
    policy = _policy(sleeps, max_retries=2)
    last = errors.ThrottledError(429, "0x80072322", "third", retry_after=1)
    call = _failing(
        errors.ThrottledError(429, retry_after=1), errors.ThrottledError(429, retry_after=1), last
    )
    with pytest.raises(errors.ThrottledError) as info:
        policy.retrying(idempotent=True)(call)
    assert info.value is last
    assert sleeps == [1.25, 1.25]


def test_total_budget_stops_before_a_wait_that_would_exceed_it() -> None:
    sleeps: list[float] = []
    policy = _policy(sleeps, max_retries=10, max_retry_wait=50.0, total_budget=5.0)
    call = _failing(errors.ThrottledError(429, retry_after=3), errors.ThrottledError(429, retry_after=30))
    with pytest.raises(errors.ThrottledError):
        policy.retrying(idempotent=True)(call)
    assert sleeps == [3.25]  # the 30 s wait would blow the 5 s budget (fake sleep: time did not pass)


def test_non_retryable_raised_at_once() -> None:
    sleeps: list[float] = []
    with pytest.raises(errors.BadRequestError):
        _policy(sleeps).retrying(idempotent=True)(_failing(errors.BadRequestError(400)))
    assert sleeps == []


def test_zero_retries() -> None:
    sleeps: list[float] = []
    with pytest.raises(errors.ServerError):
        _policy(sleeps, max_retries=0).retrying(idempotent=True)(_failing(errors.ServerError(503)))
    assert sleeps == []


def _run_workers(limiter: ConcurrencyLimiter, n: int, hold: float) -> None:
    def work() -> None:
        with limiter.slot():
            time.sleep(hold)

    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)


def test_limiter_caps_in_flight() -> None:
    limiter = ConcurrencyLimiter(3)
    _run_workers(limiter, 12, 0.02)
    assert limiter.peak == 3
    assert limiter.in_flight == 0


@pytest.mark.parametrize(
    ("hint", "limit"), [("2", 2), ("100", 4), ("0", 1), ("-5", 1), ("abc", 4), (None, 4)]
)
def test_limiter_hint_is_clamped(hint: str | None, limit: int) -> None:
    limiter = ConcurrencyLimiter(4)
    limiter.apply_hint(hint)
    assert limiter.limit == limit


def test_limiter_follows_hint_down_and_up() -> None:
    limiter = ConcurrencyLimiter(6)
    limiter.apply_hint("2")
    _run_workers(limiter, 10, 0.02)
    assert limiter.peak == 2
    limiter.apply_hint("5")
    limiter.reset_peak()
    _run_workers(limiter, 10, 0.02)
    assert limiter.peak == 5


def test_limiter_raising_hint_wakes_waiters() -> None:
    limiter = ConcurrencyLimiter(2)
    limiter.apply_hint("1")
    limiter.acquire()
    got = threading.Event()

    def second() -> None:
        limiter.acquire()
        got.set()
        limiter.release()

    thread = threading.Thread(target=second)
    thread.start()
    assert not got.wait(0.1)
    limiter.apply_hint("2")
    assert got.wait(2)
    limiter.release()
    thread.join(2)


def test_limiter_rejects_zero() -> None:
    with pytest.raises(ValueError, match=">= 1"):
        ConcurrencyLimiter(0)
