"""The JSONL and CSV examples in docs/profile-sources.md load as documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from functions.profiles import FileSnapshotSource, ProfileQuery

DOC = Path(__file__).resolve().parents[2] / "docs" / "profile-sources.md"


def _block(language: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
    return blocks[0]


@pytest.mark.parametrize(("language", "name"), [("json", "example.jsonl"), ("csv", "example.csv")])
def test_documented_example_loads(tmp_path: Path, language: str, name: str) -> None:
    text = _block(language)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    source = FileSnapshotSource(str(path))
    stats = source.load()
    assert stats.rows_malformed == {}
    ada = source.lookup([ProfileQuery("q", profile_url="linkedin.com/in/ada-lovelace")])["q"]
    assert ada is not None
    assert ada.emails == ("ada@contoso.com", "ada@home.example")
    assert [p.company.name for p in ada.positions] == ["Contoso Ltd", "Fabrikam, Inc."]
    assert ada.positions[0].is_primary
    assert ada.positions[0].company.aliases == ("Contoso Group",)
    assert ada.positions[1].end_date == "2021-03"
    assert (ada.last_verified, ada.last_changed) == ("2025-06-01", "2021-04")
