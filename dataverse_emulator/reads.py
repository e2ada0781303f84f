"""Entity-set reads: collections ($select/$filter/$orderby/$top/$expand, paging, annotations),
change tracking (initial sync and delta pages), single rows and related collections."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import fetchxml
from .changetracking import decode_token, delta_page, encode_token
from .errors import ODataError, bad_request, not_found
from .messages import Request, Response
from .query import (
    FORMATTED,
    RowWriter,
    TableResolver,
    annotation_filter,
    build_filter,
    choose_columns,
    context_url,
    count_matching,
    cut_page,
    key_candidates,
    make_skiptoken,
    page_size,
    parse_orderby,
    parse_skiptoken,
    strip_query_option,
)
from .store import Row, TableData

if TYPE_CHECKING:
    from .service import Service

TRACKING_FORBIDDEN = ("$filter", "$orderby", "$expand", "$top")


def _applied(
    req: Request, *, tracking: bool = False, size_given: bool = False, size: int = 0
) -> dict[str, str]:
    """``Preference-Applied`` for the preferences this response honoured."""
    applied = []
    if tracking:
        applied.append("odata.track-changes")
    if size_given:
        applied.append(f"odata.maxpagesize={size}")
    if req.prefer.get("odata.include-annotations"):
        applied.append(f"odata.include-annotations={req.prefer['odata.include-annotations']}")
    return {"Preference-Applied": ",".join(applied)} if applied else {}


def _aliases(req: Request) -> dict[str, str]:
    return {k: v for k, v in req.query.items() if k.startswith("@")}


def read_collection(svc: Service, req: Request, td: TableData) -> Response:
    """GET <entityset>: $select/$filter/$orderby/$top, paging, annotations, change tracking."""
    q = req.query
    if "fetchXml" in q:
        return fetchxml.execute(svc, req, td)
    for option in ("$skip", "$search", "$apply"):
        if option in q:
            raise bad_request(f"The query parameter {option} is not supported")
    cookie = parse_skiptoken(q["$skiptoken"]) if "$skiptoken" in q else None
    tracking = (
        "odata.track-changes" in req.prefer or "$deltatoken" in q or bool(cookie and cookie["istracking"])
    )
    if tracking:
        return _read_tracked(svc, req, td, cookie)
    select = q.get("$select")
    columns = choose_columns(td, select)
    predicate = build_filter(svc.store, td, q.get("$filter"), _aliases(req))
    orderby = parse_orderby(td, q["$orderby"]) if q.get("$orderby") else []
    size, size_given = page_size(req.prefer)
    top = None
    if "$top" in q and not size_given:  # the docs: with maxpagesize, $top is ignored
        try:
            top = max(0, int(q["$top"]))
        except ValueError:
            raise bad_request(f"Invalid $top value '{q['$top']}'.") from None
        size = min(top, size)
    writer = RowWriter(svc.store, td, columns, annotation_filter(req.prefer), svc.base_language).expand(
        q.get("$expand")
    )
    candidates = key_candidates(td, q.get("$filter")) if predicate is not None else None
    page = cut_page(svc.store, td, predicate, orderby, size, cookie, candidates)
    body: dict[str, Any] = {"@odata.context": context_url(svc.api_url, td.table.entity_set, select)}
    if q.get("$count") == "true":
        body["@odata.count"] = min(count_matching(svc.store, td, predicate), 5000)
    body["value"] = [writer.write(r) for r in page.rows]
    if page.more and top is None:
        number = cookie["pagenumber"] + 1 if cookie else 2
        first_id = _key(td, page.rows[0]) if page.rows else None
        last_id = _key(td, page.rows[-1]) if page.rows else None
        token = make_skiptoken(number, td, first_id, last_id, False, page.next_extra or None)
        base = strip_query_option(req.raw_query, "$skiptoken")
        sep = "&" if base else ""
        body["@odata.nextLink"] = f"{svc.api_url}{td.table.entity_set}?{base}{sep}$skiptoken={token}"
    return Response.json(200, body, _applied(req, size_given=size_given, size=size))


def _key(td: TableData, row: Row) -> str:
    return td.getter(td.table.primary_key)(row)


def _read_tracked(svc: Service, req: Request, td: TableData, cookie: dict[str, Any] | None) -> Response:
    q = req.query
    for option in TRACKING_FORBIDDEN:
        if option in q:
            raise bad_request(
                f'The "{option}" query parameter isn\'t supported when Change Tracking is enabled.'
            )
    if td.table.logical_name not in svc.change_tracking_tables:
        raise bad_request(
            f"Change tracking is not enabled for the entity '{td.table.logical_name}'. "
            "Enable change tracking for the entity before requesting changes.",
            "0x80044353",
        )
    select = q.get("$select")
    columns = choose_columns(td, select)
    size, size_given = page_size(req.prefer)
    writer = RowWriter(svc.store, td, columns, annotation_filter(req.prefer), svc.base_language)
    entity_set = td.table.entity_set
    select_part = f"$select={select}" if select else ""
    headers = _applied(req, tracking="odata.track-changes" in req.prefer, size_given=size_given, size=size)

    def link(extra: str) -> str:
        joined = "&".join(p for p in (select_part, extra) if p)
        return f"{svc.api_url}{entity_set}?{joined}"

    token = q.get("$deltatoken")
    if token is None:
        # Initial sync: the whole table by key; the delta link's version is the one at the first page.
        start_version = int(cookie["version"]) if cookie and "version" in cookie else svc.store.version
        page = cut_page(svc.store, td, None, [], size, cookie)
        body: dict[str, Any] = {"@odata.context": context_url(svc.api_url, entity_set, select)}
        body["value"] = [writer.write(r) for r in page.rows]
        if page.more:
            number = cookie["pagenumber"] + 1 if cookie else 2
            skip = make_skiptoken(
                number, td, _key(td, page.rows[0]), _key(td, page.rows[-1]), True, {"version": start_version}
            )
            body["@odata.nextLink"] = link(f"$skiptoken={skip}")
        else:
            body["@odata.deltaLink"] = link(f"$deltatoken={svc.delta_tokens.issue(start_version)}")
        return Response.json(200, body, headers)

    if svc.faults.take(req.method, req.path, frozenset({"expired_delta"})) is not None:
        raise ODataError(
            400,
            "0x80044352",
            "Version stamp associated with the client has expired. Please perform a full sync.",
        )
    since = svc.delta_tokens.check(token, svc.retention_days())
    upto = int(cookie["upto"]) if cookie and "upto" in cookie else svc.store.version
    part = delta_page(svc.store, td, since, upto, size, cookie)
    values: list[dict[str, Any]] = [writer.write(r) for r in part.changed]
    deleted_context = f"{svc.api_url}$metadata#{entity_set}/$deletedEntity"
    values += [{"@odata.context": deleted_context, "id": rid, "reason": "deleted"} for rid in part.deleted]
    body = {"@odata.context": context_url(svc.api_url, entity_set, select, "/$delta"), "value": values}
    if part.more:
        number = cookie["pagenumber"] + 1 if cookie else 2
        skip = make_skiptoken(number, td, None, None, True, {"upto": upto, **part.cursor})
        body["@odata.nextLink"] = link(f"$deltatoken={encode_token(*decode_token(token))}&$skiptoken={skip}")
    else:
        body["@odata.deltaLink"] = link(f"$deltatoken={svc.delta_tokens.issue(upto)}")
    return Response.json(200, body, headers)


def read_one(svc: Service, req: Request, td: TableData, record_id: str) -> Response:
    select = req.query.get("$select")
    columns = choose_columns(td, select)
    row = svc.store.get_row(td.table.entity_set, record_id)
    if row is None:
        raise not_found(td.table.logical_name, record_id)
    etag = f'W/"{row[0]}"'
    wants = annotation_filter(req.prefer)
    writer = RowWriter(svc.store, td, columns, wants, svc.base_language).expand(req.query.get("$expand"))
    # The docs: no 304 when annotations or $expand are requested.
    if req.headers.get("If-None-Match") == etag and not wants(FORMATTED) and not writer.expansions:
        return Response.empty(304)
    body = {"@odata.context": context_url(svc.api_url, td.table.entity_set, select, "/$entity")}
    body.update(writer.write(row))
    return Response.json(200, body, {"ETag": etag, **_applied(req)})


def read_related(svc: Service, req: Request, td: TableData, record_id: str, nav: str) -> Response:
    """GET <set>(<id>)/<collection navigation> (N:N or 1:N), with $select and $filter."""
    row = svc.store.get_row(td.table.entity_set, record_id)
    if row is None:
        raise not_found(td.table.logical_name, record_id)
    found = TableResolver(svc.store, td).collection_nav(nav)
    if found is None:
        raise bad_request(f"Could not find a property named '{nav}' on type '{td.table.odata_type}'.")
    target, related = found
    select = req.query.get("$select")
    columns = choose_columns(target.td, select)
    predicate = build_filter(svc.store, target.td, req.query.get("$filter"), _aliases(req))
    with svc.store.lock:
        rows = sorted(
            (r for r in related(row) if predicate is None or predicate(r)), key=lambda r: _key(target.td, r)
        )
    writer = RowWriter(
        svc.store, target.td, columns, annotation_filter(req.prefer), svc.base_language
    ).expand(req.query.get("$expand"))
    body = {
        "@odata.context": context_url(svc.api_url, target.td.table.entity_set, select),
        "value": [writer.write(r) for r in rows[:5000]],
    }
    return Response.json(200, body, _applied(req))
