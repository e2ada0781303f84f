"""Start and stop the pinned Azurite (npm) on free loopback ports, for tests and the demo."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

REPO_ROOT = Path(__file__).resolve().parent.parent
AZURITE_BIN = REPO_ROOT / "node_modules" / ".bin" / "azurite"

# Azurite's documented development account; it only works against the local emulator.
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class AzuriteNotInstalled(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Azurite exited early with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"Azurite did not listen on 127.0.0.1:{port} within {timeout} s")


class Azurite:
    """Azurite blob, queue and table services on free loopback ports, in memory.

    Use as a context manager; ``connection_string`` points the Azure SDKs at it.
    """

    def __init__(self, *, binary: Path = AZURITE_BIN, startup_timeout: float = 30.0,
                 location: Path | None = None) -> None:
        """``location``: keep the data in this folder (it survives ``kill()`` and ``restart()``);
        default: in memory."""
        self._binary = binary
        self._startup_timeout = startup_timeout
        self.location = location
        self._process: subprocess.Popen | None = None
        self._workdir: str | None = None
        self.blob_port = self.queue_port = self.table_port = 0

    def start(self) -> Azurite:
        if not self._binary.exists():
            raise AzuriteNotInstalled(f"{self._binary} is missing: run `npm ci` (or `make install`)")
        self.blob_port, self.queue_port, self.table_port = _free_port(), _free_port(), _free_port()
        return self._launch()

    def _launch(self) -> Azurite:
        # Azurite writes a debug log and extent files into the working directory: keep them out
        # of the repository.
        self._workdir = self._workdir or tempfile.mkdtemp(prefix="azurite-")
        persistence = (["--location", str(self.location)] if self.location is not None
                       else ["--inMemoryPersistence"])
        self._process = subprocess.Popen(
            [
                str(self._binary),
                *persistence,
                "--disableTelemetry",
                "--skipApiVersionCheck",
                "--silent",
                "--blobHost", "127.0.0.1", "--blobPort", str(self.blob_port),
                "--queueHost", "127.0.0.1", "--queuePort", str(self.queue_port),
                "--tableHost", "127.0.0.1", "--tablePort", str(self.table_port),
            ],
            cwd=self._workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            for port in (self.blob_port, self.queue_port, self.table_port):
                _wait_for_port(port, self._process, self._startup_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def kill(self) -> None:
        """SIGKILL, as a crash: the ports and (with ``location``) the data stay for ``restart()``."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            if self._process.stderr:
                self._process.stderr.close()
            self._process = None

    def restart(self) -> Azurite:
        """Start again on the same ports (after ``kill()``)."""
        if self._process is None:
            self._launch()
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stderr:
                self._process.stderr.close()
            self._process = None
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    @property
    def connection_string(self) -> str:
        base = "http://127.0.0.1"
        return (
            f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
            f"BlobEndpoint={base}:{self.blob_port}/{DEV_ACCOUNT};"
            f"QueueEndpoint={base}:{self.queue_port}/{DEV_ACCOUNT};"
            f"TableEndpoint={base}:{self.table_port}/{DEV_ACCOUNT};"
        )

    def __enter__(self) -> Azurite:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
