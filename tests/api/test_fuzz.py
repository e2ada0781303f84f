"""OpenAPI-driven fuzzing of every route (issue 5 "Done when"): schemathesis generates requests from the
document the API itself serves at ``/api/openapi.json`` - valid ones and deliberately invalid ones - and
sends them over real HTTP to the local Functions host. At least 1,000 requests in all; zero 5xx; and
every rejected request (>= 400) leaves the settings document and its ETag exactly as they were.

Deterministic (``derandomize=True``, no example database) so a failure reproduces on the next run.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import Api

CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, negative_data_rejection]

MIN_REQUESTS = 1000
# examples per operation and generation mode; operations with few possible inputs (no parameters)
# run out of distinct examples early, the settings PATCH and the parameterised GETs make up the rest.
# The on-demand long run: FUZZ_EXAMPLES=800 .venv/bin/pytest tests/api/test_fuzz.py -k openapi -s
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "70"))


class Fuzzer:
    """Sends generated cases and checks the invariants after each one."""

    def __init__(self, api: Api, base_url: str) -> None:
        self.api = api
        self.base_url = base_url
        self.sent: Counter[str] = Counter()
        self.statuses: Counter[tuple[str, int]] = Counter()
        self.failures: list[str] = []
        self.slowest: list[tuple[float, str]] = []
        self.seconds: Counter[str] = Counter()
        self.known = api.settings()

    def send(self, case: Any, *, current_etag: bool) -> None:
        headers = {"x-functions-key": self.api.key}
        checks = CHECKS
        if current_etag and case.method.upper() == "PATCH":
            # half of the PATCHes carry the ETag just read, so schema errors are reached (not only 412s);
            # that may repair a deliberately broken If-Match, so the case is no longer known to be invalid
            headers["If-Match"] = self.known[1]
            checks = [check for check in CHECKS if check is not negative_data_rejection]
        kwargs = case.as_transport_kwargs(base_url=self.base_url, headers=headers)
        kwargs.setdefault("timeout", 60)
        label = f"{case.method.upper()} {case.path}"
        started = time.monotonic()
        try:
            response = self.api.session.request(**kwargs)
        except requests.RequestException as exc:
            self.failures.append(f"{label}: no response ({exc!r}) for {_describe(kwargs)}")
            return
        took = time.monotonic() - started
        self.seconds[label] += took
        seen = (took, f"{label} -> {response.status_code}: {_describe(kwargs)}")
        self.slowest = sorted([*self.slowest, seen], reverse=True)[:10]
        self.sent[label] += 1
        self.statuses[(label, response.status_code)] += 1
        if response.status_code >= 500:
            self.failures.append(
                f"{label}: {response.status_code} {response.text[:300]} for {_describe(kwargs)}")
        if response.status_code in (401, 403):
            self.failures.append(f"{label}: {response.status_code} with a valid key for {_describe(kwargs)}")
        if response.status_code in (412, 413):
            # rejections too (schemathesis's list of rejection statuses lacks them): the precondition is
            # evaluated before the body, as RFC 9110 13.2.1 allows; a body over 64 KiB is refused unread
            checks = [check for check in checks if check is not negative_data_rejection]
        try:
            # the document the API serves is the contract: statuses, content types, bodies, headers;
            # invalid (negative) data must be rejected
            case.validate_response(response, checks=checks, headers=headers)
        except (AssertionError, FailureGroup) as exc:
            self.failures.append(f"{label}: {response.status_code} does not conform: "
                                 f"{str(exc)[:600]} for {_describe(kwargs)}")
        now = self.api.settings()
        if response.status_code >= 400 and now != self.known:
            self.failures.append(
                f"{label}: rejected with {response.status_code} but the settings changed: "
                f"{self.known} -> {now} for {_describe(kwargs)}"
            )
        self.known = now


def _describe(kwargs: dict[str, Any]) -> str:
    shown = {k: v for k, v in kwargs.items() if k in ("method", "url", "params", "data", "json")}
    headers = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() != "x-functions-key"}
    return json.dumps({**shown, "headers": headers}, default=repr)[:800]


def _base_url(api: Api, document: dict[str, Any]) -> str:
    """Where the document's paths are rooted: its paths may or may not carry the /api prefix."""
    paths = list(document.get("paths", {}))
    if paths and all(p.startswith("/api/") for p in paths):
        return api.base
    return api.base + "/api"


def test_openapi_fuzz(api_factory: Any) -> None:
    # no queue worker: enabling (a valid PATCH can do that) then only queues its run, so no scan runs
    # under the fuzzer; POST /api/runs keeps answering 409 while that run is pending
    api = api_factory(drain_queues=False)
    document_response = api.get("/api/openapi.json")
    assert document_response.status_code == 200, document_response.text
    document = document_response.json()
    assert str(document.get("openapi", "")).startswith("3."), document.get("openapi")

    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {f"{op.method.upper()} {op.path}" for op in operations}
    expected_paths = {"settings", "status", "runs", "runs/{run_id}", "contacts/{contact_id}/validation",
                      "audit", "openapi.json", "health"}
    assert {p.removeprefix("/api").strip("/") for p in document["paths"]} == expected_paths
    assert len(operations) >= 10, labels  # GET+PATCH settings, GET+POST runs, and the six GETs

    fuzzer = Fuzzer(api, _base_url(api, document))
    started = time.monotonic()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)

            @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
                      report_multiple_bugs=False)
            @given(case=strategy, current_etag=st.booleans())
            def fuzz(case: Any, current_etag: bool) -> None:
                fuzzer.send(case, current_etag=current_etag)

            try:
                fuzz()
            except Unsatisfiable:
                # an operation without parameters or body has no invalid variant to generate
                if mode is GenerationMode.POSITIVE:
                    raise
    elapsed = time.monotonic() - started

    total = sum(fuzzer.sent.values())
    summary = "\n".join(f"{label}: {n}" for label, n in sorted(fuzzer.sent.items()))
    assert not fuzzer.failures, "\n".join(fuzzer.failures[:30]) + f"\n({len(fuzzer.failures)} failures)"
    assert total >= MIN_REQUESTS, f"only {total} generated requests:\n{summary}"
    assert set(fuzzer.sent) == labels, f"operations never exercised: {labels - set(fuzzer.sent)}"
    # the invariant was really exercised: PATCHes were both applied and refused for their content
    patch_statuses = {status for (label, status) in fuzzer.statuses if label.startswith("PATCH ")}
    assert {200, 400, 412, 428} <= patch_statuses, patch_statuses
    slow = "\n".join(f"{t:.2f} s {what}" for t, what in fuzzer.slowest)
    per_operation = "\n".join(
        f"{label}: {n} requests, {fuzzer.seconds[label]:.1f} s, statuses "
        + str(sorted((status, count) for (seen, status), count in fuzzer.statuses.items() if seen == label))
        for label, n in sorted(fuzzer.sent.items()))
    # timings are reported, not asserted: a wall-clock limit flakes on a shared machine
    print(f"{total} requests in {elapsed:.0f} s\n{per_operation}\nslowest:\n{slow}")
    assert api.leaked() == []


def test_oversize_chunked_body_is_413(api: Api) -> None:
    """Without a Content-Length the limit applies to what arrives."""
    before, etag = api.settings()

    def chunks() -> Any:
        yield b'{"refresh_days": 5, "x": "'
        for _ in range(70):
            yield b"a" * 1024
        yield b'"}'

    response = api.request("PATCH", "/api/settings", data=chunks(),
                           headers={"Content-Type": "application/json", "If-Match": etag})
    assert response.status_code == 413, response.text
    assert api.settings() == (before, etag)


@pytest.mark.parametrize(("content_type", "body", "status"), [
    ("text/plain", "{}", 415),
    ("application/xml", "<a/>", 415),
    ("application/json; charset=latin-1", "{}", 415),
    ("application/json", "{not json", 400),
    ("application/json", "[]", 400),
    ("application/json", '"enabled"', 400),
    ("application/json", "{}" + " " * (64 * 1024 + 1), 413),
    ("application/json", json.dumps({"sync_users": {"user_ids": ["x" * 70000]}}), 413),
])
def test_rejected_bodies_change_nothing(api: Api, content_type: str, body: str, status: int) -> None:
    """The hand-picked cases the issue names: non-JSON content types, bad JSON, oversize bodies."""
    before, etag = api.settings()
    response = api.request("PATCH", "/api/settings", data=body.encode("utf-8"),
                           headers={"Content-Type": content_type, "If-Match": etag})
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == status
    assert api.settings() == (before, etag)


@pytest.mark.parametrize(("patch", "field"), [
    ({"no_such_setting": 1}, "no_such_setting"),
    ({"enabled": "yes"}, "enabled"),
    ({"refresh_days": 0}, "refresh_days"),
    ({"refresh_days": 3651}, "refresh_days"),
    ({"refresh_days": 1.5}, "refresh_days"),
    ({"lookup_budget": -1}, "lookup_budget"),
    ({"target_column": "somewhere_else"}, "target_column"),
    ({"sync_users": {"user_ids": ["6f9619ff-8b86-d011-b42d-00cf4fc964ff", "not-a-guid"]}},
     "sync_users.user_ids[1]"),
    ({"profile_source": {"pdl_min_likelihood": 11}}, "profile_source.pdl_min_likelihood"),
    ({"profile_source": {"file_format": "xml"}}, "profile_source.file_format"),
])
def test_schema_errors_name_the_field(api: Api, patch: dict[str, Any], field: str) -> None:
    before, etag = api.settings()
    response = api.patch("/api/settings", patch, if_match=etag)
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["status"] == 400
    assert field in [e["field"] for e in problem["errors"]], problem
    assert all(e["reason"] for e in problem["errors"]), problem
    assert api.settings() == (before, etag)


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/api/runs/not-a-run-id", None, "run_id"),
    ("/api/contacts/not-a-guid/validation", None, "contact_id"),
    ("/api/runs", {"limit": "0"}, "limit"),
    ("/api/runs", {"limit": "101"}, "limit"),
    ("/api/runs", {"limit": "ten"}, "limit"),
    ("/api/settings", {"verbose": "1"}, "verbose"),
    ("/api/audit", {"limit": "-3"}, "limit"),
])
def test_bad_parameters_are_400_with_the_field(api: Api, path: str, params: dict[str, str] | None,
                                               field: str) -> None:
    response = api.get(path, params=params)
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]], response.text


#: scenarios of the stateful phase (linked operations: GET settings -> PATCH with its ETag, POST runs ->
#: GET the run it names, ...); the on-demand long run: FUZZ_STATEFUL_EXAMPLES=120 (docs/settings-api.md)
STATEFUL_EXAMPLES = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", "25"))


def test_openapi_stateful_sequences(api_factory: Any) -> None:
    """Sequences of calls whose inputs come from earlier answers (schemathesis infers the links from
    Location headers and ids in bodies): no 5xx, every answer conforms to the document."""
    from hypothesis.stateful import run_state_machine_as_test

    api = api_factory(drain_queues=False)
    document = api.get("/api/openapi.json").json()
    base_url = _base_url(api, document)
    schema = schemathesis.openapi.from_dict(document)
    machine = schema.as_state_machine()
    sent: Counter[tuple[str, int]] = Counter()
    failures: list[str] = []
    conformance = [status_code_conformance, content_type_conformance, response_schema_conformance,
                   response_headers_conformance]

    class Stateful(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            headers = {"x-functions-key": api.key}
            if case.method.upper() == "PATCH" and not (case.headers or {}).get("If-Match"):
                headers["If-Match"] = api.settings()[1]
            return {"base_url": base_url, "headers": headers, "timeout": 60}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            label = f"{case.method.upper()} {case.path}"
            sent[(label, response.status_code)] += 1
            if response.status_code >= 500:
                failures.append(f"{label}: {response.status_code} {response.text[:300]}")
            try:
                case.validate_response(response, checks=conformance, headers=kwargs.get("headers"))
            except (AssertionError, FailureGroup) as exc:
                failures.append(f"{label}: {response.status_code} does not conform: {str(exc)[:400]}")

    # generation only: the API keeps its state between scenarios, so a replayed (shrunk) scenario would
    # meet other answers and Hypothesis would call the data generation flaky; failures are collected,
    # not raised, so nothing needs shrinking
    run_state_machine_as_test(Stateful, settings=settings(
        max_examples=STATEFUL_EXAMPLES, stateful_step_count=8, derandomize=True, deadline=None, database=None,
        phases=[Phase.generate], suppress_health_check=list(HealthCheck), report_multiple_bugs=False))
    total = sum(sent.values())
    assert not failures, "\n".join(failures[:20]) + f"\n({len(failures)} failures)"
    assert total >= STATEFUL_EXAMPLES, sent
    print(f"stateful: {total} requests; 5xx: {sum(n for (_, s), n in sent.items() if s >= 500)}; "
          f"by operation and status: {sorted(sent.items())}")
