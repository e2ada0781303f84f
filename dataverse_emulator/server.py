"""The HTTP front: stdlib ThreadingHTTPServer, HTTP/1.1 keep-alive, loopback only.

Besides ``/api/data/v9.2/...`` it serves control endpoints for out-of-process use:
``GET /_emulator/counters``, ``POST /_emulator/faults`` (a Fault as JSON),
``POST /_emulator/reset-counters``, ``POST /_emulator/expire-delta-tokens``,
``GET /_emulator/privileges``, ``POST /_emulator/privileges/revoke`` (``{"names": [...]}``),
``POST /_emulator/privileges/grant`` (``{"names": [...], "depth": "Global"}``),
``POST /_emulator/change-tracking`` (``{"table": "contact", "enabled": false}``).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from .faults import Fault
from .messages import REASONS, Headers, Request, Response

if TYPE_CHECKING:
    from .service import Service

API_PREFIX = "/api/data/v9.2"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    service: Service


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle plus delayed ACK holds the
    # body back ~40 ms on every response.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: tests and the demo have their own logs

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        body = self._body()
        target = self.path
        if target.startswith("/_emulator/"):
            self._send(self._control(target, body))
            return
        path = target.split("?", 1)[0]
        if not (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
            self._send(
                Response.json(
                    404,
                    {
                        "error": {
                            "code": "0x80060888",
                            "message": f"Resource not found for the segment '{path}'.",
                        }
                    },
                )
            )
            return
        headers = Headers(dict(self.headers.items()))
        prefer = self.headers.get_all("Prefer") or []
        if prefer:
            headers["Prefer"] = ",".join(prefer)
        response = self.server.service.handle(Request.from_target(self.command, target, headers, body))
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):  # the client may have gone already
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(response)

    def _control(self, target: str, body: bytes) -> Response:
        svc = self.server.service
        path = target.split("?", 1)[0]
        if path == "/_emulator/counters" and self.command == "GET":
            counters = {**svc.counters.snapshot(), "noop_updates": dict(svc.store.noop_updates)}
            return Response.json(200, counters)
        if path == "/_emulator/reset-counters" and self.command == "POST":
            svc.counters.reset()
            return Response.empty(204)
        if path == "/_emulator/expire-delta-tokens" and self.command == "POST":
            svc.expire_delta_tokens()
            return Response.empty(204)
        if path == "/_emulator/faults" and self.command == "POST":
            try:
                svc.faults.add(Fault.from_json(json.loads(body or b"{}")))
            except (ValueError, KeyError, TypeError) as exc:
                return Response.json(400, {"error": {"code": "", "message": str(exc)}})
            return Response.empty(204)
        if path == "/_emulator/faults" and self.command == "GET":
            return Response.json(200, {"faults": [{"kind": f.kind, "fired": f.fired, "seen": f.seen}
                                                  for f in svc.faults.all()],
                                       "fired_by_kind": dict(svc.faults.fired)})
        if path == "/_emulator/faults" and self.command == "DELETE":
            svc.faults.clear()
            return Response.empty(204)
        if path.startswith(("/_emulator/privileges", "/_emulator/change-tracking")):
            try:
                return self._security_control(path, json.loads(body or b"{}"))
            except (ValueError, KeyError, TypeError) as exc:
                return Response.json(400, {"error": {"code": "", "message": str(exc)}})
        return Response.json(404, {"error": {"code": "", "message": f"Unknown control endpoint {path}"}})

    def _security_control(self, path: str, data: dict) -> Response:
        svc = self.server.service
        if path == "/_emulator/privileges" and self.command == "GET":
            return Response.json(200, svc.privileges.snapshot())
        if path in ("/_emulator/privileges/revoke", "/_emulator/privileges/grant") and self.command == "POST":
            names = data["names"]
            if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
                raise ValueError("names must be a list of privilege names")
            for name in names:
                if path.endswith("/revoke"):
                    svc.privileges.revoke(name)
                else:
                    svc.privileges.grant(name, data.get("depth", "Global"))
            return Response.empty(204)
        if path == "/_emulator/change-tracking" and self.command == "POST":
            if not isinstance(data.get("enabled"), bool):
                raise ValueError("enabled must be true or false")
            svc.set_change_tracking(str(data["table"]), data["enabled"])
            return Response.empty(204)
        return Response.json(404, {"error": {"code": "", "message": f"Unknown control endpoint {path}"}})

    def _send(self, response: Response) -> None:
        self.send_response(response.status, REASONS.get(response.status))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.body and self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _handle


class HttpServer:
    """Runs a :class:`Service` on 127.0.0.1 in a background daemon thread."""

    def __init__(self, service: Service, port: int = 0) -> None:
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.service = service
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"dataverse-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
