"""validate_batch with stand-in sources: errors never become verdicts."""

from __future__ import annotations

import pytest

from functions.matching.records import Outcome
from functions.pipeline.validate import Batch, BatchItem, validate_batch
from functions.profiles import LookupResult, ProfileSourceAuthError, ProfileSourceUnavailable


def _batch(*ids: str) -> Batch:
    return Batch("run", 0, "2026-03-01", tuple(
        BatchItem(contact={"contact_id": cid, "email": f"{cid}@contoso.com", "account_id": "a"},
                  account={"account_id": "a", "name": "Contoso"}, reason="new_in_scope",
                  flag_value=None, employer_value=None) for cid in ids))


class Source:
    name = "fake"

    def __init__(self, answers=None, error: Exception | None = None) -> None:
        self.answers = answers or {}
        self.error = error

    def lookup_results(self, queries):
        if self.error:
            raise self.error
        return {q.contact_id: self.answers.get(q.contact_id, LookupResult("not_found")) for q in queries}

    def lookup(self, queries):  # pragma: no cover - lookup_results is preferred
        raise AssertionError

    def close(self) -> None:
        pass


def test_not_found_is_unknown_and_errors_are_skipped() -> None:
    source = Source({
        "c2": LookupResult("error", detail="HTTP 500"),
        "c3": LookupResult("skipped", detail="look-up budget spent"),
        "c4": LookupResult("skipped", detail="no profile URL, email, or name with company"),
    })
    results = {r.contact_id: r for r in validate_batch(_batch("c1", "c2", "c3", "c4"), source)}
    assert results["c1"].outcome is Outcome.UNKNOWN
    assert results["c1"].evidence["lookup"]["status"] == "not_found"
    assert results["c2"].outcome is None
    assert results["c2"].skipped.startswith("lookup_error")
    assert results["c3"].outcome is None
    assert results["c3"].skipped == "source_budget"
    assert results["c4"].outcome is Outcome.UNKNOWN


def test_source_failure_skips_the_batch_and_auth_errors_stop_the_run() -> None:
    unavailable = validate_batch(_batch("c1", "c2"), Source(error=ProfileSourceUnavailable("down")))
    assert all(r.outcome is None and r.skipped.startswith("profile_source_error") for r in unavailable)
    with pytest.raises(ProfileSourceAuthError):
        validate_batch(_batch("c1"), Source(error=ProfileSourceAuthError("no credits", status=402)))


def test_a_known_profile_is_used_without_a_look_up_and_a_gone_one_is_looked_up(tmp_path) -> None:
    import json

    from functions.profiles import FileSnapshotSource

    path = tmp_path / "profiles.jsonl"
    path.write_text(json.dumps({
        "profile_id": "p-1", "full_name": "Ada Byron", "emails": ["c1@contoso.com"],
        "positions": [{"company_name": "Contoso", "title": "Engineer", "start_date": "2020-01",
                       "is_primary": True}]}) + "\n", encoding="utf-8")
    source = FileSnapshotSource(str(path))
    base = _batch("c1", "c2").items
    batch = Batch("run", 0, "2026-03-01", (
        BatchItem(**{**base[0].__dict__, "known_profile_id": "p-1"}),
        BatchItem(**{**base[1].__dict__, "known_profile_id": "p-gone"}),
    ))
    results = {r.contact_id: r for r in validate_batch(batch, source)}
    assert results["c1"].looked_up is False
    assert results["c1"].profile_id == "p-1"
    assert results["c1"].evidence["lookup"]["detail"] == "known profile: look-up keys unchanged"
    assert results["c2"].looked_up is True  # its profile left the file: asked again
    assert len(results["c1"].lookup_hash) == 64
    assert results["c1"].lookup_hash != results["c2"].lookup_hash  # other e-mail, other look-up keys
