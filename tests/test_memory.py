"""Freed heap memory goes back to the OS between batches (glibc's malloc_trim)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_memory_a_thread_freed_is_given_back() -> None:
    # In a fresh interpreter: a worker thread allocates 100 MB in 50 kB buffers between small
    # long-lived ones (the pattern of response bodies and packed pages), then frees the buffers.
    # The free space stays in the thread's malloc arena until it is given back.
    script = textwrap.dedent("""
        import threading
        from functions.memory import give_back_free_memory

        def anon_mb():
            for line in open("/proc/self/status"):
                if line.startswith("RssAnon"):
                    return int(line.split()[1]) // 1024

        kept = []

        def work():
            big = []
            for _ in range(2000):
                big.append(bytearray(50_000))
                kept.append(bytearray(600))
            big.clear()

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        before = anon_mb()
        assert give_back_free_memory()
        print(before, anon_mb())
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    before, after = map(int, out.stdout.split())
    assert before - after >= 50, (before, after)
