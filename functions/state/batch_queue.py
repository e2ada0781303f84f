"""The batch queue of the fan-out (``SCAN_FANOUT=queue``): one message per batch of a run.

Messages are JSON ``{"run_id", "index"}``, base64 on the wire like the run queue
(``functions/state/run_queue.py``: same storage account, same encoding). The batch itself is not in
the message (a queue message holds 64 KiB): it is a packed document in the state tables
(``functions/pipeline/fanout.py``). A message that fails ``maxDequeueCount`` times lands in
``data-validation-batches-poison``; the waiting run peeks there to stop waiting for it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import AzureError, ResourceExistsError
from azure.storage.queue import QueueClient

from functions.config import AppConfig
from functions.state.run_queue import build_queue_client
from functions.state.runs import is_run_id

__all__ = ["BATCH_QUEUE_NAME", "BadBatchMessage", "BatchMessage", "BatchQueue"]

log = logging.getLogger("functions.state.batch_queue")

BATCH_QUEUE_NAME = "data-validation-batches"
POISON_SUFFIX = "-poison"
_MAX_BODY = 512


class BadBatchMessage(ValueError):
    """A message on the batch queue that is not a batch reference (logged and dropped)."""


@dataclass(frozen=True)
class BatchMessage:
    run_id: str
    index: int

    def to_json(self) -> str:
        return json.dumps({"run_id": self.run_id, "index": self.index}, sort_keys=True)

    @classmethod
    def parse(cls, body: bytes | str) -> BatchMessage:
        """The decoded body the trigger gets; ``BadBatchMessage`` (never quoting it) otherwise."""
        if isinstance(body, bytes):
            try:
                body = body.decode("utf-8")
            except UnicodeDecodeError:
                raise BadBatchMessage("message is not UTF-8 text") from None
        if not isinstance(body, str) or len(body) > _MAX_BODY:
            raise BadBatchMessage("message is not a short text")
        try:
            data: Any = json.loads(body)
        except ValueError:
            raise BadBatchMessage("message is not JSON") from None
        if not isinstance(data, dict) or set(data) != {"run_id", "index"}:
            raise BadBatchMessage("message is not a JSON object with run_id and index")
        run_id, index = data["run_id"], data["index"]
        if not isinstance(run_id, str) or not is_run_id(run_id):
            raise BadBatchMessage("run_id is not a run id")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 100_000:
            raise BadBatchMessage("index is not a batch index")
        return cls(run_id, index)


class BatchQueue:
    """Sends batch references and peeks the poison queue. ``BatchQueue(config)`` builds its clients;
    ``BatchQueue(queue_client, poison_client)`` uses given ones (base64-encoding, as
    :func:`build_queue_client` builds them)."""

    def __init__(self, source: AppConfig | QueueClient, poison: QueueClient | None = None, *,
                 queue_name: str = BATCH_QUEUE_NAME) -> None:
        if isinstance(source, AppConfig):
            self.client = build_queue_client(source, queue_name)
            self.poison = build_queue_client(source, queue_name + POISON_SUFFIX)
        else:
            self.client = source
            self.poison = poison or QueueClient.from_queue_url(source.url + POISON_SUFFIX)
        self._ensured = False

    def ensure(self) -> BatchQueue:
        if not self._ensured:
            try:
                with contextlib.suppress(ResourceExistsError):
                    self.client.create_queue()
            except AzureError as exc:  # no right to create it (managed identity): infra created it
                log.warning("could not create queue %s (%s)", self.client.queue_name, type(exc).__name__)
            self._ensured = True
        return self

    def send(self, run_id: str, index: int, *, delay_seconds: int = 0) -> str:
        """Put a batch reference on the queue, visible after ``delay_seconds`` (a batch put back)."""
        self.ensure()
        message = BatchMessage(run_id, index).to_json()
        if delay_seconds > 0:
            return str(self.client.send_message(message, visibility_timeout=delay_seconds).id)
        return str(self.client.send_message(message).id)

    def poisoned(self, run_id: str) -> set[int]:
        """Indexes of this run's batches visible in the poison queue (the first 32 messages: a peek).
        The host copies the message text as received (base64) into the poison queue."""
        try:
            messages = self.poison.peek_messages(max_messages=32)
        except AzureError:  # no poison queue yet (nothing failed) or a transient error
            return set()
        found = set()
        for message in messages:
            found |= _index_of(message.content, run_id)
        return found

    def close(self) -> None:
        self.client.close()
        self.poison.close()


def _index_of(content: Any, run_id: str) -> set[int]:
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content or "")
    candidates = [text]
    with contextlib.suppress(binascii.Error, ValueError, UnicodeDecodeError):
        candidates.append(base64.b64decode(text.encode(), validate=True).decode("utf-8"))
    for candidate in candidates:
        try:
            message = BatchMessage.parse(candidate)
        except BadBatchMessage:
            continue
        if message.run_id == run_id:
            return {message.index}
    return set()
