"""HTTP behaviour: headers, keep-alive, the sample org, speed, and the CLI."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import requests

from dataverse_emulator import Emulator


def test_standard_response_headers(emu: Emulator, http: requests.Session) -> None:
    r = http.get(emu.api_url + "contacts")
    assert r.headers["OData-Version"] == "4.0"
    assert r.headers["Content-Type"] == "application/json; odata.metadata=minimal"
    assert r.headers["x-ms-dop-hint"] == "4"
    assert int(r.headers["Content-Length"]) == len(r.content)


def test_keep_alive_reuses_one_connection(emu: Emulator, http: requests.Session) -> None:
    sockets = set()
    for _ in range(5):
        r = http.get(emu.api_url + "WhoAmI", stream=True)
        sockets.add(id(r.raw._connection.sock))
        _ = r.content  # read the body so the connection goes back to the pool
    assert len(sockets) == 1


def test_paths_outside_the_api_are_404(emu: Emulator, http: requests.Session) -> None:
    assert http.get(emu.url + "/").status_code == 404
    assert http.get(emu.api_url + "Nope(1)").status_code == 404


def test_sample_org_fixture(emulator: Emulator, http: requests.Session) -> None:
    r = http.get(
        emulator.api_url + "contacts?$select=fullname,_parentcustomerid_value",
        headers={"Prefer": 'odata.include-annotations="*"'},
    )
    rows = r.json()["value"]
    assert len(rows) == 60
    linked = [row for row in rows if row["_parentcustomerid_value"]]
    assert linked
    assert all("_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname" in row for row in linked)
    users = http.get(
        emulator.api_url + "systemusers",
        params={"$select": "fullname", "$filter": "teammembership_association/any(t:t/name ne null)"},
    ).json()["value"]
    assert users
    r = http.get(
        emulator.api_url + "connectionroles", params={"$select": "name", "$filter": "name eq 'Stakeholder'"}
    )
    assert len(r.json()["value"]) == 1


@pytest.mark.slow
def test_a_full_page_of_5000_is_served_fast(emulator_factory, http: requests.Session) -> None:
    emu = emulator_factory(None)
    emu.store.load(
        "contacts",
        (
            {
                "firstname": f"F{i}",
                "lastname": f"L{i}",
                "fullname": f"F{i} L{i}",
                "emailaddress1": f"f{i}@example.com",
                "jobtitle": "Engineer",
            }
            for i in range(20_000)
        ),
    )
    url = emu.api_url + "contacts?$select=fullname,emailaddress1,jobtitle,_parentcustomerid_value"
    http.get(url, headers={"Prefer": "odata.maxpagesize=10"})
    start = time.perf_counter()
    r = http.get(url, headers={"Prefer": "odata.maxpagesize=5000"})
    elapsed = time.perf_counter() - start
    assert len(r.json()["value"]) == 5000
    assert elapsed < 1.0


def test_cli_starts_and_prints_the_url() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "dataverse_emulator", "--port", "0", "--contacts", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line
        url = line.split("listening on ", 1)[1].split()[0]
        r = requests.get(url + "/api/data/v9.2/WhoAmI", headers={"Authorization": "Bearer x"}, timeout=5)
        assert r.status_code == 200
        assert "DATAVERSE_AUTH=local" in proc.stdout.readline()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
