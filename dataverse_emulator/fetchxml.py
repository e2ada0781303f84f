"""``GET <entityset>?fetchXml=...``: enough FetchXML to check what a system view returns.

Supported: ``<attribute>``/``<all-attributes>``, ``<order>``, nested ``<filter type="and|or">``,
``<condition>`` operators ``eq ne gt ge lt le null not-null in not-in like not-like begins-with
ends-with eq-userid ne-userid``, and ``<link-entity>`` with link types ``inner outer any exists in
"not any" all "not all"`` (nested, and inside filters). Simplifications: one result row per
primary row (inner joins never multiply rows; linked columns come from the first match) and one
page of at most ``count`` (default 5000) rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree
from xml.etree.ElementTree import Element

from .errors import bad_request
from .messages import Request, Response
from .query import context_url
from .store import Row, TableData

if TYPE_CHECKING:
    from .service import Service

Predicate = Callable[[Row], bool]


class _Fetch:
    def __init__(self, svc: Service) -> None:
        self.svc = svc

    def table(self, logical: str) -> TableData:
        td = self.svc.store.by_logical.get(logical)
        if td is None:
            raise bad_request(f"The entity with a name = '{logical}' was not found in the MetadataCache.")
        return td

    def getter(self, td: TableData, attribute: str | None) -> Callable[[Row], Any]:
        if not attribute:
            raise bad_request("A FetchXML attribute name is missing.")
        meta = td.table.attributes.get(attribute)
        if meta is None:
            raise bad_request(
                f"'{td.table.logical_name}' entity doesn't contain attribute with Name = '{attribute}'."
            )
        return td.getter(meta.wire_name)

    def condition(self, td: TableData, node: Element) -> Predicate:
        get = self.getter(td, node.get("attribute"))
        op = (node.get("operator") or "eq").lower()
        raw = node.get("value")
        values = [v.text or "" for v in node.findall("value")]
        if op in ("eq-userid", "ne-userid"):
            me = self.svc.user_id
            return (lambda r: get(r) == me) if op == "eq-userid" else (lambda r: get(r) != me)
        if op == "null":
            return lambda r: get(r) is None
        if op == "not-null":
            return lambda r: get(r) is not None
        if op in ("in", "not-in"):
            wanted = {v.lower() for v in values}
            if op == "in":
                return lambda r: _text(get(r)) in wanted
            return lambda r: _text(get(r)) not in wanted
        if raw is None:
            raise bad_request(f"The condition operator '{op}' needs a value.")
        if op in ("like", "not-like", "begins-with", "ends-with"):
            pattern = {"begins-with": raw + "%", "ends-with": "%" + raw}.get(op, raw)
            regex = re.compile("^" + ".*".join(re.escape(p) for p in pattern.lower().split("%")) + "$", re.S)
            positive = op != "not-like"
            return lambda r: bool(regex.match(_text(get(r)))) == positive
        compare = {
            "eq": lambda a, b: a == b,
            "ne": lambda a, b: a != b,
            "gt": lambda a, b: a > b,
            "ge": lambda a, b: a >= b,
            "lt": lambda a, b: a < b,
            "le": lambda a, b: a <= b,
        }.get(op)
        if compare is None:
            raise bad_request(f"The FetchXML condition operator '{op}' is not supported by the emulator.")

        def test(row: Row) -> bool:
            value = get(row)
            if value is None:
                return op == "ne"
            try:
                return compare(_coerce(value), _coerce_like(raw, value))
            except TypeError:
                return False

        return test

    def filter(self, td: TableData, node: Element) -> Predicate:
        parts: list[Predicate] = []
        for child in node:
            if child.tag == "condition":
                parts.append(self.condition(td, child))
            elif child.tag == "filter":
                parts.append(self.filter(td, child))
            elif child.tag == "link-entity":
                parts.append(self.link(td, child))
        if (node.get("type") or "and").lower() == "or":
            return lambda r: any(p(r) for p in parts) if parts else True
        return lambda r: all(p(r) for p in parts)

    def link(self, parent: TableData, node: Element) -> Predicate:
        """A predicate on parent rows: does the link's join (with its filters) find a row?"""
        linked = self.table(node.get("name") or "")
        from_get = self.getter(linked, node.get("from"))
        to_get = self.getter(parent, node.get("to"))
        link_type = (node.get("link-type") or "inner").lower()
        inner = [self.filter(linked, f) for f in node.findall("filter")]
        inner += [
            self.link(linked, child)
            for child in node.findall("link-entity")
            if (child.get("link-type") or "inner").lower() != "outer"
        ]
        index: dict[Any, list[Row]] = {}
        for row in linked.rows.values():
            key = from_get(row)
            if key is not None:
                index.setdefault(_text(key), []).append(row)

        def matches(row: Row) -> list[Row]:
            key = to_get(row)
            candidates = index.get(_text(key), []) if key is not None else []
            return [c for c in candidates if all(p(c) for p in inner)]

        if link_type == "outer":
            return lambda r: True
        if link_type == "not any":
            return lambda r: not matches(r)
        if link_type == "all":
            # As documented: related rows exist, but none of them satisfies the link's filters.
            return lambda r: bool(index.get(_text(to_get(r)))) and not matches(r)
        # inner, any, exists, in, and "not all" (documented as equivalent to any despite its name).
        return lambda r: bool(matches(r))


def _text(value: Any) -> str:
    return str(value).lower() if value is not None else ""


def _coerce(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _coerce_like(raw: str, sample: Any) -> Any:
    if isinstance(sample, bool):
        return raw.lower() in ("1", "true")
    if isinstance(sample, int):
        return int(raw)
    if isinstance(sample, float):
        return float(raw)
    return raw.strip("{}").lower()


def execute(svc: Service, req: Request, td: TableData) -> Response:
    """Run the query in ``req.query['fetchXml']`` against ``td``; 400 for bad or unsupported FetchXML."""
    try:
        root = ElementTree.fromstring(req.query["fetchXml"])  # noqa: S314 - loopback test server
    except ElementTree.ParseError as exc:
        raise bad_request(f"The fetchXml is not well-formed: {exc}", "0x80041103") from None
    entity = root.find("entity")
    if root.tag != "fetch" or entity is None:
        raise bad_request("FetchXML must be <fetch><entity name='...'>...</entity></fetch>.", "0x80041103")
    if entity.get("name") != td.table.logical_name:
        raise bad_request(
            f"The entity name '{entity.get('name')}' doesn't match the entity set '{td.table.entity_set}'.",
            "0x80041103",
        )
    fetch = _Fetch(svc)
    predicates = [fetch.filter(td, f) for f in entity.findall("filter")]
    predicates += [fetch.link(td, link) for link in entity.findall("link-entity")]
    all_columns = entity.find("all-attributes") is not None
    names = [a.get("name") for a in entity.findall("attribute")]
    metas = (
        list(td.table.attributes.values())
        if all_columns
        else [td.table.attributes.get(n or "") for n in names]
    )
    if any(m is None for m in metas):
        missing = next(n for n, m in zip(names, metas, strict=True) if m is None)
        raise bad_request(
            f"'{td.table.logical_name}' entity doesn't contain attribute with Name = '{missing}'."
        )
    wire = [m.wire_name for m in metas if m is not None]
    key = td.table.primary_key
    wire = [w for w in wire if w != key] + [key]
    with svc.store.lock:
        rows = [r for r in td.rows.values() if all(p(r) for p in predicates)]
    for order in reversed(entity.findall("order")):
        get = fetch.getter(td, order.get("attribute"))
        descending = (order.get("descending") or "false").lower() == "true"
        rows.sort(
            key=lambda r, g=get: (g(r) is not None, _coerce(g(r)) if g(r) is not None else ""),
            reverse=descending,
        )
    count = int(root.get("count") or root.get("top") or 5000)
    page = int(root.get("page") or 1)
    chunk = rows[(page - 1) * count : page * count]
    getters = [(w, td.getter(w)) for w in wire]
    value = [{"@odata.etag": f'W/"{r[0]}"', **{w: g(r) for w, g in getters}} for r in chunk]
    body = {
        "@odata.context": context_url(svc.api_url, td.table.entity_set, ",".join(wire)),
        "value": value,
        "@Microsoft.Dynamics.CRM.morerecords": len(rows) > page * count,
    }
    return Response.json(200, body)
