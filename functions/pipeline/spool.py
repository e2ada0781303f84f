"""A run's working set on local disk, so memory stays flat however many contacts an org has.

Each spool is one SQLite file in the run's temp directory (deleted when the run ends):

- :class:`PlanSpool` holds the planned contacts (the contact as read, its account, the reason, the
  state it was compared with). The look-up budget needs them ordered oldest first; SQLite sorts on
  disk, so only the batch being validated is ever in memory.
- :class:`StateSpool` holds the stored states during a full read: every contact Dataverse returns is
  compared with its state (taken out of the spool), and what is left at the end is the state of
  contacts Dataverse no longer returns.
- :class:`AccountSpool` holds the accounts of a full read, each contact's account read back by id, the
  hierarchies worked out from the parent links alone.
- :class:`RowSpool` holds rows to store at the end of a run (the opportunity and connection index),
  handed back in id order so that each stored page is written once.

Rows are pickled: the file is private to this process and lives only as long as the run.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["AccountSpool", "PairSpool", "PlanSpool", "RowSpool", "StateSpool", "run_directory"]

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
        """After a write: commit every ``_INSERT_CHUNK`` writes (a read in between may have settled the
        transaction: then the next one begins here)."""
        self._pending += n
        if self._pending >= _INSERT_CHUNK:
            if self._db.in_transaction:
                self._db.execute("COMMIT")
            self._pending = 0
        if not self._db.in_transaction:
            self._db.execute("BEGIN")

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


class AccountSpool(_Spool):
    """Accounts by id, with each one's parent kept beside it so hierarchies are found without
    unpickling every account. ``get`` keeps the last few thousand accounts asked for in memory: the
    contacts of an org's large accounts come back to them again and again."""

    def __init__(self, directory: str | None = None, *, remembered: int = 4096) -> None:
        super().__init__("accounts", "CREATE TABLE account (id TEXT PRIMARY KEY, parent TEXT, "
                                     "item BLOB NOT NULL)", directory)
        self._db.execute("CREATE INDEX account_parent ON account (parent) WHERE parent IS NOT NULL")
        self.get = functools.lru_cache(maxsize=remembered)(self._get)

    def put(self, account_id: str, parent_id: str | None, item: Any) -> None:
        self._db.execute("INSERT OR REPLACE INTO account VALUES (?, ?, ?)",
                         (account_id, parent_id, pickle.dumps(item, protocol=5)))
        self._wrote()
        self.get.cache_clear()

    def _get(self, account_id: str) -> Any | None:
        self._settle()
        row = self._db.execute("SELECT item FROM account WHERE id = ?", (account_id,)).fetchone()
        return None if row is None else pickle.loads(row[0])  # noqa: S301 - our own scratch file

    def __len__(self) -> int:
        self._settle()
        return int(self._db.execute("SELECT COUNT(*) FROM account").fetchone()[0])

    def parent_links(self) -> Iterator[tuple[str, str]]:
        """(account id, parent id) of every account that has a parent."""
        self._settle()
        cursor = self._db.execute("SELECT id, parent FROM account WHERE parent IS NOT NULL ORDER BY id")
        while rows := cursor.fetchmany(1000):
            yield from ((str(a), str(b)) for a, b in rows)

    def existing(self, account_ids: Iterable[str]) -> set[str]:
        """Those of ``account_ids`` that are in the spool."""
        self._settle()
        found: set[str] = set()
        wanted = sorted(set(account_ids))
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = ",".join("?" * len(part))
            found.update(str(row[0]) for row in
                         self._db.execute(f"SELECT id FROM account WHERE id IN ({marks})", part))  # noqa: S608
        return found


class RowSpool(_Spool):
    """Rows (tuples) by their first item, an id: ``append`` while reading (a later row with the same id
    replaces the earlier one), then iterate them in id order."""

    def __init__(self, name: str, directory: str | None = None) -> None:
        super().__init__(name, "CREATE TABLE row (id TEXT PRIMARY KEY, item BLOB NOT NULL)", directory)

    def append(self, row: tuple[Any, ...]) -> None:
        self._db.execute("INSERT OR REPLACE INTO row VALUES (?, ?)", (row[0], pickle.dumps(row, protocol=5)))
        self._wrote()

    def __len__(self) -> int:
        self._settle()
        return int(self._db.execute("SELECT COUNT(*) FROM row").fetchone()[0])

    def __bool__(self) -> bool:
        return len(self) > 0

    def __iter__(self) -> Iterator[Any]:
        self._settle()
        cursor = self._db.execute("SELECT item FROM row ORDER BY id")
        while rows := cursor.fetchmany(1000):
            yield from (pickle.loads(row[0]) for row in rows)  # noqa: S301 - our own scratch file
