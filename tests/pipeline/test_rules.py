"""Pure rules: hashing, planning, refresh spreading, budget, write-back, batch serialisation."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from functions.dataverse.column import ColumnBinding, SupportingColumns, option_values
from functions.matching.records import AccountRecord, ContactRecord, Outcome
from functions.pipeline.hashing import account_hash, contact_from_row, contact_hash
from functions.pipeline.plan import PlanItem, apply_budget, next_refresh, reason_for, refresh_slot, shards_due
from functions.pipeline.validate import Batch, BatchItem
from functions.pipeline.writeback import decide_write
from functions.state.contacts import ContactState

TODAY = date(2026, 3, 1)
BINDING = ColumnBinding("dval_nolongeratcompany", option_values(41020))
SUPPORT = SupportingColumns("dval_validatedon", "dval_currentemployer")
NOW = datetime(2026, 3, 1, 2, tzinfo=UTC)
NF, NAC, IGN = BINDING.no_feedback, BINDING.not_at_company, BINDING.ignore

ROW = {
    "contactid": "AB0C2E1F-0000-4000-8000-000000000001",
    "firstname": " Ada ",
    "lastname": "Lovelace",
    "emailaddress1": "ada@contoso.com",
    "_parentcustomerid_value": "11111111-0000-4000-8000-000000000001",
    "_ownerid_value": "22222222-0000-4000-8000-000000000001",
    "statecode": 0,
}


def test_contact_hash_is_stable_and_ignores_our_columns() -> None:
    a = contact_from_row(ROW)
    b = contact_from_row({**ROW, "dval_nolongeratcompany": NAC, "dval_validatedon": "x", "@odata.etag": "1"})
    assert a.contact_id == ROW["contactid"].lower()
    assert a.first_name == "Ada"
    assert contact_hash(a) == contact_hash(b)
    assert contact_hash(a) != contact_hash(contact_from_row({**ROW, "jobtitle": "CTO"}))
    assert contact_hash(a) != contact_hash(contact_from_row({**ROW, "_parentcustomerid_value": None}))


def test_account_hash() -> None:
    acc = AccountRecord("a", name="Contoso", website="contoso.com")
    assert account_hash(acc) == account_hash(AccountRecord("a", name="Contoso", website="contoso.com"))
    assert account_hash(acc) != account_hash(AccountRecord("a", name="Contoso Ltd", website="contoso.com"))
    assert account_hash(None) == "none"


def _state(**kw) -> ContactState:
    base = {"contact_id": "ab", "in_scope": True, "contact_hash": "c", "account_id": "acc",
            "account_hash": "a", "checked_at": "2026-02-01T02:00:00+00:00", "next_refresh": "2026-03-10"}
    return ContactState(**(base | kw))


@pytest.mark.parametrize(
    ("state", "kwargs", "reason"),
    [
        (None, {}, "new_in_scope"),
        (_state(in_scope=False), {}, "new_in_scope"),
        (_state(), {"account_id": "other"}, "account_changed"),
        (_state(), {"account_hash": "changed"}, "account_changed"),
        (_state(), {"contact_hash": "changed"}, "contact_changed"),
        (_state(), {"profile_changed": True}, "profile_changed"),
        (_state(), {"pending_reason": "retry_after_error"}, "retry_after_error"),
        (_state(), {"pending_reason": "profile_changed"}, "profile_changed"),
        (_state(next_refresh="2026-03-01"), {}, "refresh_due"),
        (_state(), {}, None),
    ],
)
def test_reason_for(state, kwargs, reason) -> None:
    args = {"contact_hash": "c", "account_id": "acc", "account_hash": "a", "today": TODAY} | kwargs
    assert reason_for(state, **args) == reason


def test_refresh_is_spread_evenly_and_never_too_soon() -> None:
    ids = [f"{n:02x}" + "000000-0000-4000-8000-000000000000" for n in range(256)]
    per_day = Counter(next_refresh(cid, TODAY, 30) for cid in ids)
    assert max(per_day.values()) - min(per_day.values()) <= 1  # 256 shards over 30 days: 8 or 9 a day
    assert len(per_day) == 30
    for cid in ids:
        due = next_refresh(cid, TODAY, 30)
        assert timedelta(days=15) <= due - TODAY < timedelta(days=45)
        assert due.toordinal() % 30 == refresh_slot(cid, 30)
        # checked on its slot day -> back exactly one interval later
        assert next_refresh(cid, due, 30) == due + timedelta(days=30)


def test_shards_due_covers_missed_days() -> None:
    today_only = shards_due(TODAY - timedelta(days=1), TODAY, 30)
    assert all(int(s, 16) % 30 == TODAY.toordinal() % 30 for s in today_only)
    three = shards_due(TODAY - timedelta(days=3), TODAY, 30)
    assert set(today_only) < set(three)
    assert len(shards_due(None, TODAY, 30)) == 256
    assert len(shards_due(TODAY - timedelta(days=31), TODAY, 30)) == 256
    assert shards_due(TODAY, TODAY, 30) == []


def test_budget_takes_the_oldest_first() -> None:
    items = [PlanItem("c", "refresh_due", "2026-01-03"), PlanItem("a", "new_in_scope", ""),
             PlanItem("b", "contact_changed", "2026-01-01")]
    now, later = apply_budget(items, 2)
    assert [i.contact_id for i in now] == ["a", "b"]
    assert [i.contact_id for i in later] == ["c"]
    assert len(apply_budget(items, None)[0]) == 3
    assert apply_budget(items, 0) == ([], sorted(items, key=lambda i: i.sort_key))


def _write(outcome, flag, employer_value=None, employer="Fabrikam", written=None):
    return decide_write(outcome, employer, flag_value=flag, employer_value=employer_value, binding=BINDING,
                        supporting=SUPPORT, now=NOW, value_written=written)


def test_writeback_rules() -> None:
    left = _write(Outcome.LEFT, None)
    assert left.kind == "flag"
    assert left.changes == {"dval_nolongeratcompany": NAC, "dval_validatedon": "2026-03-01T02:00:00Z",
                            "dval_currentemployer": "Fabrikam"}
    assert _write(Outcome.LEFT, NF).kind == "flag"
    assert _write(Outcome.LEFT, IGN).kind == "ignored"
    assert _write(Outcome.LEFT, IGN).changes is None
    assert _write(Outcome.LEFT, NAC, "Fabrikam").kind == "none"
    assert _write(Outcome.LEFT, NAC, "Contoso").kind == "employer"
    ours = _write(Outcome.STILL_THERE, NAC, written=NAC)
    assert ours.kind == "unflag"
    assert ours.changes[BINDING.logical_name] == NF
    # a flag a person set (or one we never wrote) is never removed
    assert _write(Outcome.STILL_THERE, NAC).kind == "none"
    assert _write(Outcome.STILL_THERE, NAC, written=NF).kind == "none"
    for outcome in (Outcome.STILL_THERE, Outcome.UNKNOWN):
        assert _write(outcome, NF, written=NAC).kind == "none"
        assert _write(outcome, None, written=NAC).kind == "none"
        assert _write(outcome, IGN, written=NAC).kind == "ignored"


def test_unknown_never_writes_anything() -> None:
    for flag in (None, NF, NAC, IGN):
        for written in (None, NF, NAC):
            assert _write(Outcome.UNKNOWN, flag, written=written).changes is None


def test_unexpected_option_value_is_left_alone() -> None:
    for outcome in (Outcome.LEFT, Outcome.STILL_THERE, Outcome.UNKNOWN):
        decision = _write(outcome, 999, written=NAC)
        assert decision.kind == "unexpected_value"
        assert decision.changes is None


def test_writeback_without_supporting_columns() -> None:
    decision = decide_write(Outcome.LEFT, "X", flag_value=None, employer_value=None, binding=BINDING,
                            supporting=None, now=NOW)
    assert decision.changes == {BINDING.logical_name: NAC}


def test_batch_is_json_serialisable() -> None:
    item = BatchItem(contact={"contact_id": "c1", "email": "a@b.c"},
                     account={"account_id": "a1", "name": "Contoso", "aliases": ["C"]},
                     reason="new_in_scope", flag_value=None, employer_value=None)
    batch = Batch("run", 3, "2026-03-01", (item,))
    again = Batch.from_json(batch.to_json())
    assert again == batch
    assert again.items[0].contact_record() == ContactRecord("c1", email="a@b.c")
    assert again.items[0].account_record().aliases == ("C",)


def test_a_move_inside_the_group_takes_back_only_this_apps_own_flag() -> None:
    def write(written: int | None, rule: str):
        return decide_write(Outcome.UNKNOWN, "Meta", flag_value=NAC, employer_value=None, binding=BINDING,
                            supporting=None, now=NOW, value_written=written, rule=rule)

    same_group = "unknown.current_employer_same_group"
    ours = write(NAC, same_group)
    assert (ours.kind, ours.new_value) == ("unflag", NF)
    assert write(None, same_group).kind == "none"  # a person's flag is never taken back
    assert write(NAC, "unknown.stale_profile").kind == "none"  # no evidence either way: nothing written


def test_a_lone_surrogate_in_a_row_hashes_instead_of_failing_the_run() -> None:
    record = contact_from_row({**ROW, "jobtitle": "Leiter \ud800 Einkauf"})
    assert len(contact_hash(record)) == 32


def test_identity_columns_take_text_only() -> None:
    from functions.pipeline.hashing import IdentityColumns

    identity = IdentityColumns(profile_url_columns=("new_url", "cr1_url"))
    row = {**ROW, "new_url": 12345, "cr1_url": "https://de.linkedin.com/in/anna-m/",
           "emailaddress2": ["x@y.z"], "emailaddress3": "anna@private.example"}
    record = contact_from_row(row, identity)
    assert record.profile_url == "https://de.linkedin.com/in/anna-m/"
    assert record.other_emails == ("anna@private.example",)
