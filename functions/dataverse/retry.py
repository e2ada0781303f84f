"""Retry policy (tenacity) for Dataverse requests.

What is retried:

* ``429`` (ThrottledError): always. The server did not process the request, so even a create is safe.
  The wait is the server's ``Retry-After`` plus a random 0-1 s (so parallel workers throttled together
  do not come back together). A ``Retry-After`` longer than ``max_retry_wait`` is never shortened:
  retrying early would only extend the throttling, so the client stops and raises the ``ThrottledError``
  (its ``retry_after`` says how long the server asked for).
* ``502`` / ``503`` / ``504`` and dropped connections / read timeouts: only for idempotent requests (GET,
  PATCH with ``If-Match``, DELETE, ``UpdateMultiple``, ``$batch`` without POST parts, functions). For a
  POST create the gateway or the server may have processed it and the record may exist (the Dataverse
  docs do not say a 503 comes before any processing), so we surface the error instead of risking a
  duplicate.
* connection refused / connect timeout (``ConnectionFailedError.sent is False``): always, nothing was sent.
* ``500``: only for reads (GET): reading twice is harmless, and a transient 500 must not fail a whole
  run. Writes: never (500 from Dataverse on a write is usually a plug-in or data problem that a retry
  repeats).
* ``401`` after the client's one forced token refresh (``AuthenticationError``): only for reads, with the
  same budget (a token that the service does not accept yet, or two expiries in a row); a credential
  that stays refused still fails after the retries.
* every other 4xx: never.

Any retryable error that carries a ``Retry-After`` (a 503 may) follows the same rule as a 429. Without
``Retry-After`` the wait is exponential with jitter (1 s, 2 s, 4 s, ... +0-1 s, at most 60 s and at most
``max_retry_wait``). Retries stop after ``max_retries`` retries or when the next wait would end past the
total time budget (measured from the first attempt), whichever comes first; the last error is then
raised unchanged.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

import tenacity

from .errors import AuthenticationError, ConnectionFailedError, DataverseError, ServerError, ThrottledError

__all__ = ["RetryPolicy", "is_retryable"]

log = logging.getLogger(__name__)

_IDEMPOTENT_RETRY_STATUS = frozenset({502, 503, 504})


def is_retryable(exc: BaseException, *, idempotent: bool, read: bool = False) -> bool:
    """Return True when ``exc`` is a transient failure worth another attempt (see module docstring).
    ``read``: the request is a GET (500 and a second 401 are retried too)."""
    if isinstance(exc, ThrottledError):
        return True
    if isinstance(exc, ServerError):
        return (idempotent and exc.status in _IDEMPOTENT_RETRY_STATUS) or (read and exc.status == 500)
    if isinstance(exc, AuthenticationError):
        return read
    if isinstance(exc, ConnectionFailedError):
        return idempotent or not exc.sent
    return False


class RetryPolicy:
    """Builds ``tenacity.Retrying`` objects with the client's limits.

    Args:
        max_retries: Retries after the first attempt (0 disables retrying).
        max_retry_wait: Longest ``Retry-After`` honoured (a longer one stops the retries) and upper
            bound of each backoff wait.
        total_budget: Upper bound in seconds for all attempts and waits of one call.
        backoff_initial: First exponential backoff step in seconds (no ``Retry-After``).
        backoff_max: Largest exponential step in seconds.
        on_retry: Called as ``on_retry(exc, wait_seconds)`` before each sleep (counting, logging).
        sleep: Sleep function (tests may replace it).
        jitter: Returns the random extra seconds added to a ``Retry-After`` (default uniform 0-1).
    """

    def __init__(
        self,
        *,
        max_retries: int = 6,
        max_retry_wait: float = 300.0,
        total_budget: float = 600.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        on_retry: Callable[[BaseException, float], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = lambda: random.uniform(0.0, 1.0),
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if max_retry_wait <= 0 or total_budget <= 0:
            raise ValueError("max_retry_wait and total_budget must be > 0")
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.total_budget = total_budget
        self._backoff = tenacity.wait_exponential_jitter(
            initial=backoff_initial, max=min(backoff_max, max_retry_wait), jitter=backoff_initial
        )
        self._on_retry = on_retry
        self._sleep = sleep
        self._jitter = jitter

    def wait_seconds(self, retry_state: tenacity.RetryCallState) -> float:
        """Seconds to wait before the next attempt: ``Retry-After`` + 0-1 s jitter if given, else backoff."""
        retry_after = _retry_after(retry_state)
        if retry_after is not None:
            return retry_after + self._jitter()
        return min(self._backoff(retry_state), self.max_retry_wait)

    def _asks_too_long(self, retry_state: tenacity.RetryCallState) -> bool:
        """Stop when the server asks for a longer pause than ``max_retry_wait`` (never retry early)."""
        retry_after = _retry_after(retry_state)
        if retry_after is not None and retry_after > self.max_retry_wait:
            log.warning(
                "server asked to wait %.0fs, more than the %.0fs allowed; giving up",
                retry_after,
                self.max_retry_wait,
            )
            return True
        return False

    def retrying(
        self,
        *,
        idempotent: bool,
        read: bool = False,
        on_retry: Callable[[BaseException, float], None] | None = None,
    ) -> tenacity.Retrying:
        """A fresh ``Retrying`` for one logical call; re-raises the last error when it gives up.

        Args:
            idempotent: Whether the request may be repeated after it possibly reached the server.
            on_retry: Overrides the policy's ``on_retry`` callback for this call.
        """
        callback = on_retry or self._on_retry

        def before_sleep(retry_state: tenacity.RetryCallState) -> None:
            exc = retry_state.outcome.exception() if retry_state.outcome else None
            wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
            if callback is not None and exc is not None:
                callback(exc, wait)

        return tenacity.Retrying(
            retry=tenacity.retry_if_exception(
                lambda exc: is_retryable(exc, idempotent=idempotent, read=read)),
            wait=self.wait_seconds,
            stop=(
                tenacity.stop_after_attempt(self.max_retries + 1)
                | tenacity.stop_before_delay(self.total_budget)
                | self._asks_too_long
            ),
            before_sleep=before_sleep,
            sleep=self._sleep,
            reraise=True,
        )


def _retry_after(retry_state: tenacity.RetryCallState) -> float | None:
    exc = retry_state.outcome.exception() if retry_state.outcome else None
    value = exc.retry_after if isinstance(exc, DataverseError) else None
    return float(value) if value is not None else None
