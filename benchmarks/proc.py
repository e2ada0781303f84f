"""What a benchmark's child process reports about itself from /proc (Linux)."""

from __future__ import annotations


def own_peak_mb() -> float | None:
    """Peak resident set of this process (``VmHWM``), None where /proc is missing. Not ``ru_maxrss``:
    Linux keeps the parent's resident set at fork across exec in it, so a small child of a large
    benchmark process would report the parent's size."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None
