"""Identity columns and the account hierarchy through real scans: emulator over HTTP, Azurite, a file."""

from __future__ import annotations

import json

from functions.matching.records import Outcome
from functions.profiles import FileSnapshotSource, ProfileQuery
from functions.state import build_table_service
from functions.state.contacts import ContactState, ContactStates
from functions.state.tables import ScanTables

from .conftest import FLAG, NO_FEEDBACK, NOT_AT_COMPANY, ScanWorld

URL_COLUMN = "new_linkedinurl"


def _state(world: ScanWorld, contact_id: str) -> ContactState:
    config = world.config()
    state = ContactStates(ScanTables(build_table_service(config), world.prefix).contacts).get(contact_id)
    assert state is not None
    return state


def _add_url_column(world: ScanWorld) -> None:
    with world.client() as client:
        client.create("EntityDefinitions(LogicalName='contact')/Attributes", {
            "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
            "SchemaName": "new_LinkedInUrl", "MaxLength": 200,
            "DisplayName": {"LocalizedLabels": [{"Label": "LinkedIn", "LanguageCode": 1033}]},
        })


def _movers(world: ScanWorld) -> list[str]:
    expected = world.expected()
    return sorted(cid for cid in world.scope() if expected[cid] is Outcome.LEFT)


def _profile_of(world: ScanWorld, contact_id: str):
    row = world.emulator.store.get("contacts", contact_id)
    source = FileSnapshotSource(str(world.profile_path))
    return source.lookup([ProfileQuery(contact_id, email=row["emailaddress1"])])[contact_id]


def test_identity_columns_revalidate_only_the_contacts_whose_values_changed(world: ScanWorld) -> None:
    _add_url_column(world)
    world.scan()
    world.emulator.counters.reset()
    quiet = world.scan()  # a day without changes: the baseline
    baseline = sum(world.emulator.counters.requests.values())
    assert quiet.counters["looked_up"] == 0

    # the admin names the URL column: every contact is read once, nobody is re-validated (no values yet)
    with_url = world.config(CONTACT_PROFILE_URL_COLUMNS=URL_COLUMN)
    summary = world.scan(config=with_url)
    assert summary.mode == "full"
    assert dict(summary.planned) == {}
    assert summary.counters["looked_up"] == 0

    # three contacts get a profile URL, two others a second address: exactly those five are re-validated
    contacts = sorted(world.scope())
    for cid in contacts[:3]:
        url = f"https://www.linkedin.com/in/{cid[:8]}/"
        world.emulator.store.update("contacts", cid, {URL_COLUMN: url}, stamp=True)
    for cid in contacts[3:5]:
        world.emulator.store.update("contacts", cid, {"emailaddress2": f"{cid[:8]}@private.example"},
                                    stamp=True)
    summary = world.scan(config=with_url)
    assert summary.mode == "delta"
    assert dict(summary.planned) == {"contact_changed": 5}

    # the next quiet day costs what it cost before the identity columns
    world.emulator.counters.reset()
    quiet = world.scan(config=with_url)
    assert quiet.counters["looked_up"] == 0
    assert dict(quiet.planned) == {}
    assert sum(world.emulator.counters.requests.values()) == baseline


def test_a_second_email_column_finds_the_profile_when_the_first_is_old(world: ScanWorld) -> None:
    mover = _movers(world)[0]
    row = world.emulator.store.get("contacts", mover)
    assert _profile_of(world, mover) is not None
    # the CRM's first address is an old one no profile lists; the real one sits in emailaddress2
    world.emulator.store.update("contacts", mover, {"emailaddress1": "old.address@retired.example",
                                                    "emailaddress2": row["emailaddress1"]})
    world.scan()
    assert world.flag(mover) == NOT_AT_COMPANY
    evidence = json.loads(_state(world, mover).evidence)
    assert evidence["person"]["basis"] == "email"
    assert evidence["lookup"]["status"] == "matched"
    # without the extra column the contact is not found by e-mail, and is never flagged on a name alone
    fresh_state = world.config(CONTACT_EMAIL_COLUMNS="none", STATE_TABLE_PREFIX=world.prefix + "b")
    world.emulator.store.update("contacts", mover, {FLAG: None})
    summary = world.scan(config=fresh_state)
    assert summary.status == "succeeded", summary.message
    assert world.flag(mover) is None


def test_a_move_inside_the_dataverse_account_hierarchy_is_never_flagged(world: ScanWorld) -> None:
    movers = _movers(world)
    mover = movers[0]
    profile = _profile_of(world, mover)
    current = next(p for p in profile.positions if p.is_primary)
    account_id = world.emulator.store.get("contacts", mover)["_parentcustomerid_value"]
    # the new employer is in the CRM as the parent account of the mover's account (names unrelated)
    parent_id = world.emulator.store.insert("accounts", {
        "name": current.company.name, "websiteurl": current.company.website, "statecode": 0,
    })
    world.emulator.store.update("accounts", account_id, {"_parentaccountid_value": parent_id})

    summary = world.scan()

    assert summary.status == "succeeded", summary.message
    assert world.flag(mover) is None
    state = _state(world, mover)
    assert (state.outcome, state.rule) == ("unknown", "unknown.current_employer_same_group")
    evidence = json.loads(state.evidence)
    assert evidence["group"] == {"source": "dataverse_account_hierarchy", "account": current.company.name}
    # every other mover is flagged as before
    others = {m for m in movers[1:]
              if world.emulator.store.get("contacts", m)["_parentcustomerid_value"] != account_id}
    assert others <= world.flagged()


def test_a_hierarchy_added_later_reaches_the_contacts_of_that_account(world: ScanWorld) -> None:
    world.scan()
    mover = _movers(world)[1]
    profile = _profile_of(world, mover)
    current = next(p for p in profile.positions if p.is_primary)
    account_id = world.emulator.store.get("contacts", mover)["_parentcustomerid_value"]
    sister = world.emulator.store.insert("accounts", {"name": current.company.name,
                                                      "websiteurl": current.company.website, "statecode": 0})
    holding = world.emulator.store.insert("accounts", {"name": "Unrelated Holding SE", "statecode": 0})
    world.emulator.store.update("accounts", sister, {"_parentaccountid_value": holding}, stamp=True)
    world.emulator.store.update("accounts", account_id, {"_parentaccountid_value": holding}, stamp=True)

    summary = world.scan()  # delta: the account changed; its hierarchy is read up and down

    assert summary.mode == "delta"
    assert summary.planned["account_changed"] >= 1
    state = _state(world, mover)
    assert state.rule == "unknown.current_employer_same_group"
    assert json.loads(state.evidence)["group"]["account"] == current.company.name


def test_a_sister_account_added_later_takes_back_the_apps_own_flag(world: ScanWorld) -> None:
    mover = _movers(world)[2]
    account_id = world.emulator.store.get("contacts", mover)["_parentcustomerid_value"]
    holding = world.emulator.store.insert("accounts", {"name": "Unrelated Holding SE", "statecode": 0})
    world.emulator.store.update("accounts", account_id, {"_parentaccountid_value": holding})
    world.scan()
    assert world.flag(mover) == NOT_AT_COMPANY  # the new employer is not in the CRM yet: a real LEFT
    assert _state(world, mover).value_written == NOT_AT_COMPANY

    # the new employer is added as a sister account; the mover's own account does not change
    current = next(p for p in _profile_of(world, mover).positions if p.is_primary)
    sister = {"name": current.company.name, "websiteurl": current.company.website,
              "_parentaccountid_value": holding, "statecode": 0}
    world.emulator.store.insert("accounts", sister, stamp=True)
    summary = world.scan()

    assert summary.mode == "delta"
    state = _state(world, mover)
    assert state.rule == "unknown.current_employer_same_group"
    assert world.flag(mover) == NO_FEEDBACK  # this app's own flag, taken back on positive evidence
    assert summary.counters["unflagged"] >= 1
