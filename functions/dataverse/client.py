"""The Dataverse Web API client: one ``requests.Session``, typed errors, retries, a concurrency cap.

Design notes (why it looks the way it does):

* Every HTTP call goes through ``_request``: token -> limiter slot -> one HTTP request -> translate
  errors -> tenacity retry policy (``retry.py``). A 401 gets exactly one forced token refresh and one
  repeat, inside the same attempt; a second 401 raises ``AuthenticationError``, which the policy
  retries for reads (GET) only.
* ``@odata.nextLink``/``@odata.deltaLink`` are followed unchanged (the docs forbid editing them) but only
  on the client's own origin, so a bad link can never carry the bearer token elsewhere. One caveat of
  the HTTP stack: urllib3 (under ``requests``) upper-cases the hex digits of percent-escapes in every
  request target (``%2f`` -> ``%2F``) and offers no switch to turn that off, so a link with lower-case
  escapes goes out with upper-case ones. RFC 3986 section 6.2.2.1 makes the two forms equivalent, the
  decoded value is byte-for-byte the same, and nothing else in the link is touched.
* Only 2xx responses are success. A redirect (3xx) or any other unexpected status raises
  ``DataverseError`` (redirects are never followed: the target would receive the bearer token), so a
  read can never end early and look complete.
* Rows are streamed page by page; no method materialises a whole table.
* Cookies are disabled on the session: Dataverse's ``ARRAffinity`` cookie pins every request to one web
  server, which defeats parallel requests (send-parallel-requests docs).
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from functions.config import DataverseConfig

from .auth import TokenProvider, build_token_provider
from .batch import BatchOperation, BatchResult, decode_batch_response, encode_batch, parse_boundary
from .changes import ChangeFeed, checked_page, guess_primary_key
from .counters import RequestCounters
from .errors import (
    AuthenticationError,
    BadRequestError,
    ConnectionFailedError,
    DataverseError,
    ForbiddenError,
    NotFoundError,
    PayloadTooLargeError,
    PreconditionFailedError,
    ThrottledError,
    error_from_response,
    parse_retry_after,
)
from .limiter import ConcurrencyLimiter
from .models import RecordResult
from .odata import odata_string, validate_guid
from .pause import PauseGate
from .retry import RetryPolicy, is_retryable

__all__ = ["MAX_BATCH_OPERATIONS", "MAX_PAGE_SIZE", "DataverseClient", "build_client"]

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 5000  # Dataverse ignores/refuses larger odata.maxpagesize values
MAX_BATCH_OPERATIONS = 1000  # "Batch requests can contain up to 1000 individual requests"
MAX_BULK_CHUNK = 1000
DEFAULT_BULK_CHUNK = 500
# GETs per ``$batch`` in ``query_many``: with filters of 50 ids that is 2,500 ids per request, a request
# body of about 150 KB (each part is one filter URL of ~3 KB) and, for by-id reads, at most 2,500 rows
# in the response - half of one full 5,000-row page - so memory stays bounded like ``iter_rows``.
DEFAULT_GETS_PER_BATCH = 50

# Characters left unescaped in query values: OData syntax that Dataverse expects literally.
_QUERY_SAFE = "$,'()/:@*"
_ENTITY_ID = re.compile(
    r"\(([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\)\s*$"
)
_SIMPLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


def _encode_query(pairs: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{key}={quote(str(value), safe=_QUERY_SAFE)}" for key, value in pairs)


def _select_value(select: str | Sequence[str]) -> str:
    columns = [select] if isinstance(select, str) else list(select)
    names = [name.strip() for column in columns for name in column.split(",") if name.strip()]
    if not names:
        raise ValueError("select must name at least one column (never read whole rows)")
    for name in names:
        if not _SIMPLE_NAME.match(name):
            raise ValueError(f"invalid column name in select: {name!r}")
    return ",".join(names)


def _annotation_value(annotations: str | Sequence[str]) -> str:
    names = [annotations] if isinstance(annotations, str) else list(annotations)
    return ",".join(name.strip() for name in names if name.strip())


class DataverseClient:
    """Thread-safe client for one Dataverse organisation's Web API.

    Args:
        api_url: API root, e.g. ``https://contoso.crm4.dynamics.com/api/data/v9.2/``.
        token_provider: Supplies bearer tokens (``get_token(force_refresh=...)``).
        timeout: Seconds for connect and for each read of one request.
        max_concurrency: Upper bound for in-flight requests (also the connection pool size). The
            effective cap follows ``x-ms-dop-hint`` but never exceeds this.
        max_retries: Retries per call for transient failures (see ``retry.py``).
        max_retry_wait: Upper bound in seconds for any single wait, including ``Retry-After``.
        page_size: Default ``odata.maxpagesize`` (1..5000).
        session: A ``requests.Session`` to use (the client then does not close it).
        retry_budget: Upper bound in seconds for all attempts of one call (default
            ``max(600, 2 * max_retry_wait)``).
        pause_gate: A pause shared with clients in other processes (``pause.py``): waited out before
            each request, told of every 429's ``Retry-After``. Settable later (``pause_gate``).

    Raises:
        ValueError: invalid argument values.
    """

    def __init__(
        self,
        api_url: str,
        token_provider: TokenProvider,
        *,
        timeout: float = 60,
        max_concurrency: int = 8,
        max_retries: int = 6,
        max_retry_wait: float = 300,
        page_size: int = 5000,
        session: requests.Session | None = None,
        retry_budget: float | None = None,
        pause_gate: PauseGate | None = None,
    ) -> None:
        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("api_url must be an absolute http(s) URL")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        if timeout <= 0:
            raise ValueError("timeout must be > 0")
        self._api_url = api_url if api_url.endswith("/") else api_url + "/"
        self._origin = f"{parts.scheme}://{parts.netloc}".lower()
        self._api_path = urlsplit(self._api_url).path
        self._tokens = token_provider
        self._timeout = timeout
        self._page_size = page_size
        self._counters = RequestCounters()
        self._limiter = ConcurrencyLimiter(max_concurrency)
        self._retry = RetryPolicy(
            max_retries=max_retries,
            max_retry_wait=max_retry_wait,
            total_budget=retry_budget if retry_budget is not None else max(600.0, 2 * max_retry_wait),
        )
        self._owns_session = session is None
        self._session = session if session is not None else self._new_session(max_concurrency)
        self._message_support: dict[tuple[str, str], bool] = {}
        self._message_lock = threading.Lock()
        self._pause_gate = pause_gate

    @staticmethod
    def _new_session(pool_size: int) -> requests.Session:
        session = requests.Session()
        # Retries are ours (tenacity); urllib3 must not retry behind our back or counts would lie.
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_size, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # no ARRAffinity pinning
        return session

    # ------------------------------------------------------------------ lifecycle / introspection

    @property
    def api_url(self) -> str:
        return self._api_url

    @property
    def limiter(self) -> ConcurrencyLimiter:
        """The concurrency limiter (``limit``, ``peak``, ``in_flight`` for diagnostics)."""
        return self._limiter

    @property
    def pause_gate(self) -> PauseGate | None:
        """The pause shared with other processes (None: only this client's own ``Retry-After``)."""
        return self._pause_gate

    @pause_gate.setter
    def pause_gate(self, gate: PauseGate | None) -> None:
        self._pause_gate = gate

    @property
    def request_counts(self) -> dict[str, int]:
        """HTTP requests sent by kind (retries included) plus ``retries``, ``throttled``,
        ``token_refreshes``, ``shared_pause_waits`` events. See ``counters.py`` for the kinds."""
        return self._counters.snapshot()

    def reset_counts(self) -> None:
        """Zero all counters."""
        self._counters.reset()

    def close(self) -> None:
        """Close the HTTP session if the client created it."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> DataverseClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ HTTP core

    def _url(self, path: str) -> str:
        """Absolute URL for ``path`` (relative to the API root, or absolute on the same origin)."""
        if path.startswith(("http://", "https://")):
            parts = urlsplit(path)
            if f"{parts.scheme}://{parts.netloc}".lower() != self._origin:
                # A link to another host would receive our bearer token.
                raise DataverseError(None, "", f"refusing to follow a link to another origin: {parts.netloc}")
            return path
        if path.startswith("/"):
            return self._origin + path
        return self._api_url + path

    def _headers(
        self, method: str, token: str, extra: Mapping[str, str] | None, has_body: bool
    ) -> dict[str, str]:
        headers = {
            "Accept": "application/json",
            "OData-MaxVersion": "4.0",
            "OData-Version": "4.0",
            "Authorization": f"Bearer {token}",
        }
        if method in ("GET", "POST"):
            # As in the docs' examples; avoids any cached/conditional answer on reads.
            headers["If-None-Match"] = "null"
        if has_body:
            headers["Content-Type"] = "application/json; charset=utf-8"
        if extra:
            headers.update(extra)
        return headers

    def _send_once(
        self,
        method: str,
        url: str,
        *,
        kind: str,
        token: str,
        headers: Mapping[str, str] | None,
        data: bytes | None,
    ) -> requests.Response:
        all_headers = self._headers(method, token, headers, data is not None)
        self._await_shared_pause()
        with self._limiter.slot():
            self._counters.add(kind)
            try:
                response = self._session.request(
                    method, url, headers=all_headers, data=data, timeout=self._timeout, allow_redirects=False
                )
            except requests.exceptions.ConnectTimeout as exc:
                raise ConnectionFailedError(None, "ConnectTimeout", _describe(exc), sent=False) from exc
            except requests.exceptions.Timeout as exc:
                raise ConnectionFailedError(None, "Timeout", _describe(exc)) from exc
            except requests.exceptions.ConnectionError as exc:
                raise ConnectionFailedError(
                    None, "ConnectionError", _describe(exc), sent=not _never_connected(exc)
                ) from exc
            except (
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as exc:
                raise ConnectionFailedError(None, type(exc).__name__, _describe(exc)) from exc
            except requests.exceptions.RequestException as exc:
                # InvalidURL, InvalidHeader, ...: the request could not be built or sent; not transient.
                raise DataverseError(None, type(exc).__name__, _describe(exc)) from exc
        self._limiter.apply_hint(response.headers.get("x-ms-dop-hint"))
        if response.status_code == 429:
            self._counters.add("throttled")
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if self._pause_gate is not None and retry_after:
                self._pause_gate.announce(retry_after)
        return response

    def _await_shared_pause(self) -> None:
        """Before a request: wait until the shared pause (if any) has passed, plus a random 0-1 s so the
        paused processes do not all come back at once. At most ``max_retry_wait`` in all: a longer pause
        raises ``ThrottledError`` without sending, as a ``Retry-After`` that long does (retrying early
        would only extend the throttling)."""
        gate = self._pause_gate
        if gate is None:
            return
        waited = 0.0
        while (remaining := gate.remaining()) > 0:
            if waited + remaining > self._retry.max_retry_wait:
                raise ThrottledError(
                    None,
                    "",
                    f"another client of this application user was asked to pause {remaining:.0f} s more "
                    f"(shared Retry-After), longer than the {self._retry.max_retry_wait:.0f} s allowed",
                    retry_after=remaining,
                )
            if not waited:
                self._counters.add("shared_pause_waits")
                log.info("dataverse: waiting %.1fs for the pause another client was asked for", remaining)
            pause = remaining + random.uniform(0.0, 1.0)
            time.sleep(pause)
            waited += pause

    def _attempt(
        self,
        method: str,
        url: str,
        *,
        kind: str,
        headers: Mapping[str, str] | None,
        data: bytes | None,
        allow_multipart_error: bool,
    ) -> requests.Response:
        token = self._tokens.get_token()
        response = self._send_once(method, url, kind=kind, token=token, headers=headers, data=data)
        if response.status_code == 401:
            # Token expired or revoked early: refresh once, repeat once (docs: handle-errors). Passing
            # the rejected token lets the provider skip the refresh if another thread already did it.
            self._counters.add("token_refreshes")
            log.info("dataverse %s %s: 401, refreshing the token once", kind, method)
            token = self._tokens.get_token(force_refresh=True, rejected_token=token)
            response = self._send_once(method, url, kind=kind, token=token, headers=headers, data=data)
            if response.status_code == 401:
                error = error_from_response(401, response.content, response.headers)
                raise AuthenticationError(401, error.code, error.message)
        status = response.status_code
        if status >= 400:
            if allow_multipart_error and parse_boundary(response.headers.get("Content-Type", "")):
                return response  # $batch without continue-on-error: the failing part is inside
            raise error_from_response(status, response.content, response.headers)
        if 200 <= status < 300 or (status == 304 and _is_conditional(headers)):
            return response
        # 1xx/3xx: never followed (a redirect target would get the bearer token), never success.
        location = urlsplit(response.headers.get("Location", "")).netloc
        where = f" to {location}" if location else ""
        raise DataverseError(status, "", f"unexpected HTTP {status}{where}: not a Dataverse answer")

    def _request(
        self,
        method: str,
        path: str,
        *,
        kind: str,
        body: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
        allow_multipart_error: bool = False,
        read: bool | None = None,
    ) -> requests.Response:
        """Send one logical request with auth, limiter, error translation and retries.

        ``read`` (default: the method is GET) retries like a read: also a 500 and a repeated 401. A
        ``$batch`` of only GETs is a read sent as POST.

        Raises:
            DataverseError: (a subclass of) it for any failure, after retries where applicable.
        """
        url = self._url(path)
        if body is not None:
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

        def on_retry(exc: BaseException, wait: float) -> None:
            self._counters.add("retries")
            status = getattr(exc, "status", None)
            log.warning(
                "dataverse %s %s failed (%s, status %s); retrying in %.1fs",
                kind,
                method,
                type(exc).__name__,
                status,
                wait,
            )

        if read is None:
            read = method.upper() == "GET"
        retrying = self._retry.retrying(idempotent=idempotent, read=read, on_retry=on_retry)
        return retrying(
            self._attempt,
            method.upper(),
            url,
            kind=kind,
            headers=headers,
            data=data,
            allow_multipart_error=allow_multipart_error,
        )

    @staticmethod
    def _json(response: requests.Response) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise DataverseError(
                response.status_code, "", "response is not JSON: " + response.text[:200]
            ) from exc

    # ------------------------------------------------------------------ reading

    def get_json(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        kind: str = "read",
    ) -> dict[str, Any]:
        """GET ``path`` and return the JSON object.

        Args:
            path: Relative to the API root (``EntityDefinitions(LogicalName='contact')``) or an absolute
                URL on the org's origin.
            params: Query options, keys sent literally (``{"$select": "name"}``), values percent-encoded.
            headers: Extra request headers (e.g. ``{"Consistency": "Strong"}``).
            kind: Counter kind for this request.

        Returns:
            The decoded JSON object (``{}`` for an empty body, or for ``304 Not Modified`` when
            ``headers`` carries an ``If-None-Match`` etag).

        Raises:
            DataverseError: any failure (typed subclass).
        """
        if params:
            path = path + ("&" if "?" in path else "?") + _encode_query(params.items())
        result = self._json(self._request("GET", path, kind=kind, headers=headers))
        return result if isinstance(result, dict) else {}

    def _prefer(self, page_size: int | None, annotations: str | Sequence[str] | None, *extra: str) -> str:
        size = self._page_size if page_size is None else page_size
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be an int between 1 and {MAX_PAGE_SIZE}")
        prefs = [*extra, f"odata.maxpagesize={size}"]
        if annotations:
            prefs.append(f'odata.include-annotations="{_annotation_value(annotations)}"')
        return ", ".join(prefs)

    def iter_pages(
        self,
        entity_set: str,
        *,
        select: str | Sequence[str],
        filter: str | None = None,
        order_by: str | None = None,
        page_size: int | None = None,
        annotations: str | Sequence[str] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield the rows of ``entity_set`` one page (list of row dicts) at a time.

        Build ``filter`` values with ``odata_string``/``odata_guid``; never paste raw input into it.

        Args:
            entity_set: Entity set name, e.g. ``contacts``.
            select: Columns to return (required; list or comma-separated string).
            filter: OData ``$filter`` expression.
            order_by: OData ``$orderby`` expression.
            page_size: ``odata.maxpagesize`` (1..5000; default from the client).
            annotations: ``odata.include-annotations`` value(s), e.g. ``"*"`` or
                ``"OData.Community.Display.V1.FormattedValue"``.

        Raises:
            ValueError: (immediately) bad select/page_size/entity set.
            DataverseError: (while iterating) any request failure.
        """
        url = self._collection_url(entity_set, select=select, filter=filter, order_by=order_by)
        prefer = self._prefer(page_size, annotations)
        return self._pages(url, prefer)

    def iter_rows(
        self,
        entity_set: str,
        *,
        select: str | Sequence[str],
        filter: str | None = None,
        order_by: str | None = None,
        page_size: int | None = None,
        annotations: str | Sequence[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield rows of ``entity_set`` one at a time (same arguments and errors as ``iter_pages``)."""
        pages = self.iter_pages(
            entity_set,
            select=select,
            filter=filter,
            order_by=order_by,
            page_size=page_size,
            annotations=annotations,
        )
        return (row for page in pages for row in page)

    def query_many(
        self,
        entity_set: str,
        filters: Sequence[str],
        *,
        select: str | Sequence[str],
        page_size: int | None = None,
        annotations: str | Sequence[str] | None = None,
        gets_per_batch: int = DEFAULT_GETS_PER_BATCH,
    ) -> Iterator[dict[str, Any]]:
        """Yield the rows of many filtered reads of ``entity_set``, sending many GETs per ``$batch``.

        Each filter becomes one GET (the same URL and ``Prefer`` header ``iter_rows`` would send), and up
        to ``gets_per_batch`` of them go in one ``POST $batch`` as top-level parts (Dataverse allows GET
        in ``$batch``, not inside a change set). Rows are yielded response by response, in no
        guaranteed order; a row matching several filters is yielded once per filter. An inner answer
        with an ``@odata.nextLink`` has its next page fetched in a later ``$batch`` together with the
        remaining filters. A group of a single GET is sent as a plain GET (same request count, fewer
        bytes). The ``$batch`` holds only GETs, so it is retried like a read (counted as
        ``batch_read``); an inner GET that failed transiently (429, 5xx, no part returned) is repeated
        as a plain GET with the client's retry policy. ``query_batched`` does the same for reads of
        several tables at once.

        One ``$batch`` answer is held in memory at a time: at most ``gets_per_batch`` pages.

        Args:
            entity_set: Entity set name, e.g. ``contacts``.
            filters: One OData ``$filter`` expression per GET (non-empty; build literals with
                ``odata_string``/``odata_guid``). Keep each short enough for a URL, as for ``iter_rows``.
            select: Columns to return (required; list or comma-separated string).
            page_size: ``odata.maxpagesize`` of every GET (1..5000; default from the client).
            annotations: ``odata.include-annotations`` value(s), as for ``iter_rows``.
            gets_per_batch: GETs per ``$batch`` (1..1000, Dataverse's limit of operations per batch).

        Raises:
            ValueError: (immediately) bad select/page_size/entity set/gets_per_batch, or an empty filter.
            DataverseError: (while iterating) the typed error a plain GET of the failing filter raises.
        """
        if isinstance(filters, str):
            raise ValueError("filters must be a sequence of filter expressions, not one string")
        pages = self.query_batched(
            [(entity_set, filter_, select) for filter_ in filters],
            page_size=page_size,
            annotations=annotations,
            gets_per_batch=gets_per_batch,
        )
        return (row for _, rows in pages for row in rows)

    def query_batched(
        self,
        gets: Sequence[tuple[str, str, str | Sequence[str]]],
        *,
        page_size: int | None = None,
        annotations: str | Sequence[str] | None = None,
        gets_per_batch: int = DEFAULT_GETS_PER_BATCH,
        single_as_get: bool = True,
    ) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """Yield ``(position, rows of one page)`` of many filtered GETs, of one table or several, sent
        up to ``gets_per_batch`` per ``$batch``.

        ``gets`` holds ``(entity_set, filter, select)`` per GET; ``position`` is the index of the GET a
        page belongs to. Everything else is as for ``query_many``: the same URLs and ``Prefer`` header
        as ``iter_rows``, pages of an inner answer's ``@odata.nextLink`` in a later ``$batch``, an inner
        GET that failed transiently repeated alone as a plain GET under the retry policy, any other
        inner failure raised as the typed error a plain GET raises, one ``$batch`` answer in memory at a
        time. ``single_as_get`` False sends a group of one GET as a ``$batch`` too, so every targeted
        read of a caller has one shape (``batch_read``); the request count is the same.

        Raises:
            ValueError: (immediately) bad select/page_size/entity set/gets_per_batch, or an empty filter.
            DataverseError: (while iterating) the typed error a plain GET of the failing filter raises.
        """
        if isinstance(gets_per_batch, bool) or not 1 <= gets_per_batch <= MAX_BATCH_OPERATIONS:
            raise ValueError(f"gets_per_batch must be between 1 and {MAX_BATCH_OPERATIONS}")
        urls = []
        for entity_set, filter_, select in gets:
            if not isinstance(filter_, str) or not filter_.strip():
                # An empty filter would read the whole table.
                raise ValueError("every filter must be a non-empty expression")
            urls.append(self._collection_url(entity_set, select=select, filter=filter_, order_by=None))
        prefer = self._prefer(page_size, annotations)
        return self._batched_pages(urls, prefer, gets_per_batch, single_as_get)

    def _batched_pages(
        self, urls: list[str], prefer: str, gets_per_batch: int, single_as_get: bool
    ) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        headers = {"Prefer": prefer}
        pending: deque[tuple[int, str]] = deque(enumerate(urls))
        while pending:
            group = [pending.popleft() for _ in range(min(gets_per_batch, len(pending)))]
            if len(group) == 1 and single_as_get:
                position, url = group[0]
                for rows in self._pages(url, prefer):
                    yield position, rows
                continue
            operations = [BatchOperation("GET", url, None, headers) for _, url in group]
            # continue-on-error: one failing GET must not hide the answers of the others.
            results = self._send_batch(operations, continue_on_error=True, kind="batch_read")
            for (position, url), result in zip(group, results, strict=True):
                if result.error is not None:
                    if result.status is None or is_retryable(result.error, idempotent=True, read=True):
                        # Transient, or the part is missing: ask again on its own, with the retry policy
                        # (a failure there raises exactly what a plain read raises).
                        log.info("batched GET failed (%s); repeating it alone", result.status)
                        for rows in self._pages(url, prefer):
                            yield position, rows
                        continue
                    raise result.error
                page = checked_page(result.body)
                next_link = page.get("@odata.nextLink")
                if next_link:
                    # Used unchanged; the origin check refuses a link to another host, as for plain reads.
                    self._url(next_link)
                    pending.append((position, next_link))
                yield position, page["value"]
            del results

    def _collection_url(
        self, entity_set: str, *, select: str | Sequence[str], filter: str | None, order_by: str | None
    ) -> str:
        if not entity_set or "?" in entity_set or entity_set.startswith(("http:", "https:")):
            raise ValueError(f"invalid entity set: {entity_set!r}")
        query = [("$select", _select_value(select))]
        if filter:
            query.append(("$filter", filter))
        if order_by:
            query.append(("$orderby", order_by))
        return f"{entity_set}?{_encode_query(query)}"

    def _pages(self, url: str, prefer: str, *, kind: str = "read") -> Iterator[list[dict[str, Any]]]:
        headers = {"Prefer": prefer}
        next_url: str | None = url
        while next_url:
            page = checked_page(self._json(self._request("GET", next_url, kind=kind, headers=headers)))
            rows = page["value"]
            next_url = page.get("@odata.nextLink")  # followed unchanged, same Prefer header
            del page  # keep only this page's rows alive while the caller consumes them
            yield rows

    def read_changes(
        self,
        entity_set: str,
        *,
        select: str | Sequence[str],
        delta_link: str | None = None,
        page_size: int | None = None,
        primary_key: str | None = None,
        filter: str | None = None,
        order_by: str | None = None,
        expand: str | None = None,
        top: int | None = None,
    ) -> ChangeFeed:
        """Start a change-tracking read: all rows (initial) or the changes since ``delta_link``.

        The first page is requested before this returns. Iterate the feed for ``ChangedRow`` /
        ``DeletedRow``; afterwards ``feed.delta_link`` holds the link for the next run.

        Args:
            entity_set: Entity set with change tracking enabled, e.g. ``contacts``.
            select: Columns for the initial read (a ``delta_link`` already encodes them).
            delta_link: The ``@odata.deltaLink`` from the previous run; used unchanged.
            page_size: ``odata.maxpagesize`` (1..5000).
            primary_key: Primary key column for ``ChangedRow.id`` (default guessed: ``contacts`` ->
                ``contactid``).
            filter, order_by, expand, top: Not supported by Dataverse with change tracking; passing any
                raises ``ValueError`` (filter the rows client-side instead).

        Raises:
            ValueError: unsupported query options or bad arguments.
            ExpiredDeltaTokenError: the delta token is too old; do a full read (``delta_link=None``).
            DataverseError: other failures.
        """
        refused = [
            name
            for name, value in (
                ("$filter", filter),
                ("$orderby", order_by),
                ("$expand", expand),
                ("$top", top),
            )
            if value is not None
        ]
        if refused:
            raise ValueError(
                f"{', '.join(refused)} cannot be combined with change tracking (Dataverse refuses it)"
            )
        prefer = self._prefer(page_size, None, "odata.track-changes")
        if delta_link:
            lowered = delta_link.lower()
            if any(
                f"{option}=" in lowered or f"{quote(option)}=".lower() in lowered
                for option in ("$filter", "$orderby", "$expand", "$top")
            ):
                raise ValueError("delta link carries a query option that change tracking does not support")
            first_url = delta_link
        else:
            first_url = self._collection_url(entity_set, select=select, filter=None, order_by=None)
        headers = {"Prefer": prefer}

        def fetch(url: str) -> Any:
            return self._json(self._request("GET", url, kind="delta", headers=headers))  # checked by the feed

        return ChangeFeed(fetch, first_url, primary_key=primary_key or guess_primary_key(entity_set))

    # ------------------------------------------------------------------ writing

    def create(self, entity_set_or_path: str, body: Mapping[str, Any], *, solution: str | None = None) -> str:
        """POST a new row (or a metadata item such as ``EntityDefinitions(...)/Attributes``).

        Not retried after the request may have reached the server (dropped connection, 502/503/504):
        that could create a duplicate. Retried on 429 (not processed) and connect failures.

        Args:
            entity_set_or_path: ``contacts`` or a metadata collection path.
            body: JSON body.
            solution: Unique name of the unmanaged solution (``MSCRM.SolutionUniqueName``).

        Returns:
            The new id from ``OData-EntityId`` (or ``Location``).

        Raises:
            DataverseError: any failure, or no id in the response.
        """
        headers = {"MSCRM.SolutionUniqueName": solution} if solution else None
        response = self._request(
            "POST", entity_set_or_path, kind="create", body=dict(body), headers=headers, idempotent=False
        )
        for name in ("OData-EntityId", "Location"):
            match = _ENTITY_ID.search(response.headers.get(name, ""))
            if match:
                return match.group(1)
        payload = self._json(response) if response.content else None
        if isinstance(payload, dict):
            for key in ("MetadataId", "id"):
                if isinstance(payload.get(key), str):
                    return payload[key]
        raise DataverseError(response.status_code, "", "create succeeded but returned no OData-EntityId")

    def update(
        self,
        entity_set: str,
        record_id: str,
        body: Mapping[str, Any],
        *,
        if_match: str | None = "*",
    ) -> None:
        """PATCH one row. With the default ``If-Match: *`` it never creates a missing row.

        Args:
            entity_set: e.g. ``contacts``.
            record_id: The row's GUID.
            body: Changed columns only.
            if_match: ``"*"`` (row must exist), an etag (optimistic concurrency), or ``None`` (upsert).

        Raises:
            ValueError: ``record_id`` is not a GUID.
            NotFoundError: the row does not exist (with ``If-Match: *``).
            PreconditionFailedError: etag mismatch.
            DataverseError: other failures.
        """
        headers = {"If-Match": if_match} if if_match else None
        self._request(
            "PATCH",
            f"{entity_set}({validate_guid(record_id)})",
            kind="update",
            body=dict(body),
            headers=headers,
        )

    def delete(self, entity_set: str, record_id: str) -> None:
        """DELETE one row.

        Retried on transient failures; if a retried delete had in fact succeeded the repeat raises
        ``NotFoundError``, which callers deleting "if present" can treat as success.

        Raises:
            ValueError: ``record_id`` is not a GUID.
            NotFoundError: the row does not exist.
            DataverseError: other failures.
        """
        self._request("DELETE", f"{entity_set}({validate_guid(record_id)})", kind="delete")

    def execute_batch(
        self, operations: Sequence[BatchOperation], *, continue_on_error: bool = True
    ) -> list[BatchResult]:
        """Send up to 1000 operations in one ``$batch`` (each its own part, not a change set).

        Args:
            operations: The operations, in order.
            continue_on_error: Send ``Prefer: odata.continue-on-error`` so one failing operation does not
                stop the rest. Without it Dataverse stops at the first failure; later operations get a
                result with ``status=None`` and an error saying they were not executed.

        Returns:
            One ``BatchResult`` per operation, in order; failed parts carry a typed ``error``.

        Raises:
            ValueError: more than 1000 operations.
            DataverseError: the batch request itself failed (auth, throttling after retries, ...).
        """
        return self._send_batch(operations, continue_on_error=continue_on_error, kind="batch")

    def _send_batch(
        self, operations: Sequence[BatchOperation], *, continue_on_error: bool, kind: str
    ) -> list[BatchResult]:
        if not operations:
            return []
        if len(operations) > MAX_BATCH_OPERATIONS:
            raise ValueError(f"a $batch holds at most {MAX_BATCH_OPERATIONS} operations")
        body, content_type = encode_batch(operations, api_path=self._api_path)
        headers = {"Content-Type": content_type}
        if continue_on_error:
            headers["Prefer"] = "odata.continue-on-error"
        # Repeating a batch is harmless unless it creates rows.
        idempotent = all(op.method.upper() in ("GET", "PATCH", "PUT", "DELETE") for op in operations)
        response = self._request(
            "POST",
            "$batch",
            kind=kind,
            data=body,
            headers=headers,
            idempotent=idempotent,
            allow_multipart_error=True,
            read=all(op.method.upper() == "GET" for op in operations),
        )
        parts = decode_batch_response(response.headers.get("Content-Type", ""), response.content)
        return _match_batch_parts(len(operations), parts, continue_on_error=continue_on_error)

    def supports_message(self, logical_name: str, message: str = "UpdateMultiple") -> bool:
        """Whether table ``logical_name`` supports SDK message ``message`` (cached per table/message).

        Queries ``sdkmessagefilters`` (bulk-operations docs). If the app user may not read that table
        (403/404) the answer is ``False``, so callers fall back to ``$batch``, which always works.

        Raises:
            DataverseError: other failures (not cached).
        """
        key = (logical_name, message)
        with self._message_lock:
            if key in self._message_support:
                return self._message_support[key]
        filter_ = (
            f"sdkmessageid/name eq {odata_string(message)}"
            f" and primaryobjecttypecode eq {odata_string(logical_name)}"
        )
        try:
            data = self.get_json(
                "sdkmessagefilters",
                params={"$select": "sdkmessagefilterid", "$filter": filter_},
                kind="metadata",
            )
            supported = bool(data.get("value"))
        except (ForbiddenError, NotFoundError) as exc:
            log.warning("cannot read sdkmessagefilters (%s); assuming %s is unsupported", exc.status, message)
            supported = False
        with self._message_lock:
            self._message_support[key] = supported
        return supported

    def update_many(
        self,
        entity_set: str,
        records: Iterable[Mapping[str, Any]],
        *,
        logical_name: str,
        primary_key: str,
        chunk_size: int = DEFAULT_BULK_CHUNK,
        use_bulk: bool | None = None,
        etags: Mapping[str, str] | None = None,
        return_versions: bool = False,
    ) -> list[RecordResult]:
        """Update many existing rows; one ``RecordResult`` per record, in input order.

        Strategy: ``UpdateMultiple`` in chunks when the table supports it (one request per chunk). It is
        atomic on standard tables, so when a chunk fails with a record-level 4xx the chunk is re-sent as
        a ``$batch`` of ``PATCH`` with ``If-Match: *`` and ``odata.continue-on-error`` to learn which
        record failed and still apply the others. Tables without ``UpdateMultiple`` go straight to
        ``$batch``. Chunks run in parallel under the client's concurrency cap. Rows are never created.

        Failures never raise: a chunk that fails as a whole (auth, throttling after retries, 5xx) marks
        each of its records ``ok=False`` with that error, so the caller sees exactly what was written. A
        record whose ``primary_key`` is not a GUID gets ``ok=False`` (nothing is sent for it) and the
        others are still written. If the ``UpdateMultiple`` support check fails (other than with an
        authentication error, which fails every record), this call uses ``$batch`` and the next call
        asks again.

        Several records with the same id (in any letter case) are merged into one write before
        chunking, later records overriding earlier ones column by column (the end state of applying
        them in order), so parallel chunks never race on one row; each of those input positions gets
        the result of that one write.

        Args:
            entity_set: e.g. ``contacts``.
            records: Dicts each holding ``primary_key`` (GUID) and the columns to change.
            logical_name: Table logical name (``contact``) for ``@odata.type`` and the support check.
            primary_key: Primary key column (``contactid``).
            chunk_size: Records per request (1..1000).
            use_bulk: Force (``True``) or skip (``False``) ``UpdateMultiple``; default: ask
                ``supports_message``.
            etags: Optimistic concurrency: record id -> the ``@odata.etag`` it was read with. Those
                records are written only if unchanged since (``If-Match: <etag>``; a changed row gives
                ``ok=False`` with ``PreconditionFailedError``). ``UpdateMultiple`` has no per-record
                condition, so a call with etags always uses ``$batch`` (same request count).
            return_versions: Ask for the row version each write produced: every ``PATCH`` carries
                ``Prefer: return=representation`` and ``$select=<primary_key>``, so Dataverse answers
                ``200`` with the row's ``@odata.etag``, set as ``RecordResult.etag`` (``None`` when the
                answer has none, e.g. a ``204``). A later read of the unchanged row returns the same etag,
                so a caller can tell its own write from someone else's. ``UpdateMultiple`` returns no
                versions, so such a call always uses ``$batch`` (same request count).

        Raises:
            ValueError: bad chunk size, or a record without ``primary_key`` (checked before sending).
        """
        if not 1 <= chunk_size <= MAX_BULK_CHUNK:
            raise ValueError(f"chunk_size must be between 1 and {MAX_BULK_CHUNK}")
        # Per input position: the normalised id to take the result from, or the final (failed) result.
        slots: list[str | RecordResult] = []
        merged: dict[str, dict[str, Any]] = {}  # one write per id, in order of first appearance
        for record in records:
            if primary_key not in record:
                raise ValueError(f"record without {primary_key!r}")
            try:
                record_id = validate_guid(record[primary_key])
            except ValueError as exc:
                error = DataverseError(None, "", f"{primary_key}: {exc}; not sent")
                slots.append(RecordResult(str(record[primary_key]), False, error))
                continue
            merged.setdefault(record_id, {}).update((k, v) for k, v in record.items() if k != primary_key)
            slots.append(record_id)
        prepared = list(merged.items())
        if not prepared:
            return [slot for slot in slots if isinstance(slot, RecordResult)]
        conditions = {validate_guid(key): etag for key, etag in (etags or {}).items() if etag}
        if conditions or return_versions:
            bulk = False
        elif use_bulk is not None:
            bulk = use_bulk
        else:
            try:
                bulk = self.supports_message(logical_name, "UpdateMultiple")
            except AuthenticationError as exc:  # $batch would fail the same way
                return [s if isinstance(s, RecordResult) else RecordResult(s, False, exc) for s in slots]
            except DataverseError as exc:
                log.warning("UpdateMultiple check for %s failed (%s); using $batch", logical_name, exc)
                bulk = False
        chunks = [prepared[i : i + chunk_size] for i in range(0, len(prepared), chunk_size)]

        def run(chunk: list[tuple[str, dict[str, Any]]]) -> list[RecordResult]:
            if bulk:
                return self._update_multiple_chunk(entity_set, logical_name, primary_key, chunk)
            return self._batch_update_chunk(
                entity_set, chunk, conditions, versions_of=primary_key if return_versions else None
            )

        if len(chunks) == 1:
            per_chunk = [run(chunks[0])]
        else:
            workers = min(len(chunks), self._limiter.max_concurrency)
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dataverse-bulk") as pool:
                per_chunk = list(pool.map(run, chunks))
        by_id = {result.id: result for chunk_results in per_chunk for result in chunk_results}
        return [slot if isinstance(slot, RecordResult) else by_id[slot] for slot in slots]

    def _update_multiple_chunk(
        self,
        entity_set: str,
        logical_name: str,
        primary_key: str,
        chunk: list[tuple[str, dict[str, Any]]],
    ) -> list[RecordResult]:
        odata_type = f"Microsoft.Dynamics.CRM.{logical_name}"
        targets = [
            {**changes, "@odata.type": odata_type, primary_key: record_id} for record_id, changes in chunk
        ]
        try:
            # UpdateMultiple only updates existing rows and is idempotent, so it is safe to retry.
            self._request(
                "POST",
                f"{entity_set}/Microsoft.Dynamics.CRM.UpdateMultiple",
                kind="bulk",
                body={"Targets": targets},
                idempotent=True,
            )
        except PayloadTooLargeError:
            if len(chunk) == 1:
                return self._batch_update_chunk(entity_set, chunk)
            half = len(chunk) // 2
            log.info("UpdateMultiple of %d records too large; splitting", len(chunk))
            return self._update_multiple_chunk(
                entity_set, logical_name, primary_key, chunk[:half]
            ) + self._update_multiple_chunk(entity_set, logical_name, primary_key, chunk[half:])
        except (BadRequestError, NotFoundError, PreconditionFailedError) as exc:
            # The whole chunk was rolled back; per-record results need one operation per record.
            log.info(
                "UpdateMultiple of %d records rejected (%s %s); re-sending as $batch",
                len(chunk),
                exc.status,
                exc.code,
            )
            return self._batch_update_chunk(entity_set, chunk)
        except DataverseError as exc:
            return [RecordResult(record_id, False, exc) for record_id, _ in chunk]
        return [RecordResult(record_id, True, None) for record_id, _ in chunk]

    def _batch_update_chunk(
        self,
        entity_set: str,
        chunk: list[tuple[str, dict[str, Any]]],
        etags: Mapping[str, str] | None = None,
        *,
        versions_of: str | None = None,
    ) -> list[RecordResult]:
        """One ``$batch`` of ``PATCH`` (``If-Match``: the record's etag or ``*``). ``versions_of``: the
        primary key column; when given, each PATCH asks for the row back ("update with data returned")
        with only that column selected, to learn the new ``@odata.etag`` at almost no cost."""
        etags = etags or {}
        suffix = f"?$select={_select_value(versions_of)}" if versions_of else ""
        operations = []
        for record_id, changes in chunk:
            headers = {"If-Match": etags.get(record_id, "*")}
            if versions_of:
                headers["Prefer"] = "return=representation"
            operations.append(BatchOperation("PATCH", f"{entity_set}({record_id}){suffix}", changes, headers))
        try:
            results = self.execute_batch(operations, continue_on_error=True)
        except DataverseError as exc:
            return [RecordResult(record_id, False, exc) for record_id, _ in chunk]
        return [
            RecordResult(
                record_id,
                result.ok,
                None if result.ok else result.error,
                _written_version(result) if versions_of and result.ok else None,
            )
            for (record_id, _), result in zip(chunk, results, strict=True)
        ]

    # ------------------------------------------------------------------ functions and actions

    def call_function(self, name: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET an unbound function, e.g. ``WhoAmI`` or ``RetrieveProvisionedLanguages``.

        Parameters are passed as parameter aliases (``Fn(P=@P)?@P=<literal>``), strings quoted with
        ``odata_string``, so values cannot break the URL.

        Raises:
            DataverseError: any failure.
        """
        if not _SIMPLE_NAME.match(name):
            raise ValueError(f"invalid function name: {name!r}")
        path = name
        if params:
            aliases = ",".join(f"{key}=@{key}" for key in params)
            path = f"{name}({aliases})?" + _encode_query(
                (f"@{key}", _literal(value)) for key, value in params.items()
            )
        result = self._json(self._request("GET", path, kind="function"))
        return result if isinstance(result, dict) else {}

    def call_action(
        self,
        name: str,
        body: Mapping[str, Any] | None = None,
        *,
        solution: str | None = None,
        idempotent: bool = False,
    ) -> dict[str, Any] | None:
        """POST an action, e.g. ``PublishXml``, ``SetLocLabels`` or bound ``<set>/Microsoft.Dynamics.CRM.X``.

        Args:
            name: Action name or bound action path.
            body: Action parameters.
            solution: ``MSCRM.SolutionUniqueName`` header value.
            idempotent: Set True when repeating the action is harmless (``PublishXml``), enabling
                retries after a dropped connection / 502 / 503 / 504.

        Returns:
            The JSON response, or ``None`` for ``204 No Content``.

        Raises:
            DataverseError: any failure.
        """
        headers = {"MSCRM.SolutionUniqueName": solution} if solution else None
        kind = "bulk" if name.rsplit(".", 1)[-1].endswith("Multiple") else "action"
        response = self._request(
            "POST", name, kind=kind, body=dict(body or {}), headers=headers, idempotent=idempotent
        )
        result = self._json(response)
        return result if isinstance(result, dict) else None

    def who_am_i(self) -> dict[str, Any]:
        """``WhoAmI``: ``{"UserId", "BusinessUnitId", "OrganizationId"}``; a cheap health check."""
        return self.call_function("WhoAmI")


def _match_batch_parts(count: int, parts: list[BatchResult], *, continue_on_error: bool) -> list[BatchResult]:
    """One result per operation, in operation order, from the response parts.

    Parts are matched by the ``Content-ID`` we sent (``1..count``) when every part carries a distinct one
    of those numbers. An operation without a part then is:

    * with continue-on-error: of unknown outcome (error result; Dataverse answers every operation, so
      a missing part means something went wrong and the write may or may not have happened);
    * without it: applied (``status=None``, ``ok`` True) if it comes before the failing part -
      Dataverse stops at the first failure and returns only that part - or not executed (error) if it
      comes after. With no failing part the outcome is unknown (error).

    If the Content-IDs do not identify the parts (missing, foreign, duplicated), parts are matched by
    position only when there is exactly one part per operation; otherwise every outcome is unknown.
    """
    numbered: dict[int, BatchResult] = {}
    for part in parts:
        cid = (part.content_id or "").strip()
        if cid.isdigit() and 1 <= int(cid) <= count:
            numbered[int(cid)] = part
    if parts and len(numbered) == len(parts):
        first_failure = min((n for n, part in numbered.items() if not part.ok), default=None)
        results = []
        for n in range(1, count + 1):
            if n in numbered:
                results.append(numbered[n])
            elif continue_on_error or first_failure is None:
                error = DataverseError(None, "", "outcome unknown: the $batch response has no part for it")
                results.append(BatchResult(None, {}, None, error, str(n)))
            elif n < first_failure:
                results.append(BatchResult(None, {}, None, None, str(n)))  # applied, no part returned
            else:
                error = DataverseError(None, "", "not executed: an earlier operation in the $batch failed")
                results.append(BatchResult(None, {}, None, error, str(n)))
        return results
    if len(parts) == count:
        return parts
    log.warning("$batch returned %d parts for %d operations without usable Content-IDs", len(parts), count)
    reason = next((part.error for part in parts if part.error is not None), None)
    unknown = DataverseError(
        None, "", "outcome unknown: the $batch response does not say" + (f" ({reason})" if reason else "")
    )
    return [BatchResult(None, {}, None, unknown) for _ in range(count)]


def _written_version(result: BatchResult) -> str | None:
    """The row version a write answered with: the body's ``@odata.etag``, else an ``ETag`` header."""
    if isinstance(result.body, dict):
        etag = result.body.get("@odata.etag")
        if isinstance(etag, str) and etag:
            return etag
    for name, value in result.headers.items():
        if name.lower() == "etag" and value.strip():
            return value.strip()
    return None


def _is_conditional(headers: Mapping[str, str] | None) -> bool:
    """True when the caller sent ``If-None-Match`` with an etag, so ``304 Not Modified`` is an answer."""
    for name, value in (headers or {}).items():
        if name.lower() == "if-none-match" and value.strip() not in ("", "null"):
            return True
    return False


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return odata_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, separators=(",", ":"))


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the connection could not even be opened (refused, DNS), i.e. nothing was sent."""
    reason: Any = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.NameResolutionError)


def _describe(exc: BaseException) -> str:
    # requests' messages include the URL but never headers, so no token can leak from here.
    return str(exc)[:300]


def build_client(config: DataverseConfig) -> DataverseClient:
    """Create a client for ``config`` using the process-wide token provider for that config.

    No network traffic happens until the first request.
    """
    return DataverseClient(
        config.api_url,
        build_token_provider(config),
        timeout=config.timeout_seconds,
        max_concurrency=config.max_concurrency,
        max_retries=config.max_retries,
        max_retry_wait=config.max_retry_wait_seconds,
        page_size=config.page_size,
    )
