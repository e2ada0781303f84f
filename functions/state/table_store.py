"""A small, typed layer over one Azure table: safe keys, conditional writes, 100-op transactions."""

from __future__ import annotations

import contextlib
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import tenacity
from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.data.tables import TableClient, TableServiceClient, TableTransactionError, UpdateMode

from functions.config import AppConfig

# Azure Table keys may not contain / \ # ? or control characters (Azurite even answers a 500 for
# "/"), and are limited to 1 KiB.
_FORBIDDEN_KEY_CHARS = re.compile(r"[/\\#?\x00-\x1f\x7f-\x9f]")
_MAX_KEY_LENGTH = 1024
# One entity group transaction holds at most 100 operations on one partition.
MAX_TRANSACTION_OPERATIONS = 100


class InvalidKeyError(ValueError):
    """A PartitionKey or RowKey that Azure Table storage would reject."""


class EntityExistsError(Exception):
    """An insert found an entity with the same keys."""


class StaleEntityError(Exception):
    """A conditional write found the entity changed (or deleted) since it was read."""


def _holds(found: Mapping[str, Any], written: Mapping[str, Any]) -> bool:
    """The stored entity carries every value written (the write happened, or one just like it)."""
    return all(found.get(k) == v for k, v in written.items())


def validate_key(value: str, *, what: str = "key") -> str:
    """Return ``value`` if it is a valid table key, else raise ``InvalidKeyError``."""
    if not isinstance(value, str) or not value:
        raise InvalidKeyError(f"{what} must be a non-empty string")
    if len(value) > _MAX_KEY_LENGTH:
        raise InvalidKeyError(f"{what} is longer than {_MAX_KEY_LENGTH} characters")
    if _FORBIDDEN_KEY_CHARS.search(value):
        raise InvalidKeyError(f"{what} contains a character Azure Tables forbids (/ \\ # ? or control)")
    return value


#: Transport errors that leave a write's outcome unknown (``ServiceResponseError``: sent, answer lost)
#: or certain not to have happened (``ServiceRequestError``: never sent).
_TRANSPORT_ERRORS = (ServiceRequestError, ServiceResponseError)


def _repeating() -> tenacity.Retrying:
    """Repeats a write that is safe to repeat after a transport error: azure-core repeats only
    HEAD/GET/PUT/DELETE/OPTIONS/TRACE, so a keep-alive connection reset under an entity-group
    transaction (POST ``$batch``) or a merge-upsert (PATCH) failed a run after its Dataverse writes had
    committed. This store's transactions hold only merge-upserts: repeating them gives the same
    entities."""
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(_TRANSPORT_ERRORS),
        stop=tenacity.stop_after_attempt(TRANSPORT_ATTEMPTS),
        wait=tenacity.wait_exponential_jitter(multiplier=0.2, max=5.0, jitter=0.2),
        reraise=True,
    )


#: attempts of a write whose connection reset (the first included)
TRANSPORT_ATTEMPTS = 4


def build_table_service(config: AppConfig) -> TableServiceClient:
    """A table service client from the config: a connection string, or the account URL with the
    app's managed identity (no keys)."""
    if config.storage_connection is not None:
        return TableServiceClient.from_connection_string(config.storage_connection.get_secret_value())
    if config.storage_account_url:
        from azure.identity import DefaultAzureCredential  # imported lazily: no I/O at import time

        return TableServiceClient(endpoint=config.storage_account_url, credential=DefaultAzureCredential())
    raise ValueError(
        "state storage is not configured: set STATE_STORAGE_CONNECTION or STATE_STORAGE_ACCOUNT_URL"
    )


class TableStore:
    """One table. Entities are plain dicts with ``PartitionKey`` and ``RowKey``."""

    def __init__(self, service: TableServiceClient, table_name: str) -> None:
        self._table: TableClient = service.get_table_client(table_name)
        self.table_name = table_name

    def ensure(self) -> TableStore:
        """Create the table if it does not exist yet (idempotent)."""
        with contextlib.suppress(ResourceExistsError):
            self._table.create_table()
        return self

    def get(self, partition_key: str, row_key: str) -> dict[str, Any] | None:
        validate_key(partition_key, what="PartitionKey")
        validate_key(row_key, what="RowKey")
        try:
            entity = self._table.get_entity(partition_key, row_key)
        except ResourceNotFoundError:
            return None
        return dict(entity) | {"etag": entity.metadata["etag"]}

    def insert(self, entity: Mapping[str, Any]) -> str:
        """Create an entity; ``EntityExistsError`` if one with the same keys exists. Returns the ETag.

        A lost answer (the connection reset after the request was sent) is resolved by reading the
        entity: there with exactly our values, the insert happened; absent, it is sent again."""
        checked = self._checked(entity)
        try:
            return self._table.create_entity(checked)["etag"]
        except ResourceExistsError as exc:
            raise EntityExistsError(f"{entity['PartitionKey']}/{entity['RowKey']} exists") from exc
        except ServiceRequestError:
            return self._table.create_entity(checked)["etag"]  # never sent: send it once more
        except ServiceResponseError:
            found = self.get(checked["PartitionKey"], checked["RowKey"])
            if found is None:
                return self.insert(entity)
            if _holds(found, checked):
                return found["etag"]
            raise EntityExistsError(f"{entity['PartitionKey']}/{entity['RowKey']} exists") from None

    def upsert(self, entity: Mapping[str, Any], *, replace: bool = False) -> str:
        """Insert or merge (or replace): safe to repeat, so a reset connection is retried."""
        mode = UpdateMode.REPLACE if replace else UpdateMode.MERGE
        checked = self._checked(entity)
        return _repeating()(lambda: self._table.upsert_entity(checked, mode=mode)["etag"])

    def update(self, entity: Mapping[str, Any], *, etag: str, replace: bool = False) -> str:
        """Write only if the entity still has ``etag``; else ``StaleEntityError``."""
        mode = UpdateMode.REPLACE if replace else UpdateMode.MERGE
        checked = self._checked(entity)
        try:
            return self._table.update_entity(
                checked, mode=mode, etag=etag, match_condition=MatchConditions.IfNotModified
            )["etag"]
        except (ResourceModifiedError, ResourceNotFoundError) as exc:
            raise StaleEntityError(f"{entity['PartitionKey']}/{entity['RowKey']} changed") from exc
        except ServiceRequestError:
            return self.update(entity, etag=etag, replace=replace)  # never sent: send it again
        except ServiceResponseError:
            # the answer was lost: still at ``etag`` means it did not happen (send it again); our values
            # under a new etag mean it did; anything else is another writer's change
            found = self.get(checked["PartitionKey"], checked["RowKey"])
            if found is not None and found["etag"] == etag:
                return self.update(entity, etag=etag, replace=replace)
            if found is not None and _holds(found, checked):
                return found["etag"]
            raise StaleEntityError(f"{entity['PartitionKey']}/{entity['RowKey']} changed") from None

    def delete(self, partition_key: str, row_key: str, *, etag: str | None = None) -> None:
        """Delete (idempotent: a missing entity is fine unless an ``etag`` is required)."""
        if etag is None:
            self._table.delete_entity(partition_key, row_key)
            return
        try:
            self._table.delete_entity(
                partition_key, row_key, etag=etag, match_condition=MatchConditions.IfNotModified
            )
        except (ResourceModifiedError, ResourceNotFoundError) as exc:
            raise StaleEntityError(f"{partition_key}/{row_key} changed") from exc

    def partition(self, partition_key: str, *, select: list[str] | None = None) -> Iterator[dict[str, Any]]:
        """Stream every entity of one partition with its ``etag`` (the SDK pages; nothing is held)."""
        validate_key(partition_key, what="PartitionKey")
        for entity in self._table.query_entities(
            "PartitionKey eq @pk", parameters={"pk": partition_key}, select=select
        ):
            yield dict(entity) | {"etag": entity.metadata["etag"]}

    def upsert_many(self, entities: Iterable[Mapping[str, Any]]) -> int:
        """Upsert in transactions of at most 100 operations per partition. Returns the count.

        Each transaction is atomic; a failing one raises ``TableTransactionError`` after the
        earlier ones committed, so callers keep their writes idempotent.
        """
        pending: dict[str, list[tuple[str, dict[str, Any], dict[str, Any]]]] = defaultdict(list)
        written = 0
        for entity in entities:
            checked = self._checked(entity)
            batch = pending[checked["PartitionKey"]]
            batch.append(("upsert", checked, {"mode": UpdateMode.MERGE}))
            if len(batch) == MAX_TRANSACTION_OPERATIONS:
                written += self._submit(batch)
                batch.clear()
        for batch in pending.values():
            if batch:
                written += self._submit(batch)
        return written

    def _submit(self, operations: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> int:
        # merge-upserts only: repeating the transaction after a reset connection gives the same entities
        _repeating()(self._table.submit_transaction, list(operations))
        return len(operations)

    def conditional_transaction(self, operations: list[tuple[str, Mapping[str, Any], str | None]]) -> bool:
        """One entity-group transaction of ``(kind, entity, etag)``: ``create`` (must not exist),
        ``update`` (replace, must still have ``etag``) or ``delete`` (must still have ``etag``), all in
        one partition. True when it committed; False when any condition failed (nothing was written)
        or its answer was lost (the caller reads and decides again: the operations are not repeated,
        since a repeat of an applied one fails its condition anyway)."""
        ops: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        for kind, entity, etag in operations:
            checked = self._checked(entity)
            if kind == "create":
                ops.append(("create", checked, {}))
            elif kind == "update":
                ops.append(("update", checked, {"mode": UpdateMode.REPLACE, "etag": etag,
                                                "match_condition": MatchConditions.IfNotModified}))
            else:
                ops.append(("delete", checked,
                            {"etag": etag, "match_condition": MatchConditions.IfNotModified}))
        try:
            self._table.submit_transaction(ops)
        except TableTransactionError:
            return False
        except ServiceResponseError:
            return False
        return True

    @staticmethod
    def _checked(entity: Mapping[str, Any]) -> dict[str, Any]:
        validate_key(entity.get("PartitionKey", ""), what="PartitionKey")
        validate_key(entity.get("RowKey", ""), what="RowKey")
        return {k: v for k, v in entity.items() if k != "etag"}


