"""FileSnapshotSource reading from Azure Blob storage (Azurite), streamed in chunks."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Iterator

import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient

from functions.config import load_profile_config
from functions.profiles import FileSnapshotSource, ProfileQuery, ProfileSourceError, build_profile_source
from localdev.azurite import Azurite

from .conftest import csv_text, jsonl, person

MANY = [person(f"p{i}", "Ada", f"Lovelace{i}", emails=(f"ada{i}@contoso.com",)) for i in range(400)]


@pytest.fixture
def container(azurite: Azurite) -> Iterator[ContainerClient]:
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    client = service.create_container(f"profiles-{uuid.uuid4().hex[:10]}")
    yield client
    client.delete_container()


@pytest.fixture
def small_chunks(azurite: Azurite) -> BlobServiceClient:
    """A service client that downloads in 4 KB pieces, so lines span chunk boundaries."""
    return BlobServiceClient.from_connection_string(
        azurite.connection_string, max_single_get_size=4096, max_chunk_get_size=4096
    )


def test_jsonl_blob_streamed_in_chunks(container: ContainerClient, small_chunks: BlobServiceClient) -> None:
    text = jsonl(MANY)
    assert len(text) > 40 * 4096
    container.upload_blob("snap/profiles.jsonl", text.encode())
    source = FileSnapshotSource(
        f"blob://{container.container_name}/snap/profiles.jsonl", blob_service=small_chunks
    )
    stats = source.load()
    assert stats.profiles_loaded == 400
    assert stats.rows_malformed == {}
    found = source.lookup([ProfileQuery("c", email="ADA399@contoso.com"), ProfileQuery("d", email="x@y.z")])
    assert found["c"] is not None
    assert found["c"].profile_id == "p399"
    assert found["d"] is None


def test_gzip_csv_blob_by_url_with_connection_string(azurite: Azurite, container: ContainerClient) -> None:
    header = ["profile_id", "first_name", "last_name", "emails", "company_name", "is_primary"]
    rows = [[f"c{i}", "Alan", f"Turing{i}", f"alan{i}@fabrikam.com", "Fabrikam", "true"] for i in range(300)]
    rows.insert(100, ["", "broken", "row", "", "", ""])
    blob = container.upload_blob("profiles.csv.gz", gzip.compress(csv_text(header, rows).encode()))
    source = FileSnapshotSource(blob.url, connection_string=azurite.connection_string)
    stats = source.load()
    assert stats.profiles_loaded == 300
    assert stats.rows_malformed == {"missing_profile_id": 1}
    found = source.lookup(
        [ProfileQuery("q", first_name="alan", last_name="turing7", company_name="Fabrikam")]
    )["q"]
    assert found is not None
    assert found.profile_id == "c7"


def test_factory_reads_blob_with_storage_connection(azurite: Azurite, container: ContainerClient) -> None:
    container.upload_blob("p.jsonl", jsonl(MANY[:3]).encode())
    source = build_profile_source(
        load_profile_config(
            {
                "PROFILE_SOURCE": "file",
                "PROFILE_FILE": f"blob://{container.container_name}/p.jsonl",
                "STATE_STORAGE_CONNECTION": azurite.connection_string,
            }
        )
    )
    assert isinstance(source, FileSnapshotSource)
    assert source.lookup([ProfileQuery("c", email="ada2@contoso.com")])["c"] is not None


def test_missing_blob_is_a_clear_error(container: ContainerClient, small_chunks: BlobServiceClient) -> None:
    source = FileSnapshotSource(f"blob://{container.container_name}/absent.jsonl", blob_service=small_chunks)
    with pytest.raises(ProfileSourceError, match="not found"):
        source.load()
