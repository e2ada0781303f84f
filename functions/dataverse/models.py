"""Small result types returned by the client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import DataverseError

__all__ = ["ChangedRow", "DeletedRow", "RecordResult"]


@dataclass(frozen=True)
class RecordResult:
    """Outcome of one record in ``update_many`` (same position as the input record).

    Attributes:
        id: The record's primary key value (GUID string).
        ok: True when Dataverse applied the update.
        error: The typed error for this record when ``ok`` is False, else ``None``.
        etag: The row version (``@odata.etag``) the write produced, when ``update_many`` was asked
            for it (``return_versions=True``) and Dataverse returned it; else ``None``. A later read
            of the unchanged row carries the same etag, which is how a caller recognises its own write.
    """

    id: str
    ok: bool
    error: DataverseError | None = None
    etag: str | None = None


@dataclass(frozen=True)
class ChangedRow:
    """A created or updated row from a change-tracking read (Dataverse does not say which)."""

    id: str | None
    row: dict[str, Any]


@dataclass(frozen=True)
class DeletedRow:
    """A row deleted since the delta token was issued (``$deletedEntity``)."""

    id: str
