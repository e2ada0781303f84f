"""`make serve`: the Function App, locally, against the Dataverse emulator and Azurite.

Starts Azurite and the Dataverse emulator with a generated sample organisation, writes a sample
profile snapshot for it, points the app settings at them (DATAVERSE_AUTH=local, storage and the
queue trigger's AzureWebJobsStorage on Azurite) and serves ``function_app.app`` with the local
Functions host on http://127.0.0.1:<port>/api: the HTTP routes (function key) and the queue worker.
Prints the URL, the key (once) and a few curl examples. Ctrl-C stops everything.

Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from dataverse_emulator import Emulator, OrgSpec, SampleOrg, generate_org
from functions.matching.records import Outcome
from localdev.azurite import Azurite
from localdev.sample_profiles import expected_verdicts, write_profile_file

STATE_TABLE_PREFIX = "dval"
# What `python -m functions doctor` / `scan` in another shell needs to use the same emulator, Azurite,
# state tables and profile file (local Azurite development credentials: fine to print on this machine).
CLI_SETTINGS = ("DATAVERSE_URL", "DATAVERSE_AUTH", "STATE_STORAGE_CONNECTION", "PROFILE_FILE",
                "STATE_TABLE_PREFIX", "AzureWebJobsStorage")


def local_settings(emulator_url: str, storage: str, profile_file: Path) -> dict[str, str]:
    """The app settings for a local run (what the Function App's app settings hold in Azure)."""
    return {
        "DATAVERSE_URL": emulator_url,
        "DATAVERSE_AUTH": "local",
        "STATE_STORAGE_CONNECTION": storage,
        "AzureWebJobsStorage": storage,
        "PROFILE_FILE": str(profile_file),
        "STATE_TABLE_PREFIX": STATE_TABLE_PREFIX,
        "API_AUTH": "key",
    }


def export_line(settings: dict[str, str]) -> str:
    """One paste-ready ``export ...`` line with the settings the CLI needs (shell-quoted)."""
    return "export " + " ".join(f"{name}={shlex.quote(settings[name])}" for name in CLI_SETTINGS)


def first_flagged_contact(sample: SampleOrg, profile_file: Path) -> str | None:
    """A contact the first run flags: its profile shows they left (ground truth of the sample file),
    and it is certainly in scope (active, owned by an enabled human user, i.e. a default sync user)."""
    users = {
        u["systemuserid"]
        for u in sample.rows("systemusers")
        if not u["isdisabled"] and u["accessmode"] == 0 and u["applicationid"] is None
        and u["azureactivedirectoryobjectid"]
    }
    verdicts = expected_verdicts(sample, profile_file)
    left = {cid for cid, outcome in verdicts.items() if outcome is Outcome.LEFT}
    candidates = sorted(
        c["contactid"] for c in sample.rows("contacts")
        if c["contactid"] in left and c["statecode"] == 0 and c["_ownerid_value"] in users
    )
    return candidates[0] if candidates else None


def _examples(url: str) -> list[str]:
    key = '-H "x-functions-key: $KEY"'
    return [
        f"curl -s {url}/health",
        f"curl -si {key} {url}/settings",
        f"curl -si -X PATCH {key} -H 'If-Match: *' -H 'Content-Type: application/merge-patch+json' "
        f"-d '{{\"enabled\": true}}' {url}/settings",
        f"curl -s {key} {url}/status",
        f"curl -s {key} {url}/contacts/$CONTACT/validation",
        f"curl -s -X POST {key} -H 'Content-Type: application/json' -d '{{\"dry_run\": true}}' {url}/runs",
    ]


def run(port: int, contacts: int, seed: int, key: str | None) -> int:
    spec = OrgSpec(contacts=contacts, seed=seed)
    sample = generate_org(spec)
    print("Starting Azurite and the Dataverse emulator (loopback only) ...", flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="dval-serve-") as workdir,
        Azurite() as azurite,
        Emulator(spec) as emulator,
    ):
        profiles = Path(workdir) / "profiles.jsonl"
        stats = write_profile_file(sample, profiles, today=datetime.now(UTC).date())
        settings = local_settings(emulator.url, azurite.connection_string, profiles)
        os.environ.update(settings)
        contact = first_flagged_contact(sample, profiles)
        # Imported only now: the app and its blueprints see the settings above, as on Azure.
        import function_app
        from functions.localhost import LocalFunctionsHost, configure_logging

        configure_logging()

        try:
            host = LocalFunctionsHost(function_app.app, port=port, key=key).start()
        except (OSError, ValueError) as exc:
            print(f"Cannot serve on 127.0.0.1:{port}: {exc}", file=sys.stderr)
            return 2
        print(f"Dataverse emulator: {emulator.url}  (sample org: {contacts} contacts, seed {seed})")
        print(f"Azurite:            queues on 127.0.0.1:{azurite.queue_port}, tables on "
              f"127.0.0.1:{azurite.table_port}")
        print(f"Profile snapshot:   {profiles} ({stats.profiles} profiles)")
        print(f"\nFunctions host:     {host.url}")
        for line in host.describe_routes():
            print(f"  {line}")
        # The one line that shows the key; the examples below read it from $KEY (and $CONTACT).
        print(f"\nexport KEY='{host.key}'")
        if contact:
            print(f"export CONTACT={contact}   # a contact the first run flags (moved, per the sample file)")
        print("\nTry:")
        for example in _examples(host.url):
            print(f"  {example}")
        print("\n`python -m functions doctor` / `scan` against this emulator and Azurite, in another shell "
              "(local dev credentials):")
        print(f"  {export_line(settings)}")
        print("\nTimer triggers do not run locally: the daily scan runs only when you start a run (enabling "
              "starts the first one; POST /api/runs), so next_scheduled_run in /api/status is informational.")
        print("\nCtrl-C stops the host, the emulator and Azurite.", flush=True)
        host.serve_until_interrupted()
    print("Stopped.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.serve", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=int(os.environ.get("SERVE_PORT", "7071")),
                        help="port on 127.0.0.1 (default 7071, or $SERVE_PORT)")
    parser.add_argument("--contacts", type=int, default=300, help="sample organisation size (default 300)")
    parser.add_argument("--seed", type=int, default=1, help="sample data seed (default 1)")
    parser.add_argument("--key", default=os.environ.get("LOCAL_FUNCTION_KEY"),
                        help="function key (default: $LOCAL_FUNCTION_KEY, else random)")
    args = parser.parse_args(argv)
    try:
        return run(args.port, args.contacts, args.seed, args.key)
    except KeyboardInterrupt:  # Ctrl-C while starting: the context managers have cleaned up
        print("Stopped.")
        return 130


if __name__ == "__main__":
    sys.exit(main())
