"""FileSnapshotSource.version() and the index cache for a blob (Azurite): the ETag is the version."""

from __future__ import annotations

import glob
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient

from functions.profiles import FileSnapshotSource, ProfileQuery, ProfileSourceError
from localdev.azurite import Azurite

from .conftest import jsonl, person


@pytest.fixture
def container(azurite: Azurite) -> Iterator[ContainerClient]:
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    client = service.create_container(f"index-{uuid.uuid4().hex[:10]}")
    yield client
    client.delete_container()


def test_blob_version_is_its_etag_and_the_cache_follows_it(
    azurite: Azurite, container: ContainerClient, tmp_path: Path
) -> None:
    blob = container.upload_blob("snap/profiles.jsonl", jsonl([person("p1", "Ada", "Lovelace")]).encode())
    location = f"blob://{container.container_name}/snap/profiles.jsonl"

    def source() -> FileSnapshotSource:
        return FileSnapshotSource(location, connection_string=azurite.connection_string,
                                  index_dir=tmp_path / "idx")

    properties = blob.get_blob_properties()
    assert source().version() == f"blob:{properties.etag}:{properties.size}"
    assert source().load().index_cache == "built"  # a blob's ETag is exact: no settling needed
    reused = source()
    assert reused.load().from_cache
    assert reused.lookup([ProfileQuery("c", profile_url="linkedin.com/in/p1")])["c"] is not None
    # The same blob by its URL (with the account's key) is the same location: the same cache file.
    by_url = FileSnapshotSource(blob.url, connection_string=azurite.connection_string,
                                index_dir=tmp_path / "idx")
    assert by_url.load().from_cache

    old = source().version()
    new_content = jsonl([person("p2", "Alan", "Turing")]).encode()
    container.upload_blob("snap/profiles.jsonl", new_content, overwrite=True)
    changed = source()
    assert changed.version() != old
    assert changed.load().index_cache == "built"
    assert changed.lookup([ProfileQuery("c", profile_url="linkedin.com/in/p2")])["c"] is not None
    assert changed.lookup([ProfileQuery("c", profile_url="linkedin.com/in/p1")])["c"] is None
    assert len(glob.glob(str(tmp_path / "idx" / "*.idx"))) == 1  # the old version's file is gone


def test_version_of_a_missing_blob_raises_the_typed_error(
    azurite: Azurite, container: ContainerClient
) -> None:
    source = FileSnapshotSource(f"blob://{container.container_name}/nope.jsonl",
                                connection_string=azurite.connection_string)
    with pytest.raises(ProfileSourceError, match="profile blob not found"):
        source.version()
    with pytest.raises(ProfileSourceError, match="profile blob not found"):
        source.load()
