"""The one exception the emulator raises for anything that becomes a Dataverse error envelope."""

from __future__ import annotations

from typing import Any


class ODataError(Exception):
    """An error answered as ``{"error": {"code": ..., "message": ...}}`` with ``status``.

    Raised anywhere below the HTTP layer; the dispatcher turns it into a response.
    """

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def envelope(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


def bad_request(message: str, code: str = "0x80060888") -> ODataError:
    return ODataError(400, code, message)


def not_found(logical_name: str, record_id: str) -> ODataError:
    return ODataError(404, "0x80040217", f"{logical_name} With Id = {record_id} Does Not Exist")


def expired_version_stamp() -> ODataError:
    return ODataError(
        400, "0x80044352", "Version stamp associated with the client has expired. Please perform a full sync."
    )
