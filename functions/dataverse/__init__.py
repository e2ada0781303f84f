"""Dataverse Web API client.

Public surface::

    from functions.dataverse import DataverseClient, build_client, errors

    client = build_client(config.dataverse)
    for row in client.iter_rows("contacts", select=["fullname", "emailaddress1"],
                                filter=f"lastname eq {odata_string(name)}"):
        ...

Always build ``$filter`` literals with ``odata_string`` / ``odata_guid``.
Everything not re-exported here is private and may change.
"""

from __future__ import annotations

from . import errors
from .auth import (
    AzureIdentityTokenProvider,
    MsalTokenProvider,
    StaticTokenProvider,
    TokenProvider,
    build_token_provider,
    clear_token_provider_cache,
)
from .batch import BatchOperation, BatchResult
from .changes import ChangeFeed
from .client import MAX_BATCH_OPERATIONS, MAX_PAGE_SIZE, DataverseClient, build_client
from .errors import (
    AuthenticationError,
    BadRequestError,
    ConnectionFailedError,
    DataverseError,
    ExpiredDeltaTokenError,
    ForbiddenError,
    NotFoundError,
    PayloadTooLargeError,
    PreconditionFailedError,
    ServerError,
    ThrottledError,
)
from .models import ChangedRow, DeletedRow, RecordResult
from .odata import odata_guid, odata_string, validate_guid

__all__ = [
    "MAX_BATCH_OPERATIONS",
    "MAX_PAGE_SIZE",
    "AuthenticationError",
    "AzureIdentityTokenProvider",
    "BadRequestError",
    "BatchOperation",
    "BatchResult",
    "ChangeFeed",
    "ChangedRow",
    "ConnectionFailedError",
    "DataverseClient",
    "DataverseError",
    "DeletedRow",
    "ExpiredDeltaTokenError",
    "ForbiddenError",
    "MsalTokenProvider",
    "NotFoundError",
    "PayloadTooLargeError",
    "PreconditionFailedError",
    "RecordResult",
    "ServerError",
    "StaticTokenProvider",
    "ThrottledError",
    "TokenProvider",
    "build_client",
    "build_token_provider",
    "clear_token_provider_cache",
    "errors",
    "odata_guid",
    "odata_string",
    "validate_guid",
]
