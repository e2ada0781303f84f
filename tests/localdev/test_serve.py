"""`make serve` prints what the README and docs/settings-api.md tell you to paste."""

from __future__ import annotations

import shlex
import subprocess
from datetime import date
from pathlib import Path

from dataverse_emulator import OrgSpec, generate_org
from functions.config import load_config
from functions.matching.records import Outcome
from localdev.azurite import DEV_ACCOUNT, DEV_KEY
from localdev.sample_profiles import expected_verdicts, write_profile_file
from localdev.serve import CLI_SETTINGS, export_line, first_flagged_contact, local_settings

STORAGE = (f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
           f"QueueEndpoint=http://127.0.0.1:1/{DEV_ACCOUNT};TableEndpoint=http://127.0.0.1:2/{DEV_ACCOUNT};")


def test_export_line_is_paste_ready_and_loads_as_the_same_config(tmp_path: Path) -> None:
    settings = local_settings("http://127.0.0.1:5555", STORAGE, tmp_path / "profiles.jsonl")
    line = export_line(settings)
    assert line.startswith("export DATAVERSE_URL=http://127.0.0.1:5555 DATAVERSE_AUTH=local ")
    for name in ("STATE_STORAGE_CONNECTION", "PROFILE_FILE", "STATE_TABLE_PREFIX", "AzureWebJobsStorage"):
        assert f" {name}=" in line
    # What a shell makes of it: exactly the settings the host uses (semicolons quoted).
    script = line + "; " + "; ".join(f'printf "%s\\n" "${name}"' for name in CLI_SETTINGS)
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin"}).stdout.splitlines()
    assert out == [settings[name] for name in CLI_SETTINGS]
    config = load_config(dict(zip(CLI_SETTINGS, out, strict=True)))
    assert config.scan.state_table_prefix == settings["STATE_TABLE_PREFIX"]
    assert shlex.split(line)[0] == "export"


def test_the_printed_contact_is_one_the_first_run_flags(tmp_path: Path) -> None:
    sample = generate_org(OrgSpec(contacts=300, seed=1))  # make serve's defaults
    path = tmp_path / "profiles.jsonl"
    write_profile_file(sample, path, today=date(2026, 11, 28))
    contact = first_flagged_contact(sample, path)
    assert contact is not None
    assert expected_verdicts(sample, path)[contact] is Outcome.LEFT
    row = sample.get("contacts", contact)
    assert row is not None
    assert row["statecode"] == 0
    owner = next(u for u in sample.rows("systemusers") if u["systemuserid"] == row["_ownerid_value"])
    assert not owner["isdisabled"]
    assert owner["applicationid"] is None
