"""The hook through which clients in several processes share Dataverse's ``Retry-After``.

Dataverse evaluates its service protection limits per user, and a 429's ``Retry-After`` is "the
duration before any new requests from the user can be processed" (api-limits docs). Every queue
worker of a fanned-out run sends as the same application user, so one worker's 429 concerns all of
them. The client stays storage-agnostic: it only calls a :class:`PauseGate` it was given
(``functions/state/dataverse_limits.py: SharedPause`` keeps the pause in an Azure table). Without a
gate the client behaves exactly as before.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["PauseGate"]


class PauseGate(Protocol):
    """A pause shared by every client that uses the same gate store."""

    def remaining(self) -> float:
        """Seconds until the shared pause ends (0 when there is none). Called before every request,
        from any thread: must be cheap (read the store at most every few seconds) and never raise."""
        ...

    def announce(self, seconds: float) -> None:
        """A 429 asked this client to wait ``seconds``: tell the other clients. Never raises."""
        ...
