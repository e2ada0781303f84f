"""Profile snapshot file (JSONL or CSV, local or in Azure Blob storage) as a profile source.

The file is streamed once (``load()``, or the first ``lookup``) into a compact index and never held
raw: each profile is stored as a deflated positional JSON record, with its profile id and content hash
beside it, and the look-up keys (profile URL, email, name + company, name + company domain) are 64-bit
hashes in sorted columns, searched with ``bisect``. A hit is decoded and checked against the query, so
a hash collision can never return the wrong person. Roughly 250-400 bytes per profile plus 12 bytes
per key: 1,000,000 profiles take some 400-470 MB (see docs/profile-sources.md, "Limits").

Index cache (``index_dir``, app setting ``PROFILE_INDEX_DIR``): the index is built once per version of
the file (``version()``: size, mtime and inode of a local file; ETag and size of a blob) and written to
``<index_dir>/<location hash>-<version hash>.idx`` (atomically: temp file, fsync, ``os.replace``).
That build streams: each record, profile id and content hash goes to disk as its row is parsed (the
temp file's data section, two scratch files), and only what must be sorted - the key columns, 12 bytes
per key - and the per-record offsets stay in memory (``_StreamedIndex``).
Every later ``load()`` of that version - the next run, or another worker process - maps that file
read-only with ``mmap`` and searches it in place: no parsing, and the records and key columns stay in
the page cache, shared by all processes, instead of each process's heap. A cache file is used only
when its header (magic, format, byte order, length, checksum, identity) is intact; anything else is
rebuilt. When the cache cannot be used (directory not writable or not private, a file modified within
the last ``_SETTLE_SECONDS``), the index stays in memory, as without a cache; the cache never fails a
run.

Row problems (bad JSON, missing ``profile_id``, wrong types, bad dates, several primary positions,
duplicate ids, bad encoding, lines over ``MAX_LINE_BYTES``) are counted in
``stats.rows_malformed[reason]`` with the line numbers of the first few, and that profile is skipped;
they are never fatal. File-level problems (missing file, unknown format, CSV without a ``profile_id``
column) raise ``ProfileSourceError``.

The schema is documented in docs/profile-sources.md.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
import json
import logging
import mmap
import os
import secrets
import shutil
import stat
import struct
import sys
import tempfile
import threading
import time
import zlib
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from functions.matching.records import Company, Position, Profile
from functions.memory import give_back_free_memory

from .base import (
    LookupResult,
    LookupStats,
    ProfileQuery,
    ProfileSourceAuthError,
    ProfileSourceConfigError,
    ProfileSourceError,
    ProfileSourceUnavailable,
    normalise_date,
    normalise_email,
    normalise_profile_url,
    profile_content_hash,
)
from .lookup_keys import company_lookup_keys, names_agree, person_keys
from .pdl_records import is_pdl_record, pdl_record_to_profile

__all__ = ["CSV_COLUMNS", "INDEX_FORMAT", "MAX_LINE_BYTES", "FileSnapshotSource", "SnapshotStats"]

log = logging.getLogger(__name__)

MAX_EXAMPLES = 20  # malformed rows reported with their line numbers

CSV_COLUMNS = (
    "profile_id",
    "full_name",
    "first_name",
    "middle_name",
    "last_name",
    "profile_url",
    "emails",
    "last_verified",
    "last_changed",
    "likelihood",
    "company_name",
    "company_website",
    "company_linkedin_id",
    "company_linkedin_url",
    "company_aliases",
    "company_parent_name",
    "title",
    "start_date",
    "end_date",
    "is_primary",
)
_POSITION_COLUMNS = CSV_COLUMNS[CSV_COLUMNS.index("company_name"):]
_TRUE = frozenset({"true", "1", "yes", "y", "x"})
_FALSE = frozenset({"false", "0", "no", "n", ""})

_WBITS = -12  # raw deflate, 4 KB window: records are small, and a small state is fast to set up
# Preset dictionary for the per-record deflate: strings most records share.
_ZDICT = (
    b'null,null,null,[],"linkedin.com/company/","linkedin.com/in/",".com","gmail.com",'
    b'"-01","2020","2021","2022","2023","2024","2025",1],[[null,0]]]'
)


#: Longest line (JSONL) or physical CSV line read, newline included. A longer one is no profile anyone
#: meant to write: it is counted as malformed (``line_too_long``) and skipped, read past in pieces of
#: at most this size so it is never held in memory as a whole.
MAX_LINE_BYTES = 1024 * 1024
_SKIP_PIECE = 64 * 1024
_TOO_LONG = f"line is longer than {MAX_LINE_BYTES // 1024 // 1024} MiB"


def _bounded_lines(stream: IO[bytes]) -> Iterator[bytes | None]:
    """The lines of ``stream`` (newline included); ``None`` for a line longer than ``MAX_LINE_BYTES``."""
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) <= MAX_LINE_BYTES:
            yield line
            continue
        while not line.endswith(b"\n"):  # the rest of the long line, a small piece at a time
            line = b""
            line = stream.readline(_SKIP_PIECE)
            if not line:
                break
        yield None


class _Malformed(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(slots=True)
class SnapshotStats:
    """What loading the file found. ``rows_malformed`` counts skipped rows (JSONL lines, CSV rows)
    by reason; ``malformed_examples`` lists the first ``MAX_EXAMPLES`` as (line, reason, detail) -
    details name the field, never its value."""

    rows_read: int = 0
    rows_malformed: Counter[str] = field(default_factory=Counter)
    malformed_examples: list[tuple[int, str, str]] = field(default_factory=list)
    profiles_loaded: int = 0
    profiles_rejected: int = 0  # profiles skipped because one of their rows was malformed
    index_bytes: int = 0  # size of the index (records, ids, hashes, key columns)
    load_seconds: float = 0.0  # this load: parsing and building, or opening the cache file
    #: Where the index came from: "reused" (an index cache file, mapped: nothing parsed), "built"
    #: (parsed, written to the cache and mapped), "memory" (parsed, kept in memory: no cache configured,
    #: or it could not be used - see the log), "unsettled" (parsed, kept in memory: the file changed
    #: moments before or while it was read, so its version does not yet identify its content).
    index_cache: str = "memory"

    @property
    def from_cache(self) -> bool:
        """True when the index was opened from a cache file (stats are the builder's, nothing parsed)."""
        return self.index_cache == "reused"

    def malformed(self, line: int, reason: str, detail: str = "") -> None:
        self.rows_malformed[reason] += 1
        if len(self.malformed_examples) < MAX_EXAMPLES:
            self.malformed_examples.append((line, reason, detail))

    def as_dict(self) -> dict:
        return {
            "rows_read": self.rows_read,
            "rows_malformed": dict(self.rows_malformed),
            "malformed_examples": [list(x) for x in self.malformed_examples],
            "profiles_loaded": self.profiles_loaded,
            "profiles_rejected": self.profiles_rejected,
            "index_bytes": self.index_bytes,
            "load_seconds": round(self.load_seconds, 3),
            "index_cache": self.index_cache,
            "from_cache": self.from_cache,
        }

    def _cacheable(self) -> dict:
        """What a cache file keeps, so that a process opening it reports the same findings."""
        return {
            "rows_read": self.rows_read,
            "rows_malformed": dict(self.rows_malformed),
            "malformed_examples": [list(x) for x in self.malformed_examples],
            "profiles_loaded": self.profiles_loaded,
            "profiles_rejected": self.profiles_rejected,
            "index_bytes": self.index_bytes,
            "build_seconds": round(self.load_seconds, 3),
        }

    @classmethod
    def _from_cache(cls, data: Mapping[str, Any]) -> SnapshotStats:
        return cls(
            rows_read=int(data["rows_read"]),
            rows_malformed=Counter({str(k): int(v) for k, v in data["rows_malformed"].items()}),
            malformed_examples=[(int(a), str(b), str(c)) for a, b, c in data["malformed_examples"]],
            profiles_loaded=int(data["profiles_loaded"]),
            profiles_rejected=int(data["profiles_rejected"]),
            index_bytes=int(data["index_bytes"]),
            index_cache="reused",
        )


# --------------------------------------------------------------------------------------------------
# Parsing one JSONL line / CSV group into a Profile


def _opt_str(obj: Mapping, key: str, where: str = "") -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Malformed("wrong_type", f"{where}{key}: expected a string")
    return value.strip() or None


def _opt_date(obj: Mapping, key: str, where: str = "") -> str | None:
    try:
        return normalise_date(obj.get(key))
    except ValueError:
        raise _Malformed("bad_date", f"{where}{key}: expected YYYY, YYYY-MM or YYYY-MM-DD") from None


def _profile_id(value: object) -> str:
    if isinstance(value, bool):
        raise _Malformed("wrong_type", "profile_id: expected a string")
    if isinstance(value, int):
        return str(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _Malformed("missing_profile_id", "profile_id: missing or empty")
    if not isinstance(value, str):
        raise _Malformed("wrong_type", "profile_id: expected a string")
    return value.strip()


def _likelihood(value: object) -> int | None:
    """The source's confidence (1-10) that the row is the person it was looked up for; None if absent."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
        raise _Malformed("wrong_type", "likelihood: expected an integer from 1 to 10")
    return value


def _str_list(value: object, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise _Malformed("wrong_type", f"{where}: expected a list of strings")
    return [x.strip() for x in value if x.strip()]


def _emails(values: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        email = normalise_email(value)
        if email and email not in out:
            out.append(email)
    return tuple(out)


def _check_primary(positions: Sequence[Position]) -> None:
    if sum(1 for p in positions if p.is_primary) > 1:
        raise _Malformed("multiple_primary", "positions: more than one is_primary")


def _position_from_json(raw: object, index: int) -> Position:
    where = f"positions[{index}]."
    if not isinstance(raw, Mapping):
        raise _Malformed("wrong_type", f"positions[{index}]: expected an object")
    company_raw = raw.get("company")
    if company_raw is None:
        company_raw = {}
    if not isinstance(company_raw, Mapping):
        raise _Malformed("wrong_type", f"{where}company: expected an object")
    cw = where + "company."
    linkedin_id = company_raw.get("linkedin_id")
    if isinstance(linkedin_id, int) and not isinstance(linkedin_id, bool):
        linkedin_id = str(linkedin_id)
    company = Company(
        name=_opt_str(company_raw, "name", cw),
        website=_opt_str(company_raw, "website", cw),
        linkedin_id=_opt_str({"linkedin_id": linkedin_id}, "linkedin_id", cw),
        linkedin_url=_opt_str(company_raw, "linkedin_url", cw),
        aliases=tuple(_str_list(company_raw.get("aliases"), cw + "aliases")),
        parent_name=_opt_str(company_raw, "parent_name", cw),
    )
    is_primary = raw.get("is_primary", False)
    if is_primary is None:
        is_primary = False
    if not isinstance(is_primary, bool):
        raise _Malformed("wrong_type", f"{where}is_primary: expected true or false")
    return Position(
        company=company,
        title=_opt_str(raw, "title", where),
        start_date=_opt_date(raw, "start_date", where),
        end_date=_opt_date(raw, "end_date", where),
        is_primary=is_primary,
    )


def _profile_from_json(obj: object) -> Profile:
    if not isinstance(obj, dict):
        raise _Malformed("not_an_object", "line is not a JSON object")
    if is_pdl_record(obj):
        try:
            return pdl_record_to_profile(obj, source="file")
        except ValueError:
            raise _Malformed("missing_profile_id", "PDL record without id") from None
    positions_raw = obj.get("positions")
    if positions_raw is None:
        positions_raw = []
    if not isinstance(positions_raw, list):
        raise _Malformed("wrong_type", "positions: expected a list")
    positions = tuple(_position_from_json(p, i) for i, p in enumerate(positions_raw))
    _check_primary(positions)
    profile_url = _opt_str(obj, "profile_url")
    return Profile(
        profile_id=_profile_id(obj.get("profile_id")),
        source="file",
        full_name=_opt_str(obj, "full_name"),
        first_name=_opt_str(obj, "first_name"),
        middle_name=_opt_str(obj, "middle_name"),
        last_name=_opt_str(obj, "last_name"),
        profile_url=normalise_profile_url(profile_url),
        emails=_emails(_str_list(obj.get("emails"), "emails")),
        positions=positions,
        last_verified=_opt_date(obj, "last_verified"),
        last_changed=_opt_date(obj, "last_changed"),
        match_likelihood=_likelihood(obj.get("likelihood")),
    )


class _CsvGroup:
    """The rows of one profile in a CSV (consecutive rows with the same profile_id)."""

    def __init__(self, profile_id: str, line: int) -> None:
        self.profile_id = profile_id
        self.line = line
        self.fields: dict[str, str | None] = {}
        self.emails: list[str] = []
        self.positions: list[Position] = []
        self.likelihood: int | None = None
        self.bad = False

    def add(self, row: Mapping[str, str]) -> None:
        for key in ("full_name", "first_name", "middle_name", "last_name", "profile_url"):
            value = (row.get(key) or "").strip()
            if value and not self.fields.get(key):
                self.fields[key] = value
        for key in ("last_verified", "last_changed"):
            value = _opt_date(row, key)
            if value and not self.fields.get(key):
                self.fields[key] = value
        likelihood = _likelihood((row.get("likelihood") or "").strip() or None)
        if likelihood is not None and self.likelihood is None:
            self.likelihood = likelihood
        self.emails += [e for e in (row.get("emails") or "").split(";") if e.strip()]
        if not any((row.get(c) or "").strip() for c in _POSITION_COLUMNS):
            return
        primary_text = (row.get("is_primary") or "").strip().lower()
        if primary_text not in _TRUE and primary_text not in _FALSE:
            raise _Malformed("wrong_type", "is_primary: expected true/false, 1/0 or yes/no")
        aliases = tuple(a.strip() for a in (row.get("company_aliases") or "").split(";") if a.strip())
        self.positions.append(
            Position(
                company=Company(
                    name=(row.get("company_name") or "").strip() or None,
                    website=(row.get("company_website") or "").strip() or None,
                    linkedin_id=(row.get("company_linkedin_id") or "").strip() or None,
                    linkedin_url=(row.get("company_linkedin_url") or "").strip() or None,
                    aliases=aliases,
                    parent_name=(row.get("company_parent_name") or "").strip() or None,
                ),
                title=(row.get("title") or "").strip() or None,
                start_date=_opt_date(row, "start_date"),
                end_date=_opt_date(row, "end_date"),
                is_primary=primary_text in _TRUE,
            )
        )

    def profile(self) -> Profile:
        _check_primary(self.positions)
        return Profile(
            profile_id=self.profile_id,
            source="file",
            full_name=self.fields.get("full_name"),
            first_name=self.fields.get("first_name"),
            middle_name=self.fields.get("middle_name"),
            last_name=self.fields.get("last_name"),
            profile_url=normalise_profile_url(self.fields.get("profile_url")),
            emails=_emails(self.emails),
            positions=tuple(self.positions),
            last_verified=self.fields.get("last_verified"),
            last_changed=self.fields.get("last_changed"),
            match_likelihood=self.likelihood,
        )


# --------------------------------------------------------------------------------------------------
# Compact storage


def _encode(profile: Profile) -> bytes:
    row = [
        profile.profile_id,
        profile.full_name,
        profile.first_name,
        profile.middle_name,
        profile.last_name,
        profile.profile_url,
        list(profile.emails),
        profile.last_verified,
        profile.last_changed,
        [
            [
                p.company.name,
                p.company.website,
                p.company.linkedin_id,
                p.company.linkedin_url,
                list(p.company.aliases),
                p.company.parent_name,
                p.title,
                p.start_date,
                p.end_date,
                1 if p.is_primary else 0,
            ]
            for p in profile.positions
        ],
        profile.match_likelihood,
    ]
    raw = json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    compressor = zlib.compressobj(6, zlib.DEFLATED, _WBITS, 2, zlib.Z_DEFAULT_STRATEGY, _ZDICT)
    return compressor.compress(raw) + compressor.flush()


def _decode(blob: bytes | bytearray | memoryview, content_hash: str) -> Profile:
    """The profile of one record; ``content_hash`` is the one stored beside it at build time (the hash
    of the same fields), so a decode never re-hashes."""
    decompressor = zlib.decompressobj(_WBITS, zdict=_ZDICT)
    row = json.loads(decompressor.decompress(blob) + decompressor.flush())
    pid, full, first, middle, last, url, emails, verified, changed, positions, likelihood = row
    return Profile(
        profile_id=pid,
        source="file",
        full_name=full,
        first_name=first,
        middle_name=middle,
        last_name=last,
        profile_url=url,
        emails=tuple(emails),
        positions=tuple(
            Position(
                company=Company(
                    name=p[0],
                    website=p[1],
                    linkedin_id=p[2],
                    linkedin_url=p[3],
                    aliases=tuple(p[4]),
                    parent_name=p[5],
                ),
                title=p[6],
                start_date=p[7],
                end_date=p[8],
                is_primary=bool(p[9]),
            )
            for p in positions
        ),
        last_verified=verified,
        last_changed=changed,
        match_likelihood=likelihood,
        content_hash=content_hash,
    )


def _key_hash(kind: str, key: str) -> int:
    # A keyed-nothing blake2b, not Python's str hash: that one is randomised per process, and the index
    # is shared between processes through the cache file.
    digest = hashlib.blake2b(f"{kind}\x1f{key}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _profile_company_keys(profile: Profile) -> frozenset[str]:
    """The company keys of every position (current or past), under each name the source gives it."""
    keys: set[str] = set()
    for position in profile.positions:
        company = position.company
        keys |= company_lookup_keys(company.name, company.website)
        for alias in company.aliases:
            keys |= company_lookup_keys(alias, None)
    return frozenset(keys)


def _name_company_keys(names: frozenset[tuple[str, str]], companies: Iterable[str]) -> set[str]:
    return {f"{surname}|{given[0]}|{company}" for given, surname in names for company in companies}


_FREEZE_CHUNK = 65536  # key pairs moved into the sort buckets at a time


class _KeyColumn:
    """(64-bit key hash, record number) pairs; appended while loading, then sorted for bisect. Opened
    from a cache file, both are ``memoryview``s over the mapping (``bisect`` and indexing work alike)."""

    def __init__(self) -> None:
        self.hashes: array[int] | memoryview = array("Q")
        self.records: array[int] | memoryview = array("I")

    def add(self, key_hash: int, record: int) -> None:
        self.hashes.append(key_hash)
        self.records.append(record)

    def freeze(self, dead: set[int]) -> None:
        """Sort by hash, dropping dead records. Sorted bucket by bucket (top 8 bits of the hash), so
        the transient Python ints of the sort are 1/256 of the column at a time. The pairs move into the
        buckets a chunk at a time from the end of the column, which shrinks as they grow, and out of
        each bucket as it is sorted: the column is never held twice (12 bytes per key, plus a chunk)."""
        hashes, records = self.hashes, self.records
        assert isinstance(hashes, array)  # a column is frozen while building, never when mapped
        assert isinstance(records, array)
        self.hashes, self.records = array("Q"), array("I")
        buckets_h = [array("Q") for _ in range(256)]
        buckets_r = [array("I") for _ in range(256)]
        while hashes:
            start = max(0, len(hashes) - _FREEZE_CHUNK)
            for key_hash, record in zip(hashes[start:], records[start:], strict=True):
                if not dead or record not in dead:
                    buckets_h[key_hash >> 56].append(key_hash)
                    buckets_r[key_hash >> 56].append(record)
            del hashes[start:], records[start:]
        for b in range(256):
            combined = sorted((h << 32) | r for h, r in zip(buckets_h[b], buckets_r[b], strict=True))
            buckets_h[b], buckets_r[b] = array("Q"), array("I")
            self.hashes.extend(c >> 32 for c in combined)
            self.records.extend(c & 0xFFFFFFFF for c in combined)

    def find(self, key_hash: int) -> list[int]:
        found: list[int] = []
        i = bisect_left(self.hashes, key_hash)
        while i < len(self.hashes) and self.hashes[i] == key_hash:
            if self.records[i] not in found:
                found.append(self.records[i])
            i += 1
        return found

    def nbytes(self) -> int:
        return self.hashes.itemsize * len(self.hashes) + self.records.itemsize * len(self.records)


# --------------------------------------------------------------------------------------------------
# Index cache file
#
# Layout (one file per location and version): a fixed header, then the sections below, each starting
# on an 8-byte boundary so the 64-bit columns can be cast in place. Integers in the sections are in the
# machine's byte order (recorded in the header and in the cache key: another machine never opens it).
#
#   header   magic, INDEX_FORMAT, byte order, file length, record count, (offset, length) per section,
#            sha256 of the header fields and the meta section
#   data     deflated records, back to back            offsets   Q x (records + 1) into data
#   pids     profile ids (UTF-8), back to back         pid_offs  Q x (records + 1) into pids
#   content  sha256 content hash per record (32 B)    dead      I x superseded records (duplicate ids)
#   <column>_h / <column>_r   sorted key hashes (Q) and their record numbers (I), for ids, urls,
#            emails, names
#   meta     JSON: the cache key (identity) and the build's SnapshotStats
#
# A build with a cache streams into this layout (``_StreamedIndex``): the data section is written as the
# rows are parsed, right after room for the header; the others are appended in this order at the end.
#
# Only the header and meta are checksummed: the body is large, and reading it all back would page the
# whole index in for every process. It is protected by the atomic write instead (a file is complete
# before it gets its name), and every look-up hit is still checked against the query.

#: Version of the cache file layout and of what the index keeps; bump it with any change to either.
INDEX_FORMAT = 1
_MAGIC = b"DVALPIX\x00"
_SECTIONS = (
    "data", "offsets", "pids", "pid_offsets", "content", "dead",
    "ids_h", "ids_r", "urls_h", "urls_r", "emails_h", "emails_r", "names_h", "names_r", "meta",
)
_HEADER = struct.Struct("<8sIIQQ" + "QQ" * len(_SECTIONS))
_HEADER_SIZE = _HEADER.size + 32
_BYTE_ORDER = 1 if sys.byteorder == "little" else 2
#: A local file whose mtime is younger than this is not cached: a rewrite within the same timestamp tick
#: (coarse on most file systems, 2 s on FAT) could keep size and mtime, and the cache would then stand
#: for content it was not built from. Git calls this the "racily clean" case.
_SETTLE_SECONDS = 2.0
#: A temp file this old is left over from a builder that died; it is removed when the next one writes.
_ORPHAN_SECONDS = 3600.0
_COLUMNS = ("ids", "urls", "emails", "names")
#: Look-ups, and records read in a pass over the index, after which the mapped pages are given back.
#: Few: on a read fault the kernel maps the neighbouring cached pages too (fault-around, 64 KB), so a
#: look-up's binary searches leave about 16 times the pages they touch resident (80 MB at 1M per 100).
_RELEASE_EVERY = 25
_RELEASE_EVERY_RECORDS = 100_000
_WRITE_BUFFER = 1024 * 1024


@cache
def _code_fingerprint() -> str:
    """A hash of the code that decides what the index holds (parsing, normalising, look-up keys).

    Part of the cache key, so an app update that changes how a row is read or keyed never reuses an
    index built by the old code (temp directories outlive deployments), even if nobody bumped
    ``INDEX_FORMAT``."""
    digest = hashlib.sha256()
    for root in (Path(__file__).parent, Path(__file__).parent.parent / "matching"):
        for path in sorted(root.glob("*.py")):
            try:
                digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
            except OSError:
                digest.update(path.name.encode() + b"\0?\0")
    return digest.hexdigest()[:16]


def _private_dir(directory: Path) -> None:
    """Create ``directory`` (owner only) or check an existing one; ``OSError`` when it is not ours.

    The index holds personal data (names, e-mails) and a cache file is trusted on its header alone: a
    directory that another local user can write to (a shared /tmp, someone else's dir) could hand us
    a planted index, so it is refused (the index then stays in memory)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not hasattr(os, "geteuid"):  # Windows: no owner/mode bits to check here; ACLs decide
        return
    info = os.stat(directory)
    if not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError(f"{directory} is not a directory")
    if info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise PermissionError(f"{directory} is not owned by this user or is writable by others")


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable (best effort: not every platform can open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class _CachePlan:
    path: Path  # the cache file for this version
    key: str  # identity written into the file and checked on open
    version: str  # the file's version() when the load began
    settled: bool  # False: too fresh to trust its version (see _SETTLE_SECONDS)


class _CacheWriteError(Exception):
    """Writing the cache file failed while the index was streamed into it (disk full, I/O error)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error.strerror or str(error))
        self.error = error


class _StreamedIndex:
    """The cache file of a build, written while the snapshot is parsed, so that the build never holds
    the records in memory.

    The temp file (``<cache name>.tmp.<pid>.<random>``, owner only) starts with room for the header;
    each record's deflated bytes go straight after it, into the data section (the first one of the
    layout), as the rows are parsed. Profile ids and content hashes, also one per record but sections
    further on, go into two anonymous scratch files in the same directory (deleted when closed). The
    builder keeps only what must be sorted or is needed to finish (record offsets, line numbers, the
    key columns); ``finish`` then appends the other sections in the layout's order - the scratch files
    copied into place - and writes the header, giving the same file ``INDEX_FORMAT`` describes.
    Every ``OSError`` of this file is raised as ``_CacheWriteError`` (never as a read error of the
    snapshot)."""

    def __init__(self, path: Path) -> None:
        self.tmp = path.with_name(f"{path.name}.tmp.{os.getpid()}.{secrets.token_hex(4)}")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        fd = os.open(self.tmp, flags, 0o600)  # personal data: owner only
        self._files: list[IO[bytes]] = []
        try:
            self.out: IO[bytes] = os.fdopen(fd, "wb", buffering=_WRITE_BUFFER)
            self._files.append(self.out)
            self.out.write(bytes(_HEADER_SIZE))
            # mkstemp-style 0600 files, unlinked at once (O_TMPFILE where there is one).
            self.pids: IO[bytes] = tempfile.TemporaryFile(  # noqa: SIM115 - closed by close()
                dir=path.parent, buffering=_WRITE_BUFFER)
            self._files.append(self.pids)
            self.content: IO[bytes] = tempfile.TemporaryFile(  # noqa: SIM115 - closed by close()
                dir=path.parent, buffering=_WRITE_BUFFER)
            self._files.append(self.content)
        except BaseException:
            if not self._files:
                os.close(fd)
            self.discard()
            raise

    def add(self, blob: bytes, pid: bytes, content: bytes) -> None:
        try:
            self._put(blob, pid, content)
        except OSError as exc:
            raise _CacheWriteError(exc) from None

    def _put(self, blob: bytes, pid: bytes, content: bytes) -> None:
        self.out.write(blob)
        self.pids.write(pid)
        self.content.write(content)

    def pid(self, start: int, end: int) -> bytes:
        """Bytes ``start:end`` of the profile ids written so far (duplicates are resolved with these)."""
        try:
            self.pids.flush()
            self.pids.seek(start)
            raw = self.pids.read(end - start)
            self.pids.seek(0, os.SEEK_END)
        except OSError as exc:
            raise _CacheWriteError(exc) from None
        if len(raw) != end - start:
            raise _CacheWriteError(OSError(f"scratch file short by {end - start - len(raw)} bytes"))
        return raw

    def finish(self, data_bytes: int, parts: Sequence[Any], meta: bytes, count: int, sync: bool) -> None:
        """Write the sections after the data (``parts``, in ``_SECTIONS`` order from ``offsets`` on, each
        a buffer or one of the scratch files) and then the header; fsync when ``sync``; close. Raises
        ``OSError``."""
        out = self.out
        position, table = _HEADER_SIZE, [_HEADER_SIZE, data_bytes]
        position += data_bytes
        out.write(bytes(-position % 8))
        position += -position % 8
        for part in parts:
            if part is self.pids or part is self.content:
                part.flush()
                size = part.seek(0, os.SEEK_END)
                part.seek(0)
                shutil.copyfileobj(part, out, _WRITE_BUFFER)
            else:
                with memoryview(part) as view, view.cast("B") as raw:
                    out.write(raw)
                    size = raw.nbytes
            table += [position, size]
            position += size
            out.write(bytes(-position % 8))
            position += -position % 8
        if out.tell() != position:
            raise OSError(f"cache file is {out.tell()} bytes, its sections end at {position}")
        header = _HEADER.pack(_MAGIC, INDEX_FORMAT, _BYTE_ORDER, position, count, *table)
        out.seek(0)
        out.write(header + hashlib.sha256(header + meta).digest())
        out.flush()
        if sync:
            os.fsync(out.fileno())
        self.close()

    def close(self) -> None:
        """Close the files (the scratch files disappear); the temp file stays."""
        files, self._files = self._files, []
        for file in files:
            with contextlib.suppress(OSError):
                file.close()

    def discard(self) -> None:
        """Close everything and delete the temp file (best effort: this never raises)."""
        self.close()
        with contextlib.suppress(OSError):
            os.unlink(self.tmp)


# --------------------------------------------------------------------------------------------------
# Streams: local file or blob, gzip or plain


class _ChunkStream(io.RawIOBase):
    """A readable raw stream over an iterator of byte chunks (``download_blob().chunks()``)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._chunk = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._chunk:
            try:
                self._chunk = memoryview(next(self._chunks))
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._chunk))
        buffer[:n] = self._chunk[:n]
        self._chunk = self._chunk[n:]
        return n


#: Public Azure Storage blob endpoints (a managed identity's storage token is only ever sent there).
_AZURE_BLOB_SUFFIXES = (
    ".blob.core.windows.net", ".blob.core.usgovcloudapi.net", ".blob.core.chinacloudapi.cn",
    ".blob.storage.azure.net",
)


def _on_endpoint(location: str, endpoint: str) -> bool:
    """Whether the blob URL ``location`` is on the blob endpoint ``endpoint`` (scheme, host, port and the
    endpoint's path prefix all equal); any parse problem is "no"."""
    try:
        url, base = urlsplit(location), urlsplit(endpoint)
        url_port = url.port or _DEFAULT_PORTS.get(url.scheme.lower())
        same_port = url_port == (base.port or _DEFAULT_PORTS.get(base.scheme.lower()))
    except ValueError:
        return False
    prefix = base.path.rstrip("/") + "/"
    return (url.scheme.lower() == base.scheme.lower() and bool(url.hostname)
            and (url.hostname or "").lower() == (base.hostname or "").lower() and same_port
            and (url.path or "/").startswith(prefix))


_DEFAULT_PORTS = {"https": 443, "http": 80}


def _display_name(location: str) -> str:
    """The location without a query string (a SAS token must never reach a log)."""
    return location.split("?", 1)[0]


def _format_of(name: str) -> str | None:
    lowered = name.split("?", 1)[0].lower().removesuffix(".gz")
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lowered.endswith(".csv"):
        return "csv"
    return None


class FileSnapshotSource:
    """Profiles from a JSONL or CSV snapshot, local or in Azure Blob storage, optionally gzipped.

    Args:
        path_or_blob_url: ``/path/profiles.jsonl`` (``.ndjson``, ``.csv``, each optionally ``.gz``),
            a blob URL ``https://<account>.blob.core.windows.net/<container>/<name>`` (optionally with a SAS
            query), or ``blob://<container>/<name>`` (needs ``blob_service``, ``connection_string``
            or ``account_url``).
        blob_service: An ``azure.storage.blob.BlobServiceClient`` to read blobs with.
        connection_string: Storage connection string (Azurite locally), used when no ``blob_service``.
        account_url: Blob endpoint for ``blob://`` with ``credential`` (default: the app's managed
            identity through ``DefaultAzureCredential``).
        credential: Credential for ``account_url`` (and, with no account configured, for https URLs on
            Azure Storage blob endpoints); default ``DefaultAzureCredential``. A URL with a SAS query is
            read with its token alone, and no credential is ever sent to another host
            (``_url_credential``).
        format: ``"jsonl"`` or ``"csv"`` when the name's extension does not say.
        index_dir: Directory for the index cache (app setting ``PROFILE_INDEX_DIR``); ``None`` (the
            default here) keeps the index in this process's memory only. See the module docstring.

    The file is read on ``load()`` or the first ``lookup``; ``stats`` then says what was found (also when
    the index came from the cache: ``stats.from_cache``). Raises ``ProfileSourceError`` (or
    ``ProfileSourceAuthError`` for a refused blob) from ``load`` and ``version`` when the file cannot be
    read at all.
    """

    name = "file"

    def __init__(
        self,
        path_or_blob_url: str,
        *,
        blob_service: Any | None = None,
        connection_string: str | None = None,
        account_url: str | None = None,
        credential: Any | None = None,
        format: str | None = None,
        index_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if not path_or_blob_url or not path_or_blob_url.strip():
            raise ProfileSourceConfigError("profile file location is empty")
        self.location = path_or_blob_url.strip()
        self._blob_service = blob_service
        self._connection_string = connection_string
        self._account_url = account_url
        self._credential = credential
        self.format = format or _format_of(self.location)
        if self.format not in ("jsonl", "csv"):
            raise ProfileSourceConfigError(
                f"cannot tell the format of {_display_name(self.location)!r}: "
                "use a .jsonl/.ndjson/.csv name (optionally .gz) or pass format='jsonl'|'csv'"
            )
        self._index_dir = Path(index_dir) if index_dir is not None else None
        self.lookup_stats = LookupStats()
        self._lock = threading.Lock()
        self._mapping: mmap.mmap | None = None
        self._views: list[memoryview] = []
        self._touched = 0  # look-ups since the mapping's pages were last given back
        self._reset()

    def _reset(self) -> None:
        self._unmap()
        self.stats = SnapshotStats()
        self._loaded = False
        # In memory while building; memoryviews over the cache file's mapping once mapped.
        self._data: bytearray | memoryview = bytearray()
        self._offsets: array[int] | memoryview = array("Q", [0])
        self._pids: bytearray | memoryview = bytearray()  # profile ids, for profile_hashes and duplicates
        self._pid_offsets: array[int] | memoryview = array("Q", [0])
        self._content: bytearray | memoryview = bytearray()  # sha256 content hash, 32 bytes per record
        self._lines = array("I")  # line of each record, for duplicate reports (build only)
        self._dead: set[int] = set()
        self._sink: _StreamedIndex | None = None  # while a build streams into the cache file
        self._ids = _KeyColumn()
        self._urls = _KeyColumn()
        self._emails = _KeyColumn()
        self._names = _KeyColumn()

    def _unmap(self) -> None:
        """Release the cache file's mapping. The views go first (derived ones before their base): an
        mmap with live exports cannot be closed. A view still held elsewhere leaves it to the GC."""
        views, self._views = self._views, []
        mapping, self._mapping = self._mapping, None
        for view in reversed(views):
            with contextlib.suppress(BufferError):
                view.release()
        if mapping is not None:
            with contextlib.suppress(BufferError):
                mapping.close()

    def __repr__(self) -> str:
        return f"FileSnapshotSource({_display_name(self.location)!r}, format={self.format!r})"

    # ---------------------------------------------------------------------------------- opening

    def _blob_client(self) -> Any:
        # Imported here: only a profile file in Blob storage needs the Blob SDK (~0.4 s to import).
        from azure.storage.blob import BlobClient, BlobServiceClient

        options = {"max_single_get_size": 4 * 1024 * 1024, "max_chunk_get_size": 4 * 1024 * 1024}
        if self.location.startswith("blob://"):
            container, _, blob_name = self.location[len("blob://") :].partition("/")
            if not container or not blob_name:
                raise ProfileSourceConfigError("blob location must be blob://<container>/<name>")
            service = self._blob_service
            if service is None and self._connection_string:
                service = BlobServiceClient.from_connection_string(self._connection_string, **options)
            if service is None and self._account_url:
                service = BlobServiceClient(
                    self._account_url, credential=self._default_credential(), **options
                )
            if service is None:
                raise ProfileSourceConfigError(
                    "a blob:// profile file needs a storage connection string or account URL"
                )
            return service.get_blob_client(container, unquote(blob_name))
        return BlobClient.from_blob_url(self.location, credential=self._url_credential(), **options)

    def _url_credential(self) -> Any:
        """The credential for a blob URL, or None: the app's storage credential goes only to the storage
        account it belongs to, never to whatever host a URL names.

        * A URL with a query (a SAS token) is read with that token alone.
        * The account of ``blob_service`` / ``connection_string`` (its shared key) or of ``account_url``
          (the managed identity): its credential, when the URL is on that account's blob endpoint (same
          scheme, host, port and - for path-style endpoints like Azurite's - account path).
        * With neither configured (managed identity only), the identity's token goes to an https URL on
          an Azure Storage blob endpoint (``<account>.blob.core.windows.net`` and the sovereign clouds'
          equivalents), where only Azure Storage can read it.
        * Anything else is opened anonymously (a public blob, or refused by the host)."""
        from azure.storage.blob import BlobServiceClient  # here: only blob files need the Blob SDK

        if urlsplit(self.location).query:
            return None  # SAS URL
        if self._blob_service is not None:
            return self._blob_service.credential if _on_endpoint(self.location, self._blob_service.url) \
                else None
        if self._connection_string:
            service = BlobServiceClient.from_connection_string(self._connection_string)
            return service.credential if _on_endpoint(self.location, service.url) else None
        if self._account_url:
            return self._default_credential() if _on_endpoint(self.location, self._account_url) else None
        parts = urlsplit(self.location)
        host = (parts.hostname or "").lower()
        if parts.scheme == "https" and parts.port in (None, 443) and host.endswith(_AZURE_BLOB_SUFFIXES):
            return self._default_credential()
        return None

    def _default_credential(self) -> Any:
        if self._credential is not None:
            return self._credential
        from azure.identity import DefaultAzureCredential  # here: only a managed-identity blob needs it

        self._credential = DefaultAzureCredential()
        return self._credential

    def _is_blob(self) -> bool:
        return self.location.startswith(("blob://", "https://", "http://"))

    def _blob_error(self, exc: Exception) -> ProfileSourceError:
        """The ``ProfileSourceError`` for an Azure SDK error reading the blob (download or properties)."""
        name = _display_name(self.location)
        if isinstance(exc, ResourceNotFoundError):
            return ProfileSourceError(f"profile blob not found: {name}")
        if isinstance(exc, ClientAuthenticationError):
            return ProfileSourceAuthError(
                f"profile blob refused: {name} ({exc.reason or 'auth'})",
                status=getattr(exc, "status_code", None) or 403,
            )
        if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
            return ProfileSourceUnavailable(f"blob storage unreachable for {name} ({type(exc).__name__})")
        if isinstance(exc, HttpResponseError):
            if exc.status_code in (401, 403):
                return ProfileSourceAuthError(f"profile blob refused: {name}", status=exc.status_code)
            return ProfileSourceError(f"profile blob unreadable: {name} (HTTP {exc.status_code})")
        return ProfileSourceError(f"profile blob unreadable: {name} ({type(exc).__name__})")

    def _open(self) -> tuple[IO[bytes], IO[bytes]]:
        """(stream to read, underlying stream to close): gunzipped when the content is gzip."""
        if self._is_blob():
            try:
                downloader = self._blob_client().download_blob(max_concurrency=1)
                raw: IO[bytes] = io.BufferedReader(_ChunkStream(downloader.chunks()), 1024 * 1024)
            except (ResourceNotFoundError, ClientAuthenticationError, ServiceRequestError,
                    ServiceResponseError, HttpResponseError) as exc:
                raise self._blob_error(exc) from None
        else:
            try:
                raw = open(self.location, "rb", buffering=1024 * 1024)  # noqa: SIM115 - closed by load()
            except OSError as exc:
                raise ProfileSourceError(
                    f"profile file unreadable: {self.location} ({exc.strerror})"
                ) from None
        if raw.peek(2)[:2] == b"\x1f\x8b":  # type: ignore[attr-defined]
            return gzip.GzipFile(fileobj=raw, mode="rb"), raw  # type: ignore[return-value]
        return raw, raw

    # ---------------------------------------------------------------------------------- version

    def version(self) -> str:
        """The version of the file's current content, without reading the content: ``file:<size>:
        <mtime_ns>:<inode>:<device>`` for a local file (one ``stat``), ``blob:<ETag>:<size>`` for a blob
        (one ``get_blob_properties`` request). Equal strings mean the same content, with one caveat for
        local files: a rewrite that keeps the size and restores the mtime (in place, same inode) is not
        seen. Raises ``ProfileSourceError`` (``ProfileSourceAuthError`` / ``ProfileSourceUnavailable``
        for a blob) like ``load`` when the file is missing or cannot be reached."""
        return self._identity()[1]

    def _identity(self) -> tuple[str, str, bool]:
        """(location key, version, settled): the location key names the file independently of how it
        was spelled (absolute path; blob URL without SAS); ``settled`` is False for a local file
        modified within ``_SETTLE_SECONDS`` (or not a regular file), whose version cannot be trusted yet."""
        if self._is_blob():
            client = self._blob_client()
            try:
                properties = client.get_blob_properties()
            except AzureError as exc:
                raise self._blob_error(exc) from None
            return _display_name(client.url), f"blob:{properties.etag}:{properties.size}", True
        try:
            info = os.stat(self.location)
        except OSError as exc:
            raise ProfileSourceError(f"profile file unreadable: {self.location} ({exc.strerror})") from None
        if stat.S_ISDIR(info.st_mode):
            raise ProfileSourceError(f"profile file unreadable: {self.location} (Is a directory)")
        version = f"file:{info.st_size}:{info.st_mtime_ns}:{info.st_ino}:{info.st_dev}"
        settled = stat.S_ISREG(info.st_mode) and time.time() - info.st_mtime >= _SETTLE_SECONDS
        return os.path.realpath(self.location), version, settled

    # ---------------------------------------------------------------------------------- index cache

    def _cache_plan(self) -> _CachePlan | None:
        """Where this version's index cache file is, or None without ``index_dir``. Raises what
        ``version()`` raises (a missing file fails here, as the load itself would)."""
        if self._index_dir is None:
            return None
        location_key, version, settled = self._identity()
        key = "\n".join((location_key, version, self.format or "", str(INDEX_FORMAT), _code_fingerprint(),
                         sys.byteorder))
        stem = hashlib.sha256(location_key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:24]
        return _CachePlan(self._index_dir / f"{stem}-{digest}.idx", key, version, settled)

    def _map_index(self, plan: _CachePlan, path: Path | None = None) -> SnapshotStats | None:
        """Map ``plan.path`` (or ``path``) and make it this source's index; its stats, or None when it is
        missing or not a valid index for this key (then nothing changed)."""
        path = plan.path if path is None else path
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("profile index cache %s unreadable (%s): rebuilding", path, exc.strerror)
            return None
        try:
            info = os.fstat(fd)
            if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
                log.warning("profile index cache %s ignored: not owned by this user", path)
                return None
            if info.st_size < _HEADER_SIZE:
                log.warning("profile index cache %s ignored: truncated; rebuilding", path)
                return None
            mapping = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
            if hasattr(mmap, "MADV_RANDOM"):
                # A look-up touches a few scattered pages (binary search, one record): without this,
                # read-ahead would pull whole neighbouring windows into every process's RSS.
                mapping.madvise(mmap.MADV_RANDOM)
        except OSError as exc:
            log.warning("profile index cache %s unreadable (%s): rebuilding", path, exc.strerror)
            return None
        finally:
            os.close(fd)
        base = memoryview(mapping)
        views = [base]
        try:
            stats = self._adopt(mapping, base, views, plan.key, info.st_size)
        except (ValueError, KeyError, TypeError, IndexError, AttributeError, struct.error) as exc:
            log.warning("profile index cache %s ignored (%s): rebuilding", path, exc)
            for view in reversed(views):
                view.release()
            mapping.close()
            return None
        return stats

    def _adopt(self, mapping: mmap.mmap, base: memoryview, views: list[memoryview], key: str,
               size: int) -> SnapshotStats:
        """Check the mapped cache file and, when it is valid, swap it in as the index. Raises
        ``ValueError`` (or a parsing error) for anything that does not hold, before changing anything."""
        header = bytes(base[: _HEADER.size])
        magic, index_format, byte_order, length, count, *table = _HEADER.unpack(header)
        if magic != _MAGIC:
            raise ValueError("bad magic")
        if index_format != INDEX_FORMAT or byte_order != _BYTE_ORDER:
            raise ValueError("other format or byte order")
        if length != size:
            raise ValueError(f"wrong length ({size} bytes, header says {length})")
        spans = dict(zip(_SECTIONS, zip(table[::2], table[1::2], strict=True), strict=True))
        for name, (offset, span) in spans.items():
            if offset % 8 or offset < _HEADER_SIZE or offset + span > length:
                raise ValueError(f"section {name} out of bounds")
        meta_at, meta_len = spans["meta"]
        meta_bytes = bytes(base[meta_at : meta_at + meta_len])
        if hashlib.sha256(header + meta_bytes).digest() != bytes(base[_HEADER.size : _HEADER_SIZE]):
            raise ValueError("header checksum mismatch")
        meta = json.loads(meta_bytes)
        if meta["key"] != key:
            raise ValueError("built for another file or version")

        def section(name: str, fmt: str = "B", itemsize: int = 1, items: int | None = None) -> memoryview:
            offset, span = spans[name]
            if span % itemsize or (items is not None and span != items * itemsize):
                raise ValueError(f"section {name} has the wrong size")
            view = base[offset : offset + span]
            views.append(view)
            if fmt != "B":
                view = view.cast(fmt)
                views.append(view)
            return view

        data, pids = section("data"), section("pids")
        offsets = section("offsets", "Q", 8, count + 1)
        pid_offsets = section("pid_offsets", "Q", 8, count + 1)
        content = section("content", "B", 32, count)
        dead = set(section("dead", "I", 4))
        columns = []
        for column in _COLUMNS:
            hashes, records = section(f"{column}_h", "Q", 8), section(f"{column}_r", "I", 4)
            if len(hashes) != len(records):
                raise ValueError(f"key column {column} is uneven")
            columns.append((hashes, records))
        if offsets[0] != 0 or offsets[count] != len(data) or pid_offsets[0] != 0 \
                or pid_offsets[count] != len(pids):
            raise ValueError("record offsets do not fit the data")
        stats = SnapshotStats._from_cache(meta["stats"])
        # Valid: swap it in (the heap index of a build is freed here).
        self._data, self._offsets, self._pids, self._pid_offsets = data, offsets, pids, pid_offsets
        self._content, self._dead, self._lines = content, dead, array("I")
        for target, (hashes, records) in zip((self._ids, self._urls, self._emails, self._names), columns,
                                             strict=True):
            target.hashes, target.records = hashes, records
        self._mapping, self._views = mapping, views
        self.stats = stats
        return stats

    def _writer(self, plan: _CachePlan) -> _StreamedIndex | None:
        """The cache file to stream this build into, or None when the index is to stay in memory: the
        file changed moments ago (``"unsettled"``), or the directory is not usable (``"memory"``; both
        logged). Never raises."""
        if not plan.settled:
            log.info("profile file %s changed moments ago: index kept in memory, cached on a later load",
                     _display_name(self.location))
            return None
        try:
            _private_dir(plan.path.parent)
            return _StreamedIndex(plan.path)
        except OSError as exc:
            self._not_usable(plan, exc)
            return None

    def _not_usable(self, plan: _CachePlan, exc: OSError) -> None:
        log.warning("profile index cache directory %s not usable (%s): the index stays in memory",
                    plan.path.parent, exc.strerror or exc)

    def _build_cached(self, plan: _CachePlan, started: float) -> None:
        """Build the index streamed into a cache file, then make the mapped file this source's index.

        Peak memory is the key columns and per-record offsets, not the records (see ``_StreamedIndex``).
        The finished file gets its name atomically (fsync, ``os.replace``: a reader sees the old file, or
        the new one whole; two builders of one version simply replace each other's identical file). If
        the snapshot changed while it was read, the temp file is mapped and unlinked instead - this
        process's index, cached by no one (``"unsettled"``). If writing fails (disk full...), the file
        is parsed again into memory (``"memory"``): the cache never fails a run."""
        writer = self._writer(plan)
        if writer is None:
            self._build()
            self.stats.load_seconds = time.monotonic() - started
            self.stats.index_cache = "memory" if plan.settled else "unsettled"
            return
        try:
            try:
                self._build(writer)
            except _CacheWriteError as exc:
                raise exc.error from None
            self.stats.load_seconds = time.monotonic() - started
            try:
                settled = self._identity()[1] == plan.version  # unchanged while it was read
            except ProfileSourceError:
                settled = False
            meta = json.dumps({"key": plan.key, "stats": self.stats._cacheable()}, ensure_ascii=False,
                              separators=(",", ":")).encode("utf-8", "surrogatepass")
            parts: list[Any] = [self._offsets, writer.pids, self._pid_offsets, writer.content,
                                array("I", sorted(self._dead))]
            for column in (self._ids, self._urls, self._emails, self._names):
                parts += [column.hashes, column.records]
            writer.finish(self._offsets[-1], [*parts, meta], meta, len(self._offsets) - 1, settled)
            if settled:
                os.replace(writer.tmp, plan.path)
                _fsync_dir(plan.path.parent)
        except OSError as exc:
            writer.discard()
            self._not_usable(plan, exc)
            self._rebuild_in_memory(started)
            return
        except BaseException:
            writer.discard()
            raise
        built = self.stats
        mapped = self._map_index(plan, plan.path if settled else writer.tmp)  # the heap copy goes here
        if not settled:
            writer.discard()  # the mapping keeps the unlinked file (Windows: removed as an orphan later)
            log.info("profile file %s changed while it was read: index not cached, cached on a later load",
                     _display_name(self.location))
        if mapped is None:
            log.warning("profile index cache %s could not be opened after it was built: the index stays "
                        "in memory", plan.path)
            self._rebuild_in_memory(started)
            return
        self.stats = built  # this process's own numbers (load_seconds of the build)
        built.index_cache = "built" if settled else "unsettled"
        give_back_free_memory()  # the build's key columns and parsed rows, now in the mapped file
        if settled:
            self._remove_stale(plan)

    def _rebuild_in_memory(self, started: float) -> None:
        self._reset()
        self._build()
        self.stats.load_seconds = time.monotonic() - started
        self.stats.index_cache = "memory"

    def _remove_stale(self, plan: _CachePlan) -> None:
        """Best effort: delete this location's cache files for other versions (a process still using
        one keeps its mapping: POSIX frees the file when the last mapping goes) and temp files left by
        builders that died."""
        stem = plan.path.name.split("-", 1)[0]
        now = time.time()
        for other in plan.path.parent.glob(f"{stem}-*"):
            if other == plan.path:
                continue
            try:
                if ".tmp." in other.name and now - other.stat().st_mtime < _ORPHAN_SECONDS:
                    continue  # another process may be writing it right now
                other.unlink()
            except OSError:
                pass

    # ---------------------------------------------------------------------------------- loading

    def load(self) -> SnapshotStats:
        """Build the index (once; later calls return the same stats), or open this version's cached one.

        Raises ``ProfileSourceError`` when the file cannot be read as a whole (then nothing is kept,
        and the next call tries again).
        """
        with self._lock:
            if self._loaded:
                return self.stats
            self._reset()
            started = time.monotonic()
            plan = self._cache_plan()
            if plan is not None and self._map_index(plan) is not None:
                self.stats.load_seconds = time.monotonic() - started
            elif plan is not None:
                self._build_cached(plan, started)
            else:
                self._build()
                self.stats.load_seconds = time.monotonic() - started
            self._loaded = True
        self._log_summary()
        return self.stats

    def _build(self, sink: _StreamedIndex | None = None) -> None:
        """Parse the whole file into the index: in memory, or with the records streamed into ``sink``
        (whose write errors come out as ``_CacheWriteError``)."""
        stream, raw = self._open()
        self._sink = sink
        try:
            if self.format == "csv":
                self._load_csv(stream)
            else:
                self._load_jsonl(stream)
            self._finish()
        except (OSError, EOFError, zlib.error, AzureError) as exc:
            rows = self.stats.rows_read
            self._reset()
            raise ProfileSourceError(
                f"profile file broken after {rows} rows: {_display_name(self.location)} "
                f"({type(exc).__name__})"
            ) from None
        except BaseException:
            self._reset()
            raise
        finally:
            self._sink = None
            stream.close()
            raw.close()

    def _lines_of(self, stream: IO[bytes], bad_lines: set[int],
                  long_lines: set[int] | None = None) -> Iterator[str]:
        """The lines as text; a line that is not UTF-8 goes into ``bad_lines``, one longer than
        ``MAX_LINE_BYTES`` into ``long_lines`` (and comes out as an empty line: it is never held)."""
        for number, raw in enumerate(_bounded_lines(stream), 1):
            if raw is None:
                if long_lines is not None:
                    long_lines.add(number)
                yield "\n"
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                bad_lines.add(number)
                text = raw.decode("utf-8", "replace")
            if number == 1:
                text = text.removeprefix("\ufeff")
            yield text

    def _load_jsonl(self, stream: IO[bytes]) -> None:
        bad_lines: set[int] = set()
        long_lines: set[int] = set()
        for number, line in enumerate(self._lines_of(stream, bad_lines, long_lines), 1):
            if number in long_lines:
                self.stats.rows_read += 1
                self.stats.malformed(number, "line_too_long", _TOO_LONG)
                self.stats.profiles_rejected += 1
                continue
            if not line.strip():
                continue
            self.stats.rows_read += 1
            try:
                if number in bad_lines:
                    raise _Malformed("bad_encoding", "line is not valid UTF-8")
                try:
                    obj = json.loads(line)
                except ValueError:
                    raise _Malformed("bad_json", "line is not valid JSON") from None
                except RecursionError:  # "[[[[...]]]]" nested beyond the parser's stack
                    raise _Malformed("too_deep", "line nests JSON too deeply") from None
                profile = _profile_from_json(obj)
            except _Malformed as exc:
                self.stats.malformed(number, exc.reason, exc.detail)
                self.stats.profiles_rejected += 1
                continue
            self._add(profile, number)

    def _load_csv(self, stream: IO[bytes]) -> None:
        """Rows grouped by consecutive profile_id. A row that cannot be read (bad encoding, wrong
        number of fields) rejects the profile its profile_id cell names; a row without profile_id
        is skipped alone."""
        bad_lines: set[int] = set()
        long_lines: set[int] = set()
        reader = csv.reader(self._lines_of(stream, bad_lines, long_lines))
        header: list[str] | None = None
        id_column = 0
        group: _CsvGroup | None = None
        tainted: set[str] = set()  # profile ids with an unreadable row
        previous_line = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error:
                self.stats.rows_read += 1
                self.stats.malformed(reader.line_num, "bad_csv", "row is not valid CSV")
                previous_line = reader.line_num
                continue
            first_line, previous_line = previous_line + 1, reader.line_num
            if header is None:
                header = [h.strip().lower().removeprefix("\ufeff") for h in row]
                if "profile_id" not in header:
                    raise ProfileSourceError(
                        f"CSV header of {_display_name(self.location)} has no profile_id column"
                    )
                id_column = header.index("profile_id")
                continue
            line = reader.line_num
            if any(n in long_lines for n in range(first_line, line + 1)):
                # Its cells are unknown (never read): the row is skipped alone, like one without an id.
                self.stats.rows_read += 1
                self.stats.malformed(line, "line_too_long", _TOO_LONG)
                continue
            if not any(cell.strip() for cell in row):
                continue
            self.stats.rows_read += 1
            id_cell = row[id_column].strip() if len(row) > id_column else ""
            try:
                if any(n in bad_lines for n in range(first_line, line + 1)):
                    raise _Malformed("bad_encoding", "row is not valid UTF-8")
                if len(row) != len(header):
                    raise _Malformed("wrong_column_count", f"{len(row)} fields, header has {len(header)}")
                values = dict(zip(header, row, strict=True))
                profile_id = _profile_id(values.get("profile_id"))
            except _Malformed as exc:
                self.stats.malformed(line, exc.reason, exc.detail)
                if id_cell:
                    tainted.add(id_cell)
                    if group is not None and group.profile_id == id_cell:
                        group.bad = True
                continue
            if group is None or group.profile_id != profile_id:
                if group is not None:
                    self._finish_group(group)
                group = _CsvGroup(profile_id, line)
                group.bad = profile_id in tainted
            if group.bad:
                continue
            try:
                group.add(values)
            except _Malformed as exc:
                self.stats.malformed(line, exc.reason, exc.detail)
                group.bad = True
        if group is not None:
            self._finish_group(group)

    def _finish_group(self, group: _CsvGroup) -> None:
        if group.bad:
            self.stats.profiles_rejected += 1
            return
        try:
            profile = group.profile()
        except _Malformed as exc:
            self.stats.malformed(group.line, exc.reason, exc.detail)
            self.stats.profiles_rejected += 1
            return
        self._add(profile, group.line)

    def _add(self, profile: Profile, line: int) -> None:
        record = len(self._lines)
        blob = _encode(profile)
        pid = profile.profile_id.encode("utf-8", "surrogatepass")
        # Hashed once here and kept, so profile_hashes() and every decode read it instead of re-hashing.
        content = bytes.fromhex(profile.content_hash or profile_content_hash(profile))
        if self._sink is None:
            self._data += blob
            self._pids += pid
            self._content += content
        else:  # streamed into the cache file being built (and its scratch files), not kept here
            self._sink.add(blob, pid, content)
        self._offsets.append(self._offsets[-1] + len(blob))
        self._pid_offsets.append(self._pid_offsets[-1] + len(pid))
        self._lines.append(line)
        self._ids.add(_key_hash("id", profile.profile_id), record)
        if profile.profile_url:
            self._urls.add(_key_hash("url", profile.profile_url), record)
        for email in profile.emails:
            self._emails.add(_key_hash("email", email), record)
        names = person_keys(profile.first_name, profile.last_name, profile.full_name)
        if names:
            for key in _name_company_keys(names, _profile_company_keys(profile)):
                self._names.add(_key_hash("name", key), record)
        self.stats.profiles_loaded += 1

    def _finish(self) -> None:
        """Sort the key columns; of several profiles with one profile_id keep the last in the file."""
        self._ids.freeze(set())
        hashes, records = self._ids.hashes, self._ids.records
        i = 0
        while i < len(hashes):
            j = i + 1
            while j < len(hashes) and hashes[j] == hashes[i]:
                j += 1
            if j - i > 1:
                by_id: dict[str, list[int]] = {}
                for k in range(i, j):
                    by_id.setdefault(self._profile_id(records[k]), []).append(records[k])
                for same in by_id.values():
                    for record in sorted(same)[:-1]:
                        self._dead.add(record)
                        self.stats.malformed(
                            self._lines[record], "duplicate_profile_id", "a later row has the same profile_id"
                        )
                        self.stats.profiles_loaded -= 1
            i = j
        for column in (self._ids, self._urls, self._emails, self._names):
            column.freeze(self._dead)
        self.stats.index_bytes = (
            self._offsets[-1]  # the records (the data section)
            + 8 * len(self._offsets)
            + self._pid_offsets[-1]
            + 8 * len(self._pid_offsets)
            + 32 * (len(self._offsets) - 1)  # content hashes
            + sum(c.nbytes() for c in (self._ids, self._urls, self._emails, self._names))
        )

    def _log_summary(self) -> None:
        stats = self.stats
        log.info(
            "profile snapshot %s loaded: %d rows, %d profiles, %d malformed, %.1f MB index (%s), %.1f s",
            _display_name(self.location),
            stats.rows_read,
            stats.profiles_loaded,
            sum(stats.rows_malformed.values()),
            stats.index_bytes / 1e6,
            "cache file reused" if stats.from_cache else f"index {stats.index_cache}",
            stats.load_seconds,
        )
        if stats.rows_malformed:
            log.warning(
                "profile snapshot %s: malformed rows skipped %s, first at lines %s",
                _display_name(self.location),
                dict(stats.rows_malformed),
                [line for line, _, _ in stats.malformed_examples[:5]],
            )

    def _record(self, record: int) -> Profile:
        start = 32 * record
        return _decode(self._data[self._offsets[record] : self._offsets[record + 1]],
                       self._content[start : start + 32].hex())

    def _profile_id(self, record: int) -> str:
        start, end = self._pid_offsets[record], self._pid_offsets[record + 1]
        raw = self._sink.pid(start, end) if self._sink is not None else self._pids[start:end]
        return str(raw, "utf-8", "surrogatepass")

    # ---------------------------------------------------------------------------------- look-ups

    def __len__(self) -> int:
        self.load()
        return self.stats.profiles_loaded

    def iter_profiles(self) -> Iterator[Profile]:
        """Every loaded profile, in file order (duplicates resolved)."""
        self.load()
        for record in range(len(self._offsets) - 1):
            if record not in self._dead:
                yield self._record(record)
            if record % _RELEASE_EVERY_RECORDS == _RELEASE_EVERY_RECORDS - 1:
                self.release_pages()
        self.release_pages()

    def profile_hashes(self) -> Iterator[tuple[str, str]]:
        """(profile_id, content_hash) of every loaded profile, in file order (duplicates resolved) - the
        same pairs as ``iter_profiles`` gives, read from the index without decoding a record."""
        self.load()
        pids, pid_offsets, content, dead = self._pids, self._pid_offsets, self._content, self._dead
        for record in range(len(pid_offsets) - 1):
            if record not in dead:
                yield (str(pids[pid_offsets[record] : pid_offsets[record + 1]], "utf-8", "surrogatepass"),
                       content[32 * record : 32 * record + 32].hex())
            if record % _RELEASE_EVERY_RECORDS == _RELEASE_EVERY_RECORDS - 1:
                self.release_pages()
        self.release_pages()

    def profile_by_id(self, profile_id: str) -> Profile | None:
        """The profile with this id as the file holds it now, or None (not a look-up: no keys matched)."""
        self.load()
        self._touch(1)
        found = [p for p in self._candidates(self._ids, "id", profile_id) if p.profile_id == profile_id]
        return found[0] if len(found) == 1 else None

    def profile_hash(self, profile_id: str) -> str | None:
        """The content hash of the profile with this id (None when it is gone), read from the index
        without decoding the record: what a run compares a contact's last verdict against."""
        self.load()
        self._touch(1)
        for record in self._ids.find(_key_hash("id", profile_id)):
            if record not in self._dead and self._profile_id(record) == profile_id:
                return bytes(self._content[32 * record : 32 * record + 32]).hex()
        return None

    def lookup(self, queries: Sequence[ProfileQuery]) -> dict[str, Profile | None]:
        """Contact id -> profile or None, for every query. See ``lookup_results`` for the reasons."""
        return {contact_id: result.profile for contact_id, result in self.lookup_results(queries).items()}

    def lookup_results(self, queries: Sequence[ProfileQuery]) -> dict[str, LookupResult]:
        """Contact id -> ``LookupResult`` (status, profile, detail) for every query."""
        self.load()
        results: dict[str, LookupResult] = {}
        for query in queries:
            result = self._lookup_one(query)
            self.lookup_stats.count(result)
            results[query.contact_id] = result
            self._touch(1)  # within the batch: one batch of look-ups touches most of a large index
        return results

    def _touch(self, lookups: int) -> None:
        self._touched += lookups
        if self._touched >= _RELEASE_EVERY:
            self.release_pages()

    def release_pages(self) -> None:
        """Give back the pages of the mapped cache file this process has touched. A run's look-ups
        touch pages all over the file, so without this a 1M-profile index (≈ 340 MB) ends up wholly in
        the process's resident set. The pages stay in the OS page cache: the next touch maps them
        again without reading the disk (a minor fault). Where ``madvise`` is missing, a no-op."""
        self._touched = 0
        mapping = self._mapping
        if mapping is not None and hasattr(mmap, "MADV_DONTNEED"):
            with contextlib.suppress(OSError, ValueError):  # closed meanwhile (another thread's reset)
                mapping.madvise(mmap.MADV_DONTNEED)

    def _candidates(self, column: _KeyColumn, kind: str, key: str) -> list[Profile]:
        return [self._record(r) for r in column.find(_key_hash(kind, key)) if r not in self._dead]

    def _lookup_one(self, query: ProfileQuery) -> LookupResult:
        url = normalise_profile_url(query.profile_url)
        emails = [e for e in dict.fromkeys(map(normalise_email, query.emails)) if e]
        names = person_keys(query.first_name, query.last_name, query.full_name)
        companies = company_lookup_keys(query.company_name, query.company_website).union(
            *(company_lookup_keys(name, None) for name in query.company_other_names))
        if not (url or emails or (names and companies)):
            return LookupResult("skipped", detail="no profile URL, email, or name with company")
        ambiguous: list[str] = []
        if url:
            found = [p for p in self._candidates(self._urls, "url", url) if p.profile_url == url]
            if len(found) == 1:
                by_email = any(e in found[0].emails for e in emails)
                return _matched(found[0], ("profile_url", "email") if by_email else ("profile_url",))
            if found:
                ambiguous.append(f"{len(found)} profiles with this profile_url")
        for email in emails:
            found = [p for p in self._candidates(self._emails, "email", email) if email in p.emails]
            if len(found) == 1:
                return _matched(found[0], ("email",))
            if found:
                ambiguous.append(f"{len(found)} profiles with this email")
        if names and companies:
            found_by_id: dict[str, Profile] = {}
            for key in _name_company_keys(names, companies):
                for profile in self._candidates(self._names, "name", key):
                    if profile.profile_id in found_by_id:
                        continue
                    candidate = person_keys(profile.first_name, profile.last_name, profile.full_name)
                    if names_agree(candidate, names) and not companies.isdisjoint(
                        _profile_company_keys(profile)
                    ):
                        found_by_id[profile.profile_id] = profile
            if len(found_by_id) == 1:
                return _matched(next(iter(found_by_id.values())), ("name_company",))
            if found_by_id:
                ambiguous.append(f"{len(found_by_id)} profiles with this name at this company")
        if ambiguous:
            return LookupResult("ambiguous", detail="; ".join(ambiguous))
        return LookupResult("not_found")

    def close(self) -> None:
        """Drop the index (the source can be loaded again)."""
        with self._lock:
            self._reset()


def _matched(profile: Profile, matched_on: tuple[str, ...]) -> LookupResult:
    return LookupResult("matched", replace(profile, matched_on=matched_on))
