"""`make demo`: the daily scan, locally, against the Dataverse emulator and Azurite.

1. Starts Azurite and the Dataverse emulator with a generated sample organisation (some of whose
   contacts moved), and writes a sample profile snapshot for it.
2. Enables validation and runs the scan: provisioning, scope, profile look-ups, verdicts, bulk
   write-back. Prints the run summary, a few flagged contacts with their evidence, and the open
   opportunities they put at risk (the "All Opportunities at Risk" view, executed).
3. Changes a few records over the Web API and a few profiles in the file, runs again, and shows
   that only those contacts were re-validated; then runs once more with nothing changed.

Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from dataverse_emulator import Emulator, OrgSpec, SampleOrg, generate_org
from functions.config import AppConfig, load_config
from functions.dataverse import DataverseClient, build_client, odata_string
from functions.matching.records import Outcome
from functions.pipeline import RunHooks, RunSummary, run_scan
from functions.pipeline.progress import Progress
from functions.state import build_table_service
from functions.state.contacts import ContactStates
from functions.state.tables import ScanTables
from localdev.azurite import Azurite
from localdev.sample_profiles import expected_verdicts, mutate_profiles, profile_id_for, write_profile_file

AT_RISK_VIEW = "All Opportunities at Risk – Contact Has Left Company"


def _heading(text: str) -> None:
    print(f"\n== {text} " + "=" * max(0, 76 - len(text)), flush=True)


def _scan(config: AppConfig, title: str) -> RunSummary:
    _heading(title)
    progress = Progress(sys.stderr)
    summary = run_scan(config, hooks=RunHooks(on_progress=progress), trigger="demo")
    progress.finish()
    print(summary.render())
    return summary


def _contact_states(config: AppConfig) -> ContactStates:
    return ContactStates(ScanTables(build_table_service(config), config.scan.state_table_prefix).contacts)


def _explain(evidence: dict[str, Any]) -> list[str]:
    """The evidence of one verdict, as a rep would want to read it."""
    person, fresh = evidence.get("person", {}), evidence.get("freshness", {})
    was, now = evidence.get("account_position", {}), evidence.get("current", {})
    return [
        f"person: {person.get('strength')} match on {person.get('basis')}",
        f"at the account: {was.get('company')!r} {was.get('start')} to {was.get('end')} "
        f"(same company by {was.get('basis')})",
        f"now: {now.get('company')!r} since {now.get('start')} ({now.get('kind')}: {now.get('basis')})",
        f"profile confirmed {fresh.get('as_of')} ({fresh.get('age_days')} days ago)",
    ]


def _show_flagged(
    client: DataverseClient, config: AppConfig, flag_column: str, flag_value: int, n: int
) -> None:
    _heading(f"A few flagged contacts ({flag_column} = {flag_value}) and why")
    states = _contact_states(config)
    rows = client.iter_rows(
        "contacts",
        select=["fullname", "emailaddress1", "_parentcustomerid_value", "dval_currentemployer"],
        filter=f"{flag_column} eq {flag_value}",
        annotations="OData.Community.Display.V1.FormattedValue",
        page_size=n,
    )
    for shown, row in enumerate(rows):
        if shown == n:
            break
        account = row.get("_parentcustomerid_value@OData.Community.Display.V1.FormattedValue")
        print(f"- {row['fullname']} <{row.get('emailaddress1')}>: filed under {account!r}, "
              f"now at {row.get('dval_currentemployer')!r}")
        state = states.get(row["contactid"])
        if state and state.evidence:
            print(f"  rule {state.rule}")
            for line in _explain(json.loads(state.evidence)):
                print(f"    {line}")


def _show_at_risk(client: DataverseClient, n: int) -> int:
    _heading(f"Opportunities at risk (view '{AT_RISK_VIEW}', executed)")
    views = client.get_json(
        "savedqueries",
        params={"$select": "fetchxml", "$filter": f"name eq {odata_string(AT_RISK_VIEW)} and querytype eq 0"},
    )["value"]
    if not views:
        print("view not found")
        return 0
    result = client.get_json(
        "opportunities",
        params={"fetchXml": views[0]["fetchxml"]},
        headers={"Prefer": 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"'},
    )["value"]
    for row in result[:n]:
        value, closes = row.get("estimatedvalue") or 0, row.get("estimatedclosedate")
        print(f"- {row.get('name')}: {value:,.0f}, closes {closes}")
    print(f"{len(result)} open opportunities at risk in all")
    return len(result)


def _make_changes(client: DataverseClient, sample: SampleOrg, profiles: Path, in_scope: list[str],
                  today: date) -> list[str]:
    """One contact moves to another account (over the Web API); three profiles change in the file."""
    _heading("Changing one contact's account and three profiles")
    expected = expected_verdicts(sample, profiles, today=today)
    mover = in_scope[0]
    row = client.get_json(f"contacts({mover})", params={"$select": "fullname,_parentcustomerid_value"})
    other = next(a["accountid"] for a in sample.rows("accounts")
                 if a["accountid"] != row.get("_parentcustomerid_value"))
    client.update("contacts", mover, {"parentcustomerid_account@odata.bind": f"/accounts({other})"})
    print(f"- {row['fullname']}: parent account changed (PATCH over the Web API)")
    with_profiles = {p["contact_id"] for p in _own_profiles(profiles)}
    stayers = [
        cid for cid in in_scope[1:] if expected.get(cid) is Outcome.STILL_THERE and cid in with_profiles
    ]
    changed = stayers[:3]
    mutate_profiles(profiles, changed, today=today)
    for cid in changed:
        print(f"- contact {cid}: profile now shows a move to another company")
    return [mover, *changed]


def _own_profiles(path: Path) -> list[dict[str, Any]]:
    owned = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            contact_id = record["profile_id"].removeprefix("sp-")
            if record["profile_id"] == profile_id_for(contact_id):
                owned.append({"contact_id": contact_id})
    return owned


def run(contacts: int, seed: int) -> int:
    started = time.monotonic()
    today = datetime.now(UTC).date()
    spec = OrgSpec(contacts=contacts, seed=seed)
    sample = generate_org(spec)
    _heading("Starting Azurite and the Dataverse emulator (loopback only)")
    with (
        tempfile.TemporaryDirectory(prefix="dval-demo-") as workdir,
        Azurite() as azurite,
        Emulator(spec) as emulator,
    ):
        profiles = Path(workdir) / "profiles.jsonl"
        stats = write_profile_file(sample, profiles, today=today)
        print(f"Azurite:            http://127.0.0.1:{azurite.table_port}/devstoreaccount1")
        print(f"Dataverse emulator: {emulator.url}  (sample org: {contacts} contacts, seed {seed})")
        print(f"Profile snapshot:   {profiles} ({stats.profiles} profiles)")
        config = load_config(
            {
                "DATAVERSE_URL": emulator.url,
                "DATAVERSE_AUTH": "local",
                "STATE_STORAGE_CONNECTION": azurite.connection_string,
                "PROFILE_FILE": str(profiles),
                "SCAN_ENABLED": "true",
            }
        )
        client = build_client(config.dataverse)

        first = _scan(config, "Run 1: first (back-fill) scan")
        if not first.ok:
            return 1
        flag_column = "dval_nolongeratcompany"
        flag_value = next(
            (o["Value"] for o in _options(client, flag_column) if o["Label"] == "No longer at company"), None
        )
        if flag_value is not None:
            _show_flagged(client, config, flag_column, flag_value, n=3)
        at_risk = _show_at_risk(client, n=5)

        in_scope = sorted(s.contact_id for s in _contact_states(config).iter_all() if s.in_scope and s.active)
        changed = _make_changes(client, sample, profiles, in_scope, today)
        second = _scan(config, "Run 2: after the changes")
        third = _scan(config, "Run 3: nothing changed")

    _heading(f"Done in {time.monotonic() - started:.1f} s")
    revalidated = second.counters.get("looked_up", 0)
    flagged = first.counters.get("flagged", 0)
    print(f"Run 1 flagged {flagged} contacts; {at_risk} open opportunities are at risk.")
    print(f"Run 2 re-validated {revalidated} contacts ({len(changed)} changed): "
          + ", ".join(f"{k} {v}" for k, v in sorted(second.planned.items())))
    print(f"Run 3: {third.counters.get('looked_up', 0)} look-ups, {third.counters.get('writes', 0)} writes, "
          f"{third.request_total} Dataverse requests")
    ok = second.ok and third.ok and revalidated == len(changed) and third.counters.get("looked_up", 0) == 0
    if not ok:
        print("Unexpected: the later runs did not re-validate exactly what changed", file=sys.stderr)
    return 0 if ok else 1


def _options(client: DataverseClient, column: str) -> list[dict[str, Any]]:
    metadata = client.get_json(
        f"EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='{column}')"
        "/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
        params={"$select": "LogicalName", "$expand": "OptionSet($select=Options)"},
    )
    options = []
    for option in metadata["OptionSet"]["Options"]:
        labels = {label["LanguageCode"]: label["Label"] for label in option["Label"]["LocalizedLabels"]}
        english = labels.get(1033) or next(iter(labels.values()), "")
        options.append({"Value": option["Value"], "Label": english})
    return options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=3000, help="sample organisation size (default 3000)")
    parser.add_argument("--seed", type=int, default=1, help="sample data seed (default 1)")
    args = parser.parse_args(argv)
    return run(args.contacts, args.seed)


if __name__ == "__main__":
    sys.exit(main())
