"""The client against the Dataverse emulator over real HTTP (127.0.0.1 only)."""

from __future__ import annotations

import math
import threading
import time
import uuid
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
import requests

from functions.dataverse import (
    AuthenticationError,
    AzureIdentityTokenProvider,
    BadRequestError,
    BatchOperation,
    ChangedRow,
    DataverseError,
    DeletedRow,
    ExpiredDeltaTokenError,
    NotFoundError,
    PreconditionFailedError,
    ServerError,
    ThrottledError,
    odata_string,
)

from .conftest import CountingTokenProvider, emulator_module

Fault = emulator_module.Fault

# Client kind -> emulator kind (the emulator classifies by HTTP shape; see counters.py).
EMULATOR_KIND = {
    "read": "read",
    "delta": "read",
    "metadata": "read",
    "function": "function",
    "create": "create",
    "update": "update",
    "delete": "delete",
    "batch": "batch",
    "bulk": "action",
    "action": "action",
}


def contact_ids(emu: Any) -> list[str]:
    return sorted(r["contactid"] for r in _all_contacts(emu))


def _all_contacts(emu: Any) -> list[dict[str, Any]]:
    td = emu.store.tables["contacts"]
    with emu.store.lock:
        return [td.to_dict(row) for row in td.rows.values()]


def as_emulator_counts(counts: dict[str, int]) -> dict[str, int]:
    result: dict[str, int] = {}
    for kind, emulator_kind in EMULATOR_KIND.items():
        if counts[kind]:
            result[emulator_kind] = result.get(emulator_kind, 0) + counts[kind]
    return result


# ------------------------------------------------------------------------------------------- reading


def test_paging_over_three_pages_sends_exactly_ceil_n_over_page(emu, make_client) -> None:
    client = make_client(emu)
    total = emu.store.count("contacts")
    assert total == 12
    pages = list(client.iter_pages("contacts", select=["fullname"], page_size=5))
    assert [len(p) for p in pages] == [5, 5, 2]
    assert client.request_counts["read"] == math.ceil(total / 5) == 3
    assert emu.counters.requests["read"] == 3
    ids = [row["contactid"] for page in pages for row in page]
    assert sorted(ids) == contact_ids(emu)  # every row once, none twice


def test_select_is_honoured(emu, make_client) -> None:
    client = make_client(emu)
    rows = list(client.iter_rows("contacts", select="fullname,emailaddress1"))
    assert len(rows) == 12
    for row in rows:
        data_keys = {k for k in row if not k.startswith("@")}
        assert data_keys <= {"fullname", "emailaddress1", "contactid"}
        assert "fullname" in data_keys


def test_filter_with_escaped_literal(emu, make_client) -> None:
    client = make_client(emu)
    new_id = client.create("contacts", {"firstname": "Seán", "lastname": "O'Brien"})
    name = odata_string("O'Brien")
    rows = list(client.iter_rows("contacts", select=["lastname"], filter=f"lastname eq {name}"))
    assert [r["contactid"] for r in rows] == [new_id]


def test_emulator_refuses_a_re_encoded_skiptoken(emu) -> None:
    # The emulator decodes $skiptoken once, like Dataverse, so it catches a client that re-encodes links.
    first = requests.get(
        emu.api_url + "contacts?$select=fullname",
        headers={"Authorization": "Bearer x", "Prefer": "odata.maxpagesize=5"},
        timeout=10,
    ).json()
    link = first["@odata.nextLink"]
    base, _, token = link.partition("$skiptoken=")
    assert requests.get(link, headers={"Authorization": "Bearer x"}, timeout=10).status_code == 200
    re_encoded = base + "$skiptoken=" + quote(token, safe="")
    response = requests.get(re_encoded, headers={"Authorization": "Bearer x"}, timeout=10)
    assert response.status_code == 400


def test_iterating_lazily_fetches_pages_on_demand(emu, make_client) -> None:
    client = make_client(emu)
    rows = client.iter_rows("contacts", select=["fullname"], page_size=5)
    assert client.request_counts["read"] == 0
    next(rows)
    assert client.request_counts["read"] == 1


# ------------------------------------------------------------------------------------ change tracking


def test_delta_reports_create_update_delete(emu, make_client) -> None:
    client = make_client(emu)
    initial = client.read_changes("contacts", select=["fullname", "jobtitle"], page_size=5)
    assert initial.delta_link is None
    items = list(initial)
    assert all(isinstance(i, ChangedRow) for i in items)
    assert sorted(i.id for i in items) == contact_ids(emu)
    assert initial.delta_link is not None
    assert client.request_counts["delta"] == 3  # 12 rows in pages of 5

    ids = contact_ids(emu)
    created = client.create("contacts", {"firstname": "New", "lastname": "Person"})
    client.update("contacts", ids[0], {"jobtitle": "Changed"})
    client.delete("contacts", ids[1])

    delta = client.read_changes("contacts", select=["fullname", "jobtitle"], delta_link=initial.delta_link)
    changes = list(delta)
    changed = {c.id: c.row for c in changes if isinstance(c, ChangedRow)}
    deleted = [c.id for c in changes if isinstance(c, DeletedRow)]
    assert set(changed) == {created, ids[0]}
    assert changed[ids[0]]["jobtitle"] == "Changed"
    assert deleted == [ids[1]]
    assert delta.delta_link
    assert delta.delta_link != initial.delta_link

    # Nothing changed since: an empty delta and yet another link.
    again = client.read_changes("contacts", select=["fullname"], delta_link=delta.delta_link)
    assert list(again) == []
    assert again.delta_link


def test_expired_delta_token_raises_typed_error(emu, make_client) -> None:
    client = make_client(emu)
    feed = client.read_changes("contacts", select=["fullname"])
    list(feed)
    emu.expire_delta_tokens()
    with pytest.raises(ExpiredDeltaTokenError) as info:
        client.read_changes("contacts", select=["fullname"], delta_link=feed.delta_link)
    assert info.value.code.lower() == "0x80044352"
    # The fallback the caller does: a fresh initial read works.
    assert len(list(client.read_changes("contacts", select=["fullname"]))) == 12


def test_expired_delta_fault_raises_typed_error(emu, make_client) -> None:
    client = make_client(emu)
    feed = client.read_changes("contacts", select=["fullname"])
    list(feed)
    emu.faults.add(Fault("expired_delta"))
    with pytest.raises(ExpiredDeltaTokenError):
        client.read_changes("contacts", select=["fullname"], delta_link=feed.delta_link)


def test_change_feed_iterates_once(emu, make_client) -> None:
    feed = make_client(emu).read_changes("contacts", select=["fullname"])
    list(feed)
    with pytest.raises(RuntimeError, match="once"):
        list(feed)


# --------------------------------------------------------------------------------- retries and faults


def test_429_storm_is_recovered_and_retry_after_honoured(emu, make_client) -> None:
    client = make_client(emu, max_retries=5, max_retry_wait=10)
    emu.faults.add(Fault("throttle", path=r"^contacts", times=3, retry_after=1))
    started = time.monotonic()
    rows = list(client.iter_rows("contacts", select=["fullname"]))
    elapsed = time.monotonic() - started
    assert len(rows) == 12
    assert 3.0 <= elapsed < 3.0 + 3 * 1.0 + 2.0  # the sum of Retry-After + up to 1 s jitter each
    counts = client.request_counts
    assert (counts["throttled"], counts["retries"], counts["read"]) == (3, 3, 4)
    assert emu.counters.requests["read"] == 4


def test_retry_after_beyond_max_retry_wait_raises_at_once(emu, make_client) -> None:
    # Retrying before the server's Retry-After only extends the throttling: give up instead.
    client = make_client(emu, max_retries=3, max_retry_wait=0.2)
    emu.faults.add(Fault("throttle", times=2, retry_after=30))
    started = time.monotonic()
    with pytest.raises(ThrottledError) as info:
        client.who_am_i()
    assert time.monotonic() - started < 2
    assert info.value.retry_after == 30
    counts = client.request_counts
    assert (counts["function"], counts["retries"], counts["throttled"]) == (1, 0, 1)
    assert emu.counters.requests["function"] == 1


@pytest.mark.parametrize("status", [503, 502, 504])
def test_5xx_then_success(emu, make_client, status: int) -> None:
    client = make_client(emu, max_retry_wait=0.3)  # cap the exponential backoff to keep the test fast
    emu.faults.add(Fault("server_error", status=status, times=2))
    assert client.who_am_i()["UserId"]
    assert client.request_counts["function"] == 3
    assert client.request_counts["retries"] == 2


def test_503_on_create_is_not_retried(emu, make_client) -> None:
    # The docs do not say a 503 comes before processing: repeating a create could duplicate it.
    client = make_client(emu, max_retry_wait=0.3)
    emu.faults.add(Fault("server_error", status=503, method="POST", path=r"^contacts$", times=1))
    with pytest.raises(ServerError) as info:
        client.create("contacts", {"lastname": "Once"})
    assert info.value.status == 503
    counts = client.request_counts
    assert (counts["create"], counts["retries"]) == (1, 0)
    assert emu.counters.requests["create"] == 1


def test_redirect_on_a_later_page_raises_instead_of_ending_the_read(emu, make_client) -> None:
    client = make_client(emu)
    emu.faults.add(Fault("server_error", status=302, method="GET", path=r"^contacts$", after=1, times=1))
    rows = client.iter_rows("contacts", select=["fullname"], page_size=5)
    with pytest.raises(DataverseError) as info:
        list(rows)
    assert info.value.status == 302
    assert client.request_counts["read"] == 2
    assert client.request_counts["retries"] == 0


def test_redirect_during_change_tracking_raises_and_leaves_no_delta_link(emu, make_client) -> None:
    client = make_client(emu)
    emu.faults.add(Fault("server_error", status=307, method="GET", path=r"^contacts$", after=1, times=1))
    feed = client.read_changes("contacts", select=["fullname"], page_size=5)
    with pytest.raises(DataverseError) as info:
        list(feed)
    assert info.value.status == 307
    assert feed.delta_link is None


def test_304_is_an_answer_only_to_a_conditional_read(emu, make_client) -> None:
    client = make_client(emu)
    first = contact_ids(emu)[0]
    row = client.get_json(f"contacts({first})", params={"$select": "fullname"})
    same = client.get_json(
        f"contacts({first})", params={"$select": "fullname"}, headers={"If-None-Match": row["@odata.etag"]}
    )
    assert same == {}  # 304 Not Modified


def test_500_is_retried_for_reads_only(emu, make_client) -> None:
    client = make_client(emu, max_retry_wait=0.2)
    emu.faults.add(Fault("server_error", status=500, method="GET", times=1))
    assert client.who_am_i()["UserId"]  # a read: one transient 500 must not fail a run
    assert client.request_counts["retries"] == 1
    first = contact_ids(emu)[0]
    emu.faults.add(Fault("server_error", status=500, method="PATCH", times=1))
    with pytest.raises(ServerError) as info:
        client.update("contacts", first, {"jobtitle": "X"})
    assert info.value.status == 500  # a write: a plug-in or data problem a retry would repeat
    assert client.request_counts["retries"] == 1


def test_dropped_connection_then_success(emu, make_client) -> None:
    client = make_client(emu, max_retry_wait=0.3)
    emu.faults.add(Fault("drop", method="GET", times=1))
    rows = list(client.iter_rows("contacts", select=["fullname"]))
    assert len(rows) == 12
    assert client.request_counts["retries"] == 1


def test_dropped_connection_on_create_is_not_retried(emu, make_client) -> None:
    client = make_client(emu)
    before = emu.store.count("contacts")
    emu.faults.add(Fault("drop", method="POST", path=r"^contacts$", times=1))
    with pytest.raises(Exception, match="onnection") as info:
        client.create("contacts", {"lastname": "Once"})
    assert type(info.value).__name__ == "ConnectionFailedError"
    assert emu.store.count("contacts") == before
    assert client.request_counts["create"] == 1


def test_retries_exhausted_raises_throttled(emu, make_client) -> None:
    client = make_client(emu, max_retries=2, max_retry_wait=0.1)
    emu.faults.add(Fault("throttle", times=None, retry_after=0))
    with pytest.raises(ThrottledError) as info:
        client.who_am_i()
    assert info.value.status == 429
    assert info.value.retry_after == 0
    assert info.value.code == "0x80072322"
    assert client.request_counts["function"] == 3
    assert emu.counters.requests["function"] == 3


# ------------------------------------------------------------------------------------------------ auth


def test_401_refreshes_token_once_and_succeeds(emu, make_client) -> None:
    provider = CountingTokenProvider()
    client = make_client(emu, token_provider=provider)
    client.who_am_i()
    emu.expire_token("token-1")
    assert len(list(client.iter_rows("contacts", select=["fullname"]))) == 12
    assert provider.forced == 1
    assert provider.generation == 2
    counts = client.request_counts
    assert counts["token_refreshes"] == 1
    assert counts["read"] == 2  # the 401 and its repeat
    assert counts["retries"] == 0


def test_parallel_401s_refresh_the_token_once(emu, make_client) -> None:
    issued: list[str] = []
    credentials: list[object] = []
    lock = threading.Lock()

    class Credential:
        def get_token(self, scope: str) -> Any:
            with lock:
                issued.append(f"tok-{len(issued) + 1}")
                token = issued[-1]
            time.sleep(0.05)  # a slow identity endpoint widens the race window
            return SimpleNamespace(token=token, expires_on=time.time() + 3600)

    def factory() -> Credential:
        credentials.append(Credential())
        return credentials[-1]

    provider = AzureIdentityTokenProvider("x/.default", factory)
    client = make_client(emu, token_provider=provider, max_concurrency=8)
    client.who_am_i()
    emu.expire_token("tok-1")
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def work() -> None:
        barrier.wait()
        try:
            client.who_am_i()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert issued == ["tok-1", "tok-2"]  # exactly one refresh for 8 rejected requests
    assert len(credentials) == 2
    assert client.request_counts["token_refreshes"] >= 1


def test_two_401s_in_a_row_on_a_read_are_retried_within_the_budget(emu, make_client) -> None:
    provider = CountingTokenProvider()
    client = make_client(emu, token_provider=provider, max_retry_wait=0.2)
    emu.expire_token("token-1")
    emu.expire_token("token-2")
    assert client.who_am_i()["UserId"]  # token-3 is accepted
    assert provider.forced == 2
    assert client.request_counts["retries"] == 1


def test_a_credential_that_stays_refused_fails_after_the_retries(emu, make_client) -> None:
    provider = CountingTokenProvider()
    client = make_client(emu, token_provider=provider, max_retries=2, max_retry_wait=0.1)
    for n in range(1, 10):
        emu.expire_token(f"token-{n}")
    with pytest.raises(AuthenticationError) as info:
        client.who_am_i()
    assert info.value.status == 401
    assert client.request_counts["retries"] == 2
    # a write is never repeated on 401 after the one refresh
    write_client = make_client(emu, token_provider=CountingTokenProvider(), max_retries=2, max_retry_wait=0.1)
    with pytest.raises(AuthenticationError):
        write_client.update("contacts", contact_ids(emu)[0], {"jobtitle": "X"})
    assert write_client.request_counts["retries"] == 0


# -------------------------------------------------------------------------------------------- writing


def test_patch_never_creates(emu, make_client) -> None:
    client = make_client(emu)
    before = emu.store.count("contacts")
    missing = str(uuid.uuid4())
    with pytest.raises(NotFoundError) as info:
        client.update("contacts", missing, {"jobtitle": "Ghost"})
    assert info.value.status == 404
    assert emu.store.count("contacts") == before
    assert emu.store.get("contacts", missing) is None


def test_update_and_delete(emu, make_client) -> None:
    client = make_client(emu)
    first, second = contact_ids(emu)[:2]
    client.update("contacts", first, {"jobtitle": "CTO"})
    assert emu.store.get("contacts", first)["jobtitle"] == "CTO"
    client.delete("contacts", second)
    assert emu.store.get("contacts", second) is None
    with pytest.raises(NotFoundError):
        client.delete("contacts", second)


def _bulk(client, ids: list[str], title: str, **kwargs: Any):
    return client.update_many(
        "contacts",
        [{"contactid": i, "jobtitle": title} for i in ids],
        logical_name="contact",
        primary_key="contactid",
        **kwargs,
    )


def test_update_many_with_update_multiple(emu, make_client) -> None:
    client = make_client(emu)
    ids = contact_ids(emu)
    results = _bulk(client, ids, "Bulk")
    assert [r.id for r in results] == ids
    assert all(r.ok for r in results)
    assert all(emu.store.get("contacts", i)["jobtitle"] == "Bulk" for i in ids)
    counts = client.request_counts
    assert (counts["metadata"], counts["bulk"], counts["batch"]) == (1, 1, 0)
    # supports_message is cached per table.
    _bulk(client, ids, "Again")
    assert client.request_counts["metadata"] == 1


def test_update_many_one_bad_record_via_update_multiple_fallback(emu, make_client) -> None:
    client = make_client(emu)
    ids = contact_ids(emu)
    bad = ids[4]
    emu.faults.add(Fault("fail_record", record_id=bad, times=None))
    results = _bulk(client, ids, "Partial")
    assert [r.id for r in results] == ids
    failed = [r for r in results if not r.ok]
    assert [r.id for r in failed] == [bad]
    assert isinstance(failed[0].error, BadRequestError)
    assert failed[0].error.status == 400
    for record_id in ids:
        expected = None if record_id == bad else "Partial"
        assert (emu.store.get("contacts", record_id)["jobtitle"] == "Partial") is (expected == "Partial")
    counts = client.request_counts
    assert (counts["bulk"], counts["batch"]) == (1, 1)  # atomic UpdateMultiple failed -> one $batch


def test_update_many_pure_batch_when_table_has_no_update_multiple(make_emulator, make_client) -> None:
    emu = make_emulator(12, bulk_tables=frozenset())
    client = make_client(emu)
    ids = contact_ids(emu)
    bad = ids[7]
    emu.faults.add(Fault("fail_record", record_id=bad, times=None))
    assert client.supports_message("contact") is False
    results = _bulk(client, ids, "ViaBatch")
    assert [r.id for r in results] == ids
    assert [r.id for r in results if not r.ok] == [bad]
    assert sum(emu.store.get("contacts", i)["jobtitle"] == "ViaBatch" for i in ids) == 11
    counts = client.request_counts
    assert (counts["bulk"], counts["batch"]) == (0, 1)
    assert emu.counters.requests.get("action", 0) == 0  # no UpdateMultiple was attempted


def test_update_many_missing_record_fails_alone_and_is_not_created(emu, make_client) -> None:
    client = make_client(emu)
    ids = contact_ids(emu)[:3]
    ghost = str(uuid.uuid4())
    results = _bulk(client, [*ids, ghost], "X")
    assert [r.ok for r in results] == [True, True, True, False]
    assert isinstance(results[3].error, NotFoundError)
    assert emu.store.get("contacts", ghost) is None


def test_update_many_chunks_in_parallel_keep_input_order(make_emulator, make_client) -> None:
    emu = make_emulator(60, bulk_tables=frozenset())
    client = make_client(emu, max_concurrency=4)
    ids = contact_ids(emu)
    results = _bulk(client, list(reversed(ids)), "Chunked", chunk_size=7)
    assert [r.id for r in results] == list(reversed(ids))
    assert all(r.ok for r in results)
    assert client.request_counts["batch"] == math.ceil(len(ids) / 7)
    assert emu.counters.operations["update"] == len(ids)


def test_update_many_support_check_failure_falls_back_to_batch(emu, make_client) -> None:
    client = make_client(emu, max_retries=1, max_retry_wait=0.1)
    ids = contact_ids(emu)
    # the check fails for good (its read is retried once: both attempts fail)
    emu.faults.add(Fault("server_error", status=500, method="GET", path=r"^sdkmessagefilters", times=2))
    results = _bulk(client, ids, "Fallback")
    assert [r.id for r in results] == ids
    assert all(r.ok for r in results)
    assert all(emu.store.get("contacts", i)["jobtitle"] == "Fallback" for i in ids)
    counts = client.request_counts
    assert (counts["metadata"], counts["bulk"], counts["batch"]) == (2, 0, 1)  # the check read twice
    # The failure was not cached: the next call asks again and now uses UpdateMultiple.
    _bulk(client, ids, "Bulk")
    counts = client.request_counts
    assert (counts["metadata"], counts["bulk"], counts["batch"]) == (3, 1, 1)


def test_update_many_support_check_auth_failure_fails_every_record(emu, make_client) -> None:
    client = make_client(emu)
    ids = contact_ids(emu)[:3]
    emu.faults.add(Fault("unauthorized", method="GET", path=r"^sdkmessagefilters", times=None))
    results = _bulk(client, ids, "Never")
    assert [r.id for r in results] == ids
    assert all(not r.ok and isinstance(r.error, AuthenticationError) for r in results)
    assert (client.request_counts["bulk"], client.request_counts["batch"]) == (0, 0)


@pytest.mark.parametrize("use_bulk", [True, False])
def test_update_many_bad_guid_fails_alone_and_duplicates_are_written_once(emu, make_client, use_bulk) -> None:
    client = make_client(emu)
    first, second = contact_ids(emu)[:2]
    records = [
        {"contactid": first, "jobtitle": "A", "department": "D"},
        {"contactid": "not-a-guid", "jobtitle": "Y"},
        {"contactid": second, "jobtitle": "C"},
        {"contactid": first.upper(), "jobtitle": "B"},  # same row, other letter case: later one wins
    ]
    results = client.update_many(
        "contacts", records, logical_name="contact", primary_key="contactid", chunk_size=1, use_bulk=use_bulk
    )
    expected = [(first, True), ("not-a-guid", False), (second, True), (first, True)]
    assert [(r.id, r.ok) for r in results] == expected
    assert "GUID" in results[1].error.message
    assert emu.store.get("contacts", first)["jobtitle"] == "B"
    assert emu.store.get("contacts", first)["department"] == "D"
    assert emu.store.get("contacts", second)["jobtitle"] == "C"
    # Two distinct rows -> two chunks of one, no race between two writes of the same row.
    assert client.request_counts["bulk" if use_bulk else "batch"] == 2
    assert emu.counters.operations["update"] == 2


def test_execute_batch_without_continue_on_error_stops_at_first_failure(emu, make_client) -> None:
    client = make_client(emu)
    ids = contact_ids(emu)[:3]
    ops = [
        BatchOperation("PATCH", f"contacts({ids[0]})", {"jobtitle": "A"}, {"If-Match": "*"}),
        BatchOperation("PATCH", f"contacts({uuid.uuid4()})", {"jobtitle": "B"}, {"If-Match": "*"}),
        BatchOperation("PATCH", f"contacts({ids[2]})", {"jobtitle": "C"}, {"If-Match": "*"}),
    ]
    results = client.execute_batch(ops, continue_on_error=False)
    assert len(results) == 3
    # Dataverse returns only the failing part: the first operation ran (no part), the third did not.
    assert results[0].ok
    assert results[0].status is None
    assert emu.store.get("contacts", ids[0])["jobtitle"] == "A"
    assert isinstance(results[1].error, NotFoundError)
    assert results[1].content_id == "2"
    assert results[2].status is None
    assert not results[2].ok
    assert emu.store.get("contacts", ids[2])["jobtitle"] != "C"


def test_execute_batch_get_and_create(emu, make_client) -> None:
    client = make_client(emu)
    results = client.execute_batch(
        [
            BatchOperation("POST", "contacts", {"lastname": "Batched"}),
            BatchOperation("GET", "contacts?$select=lastname&$filter=lastname eq 'Batched'"),
        ]
    )
    assert results[0].status == 204
    assert results[0].entity_id
    assert results[1].status == 200
    assert [r["contactid"] for r in results[1].body["value"]] == [results[0].entity_id]


# ------------------------------------------------------------------------------ functions and actions


def test_functions_and_actions(emu, make_client) -> None:
    client = make_client(emu)
    assert client.who_am_i()["UserId"]
    languages = client.call_function("RetrieveProvisionedLanguages")
    assert set(languages["RetrieveProvisionedLanguages"]) >= {1033, 1031}
    assert (
        client.call_action(
            "PublishXml",
            {
                "ParameterXml": (
                    "<importexportxml><entities><entity>contact</entity></entities></importexportxml>"
                )
            },
        )
        is None
    )
    assert emu.publish_log


# ------------------------------------------------------------------------------- concurrency, counting


def test_concurrency_cap_follows_dop_hint(make_emulator, make_client) -> None:
    emu = make_emulator(12, dop_hint=3)
    client = make_client(emu, max_concurrency=8)
    client.who_am_i()  # learn the hint
    assert client.limiter.limit == 3
    emu.faults.add(Fault("slow", delay=0.2, times=None))
    in_server = 0
    peak_server = 0
    lock = threading.Lock()
    original = emu.service.handle

    def tracking_handle(req: Any) -> Any:
        nonlocal in_server, peak_server
        with lock:
            in_server += 1
            peak_server = max(peak_server, in_server)
        try:
            return original(req)
        finally:
            with lock:
                in_server -= 1

    emu.service.handle = tracking_handle
    client.limiter.reset_peak()
    threads = [threading.Thread(target=client.who_am_i) for _ in range(12)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    elapsed = time.monotonic() - started
    assert client.limiter.peak == 3
    assert peak_server <= 3
    assert elapsed >= 0.2 * 12 / 3 * 0.9  # 4 waves of 3


def test_concurrency_never_exceeds_config_max(make_emulator, make_client) -> None:
    emu = make_emulator(12, dop_hint=50)
    client = make_client(emu, max_concurrency=2)
    client.who_am_i()
    assert client.limiter.limit == 2


def test_request_counts_match_emulator_counters(emu, make_client) -> None:
    client = make_client(emu)
    emu.faults.add(Fault("throttle", method="GET", path=r"^contacts$", times=1, retry_after=0))
    ids = contact_ids(emu)
    list(client.iter_rows("contacts", select=["fullname"], page_size=5))
    feed = client.read_changes("contacts", select=["fullname"])
    list(feed)
    new_id = client.create("contacts", {"lastname": "Counted"})
    client.update("contacts", new_id, {"jobtitle": "x"})
    client.delete("contacts", new_id)
    _bulk(client, ids, "Counted")
    client.execute_batch(
        [BatchOperation("PATCH", f"contacts({ids[0]})", {"jobtitle": "y"}, {"If-Match": "*"})]
    )
    client.who_am_i()
    counts = client.request_counts
    assert counts["throttled"] == 1
    assert counts["retries"] == 1
    assert as_emulator_counts(counts) == dict(emu.counters.requests)
    client.reset_counts()
    assert sum(client.request_counts.values()) == 0


def test_build_client_from_config(emu) -> None:
    from functions.config import DataverseConfig
    from functions.dataverse import build_client, clear_token_provider_cache

    clear_token_provider_cache()
    config = DataverseConfig(url=emu.url, auth="local", page_size=5, max_concurrency=3)
    with build_client(config) as client:
        assert client.api_url == emu.api_url
        assert client.limiter.max_concurrency == 3
        assert len(list(client.iter_rows("contacts", select=["fullname"]))) == 12
        assert client.request_counts["read"] == 3
    clear_token_provider_cache()


def test_no_token_in_logs(emu, make_client, caplog: pytest.LogCaptureFixture) -> None:
    provider = CountingTokenProvider()
    client = make_client(emu, token_provider=provider, max_retry_wait=0.05)
    emu.expire_token("token-1")
    emu.faults.add(Fault("throttle", times=2, retry_after=0))
    emu.faults.add(Fault("server_error", status=503, times=1))
    with caplog.at_level("DEBUG"):
        client.who_am_i()
        list(client.iter_rows("contacts", select=["fullname"]))
    assert "retrying" in caplog.text  # the retries were logged at warning...
    assert all(r.levelname == "WARNING" for r in caplog.records if "retrying" in r.getMessage())
    assert "token-1" not in caplog.text  # ...without any token
    assert "token-2" not in caplog.text
    assert "Bearer" not in caplog.text


def test_update_many_with_etags_writes_only_rows_unchanged_since_read(emu, make_client) -> None:
    client = make_client(emu)
    ids = contact_ids(emu)[:3]
    read = {row["contactid"]: row["@odata.etag"] for row in client.iter_rows("contacts", select=["jobtitle"])}
    emu.store.update("contacts", ids[1], {"jobtitle": "changed by a person meanwhile"})
    records = [{"contactid": cid, "jobtitle": "ours"} for cid in ids]

    results = client.update_many(
        "contacts", records, logical_name="contact", primary_key="contactid",
        etags={cid: read[cid] for cid in ids},
    )

    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, PreconditionFailedError)
    assert emu.store.get("contacts", ids[1])["jobtitle"] == "changed by a person meanwhile"
    assert emu.store.get("contacts", ids[0])["jobtitle"] == "ours"
    # UpdateMultiple has no per-record condition: guarded writes go through one $batch.
    assert client.request_counts["batch"] == 1
    assert client.request_counts["bulk"] == 0
