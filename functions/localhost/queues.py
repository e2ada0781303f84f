"""Queue-trigger drain for the local host: one polling thread per queue-triggered function.

Follows the Functions host's queue processor (azure-webjobs-sdk QueueProcessor): a message is
received with a lease (invisible while the function runs), decoded (host.json messageEncoding,
base64 by default), handed to the function as a real ``azure.functions.QueueMessage`` with its
``dequeue_count``; deleted on success; on failure made visible again after ``visibilityTimeout``,
or - once its dequeue count reached ``maxDequeueCount`` - copied to ``<queue>-poison`` (raw text,
as received) and deleted. A message already dequeued more often than that (a crash mid-run)
goes to poison without another try. A message that cannot be decoded goes to poison at once:
retrying cannot fix it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.functions.queue import QueueMessage as FuncQueueMessage
from azure.storage.queue import QueueClient
from azure.storage.queue import QueueMessage as StorageQueueMessage

from functions.localhost.hostjson import HostSettings

log = logging.getLogger("functions.localhost.queues")

# How long a received message stays invisible while the function runs. The host renews its lease;
# locally one long lease is enough (a scan run takes minutes, not hours).
LEASE_SECONDS = 600


class QueueWorker:
    """Polls one queue and invokes one function; ``wait_idle`` tells tests when it is drained."""

    def __init__(
        self,
        *,
        function_name: str,
        queue_name: str,
        connection_string: str,
        invoke: Callable[[FuncQueueMessage], None],
        settings: HostSettings,
        poll_interval: float = 0.2,
    ) -> None:
        self.function_name = function_name
        self.queue_name = queue_name
        self.poison_queue_name = f"{queue_name}-poison"
        self._invoke = invoke
        self._settings = settings
        self._poll_interval = poll_interval
        self._client = QueueClient.from_connection_string(connection_string, queue_name)
        self._poison = QueueClient.from_connection_string(connection_string, self.poison_queue_name)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state = threading.Condition()
        self._polls_started = 0
        self._last_empty_poll = 0  # number of the latest poll that found nothing to do
        self.processed = 0
        self.failed = 0
        self.poisoned = 0

    def start(self) -> None:
        _create_if_missing(self._client)
        self._thread = threading.Thread(
            target=self._run, name=f"queue-{self.queue_name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._client.close()
        self._poison.close()

    def wait_idle(self, deadline: float) -> bool:
        """True once a poll that started after this call found the queue empty and no message is
        waiting invisibly for a retry; False at ``deadline`` (time.monotonic())."""
        while True:
            with self._state:
                target = self._polls_started + 1
                while self._last_empty_poll < target:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or self._thread is None:
                        return False
                    self._state.wait(min(remaining, 0.5))
            try:
                pending = self._client.get_queue_properties().approximate_message_count
            except AzureError:
                pending = 1
            if not pending:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(self._poll_interval, 0.1))

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._state:
                self._polls_started += 1
                poll = self._polls_started
            try:
                messages = list(
                    self._client.receive_messages(
                        max_messages=self._settings.batch_size, visibility_timeout=LEASE_SECONDS
                    )
                )
            except ResourceNotFoundError:
                _create_if_missing(self._client)
                messages = []
            except AzureError as exc:
                log.warning("queue %s: receive failed (%s); retrying", self.queue_name, type(exc).__name__)
                messages = []
                self._stop.wait(1.0)
            for message in messages:
                if self._stop.is_set():
                    break  # the lease runs out and the message comes back after a restart
                try:
                    self._handle(message)
                except Exception:  # storage trouble while deleting/poisoning: keep the worker alive
                    log.exception("queue %s: could not finish message %s", self.queue_name, message.id)
            if not messages:
                with self._state:
                    self._last_empty_poll = poll
                    self._state.notify_all()
                self._stop.wait(self._poll_interval)

    def _decode(self, content: str | bytes) -> bytes:
        raw = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        if self._settings.message_encoding == "none":
            return raw
        return base64.b64decode(raw, validate=True)

    def _handle(self, message: StorageQueueMessage) -> None:
        count = int(message.dequeue_count or 1)
        if count > self._settings.max_dequeue_count:
            self._to_poison(message, count)
            return
        try:
            body = self._decode(message.content)
        except (binascii.Error, ValueError):
            log.error("queue %s: message %s is not valid %s; moving it to %s", self.queue_name,
                      message.id, self._settings.message_encoding, self.poison_queue_name)
            self._to_poison(message, count)
            return
        func_message = FuncQueueMessage(
            id=message.id,
            body=body,
            dequeue_count=count,
            expiration_time=message.expires_on,
            insertion_time=message.inserted_on,
            time_next_visible=message.next_visible_on,
            pop_receipt=message.pop_receipt,
        )
        try:
            self._invoke(func_message)
        except Exception:
            self.failed += 1
            log.exception("function %s failed on message %s (dequeue count %d of %d)",
                          self.function_name, message.id, count, self._settings.max_dequeue_count)
            if count >= self._settings.max_dequeue_count:
                self._to_poison(message, count)
            else:
                self._release(message)
            return
        self.processed += 1
        self._delete(message)

    def _release(self, message: StorageQueueMessage) -> None:
        try:
            self._client.update_message(
                message, visibility_timeout=math.ceil(self._settings.visibility_timeout)
            )
        except AzureError as exc:
            log.warning("queue %s: could not release message %s (%s)", self.queue_name, message.id,
                        type(exc).__name__)

    def _delete(self, message: StorageQueueMessage) -> None:
        try:
            self._client.delete_message(message)
        except ResourceNotFoundError:
            pass  # already gone (deleted by someone else or its lease ran out and it was re-read)
        except AzureError as exc:
            log.warning("queue %s: could not delete message %s (%s)", self.queue_name, message.id,
                        type(exc).__name__)

    def _to_poison(self, message: StorageQueueMessage, count: int) -> None:
        log.warning("message %s reached maxDequeueCount %d (dequeued %d times); moving it to queue %s",
                    message.id, self._settings.max_dequeue_count, count, self.poison_queue_name)
        _create_if_missing(self._poison)
        self._poison.send_message(message.content)
        self.poisoned += 1
        self._delete(message)


def _create_if_missing(client: QueueClient) -> None:
    with contextlib.suppress(ResourceExistsError):
        client.create_queue()
