"""The run-request queue: the API puts one message per requested run, the queue trigger runs it.

Messages are JSON ``{"run_id", "trigger", "dry_run", "requested_by"}``, base64-encoded on the wire:
the Functions host's queue trigger expects base64 by default (``messageEncoding``), and hands the
function the decoded bytes (``func.QueueMessage.get_body()``), which :meth:`RunMessage.parse` reads.

The queue lives in the state storage account: ``STATE_STORAGE_CONNECTION`` (Azurite locally), or
``STATE_QUEUE_ACCOUNT_URL`` with the app's managed identity. The trigger reads the same queue through
its ``AzureWebJobsStorage`` connection, so in Azure both must name the same account.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from dataclasses import asdict, dataclass
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

from functions.config import AppConfig
from functions.state.runs import is_run_id

__all__ = ["RUN_QUEUE_NAME", "BadRunMessage", "RunMessage", "RunQueue", "build_queue_client"]

log = logging.getLogger("functions.state.run_queue")

RUN_QUEUE_NAME = "data-validation-runs"
_TRIGGER = re.compile(r"^[a-z][a-z_]{0,19}$")
_MAX_REQUESTED_BY = 256
_MAX_BODY = 4096  # a message is ~150 bytes; anything much larger is not ours


class BadRunMessage(ValueError):
    """A queue message that is not a run request (the worker logs it and drops it)."""


@dataclass(frozen=True)
class RunMessage:
    run_id: str
    trigger: str
    dry_run: bool | None = None  # None: the stored settings decide when the run starts
    requested_by: str | None = None

    def __post_init__(self) -> None:
        if not is_run_id(self.run_id):
            raise BadRunMessage("run_id is not a run id (YYYYmmddTHHMMSSZ-<8 hex>)")
        if not isinstance(self.trigger, str) or not _TRIGGER.match(self.trigger):
            raise BadRunMessage("trigger must be a short lower-case word")
        if self.dry_run is not None and not isinstance(self.dry_run, bool):
            raise BadRunMessage("dry_run must be true, false or null")
        if self.requested_by is not None and (
            not isinstance(self.requested_by, str) or len(self.requested_by) > _MAX_REQUESTED_BY
        ):
            raise BadRunMessage(f"requested_by must be a string of at most {_MAX_REQUESTED_BY} characters")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def parse(cls, body: bytes | str) -> RunMessage:
        """Read a message body (the decoded bytes the trigger gets); ``BadRunMessage`` if it is not one.
        The reason never quotes the body (it may hold anything)."""
        if isinstance(body, bytes):
            if len(body) > _MAX_BODY:
                raise BadRunMessage(f"message is {len(body)} bytes, more than a run request")
            try:
                body = body.decode("utf-8")
            except UnicodeDecodeError:
                raise BadRunMessage("message is not UTF-8 text") from None
        if not isinstance(body, str) or len(body) > _MAX_BODY:
            raise BadRunMessage("message is not a short text")
        try:
            data: Any = json.loads(body)
        except ValueError:
            raise BadRunMessage("message is not JSON") from None
        if not isinstance(data, dict):
            raise BadRunMessage("message is not a JSON object")
        unknown = sorted(set(data) - {"run_id", "trigger", "dry_run", "requested_by"})
        if unknown:
            raise BadRunMessage(f"unknown member(s): {', '.join(k[:40] for k in unknown[:5])}")
        if "run_id" not in data or "trigger" not in data:
            raise BadRunMessage("run_id and trigger are required")
        return cls(data["run_id"], data["trigger"], data.get("dry_run"), data.get("requested_by"))


def build_queue_client(config: AppConfig, queue_name: str = RUN_QUEUE_NAME) -> QueueClient:
    """A client for the run queue from the config, encoding messages as the Functions host expects."""
    policies = {"message_encode_policy": TextBase64EncodePolicy(),
                "message_decode_policy": TextBase64DecodePolicy()}
    if config.storage_connection is not None:
        return QueueClient.from_connection_string(config.storage_connection.get_secret_value(), queue_name,
                                                  **policies)
    if config.storage_queue_url:
        from azure.identity import DefaultAzureCredential  # imported lazily: no I/O at import time

        return QueueClient(config.storage_queue_url, queue_name, credential=DefaultAzureCredential(),
                           **policies)
    raise ValueError(
        "the run queue is not configured: set STATE_STORAGE_CONNECTION or STATE_QUEUE_ACCOUNT_URL"
    )


class RunQueue:
    """Sends run requests. ``RunQueue(config)`` builds its client (``queue_name`` injectable for tests);
    ``RunQueue(queue_client)`` uses a given client, which must encode with ``TextBase64EncodePolicy``
    (as :func:`build_queue_client` does)."""

    def __init__(self, source: AppConfig | QueueClient, *, queue_name: str = RUN_QUEUE_NAME) -> None:
        if isinstance(source, AppConfig):
            self.client = build_queue_client(source, queue_name)
        else:
            self.client = source
        self._ensured = False

    @property
    def queue_name(self) -> str:
        return self.client.queue_name

    def ensure(self) -> RunQueue:
        """Create the queue if it is missing (idempotent; infra creates it in Azure)."""
        if not self._ensured:
            with contextlib.suppress(ResourceExistsError):
                self.client.create_queue()
            self._ensured = True
        return self

    def send(self, message: RunMessage) -> str:
        """Put one run request on the queue; returns the queue's message id."""
        try:
            self.ensure()
        except Exception as exc:  # no right to create it (managed identity): it should exist already
            log.warning("could not create queue %s (%s); sending anyway", self.queue_name, type(exc).__name__)
            self._ensured = True
        sent = self.client.send_message(message.to_json())
        return str(sent.id)

    def close(self) -> None:
        self.client.close()
