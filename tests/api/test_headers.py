"""The one header class of the API (``functions.api.http.Headers``) and its policy for repeats: joined
for reading list-valued headers, refused (401) where credentials would be ambiguous."""

from __future__ import annotations

import pytest

from functions.api.auth import Role, Unauthenticated, authorize
from functions.api.http import AmbiguousHeader, Headers
from functions.config import ApiConfig


def test_names_are_case_insensitive_and_repeats_are_joined() -> None:
    headers = Headers([("If-Match", '"a"'), ("if-match", '"b"'), ("Content-Type", "application/json")])
    assert headers["IF-MATCH"] == '"a", "b"'
    assert headers.get("content-type") == "application/json"
    assert headers.values_of("If-Match") == ['"a"', '"b"']
    assert "CONTENT-TYPE" in headers
    assert len(headers) == 2
    assert Headers(headers).values_of("if-match") == ['"a"', '"b"']  # a copy keeps every value


def test_single_refuses_differing_repeats_only() -> None:
    assert Headers([("X", "1"), ("x", "1")]).single("X") == "1"
    assert Headers({}).single("X") is None
    with pytest.raises(AmbiguousHeader):
        Headers([("X", "1"), ("x", "2")]).single("x")


def test_authorize_refuses_an_ambiguous_credential_header() -> None:
    api = ApiConfig(auth="jwt", jwt_audience="a", jwt_issuer="https://i", jwks_url="https://j")
    headers = Headers([("Authorization", "Bearer a.b.c"), ("authorization", "Bearer d.e.f")])
    with pytest.raises(Unauthenticated, match="more than once"):
        authorize(headers, api, Role.READER, jwks=lambda kid: (_ for _ in ()).throw(LookupError(kid)))
