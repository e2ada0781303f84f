"""The PDL replay server itself answers in the documented shapes."""

from __future__ import annotations

import requests

from localdev.pdl_replay import SAMPLE_RESPONSE, PdlReplayServer

from .conftest import API_KEY


def post(server: PdlReplayServer, body: object, *, key: str | None = API_KEY) -> requests.Response:
    headers = {"X-Api-Key": key} if key else {}
    return requests.post(server.url + "/v5/person/bulk", json=body, headers=headers, timeout=5)


def test_bulk_answers_in_request_order_with_metadata(pdl: PdlReplayServer) -> None:
    pdl.add_sample()
    response = post(
        pdl,
        {
            "requests": [
                {"params": {"email": "nobody@example.com"}, "metadata": {"n": 1}},
                {"params": {"profile": ["https://www.linkedin.com/in/seanthorne/"]}, "metadata": {"n": 2}},
            ]
        },
    )
    assert response.status_code == 200
    first, second = response.json()
    assert first == {
        "status": 404,
        "error": {"type": "not_found", "message": "No records were found matching your request"},
        "metadata": {"n": 1},
    }
    assert second == {**SAMPLE_RESPONSE, "metadata": {"n": 2}}


def test_whole_request_errors_use_the_error_body(pdl: PdlReplayServer) -> None:
    assert post(pdl, {"requests": [{"params": {"email": "a@b.de"}}]}, key=None).json() == {
        "status": 401,
        "error": {"type": "authentication_error", "message": "missing or invalid key"},
    }
    too_many = {"requests": [{"params": {"email": "a@b.de"}}] * 101}
    assert post(pdl, too_many).status_code == 400
    pdl.fail_next(429, headers={"Retry-After": "3"})
    throttled = post(pdl, {"requests": [{"params": {"email": "a@b.de"}}]})
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "3"
    assert throttled.json()["error"]["type"] == "rate_limit_error"
    pdl.credits = 0
    assert (
        post(pdl, {"requests": [{"params": {"email": "a@b.de"}}]}).json()["error"]["type"]
        == "payment_required"
    )
    assert [r.status for r in pdl.requests] == [401, 400, 429, 402]
    assert not pdl.requests[0].api_key_ok
