"""State storage survives a reset connection: against Azurite behind a proxy that loses answers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from functions.config import load_config
from functions.state.table_store import StaleEntityError, TableStore, build_table_service
from localdev.fault_proxy import FaultProxy


@pytest.fixture
def proxied(azurite) -> Iterator[tuple[FaultProxy, TableStore, TableStore]]:
    """A table seen through the proxy (faulty) and directly (the truth)."""
    with FaultProxy(azurite.table_port) as proxy:
        direct_cs = azurite.connection_string
        proxied_cs = direct_cs.replace(f":{azurite.table_port}/", f":{proxy.port}/")
        assert proxied_cs != direct_cs
        name = "t" + uuid.uuid4().hex[:12]
        env = {"DATAVERSE_URL": "http://127.0.0.1:1", "DATAVERSE_AUTH": "local"}
        faulty = TableStore(build_table_service(load_config({**env, "STATE_STORAGE_CONNECTION": proxied_cs})),
                            name)
        truth = TableStore(build_table_service(load_config({**env, "STATE_STORAGE_CONNECTION": direct_cs})),
                           name).ensure()
        yield proxy, faulty, truth


def test_a_transaction_whose_answer_is_lost_is_sent_again(proxied) -> None:
    proxy, faulty, truth = proxied
    proxy.add("drop_after", method="POST", path=r"\$batch")  # committed, then the connection resets
    rows = [{"PartitionKey": "p", "RowKey": f"r{i}", "n": i} for i in range(5)]
    assert faulty.upsert_many(rows) == 5
    assert proxy.fired["drop_after"] == 1
    assert sorted(e["n"] for e in truth.partition("p")) == [0, 1, 2, 3, 4]


def test_a_merge_whose_connection_resets_before_sending_is_sent_again(proxied) -> None:
    proxy, faulty, truth = proxied
    proxy.add("drop_before", method="PATCH")
    faulty.upsert({"PartitionKey": "p", "RowKey": "r", "n": 1})
    assert truth.get("p", "r")["n"] == 1


def test_a_conditional_update_whose_answer_is_lost_is_resolved_by_reading(proxied) -> None:
    proxy, faulty, truth = proxied
    etag = truth.insert({"PartitionKey": "p", "RowKey": "lease", "owner": "run-1", "n": 1})
    proxy.add("drop_after", method="PATCH")
    new_etag = faulty.update({"PartitionKey": "p", "RowKey": "lease", "owner": "run-1", "n": 2}, etag=etag)
    assert new_etag == truth.get("p", "lease")["etag"] != etag
    # lost before it was sent: it is sent again
    proxy.add("drop_before", method="PATCH")
    faulty.update({"PartitionKey": "p", "RowKey": "lease", "owner": "run-1", "n": 3}, etag=new_etag)
    assert truth.get("p", "lease")["n"] == 3
    # someone else's change is still a conflict
    current = truth.get("p", "lease")["etag"]
    truth.update({"PartitionKey": "p", "RowKey": "lease", "owner": "run-2", "n": 9}, etag=current)
    with pytest.raises(StaleEntityError):
        faulty.update({"PartitionKey": "p", "RowKey": "lease", "owner": "run-1", "n": 4}, etag=current)


def test_an_insert_whose_answer_is_lost_is_not_reported_as_existing(proxied) -> None:
    proxy, faulty, truth = proxied
    proxy.add("drop_after", method="POST", path=r"^/devstoreaccount1/t")
    faulty.insert({"PartitionKey": "p", "RowKey": "lock", "owner": "run-1"})
    assert truth.get("p", "lock")["owner"] == "run-1"
