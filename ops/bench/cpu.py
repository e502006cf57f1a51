"""CPU time of processes over a measured window (Linux /proc): where each payment's cost goes.

Sampled from a thread every 100 ms; the CPU used inside a drain window is interpolated between
samples, so start-up and idle tails are left out.
"""

from __future__ import annotations

import os
import threading
import time
from bisect import bisect_left
from pathlib import Path
from typing import Self


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU seconds of a process, all its threads (None where /proc is missing)."""
    try:
        with Path(f"/proc/{pid}/stat").open(encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """Samples the CPU time of named processes until stopped."""

    def __init__(self, pids: dict[str, int | None], interval: float = 0.1) -> None:
        self.pids = {name: pid for name, pid in pids.items() if pid is not None}
        self.interval = interval
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-meter", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while True:
            now = time.time()
            values = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
            self.samples.append((now, {k: v for k, v in values.items() if v is not None}))
            if self._stop.wait(self.interval):
                return

    def _at(self, name: str, when: float) -> float | None:
        """The process's CPU seconds at an instant, interpolated (clamped to the sampled span)."""
        series = [(t, v[name]) for t, v in self.samples if name in v]
        if len(series) < 2:
            return None
        times = [t for t, _ in series]
        i = min(max(bisect_left(times, when), 1), len(series) - 1)
        (t0, v0), (t1, v1) = series[i - 1], series[i]
        when = min(max(when, t0), t1)
        return v0 + (v1 - v0) * (when - t0) / (t1 - t0) if t1 > t0 else v0

    def used(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds each process used between two wall-clock instants."""
        out: dict[str, float] = {}
        for name in self.pids:
            a, b = self._at(name, start), self._at(name, end)
            if a is not None and b is not None:
                out[name] = b - a
        return out
