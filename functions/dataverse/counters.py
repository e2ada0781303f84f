"""Thread-safe request counters.

Kinds (one HTTP request each, every attempt counted, including retries and the repeat after a 401):

``read``      GET on table rows (each page is one request)
``delta``     GET of a change-tracking page (initial track-changes read and deltaLink pages)
``metadata``  GET of capability/metadata lookups done by the client itself (sdkmessagefilters)
``create``    POST to an entity set (or a metadata collection such as ``.../Attributes``)
``update``    PATCH of one record
``delete``    DELETE of one record
``bulk``      POST ``<set>/Microsoft.Dynamics.CRM.UpdateMultiple`` (and other ``*Multiple`` actions)
``batch``     POST ``$batch`` (one request, however many operations inside)
``batch_read`` POST ``$batch`` holding only GETs of table rows (``query_many`` / ``query_batched``:
              many id-filtered reads, of one table or several, in one request; a read round)
``action``    other POST actions (PublishXml, SetLocLabels, ...)
``function``  GET functions (WhoAmI, RetrieveProvisionedLanguages, ...)

Events (not requests): ``retries`` (a retry was scheduled), ``throttled`` (a 429 was received),
``token_refreshes`` (a forced token refresh after a 401), ``shared_pause_waits`` (a request waited for
a pause another client announced through the shared pause gate, ``pause.py``).

The emulator counts by HTTP shape: its ``read`` = our read + delta + metadata, its ``action`` = our
action + bulk, its ``batch`` = our batch + batch_read; the other kinds are the same.
"""

from __future__ import annotations

import threading
from collections import Counter

__all__ = ["EVENT_KINDS", "REQUEST_KINDS", "RequestCounters"]

REQUEST_KINDS = (
    "read",
    "delta",
    "metadata",
    "create",
    "update",
    "delete",
    "bulk",
    "batch",
    "batch_read",
    "action",
    "function",
)
EVENT_KINDS = ("retries", "throttled", "token_refreshes", "shared_pause_waits")


class RequestCounters:
    """A lock-protected ``Counter``; ``snapshot()`` returns a plain dict copy with every kind present."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, kind: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[kind] += amount

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            result = dict.fromkeys((*REQUEST_KINDS, *EVENT_KINDS), 0)
            result.update(self._counts)
            return result

    def total_requests(self) -> int:
        """Number of HTTP requests sent (all request kinds, events excluded)."""
        with self._lock:
            return sum(n for kind, n in self._counts.items() if kind not in EVENT_KINDS)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
