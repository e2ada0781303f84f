"""Client wire behaviour against a scripted loopback stub (headers, cookies, links, retries on POST)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator

import pytest

from functions.dataverse import (
    AuthenticationError,
    ConnectionFailedError,
    DataverseClient,
    DataverseError,
    NotFoundError,
    StaticTokenProvider,
    ThrottledError,
)

from .stub_server import Reply, Seen, StubServer

GUID = "49b0be2e-d01c-ed11-b83e-000d3a572421"


@pytest.fixture
def stub() -> Iterator[Callable[[Callable[[Seen], Reply]], StubServer]]:
    servers: list[StubServer] = []

    def make(handler: Callable[[Seen], Reply]) -> StubServer:
        servers.append(StubServer(handler))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def _client(server: StubServer, **kwargs: object) -> DataverseClient:
    options: dict[str, object] = {"timeout": 5, "max_retries": 3, "max_retry_wait": 2}
    options.update(kwargs)
    return DataverseClient(server.api_url, StaticTokenProvider("tok-1"), **options)  # type: ignore[arg-type]


def test_read_headers_prefer_and_unchanged_next_link(stub) -> None:
    def handler(seen: Seen) -> Reply:
        if "skiptoken" not in seen.path:
            next_link = (
                server.api_url + "contacts?$select=fullname&$skiptoken=%3Ccookie%20pagenumber=%222%22%20/%3E"
            )
            return Reply(
                body=json.dumps({"value": [{"contactid": "1"}], "@odata.nextLink": next_link}),
                headers={"Set-Cookie": "ARRAffinity=abc; Path=/"},
            )
        return Reply(body=json.dumps({"value": [{"contactid": "2"}]}))

    server = stub(handler)
    with _client(server) as client:
        rows = list(
            client.iter_rows(
                "contacts",
                select=["fullname", "emailaddress1"],
                filter="lastname eq 'O''Brien'",
                page_size=1,
                annotations="*",
            )
        )
    assert [r["contactid"] for r in rows] == ["1", "2"]
    first, second = server.requests
    assert first.path == (
        "/api/data/v9.2/contacts?$select=fullname,emailaddress1&$filter=lastname%20eq%20'O''Brien'"
    )
    # nextLink followed byte for byte, nothing appended.
    assert (
        second.path
        == "/api/data/v9.2/contacts?$select=fullname&$skiptoken=%3Ccookie%20pagenumber=%222%22%20/%3E"
    )
    for seen in (first, second):
        assert seen.headers["accept"] == "application/json"
        assert seen.headers["odata-maxversion"] == "4.0"
        assert seen.headers["odata-version"] == "4.0"
        assert seen.headers["if-none-match"] == "null"
        assert seen.headers["authorization"] == "Bearer tok-1"
        assert seen.headers["prefer"] == 'odata.maxpagesize=1, odata.include-annotations="*"'
        assert "content-type" not in seen.headers
    assert "cookie" not in second.headers  # ARRAffinity refused: parallel requests may hit any server


def test_next_link_to_another_origin_is_refused(stub) -> None:
    server = stub(
        lambda seen: Reply(
            body=json.dumps(
                {"value": [], "@odata.nextLink": "https://evil.example/api/data/v9.2/contacts?$skiptoken=1"}
            )
        )
    )
    with _client(server) as client, pytest.raises(DataverseError, match="another origin"):
        list(client.iter_pages("contacts", select="fullname"))
    assert len(server.requests) == 1


def test_argument_validation_happens_before_any_request(stub) -> None:
    server = stub(lambda seen: Reply(body="{}"))
    client = _client(server)
    with pytest.raises(ValueError, match="page_size"):
        client.iter_pages("contacts", select="fullname", page_size=5001)
    with pytest.raises(ValueError, match="select"):
        client.iter_rows("contacts", select=[])
    with pytest.raises(ValueError, match="column"):
        client.iter_rows("contacts", select="fullname&$expand=x")
    for option in ({"filter": "a eq 1"}, {"order_by": "a"}, {"expand": "x"}, {"top": 5}):
        with pytest.raises(ValueError, match="change tracking"):
            client.read_changes("contacts", select="fullname", **option)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="GUID"):
        client.update("contacts", "1) or (1", {"a": 1})
    with pytest.raises(ValueError, match="page_size"):
        DataverseClient(server.api_url, StaticTokenProvider(), page_size=0)
    assert server.requests == []


def test_patch_headers_and_if_match(stub) -> None:
    server = stub(lambda seen: Reply(status=204))
    with _client(server) as client:
        client.update("contacts", GUID.upper(), {"firstname": "Zoë"})
        client.update("contacts", GUID, {"firstname": "x"}, if_match=None)
    patch, upsert = server.requests
    assert patch.method == "PATCH"
    assert patch.path == f"/api/data/v9.2/contacts({GUID})"
    assert patch.headers["if-match"] == "*"
    assert patch.headers["content-type"] == "application/json; charset=utf-8"
    assert "if-none-match" not in patch.headers
    assert json.loads(patch.body.decode("utf-8")) == {"firstname": "Zoë"}
    assert "if-match" not in upsert.headers


def test_create_returns_id_and_sends_solution_header(stub) -> None:
    server = stub(
        lambda seen: Reply(
            status=204,
            headers={
                "OData-EntityId": f"{server.api_url}EntityDefinitions(LogicalName='contact')"
                f"/Attributes({GUID})"
            },
        )
    )
    with _client(server) as client:
        new_id = client.create(
            "EntityDefinitions(LogicalName='contact')/Attributes",
            {"SchemaName": "x"},
            solution="DataValidation",
        )
    assert new_id == GUID
    assert server.requests[0].headers["mscrm.solutionuniquename"] == "DataValidation"
    assert client.request_counts["create"] == 1


def test_create_is_not_repeated_after_a_dropped_connection(stub) -> None:
    server = stub(lambda seen: Reply(drop=True))
    with _client(server) as client, pytest.raises(ConnectionFailedError):
        client.create("contacts", {"lastname": "x"})
    assert len(server.requests) == 1  # a repeat could create a duplicate


def test_create_is_retried_on_429(stub) -> None:
    replies = iter(
        [
            Reply(status=429, headers={"Retry-After": "0"}, body='{"error":{"code":"0x80072322"}}'),
            Reply(status=204, headers={"OData-EntityId": f"http://x/api/data/v9.2/contacts({GUID})"}),
        ]
    )
    server = stub(lambda seen: next(replies))
    with _client(server) as client:
        assert client.create("contacts", {"lastname": "x"}) == GUID
        counts = client.request_counts
    assert counts["create"] == 2
    assert counts["retries"] == 1
    assert counts["throttled"] == 1


def test_read_timeout_becomes_connection_failed(stub) -> None:
    server = stub(lambda seen: Reply(delay=1.0, body="{}"))
    client = _client(server, timeout=0.2, max_retries=1, max_retry_wait=0.05)
    with pytest.raises(ConnectionFailedError):
        client.get_json("WhoAmI")
    assert client.request_counts["read"] == 2
    assert client.request_counts["retries"] == 1


def test_connection_refused_is_connection_failed_not_sent() -> None:
    client = DataverseClient("http://127.0.0.1:9/api/data/v9.2/", StaticTokenProvider(), max_retries=0)
    with pytest.raises(ConnectionFailedError) as info:
        client.who_am_i()
    assert info.value.sent is False
    assert info.value.status is None


def test_401_refreshes_once_per_attempt_then_raises(stub) -> None:
    server = stub(
        lambda seen: Reply(status=401, body='{"error":{"code":"0x80072243","message":"ExpiredAuthTicket"}}')
    )
    provider = StaticTokenProvider("old", refreshed_token="new")
    client = DataverseClient(server.api_url, provider, max_retries=0)
    with pytest.raises(AuthenticationError) as info:
        client.get_json("contacts?$select=fullname")
    assert info.value.status == 401
    assert info.value.message == "ExpiredAuthTicket"
    assert [s.headers["authorization"] for s in server.requests] == ["Bearer old", "Bearer new"]
    assert client.request_counts["token_refreshes"] == 1
    assert client.request_counts["retries"] == 0
    # a read is retried within the budget (retries=1: one more attempt, refreshing again), then raises
    retrying = DataverseClient(server.api_url, StaticTokenProvider("old", refreshed_token="new"),
                               max_retries=1, max_retry_wait=0.05)
    with pytest.raises(AuthenticationError):
        retrying.get_json("contacts?$select=fullname")
    assert retrying.request_counts["retries"] == 1


def test_non_json_error_and_success_bodies(stub) -> None:
    replies = iter(
        [
            Reply(status=404, body="<html>Not here</html>", headers={"Content-Type": "text/html"}),
            Reply(status=200, body="not json"),
        ]
    )
    server = stub(lambda seen: next(replies))
    client = _client(server)
    with pytest.raises(NotFoundError, match="Not here"):
        client.get_json("contacts(1)")
    with pytest.raises(DataverseError, match="not JSON"):
        client.get_json("contacts(2)")


def test_dop_hint_lowers_the_cap(stub) -> None:
    server = stub(lambda seen: Reply(body="{}", headers={"x-ms-dop-hint": "3"}))
    client = _client(server, max_concurrency=8)
    client.who_am_i()
    assert client.limiter.limit == 3
    server.handler = lambda seen: Reply(body="{}", headers={"x-ms-dop-hint": "50"})
    client.who_am_i()
    assert client.limiter.limit == 8


def test_throttle_exhausted_raises_throttled_with_retry_after(stub) -> None:
    server = stub(lambda seen: Reply(status=429, headers={"Retry-After": "0.1"}, body="{}"))
    client = _client(server, max_retries=2)
    started = time.monotonic()
    with pytest.raises(ThrottledError) as info:
        client.get_json("contacts")
    assert time.monotonic() - started >= 0.2
    assert info.value.retry_after == pytest.approx(0.1)
    assert len(server.requests) == 3


def test_supports_message_query_and_forbidden_means_unsupported(stub) -> None:
    server = stub(lambda seen: Reply(status=403, body='{"error":{"code":"0x80040220","message":"no read"}}'))
    client = _client(server)
    assert client.supports_message("contact", "UpdateMultiple") is False
    assert client.supports_message("contact", "UpdateMultiple") is False  # cached
    assert len(server.requests) == 1
    assert server.requests[0].path == (
        "/api/data/v9.2/sdkmessagefilters?$select=sdkmessagefilterid"
        "&$filter=sdkmessageid/name%20eq%20'UpdateMultiple'%20and%20primaryobjecttypecode%20eq%20'contact'"
    )
    assert client.request_counts["metadata"] == 1


def test_update_many_validates_input_before_sending(stub) -> None:
    server = stub(lambda seen: Reply(body='{"value":[]}'))
    client = _client(server)
    assert client.update_many("contacts", [], logical_name="contact", primary_key="contactid") == []
    with pytest.raises(ValueError, match="contactid"):
        client.update_many("contacts", [{"jobtitle": "x"}], logical_name="contact", primary_key="contactid")
    # A bad GUID fails that record only (nothing to send here, so no request at all).
    (result,) = client.update_many(
        "contacts", [{"contactid": "nope"}], logical_name="contact", primary_key="contactid"
    )
    assert (result.id, result.ok) == ("nope", False)
    assert isinstance(result.error, DataverseError)
    with pytest.raises(ValueError, match="chunk_size"):
        client.update_many("contacts", [], logical_name="contact", primary_key="contactid", chunk_size=1001)
    assert server.requests == []


def test_update_multiple_payload_shape(stub) -> None:
    server = stub(lambda seen: Reply(status=204))
    client = _client(server)
    results = client.update_many(
        "contacts",
        [{"contactid": GUID, "dval_nolongeratcompany": 410200001}],
        logical_name="contact",
        primary_key="contactid",
        use_bulk=True,
    )
    assert results[0].ok
    (seen,) = server.requests
    assert seen.method == "POST"
    assert seen.path == "/api/data/v9.2/contacts/Microsoft.Dynamics.CRM.UpdateMultiple"
    assert json.loads(seen.body) == {
        "Targets": [
            {
                "dval_nolongeratcompany": 410200001,
                "@odata.type": "Microsoft.Dynamics.CRM.contact",
                "contactid": GUID,
            }
        ]
    }
    assert seen.headers["content-type"] == "application/json; charset=utf-8"


def test_call_function_with_parameters_uses_aliases(stub) -> None:
    server = stub(lambda seen: Reply(body='{"Label": {}}'))
    client = _client(server)
    client.call_function("RetrieveLocLabels", {"AttributeName": "name's", "IncludeUnpublished": True})
    assert server.requests[0].path == (
        "/api/data/v9.2/RetrieveLocLabels(AttributeName=@AttributeName,IncludeUnpublished=@IncludeUnpublished)"
        "?@AttributeName='name''s'&@IncludeUnpublished=true"
    )
    assert client.request_counts["function"] == 1


def test_lower_case_escapes_in_links_are_only_upper_cased(stub) -> None:
    # urllib3 upper-cases percent-escape hex digits in every request target and cannot be told not to
    # (documented in client.py and docs/dataverse-client.md). Everything else must stay byte for byte.
    delta = "919042%2108%2f22%2f2017%2008%3a10%3a44"
    skip = "%3Ccookie%20pagenumber=%222%22%20pagingcookie=%22%253ccookie%2520page%253d%25221%2522%22%20/%3E"

    def handler(seen: Seen) -> Reply:
        if "skiptoken" in seen.path:
            link = {"@odata.deltaLink": f"{server.api_url}contacts?$deltatoken={delta}"}
        else:
            link = {"@odata.nextLink": f"{server.api_url}contacts?$skiptoken={skip}"}
        return Reply(body=json.dumps({"value": [], **link}))

    server = stub(handler)
    client = _client(server)
    feed = client.read_changes("contacts", select="fullname")
    assert list(feed) == []
    assert feed.delta_link == f"{server.api_url}contacts?$deltatoken={delta}"  # stored exactly as received
    assert list(client.read_changes("contacts", select="fullname", delta_link=feed.delta_link)) == []
    sent = [seen.path for seen in server.requests]
    assert sent[1] == "/api/data/v9.2/contacts?$skiptoken=" + skip  # already upper-case: unchanged
    upper = re.sub(r"%[0-9a-f]{2}", lambda m: m.group(0).upper(), delta)
    assert sent[2] == "/api/data/v9.2/contacts?$deltatoken=" + upper
    assert sent[2].lower() == ("/api/data/v9.2/contacts?$deltatoken=" + delta).lower()


def test_redirect_is_an_error_and_not_followed(stub) -> None:
    def handler(seen: Seen) -> Reply:
        if "skiptoken" in seen.path:
            return Reply(status=302, headers={"Location": "https://login.microsoftonline.com/x"}, body="")
        link = server.api_url + "contacts?$select=fullname&$skiptoken=x"
        return Reply(body=json.dumps({"value": [{"contactid": GUID}], "@odata.nextLink": link}))

    server = stub(handler)
    client = _client(server)
    with pytest.raises(DataverseError) as info:
        list(client.iter_rows("contacts", select="fullname"))
    assert info.value.status == 302
    assert "login.microsoftonline.com" in info.value.message
    assert len(server.requests) == 2
    assert client.request_counts["retries"] == 0


def test_change_feed_without_delta_link_on_the_last_page_raises(stub) -> None:
    server = stub(lambda seen: Reply(body=json.dumps({"value": [{"contactid": GUID}]})))
    feed = _client(server).read_changes("contacts", select="fullname")
    with pytest.raises(DataverseError, match="deltaLink"):
        list(feed)
    assert feed.delta_link is None


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "null", '{"@odata.context": "x"}', ""])
def test_page_that_is_not_a_json_object_with_value_raises_typed_error(stub, body: str) -> None:
    server = stub(lambda seen: Reply(body=body))
    client = _client(server)
    with pytest.raises(DataverseError):
        list(client.iter_rows("contacts", select="fullname"))
    with pytest.raises(DataverseError):
        list(client.read_changes("contacts", select="fullname"))


def test_unexpected_304_is_an_error(stub) -> None:
    server = stub(lambda seen: Reply(status=304))
    with pytest.raises(DataverseError) as info:
        _client(server).get_json("WhoAmI")
    assert info.value.status == 304


def test_request_building_errors_become_dataverse_errors(stub) -> None:
    server = stub(lambda seen: Reply(body="{}"))
    client = _client(server)
    with pytest.raises(DataverseError) as info:
        client.get_json("WhoAmI", headers={"Consistency": "Strong\r\nX-Injected: 1"})
    assert info.value.code == "InvalidHeader"  # requests.exceptions.InvalidHeader, not a bare exception
    assert info.value.status is None
    assert server.requests == []
    assert client.request_counts["retries"] == 0


def _batch_reply(*parts: tuple[str | None, int]) -> Reply:
    chunks = []
    for cid, status in parts:
        head = "--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        head += f"Content-ID: {cid}\r\n" if cid else ""
        body = '{"error":{"code":"0x1","message":"bad"}}' if status >= 400 else ""
        chunks.append(f"{head}\r\nHTTP/1.1 {status} X\r\nOData-Version: 4.0\r\n\r\n{body}\r\n")
    return Reply(body="".join(chunks) + "--b--\r\n", headers={"Content-Type": "multipart/mixed; boundary=b"})


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([("2", 204), ("3", 400)], [False, True, False]),  # part 1 missing under continue-on-error
        ([("a", 204), ("b", 400), ("c", 204)], [True, False, True]),  # foreign ids, one part each
        ([("a", 204), ("b", 204)], [False, False, False]),  # foreign ids, a part missing: unknown
    ],
)
def test_update_many_batch_never_reports_an_unanswered_record_as_written(stub, parts, expected) -> None:
    server = stub(lambda seen: _batch_reply(*parts))
    ids = [f"{GUID[:-1]}{n}" for n in range(1, 4)]
    results = _client(server).update_many(
        "contacts",
        [{"contactid": i, "jobtitle": "x"} for i in ids],
        logical_name="contact",
        primary_key="contactid",
        use_bulk=False,
    )
    assert [r.ok for r in results] == expected
    unanswered = [r for r in results if not r.ok and r.error.status is None]
    assert all("outcome unknown" in r.error.message for r in unanswered)
    assert server.requests[0].headers["prefer"] == "odata.continue-on-error"
