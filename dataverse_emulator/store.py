"""In-memory, thread-safe row store with a global change-tracking version.

Rows are tuples ``(version, value0, value1, ...)`` laid out by the table's column list, not dicts,
so a million contacts stay affordable. Adding a column later just appends to the column list;
shorter (older) tuples read the missing tail as None. Keys are kept in GUID order for stable
paging; every change is appended to a per-table change log (version, id) for delta queries.
"""

from __future__ import annotations

import bisect
import sys
import threading
import uuid
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from .catalog import RELATIONSHIPS
from .schema import LOOKUP_TYPE_SUFFIX, Attribute, Table

Row = tuple[Any, ...]


_share = sys.intern


def utc_now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class TableData:
    """Rows of one table plus the bookkeeping for paging and change tracking."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.columns: list[str] = []
        self.index: dict[str, int] = {}
        self.rows: dict[str, Row] = {}
        self._keys: list[str] = []
        self._keys_sorted = True
        # Change log, ordered by version because versions only grow.
        self.log_versions = array("q")
        self.log_ids: list[str] = []
        self.deleted_at: dict[str, int] = {}
        self._lookups: list[Attribute] | None = None
        for attribute in table.attributes.values():
            self.add_column(attribute)

    def lookups(self) -> list[Attribute]:
        """The table's lookup columns (cached; the cache resets when a column is added)."""
        if self._lookups is None:
            self._lookups = [a for a in self.table.attributes.values() if a.type == "lookup"]
        return self._lookups

    def add_column(self, attribute: Attribute) -> None:
        self._lookups = None
        if attribute.logical_name == "versionnumber":
            return  # lives in slot 0 of every row
        for name in (attribute.wire_name, attribute.wire_name + LOOKUP_TYPE_SUFFIX):
            if name.endswith(LOOKUP_TYPE_SUFFIX) and attribute.type != "lookup":
                continue
            if name not in self.index:
                self.index[name] = len(self.columns) + 1
                self.columns.append(name)

    def getter(self, wire_name: str) -> Callable[[Row], Any]:
        """A fast accessor for one column of a row tuple."""
        if wire_name == "versionnumber":
            return lambda row: row[0]
        i = self.index.get(wire_name)
        if i is None:
            return lambda row: None
        return lambda row: row[i] if i < len(row) else None

    def keys(self) -> list[str]:
        if not self._keys_sorted:
            self._keys.sort()
            self._keys_sorted = True
        return self._keys

    def to_dict(self, row: Row) -> dict[str, Any]:
        out = {name: (row[i] if i < len(row) else None) for name, i in self.index.items()}
        out["versionnumber"] = row[0]
        return out


class Store:
    """All tables of one org. Every public method is thread-safe (one re-entrant lock).

    Tests use :meth:`get`, :meth:`insert`, :meth:`update`, :meth:`delete` directly; each change
    bumps the global version that change tracking and etags use.
    """

    def __init__(self, tables: dict[str, Table], first_version: int = 1000) -> None:
        self.lock = threading.RLock()
        self.noop_updates: Counter[str] = Counter()  # updates that changed no value, per entity set
        self.version = first_version
        self.tables: dict[str, TableData] = {name: TableData(t) for name, t in tables.items()}
        self.by_logical: dict[str, TableData] = {td.table.logical_name: td for td in self.tables.values()}
        # N:N: relationship -> {id on side a: {ids on side b}} and the reverse.
        self.links: dict[str, tuple[dict[str, set[str]], dict[str, set[str]]]] = {
            name: ({}, {}) for name in RELATIONSHIPS
        }
        self._undo: list[Callable[[], None]] | None = None
        self._on_commit: list[Callable[[], None]] = []

    # --- lookup helpers -------------------------------------------------------------------
    def table(self, entity_set: str) -> TableData:
        return self.tables[entity_set]

    def logical(self, logical_name: str) -> TableData:
        return self.by_logical[logical_name]

    def _next_version(self) -> int:
        self.version += 1
        return self.version

    # --- transactions ---------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All changes inside commit together or roll back together (change sets, UpdateMultiple).

        Nested transactions join the outer one.
        """
        with self.lock:
            if self._undo is not None:
                yield
                return
            self._undo, self._on_commit = [], []
            try:
                yield
            except BaseException:
                for undo in reversed(self._undo):
                    undo()
                raise
            else:
                for hook in self._on_commit:
                    hook()
            finally:
                self._undo, self._on_commit = None, []

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` when the current transaction commits (now if there is none)."""
        with self.lock:
            if self._undo is None:
                hook()
            else:
                self._on_commit.append(hook)

    def _remember(self, undo: Callable[[], None]) -> None:
        if self._undo is not None:
            self._undo.append(undo)

    # --- rows -----------------------------------------------------------------------------
    def get(self, entity_set: str, record_id: str) -> dict[str, Any] | None:
        """The row as a wire-shaped dict (all columns, ``versionnumber``), or None."""
        with self.lock:
            td = self.tables[entity_set]
            row = td.rows.get(record_id.lower())
            return None if row is None else td.to_dict(row)

    def get_row(self, entity_set: str, record_id: str) -> Row | None:
        with self.lock:
            return self.tables[entity_set].rows.get(record_id.lower())

    def count(self, entity_set: str) -> int:
        return len(self.tables[entity_set].rows)

    def insert(self, entity_set: str, row: dict[str, Any], *, stamp: bool = False) -> str:
        """Insert a row given in wire shape (``_x_value`` for lookups); returns its id.

        A missing primary key gets a new GUID. Unknown columns are added to the table as
        untyped columns so sample data never gets lost. ``stamp`` fills createdon/modifiedon.
        """
        with self.lock:
            td = self.tables[entity_set]
            pk = td.table.primary_key
            record_id = str(row.get(pk) or uuid.uuid4()).lower()
            if record_id in td.rows:
                raise KeyError(f"{entity_set}({record_id}) already exists")
            values = dict(row)
            values[pk] = record_id
            if stamp:
                now = utc_now_iso()
                values.setdefault("createdon", now)
                values.setdefault("modifiedon", now)
            self._fill_lookup_types(td, values)
            version = self._next_version()
            td.rows[record_id] = self._pack(td, version, values)
            keys = td._keys
            if td._keys_sorted and keys and record_id < keys[-1]:
                td._keys_sorted = False
            keys.append(record_id)
            self._log(td, version, record_id)
            self._remember(lambda: self._drop_row(td, record_id))
            return record_id

    def update(self, entity_set: str, record_id: str, changes: dict[str, Any], *, stamp: bool = False) -> int:
        """Apply ``changes`` (wire shape) to an existing row; returns the new version."""
        with self.lock:
            td = self.tables[entity_set]
            record_id = record_id.lower()
            old = td.rows[record_id]
            values = td.to_dict(old)
            if all(values.get(k) == v for k, v in changes.items()):
                self.noop_updates[entity_set] += 1  # a write that changes nothing (a duplicate)
            values.update(changes)
            if stamp:
                values["modifiedon"] = utc_now_iso()
            self._fill_lookup_types(td, values, only=changes)
            version = self._next_version()
            td.rows[record_id] = self._pack(td, version, values)
            self._log(td, version, record_id)

            def undo() -> None:
                td.rows[record_id] = old

            self._remember(undo)
            return version

    def delete(self, entity_set: str, record_id: str) -> None:
        """Delete a row and record a tombstone for change tracking. KeyError when missing."""
        with self.lock:
            td = self.tables[entity_set]
            record_id = record_id.lower()
            old = td.rows[record_id]
            previous_delete = td.deleted_at.get(record_id)
            self._drop_row(td, record_id)
            version = self._next_version()
            td.deleted_at[record_id] = version
            self._log(td, version, record_id)
            removed_links = self._unlink_all(td.table.logical_name, record_id)

            def undo() -> None:
                td.rows[record_id] = old
                bisect.insort(td.keys(), record_id)
                if previous_delete is None:
                    td.deleted_at.pop(record_id, None)
                else:
                    td.deleted_at[record_id] = previous_delete
                for rel, a, b in removed_links:
                    self.associate(rel, a, b)

            self._remember(undo)

    def _drop_row(self, td: TableData, record_id: str) -> None:
        td.rows.pop(record_id, None)
        keys = td.keys()
        i = bisect.bisect_left(keys, record_id)
        if i < len(keys) and keys[i] == record_id:
            del keys[i]

    def _log(self, td: TableData, version: int, record_id: str) -> None:
        td.log_versions.append(version)
        td.log_ids.append(record_id)

    def _pack(self, td: TableData, version: int, values: dict[str, Any]) -> Row:
        if not values.keys() <= td.index.keys():  # rare: a column the catalog doesn't know
            for name in values:
                if name not in td.index and name != "versionnumber" and not name.startswith("@"):
                    self._add_untyped_column(td, name, values[name])
        out: list[Any] = [version] + [None] * len(td.columns)
        for name, value in values.items():
            i = td.index.get(name)
            if i is not None:
                # Lookup ids, countries, job titles... repeat across rows: share one string object.
                out[i] = _share(value) if type(value) is str and len(value) <= 40 else value
        while len(out) > 1 and out[-1] is None:
            out.pop()  # shorter tuples read as None; saves memory on sparse rows
        return tuple(out)

    def _add_untyped_column(self, td: TableData, name: str, sample: Any) -> None:
        if name.endswith(LOOKUP_TYPE_SUFFIX):
            td.index[name] = len(td.columns) + 1
            td.columns.append(name)
            return
        if name.startswith("_") and name.endswith("_value"):
            attribute = Attribute(name[1:-6], "lookup", targets={})
        else:
            kind = (
                "bool"
                if isinstance(sample, bool)
                else "int"
                if isinstance(sample, int)
                else "decimal"
                if isinstance(sample, float)
                else "string"
            )
            attribute = Attribute(name, kind, max_length=4000 if kind == "string" else None)
        td.table.add_attribute(attribute)
        td.add_column(attribute)

    def _fill_lookup_types(
        self, td: TableData, values: dict[str, Any], only: dict[str, Any] | None = None
    ) -> None:
        """Polymorphic lookups remember their target table; infer it when the writer didn't say."""
        for attribute in td.lookups():
            name = attribute.wire_name
            if only is not None and name not in only:
                continue
            type_key = name + LOOKUP_TYPE_SUFFIX
            target_id = values.get(name)
            if target_id is None:
                values[type_key] = None
                continue
            if values.get(type_key) and (only is None or type_key in only):
                continue
            values[type_key] = self._guess_target(attribute, target_id)

    def _guess_target(self, attribute: Attribute, target_id: str) -> str | None:
        targets = list(attribute.targets)
        for logical in targets:
            td = self.by_logical.get(logical)
            if td is not None and target_id.lower() in td.rows:
                return logical
        return targets[0] if targets else None

    # --- N:N ------------------------------------------------------------------------------
    def associate(self, relationship: str, id_a: str, id_b: str) -> None:
        """Link two rows, e.g. ``("teammembership_association", userid, teamid)``."""
        with self.lock:
            forward, backward = self.links[relationship]
            a, b = id_a.lower(), id_b.lower()
            forward.setdefault(a, set()).add(b)
            backward.setdefault(b, set()).add(a)

    def disassociate(self, relationship: str, id_a: str, id_b: str) -> None:
        with self.lock:
            forward, backward = self.links[relationship]
            forward.get(id_a.lower(), set()).discard(id_b.lower())
            backward.get(id_b.lower(), set()).discard(id_a.lower())

    def related(self, relationship: str, from_logical: str, record_id: str) -> tuple[str, set[str]]:
        """(logical name of the other side, ids linked to ``record_id``) for an N:N navigation."""
        side_a, side_b = RELATIONSHIPS[relationship]
        forward, backward = self.links[relationship]
        if from_logical == side_a:
            return side_b, forward.get(record_id, set())
        return side_a, backward.get(record_id, set())

    def _unlink_all(self, logical: str, record_id: str) -> list[tuple[str, str, str]]:
        removed = []
        for rel, (side_a, side_b) in RELATIONSHIPS.items():
            forward, backward = self.links[rel]
            if logical == side_a:
                for b in forward.pop(record_id, set()):
                    backward.get(b, set()).discard(record_id)
                    removed.append((rel, record_id, b))
            if logical == side_b:
                for a in backward.pop(record_id, set()):
                    forward.get(a, set()).discard(record_id)
                    removed.append((rel, a, record_id))
        return removed

    # --- bulk load ------------------------------------------------------------------------
    def load(self, entity_set: str, rows: Iterable[dict[str, Any]]) -> int:
        """Insert many rows (e.g. a generated sample org); returns how many."""
        n = 0
        with self.lock:
            for row in rows:
                self.insert(entity_set, row)
                n += 1
            self.tables[entity_set].keys()  # sort once now, not on the first read
        return n
