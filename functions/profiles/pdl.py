"""People Data Labs bulk person enrichment (``POST /v5/person/bulk``) as a profile source.

One request carries up to ``batch_size`` look-ups (PDL allows 100 and recommends at most 80, above
which it may answer 502). Each look-up sends the strongest input the CRM has: the profile URL, else the
email, else the name with the account's company (PDL's ``company`` means any employer, current or
past). ``min_likelihood`` goes into every request's params and is enforced again on the answers.

Answers (a JSON array in request order, each echoing our ``metadata``): ``200`` -> a ``Profile``;
``404`` -> no match (not billed); other item statuses -> counted as an error, ``None``.
Whole-request answers: ``401``/``402``/``403`` raise ``ProfileSourceAuthError`` (invalid key, no
credits left, forbidden) and stop all look-ups; ``429`` and ``5xx`` (and network failures) are retried
with back-off - ``Retry-After`` or ``x-ratelimit-reset`` when PDL sends them, else exponential with
jitter - at most ``max_retries`` times, then ``ProfileSourceUnavailable``. Errors carry the results
obtained before them (``partial_results``), so matches already paid for are not lost.

Note on cost: a retried request after a 502/timeout may have been processed (and billed) by PDL.

The API key is sent only in the ``X-Api-Key`` header of each request; it is never logged, never put
in an error message, never in ``repr``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any

import requests
import tenacity

from functions.config import PDL_DEFAULT_BASE_URL, PDL_MAX_BATCH_SIZE, is_loopback_url
from functions.matching.records import Profile

from .base import (
    LookupResult,
    LookupStats,
    ProfileQuery,
    ProfileSourceAuthError,
    ProfileSourceConfigError,
    ProfileSourceError,
    ProfileSourceUnavailable,
    normalise_email,
    normalise_profile_url,
)
from .pdl_records import pdl_record_to_profile

__all__ = ["DEFAULT_BASE_URL", "MAX_BATCH_SIZE", "PeopleDataLabsSource", "build_params"]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = PDL_DEFAULT_BASE_URL
BULK_PATH = "/v5/person/bulk"
MAX_BATCH_SIZE = PDL_MAX_BATCH_SIZE

_AUTH_MESSAGES = {
    401: "People Data Labs refused the API key (HTTP 401): check PDL_API_KEY; profile look-ups stopped",
    402: "People Data Labs account has no credits left (HTTP 402, all matches used): "
    "profile look-ups stopped",
    403: "People Data Labs forbids this request (HTTP 403): the API key may lack bulk person enrichment; "
    "profile look-ups stopped",
}


class _Transient(Exception):
    """A failure worth another attempt (429, 5xx, network)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        explicit: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.explicit = explicit  # Retry-After header (a promise) rather than a rate-limit hint


def build_params(query: ProfileQuery) -> tuple[dict[str, Any], tuple[str, ...]] | None:
    """PDL params for one query and what they match on, or None if the query has nothing usable."""
    url = normalise_profile_url(query.profile_url)
    if url:
        return {"profile": url}, ("profile_url",)
    email = next((e for e in map(normalise_email, query.emails) if e), None)
    if email:
        return {"email": email}, ("email",)
    company = (query.company_name or "").strip() or (query.company_website or "").strip()
    if not company:
        return None
    first, last = (query.first_name or "").strip(), (query.last_name or "").strip()
    if first and last:
        return {"first_name": first, "last_name": last, "company": company}, ("name_company",)
    full = (query.full_name or "").strip()
    if len(full.split()) >= 2:
        return {"name": full, "company": company}, ("name_company",)
    return None


def _seconds(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After``/reset header: delta seconds, epoch seconds or HTTP date."""
    if not value:
        return None
    text = value.strip()
    if text.startswith("{"):  # PDL's dict-like rate-limit headers: "{'minute': 12}"
        try:
            numbers = [v for v in json.loads(text.replace("'", '"')).values() if isinstance(v, int | float)]
        except ValueError:
            return None
        return max((_seconds(str(n), now=now) or 0.0 for n in numbers), default=None)
    try:
        number = float(text)
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(text).timestamp() - now)
        except (TypeError, ValueError):
            return None
    if number > 1_000_000_000:  # an epoch timestamp
        return max(0.0, number - now)
    return max(0.0, number)


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return ""
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        return f"{error.get('type') or ''}: {error.get('message') or ''}".strip(": ")
    return ""


class PeopleDataLabsSource:
    """Profiles from People Data Labs bulk person enrichment.

    Args:
        api_key: PDL API key (app setting ``PDL_API_KEY``, a Key Vault reference in Azure).
        base_url: API root; ``https://sandbox.api.peopledatalabs.com`` for PDL's sandbox, or a local
            replay server (plain http only on loopback).
        min_likelihood: 0-10; matches PDL scores lower are sent back as 404 by PDL and dropped here.
        batch_size: Look-ups per request, 1-100 (PDL recommends at most 80).
        timeout: Seconds for one HTTP request.
        max_retries: Retries of one request on 429/5xx/network failures.
        max_retry_wait: Longest single wait; a ``Retry-After`` above it gives up at once.
        max_lookups: Budget: look-ups this object may send in its lifetime (None: no limit). Queries
            beyond it are answered None with status ``skipped``.
        session: A ``requests.Session`` to use (not closed by ``close``).
        sleep: Sleep function (tests).
    """

    name = "pdl"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        min_likelihood: int = 6,
        batch_size: int = 80,
        timeout: float = 30.0,
        max_retries: int = 5,
        max_retry_wait: float = 60.0,
        max_lookups: int | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise ProfileSourceConfigError("PDL_API_KEY: missing or empty")
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise ProfileSourceConfigError(f"PDL batch size must be 1-{MAX_BATCH_SIZE}")
        if not 0 <= min_likelihood <= 10:
            raise ProfileSourceConfigError("PDL_MIN_LIKELIHOOD must be 0-10")
        if max_retries < 0 or timeout <= 0 or max_retry_wait <= 0:
            raise ProfileSourceConfigError("PDL timeout/max_retry_wait must be > 0 and max_retries >= 0")
        base_url = base_url.strip().rstrip("/")
        if not (
            base_url.startswith("https://") or (base_url.startswith("http://") and is_loopback_url(base_url))
        ):
            raise ProfileSourceConfigError("PDL_BASE_URL must be https:// (plain http only on loopback)")
        self._api_key = api_key.strip()
        self.base_url = base_url
        self.min_likelihood = min_likelihood
        self.batch_size = batch_size
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.max_lookups = max_lookups
        self._own_session = session is None
        self._session = session or requests.Session()
        self._sleep = sleep
        self._backoff = tenacity.wait_exponential_jitter(initial=1, max=min(30.0, max_retry_wait), jitter=1)
        self.lookups_sent = 0
        self.stats = LookupStats()

    def __repr__(self) -> str:
        return f"PeopleDataLabsSource(base_url={self.base_url!r}, min_likelihood={self.min_likelihood})"

    @property
    def lookup_stats(self) -> LookupStats:
        return self.stats

    # ---------------------------------------------------------------------------------- look-ups

    def lookup(self, queries: Sequence[ProfileQuery]) -> dict[str, Profile | None]:
        """Contact id -> profile or None for every query (see ``lookup_results`` for the reasons).

        Raises:
            ProfileSourceAuthError: 401/402/403 - stop all look-ups (``partial_results`` has the rest).
            ProfileSourceUnavailable: still throttled/failing after the retries.
            ProfileSourceError: PDL rejected the request (400) or answered something unreadable.
        """
        return {contact_id: result.profile for contact_id, result in self.lookup_results(queries).items()}

    def lookup_results(self, queries: Sequence[ProfileQuery]) -> dict[str, LookupResult]:
        results: dict[str, LookupResult] = {}
        plan: list[tuple[ProfileQuery, dict[str, Any], tuple[str, ...]]] = []
        for query in queries:
            built = build_params(query)
            if built is None:
                results[query.contact_id] = LookupResult(
                    "skipped", detail="no profile URL, email, or name with company"
                )
            elif self.max_lookups is not None and self.lookups_sent >= self.max_lookups:
                results[query.contact_id] = LookupResult("skipped", detail="look-up budget spent")
            else:
                self.lookups_sent += 1
                params, matched_on = built
                plan.append((query, {**params, "min_likelihood": self.min_likelihood}, matched_on))
        try:
            for start in range(0, len(plan), self.batch_size):
                batch = plan[start : start + self.batch_size]
                items = self._post_batch(batch)
                for (query, _, matched_on), item in zip(batch, items, strict=True):
                    results[query.contact_id] = self._item_result(item, matched_on)
        except ProfileSourceError as exc:
            for result in results.values():
                self.stats.count(result)
            exc.partial_results = {contact_id: r.profile for contact_id, r in results.items()}
            raise
        for result in results.values():
            self.stats.count(result)
        return {query.contact_id: results[query.contact_id] for query in queries}

    def _item_result(self, item: object, matched_on: tuple[str, ...]) -> LookupResult:
        if not isinstance(item, Mapping):
            return LookupResult("error", detail="missing_in_response")
        status = item.get("status")
        if status == 200 and isinstance(item.get("data"), Mapping):
            likelihood = item.get("likelihood")
            if not isinstance(likelihood, int) or isinstance(likelihood, bool):
                likelihood = None
            if self.min_likelihood > 0 and (likelihood is None or likelihood < self.min_likelihood):
                return LookupResult(
                    "low_likelihood", detail=f"likelihood {likelihood} < {self.min_likelihood}"
                )
            try:
                profile = pdl_record_to_profile(item["data"], likelihood=likelihood, matched_on=matched_on)
            except ValueError:
                return LookupResult("error", detail="record_without_id")
            return LookupResult("matched", profile)
        if status == 404:
            return LookupResult("not_found")
        if status in _AUTH_MESSAGES:
            raise ProfileSourceAuthError(_AUTH_MESSAGES[status], status=status)
        error = item.get("error")
        kind = error.get("type") if isinstance(error, Mapping) else None
        return LookupResult("error", detail=f"http_{status}" + (f"_{kind}" if kind else ""))

    # ---------------------------------------------------------------------------------- HTTP

    def _post_batch(self, batch: Sequence[tuple[ProfileQuery, dict[str, Any], tuple[str, ...]]]) -> list:
        body = json.dumps(
            {
                "requests": [
                    {"params": params, "metadata": {"contact_id": q.contact_id}} for q, params, _ in batch
                ]
            },
            separators=(",", ":"),
        ).encode("utf-8")

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Transient) and exc.retry_after is not None:
                return min(exc.retry_after, self.max_retry_wait)
            return min(self._backoff(state), self.max_retry_wait)

        def stop(state: tenacity.RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Transient) and exc.explicit and (exc.retry_after or 0) > self.max_retry_wait:
                return True  # PDL asks for a longer pause than we may wait: give up now
            return state.attempt_number > self.max_retries

        def before_sleep(state: tenacity.RetryCallState) -> None:
            self.stats.retries += 1
            exc = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            log.warning(
                "PDL bulk request failed (%s); retry %d/%d in %.1f s",
                exc,
                state.attempt_number,
                self.max_retries,
                delay,
            )

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Transient),
            wait=wait,
            stop=stop,
            before_sleep=before_sleep,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    items = self._post_once(body, len(batch))
            return self._align(items, batch)
        except _Transient as exc:
            attempts = retrying.statistics.get("attempt_number", 1)
            raise ProfileSourceUnavailable(
                f"People Data Labs unavailable ({exc}); gave up after {attempts} attempt(s)",
                status=exc.status,
                retry_after=exc.retry_after,
            ) from None

    def _post_once(self, body: bytes, count: int) -> list:
        headers = {
            "X-Api-Key": self._api_key,
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
        }
        self.stats.requests += 1
        started = time.monotonic()
        try:
            response = self._session.post(
                self.base_url + BULK_PATH, data=body, headers=headers, timeout=self.timeout
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Transient(f"network: {type(exc).__name__}") from None
        status = response.status_code
        log.debug(
            "PDL bulk request: %d look-ups -> HTTP %d in %.2f s", count, status, time.monotonic() - started
        )
        if status == 200:
            try:
                items = response.json()
            except (ValueError, RecursionError):
                raise ProfileSourceError(
                    "People Data Labs answered HTTP 200 with a body that is not JSON"
                ) from None
            if isinstance(items, Mapping) and items.get("status") in _AUTH_MESSAGES:
                raise ProfileSourceAuthError(_AUTH_MESSAGES[items["status"]], status=items["status"])
            if not isinstance(items, list):
                raise ProfileSourceError("People Data Labs answered HTTP 200 without a JSON array")
            return items
        if status in _AUTH_MESSAGES:
            raise ProfileSourceAuthError(_AUTH_MESSAGES[status], status=status)
        if status == 429 or status >= 500:
            now = time.time()
            retry_after = _seconds(response.headers.get("Retry-After"), now=now)
            explicit = retry_after is not None
            if retry_after is None:
                retry_after = _seconds(response.headers.get("x-ratelimit-reset"), now=now)
            raise _Transient(f"HTTP {status}", status=status, retry_after=retry_after, explicit=explicit)
        if status == 404:  # the whole batch found nothing (shape unconfirmed): every item is a miss
            return [{"status": 404}] * count
        detail = _error_text(response).replace(self._api_key, "***")
        raise ProfileSourceError(
            f"People Data Labs rejected the bulk request: HTTP {status} {detail}".rstrip()
        )

    @staticmethod
    def _align(items: list, batch: Sequence[tuple[ProfileQuery, dict[str, Any], tuple[str, ...]]]) -> list:
        """Items in request order: by echoed ``metadata.contact_id`` when present, else by position."""
        by_contact: dict[str, object] = {}
        for item in items:
            metadata = item.get("metadata") if isinstance(item, Mapping) else None
            if isinstance(metadata, Mapping) and isinstance(metadata.get("contact_id"), str):
                by_contact[metadata["contact_id"]] = item
        aligned: list = []
        for position, (query, _, _) in enumerate(batch):
            if query.contact_id in by_contact:
                aligned.append(by_contact[query.contact_id])
            elif not by_contact and len(items) == len(batch):
                aligned.append(items[position])
            else:
                aligned.append(None)
        return aligned

    def close(self) -> None:
        if self._own_session:
            self._session.close()
