"""Pure helpers: error mapping, Retry-After, OData literals, counters."""

from __future__ import annotations

import pickle
import uuid
from email.utils import formatdate

import pytest

from functions.dataverse import errors, odata_guid, odata_string, validate_guid
from functions.dataverse.counters import RequestCounters
from functions.dataverse.errors import error_from_response, parse_error_body, parse_retry_after


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.BadRequestError),
        (401, errors.AuthenticationError),
        (403, errors.ForbiddenError),
        (404, errors.NotFoundError),
        (412, errors.PreconditionFailedError),
        (413, errors.PayloadTooLargeError),
        (429, errors.ThrottledError),
        (500, errors.ServerError),
        (502, errors.ServerError),
        (503, errors.ServerError),
        (504, errors.ServerError),
        (405, errors.DataverseError),
    ],
)
def test_status_maps_to_type(status: int, cls: type[errors.DataverseError]) -> None:
    exc = error_from_response(status, b'{"error":{"code":"0x1","message":"m"}}', {})
    assert type(exc) is cls
    assert (exc.status, exc.code, exc.message) == (status, "0x1", "m")
    assert isinstance(exc, errors.DataverseError)


def test_throttle_carries_retry_after_from_headers_case_insensitively() -> None:
    body = '{"error":{"code":"0x80072322","message":"Number of requests exceeded the limit of 6000"}}'
    exc = error_from_response(429, body, {"retry-after": "7"})
    assert isinstance(exc, errors.ThrottledError)
    assert exc.retry_after == 7.0
    assert exc.code == "0x80072322"


@pytest.mark.parametrize("status", [400, 404, 410, 500])
def test_expired_version_stamp_wins_over_status(status: int) -> None:
    body = {
        "error": {"code": "0x80044352", "message": "Version stamp associated with the client has expired."}
    }
    exc = error_from_response(status, body)
    assert isinstance(exc, errors.ExpiredDeltaTokenError)
    assert exc.status == status


def test_expired_version_stamp_decimal_and_upper_case() -> None:
    assert isinstance(
        error_from_response(400, {"error": {"code": "0X80044352"}}), errors.ExpiredDeltaTokenError
    )
    assert isinstance(
        error_from_response(400, {"error": {"code": "-2147204270"}}), errors.ExpiredDeltaTokenError
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", ("", "")),
        (None, ("", "")),
        (b"<html><body>502 Bad Gateway</body></html>", ("", "<html><body>502 Bad Gateway</body></html>")),
        (
            '{"error":{"code":"","message":"account With Id = 1 Does Not Exist"}}',
            ("", "account With Id = 1 Does Not Exist"),
        ),
        ('{"code":"X","message":"bare"}', ("X", "bare")),
        ('{"error":"text"}', ("", "text")),
        ("[1,2]", ("", "[1, 2]")),
        (
            '{"error":{"code":"0x80040265","@Microsoft.PowerApps.CDS.InnerError.Message":"inner"}}',
            ("0x80040265", "inner"),
        ),
    ],
)
def test_parse_error_body_tolerates_anything(body: object, expected: tuple[str, str]) -> None:
    assert parse_error_body(body) == expected  # type: ignore[arg-type]


def test_non_json_body_gets_reason_phrase_when_empty() -> None:
    exc = error_from_response(503, b"")
    assert isinstance(exc, errors.ServerError)
    assert exc.message == "Service Unavailable"
    assert str(exc) == "HTTP 503: Service Unavailable"


def test_long_messages_are_shortened() -> None:
    exc = error_from_response(500, "x" * 10_000)
    assert len(exc.message) <= 500


def test_errors_pickle() -> None:
    exc = errors.ThrottledError(429, "0x80072322", "slow down", retry_after=3.0)
    clone = pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own object
    assert type(clone) is errors.ThrottledError
    assert repr(clone) == repr(exc)
    conn = errors.ConnectionFailedError(None, "X", "dropped", sent=False)
    assert conn.sent is False
    assert conn.status is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", 1.0),
        (" 2.5 ", 2.5),
        ("0", 0.0),
        ("-3", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
    ],
)
def test_parse_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30.0)
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now=now) == 0.0


@pytest.mark.parametrize("zone", ["", " -0000", " GMT"])
def test_parse_retry_after_http_date_without_zone_is_utc_whatever_the_local_zone(
    monkeypatch: pytest.MonkeyPatch, zone: str
) -> None:
    import time

    monkeypatch.setenv("TZ", "America/New_York")  # a local zone 4-5 hours off UTC
    time.tzset()
    try:
        # 21 Oct 2015 07:28:00 UTC == 1445412480
        assert parse_retry_after("Wed, 21 Oct 2015 07:28:00" + zone, now=1445412480 - 30) == 30.0
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    ("raw", "literal"),
    [
        ("O'Brien", "'O''Brien'"),
        ("", "''"),
        ("''", "''''''"),
        ("a&b eq 'c'", "'a&b eq ''c'''"),
        ("Zoë", "'Zoë'"),
    ],
)
def test_odata_string(raw: str, literal: str) -> None:
    assert odata_string(raw) == literal


def test_odata_string_refuses_non_str() -> None:
    with pytest.raises(TypeError):
        odata_string(None)  # type: ignore[arg-type]


def test_guid_validation() -> None:
    guid = uuid.uuid4()
    assert validate_guid(str(guid).upper()) == str(guid)
    assert validate_guid("{" + str(guid) + "}") == str(guid)
    assert validate_guid(guid) == str(guid)
    assert odata_guid(str(guid)) == str(guid)
    for bad in ["", "x", str(guid)[:-1], guid.hex, f"{guid}) or (1 eq 1", f"urn:uuid:{guid}", 5]:
        with pytest.raises(ValueError, match="GUID"):
            validate_guid(bad)  # type: ignore[arg-type]


def test_counters_snapshot_and_reset() -> None:
    counters = RequestCounters()
    counters.add("read")
    counters.add("read")
    counters.add("retries")
    snap = counters.snapshot()
    assert snap["read"] == 2
    assert snap["retries"] == 1
    assert snap["batch"] == 0
    assert counters.total_requests() == 2
    counters.reset()
    assert counters.snapshot()["read"] == 0
