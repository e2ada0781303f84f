"""Fixtures for profile-source tests: snapshot files on disk and the PDL replay server."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from localdev.pdl_replay import PdlReplayServer

API_KEY = "pdl-test-key-7f3a9c2e51"


def jsonl(rows: Iterable[Any]) -> str:
    return "".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows)


def csv_text(header: list[str], rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write(path: Path, text: str) -> Path:
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def person(
    profile_id: str,
    first: str,
    last: str,
    *,
    company: str = "Contoso Ltd",
    website: str | None = "contoso.com",
    slug: str | None = None,
    emails: tuple[str, ...] = (),
    past: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A profile in the native JSONL schema: current job at ``company``, ended jobs at ``past``."""
    positions = [
        {
            "company": {
                "name": company,
                "website": website,
                "linkedin_id": None,
                "linkedin_url": None,
                "aliases": [],
                "parent_name": None,
            },
            "title": "Engineer",
            "start_date": "2021-04",
            "end_date": None,
            "is_primary": True,
        }
    ]
    positions += [
        {
            "company": {"name": name},
            "title": "Analyst",
            "start_date": "2015",
            "end_date": "2021-03",
            "is_primary": False,
        }
        for name in past
    ]
    return {
        "profile_id": profile_id,
        "full_name": f"{first} {last}",
        "first_name": first,
        "last_name": last,
        "profile_url": f"https://www.linkedin.com/in/{slug or profile_id}/",
        "emails": list(emails),
        "last_verified": "2025-06-01",
        "last_changed": "2021-04-15",
        "positions": positions,
    }


@pytest.fixture
def pdl() -> Iterator[PdlReplayServer]:
    with PdlReplayServer(api_key=API_KEY) as server:
        yield server
