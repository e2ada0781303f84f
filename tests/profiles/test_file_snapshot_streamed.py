"""FileSnapshotSource's streamed build: with an index cache directory, the records, profile ids and
content hashes go to disk as the rows are parsed (the cache file's data section, two scratch files), and
only the offsets and key columns stay in memory. The result must be the in-memory build, bit for bit:
the same sections, stats (malformed rows, duplicates), look-ups and profiles.

Snapshots are "aged" (mtime a minute back): a file modified within the last two seconds is never cached.
"""

from __future__ import annotations

import errno
import gzip
import logging
import os
import random
from pathlib import Path

import pytest

import functions.profiles.file_snapshot as fs
from functions.profiles import FileSnapshotSource, ProfileQuery

from .conftest import csv_text, jsonl, person, write
from .test_file_snapshot_index import aged, outcome, scenario_snapshot

SECTIONS = ("_data", "_offsets", "_pids", "_pid_offsets", "_content")
COLUMNS = ("_ids", "_urls", "_emails", "_names")


def index_of(source: FileSnapshotSource) -> dict:
    """Every part of the index as plain values (from the heap or from the mapped cache file alike)."""
    parts: dict = {name: bytes(memoryview(getattr(source, name)).cast("B")) for name in SECTIONS}
    parts["_dead"] = sorted(source._dead)
    for name in COLUMNS:
        column = getattr(source, name)
        parts[name] = (list(column.hashes), list(column.records))
    return parts


def stats_of(source: FileSnapshotSource) -> dict:
    return source.stats.as_dict() | {"load_seconds": 0, "index_cache": "", "from_cache": False}


def leftovers(directory: Path) -> list[str]:
    """Everything in the cache directory but finished cache files (temp and scratch files)."""
    return sorted(p.name for p in directory.iterdir() if not p.name.endswith(".idx"))


def messy_rows() -> list:
    """Profiles with every kind of row problem, and profile ids repeated: the last row of an id wins."""
    rows: list = []
    for i in range(60):
        rows.append(person(f"p{i}", "Ada", f"Lovelace{i % 7}", emails=(f"ada{i}@contoso.com",),
                           past=(f"Past Co {i % 5}",)))
    rows[10:10] = ["{not json", {"profile_id": ""}, {"profile_id": "bad", "emails": "not-a-list"},
                   {"profile_id": "d", "last_verified": "yesterday"}, "[1, 2]", ""]
    again = person("p3", "Ada", "Lovelace3", company="Fabrikam", website="fabrikam.com")
    rows += [again, person("p3", "Ada", "Lovelace3", company="Northwind", website=None),  # p3 three times
             person("p7", "Ada", "Lovelace0"), "{still not json"]
    rows.insert(30, person("p20", "Ada", "Moved", company="Woodgrove"))  # p20 twice, the later one first
    return rows


def queries_for(rows: list) -> list[ProfileQuery]:
    queries = [ProfileQuery("miss", email="nobody@nowhere.example"), ProfileQuery("skip")]
    for i in range(60):
        queries.append(ProfileQuery(f"url{i}", profile_url=f"linkedin.com/in/p{i}"))
        queries.append(ProfileQuery(f"mail{i}", email=f"ada{i}@contoso.com"))
        queries.append(ProfileQuery(f"name{i}", first_name="Ada", last_name=f"Lovelace{i % 7}",
                                    company_name="Contoso Ltd"))
        queries.append(ProfileQuery(f"past{i}", first_name="Ada", last_name=f"Lovelace{i % 7}",
                                    company_name=f"Past Co {i % 5}"))
    queries += [ProfileQuery("fab", first_name="Ada", last_name="Lovelace3", company_name="Fabrikam"),
                ProfileQuery("north", first_name="Ada", last_name="Lovelace3", company_name="Northwind")]
    return queries


def assert_same_as_memory(path: Path, index_dir: Path, queries: list[ProfileQuery]) -> FileSnapshotSource:
    fresh = FileSnapshotSource(str(path))  # no index_dir: the in-memory build
    assert fresh.load().index_cache == "memory"
    streamed = FileSnapshotSource(str(path), index_dir=index_dir)
    assert streamed.load().index_cache == "built"
    assert streamed._mapping is not None
    assert index_of(streamed) == index_of(fresh)
    assert stats_of(streamed) == stats_of(fresh)
    assert outcome(streamed, queries) == outcome(fresh, queries)
    assert list(streamed.iter_profiles()) == list(fresh.iter_profiles())
    assert list(streamed.profile_hashes()) == list(fresh.profile_hashes())
    reused = FileSnapshotSource(str(path), index_dir=index_dir)
    assert reused.load().from_cache
    assert index_of(reused) == index_of(fresh)
    assert outcome(reused, queries) == outcome(fresh, queries)
    assert leftovers(index_dir) == []  # no temp or scratch file stays behind
    return fresh


@pytest.mark.parametrize("name", ["p.jsonl", "p.jsonl.gz"])
def test_a_streamed_build_equals_the_memory_build_with_duplicates_and_malformed_rows(
        tmp_path: Path, name: str, monkeypatch) -> None:
    monkeypatch.setattr(fs, "_FREEZE_CHUNK", 7)  # the key columns move into the sort in many chunks
    rows = messy_rows()
    path = aged(write(tmp_path / name, jsonl(rows)))
    fresh = assert_same_as_memory(path, tmp_path / "idx", queries_for(rows))
    stats = fresh.stats
    assert stats.rows_malformed["duplicate_profile_id"] == 4  # p3: 2 earlier rows; p7, p20: 1 each
    assert {"bad_json", "missing_profile_id", "wrong_type", "bad_date"} <= set(stats.rows_malformed)
    assert fresh._dead
    found = fresh.lookup([ProfileQuery("c", profile_url="linkedin.com/in/p3")])["c"]
    assert found is not None
    assert found.positions[0].company.name == "Northwind"  # the last row of p3


def test_a_streamed_build_of_the_scenarios_equals_the_memory_build(tmp_path: Path) -> None:
    path, queries = scenario_snapshot(tmp_path / "profiles.jsonl")
    assert_same_as_memory(path, tmp_path / "idx", queries)


def test_a_streamed_csv_build_equals_the_memory_build(tmp_path: Path) -> None:
    header = ["profile_id", "first_name", "last_name", "emails", "company_name", "is_primary"]
    rows = [["c1", "Alan", "Turing", "alan@fabrikam.com", "Fabrikam", "true"],
            ["c1", "", "", "", "Bletchley", "maybe"],  # bad is_primary: c1 is rejected
            ["c2", "Grace", "Hopper", "grace@navy.mil", "US Navy", "true"],
            ["c3", "Ada", "Lovelace", "ada@contoso.com", "Contoso", "true"],
            ["", "No", "Id", "", "", ""],
            ["c2", "Grace", "Hopper", "grace@navy.mil", "Yale", "true"]]  # c2 again: the later one wins
    path = aged(write(tmp_path / "p.csv", csv_text(header, rows)))
    queries = [ProfileQuery("g", email="grace@navy.mil"), ProfileQuery("a", email="ada@contoso.com"),
               ProfileQuery("t", email="alan@fabrikam.com")]
    fresh = assert_same_as_memory(path, tmp_path / "idx", queries)
    assert fresh.stats.rows_malformed["duplicate_profile_id"] == 1
    assert fresh.stats.profiles_loaded == 2


def test_the_records_never_enter_the_heap_of_a_streamed_build(tmp_path: Path, monkeypatch) -> None:
    rng = random.Random(7)
    rows = [person(f"p{i}", "Ada", f"L{i}", company="".join(rng.choices("abcdefghij", k=400)))
            for i in range(300)]
    path = aged(write(tmp_path / "p.jsonl", jsonl(rows)))
    seen: dict[str, int] = {}
    finish = FileSnapshotSource._finish

    def spy(self: FileSnapshotSource) -> None:
        finish(self)
        seen.update({name: len(getattr(self, name)) for name in ("_data", "_pids", "_content")})
        seen["records"] = self._offsets[-1]

    monkeypatch.setattr(FileSnapshotSource, "_finish", spy)
    source = FileSnapshotSource(str(path), index_dir=tmp_path / "idx")
    assert source.load().index_cache == "built"
    assert seen["records"] > 60_000  # the records were written (deflated, some 300 bytes each)......
    assert seen["_data"] == seen["_pids"] == seen["_content"] == 0  # ...but never kept in memory


def test_a_file_changed_while_it_was_read_is_mapped_but_not_cached(tmp_path: Path, monkeypatch) -> None:
    rows = messy_rows()
    path = aged(write(tmp_path / "p.jsonl", jsonl(rows)))
    expected = outcome(FileSnapshotSource(str(path)), queries_for(rows))
    identity = FileSnapshotSource._identity
    calls = []

    def changing(self: FileSnapshotSource) -> tuple[str, str, bool]:
        location, version, settled = identity(self)
        calls.append(version)
        return location, (version if len(calls) == 1 else version + ":changed"), settled

    monkeypatch.setattr(FileSnapshotSource, "_identity", changing)
    source = FileSnapshotSource(str(path), index_dir=tmp_path / "idx")
    stats = source.load()
    assert stats.index_cache == "unsettled"
    assert len(calls) == 2  # before the build (the plan) and after it
    assert os.listdir(tmp_path / "idx") == []  # not cached; the temp file is unlinked (still mapped)
    assert outcome(source, queries_for(rows)) == expected
    monkeypatch.setattr(FileSnapshotSource, "_identity", identity)
    assert FileSnapshotSource(str(path), index_dir=tmp_path / "idx").load().index_cache == "built"


@pytest.mark.parametrize("failing", ["_put", "finish"])
def test_a_cache_write_failure_falls_back_to_memory(tmp_path: Path, monkeypatch, caplog, failing) -> None:
    """Disk full half-way through the records, or while the sections are appended: the file is parsed
    again into memory, nothing is left in the directory, and the run goes on."""
    rows = messy_rows()
    path = aged(write(tmp_path / "p.jsonl", jsonl(rows)))
    fresh = FileSnapshotSource(str(path))
    expected = outcome(fresh, queries_for(rows))
    original = getattr(fs._StreamedIndex, failing)
    calls = []

    def full(self, *args, **kwargs):
        calls.append(1)
        if len(calls) > 20 or failing == "finish":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(fs._StreamedIndex, failing, full)
    source = FileSnapshotSource(str(path), index_dir=tmp_path / "idx")
    with caplog.at_level(logging.WARNING):
        stats = source.load()
    assert stats.index_cache == "memory"
    assert "not usable" in caplog.text
    assert stats_of(source) == stats_of(fresh)
    assert outcome(source, queries_for(rows)) == expected
    assert os.listdir(tmp_path / "idx") == []
    monkeypatch.setattr(fs._StreamedIndex, failing, original)
    assert FileSnapshotSource(str(path), index_dir=tmp_path / "idx").load().index_cache == "built"


def test_a_broken_file_leaves_no_temp_file(tmp_path: Path) -> None:
    data = gzip.compress(jsonl([person(f"p{i}", "Ada", f"L{i}") for i in range(200)]).encode())
    path = tmp_path / "p.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])  # a truncated gzip: broken after some rows
    aged(path)
    source = FileSnapshotSource(str(path), index_dir=tmp_path / "idx")
    with pytest.raises(fs.ProfileSourceError, match="broken"):
        source.load()
    assert os.listdir(tmp_path / "idx") == []
    assert source.stats.profiles_loaded == 0


def test_freeze_sorts_in_chunks_and_drops_dead_records(monkeypatch) -> None:
    monkeypatch.setattr(fs, "_FREEZE_CHUNK", 5)
    rng = random.Random(3)
    pairs = [(rng.getrandbits(64), rng.randrange(50)) for _ in range(500)]
    pairs += [(pairs[0][0], 7), (pairs[1][0], 3)]  # equal hashes: sorted by record
    column = fs._KeyColumn()
    for key_hash, record in pairs:
        column.add(key_hash, record)
    column.freeze({3, 11})
    expected = sorted((h, r) for h, r in pairs if r not in (3, 11))
    assert list(zip(column.hashes, column.records, strict=True)) == expected
