"""``query_many`` (id-filtered GETs packed into ``$batch``) and ``update_many(return_versions=True)``
against the Dataverse emulator over real loopback HTTP, plus one wire detail on the scripted stub."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from functions.dataverse import (
    BadRequestError,
    ChangedRow,
    DataverseClient,
    PreconditionFailedError,
    StaticTokenProvider,
)
from functions.pipeline.crm_reader import CHUNK, CrmReader

from .conftest import emulator_module
from .stub_server import Reply, Seen, StubServer

Fault = emulator_module.Fault


def contact_rows(emu: Any) -> dict[str, dict[str, Any]]:
    td = emu.store.tables["contacts"]
    with emu.store.lock:
        return {row["contactid"]: row for row in (td.to_dict(r) for r in td.rows.values())}


def id_filters(ids: list[str], per_filter: int) -> list[str]:
    return [
        " or ".join(f"contactid eq {i}" for i in ids[start : start + per_filter])
        for start in range(0, len(ids), per_filter)
    ]


# ------------------------------------------------------------------------------------------ query_many


def test_query_many_returns_exactly_the_rows_of_the_filters(make_emulator, make_client) -> None:
    emu = make_emulator(120)
    client = make_client(emu)
    every = sorted(contact_rows(emu))
    wanted = every[:89]  # 9 filters of <= 10 ids; the other contacts must not come back
    filters = id_filters(wanted, 10)
    plain = {r["contactid"]: r for r in client.iter_rows("contacts", select=["fullname", "jobtitle"],
                                                          filter=filters[0])}
    client.reset_counts()
    emu.counters.requests.clear()

    rows = list(client.query_many("contacts", filters, select=["fullname", "jobtitle"], gets_per_batch=4))

    assert sorted(r["contactid"] for r in rows) == wanted  # each once, nothing else
    counts = client.request_counts
    assert counts["batch_read"] == math.ceil(len(filters) / 4) - 1 == 2  # 4 + 4 GETs in two $batch...
    assert counts["read"] == 1  # ...and the last group of one GET goes plain
    assert sum(counts[k] for k in ("batch", "delta", "metadata")) == 0
    assert dict(emu.counters.requests) == {"batch": 2, "read": 1}
    # The rows look exactly like iter_rows' rows (same Prefer, same columns, same etag annotation).
    by_id = {r["contactid"]: r for r in rows}
    for cid, row in plain.items():
        assert by_id[cid] == row
        assert row["@odata.etag"].startswith('W/"')


def test_query_many_follows_paging_inside_an_inner_answer(make_emulator, make_client) -> None:
    emu = make_emulator(60)
    client = make_client(emu)
    every = sorted(contact_rows(emu))
    filters = id_filters(every[:30], 10)  # 3 filters of 10 ids, pages of 4 rows: 3 pages each

    rows = list(client.query_many("contacts", filters, select=["fullname"], page_size=4, gets_per_batch=10))

    assert sorted(r["contactid"] for r in rows) == every[:30]
    # Every round sends the open next pages of all three GETs in one $batch: 10 rows = pages 4, 4, 2.
    assert client.request_counts["batch_read"] == 3
    assert client.request_counts["read"] == 0
    assert emu.counters.requests["batch"] == 3


def test_query_many_many_filters_over_several_batches_and_annotations(make_emulator, make_client) -> None:
    emu = make_emulator(300)
    client = make_client(emu)
    every = sorted(contact_rows(emu))
    filters = id_filters(every, 3)  # 100 filters
    annotation = "OData.Community.Display.V1.FormattedValue"

    rows = list(client.query_many("contacts", filters, select=["fullname", "statecode"],
                                  annotations=annotation, gets_per_batch=30))

    assert sorted(r["contactid"] for r in rows) == every
    assert client.request_counts["batch_read"] == 4  # 30 + 30 + 30 + 10
    plain = next(iter(client.iter_rows("contacts", select=["fullname", "statecode"], annotations=annotation,
                                       filter=f"contactid eq {every[0]}")))
    assert {r["contactid"]: r for r in rows}[every[0]] == plain
    assert f"statecode@{annotation}" in plain


def test_query_many_inner_failure_raises_the_typed_error_of_a_plain_get(emu, make_client) -> None:
    client = make_client(emu)
    ids = sorted(contact_rows(emu))
    filters = [f"contactid eq {ids[0]}", "nosuchcolumn eq 1", f"contactid eq {ids[1]}"]
    with pytest.raises(BadRequestError) as plain:
        list(client.iter_rows("contacts", select=["fullname"], filter=filters[1]))

    with pytest.raises(BadRequestError) as batched:
        list(client.query_many("contacts", filters, select=["fullname"]))

    assert (batched.value.status, batched.value.code) == (plain.value.status, plain.value.code)
    assert client.request_counts["batch_read"] == 1


def test_query_many_batch_request_is_retried_when_throttled(emu, make_client) -> None:
    client = make_client(emu)
    ids = sorted(contact_rows(emu))
    emu.faults.add(Fault("throttle", method="POST", path=r"^\$batch$", times=1, retry_after=0))

    rows = list(client.query_many("contacts", id_filters(ids, 5), select=["fullname"]))

    assert sorted(r["contactid"] for r in rows) == ids
    counts = client.request_counts
    assert (counts["batch_read"], counts["throttled"], counts["retries"]) == (2, 1, 1)


def test_query_many_validates_before_sending_and_sends_nothing_for_no_filters(emu, make_client) -> None:
    client = make_client(emu)
    assert list(client.query_many("contacts", [], select=["fullname"])) == []
    for bad in ({"filters": [""]}, {"filters": "contactid eq x"}, {"gets_per_batch": 0},
                {"gets_per_batch": 1001}, {"select": []}, {"page_size": 0}):
        arguments: dict[str, Any] = {"filters": ["statecode eq 0"], "select": ["fullname"], **bad}
        with pytest.raises(ValueError, match=r"filter|gets_per_batch|select|page_size"):
            client.query_many("contacts", **arguments)
    assert sum(client.request_counts.values()) == 0


def test_crm_reader_contacts_by_id_of_3000_ids_costs_at_most_two_requests(make_emulator, make_client) -> None:
    emu = make_emulator(3000)
    client = make_client(emu)
    ids = sorted(contact_rows(emu))
    assert len(ids) == 3000
    reader = CrmReader(client, flag_column=None, employer_column=None)

    contacts = list(reader.contacts_by_id([*ids, ids[0].upper(), str(uuid.uuid4())]))

    assert sorted(c.contact_id for c in contacts) == ids
    assert all(c.etag for c in contacts)
    counts = client.request_counts
    requests = sum(v for k, v in counts.items() if k not in ("retries", "throttled", "token_refreshes"))
    assert requests <= 2
    assert counts["batch_read"] + counts["read"] == requests == math.ceil(3000 / CHUNK / 50)


def test_crm_reader_targeted_reads_with_extra_condition_and_one_chunk(make_emulator, make_client) -> None:
    emu = make_emulator(60)
    client = make_client(emu)
    reader = CrmReader(client, flag_column=None, employer_column=None)
    accounts = sorted({row["_parentcustomerid_value"] for row in contact_rows(emu).values()
                       if row.get("_parentcustomerid_value")})
    expected = sorted(cid for cid, row in contact_rows(emu).items()
                      if row.get("_parentcustomerid_value") in accounts)

    contacts = list(reader.contacts_of_accounts(accounts))

    assert sorted(c.contact_id for c in contacts) == expected
    assert client.request_counts["read"] == 1  # one chunk: a plain GET, no $batch
    assert client.request_counts["batch_read"] == 0
    assert list(reader.contacts_by_id([])) == []
    assert client.request_counts["read"] == 1


# ------------------------------------------------------------------------------------- return_versions


def test_update_many_return_versions_equal_later_reads_of_the_unchanged_rows(emu, make_client) -> None:
    client = make_client(emu)
    ids = sorted(contact_rows(emu))[:5]
    feed = client.read_changes("contacts", select=["jobtitle"])
    read_etags = {
        item.row["contactid"]: item.row["@odata.etag"] for item in feed if isinstance(item, ChangedRow)
    }
    client.reset_counts()

    results = client.update_many(
        "contacts",
        [{"contactid": cid, "jobtitle": f"Versioned {n}"} for n, cid in enumerate(ids)],
        logical_name="contact",
        primary_key="contactid",
        etags={cid: read_etags[cid] for cid in ids},
        return_versions=True,
    )

    assert [r.ok for r in results] == [True] * 5
    versions = {r.id: r.etag for r in results}
    assert all(versions.values())
    assert all(versions[cid] != read_etags[cid] for cid in ids)  # a new version per write
    assert client.request_counts["batch"] == 1  # one $batch, no UpdateMultiple, no extra read
    assert client.request_counts["bulk"] == client.request_counts["metadata"] == 0
    # Tomorrow's delta read echoes our own writes with exactly those etags...
    delta = {item.row["contactid"]: item.row for item in client.read_changes(
        "contacts", select=["jobtitle"], delta_link=feed.delta_link) if isinstance(item, ChangedRow)}
    assert set(delta) == set(ids)
    assert {cid: row["@odata.etag"] for cid, row in delta.items()} == versions
    # ...and so does a plain GET (by id, through query_many too).
    plain = {r["contactid"]: r["@odata.etag"] for r in client.iter_rows(
        "contacts", select=["jobtitle"], filter=" or ".join(f"contactid eq {cid}" for cid in ids))}
    assert plain == versions
    batched = {r["contactid"]: r["@odata.etag"] for r in client.query_many(
        "contacts", [f"contactid eq {cid}" for cid in ids], select=["jobtitle"])}
    assert batched == versions
    # A person's later edit gives a different etag: not mistaken for our write.
    emu.store.update("contacts", ids[0], {"jobtitle": "a person"})
    again = next(iter(client.iter_rows("contacts", select=["jobtitle"], filter=f"contactid eq {ids[0]}")))
    assert again["@odata.etag"] != versions[ids[0]]


def test_update_many_return_versions_stale_etag_is_412_and_others_get_versions(emu, make_client) -> None:
    client = make_client(emu)
    ids = sorted(contact_rows(emu))[:3]
    read = {r["contactid"]: r["@odata.etag"] for r in client.iter_rows("contacts", select=["jobtitle"])}
    emu.store.update("contacts", ids[1], {"jobtitle": "changed by a person meanwhile"})

    results = client.update_many(
        "contacts",
        [{"contactid": cid, "jobtitle": "ours"} for cid in ids],
        logical_name="contact",
        primary_key="contactid",
        etags={cid: read[cid] for cid in ids},
        return_versions=True,
    )

    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, PreconditionFailedError)
    assert results[1].etag is None
    assert emu.store.get("contacts", ids[1])["jobtitle"] == "changed by a person meanwhile"
    now = {r["contactid"]: r["@odata.etag"] for r in client.iter_rows("contacts", select=["jobtitle"])}
    assert (results[0].etag, results[2].etag) == (now[ids[0]], now[ids[2]])


def test_update_many_return_versions_skips_update_multiple(emu, make_client) -> None:
    client = make_client(emu)
    ids = sorted(contact_rows(emu))[:4]

    results = client.update_many(
        "contacts", [{"contactid": cid, "jobtitle": "no etags"} for cid in ids],
        logical_name="contact", primary_key="contactid", use_bulk=True, return_versions=True,
    )

    assert all(r.ok and r.etag for r in results)
    counts = client.request_counts
    assert (counts["bulk"], counts["batch"]) == (0, 1)  # UpdateMultiple returns no versions
    # Without return_versions nothing changes: UpdateMultiple, no etags.
    plain = client.update_many(
        "contacts", [{"contactid": cid, "jobtitle": "bulk"} for cid in ids],
        logical_name="contact", primary_key="contactid", use_bulk=True,
    )
    assert all(r.ok and r.etag is None for r in plain)
    assert client.request_counts["bulk"] == 1


# ------------------------------------------------------------------------------ wire details (stub)


@pytest.fixture
def stub() -> Iterator[Callable[[Callable[[Seen], Reply]], StubServer]]:
    servers: list[StubServer] = []

    def make(handler: Callable[[Seen], Reply]) -> StubServer:
        servers.append(StubServer(handler))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def _multipart(parts: list[str]) -> tuple[str, dict[str, str]]:
    boundary = "batchresponse_x"
    body = "".join(
        f"--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        f"Content-ID: {n}\r\n\r\n{part}\r\n"
        for n, part in enumerate(parts, start=1)
    ) + f"--{boundary}--\r\n"
    return body, {"Content-Type": f"multipart/mixed; boundary={boundary}"}


def test_204_write_gives_no_etag_and_etag_header_is_used_without_body(stub) -> None:
    """A PATCH answered 204 (no representation) is ok with etag None; an ETag header stands in for a
    body without ``@odata.etag``. Also checks what each PATCH asks for."""
    ids = [str(uuid.uuid4()) for _ in range(3)]

    def handler(seen: Seen) -> Reply:
        body, headers = _multipart([
            'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n'
            '{"@odata.etag":"W/\\"101\\"","contactid":"' + ids[0] + '"}',
            "HTTP/1.1 204 No Content\r\n",
            'HTTP/1.1 204 No Content\r\nETag: W/"103"\r\n',
        ])
        return Reply(200, body, headers)

    server = stub(handler)
    client = DataverseClient(server.api_url, StaticTokenProvider("tok"), timeout=5)
    results = client.update_many(
        "contacts", [{"contactid": cid, "jobtitle": "x"} for cid in ids],
        logical_name="contact", primary_key="contactid", use_bulk=False, return_versions=True,
    )
    assert [(r.ok, r.etag) for r in results] == [(True, 'W/"101"'), (True, None), (True, 'W/"103"')]
    sent = server.requests[0].body.decode()
    assert sent.count("Prefer: return=representation") == 3
    assert f"PATCH /api/data/v9.2/contacts({ids[0]})?$select=contactid HTTP/1.1" in sent
    client.close()


def test_query_many_repeats_a_transiently_failed_inner_get_alone(stub) -> None:
    """An inner 503 (the emulator never fails inner parts) is asked again as a plain GET."""
    row = {"@odata.etag": 'W/"7"', "contactid": str(uuid.uuid4())}

    def handler(seen: Seen) -> Reply:
        if seen.method == "POST":
            body, headers = _multipart([
                'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"value":[]}',
                'HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\r\n'
                '{"error":{"code":"0x0","message":"busy"}}',
            ])
            return Reply(200, body, headers)
        assert "statecode%20eq%201" in seen.path
        return Reply(200, '{"value":[' + json.dumps(row) + "]}")

    server = stub(handler)
    client = DataverseClient(server.api_url, StaticTokenProvider("tok"), timeout=5)
    rows = list(client.query_many("contacts", ["statecode eq 0", "statecode eq 1"], select=["fullname"]))
    assert rows == [row]
    assert (client.request_counts["batch_read"], client.request_counts["read"]) == (1, 1)
    client.close()
