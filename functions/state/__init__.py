"""State in Azure Table storage (Azurite locally)."""

from functions.state.table_store import (
    EntityExistsError,
    InvalidKeyError,
    StaleEntityError,
    TableStore,
    build_table_service,
    validate_key,
)

__all__ = [
    "EntityExistsError",
    "InvalidKeyError",
    "StaleEntityError",
    "TableStore",
    "build_table_service",
    "validate_key",
]
