"""Packed documents in table entities (Azurite): round trip, several entities, damage reads as none."""

from __future__ import annotations

import os
import uuid

import pytest

from functions.state.echoes import WriteEchoes
from functions.state.packed import delete_packed, read_packed, write_packed
from functions.state.tables import ScanTables


@pytest.fixture
def tables(table_service) -> ScanTables:
    return ScanTables(table_service, "p" + uuid.uuid4().hex[:10]).ensure()


def test_round_trip_of_a_small_and_an_empty_document(tables: ScanTables) -> None:
    store = tables.crmindex
    assert write_packed(store, "doc-a", {"x": [1, 2, 3], "y": "ü"}) == 1
    assert read_packed(store, "doc-a") == {"x": [1, 2, 3], "y": "ü"}
    write_packed(store, "doc-b", {})
    assert read_packed(store, "doc-b") == {}
    assert read_packed(store, "doc-missing") is None


def test_a_large_document_spans_entities_and_a_shorter_rewrite_ignores_the_old_tail(tables) -> None:
    store = tables.crmindex
    big = {uuid.UUID(bytes=os.urandom(16)).hex: os.urandom(24).hex() for _ in range(40_000)}
    entities = write_packed(store, "doc-big", big)
    assert entities >= 2
    assert read_packed(store, "doc-big") == big
    write_packed(store, "doc-big", {"small": True})  # the old tail entities are left, never read
    assert read_packed(store, "doc-big") == {"small": True}
    delete_packed(store, "doc-big")
    assert read_packed(store, "doc-big") is None


def test_a_missing_part_or_a_changed_byte_reads_as_none(tables: ScanTables) -> None:
    store = tables.crmindex
    big = {str(i): os.urandom(30).hex() for i in range(30_000)}
    assert write_packed(store, "doc-c", big) >= 2
    store.delete("doc-c", "00001")
    assert read_packed(store, "doc-c") is None
    write_packed(store, "doc-d", {"a": 1})
    head = store.get("doc-d", "00000")
    store.upsert({"PartitionKey": "doc-d", "RowKey": "00000", "p00": bytes(head["p00"])[:-1] + b"\x00"})
    assert read_packed(store, "doc-d") is None


def test_write_echoes_round_trip_and_ignore_a_foreign_document(tables: ScanTables) -> None:
    echoes = WriteEchoes(tables.crmindex)
    run_id = "20260115T020000Z-0a1b2c3d"
    versions = {f"{i:08x}-1111-2222-3333-444444444444": f'W/"{1000 + i}"' for i in range(2500)}
    echoes.save(run_id, versions)
    assert echoes.load(run_id) == versions
    assert echoes.load(None) == {}
    write_packed(tables.crmindex, "echo-other", [1, 2, 3])
    assert echoes.load("other") == {}
    echoes.delete(run_id)
    assert echoes.load(run_id) == {}
