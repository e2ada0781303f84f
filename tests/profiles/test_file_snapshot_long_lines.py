"""Lines longer than ``MAX_LINE_BYTES`` (issue 5, S3): counted as malformed (``line_too_long``) and
skipped, read past in pieces so that a huge line is never held as a whole; the rows around it load."""

from __future__ import annotations

import gzip
import tracemalloc
from pathlib import Path

import pytest

from functions.profiles import FileSnapshotSource
from functions.profiles.file_snapshot import MAX_LINE_BYTES, _bounded_lines

from .conftest import csv_text, jsonl, person

HUGE = 3 * 1024 * 1024


def _jsonl_with_huge_line(path: Path, *, gz: bool = False, size: int = HUGE) -> Path:
    rows = [jsonl([person(f"p{i}", "Ada", f"Lovelace{i}")]) for i in range(6)]
    huge = '{"profile_id": "huge", "full_name": "' + "x" * size + '"}\n'
    data = "".join(rows[:3]) + huge + "".join(rows[3:])
    raw = data.encode()
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_a_huge_jsonl_line_is_malformed_and_skipped(tmp_path: Path, gz: bool) -> None:
    path = _jsonl_with_huge_line(tmp_path / ("p.jsonl.gz" if gz else "p.jsonl"), gz=gz)
    stats = FileSnapshotSource(str(path)).load()
    assert stats.profiles_loaded == 6
    assert stats.rows_read == 7
    assert stats.rows_malformed == {"line_too_long": 1}
    assert stats.malformed_examples[0][:2] == (4, "line_too_long")


def test_a_huge_line_is_never_held_in_memory(tmp_path: Path) -> None:
    size = 8 * HUGE  # 24 MiB in one line: memory stays at a few MiB, whatever the line's length
    path = _jsonl_with_huge_line(tmp_path / "p.jsonl", size=size)
    tracemalloc.start()
    try:
        stats = FileSnapshotSource(str(path)).load()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stats.rows_malformed == {"line_too_long": 1}
    assert stats.profiles_loaded == 6
    assert peak < 4 * MAX_LINE_BYTES, f"the long line was held in memory ({peak} bytes at peak)"


def test_a_huge_csv_line_is_malformed_and_skipped(tmp_path: Path) -> None:
    header = ["profile_id", "first_name", "last_name", "company_name", "is_primary"]
    rows = [[f"c{i}", "Alan", f"Turing{i}", "Fabrikam", "true"] for i in range(5)]
    text = csv_text(header, rows[:2]) + "huge,Alan," + "y" * HUGE + ",Fabrikam,true\n" \
        + csv_text(header, rows[2:]).split("\n", 1)[1]
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    stats = FileSnapshotSource(str(path)).load()
    assert stats.profiles_loaded == 5
    assert stats.rows_malformed == {"line_too_long": 1}
    assert stats.malformed_examples[0][:2] == (4, "line_too_long")


def test_bounded_lines_at_the_cap(tmp_path: Path) -> None:
    exactly = b"a" * (MAX_LINE_BYTES - 1) + b"\n"
    over = b"b" * MAX_LINE_BYTES + b"\n"
    no_newline_at_end = b"c" * (MAX_LINE_BYTES * 2 + 5)
    path = tmp_path / "lines"
    path.write_bytes(b"x\n" + exactly + over + b"y\n" + no_newline_at_end)
    with path.open("rb") as stream:
        lines = list(_bounded_lines(stream))
    assert lines == [b"x\n", exactly, None, b"y\n", None]
