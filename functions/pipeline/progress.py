"""A one-line progress display for the CLI (stderr, carriage return; plain lines when not a TTY)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    def __init__(self, stream: TextIO | None = None, *, min_interval: float = 0.2) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.min_interval = min_interval
        self._last = 0.0
        self._phase = ""
        self._started = time.monotonic()

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        new_phase = phase != self._phase
        if not new_phase and now - self._last < self.min_interval and done != total:
            return
        self._last = now
        elapsed = now - self._started
        if total:
            pct = 100.0 * done / total
            text = f"{phase}: {done}/{total} ({pct:.0f}%)"
        elif done:
            text = f"{phase}: {done}"
        else:
            text = f"{phase}..."
        line = f"[{elapsed:6.1f}s] {text}"
        if self.tty:
            self.stream.write("\r\x1b[2K" + line)
        elif new_phase or done == total:
            self.stream.write(line + "\n")
        self._phase = phase
        self.stream.flush()

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
