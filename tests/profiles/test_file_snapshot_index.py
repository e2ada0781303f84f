"""FileSnapshotSource's index cache: version(), the mmap-ed cache file, profile_hashes(), the protocols.

Real files in tmp_path throughout. A snapshot is "aged" (mtime set a minute back) before it may be
cached: a file modified within the last two seconds is deliberately never cached (its version could
still change without its size or mtime changing).
"""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from functions.config import load_profile_config
from functions.profiles import (
    FileSnapshotSource,
    PeopleDataLabsSource,
    ProfileCatalog,
    ProfileQuery,
    ProfileSource,
    ProfileSourceAuthError,
    ProfileSourceError,
    build_profile_source,
    profile_content_hash,
)
from functions.profiles.file_snapshot import INDEX_FORMAT

from .conftest import csv_text, jsonl, person, write

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "tests" / "data" / "scenarios").glob("*.jsonl"))


def aged(path: Path, seconds: float = 60.0) -> Path:
    """Set the file's mtime back, as for a snapshot delivered a while ago (settled: cacheable)."""
    when = time.time() - seconds
    os.utime(path, (when, when))
    return path


def scenario_snapshot(path: Path) -> tuple[Path, list[ProfileQuery]]:
    """All profiles of the scenario fixtures in one JSONL (repeated ids included: the last one wins),
    and a query per scenario contact, built as the pipeline builds them."""
    profiles, queries = [], []
    for scenario_file in SCENARIOS:
        for line in scenario_file.read_text(encoding="utf-8").splitlines():
            case = json.loads(line)
            profiles += [p for p in [case.get("profile"), *(case.get("other_profiles") or [])] if p]
            contact, account = case["contact"], case.get("account") or {}
            queries.append(ProfileQuery(
                f"{case['id']}:{contact['contact_id']}",
                profile_url=contact.get("profile_url"),
                email=contact.get("email"),
                first_name=contact.get("first_name"),
                last_name=contact.get("last_name"),
                full_name=contact.get("full_name"),
                company_name=account.get("name"),
                company_website=account.get("website"),
            ))
    # Plus misses and look-ups by every profile's own URL and e-mail.
    for i, profile in enumerate(profiles):
        queries.append(ProfileQuery(f"own-{i}", profile_url=profile.get("profile_url"),
                                    email=(profile.get("emails") or [None])[0]))
    queries.append(ProfileQuery("miss", email="nobody@nowhere.example"))
    queries.append(ProfileQuery("skip"))
    # A correction of the first profile further down: the first becomes a dead record.
    correction = json.loads(json.dumps(profiles[0]))
    correction["full_name"] = "Corrected " + (correction.get("full_name") or "")
    rows = [*profiles, "{not json", {"profile_id": ""}, correction]
    return aged(write(path, jsonl(rows))), queries


def cache_files(directory: Path) -> list[str]:
    return sorted(glob.glob(str(directory / "*.idx")))


def outcome(source: FileSnapshotSource, queries: list[ProfileQuery]) -> dict:
    return {cid: (r.status, r.profile, r.detail) for cid, r in source.lookup_results(queries).items()}


@pytest.fixture
def scenario_file(tmp_path: Path) -> tuple[Path, list[ProfileQuery]]:
    return scenario_snapshot(tmp_path / "profiles.jsonl")


def test_lookups_from_the_cache_equal_a_fresh_parse(tmp_path: Path, scenario_file) -> None:
    path, queries = scenario_file
    fresh = FileSnapshotSource(str(path))  # no index_dir: parsed into memory, as before the cache
    fresh_stats = fresh.load()
    assert fresh_stats.index_cache == "memory"
    assert fresh_stats.rows_malformed["duplicate_profile_id"] > 0  # the dead-record path is exercised
    expected = outcome(fresh, queries)
    statuses = {status for status, _, _ in expected.values()}
    assert {"matched", "not_found", "skipped"} <= statuses

    builder = FileSnapshotSource(str(path), index_dir=tmp_path / "idx")
    assert builder.load().index_cache == "built"
    assert len(cache_files(tmp_path / "idx")) == 1
    assert outcome(builder, queries) == expected

    reader = FileSnapshotSource(str(path), index_dir=tmp_path / "idx")
    stats = reader.load()
    assert stats.from_cache
    assert stats.index_cache == "reused"
    assert outcome(reader, queries) == expected
    assert list(reader.iter_profiles()) == list(fresh.iter_profiles())
    assert len(reader) == len(fresh)
    # The stats of the parse travel with the cache file.
    for name in ("rows_read", "rows_malformed", "malformed_examples", "profiles_loaded",
                 "profiles_rejected"):
        assert getattr(stats, name) == getattr(fresh_stats, name), name
    assert stats.as_dict()["from_cache"] is True


def test_a_reused_cache_never_reads_the_file(tmp_path: Path) -> None:
    """The file's content is replaced by garbage of the same size with the same mtime (same inode, so
    the same version): only an index that really came from the cache can still find Ada."""
    ada = person("p1", "Ada", "Lovelace", emails=("ada@contoso.com",))
    path = aged(write(tmp_path / "p.jsonl", jsonl([ada])))
    FileSnapshotSource(str(path), index_dir=tmp_path / "idx").load()
    before = os.stat(path)
    version = FileSnapshotSource(str(path)).version()
    with open(path, "r+b") as out:
        out.write(b"#" * before.st_size)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert FileSnapshotSource(str(path)).version() == version
    assert FileSnapshotSource(str(path)).load().profiles_loaded == 0  # a parse finds nothing now

    source = FileSnapshotSource(str(path), index_dir=tmp_path / "idx")
    assert source.load().from_cache
    found = source.lookup([ProfileQuery("c", email="ADA@contoso.com")])["c"]
    assert found is not None
    assert found.profile_id == "p1"


def test_another_process_opens_the_same_cache(tmp_path: Path, scenario_file) -> None:
    """A worker process (another str-hash seed) maps the cache and answers alike: the key hashes are
    stable across processes, unlike Python's hash()."""
    path, queries = scenario_file
    source = FileSnapshotSource(str(path), index_dir=tmp_path / "idx")
    source.load()
    expected = {cid: (r.status, r.profile.profile_id if r.profile else None)
                for cid, r in source.lookup_results(queries).items()}
    script = (
        "import json, sys\n"
        "from functions.profiles import FileSnapshotSource, ProfileQuery\n"
        "path, idx = sys.argv[1:]\n"
        "source = FileSnapshotSource(path, index_dir=idx)\n"
        "stats = source.load()\n"
        "queries = [ProfileQuery(**q) for q in json.loads(sys.stdin.read())]\n"
        "found = {c: (r.status, r.profile.profile_id if r.profile else None)\n"
        "         for c, r in source.lookup_results(queries).items()}\n"
        "print(json.dumps({'from_cache': stats.from_cache, 'found': found}))\n"
    )
    fields = ("contact_id", "profile_url", "email", "first_name", "last_name", "full_name", "company_name",
              "company_website")
    raw = json.dumps([{k: getattr(q, k) for k in fields} for q in queries])
    done = subprocess.run(
        [sys.executable, "-c", script, str(path), str(tmp_path / "idx")], input=raw, cwd=ROOT,
        capture_output=True, text=True, timeout=120, check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    answer = json.loads(done.stdout)
    assert answer["from_cache"] is True
    assert {k: tuple(v) for k, v in answer["found"].items()} == expected


def test_a_changed_file_builds_a_new_cache_and_drops_the_old(tmp_path: Path) -> None:
    path = aged(write(tmp_path / "p.jsonl", jsonl([person("p1", "Ada", "Lovelace")])), 120)
    first = FileSnapshotSource(str(path), index_dir=tmp_path / "idx")
    first.load()
    old_version, old_files = first.version(), cache_files(tmp_path / "idx")
    assert len(old_files) == 1

    aged(write(path, jsonl([person("p1", "Ada", "Lovelace"), person("p2", "Alan", "Turing")])))
    second = FileSnapshotSource(str(path), index_dir=tmp_path / "idx")
    assert second.version() != old_version
    stats = second.load()
    assert stats.index_cache == "built"
    assert stats.profiles_loaded == 2
    new_files = cache_files(tmp_path / "idx")
    assert len(new_files) == 1
    assert new_files != old_files
    assert FileSnapshotSource(str(path), index_dir=tmp_path / "idx").load().from_cache
    # The first source keeps answering from its own (now unlinked) mapping.
    assert first.lookup([ProfileQuery("c", profile_url="linkedin.com/in/p1")])["c"] is not None


def test_a_file_written_moments_ago_is_not_cached(tmp_path: Path) -> None:
    path = write(tmp_path / "p.jsonl", jsonl([person("p1", "Ada", "Lovelace")]))
    stats = FileSnapshotSource(str(path), index_dir=tmp_path / "idx").load()
    assert stats.index_cache == "unsettled"
    assert stats.profiles_loaded == 1
    assert cache_files(tmp_path / "idx") == []


def _truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _bad_magic(data: bytes) -> bytes:
    return b"NOTANIDX" + data[8:]


def _header_bit(data: bytes) -> bytes:
    return data[:40] + bytes([data[40] ^ 1]) + data[41:]  # a section offset: the checksum must catch it


def _extended(data: bytes) -> bytes:
    return data + b"\0" * 8


def _meta_changed(data: bytes) -> bytes:
    at = data.rindex(b'"profiles_loaded":')
    return data[:at] + data[at:].replace(b'"profiles_loaded":', b'"profiles_loaded": ', 1)[:-1]


def _emptied(data: bytes) -> bytes:
    return b""


@pytest.mark.parametrize("damage", [_truncate, _bad_magic, _header_bit, _extended, _meta_changed, _emptied])
def test_a_damaged_cache_file_is_rebuilt_never_trusted(tmp_path: Path, damage, caplog) -> None:
    path = aged(write(tmp_path / "p.jsonl", jsonl([person(f"p{i}", "Ada", f"L{i}") for i in range(50)])))
    FileSnapshotSource(str(path), index_dir=tmp_path / "idx").load()
    (cache,) = cache_files(tmp_path / "idx")
    Path(cache).write_bytes(damage(Path(cache).read_bytes()))

    source = FileSnapshotSource(str(path), index_dir=tmp_path / "idx")
    stats = source.load()
    assert stats.index_cache == "built"
    assert stats.profiles_loaded == 50
    assert "ignored" in caplog.text or "truncated" in caplog.text
    assert source.lookup([ProfileQuery("c", profile_url="linkedin.com/in/p7")])["c"].profile_id == "p7"
    assert FileSnapshotSource(str(path), index_dir=tmp_path / "idx").load().from_cache  # repaired


def test_a_cache_built_for_another_version_under_the_same_name_is_refused(tmp_path: Path) -> None:
    """The identity inside the file is checked, not just the file name."""
    one = aged(write(tmp_path / "one.jsonl", jsonl([person("p1", "Ada", "Lovelace")])))
    two = aged(write(tmp_path / "two.jsonl", jsonl([person("p2", "Alan", "Turing")])))
    FileSnapshotSource(str(one), index_dir=tmp_path / "idx").load()
    (cache_one,) = cache_files(tmp_path / "idx")
    FileSnapshotSource(str(two), index_dir=tmp_path / "idx").load()
    cache_two = next(f for f in cache_files(tmp_path / "idx") if f != cache_one)
    os.replace(cache_one, cache_two)  # one's index under two's name
    source = FileSnapshotSource(str(two), index_dir=tmp_path / "idx")
    assert source.load().index_cache == "built"
    assert source.lookup([ProfileQuery("c", profile_url="linkedin.com/in/p2")])["c"] is not None


def test_an_unusable_directory_falls_back_to_memory(tmp_path: Path, caplog) -> None:
    path = aged(write(tmp_path / "p.jsonl", jsonl([person("p1", "Ada", "Lovelace")])))
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # writable by anyone: a planted index could be waiting there
    for directory in (blocker / "idx", shared):
        source = FileSnapshotSource(str(path), index_dir=directory)
        stats = source.load()
        assert stats.index_cache == "memory"
        assert stats.profiles_loaded == 1
        assert source.lookup([ProfileQuery("c", profile_url="linkedin.com/in/p1")])["c"] is not None
    assert "not usable" in caplog.text
    assert cache_files(shared) == []


def test_profile_hashes_equal_the_profiles_hashes(tmp_path: Path, scenario_file) -> None:
    path, _ = scenario_file
    for index_dir in (None, tmp_path / "idx", tmp_path / "idx"):  # memory, built, reused
        source = FileSnapshotSource(str(path), index_dir=index_dir)
        profiles = list(source.iter_profiles())
        pairs = list(source.profile_hashes())
        assert dict(pairs) == {p.profile_id: p.content_hash for p in profiles}
        assert len(pairs) == len(profiles) == source.stats.profiles_loaded  # duplicates resolved
        assert all(p.content_hash == profile_content_hash(p) for p in profiles)  # stored = recomputed
        assert all(source.profile_hash(pid) == phash for pid, phash in pairs)  # one at a time, alike
        assert source.profile_hash("no-such-profile") is None
    assert source.stats.from_cache


def test_csv_stats_and_profiles_survive_the_cache(tmp_path: Path) -> None:
    header = ["profile_id", "first_name", "last_name", "emails", "company_name", "is_primary"]
    rows = [["c1", "Alan", "Turing", "alan@fabrikam.com", "Fabrikam", "true"],
            ["c1", "", "", "", "Bletchley", "maybe"],  # bad is_primary: c1 is rejected
            ["c2", "Grace", "Hopper", "grace@navy.mil", "US Navy", "true"]]
    path = aged(write(tmp_path / "p.csv.gz", csv_text(header, rows)))
    built = FileSnapshotSource(str(path), index_dir=tmp_path / "idx").load()
    reused = FileSnapshotSource(str(path), index_dir=tmp_path / "idx").load()
    assert reused.from_cache
    assert reused.as_dict() | {"load_seconds": 0, "index_cache": "", "from_cache": 0} == \
        built.as_dict() | {"load_seconds": 0, "index_cache": "", "from_cache": 0}
    assert reused.profiles_rejected == 1
    assert reused.rows_malformed == {"wrong_type": 1}


def test_version_of_a_local_file(tmp_path: Path) -> None:
    path = write(tmp_path / "p.jsonl", jsonl([person("p1", "Ada", "Lovelace")]))
    source = FileSnapshotSource(str(path))
    info = os.stat(path)
    assert source.version() == f"file:{info.st_size}:{info.st_mtime_ns}:{info.st_ino}:{info.st_dev}"
    assert source.version() == FileSnapshotSource(str(path), index_dir=tmp_path / "i").version()
    write(path, jsonl([person("p1", "Ada", "Lovelace"), person("p2", "Alan", "Turing")]))
    assert source.version() != f"file:{info.st_size}:{info.st_mtime_ns}:{info.st_ino}:{info.st_dev}"


def test_version_and_load_of_a_missing_file_raise_the_typed_error(tmp_path: Path) -> None:
    source = FileSnapshotSource(str(tmp_path / "gone.jsonl"), index_dir=tmp_path / "idx")
    with pytest.raises(ProfileSourceError, match="unreadable") as raised:
        source.version()
    assert not isinstance(raised.value, ProfileSourceAuthError)
    with pytest.raises(ProfileSourceError, match="unreadable"):
        source.load()
    with pytest.raises(ProfileSourceError, match="unreadable"):
        FileSnapshotSource(str(tmp_path), format="jsonl").version()  # a directory


def test_close_releases_the_mapping_and_reload_works(tmp_path: Path) -> None:
    path = aged(write(tmp_path / "p.jsonl", jsonl([person("p1", "Ada", "Lovelace")])))
    FileSnapshotSource(str(path), index_dir=tmp_path / "idx").load()
    source = FileSnapshotSource(str(path), index_dir=tmp_path / "idx")
    assert source.load().from_cache
    source.close()
    assert source._mapping is None
    assert source.lookup([ProfileQuery("c", profile_url="linkedin.com/in/p1")])["c"] is not None


def test_the_setting_reaches_the_source(tmp_path: Path) -> None:
    path = aged(write(tmp_path / "p.jsonl", jsonl([person("p1", "Ada", "Lovelace")])))
    env = {"PROFILE_FILE": str(path), "PROFILE_INDEX_DIR": str(tmp_path / "configured")}
    build_profile_source(load_profile_config(env)).load()
    assert len(cache_files(tmp_path / "configured")) == 1
    off = build_profile_source(load_profile_config({**env, "PROFILE_INDEX_DIR": "off"}))
    assert off.load().index_cache == "memory"
    default = load_profile_config({"PROFILE_FILE": str(path)}).index_dir
    assert default is not None
    assert default.endswith("dval-profile-index")


def test_the_declared_protocols(tmp_path: Path) -> None:
    path = write(tmp_path / "p.jsonl", jsonl([person("p1", "Ada", "Lovelace")]))
    source = FileSnapshotSource(str(path))
    pdl = PeopleDataLabsSource("k" * 20)
    assert isinstance(source, ProfileSource)
    assert isinstance(source, ProfileCatalog)
    assert isinstance(pdl, ProfileSource)
    assert not isinstance(pdl, ProfileCatalog)
    assert INDEX_FORMAT >= 1


def _mapped_rss_kb(path_fragment: str) -> int:
    """Resident kB of this process's mappings of files whose path contains ``path_fragment``."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if re.match(r"[0-9a-f]+-[0-9a-f]+ ", line):  # a mapping's header line
            inside = path_fragment in line
        elif inside and line.startswith("Rss:"):
            total += int(line.split()[1])
    return total


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux /proc")
def test_look_ups_give_the_mapped_pages_back(tmp_path: Path) -> None:
    from functions.profiles import file_snapshot

    rows = [person(f"p{n}", f"Given{n}", f"Family{n}", company=f"Company {n % 700}", website=None,
                   slug=f"given-family-{n}", emails=(f"g{n}@company{n % 700}.example",))
            for n in range(6000)]
    path = aged(write(tmp_path / "p.jsonl", jsonl(rows)))
    FileSnapshotSource(str(path), index_dir=tmp_path / "idx").load()  # builds the cache file
    source = FileSnapshotSource(str(path), index_dir=tmp_path / "idx")
    assert source.load().from_cache
    queries = [ProfileQuery(f"c{n}", email=f"g{n}@company{n % 700}.example") for n in range(0, 6000, 3)]
    found = source.lookup_results(queries[: file_snapshot._RELEASE_EVERY - 1])
    assert all(r.status == "matched" for r in found.values())
    touched = _mapped_rss_kb("/idx/")
    assert touched > 100  # the look-ups paged the index in
    seen: list[int] = []  # resident while one call's look-ups run: given back within the call too
    look_up = source._lookup_one
    source._lookup_one = lambda query: (seen.append(_mapped_rss_kb("/idx/")), look_up(query))[1]
    source.lookup_results(queries[file_snapshot._RELEASE_EVERY - 1 :])  # ~20 release marks
    del source._lookup_one
    assert max(seen[file_snapshot._RELEASE_EVERY :]) < 2 * touched
    assert _mapped_rss_kb("/idx/") < 2 * touched
    assert source.lookup_results(queries[:5])["c0"].profile.profile_id == "p0"  # still answers
    pairs = list(source.profile_hashes())  # a whole pass gives its pages back at the end
    assert len(pairs) == 6000
    assert _mapped_rss_kb("/idx/") < touched / 4
