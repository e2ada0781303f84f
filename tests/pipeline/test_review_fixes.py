"""Unit regressions for the review findings (bad records, lock retry, provisioning cache, bad rows)."""

from __future__ import annotations

import logging

import pytest

from functions.dataverse import DataverseError
from functions.matching.records import Outcome
from functions.pipeline.crm_reader import CrmReader
from functions.pipeline.plan import reason_for
from functions.pipeline.run import _org_may_have_changed
from functions.pipeline.validate import Batch, BatchItem, validate_batch
from functions.state.contacts import ContactState
from functions.state.lock import LockHeld, RunLock
from functions.state.table_store import EntityExistsError

from .test_validate import Source, _batch


def test_a_record_that_cannot_be_built_is_skipped_as_bad_record(caplog) -> None:
    good = _batch("c1").items[0]
    bad = BatchItem(contact={"contact_id": "c2", "email": "secret@x.com", "no_such_field": 1},
                    account=None, reason="new_in_scope", flag_value=None, employer_value=None)
    with caplog.at_level(logging.WARNING):
        results = {r.contact_id: r for r in validate_batch(Batch("run", 0, "2026-03-01", (good, bad)),
                                                           Source())}
    assert results["c1"].outcome is Outcome.UNKNOWN
    assert results["c2"].outcome is None
    assert results["c2"].skipped == "bad_record: TypeError"
    assert "secret@x.com" not in caplog.text  # logged without personal data


def test_bad_account_record_is_skipped_too() -> None:
    bad = BatchItem(contact={"contact_id": "c3"}, account={"account_id": "a", "bogus": 1},
                    reason="new_in_scope", flag_value=None, employer_value=None)
    (result,) = validate_batch(Batch("run", 0, "2026-03-01", (bad,)), Source())
    assert result.skipped == "bad_record: TypeError"


def test_reader_skips_and_counts_a_malformed_row() -> None:
    reader = CrmReader(None, flag_column="dval_flag", employer_column=None)  # type: ignore[arg-type]
    assert reader.safe(reader.contact, {"contactid": "x", "dval_flag": "not a number"}, "contacts") is None
    assert reader.bad_rows == {"contacts": 1}


def test_value_drifted_is_a_plan_reason() -> None:
    from datetime import date

    state = ContactState("c1", in_scope=True, checked_at="2026-01-01", contact_hash="h", account_hash="a",
                         account_id="acc")
    assert reason_for(state, contact_hash="h", account_id="acc", account_hash="a", value_drifted=True,
                      today=date(2026, 1, 2)) == "value_drifted"


class _RacingStore:
    """Insert always loses, and the holder is gone when we look: the retry insert loses again."""

    def insert(self, entity):
        raise EntityExistsError("exists")

    def get(self, pk, rk):
        return None


def test_lock_retry_insert_that_loses_is_lock_held() -> None:
    with pytest.raises(LockHeld):
        RunLock(_RacingStore()).acquire("run-a")  # type: ignore[arg-type]


def test_provisioning_cache_is_cleared_only_when_the_org_may_have_changed() -> None:
    assert _org_may_have_changed(DataverseError(400, "0x80060888", "Could not find a property named x"))
    assert _org_may_have_changed(DataverseError(404, "", "Not found"))
    assert not _org_may_have_changed(DataverseError(503, "", "Service unavailable"))
    assert not _org_may_have_changed(DataverseError(None, "", "timed out"))
    assert not _org_may_have_changed(RuntimeError("storage down"))
