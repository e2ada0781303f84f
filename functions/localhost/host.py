"""A small local stand-in for the Azure Functions host (Core Tools cannot be installed offline).

It reads what the real host reads - ``app.get_functions()`` (the indexed bindings) and host.json -
and invokes the registered user functions with real ``azure.functions`` objects:

- HTTP triggers over real HTTP on loopback (``ThreadingHTTPServer``): route prefix from host.json,
  route templates with parameters and constraints, methods, auth levels. ``function`` and
  ``admin`` level need the key in the ``x-functions-key`` header or the ``code`` query parameter
  (missing or wrong → 401, empty body, like the host); ``anonymous`` needs none. The one local key
  stands for function, host and master keys. Unknown route → 404.
  Deliberate difference: a known route with a method it does not allow answers 405 with ``Allow``
  (the real host answers 404, azure-functions-host#10098).
  The request reaches the function as ``func.HttpRequest`` (method, full URL, all headers, query
  parameters, route parameters, body); the return value goes out through the library's own
  ``HttpResponseConverter`` (status, headers, Content-Type from mimetype/charset, cookies).
  An exception in the function → 500 with a generic body, logged with the invocation id.
  Bodies above ``max_body_bytes`` (1 MiB) → 413 without reading them; a malformed body framing (bad
  ``Content-Length``, bad chunk size) → 400.
- Queue triggers: see ``functions.localhost.queues``. Timer triggers are not run (use
  ``python -m functions scan``); other triggers are ignored with a warning.

Keys are compared with ``hmac.compare_digest`` and never logged; request logs carry the path
without the query string (which may hold ``code=``).
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import ipaddress
import json
import logging
import secrets
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func
from azure.functions.http import HttpResponseConverter

from functions.config import process_environment
from functions.localhost.hostjson import HostSettings
from functions.localhost.queues import QueueWorker
from functions.localhost.routes import Route, compile_route

log = logging.getLogger("functions.localhost")

MAX_BODY_BYTES = 1024 * 1024
ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")
KEY_HEADER = "x-functions-key"


def _enum_value(value: Any) -> str:
    return str(getattr(value, "value", value))


@dataclass(frozen=True)
class HttpFunction:
    name: str
    route: Route
    methods: frozenset[str]
    auth_level: str  # "anonymous" | "function" | "admin"
    arg_name: str
    call: Callable[..., Any]


@dataclass(frozen=True)
class QueueFunction:
    name: str
    queue_name: str
    connection: str
    arg_name: str
    call: Callable[..., Any]


def _invoke(call: Callable[..., Any], arg_name: str, value: Any) -> Any:
    result = call(**{arg_name: value})
    if inspect.isawaitable(result):  # async def handlers run to completion on this thread
        result = asyncio.run(_await(result))
    return result


async def _await(awaitable: Any) -> Any:
    return await awaitable


def _check_signature(name: str, call: Callable[..., Any], arg_name: str) -> None:
    """Only the trigger is bound locally; a handler wanting other bindings would fail at call time."""
    parameters = inspect.signature(call).parameters
    if arg_name not in parameters:
        raise ValueError(f"function {name}: trigger argument {arg_name!r} is not a parameter")
    missing = [p for p, spec in parameters.items()
               if p != arg_name and spec.default is inspect.Parameter.empty
               and spec.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
    if missing:
        raise ValueError(f"function {name}: bindings {missing} are not supported by the local host")


def index_functions(app: func.FunctionApp) -> tuple[list[HttpFunction], list[QueueFunction]]:
    """HTTP and queue triggers from the app's indexed bindings, HTTP routes most specific first."""
    http: list[HttpFunction] = []
    queues: list[QueueFunction] = []
    # azure-functions 1.26 remembers the names a get_functions() call saw and rejects them as
    # duplicates on the next call (the worker indexes once per process). Every host (and every
    # test) indexes afresh, so start from a clean slate; the duplicate check still runs.
    if getattr(app, "functions_bindings", None):
        app.functions_bindings = None
    for function in app.get_functions():
        trigger = function.get_trigger()
        name = function.get_function_name() or function.get_user_function().__name__
        if trigger is None:
            continue
        binding = trigger.get_dict_repr()
        kind = binding.get("type")
        call = function.get_user_function()
        if kind == "httpTrigger":
            _check_signature(name, call, binding["name"])
            route = compile_route(binding.get("route") or name)
            if route.ignored_constraints:
                log.warning("function %s: route constraints not checked locally: %s",
                            name, ", ".join(route.ignored_constraints))
            methods = binding.get("methods") or ALL_METHODS
            http.append(HttpFunction(
                name=name,
                route=route,
                methods=frozenset(_enum_value(m).upper() for m in methods),
                auth_level=_enum_value(binding.get("authLevel", "function")).lower(),
                arg_name=binding["name"],
                call=call,
            ))
        elif kind == "queueTrigger":
            _check_signature(name, call, binding["name"])
            queues.append(QueueFunction(name, binding["queueName"], binding["connection"], binding["name"],
                                        call))
        else:
            log.warning("function %s: %s triggers are not run by the local host", name, kind)
    http.sort(key=lambda f: f.route.precedence)
    return http, queues


def _queue_connection(connection: str, environ: Mapping[str, str]) -> str:
    """The connection string behind a binding's ``connection`` setting name, resolved like the host
    (the name itself, then ``AzureWebJobs<name>``)."""
    for name in (connection, f"AzureWebJobs{connection}"):
        value = environ.get(name)
        if value:
            return value
    raise ValueError(
        f"queue connection {connection!r}: set the app setting {connection} to a storage connection "
        "string (locally: Azurite's)"
    )


def configure_logging(level: int = logging.INFO) -> None:
    """Readable local logs: one line per request and the functions' own logs, without the Azure
    SDK's per-call HTTP logging (which would drown them)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)


def _loopback(host: str) -> str:
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"the local host binds to loopback only, not {host!r}") from None
    if not address.is_loopback:
        raise ValueError(f"the local host binds to loopback only, not {host!r}")
    return host


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    host: LocalFunctionsHost

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away mid-reply is not worth a traceback on stderr.
        log.debug("http connection error from %s", client_address[0], exc_info=True)


class _IPv6Server(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "LocalFunctionsHost/1.0"
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm and the client's delayed
    # ACK every keep-alive request would wait ~40 ms.
    disable_nagle_algorithm = True

    def _dispatch(self) -> None:
        started = time.monotonic()
        status = self.server.host._handle(self)
        log.info("%s %s -> %s (%.0f ms)", self.command, urlsplit(self.path).path, status,
                 (time.monotonic() - started) * 1000)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_TRACE = _dispatch

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server answers a method it has no do_<METHOD> for (PROPFIND, FOO) with a 501 HTML page;
        # routed like any request instead, a known route answers 405 problem+json with Allow
        if code == HTTPStatus.NOT_IMPLEMENTED:
            self._dispatch()
            return
        super().send_error(code, message, explain)

    def handle_expect_100(self) -> bool:
        # curl asks before sending a large body: refuse an oversize one before it is sent.
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > self.server.host.max_body_bytes:
            _reply(self, 413, close=True)
            return False
        return super().handle_expect_100()

    def log_message(self, format: str, *args: Any) -> None:
        # The default access log prints the request line, query string (code=...) included.
        pass

    def log_error(self, format: str, *args: Any) -> None:
        log.debug("http server: " + format, *args)


class LocalFunctionsHost:
    """Serve ``app``'s HTTP triggers on loopback and drain its queue triggers.

    ``host_json``: a parsed mapping or a path (default: the repository's host.json).
    ``environ``: where queue ``connection`` settings are looked up (default: the process environment,
    ``functions.config.process_environment``); the functions themselves read their app settings
    through ``functions.config`` as they would on Azure.
    Use as a context manager, or ``start()`` / ``stop()``.
    """

    def __init__(
        self,
        app: func.FunctionApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        key: str | None = None,
        drain_queues: bool = True,
        environ: Mapping[str, str] | None = None,
        host_json: Mapping[str, Any] | str | Path | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        poll_interval: float = 0.2,
    ) -> None:
        self._bind_host = _loopback(host)
        self._port = port
        self.key = key or secrets.token_urlsafe(32)
        self._key_bytes = self.key.encode("utf-8")
        self.settings = HostSettings.from_host_json(host_json)
        self.max_body_bytes = max_body_bytes
        self.http_functions, self.queue_functions = index_functions(app)
        self._drain = drain_queues
        self._environ = environ if environ is not None else process_environment()
        self._poll_interval = poll_interval
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.queue_workers: list[QueueWorker] = []

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> LocalFunctionsHost:
        if self._server is not None:
            return self
        if self._drain:
            # Resolve every connection first, so a missing setting fails before anything runs.
            connections = {
                q.name: _queue_connection(q.connection, self._environ) for q in self.queue_functions
            }
        server_class = _IPv6Server if ":" in self._bind_host else _Server
        self._server = server_class((self._bind_host, self._port), _Handler)
        self._server.host = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="local-functions-http", daemon=True)
        self._thread.start()
        try:
            if self._drain:
                for q in self.queue_functions:
                    worker = QueueWorker(
                        function_name=q.name,
                        queue_name=q.queue_name,
                        connection_string=connections[q.name],
                        invoke=lambda message, q=q: _invoke(q.call, q.arg_name, message),
                        settings=self.settings,
                        poll_interval=self._poll_interval,
                    )
                    worker.start()
                    self.queue_workers.append(worker)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for worker in self.queue_workers:
            worker.stop()
        self.queue_workers = []
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> LocalFunctionsHost:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def serve_until_interrupted(self) -> None:
        """Block until Ctrl-C or SIGTERM, then stop the HTTP server and the queue workers."""
        stopped = threading.Event()
        previous: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            # SIGINT explicitly too: a shell starting us in the background leaves it ignored.
            for number in (signal.SIGINT, signal.SIGTERM):
                previous[number] = signal.signal(number, lambda *_: stopped.set())
        try:
            while not stopped.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            self.stop()

    def describe_routes(self) -> list[str]:
        """One line per HTTP function: methods, path, auth level (for the start-up banner)."""
        prefix = f"/{self.settings.route_prefix}" if self.settings.route_prefix else ""
        return [
            f"{','.join(sorted(f.methods)) if len(f.methods) < len(ALL_METHODS) else 'ANY'} "
            f"{prefix}/{f.route.template.strip('/')} [{f.auth_level}] ({f.name})"
            for f in self.http_functions
        ]

    @property
    def url(self) -> str:
        """Base URL including the route prefix, e.g. ``http://127.0.0.1:7071/api``."""
        if self._server is None:
            raise RuntimeError("the host is not started")
        host, port = self._server.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else host
        prefix = f"/{self.settings.route_prefix}" if self.settings.route_prefix else ""
        return f"http://{shown}:{port}{prefix}"

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until every queue is drained (nothing visible, nothing waiting for a retry, nothing
        in flight); True if so within ``timeout`` seconds. Messages sent before the call count."""
        deadline = time.monotonic() + timeout
        return all(worker.wait_idle(deadline) for worker in self.queue_workers)

    # -- HTTP --------------------------------------------------------------------------------------

    def _key_ok(self, headers: Mapping[str, str], params: Mapping[str, str]) -> bool:
        supplied = headers.get(KEY_HEADER) or params.get("code")
        if not supplied:
            return False
        return hmac.compare_digest(supplied.encode("utf-8"), self._key_bytes)

    def _handle(self, handler: _Handler) -> int:
        method = handler.command.upper()
        split = urlsplit(handler.path)
        function, route_params, allowed = self._route_for(method, split.path)
        if function is None:
            close = not isinstance(_read_body(handler, self.max_body_bytes), bytes)
            if allowed:
                allow = ", ".join(sorted(allowed))
                problem = json.dumps({"type": "about:blank", "title": "Method Not Allowed", "status": 405,
                                      "detail": f"{method} is not allowed here; use {allow}",
                                      "errors": [{"field": "method", "reason": f"one of {allow}"}]})
                return _reply(handler, 405, body=problem.encode(), close=close, head=method == "HEAD",
                              headers={"Allow": allow, "Content-Type": "application/problem+json"})
            return _reply(handler, 404, close=close)
        params: dict[str, str] = {}
        for name, value in parse_qsl(split.query, keep_blank_values=True):
            # ASP.NET joins repeated query values with a comma in what the worker sees.
            params[name] = f"{params[name]},{value}" if name in params else value
        headers: dict[str, str] = {}
        for name, value in handler.headers.items():
            lowered = name.lower()
            headers[lowered] = f"{headers[lowered]}, {value}" if lowered in headers else value
        # The body is read (up to the limit) even when the answer is 401: on a keep-alive connection
        # an unread body would be taken for the next request.
        body = _read_body(handler, self.max_body_bytes)
        if function.auth_level != "anonymous" and not self._key_ok(headers, params):
            return _reply(handler, 401, close=not isinstance(body, bytes))
        if not isinstance(body, bytes):
            return _reply(handler, body.status, close=True)
        host_header = headers.get("host") or f"{self._bind_host}:{self._server.server_address[1]}"
        request = func.HttpRequest(
            method=method,
            url=f"http://{host_header}{handler.path}",
            headers=headers,
            params=params,
            route_params=route_params,
            body=body,
        )
        invocation = str(uuid.uuid4())
        try:
            result = _invoke(function.call, function.arg_name, request)
            status, out_headers, out_body = _encode_response(result)
        except Exception:
            log.exception("function %s failed (invocation %s)", function.name, invocation)
            return _reply(handler, 500, body=b"Internal Server Error",
                          headers={"Content-Type": "text/plain; charset=utf-8"})
        return _reply(handler, status, body=out_body, headers=out_headers, head=method == "HEAD")

    def _route_for(self, method: str, path: str) -> tuple[HttpFunction | None, dict[str, str], set[str]]:
        prefix = self.settings.route_prefix
        trimmed = path.strip("/")
        if prefix:
            head, _, rest = trimmed.partition("/")
            if head.lower() != prefix.lower():
                return None, {}, set()
            trimmed = rest
        allowed: set[str] = set()
        for function in self.http_functions:
            values = function.route.match(trimmed)
            if values is None:
                continue
            if method in function.methods:
                return function, values, set()
            allowed |= function.methods
        return None, {}, allowed


def _encode_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """The function's return value as the worker sends it to the host."""
    if result is None:
        return 204, [], b""
    datum = HttpResponseConverter.encode(result, expected_type=None)
    if datum.type == "string":  # a plain str return value
        return 200, [("Content-Type", "text/plain; charset=utf-8")], str(datum.value).encode("utf-8")
    value = datum.value
    headers = [(name, h.value) for name, h in value["headers"].items()]
    for cookie in value.get("cookies") or []:
        headers.extend(("Set-Cookie", morsel.OutputString()) for morsel in cookie.values())
    return int(value["status_code"].value), headers, value["body"].value or b""


@dataclass(frozen=True)
class _Unreadable:
    """A request body that was not read: too large (413) or malformed framing (400)."""

    status: int


_TOO_LARGE = _Unreadable(413)
_MALFORMED = _Unreadable(400)


def _read_body(handler: _Handler, limit: int) -> bytes | _Unreadable:
    """The request body, or why it was not read (not read any further: the connection is closed)."""
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        chunks, total = [], 0
        while True:
            size_line = handler.rfile.readline(1024)
            try:
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            except ValueError:
                return _MALFORMED  # a bad chunk size is a broken request, not a large one
            if size < 0:
                return _MALFORMED
            if size == 0:
                while handler.rfile.readline(1024).strip():  # trailers
                    pass
                return b"".join(chunks)
            total += size
            if total > limit:
                return _TOO_LARGE
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline(1024)
    try:
        length = int(handler.headers.get("Content-Length") or 0)
    except ValueError:
        return _MALFORMED
    if length < 0:
        return _MALFORMED
    if length > limit:
        return _TOO_LARGE
    return handler.rfile.read(length) if length else b""


def _reply(
    handler: _Handler,
    status: int,
    *,
    body: bytes = b"",
    headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
    close: bool = False,
    head: bool = False,
) -> int:
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers or [])
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    handler.send_response(status, phrase)
    skip = {"content-length", "connection", "transfer-encoding"}
    for name, value in pairs:
        if name.lower() not in skip:
            handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    if close:
        # The unread body is still on the socket: this connection cannot carry another request.
        handler.send_header("Connection", "close")
        handler.close_connection = True
    handler.end_headers()
    if body and not head:
        handler.wfile.write(body)
    return status
