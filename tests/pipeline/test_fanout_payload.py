"""The fan-out's batch documents and messages survive the trip through JSON unchanged."""

from __future__ import annotations

import json

import pytest

from functions.matching.config import DEFAULT, MatchingConfig
from functions.matching.records import AccountRecord, ContactRecord
from functions.pipeline.crm_reader import AccountInfo, CrmContact
from functions.pipeline.fanout import decode_item, encode_item, read_result
from functions.pipeline.writer import Planned
from functions.state.batch_queue import BadBatchMessage, BatchMessage, _index_of
from functions.state.contacts import ContactState

CID, AID = "0a" + "1" * 34, "0b" + "2" * 34


def _planned(state: ContactState | None) -> Planned:
    contact = CrmContact(ContactRecord(CID, first_name="Ada", last_name="Byron", email="ada@example.org",
                                       account_id=AID, other_emails=("a@b.org",)),
                         owner_id="u1", active=True, flag_value=410200001, employer_value="Acme",
                         etag='W/"123"', validated_on="2026-01-14T02:00:00Z")
    account = AccountInfo(AccountRecord(AID, name="Initech", aliases=("Initrode",),
                                        hierarchy=(("p1", "Parent"), (None, "x"))), "u2", True)
    return Planned(contact, account, "contact_changed", "ch", "ah", True, state, "prof-1")


@pytest.mark.parametrize("state", [None, ContactState(CID, in_scope=True, profile_id="prof-1",
                                                      value_written=410200001, checked_at="2026-01-01")])
def test_a_planned_contact_round_trips_through_json(state: ContactState | None) -> None:
    original = _planned(state)
    data = json.loads(json.dumps(encode_item(original)))
    assert data["entering"] is original.entering
    assert decode_item(data) == original


def test_matching_settings_round_trip() -> None:
    again = MatchingConfig.from_mapping(json.loads(json.dumps(DEFAULT.to_dict())))
    assert again.to_dict() == DEFAULT.to_dict()


def test_batch_messages_are_checked_and_found_in_poison_text() -> None:
    message = BatchMessage("20260115T020000Z-0123abcd", 7)
    assert BatchMessage.parse(message.to_json().encode()) == message
    for junk in (b"\xff", "[]", '{"run_id": "x", "index": 1}', '{"run_id": "20260115T020000Z-0123abcd"}',
                 '{"run_id": "20260115T020000Z-0123abcd", "index": -1}'):
        with pytest.raises(BadBatchMessage):
            BatchMessage.parse(junk)
    import base64

    raw = base64.b64encode(message.to_json().encode()).decode()
    assert _index_of(raw, message.run_id) == {7}
    assert _index_of(message.to_json(), message.run_id) == {7}
    assert _index_of(raw, "20260115T020000Z-ffffffff") == set()


def test_a_damaged_result_reads_as_none() -> None:
    assert read_result({"parts": 1, "sha256": "0", "p00": b"x"}) is None
    assert read_result({}) is None


def test_a_worker_uses_the_runs_scan_settings_not_its_app_settings() -> None:
    from functions.config import ScanConfig
    from functions.pipeline.batch_worker import run_scan_settings

    app = ScanConfig(refresh_days=30)
    run = ScanConfig(refresh_days=7, profile_url_columns=("new_linkedin",),
                     extra_email_columns=("emailaddress2",), lookup_budget=100)
    context = json.loads(json.dumps({"refresh_days": 7, "scan": run.model_dump(mode="json")}))
    assert run_scan_settings(context, app) == run
    older = run_scan_settings({"refresh_days": 7}, app)  # a batch written by the previous version
    assert older.refresh_days == 7
    assert older.profile_url_columns == app.profile_url_columns
