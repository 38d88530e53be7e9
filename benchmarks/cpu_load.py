"""How busy the rest of the machine was while something was timed (Linux ``/proc/stat``).

A 2-core machine shared with other work gives numbers that say more about the
other work than about what was measured; :class:`OtherLoad` reports the
average number of cores that processes other than this one kept busy, so that
such runs are visible in the results.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable

__all__ = ["OtherLoad", "timed_calls"]


def _busy_cpu_s() -> float | None:
    """Seconds of CPU the whole machine has spent busy (not idle) since boot; ``None`` off Linux."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


class OtherLoad:
    """``with OtherLoad() as load: ...``; then ``load.cores`` (``None`` where it cannot be read).

    Counted in the kernel's clock ticks (10 ms), so it is rough for spans
    shorter than a second or so.
    """

    cores: float | None = None

    def __enter__(self) -> OtherLoad:
        self._busy, self._own, self._start = _busy_cpu_s(), _own_cpu_s(), time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        busy, elapsed = _busy_cpu_s(), time.perf_counter() - self._start
        if busy is not None and self._busy is not None and elapsed > 0:
            self.cores = max(0.0, (busy - self._busy - (_own_cpu_s() - self._own)) / elapsed)


def timed_calls(call: Callable[[], object], min_run_s: float, runs: int) -> list[dict]:
    """Calls per run from one timed call (at least ``min_run_s`` per run), then ``runs`` runs of
    that many calls: ``{"calls", "seconds", "other_load"}`` each."""
    start = time.perf_counter()
    call()
    calls = max(1, math.ceil(min_run_s / max(time.perf_counter() - start, 1e-9)))
    results = []
    for _ in range(runs):
        with OtherLoad() as load:
            start = time.perf_counter()
            for _ in range(calls):
                call()
            seconds = time.perf_counter() - start
        results.append({"calls": calls, "seconds": seconds, "other_load": load.cores})
    return results
