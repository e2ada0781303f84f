"""Multipart $batch encode/decode against the documentation's verbatim examples."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from functions.dataverse import BadRequestError, BatchOperation, ExpiredDeltaTokenError, NotFoundError
from functions.dataverse.batch import decode_batch_response, encode_batch, parse_boundary

# Verbatim from execute-batch-operations-using-web-api (docs/reference/dataverse-webapi.md §4.1),
# including its two blank lines after OData-EntityId and the non-JSON "[ ... ]" body.
DOC_RESPONSE = """--batchresponse_f27ef42d-51b0-4685-bac9-f468f844de2f
Content-Type: multipart/mixed; boundary=changesetresponse_64cc3fff-023a-45b0-b29d-df21583ffa15

--changesetresponse_64cc3fff-023a-45b0-b29d-df21583ffa15
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 1

HTTP/1.1 204 No Content
OData-Version: 4.0
Location: [Organization Uri]/api/data/v9.2/tasks(e73ffc82-e292-ed11-aad1-000d3a9933c9)
OData-EntityId: [Organization Uri]/api/data/v9.2/tasks(e73ffc82-e292-ed11-aad1-000d3a9933c9)


--changesetresponse_64cc3fff-023a-45b0-b29d-df21583ffa15--
--batchresponse_f27ef42d-51b0-4685-bac9-f468f844de2f
Content-Type: application/http
Content-Transfer-Encoding: binary

HTTP/1.1 200 OK
Content-Type: application/json; odata.metadata=minimal; odata.streaming=true
OData-Version: 4.0

{ "@odata.context": "...$metadata#tasks(subject)", "value": [ ... ] }
--batchresponse_f27ef42d-51b0-4685-bac9-f468f844de2f--
""".replace("\n", "\r\n")
DOC_CONTENT_TYPE = "multipart/mixed; boundary=batchresponse_f27ef42d-51b0-4685-bac9-f468f844de2f"

# Verbatim error part from the same page, in a continue-on-error response.
DOC_ERROR_JSON = (
    '{"error":{"code":"0x80044331","message":"A validation error occurred.  The length of the '
    "'subject' attribute of the 'task' entity exceeded the maximum allowed length of '200'.\"}}"
)
DOC_ERROR_RESPONSE = """--batchresponse_1
Content-Type: application/http
Content-Transfer-Encoding: binary

HTTP/1.1 400 Bad Request
REQ_ID: 5ecd1cb3-1730-4ffc-909c-d44c22270026
Content-Type: application/json; odata.metadata=minimal
OData-Version: 4.0

{error_json}
--batchresponse_1
Content-Type: application/http
Content-Transfer-Encoding: binary

HTTP/1.1 204 No Content
OData-Version: 4.0


--batchresponse_1--
""".replace("\n", "\r\n").replace("{error_json}", DOC_ERROR_JSON)


def test_doc_example_with_changeset_is_flattened_in_order() -> None:
    results = decode_batch_response(DOC_CONTENT_TYPE, DOC_RESPONSE.encode())
    assert [r.status for r in results] == [204, 200]
    created, listed = results
    assert created.ok
    assert created.entity_id == "e73ffc82-e292-ed11-aad1-000d3a9933c9"
    assert created.body is None
    assert created.headers["Content-ID" if "Content-ID" in created.headers else "OData-Version"]
    assert listed.ok
    # The doc body "[ ... ]" is not JSON: kept as text instead of failing the whole batch.
    assert listed.body.startswith('{ "@odata.context"')


def test_doc_error_part_becomes_typed_error_and_rest_succeeds() -> None:
    results = decode_batch_response("multipart/mixed; boundary=batchresponse_1", DOC_ERROR_RESPONSE)
    assert [r.status for r in results] == [400, 204]
    assert isinstance(results[0].error, BadRequestError)
    assert results[0].error.code == "0x80044331"
    assert "maximum allowed length" in results[0].error.message
    assert not results[0].ok
    assert results[1].ok
    assert results[1].error is None


def test_lf_only_and_quoted_boundary_and_json_body() -> None:
    text = (
        "--b\nContent-Type: application/http\n\nHTTP/1.1 404 Not Found\nContent-Type: application/json\n\n"
        '{"error":{"code":"0x80040217","message":"contact With Id = x Does Not Exist"}}\n'
        "--b\nContent-Type: application/http\n\nHTTP/1.1 400 Bad Request\n\n"
        '{"error":{"code":"0x80044352","message":"Version stamp expired"}}\n'
        '--b\nContent-Type: application/http\n\nHTTP/1.1 200 OK\n\n{"value":[{"a":1}]}\n--b--\n'
    )
    results = decode_batch_response('multipart/mixed; boundary="b"', text)
    assert isinstance(results[0].error, NotFoundError)
    assert isinstance(results[1].error, ExpiredDeltaTokenError)
    assert results[2].body == {"value": [{"a": 1}]}


def test_non_multipart_response_is_an_error() -> None:
    with pytest.raises(Exception, match="not multipart"):
        decode_batch_response("application/json", b"{}")


def test_parse_boundary_variants() -> None:
    assert parse_boundary('multipart/mixed; boundary="batch_1"') == "batch_1"
    assert parse_boundary("multipart/mixed;boundary=batchresponse_x") == "batchresponse_x"
    assert parse_boundary("application/json") is None


def test_encode_matches_doc_layout() -> None:
    ops = [
        BatchOperation(
            "PATCH", "contacts(00000000-0000-0000-0000-000000000001)", {"firstname": "Zoë"}, {"If-Match": "*"}
        ),
        BatchOperation("GET", "accounts?$select=name"),
    ]
    body, content_type = encode_batch(ops, api_path="/api/data/v9.2/", boundary="batch_abc")
    assert content_type == 'multipart/mixed; boundary="batch_abc"'
    text = body.decode("utf-8")
    assert "\r\n" in text
    assert "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")
    assert lines[0] == "--batch_abc"
    assert lines[1] == "Content-Type: application/http"
    assert lines[2] == "Content-Transfer-Encoding: binary"
    assert lines[3] == "Content-ID: 1"
    assert lines[4] == ""
    assert lines[5] == "PATCH /api/data/v9.2/contacts(00000000-0000-0000-0000-000000000001) HTTP/1.1"
    assert "Content-ID: 2" in lines
    assert "If-Match: *" in lines
    assert "Content-Type: application/json; type=entry" in lines
    assert json.loads(lines[lines.index("Content-Type: application/json; type=entry") + 2]) == {
        "firstname": "Zoë"
    }
    assert "GET /api/data/v9.2/accounts?$select=name HTTP/1.1" in lines
    assert text.endswith("--batch_abc--\r\n")


def test_encode_then_decode_roundtrip_of_request_parts() -> None:
    # The request encoding is a valid multipart document too: the decoder must find both parts' lines.
    ops = [BatchOperation("DELETE", f"contacts(00000000-0000-0000-0000-00000000000{i})") for i in range(3)]
    body, content_type = encode_batch(ops, api_path="/api/data/v9.2/")
    assert body.decode().count("DELETE /api/data/v9.2/contacts(") == 3
    assert parse_boundary(content_type).startswith("batch_")


def test_encode_escapes_spaces_in_the_request_line() -> None:
    ops = [BatchOperation("GET", "contacts?$select=lastname&$filter=lastname eq 'O''Brien'")]
    body, _ = encode_batch(ops, api_path="/api/data/v9.2/", boundary="b")
    assert (
        "GET /api/data/v9.2/contacts?$select=lastname&$filter=lastname%20eq%20'O''Brien' HTTP/1.1"
        in body.decode()
    )


def test_content_id_is_read_from_the_mime_part() -> None:
    results = decode_batch_response(DOC_CONTENT_TYPE, DOC_RESPONSE)
    assert results[0].content_id == "1"
    assert results[1].content_id is None


def test_parts_matched_to_operations() -> None:
    from functions.dataverse.batch import BatchResult
    from functions.dataverse.client import _match_batch_parts

    failed = BatchResult(404, {}, None, NotFoundError(404, "", "gone"), "2")
    # Stopped batch (no continue-on-error): only the failing part comes back.
    results = _match_batch_parts(3, [failed], continue_on_error=False)
    assert [r.ok for r in results] == [True, False, False]
    assert results[1] is failed
    assert "not executed" in results[2].error.message
    # No Content-IDs but one part per operation: by position.
    plain = [BatchResult(204, {}, None), BatchResult(204, {}, None)]
    assert _match_batch_parts(2, plain, continue_on_error=True) == plain
    # No Content-IDs and fewer parts: unknown, never guessed.
    for continue_on_error in (True, False):
        only = [replace(failed, content_id=None)]
        unknown = _match_batch_parts(3, only, continue_on_error=continue_on_error)
        assert all(not r.ok and "outcome unknown" in r.error.message for r in unknown)


def test_missing_part_under_continue_on_error_is_unknown_not_applied() -> None:
    from functions.dataverse.batch import BatchResult
    from functions.dataverse.client import _match_batch_parts

    ok2 = BatchResult(204, {}, None, None, "2")
    bad3 = BatchResult(400, {}, None, NotFoundError(400, "", "bad"), "3")
    results = _match_batch_parts(3, [ok2, bad3], continue_on_error=True)
    assert [r.ok for r in results] == [False, True, False]
    assert "outcome unknown" in results[0].error.message
    assert results[0].status is None
    # Without continue-on-error and no failing part, a missing part is not assumed applied either.
    results = _match_batch_parts(3, [ok2, replace(bad3, status=204, error=None)], continue_on_error=False)
    assert [r.ok for r in results] == [False, True, True]


def test_foreign_content_ids_match_by_position_only_with_one_part_per_operation() -> None:
    from functions.dataverse.batch import BatchResult
    from functions.dataverse.client import _match_batch_parts

    parts = [
        BatchResult(204, {}, None, None, "a"),
        BatchResult(400, {}, None, NotFoundError(400, "", "bad"), "b"),
        BatchResult(204, {}, None, None, "c"),
    ]
    assert [r.ok for r in _match_batch_parts(3, parts, continue_on_error=True)] == [True, False, True]
    # Foreign ids and fewer parts than operations: every outcome unknown.
    fewer = _match_batch_parts(3, parts[:2], continue_on_error=True)
    assert all(not r.ok and "outcome unknown" in r.error.message for r in fewer)
    # Duplicate numbered ids do not identify the parts either.
    dup = [replace(parts[0], content_id="1"), replace(parts[2], content_id="1")]
    assert all(not r.ok for r in _match_batch_parts(3, dup, continue_on_error=False))
