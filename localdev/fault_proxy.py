"""An HTTP/1.1 proxy on loopback that loses connections on purpose, for fault tests against Azurite.

It forwards every request to an upstream (``http://127.0.0.1:<port>``) and answers with the upstream's
response, except where a rule says otherwise:

* ``drop_before``: close the client's connection without forwarding (nothing reached the server);
* ``drop_after``: forward, let the server commit, then close the client's connection with a reset
  instead of answering (the client never learns that its write happened).

Rules match a method and a regular expression searched in the path, and fire ``times`` times. Only
loopback is ever contacted. Used by tests; never deployed.

    with FaultProxy(upstream_port) as proxy:
        proxy.add("drop_after", method="POST", path=r"\\$batch")
        ... use f"http://127.0.0.1:{proxy.port}" instead of the upstream ...
        proxy.fired  # how often each rule fired
"""

from __future__ import annotations

import http.client
import re
import socket
import socketserver
import struct
import threading
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["FaultProxy", "ProxyRule"]

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}
)


@dataclass
class ProxyRule:
    kind: str  # "drop_before" | "drop_after"
    method: str | None = None
    path: str | None = None
    times: int | None = 1
    fired: int = field(default=0)

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        return not self.path or re.search(self.path, path) is not None


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        while self._one():
            pass

    def _one(self) -> bool:
        line = self.rfile.readline(65537)
        if not line or not line.strip():
            return False
        method, path, _ = line.decode("latin-1").split(" ", 2)
        headers: list[tuple[str, str]] = []
        while True:
            raw = self.rfile.readline(65537)
            if raw in (b"\r\n", b"\n", b""):
                break
            name, _, value = raw.decode("latin-1").partition(":")
            headers.append((name.strip(), value.strip()))
        length = int(next((v for k, v in headers if k.lower() == "content-length"), "0") or 0)
        body = self.rfile.read(length) if length else b""
        rule = self.server.proxy.take(method, path)
        if rule is not None and rule.kind == "drop_before":
            self._reset()
            return False
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.proxy.upstream_port, timeout=30)
        try:
            upstream.request(method, path, body=body or None,
                             headers={k: v for k, v in headers if k.lower() not in _HOP_BY_HOP})
            response = upstream.getresponse()
            content = response.read()
        finally:
            upstream.close()
        if rule is not None and rule.kind == "drop_after":
            self._reset()
            return False
        out = [f"HTTP/1.1 {response.status} {response.reason}\r\n".encode("latin-1")]
        for name, value in response.getheaders():
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                out.append(f"{name}: {value}\r\n".encode("latin-1"))
        out.append(f"Content-Length: {len(content)}\r\n\r\n".encode("latin-1"))
        self.wfile.write(b"".join(out) + content)
        self.wfile.flush()
        return True

    def _reset(self) -> None:
        # SO_LINGER 0: the close sends RST, as a dropped keep-alive connection does
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: FaultProxy


class FaultProxy:
    """A loopback proxy in front of ``upstream_port`` that can lose connections (see the module doc)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self._rules: list[ProxyRule] = []
        self._lock = threading.Lock()
        self.fired: Counter[str] = Counter()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def add(self, kind: str, *, method: str | None = None, path: str | None = None,
            times: int | None = 1) -> ProxyRule:
        if kind not in ("drop_before", "drop_after"):
            raise ValueError(f"unknown proxy fault {kind!r}")
        rule = ProxyRule(kind, method, path, times)
        with self._lock:
            self._rules.append(rule)
        return rule

    def take(self, method: str, path: str) -> ProxyRule | None:
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.fired += 1
                    self.fired[rule.kind] += 1
                    return rule
        return None

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
