"""PeopleDataLabsSource over real HTTP against the local PDL replay server."""

from __future__ import annotations

import copy
import logging
import time
from typing import Any

import pytest
import requests

from functions.profiles import (
    PeopleDataLabsSource,
    ProfileQuery,
    ProfileSource,
    ProfileSourceAuthError,
    ProfileSourceConfigError,
    ProfileSourceError,
    ProfileSourceUnavailable,
)
from functions.profiles.pdl import build_params
from localdev.pdl_replay import SAMPLE_RECORD, PdlReplayServer

from .conftest import API_KEY

SEAN_URL = "https://www.linkedin.com/in/SeanThorne/"


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make(pdl: PdlReplayServer, **options: Any) -> PeopleDataLabsSource:
    options.setdefault("sleep", Sleeps())
    return PeopleDataLabsSource(options.pop("api_key", API_KEY), base_url=pdl.url, **options)


def person(i: int, *, likelihood: int = 9) -> dict[str, Any]:
    record = copy.deepcopy(SAMPLE_RECORD)
    record.update(
        id=f"id-{i}",
        full_name=f"person {i}",
        first_name="person",
        last_name=str(i),
        linkedin_url=f"linkedin.com/in/person-{i}",
        linkedin_username=f"person-{i}",
        work_email=f"person{i}@example.com",
    )
    return record


def test_is_a_profile_source(pdl: PdlReplayServer) -> None:
    source = make(pdl)
    assert isinstance(source, ProfileSource)
    assert source.name == "pdl"


def test_maps_the_documented_sample_record(pdl: PdlReplayServer) -> None:
    pdl.add_sample()
    profile = make(pdl).lookup([ProfileQuery("c1", profile_url=SEAN_URL)])["c1"]
    assert profile is not None
    assert profile.profile_id == "qEnOZ5Oh0poWnQ1luFBfVw_0000"
    assert profile.source == "pdl"
    assert (profile.full_name, profile.first_name, profile.middle_name, profile.last_name) == (
        "sean thorne",
        "sean",
        "fong",
        "thorne",
    )
    assert profile.profile_url == "linkedin.com/in/seanthorne"
    assert profile.emails == ("sean@peopledatalabs.com",)
    assert profile.last_verified == "2024-01-05"
    assert profile.last_changed == "2023-12-01"
    assert profile.match_likelihood == 10
    assert profile.matched_on == ("profile_url",)
    assert len(profile.content_hash) == 64
    (position,) = profile.positions
    assert position.is_primary is True
    assert (position.start_date, position.end_date) == ("2015-03", None)
    assert position.title == "chief executive officer and co-founder"
    company = position.company
    assert company.name == "people data labs"
    assert company.website == "peopledatalabs.com"
    assert company.linkedin_id == "18170482"
    assert company.linkedin_url == "linkedin.com/company/peopledatalabs"
    assert company.aliases == ()  # raw == ["people data labs"], the name itself


def test_request_shape_headers_and_params(pdl: PdlReplayServer) -> None:
    pdl.add_sample()
    make(pdl, min_likelihood=7).lookup(
        [
            ProfileQuery(
                "url", profile_url=SEAN_URL, email="ignored@x.com", first_name="Sean", last_name="Thorne"
            ),
            ProfileQuery("email", email=" Sean@PeopleDataLabs.com "),
            ProfileQuery("name", first_name="Sean", last_name="Thorne", company_name="People Data Labs"),
            ProfileQuery("full", full_name="Sean Thorne", company_website="peopledatalabs.com"),
        ]
    )
    (logged,) = pdl.bulk_requests()
    assert logged.method == "POST"
    assert logged.api_key_ok
    assert "gzip" in logged.headers["Accept-Encoding"]
    assert logged.headers["Content-Type"] == "application/json"
    assert logged.body == {
        "requests": [
            {
                "params": {"profile": "linkedin.com/in/seanthorne", "min_likelihood": 7},
                "metadata": {"contact_id": "url"},
            },
            {
                "params": {"email": "sean@peopledatalabs.com", "min_likelihood": 7},
                "metadata": {"contact_id": "email"},
            },
            {
                "params": {
                    "first_name": "Sean",
                    "last_name": "Thorne",
                    "company": "People Data Labs",
                    "min_likelihood": 7,
                },
                "metadata": {"contact_id": "name"},
            },
            {
                "params": {"name": "Sean Thorne", "company": "peopledatalabs.com", "min_likelihood": 7},
                "metadata": {"contact_id": "full"},
            },
        ]
    }


def test_matched_on_follows_what_was_sent(pdl: PdlReplayServer) -> None:
    pdl.add_sample()
    found = make(pdl).lookup(
        [
            ProfileQuery("email", email="sean@peopledatalabs.com"),
            ProfileQuery("name", first_name="sean", last_name="thorne", company_name="people data labs"),
        ]
    )
    assert found["email"] is not None
    assert found["email"].matched_on == ("email",)
    assert found["name"] is not None
    assert found["name"].matched_on == ("name_company",)


def test_build_params_needs_something_to_match() -> None:
    assert build_params(ProfileQuery("x")) is None
    assert build_params(ProfileQuery("x", first_name="Sean", last_name="Thorne")) is None  # no company
    assert build_params(ProfileQuery("x", full_name="Sean", company_name="PDL")) is None  # one name token
    assert build_params(ProfileQuery("x", email="not-an-email")) is None


def test_batching_250_queries_in_4_requests(pdl: PdlReplayServer) -> None:
    for i in range(0, 250, 10):
        pdl.add_record(person(i))
    source = make(pdl, batch_size=80)
    queries = [ProfileQuery(f"c{i}", email=f"person{i}@example.com") for i in range(250)]
    found = source.lookup(queries)
    assert [len(r.body["requests"]) for r in pdl.bulk_requests()] == [80, 80, 80, 10]
    assert list(found) == [q.contact_id for q in queries]
    assert sum(1 for p in found.values() if p) == 25
    assert found["c10"] is not None
    assert found["c10"].profile_id == "id-10"
    assert found["c11"] is None
    stats = source.stats
    assert (stats.queries, stats.matched, stats.not_found, stats.requests) == (250, 25, 225, 4)


def test_404_item_is_none_not_an_error(pdl: PdlReplayServer) -> None:
    pdl.add_sample()
    pdl.set_item_status("sean@peopledatalabs.com", 404)
    source = make(pdl)
    results = source.lookup_results(
        [ProfileQuery("a", email="sean@peopledatalabs.com"), ProfileQuery("b", email="x@y.de")]
    )
    assert results["a"].status == "not_found"
    assert results["b"].status == "not_found"
    assert source.stats.errors == {}


def test_other_item_status_is_a_counted_error(pdl: PdlReplayServer) -> None:
    pdl.add_sample()
    pdl.add_record(person(1))
    pdl.set_item_status("sean@peopledatalabs.com", 400)
    source = make(pdl)
    found = source.lookup(
        [ProfileQuery("a", email="sean@peopledatalabs.com"), ProfileQuery("b", email="person1@example.com")]
    )
    assert found["a"] is None
    assert found["b"] is not None
    assert source.stats.errors == {"http_400_invalid_request_error": 1}


def test_skipped_queries_send_nothing(pdl: PdlReplayServer) -> None:
    source = make(pdl)
    results = source.lookup_results(
        [ProfileQuery("a"), ProfileQuery("b", first_name="Only", last_name="Name")]
    )
    assert {r.status for r in results.values()} == {"skipped"}
    assert pdl.bulk_requests() == []
    assert source.stats.skipped == 2


def test_401_raises_auth_error_and_stops(pdl: PdlReplayServer) -> None:
    source = make(pdl, api_key="wrong-key", batch_size=10)
    queries = [ProfileQuery(f"c{i}", email=f"p{i}@example.com") for i in range(50)]
    with pytest.raises(ProfileSourceAuthError, match="refused the API key") as caught:
        source.lookup(queries)
    assert caught.value.status == 401
    assert len(pdl.bulk_requests()) == 1  # stopped: no second batch, no retry
    assert not pdl.bulk_requests()[0].api_key_ok


def test_402_raises_and_keeps_what_was_paid_for(pdl: PdlReplayServer) -> None:
    pdl.add_record(person(1))
    pdl.add_record(person(2))
    pdl.credits = 1
    source = make(pdl, batch_size=1)
    queries = [ProfileQuery(f"c{i}", email=f"person{i}@example.com") for i in (1, 2, 3)]
    with pytest.raises(ProfileSourceAuthError, match="no credits left") as caught:
        source.lookup(queries)
    assert caught.value.status == 402
    assert len(pdl.bulk_requests()) == 2
    partial = caught.value.partial_results
    assert list(partial) == ["c1"]
    assert partial["c1"] is not None
    assert partial["c1"].profile_id == "id-1"
    assert source.stats.matched == 1


def test_403_is_an_auth_error(pdl: PdlReplayServer) -> None:
    pdl.fail_next(403)
    with pytest.raises(ProfileSourceAuthError, match="forbids") as caught:
        make(pdl).lookup([ProfileQuery("c", email="a@b.de")])
    assert caught.value.status == 403


def test_429_then_success_honours_retry_after(pdl: PdlReplayServer) -> None:
    pdl.add_sample()
    pdl.fail_next(429, headers={"Retry-After": "7"})
    sleeps = Sleeps()
    source = make(pdl, sleep=sleeps)
    found = source.lookup([ProfileQuery("c", profile_url=SEAN_URL)])
    assert found["c"] is not None
    assert sleeps == [7.0]
    assert len(pdl.bulk_requests()) == 2
    assert pdl.bulk_requests()[0].status == 429
    assert (source.stats.requests, source.stats.retries) == (2, 1)


def test_429_waits_for_real(pdl: PdlReplayServer) -> None:
    pdl.add_sample()
    pdl.fail_next(429, headers={"Retry-After": "1"})
    source = PeopleDataLabsSource(API_KEY, base_url=pdl.url)
    started = time.monotonic()
    assert source.lookup([ProfileQuery("c", profile_url=SEAN_URL)])["c"] is not None
    first, second = pdl.bulk_requests()
    assert second.at - first.at >= 0.95
    assert time.monotonic() - started >= 0.95


def test_429_uses_rate_limit_reset_header_without_retry_after(pdl: PdlReplayServer) -> None:
    pdl.add_sample()
    pdl.fail_next(
        429,
        headers={"x-ratelimit-reset": str(int(time.time()) + 12), "x-ratelimit-remaining": "{'minute': 0}"},
    )
    sleeps = Sleeps()
    assert make(pdl, sleep=sleeps).lookup([ProfileQuery("c", profile_url=SEAN_URL)])["c"] is not None
    assert len(sleeps) == 1
    assert 10.0 <= sleeps[0] <= 12.0


def test_429_without_headers_backs_off_exponentially(pdl: PdlReplayServer) -> None:
    pdl.add_sample()
    pdl.fail_next(429, times=3)
    sleeps = Sleeps()
    assert make(pdl, sleep=sleeps).lookup([ProfileQuery("c", profile_url=SEAN_URL)])["c"] is not None
    assert len(sleeps) == 3
    assert all(0 < s <= 60 for s in sleeps)
    assert sleeps[2] > sleeps[0]


def test_persistent_429_gives_up_with_unavailable(pdl: PdlReplayServer) -> None:
    pdl.add_sample()
    pdl.fail_next(429, times=10, headers={"Retry-After": "2"})
    sleeps = Sleeps()
    with pytest.raises(ProfileSourceUnavailable, match="HTTP 429") as caught:
        make(pdl, sleep=sleeps, max_retries=2).lookup([ProfileQuery("c", profile_url=SEAN_URL)])
    assert caught.value.status == 429
    assert len(pdl.bulk_requests()) == 3
    assert sleeps == [2.0, 2.0]


def test_retry_after_beyond_the_cap_gives_up_at_once(pdl: PdlReplayServer) -> None:
    pdl.fail_next(429, headers={"Retry-After": "3600"})
    sleeps = Sleeps()
    with pytest.raises(ProfileSourceUnavailable) as caught:
        make(pdl, sleep=sleeps, max_retry_wait=60).lookup([ProfileQuery("c", profile_url=SEAN_URL)])
    assert caught.value.retry_after == 3600
    assert sleeps == []
    assert len(pdl.bulk_requests()) == 1


def test_502_is_retried(pdl: PdlReplayServer) -> None:
    pdl.add_sample()
    pdl.fail_next(502, body=b"<html>Bad Gateway</html>")
    source = make(pdl)
    assert source.lookup([ProfileQuery("c", profile_url=SEAN_URL)])["c"] is not None
    assert [r.status for r in pdl.bulk_requests()] == [502, 200]
    assert source.stats.retries == 1


def test_gateway_502_above_80_per_request(pdl: PdlReplayServer) -> None:
    pdl.gateway_limit = 80
    queries = [ProfileQuery(f"c{i}", email=f"p{i}@example.com") for i in range(100)]
    with pytest.raises(ProfileSourceUnavailable, match="HTTP 502"):
        make(pdl, batch_size=100, max_retries=1).lookup(queries)
    pdl.reset()
    assert len(make(pdl, batch_size=80).lookup(queries)) == 100
    assert [len(r.body["requests"]) for r in pdl.bulk_requests()] == [80, 20]


def test_unreachable_server_is_unavailable(pdl: PdlReplayServer) -> None:
    url = pdl.url
    pdl.stop()
    source = PeopleDataLabsSource(API_KEY, base_url=url, max_retries=1, sleep=Sleeps(), timeout=2)
    with pytest.raises(ProfileSourceUnavailable, match="network"):
        source.lookup([ProfileQuery("c", email="a@b.de")])


def test_400_whole_request_is_a_source_error(pdl: PdlReplayServer) -> None:
    pdl.fail_next(400)
    with pytest.raises(ProfileSourceError, match="HTTP 400 invalid_request_error"):
        make(pdl).lookup([ProfileQuery("c", email="a@b.de")])


def test_min_likelihood_enforced_by_pdl_and_client(pdl: PdlReplayServer) -> None:
    pdl.add_record(person(1), likelihood=5)
    pdl.add_record(person(2), likelihood=8)
    queries = [
        ProfileQuery("low", email="person1@example.com"),
        ProfileQuery("high", email="person2@example.com"),
    ]
    found = make(pdl, min_likelihood=6).lookup(queries)
    assert found["low"] is None
    assert found["high"] is not None
    assert found["high"].match_likelihood == 8

    pdl.honour_min_likelihood = False  # a server that answers 200 anyway: the client still refuses
    source = make(pdl, min_likelihood=6)
    results = source.lookup_results(queries)
    assert results["low"].status == "low_likelihood"
    assert results["low"].profile is None
    assert results["high"].status == "matched"
    assert source.stats.low_likelihood == 1


def test_free_plan_booleans_are_unknown(pdl: PdlReplayServer) -> None:
    record = person(1)
    record.update(
        work_email=True,
        personal_emails=True,
        emails=True,
        mobile_phone=True,
        location_name=True,
        recommended_personal_email=False,
        job_title=True,
        linkedin_url="linkedin.com/in/person-1",
    )
    record["experience"] = [
        {**record["experience"][0], "location_names": True},
        {"company": True, "title": True, "start_date": True, "end_date": None, "is_primary": False},
        {
            "company": {"name": "google", "website": True, "linkedin_id": False},
            "start_date": None,
            "end_date": "2015",
        },
    ]
    pdl.add_record(record)
    profile = make(pdl).lookup([ProfileQuery("c", profile_url="linkedin.com/in/person-1")])["c"]
    assert profile is not None
    assert profile.emails == ()
    first, unknown, ended = profile.positions
    assert first.is_primary
    assert unknown.company.name is None
    assert unknown.title is None
    assert unknown.start_date is None
    assert not unknown.is_primary
    assert ended.company.name == "google"
    assert ended.company.website is None
    assert ended.end_date == "2015"


def test_job_fields_make_a_position_when_experience_is_missing(pdl: PdlReplayServer) -> None:
    record = {k: v for k, v in person(1).items() if k != "experience"}
    pdl.add_record(record)
    profile = make(pdl).lookup([ProfileQuery("c", email="person1@example.com")])["c"]
    assert profile is not None
    (position,) = profile.positions
    assert position.is_primary
    assert position.company.name == "people data labs"
    assert position.company.linkedin_id == "18170482"
    assert position.start_date == "2015-03"


def test_budget_limits_lookups(pdl: PdlReplayServer) -> None:
    pdl.add_sample()
    source = make(pdl, max_lookups=2)
    queries = [ProfileQuery(f"c{i}", email=f"p{i}@example.com") for i in range(3)]
    results = source.lookup_results(queries)
    assert [r.status for r in results.values()] == ["not_found", "not_found", "skipped"]
    assert results["c2"].detail == "look-up budget spent"
    assert len(pdl.bulk_requests()[0].body["requests"]) == 2
    assert source.lookup_results([ProfileQuery("x", profile_url=SEAN_URL)])["x"].status == "skipped"


def test_items_are_aligned_by_metadata() -> None:
    batch = [(ProfileQuery("a"), {}, ()), (ProfileQuery("b"), {}, ())]
    items = [
        {"status": 404, "metadata": {"contact_id": "b"}},
        {"status": 200, "metadata": {"contact_id": "a"}},
    ]
    assert PeopleDataLabsSource._align(items, batch) == [items[1], items[0]]
    assert PeopleDataLabsSource._align([{"status": 404}], batch) == [None, None]  # count mismatch: unusable


def test_api_key_never_logged_or_shown(pdl: PdlReplayServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    pdl.add_sample()
    pdl.fail_next(429, headers={"Retry-After": "0"})
    pdl.fail_next(502)
    source = make(pdl)
    assert source.lookup([ProfileQuery("c", profile_url=SEAN_URL)])["c"] is not None
    pdl.fail_next(401)
    with pytest.raises(ProfileSourceAuthError) as caught:
        source.lookup([ProfileQuery("c", profile_url=SEAN_URL)])
    pdl.fail_next(503, times=10)
    with pytest.raises(ProfileSourceUnavailable) as unavailable:
        make(pdl, max_retries=1).lookup([ProfileQuery("c", profile_url=SEAN_URL)])
    assert caplog.records  # something was logged (retries, requests)
    assert API_KEY not in caplog.text
    assert API_KEY not in str(caught.value)
    assert API_KEY not in str(unavailable.value)
    assert API_KEY not in repr(source)
    assert all(API_KEY not in str(r.headers) for r in pdl.requests)


def test_config_validation() -> None:
    with pytest.raises(ProfileSourceConfigError, match="PDL_API_KEY"):
        PeopleDataLabsSource("  ")
    with pytest.raises(ProfileSourceConfigError, match="batch size"):
        PeopleDataLabsSource("k", batch_size=101)
    with pytest.raises(ProfileSourceConfigError, match="https"):
        PeopleDataLabsSource("k", base_url="http://api.peopledatalabs.com")
    with pytest.raises(ProfileSourceConfigError, match="MIN_LIKELIHOOD"):
        PeopleDataLabsSource("k", min_likelihood=11)


def test_uses_a_given_session_and_leaves_it_open(pdl: PdlReplayServer) -> None:
    pdl.add_sample()
    with requests.Session() as session:
        source = make(pdl, session=session)
        assert source.lookup([ProfileQuery("c", profile_url=SEAN_URL)])["c"] is not None
        source.close()
        assert session.post(pdl.url + "/v5/person/bulk", json={}, timeout=5).status_code == 401
