"""Read rounds (``functions.dataverse.rounds``) and ``query_batched`` against the Dataverse emulator over
real loopback HTTP: independent reads of several tables share one ``$batch``, dependent ones take a
round each, and a failed part of a ``$batch`` surfaces as a plain GET's failure would (repeated alone
when transient, raised as its typed error otherwise) - never as rows that are simply missing."""

from __future__ import annotations

from typing import Any

import pytest

from functions.dataverse import ForbiddenError, NotFoundError, ServerError
from functions.dataverse.rounds import Read, Task, parallel, run_rounds

from .conftest import emulator_module

Fault = emulator_module.Fault


def rows_of(emu: Any, entity_set: str) -> dict[str, dict[str, Any]]:
    td = emu.store.tables[entity_set]
    key = entity_set[:-1] + "id"
    with emu.store.lock:
        return {row[key]: row for row in (td.to_dict(r) for r in td.rows.values())}


def by_id(column: str, ids: list[str], per_filter: int = 5) -> list[str]:
    return [" or ".join(f"{column} eq {i}" for i in ids[start : start + per_filter])
            for start in range(0, len(ids), per_filter)]


def accounts_of(emu: Any, contact_ids: list[str]) -> set[str]:
    contacts, accounts = rows_of(emu, "contacts"), rows_of(emu, "accounts")
    return {contacts[c]["_parentcustomerid_value"] for c in contact_ids} & set(accounts)


def requests(client: Any) -> dict[str, int]:
    counts = client.request_counts
    return {k: v for k, v in counts.items() if v and k not in ("retries", "throttled", "token_refreshes")}


def contacts_then_accounts(emu: Any, ids: list[str]) -> Task[tuple[list[dict], list[dict]]]:
    """A dependent pair: the accounts of the contacts just read."""
    contacts = Read("contacts", by_id("contactid", ids), ["contactid", "_parentcustomerid_value"])
    yield [contacts]
    account_ids = sorted({c["_parentcustomerid_value"] for c in contacts.results
                          if c["_parentcustomerid_value"]})
    accounts = Read("accounts", by_id("accountid", account_ids), ["accountid", "name"])
    yield [accounts]
    return contacts.results, accounts.results


def test_query_batched_reads_several_tables_in_one_batch_and_hands_each_page_to_its_get(
        make_emulator, make_client) -> None:
    emu = make_emulator(40)
    client = make_client(emu)
    contacts = sorted(rows_of(emu, "contacts"))[:12]
    accounts = sorted(rows_of(emu, "accounts"))[:7]
    gets = [("contacts", f, ["fullname"]) for f in by_id("contactid", contacts, 6)]
    gets += [("accounts", f, ["name"]) for f in by_id("accountid", accounts, 7)]

    seen: dict[int, list[str]] = {}
    for position, rows in client.query_batched(gets, page_size=4):  # pages of 4: nextLinks inside
        key = "contactid" if gets[position][0] == "contacts" else "accountid"
        seen.setdefault(position, []).extend(row[key] for row in rows)

    assert sorted(seen[0] + seen[1]) == contacts
    assert sorted(seen[2]) == accounts
    assert set(seen[0]).isdisjoint(seen[1])
    # three GETs in the first $batch; their second pages (and the third's) in the next ones
    assert requests(client) == {"batch_read": 2}


def test_independent_reads_share_a_round_and_dependent_ones_take_one_each(make_emulator, make_client) -> None:
    emu = make_emulator(60)
    client = make_client(emu)
    every = sorted(rows_of(emu, "contacts"))
    users = Read("systemusers", ["isdisabled eq false"], ["systemuserid"], plain_when_alone=True)

    def users_task() -> Task[list[dict]]:
        yield [users]
        return users.results

    first, second, found_users = run_rounds(client, parallel(
        contacts_then_accounts(emu, every[:20]), contacts_then_accounts(emu, every[30:45]), users_task()))

    assert sorted(c["contactid"] for c in first[0]) == every[:20]
    assert {a["accountid"] for a in first[1]} == accounts_of(emu, every[:20]) != set()
    assert sorted(c["contactid"] for c in second[0]) == every[30:45]
    assert {u["systemuserid"] for u in found_users} == {
        u for u, row in rows_of(emu, "systemusers").items() if not row["isdisabled"]}
    # round 1: both contact reads and the users (4 + 3 + 1 GETs); round 2: both account reads
    assert requests(client) == {"batch_read": 2}
    assert (emu.counters.requests["batch"], emu.counters.requests["read"]) == (2, 0)


def test_a_lone_get_is_a_batch_unless_marked_plain_when_alone(emu, make_client) -> None:
    client = make_client(emu)
    contact = sorted(rows_of(emu, "contacts"))[0]

    def one(read: Read) -> Task[list]:
        yield [read]
        return read.results

    assert len(run_rounds(client, one(Read("contacts", [f"contactid eq {contact}"], ["fullname"])))) == 1
    assert requests(client) == {"batch_read": 1}  # every targeted read of a round travels in a $batch
    run_rounds(client, one(Read("systemusers", ["isdisabled eq false"], ["fullname"], plain_when_alone=True)))
    assert requests(client) == {"batch_read": 1, "read": 1}
    # a task that needs nothing sends nothing
    assert run_rounds(client, one(Read("contacts", [], ["fullname"]))) == []
    assert requests(client) == {"batch_read": 1, "read": 1}


def test_a_throttled_part_is_repeated_alone_and_the_round_is_complete(make_emulator, make_client) -> None:
    emu = make_emulator(60)
    client = make_client(emu)
    every = sorted(rows_of(emu, "contacts"))
    emu.faults.add(Fault("throttle", path=r"^accounts$", in_batch=True, times=2, retry_after=0))
    emu.faults.add(Fault("server_error", status=503, path=r"^contacts$", in_batch=True, times=1))

    (contacts, accounts), = run_rounds(client, parallel(contacts_then_accounts(emu, every[:30])))

    assert sorted(c["contactid"] for c in contacts) == every[:30]
    assert {a["accountid"] for a in accounts} == accounts_of(emu, every[:30]) != set()
    assert (emu.faults.fired["throttle"], emu.faults.fired["server_error"]) == (2, 1)
    # two rounds of one $batch each; the three failed parts were asked again on their own
    assert requests(client) == {"batch_read": 2, "read": 3}


@pytest.mark.parametrize(("kind", "status", "error"), [
    ("server_error", 404, NotFoundError),
    ("forbidden", 403, ForbiddenError),
])
def test_a_part_that_fails_for_good_raises_what_a_plain_get_raises(make_emulator, make_client, kind, status,
                                                                   error) -> None:
    emu = make_emulator(60)
    client = make_client(emu)
    every = sorted(rows_of(emu, "contacts"))
    emu.faults.add(Fault(kind, status=status, path=r"^accounts$", in_batch=True, times=1))
    task = parallel(contacts_then_accounts(emu, every[:30]))

    with pytest.raises(error) as raised:
        run_rounds(client, task)

    assert raised.value.status == status
    assert requests(client) == {"batch_read": 2}  # not repeated: a 404/403 is not transient
    assert task.gi_frame is None  # the task was closed: nothing goes on with rows missing


def test_a_part_failing_on_every_attempt_raises_server_error_after_the_retries(make_emulator,
                                                                               make_client) -> None:
    emu = make_emulator(30)
    client = make_client(emu, max_retries=2, max_retry_wait=0.01)
    every = sorted(rows_of(emu, "contacts"))
    emu.faults.add(Fault("server_error", status=503, path=r"^accounts$", in_batch=True, times=None))
    emu.faults.add(Fault("server_error", status=503, method="GET", path=r"^accounts$", times=None))

    with pytest.raises(ServerError):
        run_rounds(client, parallel(contacts_then_accounts(emu, every[:10])))

    counts = client.request_counts
    assert (counts["batch_read"], counts["read"], counts["retries"]) == (2, 3, 2)  # alone: 1 + 2 retries
