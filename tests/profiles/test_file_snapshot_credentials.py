"""The app's storage credential only ever goes to the configured storage account (issue 5, B1).

A listener on loopback plays "some other host" a profile file URL could name: whatever the source is
configured with (a connection string's shared key, a managed identity's token), no request that reaches
it carries an ``Authorization`` header. The same URL on the configured account does get the credential.
"""

from __future__ import annotations

import uuid
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.storage.blob import BlobServiceClient, ContainerClient

from functions.profiles import FileSnapshotSource, ProfileSourceError
from functions.profiles.file_snapshot import _on_endpoint
from localdev.azurite import Azurite

from .conftest import jsonl, person


class _Token:
    """A credential that would hand out a bearer token (the managed identity's stand-in)."""

    def __init__(self) -> None:
        self.asked = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.asked += 1
        return AccessToken("MI-TOKEN-MARKER", 4102444800)


def _url(server: ThreadingHTTPServer, path: str = "/devstoreaccount1/c/x.jsonl") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def _authorizations(server: ThreadingHTTPServer) -> list[str]:
    return [h for headers in server.seen for k, h in headers.items()  # type: ignore[attr-defined]
            if k.lower() == "authorization"]


def test_connection_string_key_never_goes_to_another_host(listener: ThreadingHTTPServer,
                                                          azurite: Azurite) -> None:
    source = FileSnapshotSource(_url(listener), connection_string=azurite.connection_string)
    with pytest.raises(ProfileSourceError):
        source.load()
    assert listener.seen, "the request did reach the other host"  # type: ignore[attr-defined]
    assert _authorizations(listener) == []


def test_managed_identity_token_never_goes_to_another_host(listener: ThreadingHTTPServer) -> None:
    token = _Token()
    source = FileSnapshotSource(_url(listener), account_url="https://acct.blob.core.windows.net",
                                credential=token)
    with pytest.raises(ProfileSourceError):
        source.load()
    assert _authorizations(listener) == []
    assert token.asked == 0


def test_without_a_configured_account_the_token_goes_only_to_azure_storage(
        listener: ThreadingHTTPServer) -> None:
    token = _Token()
    source = FileSnapshotSource(_url(listener), credential=token)
    with pytest.raises(ProfileSourceError):
        source.load()
    assert _authorizations(listener) == []
    assert token.asked == 0
    on_azure = FileSnapshotSource("https://acct.blob.core.windows.net/c/p.jsonl", credential=token)
    assert on_azure._url_credential() is token
    for other in ("http://acct.blob.core.windows.net/c/p.jsonl",          # not https
                  "https://acct.blob.core.windows.net.evil.test/c/p.jsonl",
                  "https://acct.blob.core.windows.net:8443/c/p.jsonl"):
        assert FileSnapshotSource(other, credential=token)._url_credential() is None, other


def test_the_configured_account_gets_its_credential(azurite: Azurite) -> None:
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    container: ContainerClient = service.create_container(f"profiles-{uuid.uuid4().hex[:10]}")
    try:
        blob = container.upload_blob("p.jsonl", jsonl([person("p1", "Ada", "Lovelace")]).encode())
        source = FileSnapshotSource(blob.url, connection_string=azurite.connection_string)
        assert source._url_credential() is not None
        assert source.load().profiles_loaded == 1  # a private container: read with the shared key
    finally:
        container.delete_container()


@pytest.mark.parametrize(("location", "endpoint", "expected"), [
    ("http://127.0.0.1:10000/devstoreaccount1/c/p", "http://127.0.0.1:10000/devstoreaccount1", True),
    ("http://127.0.0.1:10000/devstoreaccount1/c/p", "http://127.0.0.1:10000/devstoreaccount1/", True),
    ("http://127.0.0.1:10001/devstoreaccount1/c/p", "http://127.0.0.1:10000/devstoreaccount1", False),
    ("http://127.0.0.1:10000/otheraccount/c/p", "http://127.0.0.1:10000/devstoreaccount1", False),
    ("http://127.0.0.1:10000/devstoreaccount1x/c/p", "http://127.0.0.1:10000/devstoreaccount1", False),
    ("https://acct.blob.core.windows.net/c/p", "https://acct.blob.core.windows.net/", True),
    ("https://ACCT.blob.core.windows.net:443/c/p", "https://acct.blob.core.windows.net", True),
    ("http://acct.blob.core.windows.net/c/p", "https://acct.blob.core.windows.net", False),
    ("https://other.blob.core.windows.net/c/p", "https://acct.blob.core.windows.net", False),
    ("https://user@acct.blob.core.windows.net.evil/c/p", "https://acct.blob.core.windows.net", False),
    ("https://[::1/c/p", "https://acct.blob.core.windows.net", False),
])
def test_on_endpoint(location: str, endpoint: str, expected: bool) -> None:
    assert _on_endpoint(location, endpoint) is expected
