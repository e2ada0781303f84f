"""The row versions of the contacts a run wrote, so the next delta run knows its own write-back.

Every flag this app writes changes the contact's row, so tomorrow's change-tracking read returns that
row again. Without this record each such row costs a state read to learn that nothing but our own
columns moved. A write answered with the row's new ``@odata.etag`` (``Prefer: return=representation``)
is recorded here; a delta row that still carries exactly that version was changed by nobody since, so
it is skipped without reading its state. A row someone touched after us has a newer version and goes
through the normal path, as does every row whose write answer carried no version.

One packed document per run (``functions.state.packed``), in the crmindex table under
``echo-<run id>``; the checkpoint names the run whose record the next delta run uses.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from functions.state.packed import delete_packed, read_packed, write_packed
from functions.state.tables import CountingStore

__all__ = ["WriteEchoes"]

log = logging.getLogger("functions.state.echoes")

_PREFIX = "echo-"


class WriteEchoes:
    def __init__(self, store: CountingStore) -> None:
        self.store = store

    def save(self, run_id: str, versions: Mapping[str, str]) -> int:
        """Record ``{contact id: etag}`` of the rows ``run_id`` wrote; returns entities written."""
        return write_packed(self.store, _PREFIX + run_id, dict(sorted(versions.items())))

    def load(self, run_id: str | None) -> dict[str, str]:
        """The versions ``run_id`` recorded; empty when it recorded none, or the record is unreadable
        (every row then takes the normal path: slower, never wrong)."""
        if not run_id:
            return {}
        document = read_packed(self.store, _PREFIX + run_id)
        if not isinstance(document, dict):
            if document is not None:
                log.warning("write echoes of run %s are not a mapping; ignored", run_id)
            return {}
        return {str(k): str(v) for k, v in document.items() if isinstance(k, str) and isinstance(v, str)}

    def delete(self, run_id: str | None) -> None:
        if run_id:
            delete_packed(self.store, _PREFIX + run_id)
