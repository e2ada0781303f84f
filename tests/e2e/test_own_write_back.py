"""Issue 11: the next delta run knows its own write-back by row version, and a full re-read keeps
the stored states on disk, not in memory, without touching the verdicts it does not redo."""

from __future__ import annotations

from functions.state import build_table_service
from functions.state.contacts import ContactStates
from functions.state.tables import ScanTables
from tests.e2e.conftest import NOT_AT_COMPANY, ScanWorld


def _tables(world: ScanWorld) -> ScanTables:
    config = world.config()
    return ScanTables(build_table_service(config), config.scan.state_table_prefix)


def test_own_write_back_costs_no_state_reads(world: ScanWorld) -> None:
    first = world.scan()
    assert first.counters["writes"] > 0

    second = world.scan()

    assert second.status == "succeeded", second.message
    assert second.mode == "delta"
    assert second.rows_read["contacts"] >= first.counters["writes"]  # the echo came back ...
    assert second.counters["own_writes_recognised"] == first.counters["writes"]  # ... and was known
    assert second.counters["looked_up"] == 0
    assert second.counters["writes"] == 0
    assert second.table_operations.get("get", 0) <= 3  # checkpoint, provisioning record, lock
    print(second.table_operations)
    assert sum(second.table_operations.values()) <= 20


def test_a_row_someone_changed_after_our_write_is_looked_at(world: ScanWorld) -> None:
    world.scan()
    flagged = sorted(world.flagged())
    assert flagged
    world.emulator.store.update("contacts", flagged[0], {"jobtitle": "Chief Everything Officer"})

    summary = world.scan()

    assert summary.status == "succeeded", summary.message
    assert summary.counters["own_writes_recognised"] == len(flagged) - 1
    assert dict(summary.planned) == {"contact_changed": 1}
    assert world.flag(flagged[0]) == NOT_AT_COMPANY


def test_a_damaged_echo_record_falls_back_to_reading_states(world: ScanWorld) -> None:
    first = world.scan()
    tables = _tables(world)
    echo_partition = f"echo-{first.run_id}"
    head = tables.crmindex.get(echo_partition, "00000")
    assert head is not None
    tables.crmindex.upsert({"PartitionKey": echo_partition, "RowKey": "00000", "sha256": "0" * 64})

    summary = world.scan()

    assert summary.status == "succeeded", summary.message
    assert summary.counters["own_writes_recognised"] == 0
    assert summary.counters["looked_up"] == 0  # the states still said "nothing changed"
    assert summary.counters["writes"] == 0
    assert summary.table_operations.get("get", 0) >= first.counters["writes"]


def test_full_re_read_keeps_the_verdicts_it_does_not_redo(world: ScanWorld) -> None:
    world.scan()
    states = ContactStates(_tables(world).contacts)
    before = {cid: states.get(cid) for cid in sorted(world.scope())[:40]}
    assert all(s is not None and s.evidence for s in before.values())
    world.emulator.expire_delta_tokens()

    summary = world.scan()

    assert summary.status == "succeeded", summary.message
    assert summary.mode == "full"
    assert summary.counters["looked_up"] == 0
    assert summary.counters["in_scope"] == len(world.scope())
    for cid, old in before.items():
        new = states.get(cid)
        assert new is not None
        assert (new.evidence, new.rule, new.outcome, new.checked_at) == (
            old.evidence, old.rule, old.outcome, old.checked_at)


def _matched_stayer(world: ScanWorld) -> str:
    states = ContactStates(_tables(world).contacts)
    return next(s.contact_id for s in sorted(states.iter_all(), key=lambda s: s.contact_id)
                if s.outcome == "still_there" and s.profile_id and s.lookup_hash)


def test_a_change_that_keeps_the_look_up_keys_is_decided_on_the_known_profile(world: ScanWorld) -> None:
    world.scan()
    stayer = _matched_stayer(world)
    world.emulator.store.update("contacts", stayer, {"jobtitle": "Head of Everything"})

    summary = world.scan()

    assert dict(summary.planned) == {"contact_changed": 1}
    assert summary.counters["looked_up"] == 0
    assert summary.counters["decided_on_known_profile"] == 1
    assert summary.counters["still_there"] == 1
    state = ContactStates(_tables(world).contacts).get(stayer)
    assert '"known profile: look-up keys unchanged"' in state.evidence

    world.emulator.store.update("contacts", stayer, {"emailaddress1": "someone.else@example.org"})  # a key
    again = world.scan()
    assert again.counters["looked_up"] == 1
    assert again.counters["decided_on_known_profile"] == 0


def test_after_the_profile_file_changed_a_changed_contact_is_looked_up_again(world: ScanWorld) -> None:
    world.scan()
    stayer = _matched_stayer(world)
    world.profile_path.write_text(world.profile_path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    world.emulator.store.update("contacts", stayer, {"jobtitle": "Head of Everything"})

    summary = world.scan()

    assert summary.counters["looked_up"] == 1  # the file is another version: a look-up might differ
    assert summary.counters["decided_on_known_profile"] == 0


def test_an_unchanged_profile_file_is_not_read_again(world: ScanWorld) -> None:
    first = world.scan()
    assert first.profile_file.get("profiles_loaded")
    second = world.scan()
    assert second.profile_file == {"unchanged_since_last_run": True,
                                   "profiles": first.profile_file["profiles_loaded"]}
