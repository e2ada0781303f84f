"""A run's working set on local disk, so memory stays flat however many contacts an org has.

Two spools, each one SQLite file in the run's temp directory (deleted when the run ends):

- :class:`PlanSpool` holds the planned contacts (the contact as read, its account, the reason, the
  state it was compared with). The look-up budget needs them ordered oldest first; SQLite sorts on
  disk, so only the batch being validated is ever in memory.
- :class:`StateSpool` holds the stored states during a full read: every contact Dataverse returns is
  compared with its state (taken out of the spool), and what is left at the end is the state of
  contacts Dataverse no longer returns.

Rows are pickled: the file is private to this process and lives only as long as the run.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["PairSpool", "PlanSpool", "StateSpool", "run_directory"]

_INSERT_CHUNK = 2000
_RUN_DIR_PREFIX = "dval-run-"
_ABANDONED_AFTER_SECONDS = 24 * 3600  # longer than any run: the host's timeout is hours at most


def run_directory(parent: str | None = None) -> str:
    """A new scratch directory for one run, after removing those of runs that were killed before they
    could remove their own (older than a day)."""
    parent = parent or tempfile.gettempdir()
    cutoff = time.time() - _ABANDONED_AFTER_SECONDS
    with contextlib.suppress(OSError):
        for entry in os.scandir(parent):
            if entry.name.startswith(_RUN_DIR_PREFIX) and entry.is_dir(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                        shutil.rmtree(entry.path, ignore_errors=True)
    return tempfile.mkdtemp(prefix=_RUN_DIR_PREFIX, dir=parent)


def _connect(directory: str | None, name: str) -> tuple[sqlite3.Connection, str]:
    fd, path = tempfile.mkstemp(prefix=f"dval-{name}-", suffix=".sqlite", dir=directory)
    os.close(fd)
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    # a scratch file: nothing to recover after a crash, so no journal and no fsync
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-4000")  # 4 MB page cache each, then disk
    connection.execute("PRAGMA temp_store=FILE")
    return connection, path


class _Spool:
    def __init__(self, name: str, schema: str, directory: str | None) -> None:
        self._db, self._path = _connect(directory, name)
        self._db.execute(schema)
        self._db.execute("BEGIN")
        self._pending = 0

    def _wrote(self, n: int = 1) -> None:
        self._pending += n
        if self._pending >= _INSERT_CHUNK:
            self._db.execute("COMMIT")
            self._db.execute("BEGIN")
            self._pending = 0

    def _settle(self) -> None:
        if self._db.in_transaction:
            self._db.execute("COMMIT")
        self._pending = 0

    def close(self) -> None:
        try:
            self._db.close()
        finally:
            with contextlib.suppress(OSError):
                os.unlink(self._path)

    def __enter__(self) -> _Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PlanSpool(_Spool):
    """Planned work: ``add`` while reading, then ``take`` the budget's share in order and ``rest``."""

    def __init__(self, directory: str | None = None) -> None:
        super().__init__("plan", "CREATE TABLE plan (id TEXT PRIMARY KEY, checked TEXT NOT NULL, "
                                 "reason TEXT NOT NULL, item BLOB NOT NULL)", directory)

    def add(self, contact_id: str, last_checked: str, reason: str, item: Any) -> None:
        """A contact to validate; planned twice (a delta row and a re-check), the later one wins."""
        self._db.execute("INSERT OR REPLACE INTO plan VALUES (?, ?, ?, ?)",
                         (contact_id, last_checked, reason, pickle.dumps(item, protocol=5)))
        self._wrote()

    def __len__(self) -> int:
        self._settle()
        return int(self._db.execute("SELECT COUNT(*) FROM plan").fetchone()[0])

    def ordered(self, budget: int | None = None, *, chunk: int = 500) -> Iterator[list[Any]]:
        """The first ``budget`` items (all when None), oldest check first (never checked first), then
        by id: the order ``plan.apply_budget`` defines. Yields lists of at most ``chunk``."""
        self._settle()
        limit = -1 if budget is None else budget
        cursor = self._db.execute("SELECT item FROM plan ORDER BY checked, id LIMIT ?", (limit,))
        while rows := cursor.fetchmany(chunk):
            yield [pickle.loads(row[0]) for row in rows]  # noqa: S301 - our own scratch file

    def deferred(self, budget: int | None) -> Iterator[tuple[str, str]]:
        """(contact id, reason) of the items beyond ``budget``, in the same order."""
        if budget is None:
            return
        self._settle()
        cursor = self._db.execute("SELECT id, reason FROM plan ORDER BY checked, id LIMIT -1 OFFSET ?",
                                  (budget,))
        while rows := cursor.fetchmany(1000):
            yield from ((str(a), str(b)) for a, b in rows)


class StateSpool(_Spool):
    """Stored states during a full read: ``pop`` one per contact read, ``rest`` are the unseen."""

    def __init__(self, states: Iterable[Any], key: Any, directory: str | None = None) -> None:
        super().__init__("states", "CREATE TABLE state (id TEXT PRIMARY KEY, item BLOB NOT NULL)", directory)
        self.loaded = 0
        for state in states:
            self._db.execute("INSERT OR REPLACE INTO state VALUES (?, ?)",
                             (key(state), pickle.dumps(state, protocol=5)))
            self.loaded += 1
            self._wrote()
        self._settle()
        self._db.execute("BEGIN")

    def pop(self, contact_id: str) -> Any | None:
        row = self._db.execute("SELECT item FROM state WHERE id = ?", (contact_id,)).fetchone()
        if row is None:
            return None
        self._db.execute("DELETE FROM state WHERE id = ?", (contact_id,))
        self._wrote()
        return pickle.loads(row[0])  # noqa: S301 - our own scratch file

    def rest(self) -> Iterator[Any]:
        """The states no ``pop`` took, in id order."""
        self._settle()
        cursor = self._db.execute("SELECT item FROM state ORDER BY id")
        while rows := cursor.fetchmany(1000):
            yield from (pickle.loads(row[0]) for row in rows)  # noqa: S301 - our own scratch file


class PairSpool(_Spool):
    """(profile, contact, hash) pairs of the run, handed back grouped by the page they are stored in:
    pairs of consecutive contacts fall into every profile shard, so writing them as they come would
    rewrite each pair page once per flush instead of once per run."""

    def __init__(self, page_of: Any, directory: str | None = None) -> None:
        super().__init__("pairs", "CREATE TABLE pair (contact TEXT PRIMARY KEY, page TEXT NOT NULL, "
                                  "profile TEXT NOT NULL, hash TEXT NOT NULL)", directory)
        self._page_of = page_of

    def add(self, profile_id: str, contact_id: str, profile_hash: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO pair VALUES (?, ?, ?, ?)",
                         (contact_id, self._page_of(profile_id, contact_id), profile_id, profile_hash))
        self._wrote()

    def __len__(self) -> int:
        self._settle()
        return int(self._db.execute("SELECT COUNT(*) FROM pair").fetchone()[0])

    def chunks(self, size: int = 5000) -> Iterator[list[tuple[str, str, str]]]:
        """All pairs as ``(profile_id, contact_id, hash)``, in lists of about ``size`` that never split
        a page; then the spool is empty."""
        self._settle()
        cursor = self._db.execute("SELECT page, profile, contact, hash FROM pair ORDER BY page")
        chunk: list[tuple[str, str, str]] = []
        last_page = None
        while rows := cursor.fetchmany(1000):
            for page, profile, contact, phash in rows:
                if len(chunk) >= size and page != last_page:
                    yield chunk
                    chunk = []
                chunk.append((str(profile), str(contact), str(phash)))
                last_page = page
        if chunk:
            yield chunk
        self._db.execute("DELETE FROM pair")
