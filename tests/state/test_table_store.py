"""TableStore against Azurite: keys, conditional writes, transactions."""

from __future__ import annotations

import uuid

import pytest
from azure.data.tables import TableServiceClient

from functions.config import load_config
from functions.state import (
    EntityExistsError,
    InvalidKeyError,
    StaleEntityError,
    TableStore,
    build_table_service,
    validate_key,
)


@pytest.fixture
def store(table_service: TableServiceClient) -> TableStore:
    return TableStore(table_service, f"t{uuid.uuid4().hex[:12]}").ensure()


@pytest.mark.parametrize("bad", ["", "a/b", "a\\b", "a#b", "a?b", "a\nb", "x" * 1025])
def test_invalid_keys_are_refused_before_any_request(bad: str) -> None:
    with pytest.raises(InvalidKeyError):
        validate_key(bad)


def test_valid_key_passes_through() -> None:
    assert validate_key("contact:49b0be2e-d01c-ed11-b83e-000d3a572421") == (
        "contact:49b0be2e-d01c-ed11-b83e-000d3a572421"
    )


def test_insert_get_and_duplicate(store: TableStore) -> None:
    store.insert({"PartitionKey": "p", "RowKey": "r", "value": 1})
    got = store.get("p", "r")
    assert got is not None
    assert got["value"] == 1
    assert got["etag"]
    with pytest.raises(EntityExistsError):
        store.insert({"PartitionKey": "p", "RowKey": "r", "value": 2})
    assert store.get("p", "missing") is None


def test_conditional_update_refuses_a_stale_etag(store: TableStore) -> None:
    etag = store.insert({"PartitionKey": "p", "RowKey": "r", "value": 1})
    store.update({"PartitionKey": "p", "RowKey": "r", "value": 2}, etag=etag)
    with pytest.raises(StaleEntityError):
        store.update({"PartitionKey": "p", "RowKey": "r", "value": 3}, etag=etag)
    assert store.get("p", "r")["value"] == 2


def test_delete_is_idempotent_without_etag_and_guarded_with_one(store: TableStore) -> None:
    etag = store.insert({"PartitionKey": "p", "RowKey": "r"})
    store.upsert({"PartitionKey": "p", "RowKey": "r", "more": True})
    with pytest.raises(StaleEntityError):
        store.delete("p", "r", etag=etag)
    store.delete("p", "r")
    store.delete("p", "r")
    assert store.get("p", "r") is None


def test_upsert_many_splits_into_transactions_of_100_per_partition(store: TableStore) -> None:
    entities = [{"PartitionKey": f"p{i % 2}", "RowKey": f"{i:05d}", "n": i} for i in range(250)]
    assert store.upsert_many(entities) == 250
    assert len(list(store.partition("p0"))) == 125
    assert sorted(e["n"] for e in store.partition("p1")) == list(range(1, 250, 2))


def test_upsert_many_refuses_a_bad_key_before_writing_it(store: TableStore) -> None:
    with pytest.raises(InvalidKeyError):
        store.upsert_many([{"PartitionKey": "p", "RowKey": "ok"}, {"PartitionKey": "p", "RowKey": "a/b"}])


def test_build_table_service_from_config(azurite) -> None:
    config = load_config(
        {
            "DATAVERSE_URL": "http://127.0.0.1:1",
            "DATAVERSE_AUTH": "local",
            "STATE_STORAGE_CONNECTION": azurite.connection_string,
        }
    )
    store = TableStore(build_table_service(config), "configcheck").ensure()
    store.upsert({"PartitionKey": "a", "RowKey": "b"})
    assert store.get("a", "b") is not None


def test_build_table_service_needs_a_setting() -> None:
    config = load_config({"DATAVERSE_URL": "http://127.0.0.1:1", "DATAVERSE_AUTH": "local"})
    with pytest.raises(ValueError, match="STATE_STORAGE_CONNECTION"):
        build_table_service(config)
