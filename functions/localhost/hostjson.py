"""The parts of host.json the local host honours: the HTTP route prefix and the queue settings.

Defaults are the Functions host's (extensions.http.routePrefix "api"; extensions.queues
maxDequeueCount 5, visibilityTimeout 00:00:00, batchSize 16, messageEncoding base64).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_HOST_JSON = REPO_ROOT / "host.json"

_TIMESPAN = re.compile(r"(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2}(?:\.\d+)?)")


def parse_timespan(text: str) -> float:
    """A .NET TimeSpan ("hh:mm:ss", "d.hh:mm:ss", fractional seconds) in seconds."""
    found = _TIMESPAN.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"not a TimeSpan (hh:mm:ss): {text!r}")
    days, hours, minutes, seconds = found.groups()
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@dataclass(frozen=True)
class HostSettings:
    route_prefix: str = "api"
    max_dequeue_count: int = 5
    visibility_timeout: float = 0.0
    batch_size: int = 16
    message_encoding: str = "base64"

    @classmethod
    def from_host_json(cls, source: Mapping[str, Any] | str | Path | None = None) -> HostSettings:
        """From a parsed host.json mapping or a path (None: the repository's host.json, if any)."""
        if source is None:
            source = DEFAULT_HOST_JSON if DEFAULT_HOST_JSON.exists() else {}
        if isinstance(source, str | Path):
            source = json.loads(Path(source).read_text(encoding="utf-8"))
        extensions = source.get("extensions") or {}
        http = extensions.get("http") or {}
        queues = extensions.get("queues") or {}
        prefix = http.get("routePrefix", "api")
        encoding = str(queues.get("messageEncoding", "base64")).lower()
        if encoding not in ("base64", "none"):
            raise ValueError(f"host.json extensions.queues.messageEncoding: unknown value {encoding!r}")
        max_dequeue = int(queues.get("maxDequeueCount", 5))
        batch = int(queues.get("batchSize", 16))
        if max_dequeue < 1 or not 1 <= batch <= 32:
            raise ValueError("host.json extensions.queues: maxDequeueCount >= 1, batchSize 1..32")
        return cls(
            route_prefix=str(prefix or "").strip("/"),
            max_dequeue_count=max_dequeue,
            visibility_timeout=parse_timespan(str(queues.get("visibilityTimeout", "00:00:00"))),
            batch_size=batch,
            message_encoding=encoding,
        )
