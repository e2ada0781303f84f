"""A local stand-in for People Data Labs' bulk person enrichment (``POST /v5/person/bulk``).

Serves the documented response shapes (docs/reference: profile-sources-and-matching.md §1.1-1.2)
on 127.0.0.1 from registered person records, so the PDL source is tested over real HTTP without
ever calling api.peopledatalabs.com:

* a JSON array in request order; matched items ``{"status": 200, "likelihood", "data", "metadata"}``,
  misses ``{"status": 404, "error": {"type": "not_found", ...}, "metadata"}``;
* whole-request errors with PDL's error body ``{"status", "error": {"type", "message"}}``: 401 for a
  missing or wrong ``X-Api-Key``, 402 when the programmed credits are spent, 400 for a bad body or more
  than 100 look-ups, plus programmed failures (``fail_next``: 429 with headers, 502, ...);
* per-item statuses programmed by key (``set_item_status``);
* ``min_likelihood`` in the params: a record scored below it is a 404, as PDL does;
* gzip when the client accepts it; a request log without the API key (``requests``).

Use in tests::

    with PdlReplayServer(api_key="k") as pdl:
        pdl.add_sample()
        source = PeopleDataLabsSource("k", base_url=pdl.url)

or from a shell: ``python -m localdev.pdl_replay --port 5556 --api-key dev --records people.jsonl``.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["DEFAULT_API_KEY", "SAMPLE_RECORD", "SAMPLE_RESPONSE", "LoggedRequest", "PdlReplayServer"]

DEFAULT_API_KEY = "replay-api-key"
BULK_PATH = "/v5/person/bulk"
MAX_REQUESTS = 100

# The documented sample (reference §1.1.4), verbatim.
SAMPLE_RESPONSE: dict[str, Any] = {
    "status": 200,
    "likelihood": 10,
    "data": {
        "id": "qEnOZ5Oh0poWnQ1luFBfVw_0000",
        "full_name": "sean thorne",
        "first_name": "sean",
        "middle_initial": "f",
        "middle_name": "fong",
        "last_name": "thorne",
        "linkedin_url": "linkedin.com/in/seanthorne",
        "linkedin_username": "seanthorne",
        "linkedin_id": "145991517",
        "work_email": "sean@peopledatalabs.com",
        "job_title": "co-founder and chief executive officer",
        "job_title_levels": ["owner", "cxo"],
        "job_company_id": "peopledatalabs",
        "job_company_name": "people data labs",
        "job_company_website": "peopledatalabs.com",
        "job_company_size": "11-50",
        "job_company_founded": "2015",
        "job_company_industry": "computer software",
        "job_company_linkedin_url": "linkedin.com/company/peopledatalabs",
        "job_company_linkedin_id": "18170482",
        "job_company_facebook_url": "facebook.com/peopledatalabs",
        "job_company_twitter_url": "twitter.com/peopledatalabs",
        "job_company_location_name": "san francisco, california, united states",
        "job_start_date": "2015-03",
        "job_last_changed": "2023-12-01",
        "job_last_verified": "2024-01-05",
        "experience": [
            {
                "company": {
                    "name": "people data labs",
                    "size": "11-50",
                    "id": "peopledatalabs",
                    "founded": 2015,
                    "industry": "computer software",
                    "linkedin_url": "linkedin.com/company/peopledatalabs",
                    "linkedin_id": "18170482",
                    "website": "peopledatalabs.com",
                    "ticker": None,
                    "type": "private",
                    "raw": ["people data labs"],
                },
                "location_names": ["san francisco, california, united states"],
                "end_date": None,
                "start_date": "2015-03",
                "title": {
                    "name": "chief executive officer and co-founder",
                    "role": "operations",
                    "sub_role": "executive",
                    "levels": ["cxo", "owner"],
                },
                "is_primary": True,
                "first_seen": "2018-10-11",
                "last_seen": "2022-11-15",
                "num_sources": 17,
            }
        ],
    },
}
SAMPLE_RECORD: dict[str, Any] = SAMPLE_RESPONSE["data"]

_ERROR_TYPES = {
    400: ("invalid_request_error", "missing or invalid parameters"),
    401: ("authentication_error", "missing or invalid key"),
    402: ("payment_required", "You have reached your account maximum (all matches used)"),
    403: ("forbidden", "forbidden"),
    404: ("not_found", "No records were found matching your request"),
    405: ("method_not_allowed", "method not allowed"),
    429: ("rate_limit_error", "An error occurred due to requests hitting the API too quickly"),
}


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    kind, default = _ERROR_TYPES.get(status, ("server_error", "server error"))
    return {"status": status, "error": {"type": kind, "message": message or default}}


def _url_key(value: str) -> str:
    text = value.strip().lower()
    for prefix in ("https://", "http://"):
        text = text.removeprefix(prefix)
    return text.removeprefix("www.").split("?", 1)[0].rstrip("/")


def _values(param: Any) -> list[str]:
    if isinstance(param, list):
        return [str(v) for v in param if isinstance(v, str | int)]
    return [str(param)] if isinstance(param, str | int) and not isinstance(param, bool) else []


@dataclass
class LoggedRequest:
    method: str
    path: str
    api_key_ok: bool  # whether X-Api-Key matched; the key itself is never logged
    headers: dict[str, str]  # without X-Api-Key
    body: Any
    status: int
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Failure:
    status: int
    headers: dict[str, str]
    body: bytes | None


class PdlReplayServer:
    """Bulk person enrichment on ``http://127.0.0.1:<port>`` (``url``), from registered records."""

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        gateway_limit: int | None = None,
        credits: int | None = None,
        honour_min_likelihood: bool = True,
    ) -> None:
        self.api_key = api_key
        self.gateway_limit = gateway_limit  # more look-ups per request than this -> 502, like PDL above ~80
        self.credits = credits  # matches left; None = unlimited; 0 -> every request is a 402
        # False: answer 200 below min_likelihood too, to test a client's own check.
        self.honour_min_likelihood = honour_min_likelihood
        self.requests: list[LoggedRequest] = []
        self._host, self._port = host, port
        self._lock = threading.Lock()
        self._records: list[tuple[dict[str, Any], int]] = []
        self._by_key: dict[str, int] = {}
        self._item_status: dict[str, int] = {}
        self._failures: deque[_Failure] = deque()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------------------------- control

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("replay server not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add_record(self, record: dict[str, Any], *, likelihood: int = 10) -> dict[str, Any]:
        """Register a PDL person record (the ``data`` object); it answers look-ups by its profile URL,
        its emails (string values only) and its name with any employer's name. Returns the record."""
        with self._lock:
            index = len(self._records)
            self._records.append((copy.deepcopy(record), likelihood))
            for key in self._keys_of(record):
                self._by_key[key] = index
        return record

    def add_sample(self, *, likelihood: int = 10) -> dict[str, Any]:
        """Register the documented sample record (Sean Thorne at People Data Labs)."""
        return self.add_record(SAMPLE_RECORD, likelihood=likelihood)

    def set_item_status(self, key: str, status: int) -> None:
        """Answer look-ups for ``key`` (profile URL or email) with this item status (e.g. 404, 400)."""
        with self._lock:
            self._item_status[self._normalise_key(key)] = status

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: bytes | dict | None = None,
    ) -> None:
        """The next ``times`` requests answer ``status`` (with PDL's error body unless ``body``)."""
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        with self._lock:
            for _ in range(times):
                self._failures.append(_Failure(status, dict(headers or {}), raw))

    def reset(self) -> None:
        """Forget programmed failures, item statuses and the request log (records stay)."""
        with self._lock:
            self._failures.clear()
            self._item_status.clear()
            self.requests.clear()

    def bulk_requests(self) -> list[LoggedRequest]:
        return [r for r in self.requests if r.path == BULK_PATH]

    @staticmethod
    def _normalise_key(key: str) -> str:
        return key.strip().lower() if "@" in key else "url:" + _url_key(key)

    @staticmethod
    def _keys_of(record: dict[str, Any]) -> list[str]:
        keys: list[str] = []
        if isinstance(record.get("linkedin_url"), str):
            keys.append("url:" + _url_key(record["linkedin_url"]))
        emails: list[Any] = [record.get("work_email"), record.get("recommended_personal_email")]
        emails += record.get("personal_emails") if isinstance(record.get("personal_emails"), list) else []
        for entry in record.get("emails") if isinstance(record.get("emails"), list) else []:
            emails.append(entry.get("address") if isinstance(entry, dict) else entry)
        keys += [e.strip().lower() for e in emails if isinstance(e, str) and "@" in e]
        names = set()
        if isinstance(record.get("full_name"), str):
            names.add(" ".join(record["full_name"].lower().split()))
        if isinstance(record.get("first_name"), str) and isinstance(record.get("last_name"), str):
            names.add(f"{record['first_name']} {record['last_name']}".lower())
        companies = set()
        if isinstance(record.get("job_company_name"), str):
            companies.add(record["job_company_name"].lower())
        for entry in record.get("experience") if isinstance(record.get("experience"), list) else []:
            company = entry.get("company") if isinstance(entry, dict) else None
            if isinstance(company, dict) and isinstance(company.get("name"), str):
                companies.add(company["name"].lower())
        keys += [f"name:{n}|{c}" for n in names for c in companies]
        return keys

    # ---------------------------------------------------------------------------------- serving

    def _answer_item(self, request: Any) -> dict[str, Any]:
        metadata = request.get("metadata") if isinstance(request, dict) else None
        params = request.get("params") if isinstance(request, dict) else None
        echo = {"metadata": metadata} if metadata is not None else {}
        if not isinstance(params, dict) or not params:
            return {**error_body(400, "params missing"), **echo}
        keys = ["url:" + _url_key(v) for v in _values(params.get("profile"))]
        keys += [v.strip().lower() for v in _values(params.get("email"))]
        names = _values(params.get("name"))
        if params.get("first_name") and params.get("last_name"):
            names.append(f"{params['first_name']} {params['last_name']}")
        keys += [
            f"name:{' '.join(n.lower().split())}|{c.lower()}"
            for n in names
            for c in _values(params.get("company"))
        ]
        if not keys:
            return {**error_body(400, "not enough input to match"), **echo}
        with self._lock:
            for key in keys:
                if key in self._item_status:
                    status = self._item_status[key]
                    return {**error_body(status), **echo}
            found = next((self._by_key[k] for k in keys if k in self._by_key), None)
            if found is None:
                return {**error_body(404), **echo}
            record, likelihood = self._records[found]
            try:
                minimum = int(params.get("min_likelihood", 2))
            except (TypeError, ValueError):
                minimum = 2
            if likelihood < minimum and self.honour_min_likelihood:
                return {**error_body(404), **echo}
            if self.credits is not None:
                self.credits -= 1
            return {"status": 200, "likelihood": likelihood, "data": copy.deepcopy(record), **echo}

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        key_ok = handler.headers.get("X-Api-Key") == self.api_key
        headers = {k: v for k, v in handler.headers.items() if k.lower() != "x-api-key"}
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        path = handler.path.split("?", 1)[0]
        status, payload, extra = self._route(method, path, key_ok, body)
        with self._lock:
            self.requests.append(LoggedRequest(method, path, key_ok, headers, body, status))
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        handler.send_response(status)
        content_type = (
            "application/json" if not isinstance(payload, bytes) else extra.pop("Content-Type", "text/html")
        )
        handler.send_header("Content-Type", content_type)
        for name, value in extra.items():
            handler.send_header(name, value)
        if "gzip" in (handler.headers.get("Accept-Encoding") or "") and len(data) > 0:
            data = gzip.compress(data)
            handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _route(self, method: str, path: str, key_ok: bool, body: Any) -> tuple[int, Any, dict[str, str]]:
        if path != BULK_PATH:
            return 404, error_body(404, "unknown path"), {}
        if method != "POST":
            return 405, error_body(405), {}
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            return (
                failure.status,
                failure.body if failure.body is not None else error_body(failure.status),
                dict(failure.headers),
            )
        if not key_ok:
            return 401, error_body(401), {}
        if self.credits is not None and self.credits <= 0:
            return 402, error_body(402), {}
        requests_ = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests_, list) or not 1 <= len(requests_) <= MAX_REQUESTS:
            return 400, error_body(400, f"requests must be a list of 1-{MAX_REQUESTS} items"), {}
        if self.gateway_limit is not None and len(requests_) > self.gateway_limit:
            return 502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", {}
        return 200, [self._answer_item(r) for r in requests_], {}

    def start(self) -> PdlReplayServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                server._handle(self, "POST")

            def do_GET(self) -> None:
                server._handle(self, "GET")

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

        self._server = ThreadingHTTPServer((self._host, self._port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="pdl-replay", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> PdlReplayServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local PDL bulk person enrichment replay server")
    parser.add_argument("--port", type=int, default=5556)
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--records", type=Path, help="JSONL of PDL person records (data objects)")
    parser.add_argument("--no-sample", action="store_true", help="do not serve the documented sample")
    args = parser.parse_args(argv)
    server = PdlReplayServer(args.api_key, port=args.port)
    if not args.no_sample:
        server.add_sample()
    if args.records:
        with args.records.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    record = json.loads(line)
                    server.add_record(record.get("data", record), likelihood=record.get("likelihood", 10))
    server.start()
    print(f"PDL replay on {server.url}{BULK_PATH} (Ctrl-C to stop)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
