"""Change tracking (``Prefer: odata.track-changes``) as an iterable feed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from .errors import DataverseError
from .models import ChangedRow, DeletedRow

__all__ = ["ChangeFeed", "checked_page", "guess_primary_key"]

# Entity set names whose primary key is not "<singular>id".
_IRREGULAR_KEYS = {
    "activitypointers": "activityid",
    "opportunities": "opportunityid",
    "territories": "territoryid",
    "currencies": "transactioncurrencyid",
    "transactioncurrencies": "transactioncurrencyid",
}
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def guess_primary_key(entity_set: str) -> str:
    """Best-effort primary key name from an entity set name (``contacts`` -> ``contactid``).

    Pass ``primary_key=`` to ``read_changes`` for tables where this guess is wrong.
    """
    if entity_set in _IRREGULAR_KEYS:
        return _IRREGULAR_KEYS[entity_set]
    if entity_set.endswith("ies"):
        return entity_set[:-3] + "yid"
    if entity_set.endswith("sses"):
        return entity_set[:-2] + "id"
    if entity_set.endswith("s"):
        return entity_set[:-1] + "id"
    return entity_set + "id"


def checked_page(page: Any) -> dict[str, Any]:
    """``page`` if it is a collection page (a JSON object with a ``value`` array), else raise.

    A body of another shape (a JSON array, a string, an object without ``value``) is not a page of
    rows; treating it as an empty page would end a read early without anyone noticing.

    Raises:
        DataverseError: the page has the wrong shape.
    """
    if not isinstance(page, dict):
        raise DataverseError(None, "", f"expected a JSON object page, got {type(page).__name__}")
    if not isinstance(page.get("value"), list):
        raise DataverseError(None, "", "page has no 'value' array")
    return page


def _is_deleted(item: dict[str, Any]) -> bool:
    context = item.get("@odata.context")
    if isinstance(context, str) and context.endswith("$deletedEntity"):
        return True
    return item.get("reason") == "deleted" and "id" in item


class ChangeFeed:
    """Rows changed since a delta token (or all rows, for the initial read), then a new delta link.

    Iterate once to get ``ChangedRow(id, row)`` for created/updated rows and ``DeletedRow(id)`` for
    deletions, in server order, page by page (``@odata.nextLink`` followed unchanged with the same
    ``Prefer``). ``delta_link`` is ``None`` until the feed is exhausted, then the ``@odata.deltaLink``
    to store for the next run. Only one page is held in memory at a time. A last page (no
    ``@odata.nextLink``) without an ``@odata.deltaLink`` raises ``DataverseError``: the read is incomplete
    and must not be mistaken for a finished one.

    The first page is fetched when the feed is created (``DataverseClient.read_changes``), so an expired
    token raises ``ExpiredDeltaTokenError`` there; later pages can still raise any ``DataverseError``
    during iteration.
    """

    def __init__(
        self,
        fetch_page: Callable[[str], dict[str, Any]],
        first_url: str,
        *,
        primary_key: str,
    ) -> None:
        self._fetch = fetch_page
        self._primary_key = primary_key
        self._delta_link: str | None = None
        self._started = False
        self.pages = 0
        self._first_page = self._load(first_url)

    def _load(self, url: str) -> dict[str, Any]:
        page = checked_page(self._fetch(url))
        self.pages += 1
        return page

    @property
    def delta_link(self) -> str | None:
        """The ``@odata.deltaLink`` of the last page; ``None`` until the feed is fully iterated."""
        return self._delta_link

    def __iter__(self) -> Iterator[ChangedRow | DeletedRow]:
        if self._started:
            raise RuntimeError("a ChangeFeed can be iterated only once; call read_changes again")
        self._started = True
        return self._iterate()

    def _iterate(self) -> Iterator[ChangedRow | DeletedRow]:
        page: dict[str, Any] | None = self._first_page
        self._first_page = {}  # release the first page's rows once consumed
        while page is not None:
            for item in page.get("value", ()):
                if _is_deleted(item):
                    yield DeletedRow(str(item.get("id")))
                else:
                    yield ChangedRow(self._row_id(item), item)
            next_link = page.get("@odata.nextLink")
            if next_link:
                page = self._load(next_link)
            else:
                delta_link = page.get("@odata.deltaLink")
                if not delta_link or not isinstance(delta_link, str):
                    raise DataverseError(
                        None, "", "change-tracking read ended without @odata.nextLink or @odata.deltaLink"
                    )
                self._delta_link = delta_link
                page = None

    def _row_id(self, row: dict[str, Any]) -> str | None:
        value = row.get(self._primary_key)
        if isinstance(value, str):
            return value
        # Guess was wrong: the primary key is the only plain "<x>id" column holding a GUID in most rows.
        for key, candidate in row.items():
            if (
                key.endswith("id")
                and not key.startswith(("_", "@"))
                and isinstance(candidate, str)
                and _GUID.match(candidate)
            ):
                return candidate
        return None
