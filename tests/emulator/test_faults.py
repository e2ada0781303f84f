"""Fault injection, auth and the request/operation counters."""

from __future__ import annotations

import time

import pytest
import requests

from dataverse_emulator import Emulator, Fault


def test_throttle_returns_429_with_retry_after(emu: Emulator, http: requests.Session) -> None:
    emu.faults.add(Fault("throttle", retry_after=7))
    r = http.get(emu.api_url + "contacts")
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "7"
    assert r.json()["error"]["code"] == "0x80072322"
    assert http.get(emu.api_url + "contacts").status_code == 200  # times=1 by default


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_error(emu: Emulator, http: requests.Session, status: int) -> None:
    emu.faults.add(Fault("server_error", status=status))
    assert http.get(emu.api_url + "contacts").status_code == status


def test_slow(emu: Emulator, http: requests.Session) -> None:
    emu.faults.add(Fault("slow", delay=0.3))
    start = time.monotonic()
    assert http.get(emu.api_url + "contacts").status_code == 200
    assert time.monotonic() - start >= 0.3


def test_drop_closes_the_connection(emu: Emulator, http: requests.Session) -> None:
    emu.faults.add(Fault("drop"))
    with pytest.raises(requests.ConnectionError):
        http.get(emu.api_url + "contacts")
    assert http.get(emu.api_url + "contacts").status_code == 200


def test_unauthorized_fault_and_auth(emu: Emulator, http: requests.Session) -> None:
    emu.faults.add(Fault("unauthorized"))
    assert http.get(emu.api_url + "contacts").status_code == 401
    assert http.get(emu.api_url + "contacts").status_code == 200
    r = requests.get(emu.api_url + "contacts", timeout=10)
    assert r.status_code == 401
    assert r.json()["error"]["message"]
    assert (
        requests.get(emu.api_url + "contacts", headers={"Authorization": "Bearer "}, timeout=10).status_code
        == 401
    )


def test_expire_token_only_affects_that_token(emu: Emulator) -> None:
    emu.expire_token("old")
    r = requests.get(emu.api_url + "contacts", headers={"Authorization": "Bearer old"}, timeout=10)
    assert r.status_code == 401
    assert "ExpiredAuthTicket" in r.json()["error"]["message"]
    assert (
        requests.get(
            emu.api_url + "contacts", headers={"Authorization": "Bearer new"}, timeout=10
        ).status_code
        == 200
    )


def test_after_times_method_and_path(emu: Emulator, http: requests.Session) -> None:
    emu.faults.add(Fault("throttle", method="PATCH", path=r"^contacts\(", times=2, after=1))
    record = emu.store.insert("contacts", {"lastname": "x"})
    assert http.get(emu.api_url + f"contacts({record})").status_code == 200  # wrong method
    statuses = [
        http.patch(emu.api_url + f"contacts({record})", json={"lastname": "y"}).status_code for _ in range(4)
    ]
    assert statuses == [204, 429, 429, 204]


def test_forever_and_rate_are_deterministic(emulator_factory) -> None:
    def run() -> list[int]:
        emu = emulator_factory(None, fault_seed=3)
        emu.faults.add(Fault("server_error", times=None, rate=0.5))
        session = requests.Session()
        session.headers["Authorization"] = "Bearer t"
        return [session.get(emu.api_url + "WhoAmI").status_code for _ in range(20)]

    first, second = run(), run()
    assert first == second
    assert 0 < first.count(503) < 20


def test_fail_record(emu: Emulator, http: requests.Session) -> None:
    a = emu.store.insert("contacts", {"lastname": "a"})
    b = emu.store.insert("contacts", {"lastname": "b"})
    emu.faults.add(Fault("fail_record", record_id=b, times=None))
    assert http.patch(emu.api_url + f"contacts({a})", json={"lastname": "a2"}).status_code == 204
    r = http.patch(emu.api_url + f"contacts({b})", json={"lastname": "b2"})
    assert r.status_code == 400
    assert b in r.json()["error"]["message"]
    assert http.delete(emu.api_url + f"contacts({b})").status_code == 400
    assert emu.store.get("contacts", b)["lastname"] == "b"


def test_counters_by_kind_and_reset(emu: Emulator, http: requests.Session) -> None:
    record = emu.store.insert("contacts", {"lastname": "a"})
    http.get(emu.api_url + "contacts")
    http.get(emu.api_url + "EntityDefinitions(LogicalName='contact')")
    http.get(emu.api_url + "WhoAmI")
    http.post(emu.api_url + "contacts", json={"lastname": "b"})
    http.patch(emu.api_url + f"contacts({record})", json={"lastname": "c"})
    http.delete(emu.api_url + f"contacts({record})")
    http.post(
        emu.api_url + "PublishXml",
        json={
            "ParameterXml": "<importexportxml><entities><entity>contact</entity></entities></importexportxml>"
        },
    )
    emu.faults.add(Fault("throttle"))
    http.get(emu.api_url + "contacts")  # throttled requests still count: the client sent them
    assert emu.counters.requests == {
        "read": 3,
        "function": 1,
        "create": 1,
        "update": 1,
        "delete": 1,
        "action": 1,
    }
    assert emu.counters.operations == {"create": 1, "update": 1, "delete": 1}
    emu.counters.reset()
    assert emu.counters.requests == {}
    assert emu.counters.operations == {}


def test_control_endpoints(emu: Emulator, http: requests.Session) -> None:
    http.get(emu.api_url + "WhoAmI")
    assert requests.get(emu.url + "/_emulator/counters", timeout=10).json() == {
        "requests": {"function": 1},
        "operations": {},
        "noop_updates": {},
    }
    assert (
        requests.post(
            emu.url + "/_emulator/faults", json={"kind": "throttle", "retry_after": 2}, timeout=10
        ).status_code
        == 204
    )
    assert http.get(emu.api_url + "WhoAmI").status_code == 429
    assert requests.post(emu.url + "/_emulator/faults", json={"kind": "nope"}, timeout=10).status_code == 400
    assert requests.post(emu.url + "/_emulator/reset-counters", timeout=10).status_code == 204
    assert requests.get(emu.url + "/_emulator/counters", timeout=10).json() == {
        "requests": {},
        "operations": {},
        "noop_updates": {},
    }


def test_bad_fault_definitions() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault("explode")
    with pytest.raises(ValueError, match="record_id"):
        Fault("fail_record")


def test_commit_drop_commits_then_loses_the_answer_and_faults_are_counted(emulator_factory) -> None:
    emu = emulator_factory(None)
    cid = emu.store.insert("contacts", {"lastname": "Berg", "statecode": 0})
    emu.faults.add(Fault("commit_drop", method="PATCH", times=1))
    with pytest.raises(requests.ConnectionError):
        requests.patch(f"{emu.api_url}contacts({cid})", json={"jobtitle": "CFO"},
                       headers={"Authorization": "Bearer t", "If-Match": "*"}, timeout=10)
    assert emu.store.get("contacts", cid)["jobtitle"] == "CFO"  # it happened
    listed = requests.get(emu.url + "/_emulator/faults", timeout=10).json()
    assert listed["fired_by_kind"] == {"commit_drop": 1}
    assert listed["faults"][0]["fired"] == 1
    requests.patch(f"{emu.api_url}contacts({cid})", json={"jobtitle": "CFO"},
                   headers={"Authorization": "Bearer t", "If-Match": "*"}, timeout=10)
    assert requests.get(emu.url + "/_emulator/counters", timeout=10).json()["noop_updates"] == {"contacts": 1}


def test_the_journal_keeps_when_each_request_arrived_and_its_answer(emu: Emulator,
                                                                    http: requests.Session) -> None:
    emu.faults.add(Fault("throttle", path=r"^accounts", retry_after=2))
    before = time.time()
    http.get(emu.api_url + "accounts?$select=name")
    http.get(emu.api_url + "contacts?$select=fullname")
    http.post(emu.api_url + "$batch", data=b"", headers={"Content-Type": "multipart/mixed; boundary=b"})
    after = time.time()
    journal = emu.counters.arrivals()
    assert [(a.method, a.path, a.status) for a in journal[:2]] == [
        ("GET", "accounts", 429), ("GET", "contacts", 200)]
    assert [a.path for a in journal] == ["accounts", "contacts", "$batch"]  # inner requests are not listed
    assert all(before <= a.at <= after for a in journal)
    assert journal[0].at <= journal[1].at <= journal[2].at
    emu.counters.reset()
    assert emu.counters.arrivals() == []
