"""Reading entity sets: ``$select``, ``$filter``, ``$orderby``, ``$top``, paging and annotations.

Everything here runs under the store lock only as long as it takes to cut one page.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import quote, unquote

from .catalog import RELATIONSHIPS
from .errors import bad_request
from .odata_filter import compile_filter
from .schema import LOOKUP_TYPE_SUFFIX, Attribute
from .store import Row, Store, TableData

MAX_PAGE = 5000
FORMATTED = "OData.Community.Display.V1.FormattedValue"
LOGICALNAME = "Microsoft.Dynamics.CRM.lookuplogicalname"
NAVPROP = "Microsoft.Dynamics.CRM.associatednavigationproperty"

# 1:N collection navigations the app may follow: name -> (parent logical, child entity set, lookup).
ONE_TO_MANY: dict[str, tuple[str, str, str]] = {
    "opportunity_connections1": ("opportunity", "connections", "record1id"),
    "opportunity_connections2": ("opportunity", "connections", "record2id"),
    "contact_connections1": ("contact", "connections", "record1id"),
    "contact_connections2": ("contact", "connections", "record2id"),
    "account_connections1": ("account", "connections", "record1id"),
    "account_connections2": ("account", "connections", "record2id"),
    "contact_customer_accounts": ("account", "contacts", "parentcustomerid"),
    "opportunity_parent_contact": ("contact", "opportunities", "parentcontactid"),
    "opportunity_parent_account": ("account", "opportunities", "parentaccountid"),
    "account_primary_contact": ("contact", "accounts", "primarycontactid"),
}


class TableResolver:
    """Lets the ``$filter`` compiler read row tuples of one table and follow its navigations."""

    def __init__(self, store: Store, td: TableData) -> None:
        self.store, self.td = store, td
        self.type_name = td.table.odata_type

    def column(self, name: str) -> Callable[[Any], Any] | None:
        if name in self.td.table.by_wire or name == "versionnumber":
            return self.td.getter(name)
        return None

    def single_nav(self, name: str) -> tuple[TableResolver, Callable[[Any], Any]] | None:
        hit = self.td.table.nav_to_attribute.get(name)
        if hit is None:
            return None
        attribute, target = hit
        target_td = self.store.by_logical.get(target)
        if target_td is None:
            return None
        get_id = self.td.getter(attribute.wire_name)
        rows = target_td.rows
        return TableResolver(self.store, target_td), lambda row: rows.get(get_id(row) or "")

    def collection_nav(self, name: str) -> tuple[TableResolver, Callable[[Any], Iterable[Any]]] | None:
        logical = self.td.table.logical_name
        pk = self.td.getter(self.td.table.primary_key)
        if name in RELATIONSHIPS and logical in RELATIONSHIPS[name]:
            side_a, side_b = RELATIONSHIPS[name]
            other = self.store.by_logical[side_b if logical == side_a else side_a]
            store = self.store

            def related(row: Any) -> Iterator[Row]:
                for other_id in store.related(name, logical, pk(row))[1]:
                    found = other.rows.get(other_id)
                    if found is not None:
                        yield found

            return TableResolver(store, other), related
        if name in ONE_TO_MANY and ONE_TO_MANY[name][0] == logical:
            _, child_set, lookup = ONE_TO_MANY[name]
            child = self.store.tables[child_set]
            get_ref = child.getter(f"_{lookup}_value")
            return TableResolver(self.store, child), lambda row: (
                r for r in list(child.rows.values()) if get_ref(r) == pk(row)
            )
        return None


# --- annotations and serialisation ------------------------------------------------------------


def annotation_filter(prefer: dict[str, str | None]) -> Callable[[str], bool]:
    """Which annotations ``Prefer: odata.include-annotations="..."`` asked for."""
    raw = prefer.get("odata.include-annotations")
    if not raw:
        return lambda name: False
    patterns = [p.strip() for p in raw.strip('"').split(",") if p.strip()]
    return lambda name: any(fnmatchcase(name, p) for p in patterns)


@dataclass
class Column:
    name: str
    attribute: Attribute | None
    get: Callable[[Row], Any]


def choose_columns(td: TableData, select: str | None) -> list[Column]:
    """Columns for ``$select`` (all when absent); 400 for unknown names. The key always comes last."""
    table = td.table
    if select:
        names = [n.strip() for n in select.split(",") if n.strip()]
        for name in names:
            if name not in table.by_wire and name != "versionnumber":
                raise bad_request(f"Could not find a property named '{name}' on type '{table.odata_type}'.")
    else:
        names = [a.wire_name for a in table.attributes.values()]
    names = [n for n in dict.fromkeys(names) if n != table.primary_key] + [table.primary_key]
    return [Column(n, table.by_wire.get(n), td.getter(n)) for n in names]


class RowWriter:
    """Turns row tuples into wire dicts, adding the annotations the caller asked for."""

    def __init__(
        self, store: Store, td: TableData, columns: list[Column], wants: Callable[[str], bool], lcid: int
    ) -> None:
        self.store, self.td, self.columns, self.lcid = store, td, columns, lcid
        self.formatted = wants(FORMATTED)
        self.logicalname = wants(LOGICALNAME)
        self.navprop = wants(NAVPROP)
        self.plain = not (self.formatted or self.logicalname or self.navprop)
        self._plan = [(c.name, c.get) for c in columns]
        self._wants = wants
        self.expansions: list[tuple[str, Callable[[Row], Row | None], RowWriter]] = []

    def expand(self, text: str | None) -> RowWriter:
        """Honour ``$expand`` of lookup navigations, e.g. ``parentcustomerid_account($select=name)``.

        Collection-valued expansions are not emulated (400); the app doesn't use them.
        """
        for item in split_top_level(text or ""):
            nav, _, options = item.partition("(")
            nav = nav.strip()
            resolver = TableResolver(self.store, self.td)
            hit = resolver.single_nav(nav)
            if hit is None:
                if resolver.collection_nav(nav) is not None:
                    raise bad_request(
                        f"Expanding the collection-valued navigation property '{nav}' is not "
                        "supported by the emulator."
                    )
                raise bad_request(
                    f"Could not find a property named '{nav}' on type '{self.td.table.odata_type}'."
                )
            target, follow = hit
            select = None
            for option in options.rstrip(")").split(";"):
                key, _, value = option.partition("=")
                if key.strip() == "$select":
                    select = value.strip()
                elif key.strip():
                    raise bad_request(
                        f"The query option '{key.strip()}' inside $expand is not supported by the emulator."
                    )
            writer = RowWriter(
                self.store, target.td, choose_columns(target.td, select), self._wants, self.lcid
            )
            self.expansions.append((nav, self._follower(nav, follow), writer))
        return self

    def _follower(self, nav: str, follow: Callable[[Row], Row | None]) -> Callable[[Row], Row | None]:
        attribute, target = self.td.table.nav_to_attribute[nav]
        if not attribute.polymorphic:
            return follow
        get_type = self.td.getter(attribute.wire_name + LOOKUP_TYPE_SUFFIX)
        return lambda row: follow(row) if get_type(row) == target else None

    def write(self, row: Row) -> dict[str, Any]:
        out: dict[str, Any] = {"@odata.etag": f'W/"{row[0]}"'}
        if self.plain:
            for name, get in self._plan:
                out[name] = get(row)
        else:
            for column in self.columns:
                value = column.get(row)
                attribute = column.attribute
                if value is not None and attribute is not None:
                    self._annotate(out, column, attribute, value, row)
                out[column.name] = value
        for nav, follow, writer in self.expansions:
            related = follow(row)
            out[nav] = None if related is None else writer.write(related)
        return out

    def _annotate(
        self, out: dict[str, Any], column: Column, attribute: Attribute, value: Any, row: Row
    ) -> None:
        name = column.name
        if attribute.type == "lookup":
            target = self.td.getter(name + LOOKUP_TYPE_SUFFIX)(row) or next(iter(attribute.targets), None)
            if self.formatted and target:
                label = self._primary_name(target, value)
                if label is not None:
                    out[f"{name}@{FORMATTED}"] = label
            if self.navprop and target:
                out[f"{name}@{NAVPROP}"] = attribute.targets.get(target, attribute.logical_name)
            if self.logicalname and target:
                out[f"{name}@{LOGICALNAME}"] = target
            return
        if not self.formatted:
            return
        text = format_value(attribute, value, self.lcid)
        if text is not None:
            out[f"{name}@{FORMATTED}"] = text

    def _primary_name(self, logical: str, record_id: str) -> str | None:
        td = self.store.by_logical.get(logical)
        if td is None or not td.table.primary_name:
            return None
        row = td.rows.get(record_id)
        return None if row is None else td.getter(td.table.primary_name)(row)


def split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside parentheses (``a($select=x,y),b``)."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def format_value(attribute: Attribute, value: Any, lcid: int) -> str | None:
    """The FormattedValue Dataverse shows for a column value (choices in the org's base language)."""
    kind = attribute.type
    if kind in ("picklist", "state", "status"):
        return attribute.option_label(value, lcid)
    if kind == "bool":
        return "Yes" if value else "No"
    if kind in ("int", "bigint"):
        return f"{value:,}"
    if kind == "decimal":
        return f"${value:,.2f}"
    if kind == "datetime" and isinstance(value, str):
        from .schema import parse_datetime

        moment = parse_datetime(value)
        if moment is None:
            return None
        if attribute.format == "DateOnly":
            return f"{moment.month}/{moment.day}/{moment.year}"
        hour = moment.hour % 12 or 12
        return f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment.minute:02d} " + (
            "AM" if moment.hour < 12 else "PM"
        )
    return None


# --- paging cookies ----------------------------------------------------------------------------


def _lower_escapes(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)


def make_skiptoken(
    page: int,
    td: TableData,
    first: str | None,
    last: str | None,
    tracking: bool,
    extra: dict[str, Any] | None = None,
) -> str:
    """The ``$skiptoken`` value, URL-encoded exactly like Dataverse's (see page-results docs).

    ``extra`` attributes (offset, tracking version, delta position) ride in the inner cookie.
    """
    attrs = "".join(f' {k}="{v}"' for k, v in (extra or {}).items())
    key = td.table.primary_key
    inner = f'<cookie page="{page - 1}"{attrs}>'
    if last is not None:
        inner += f'<{key} last="{{{last.upper()}}}" first="{{{(first or last).upper()}}}" />'
    inner += "</cookie>"
    encoded_inner = _lower_escapes(quote(inner, safe="-_."))
    outer = (
        f'<cookie pagenumber="{page}" pagingcookie="{encoded_inner}" '
        f'istracking="{"True" if tracking else "False"}" />'
    )
    return quote(outer, safe="=/")


def parse_skiptoken(value: str) -> dict[str, Any]:
    """Read back what :func:`make_skiptoken` wrote; 400 for anything else.

    ``value`` was URL-decoded once with the query string, as Dataverse does; it is not decoded again,
    so a client that re-encodes the ``@odata.nextLink`` it was given gets a 400 here too.
    """
    match = re.search(r'pagenumber="(\d+)"\s+pagingcookie="([^"]*)"\s+istracking="(\w+)"', value)
    if not match:
        raise bad_request("The paging cookie is not valid.")
    inner = unquote(match.group(2))
    info: dict[str, Any] = dict(re.findall(r'(\w+)="([^"]*)"', inner.split(">", 1)[0]))
    last = re.search(r'last="\{([0-9A-Fa-f-]+)\}"', inner)
    info["last"] = last.group(1).lower() if last else None
    info["pagenumber"] = int(match.group(1))
    info["istracking"] = match.group(3) == "True"
    return info


def strip_query_option(raw_query: str, *names: str) -> str:
    """The raw query without the given options (so next links carry the original query)."""
    kept = []
    for part in raw_query.split("&"):
        key = unquote(part.split("=", 1)[0])
        if part and key not in names:
            kept.append(part)
    return "&".join(kept)


def page_size(prefer: dict[str, str | None]) -> tuple[int, bool]:
    """(page size, whether odata.maxpagesize was given). Larger requests are capped at 5000."""
    raw = prefer.get("odata.maxpagesize")
    if raw is None:
        return MAX_PAGE, False
    try:
        size = int(raw.strip('"'))
    except ValueError:
        raise bad_request(f"Invalid odata.maxpagesize '{raw}'.") from None
    return max(1, min(size, MAX_PAGE)), True


# --- collections -------------------------------------------------------------------------------


def parse_orderby(td: TableData, text: str) -> list[tuple[Callable[[Row], Any], bool]]:
    keys = []
    for part in text.split(","):
        bits = part.split()
        if not bits:
            continue
        name = bits[0]
        if name not in td.table.by_wire:
            raise bad_request(f"Could not find a property named '{name}' on type '{td.table.odata_type}'.")
        descending = len(bits) > 1 and bits[1].lower() == "desc"
        keys.append((td.getter(name), descending))
    return keys


def sort_rows(rows: list[Row], keys: list[tuple[Callable[[Row], Any], bool]]) -> None:
    """Stable multi-key sort; nulls first ascending like SQL Server, strings case-insensitive."""
    for get, descending in reversed(keys):

        def key(row: Row, get: Callable[[Row], Any] = get) -> tuple[int, Any]:
            value = get(row)
            if value is None:
                return (0, "")
            return (1, value.casefold() if isinstance(value, str) else value)

        rows.sort(key=key, reverse=descending)


@dataclass
class Page:
    rows: list[Row]
    more: bool
    next_extra: dict[str, Any]


_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


def key_candidates(td: TableData, text: str | None) -> list[str] | None:
    """For a filter that is only ``<primary key> eq <guid>`` terms joined by ``or`` (what a client
    sends to read rows by id), the ids it can match, sorted; None for any other filter. Dataverse
    answers such reads from the primary key's index; scanning a million rows per request here made
    id reads time out at that size. The predicate is still applied to every candidate."""
    if not text:
        return None
    pk = re.escape(td.table.primary_key)
    term = rf"\s*{pk}\s+eq\s+({_GUID})\s*"
    body = text.strip()
    if body.startswith("(") and body.endswith(")"):
        body = body[1:-1]
    parts = re.split(r"\s+or\s+", body)
    ids = []
    for part in parts:
        match = re.fullmatch(term, part)
        if match is None:
            return None
        ids.append(match.group(1).lower())
    return sorted(set(ids))


def cut_page(
    store: Store,
    td: TableData,
    predicate: Callable[[Row], bool] | None,
    orderby: list[tuple[Callable[[Row], Any], bool]],
    size: int,
    cookie: dict[str, Any] | None,
    candidates: list[str] | None = None,
) -> Page:
    """One page of matching rows, continuing after ``cookie``; ``candidates``: the only keys that can
    match (``key_candidates``), so only those rows are looked at."""
    with store.lock:
        if orderby:
            offset = int(cookie.get("offset", 0)) if cookie else 0
            matching = [r for r in td.rows.values() if predicate is None or predicate(r)]
            sort_rows(matching, orderby)
            rows = matching[offset : offset + size]
            return Page(rows, offset + size < len(matching), {"offset": offset + size})
        keys = td.keys() if candidates is None else [k for k in candidates if k in td.rows]
        start = bisect.bisect_right(keys, cookie["last"]) if cookie and cookie.get("last") else 0
        rows, more = [], False
        all_rows = td.rows
        for i in range(start, len(keys)):
            row = all_rows[keys[i]]
            if predicate is not None and not predicate(row):
                continue
            if len(rows) == size:
                more = True
                break
            rows.append(row)
        return Page(rows, more, {})


def count_matching(store: Store, td: TableData, predicate: Callable[[Row], bool] | None) -> int:
    with store.lock:
        if predicate is None:
            return len(td.rows)
        return sum(1 for r in td.rows.values() if predicate(r))


def build_filter(
    store: Store, td: TableData, text: str | None, aliases: dict[str, str]
) -> Callable[[Row], bool] | None:
    if not text:
        return None
    return compile_filter(text, TableResolver(store, td), aliases)


def context_url(api_url: str, entity_set: str, select: str | None, suffix: str = "") -> str:
    cols = f"({select})" if select else ""
    return f"{api_url}$metadata#{entity_set}{cols}{suffix}"
