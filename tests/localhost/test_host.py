"""The local Functions host, driven over real HTTP and real Azurite queues with a tiny app."""

from __future__ import annotations

import base64
import json
import re
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator

import azure.functions as func
import pytest
import requests
from azure.storage.queue import QueueClient

from functions.localhost import LocalFunctionsHost
from functions.localhost.routes import compile_route
from localdev.azurite import Azurite

KEY = "test-key-0123456789"


def build_app(queue_name: str, seen: list[dict], lock: threading.Lock) -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

    @app.route(route="echo/{name}", methods=["GET", "POST"])
    def echo(req: func.HttpRequest) -> func.HttpResponse:
        payload = {
            "method": req.method,
            "url": req.url,
            "route": dict(req.route_params),
            "params": dict(req.params),
            "header": req.headers.get("x-test"),
            "body": req.get_body().decode("utf-8"),
        }
        return func.HttpResponse(json.dumps(payload), status_code=201, mimetype="application/json",
                                 headers={"X-Echo": "yes"})

    @app.route(route="items/{id:guid}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
    def item(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(f"item {req.route_params['id']}")

    @app.route(route="items/special", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
    def special(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("special")

    @app.route(route="pages/{n:int?}", auth_level=func.AuthLevel.ANONYMOUS)
    def pages(req: func.HttpRequest) -> str:
        return f"page {req.route_params.get('n', 'none')}"

    @app.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
    def health(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("ok", headers={"Cache-Control": "no-store"})

    @app.route(route="boom", methods=["GET"])
    def boom(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError("secret internals")

    @app.route(route="size", methods=["POST"])
    def size(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(str(len(req.get_body())))

    @app.queue_trigger(arg_name="msg", queue_name=queue_name, connection="AzureWebJobsStorage")
    def worker(msg: func.QueueMessage) -> None:
        data = msg.get_json()
        with lock:
            seen.append({"data": data, "dequeue_count": msg.dequeue_count, "id": msg.id})
        if data.get("fail"):
            raise ValueError("this message always fails")

    return app


@pytest.fixture
def queue_name() -> str:
    return f"q-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def served(azurite: Azurite, queue_name: str) -> Iterator[tuple[LocalFunctionsHost, list[dict]]]:
    seen: list[dict] = []
    app = build_app(queue_name, seen, threading.Lock())
    host_json = {"extensions": {"queues": {"maxDequeueCount": 3, "visibilityTimeout": "00:00:00"}}}
    with LocalFunctionsHost(app, key=KEY, environ={"AzureWebJobsStorage": azurite.connection_string},
                            host_json=host_json, poll_interval=0.1) as host:
        yield host, seen


@pytest.fixture
def host(served: tuple[LocalFunctionsHost, list[dict]]) -> LocalFunctionsHost:
    return served[0]


def _queue(azurite: Azurite, name: str) -> QueueClient:
    return QueueClient.from_connection_string(azurite.connection_string, name)


def test_key_in_header_or_code_param(host: LocalFunctionsHost) -> None:
    assert host.url.startswith("http://127.0.0.1:")
    assert host.url.endswith("/api")
    by_header = requests.get(f"{host.url}/echo/a", headers={"x-functions-key": KEY}, timeout=10)
    by_query = requests.get(f"{host.url}/echo/a", params={"code": KEY}, timeout=10)
    assert by_header.status_code == by_query.status_code == 201
    # The host passes code= through to the function, like Azure does.
    assert by_query.json()["params"] == {"code": KEY}


@pytest.mark.parametrize(
    ("headers", "params"),
    [({}, {}), ({"x-functions-key": "wrong"}, {}), ({}, {"code": "wrong"}), ({"x-functions-key": ""}, {})],
)
def test_missing_or_wrong_key_is_401(host: LocalFunctionsHost, headers: dict, params: dict) -> None:
    response = requests.get(f"{host.url}/echo/a", headers=headers, params=params, timeout=10)
    assert response.status_code == 401
    assert response.content == b""


def test_unknown_route_and_wrong_method(host: LocalFunctionsHost) -> None:
    base = host.url.removesuffix("/api")
    assert requests.get(f"{host.url}/nope", timeout=10).status_code == 404
    assert requests.get(f"{base}/health", timeout=10).status_code == 404  # no route prefix
    assert requests.get(f"{host.url}/echo/a/b", params={"code": KEY}, timeout=10).status_code == 404
    wrong = requests.delete(f"{host.url}/echo/a", params={"code": KEY}, timeout=10)
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "GET, POST"
    # 404 / 405 are decided before the key check, as on the host.
    assert requests.put(f"{host.url}/health", timeout=10).status_code == 405
    # a method http.server has no handler for is routed too: 405 problem+json, never a 501 HTML page
    odd = requests.request("PROPFIND", f"{host.url}/echo/a", params={"code": KEY}, timeout=10)
    assert odd.status_code == 405
    assert odd.headers["Allow"] == "GET, POST"
    assert odd.headers["Content-Type"].startswith("application/problem+json")
    assert requests.request("FOO", f"{host.url}/nope", timeout=10).status_code == 404


def test_request_pass_through_and_response(host: LocalFunctionsHost) -> None:
    response = requests.post(
        f"{host.url}/echo/J%C3%BCrgen%20X",
        params={"a": "1", "b": ""},
        headers={"x-functions-key": KEY, "X-Test": "hello"},
        data=b"payload \xe2\x9c\x93",
        timeout=10,
    )
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Echo"] == "yes"
    body = response.json()
    assert body["method"] == "POST"
    assert body["route"] == {"name": "Jürgen X"}
    assert body["params"] == {"a": "1", "b": ""}
    assert body["header"] == "hello"
    assert body["body"] == "payload ✓"
    assert body["url"].startswith("http://127.0.0.1:")
    assert body["url"].endswith("/api/echo/J%C3%BCrgen%20X?a=1&b=")


def test_route_constraints_precedence_and_optional(host: LocalFunctionsHost) -> None:
    guid = str(uuid.uuid4())
    assert requests.get(f"{host.url}/items/{guid}", timeout=10).text == f"item {guid}"
    # The literal route wins over the parameter; a value failing the constraint matches nothing.
    assert requests.get(f"{host.url}/items/special", timeout=10).text == "special"
    assert requests.get(f"{host.url}/items/not-a-guid", timeout=10).status_code == 404
    assert requests.get(f"{host.url}/pages/3", timeout=10).text == "page 3"
    assert requests.get(f"{host.url}/pages", timeout=10).text == "page none"
    assert requests.get(f"{host.url}/pages/x", timeout=10).status_code == 404
    # Literal segments are case-insensitive on the host.
    assert requests.get(f"{host.url.removesuffix('/api')}/API/Health", timeout=10).text == "ok"


def test_plain_string_return_and_text_mimetype(host: LocalFunctionsHost) -> None:
    response = requests.get(f"{host.url}/health", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    text = requests.get(f"{host.url}/pages/1", timeout=10)
    assert text.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_handler_exception_is_500_without_internals(
    host: LocalFunctionsHost, caplog: pytest.LogCaptureFixture
) -> None:
    response = requests.get(f"{host.url}/boom", headers={"x-functions-key": KEY}, timeout=10)
    assert response.status_code == 500
    assert b"secret" not in response.content
    assert any("function boom failed" in r.getMessage() for r in caplog.records)
    # The host keeps serving.
    assert requests.get(f"{host.url}/health", timeout=10).status_code == 200


def test_body_size_limit(host: LocalFunctionsHost) -> None:
    ok = requests.post(f"{host.url}/size", params={"code": KEY}, data=b"x" * 1000, timeout=10)
    assert ok.text == "1000"
    chunked = requests.post(f"{host.url}/size", params={"code": KEY}, data=iter([b"ab", b"cde"]), timeout=10)
    assert chunked.text == "5"
    # Announce 10 MiB and send none of it: the answer comes at once, nothing is read.
    port = int(host.url.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = f"POST /api/size?code={KEY} HTTP/1.1\r\nHost: x\r\nContent-Length: {10 * 1024 * 1024}\r\n"
        sock.sendall(head.encode() + b"\r\n")
        reply = sock.recv(4096).decode()
    assert reply.startswith("HTTP/1.1 413")
    assert "Connection: close" in reply


@pytest.mark.parametrize("framing", [
    "Transfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",  # chunk size not hex
    "Transfer-Encoding: chunked\r\n\r\n-5\r\nab\r\n0\r\n\r\n",  # negative chunk size
    "Content-Length: twelve\r\n\r\n",
    "Content-Length: -3\r\n\r\n",
])
def test_malformed_body_framing_is_400_not_413(host: LocalFunctionsHost, framing: str) -> None:
    port = int(host.url.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"POST /api/size?code={KEY} HTTP/1.1\r\nHost: x\r\n{framing}".encode())
        reply = sock.recv(4096).decode()
    assert reply.startswith("HTTP/1.1 400")
    assert "Connection: close" in reply


def test_key_never_logged(host: LocalFunctionsHost, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="functions.localhost")
    requests.get(f"{host.url}/echo/a", params={"code": KEY}, timeout=10)
    requests.get(f"{host.url}/echo/a", params={"code": "wrong-guess"}, timeout=10)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "/api/echo/a" in text
    assert KEY not in text
    assert "wrong-guess" not in text


def test_queue_message_processed_and_deleted(
    served: tuple[LocalFunctionsHost, list[dict]], azurite: Azurite, queue_name: str
) -> None:
    host, seen = served
    queue = _queue(azurite, queue_name)
    queue.send_message(base64.b64encode(json.dumps({"n": 1}).encode()).decode())
    assert host.wait_idle(20)
    assert [(s["data"], s["dequeue_count"]) for s in seen] == [({"n": 1}, 1)]
    assert queue.get_queue_properties().approximate_message_count == 0


def test_failing_message_goes_to_poison_after_max_dequeue_count(
    served: tuple[LocalFunctionsHost, list[dict]], azurite: Azurite, queue_name: str
) -> None:
    host, seen = served
    queue = _queue(azurite, queue_name)
    raw = base64.b64encode(json.dumps({"fail": True}).encode()).decode()
    queue.send_message(raw)
    queue.send_message("%%% not base64 %%%")
    assert host.wait_idle(20)
    assert [s["dequeue_count"] for s in seen] == [1, 2, 3]  # maxDequeueCount 3 from host.json
    assert queue.get_queue_properties().approximate_message_count == 0
    poison = [m.content for m in _queue(azurite, f"{queue_name}-poison").receive_messages()]
    assert sorted(poison) == sorted([raw, "%%% not base64 %%%"])


def test_default_host_json_and_missing_connection(queue_name: str) -> None:
    app = build_app(queue_name, [], threading.Lock())
    host = LocalFunctionsHost(app, environ={})
    assert host.settings.route_prefix == "api"
    assert host.settings.max_dequeue_count == 5
    assert host.settings.visibility_timeout == 0
    assert len(host.key) >= 32
    with pytest.raises(ValueError, match="AzureWebJobsStorage"):
        host.start()
    # Without the queue worker no connection is needed.
    with LocalFunctionsHost(app, environ={}, drain_queues=False, host_json={}) as plain:
        assert requests.get(f"{plain.url}/health", timeout=10).text == "ok"


def test_route_prefix_from_host_json(queue_name: str) -> None:
    app = build_app(queue_name, [], threading.Lock())
    host_json = {"extensions": {"http": {"routePrefix": ""}}}
    with LocalFunctionsHost(app, drain_queues=False, host_json=host_json) as host:
        assert requests.get(f"{host.url}/health", timeout=10).text == "ok"


@pytest.mark.parametrize("bind", ["0.0.0.0", "192.168.1.10", "example.org"])  # noqa: S104
def test_refuses_non_loopback(bind: str, queue_name: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        LocalFunctionsHost(build_app(queue_name, [], threading.Lock()), host=bind)


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        ("runs/{run_id}", "runs/abc", {"run_id": "abc"}),
        ("runs/{run_id}", "runs", None),
        ("a/{n:int:min(2)}", "a/1", None),
        ("a/{n:int:min(2)}", "a/2", {"n": "2"}),
        ("a/{n:range(1,3)}", "a/4", None),
        ("a/{code:regex(^[a-z]{{2}}$)}", "a/ab", {"code": "ab"}),
        ("a/{v:alpha:length(2,3)}", "a/abcd", None),
        ("a/{lang=en}", "a", {"lang": "en"}),
        ("files/{*rest}", "files/x/y.txt", {"rest": "x/y.txt"}),
        ("f/{name}.{ext}", "f/report.pdf", {"name": "report", "ext": "pdf"}),
        ("a/{x:unknownthing}", "a/1", {"x": "1"}),
    ],
)
def test_route_templates(template: str, path: str, expected: dict | None) -> None:
    assert compile_route(template).match(path) == expected


def test_serve_help() -> None:
    result = subprocess.run([sys.executable, "-m", "functions", "serve", "--help"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    for option in ("--port", "--key", "--no-queue-worker"):
        assert option in result.stdout


def _sample_path(template: str) -> str:
    """A concrete path for a route template: GUIDs for guid parameters, 1 for numbers, else "x"."""

    def value(found: re.Match[str]) -> str:
        body = found.group(1).lower()
        if "guid" in body:
            return str(uuid.uuid4())
        return "1" if any(c in body for c in (":int", ":long", ":min", ":max", ":range")) else "x"

    return re.sub(r"\{([^{}]*)\}", value, template)


def test_function_app_routes_are_reachable() -> None:
    """Every HTTP function of the real app answers at its route: function-level ones want the key
    (401 without it, so the handler is not run here), anonymous ones answer (health)."""
    import function_app

    with LocalFunctionsHost(function_app.app, drain_queues=False) as host:
        for function in host.http_functions:
            method = sorted(function.methods)[0]
            url = f"{host.url}/{_sample_path(function.route.template.strip('/'))}"
            if function.auth_level == "anonymous":
                if method == "GET":
                    assert requests.get(url, timeout=30).status_code < 500, function.name
                continue
            response = requests.request(method, url, timeout=30)
            assert response.status_code == 401, (function.name, response.status_code)


def test_expect_100_continue_oversize_is_refused_before_the_body(host: LocalFunctionsHost) -> None:
    port = int(host.url.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = (f"POST /api/size?code={KEY} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                f"Content-Length: {2 * 1024 * 1024}\r\n\r\n")
        sock.sendall(head.encode())
        assert sock.recv(4096).decode().startswith("HTTP/1.1 413")


def test_keep_alive_survives_refused_requests_with_bodies(host: LocalFunctionsHost) -> None:
    """401/404/405 answers consume the request body, so the next request on the connection works."""
    with requests.Session() as session:
        for _ in range(2):
            assert session.post(f"{host.url}/size", data=b"x" * 5000, timeout=10).status_code == 401
            assert session.post(f"{host.url}/nope", data=b"y" * 5000, timeout=10).status_code == 404
            assert session.patch(f"{host.url}/health", data=b"z" * 5000, timeout=10).status_code == 405
            ok = session.post(f"{host.url}/size", params={"code": KEY}, data=b"abc", timeout=10)
            assert ok.text == "3"
