"""Wall-clock timing helpers: medians, and a run in a child process under a time cap.

A capped run happens in a forked child so that it can be stopped: SymPy
offers no way to interrupt ``diff`` or ``lambdify`` from inside the process.
The child inherits everything already imported and built, so forking costs
milliseconds; it clears SymPy's cache first so that it starts as cold as a
fresh interpreter would.
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy as sp

__all__ = ["Capped", "median", "run_capped", "stopwatch"]


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def stopwatch() -> Callable[[], float]:
    """Start a clock; calling the result gives the seconds elapsed since."""
    start = time.perf_counter()
    return lambda: time.perf_counter() - start


@dataclass
class Capped:
    """Outcome of :func:`run_capped`: the child's result, or ``capped`` if it ran out of time."""

    result: Any = None
    capped: bool = False
    error: str | None = None


def _child(fn, args, connection) -> None:
    sp.core.cache.clear_cache()
    try:
        connection.send((fn(*args), None))
    except BaseException as exc:  # report anything, including MemoryError, to the parent
        connection.send((None, f"{type(exc).__name__}: {exc}"))
    finally:
        connection.close()


def run_capped(fn: Callable[..., Any], args: tuple, cap: float) -> Capped:
    """``fn(*args)`` in a forked child; stopped and reported as capped after ``cap`` seconds.

    ``fn`` should time its own work and return something picklable and small.
    """
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(fn, args, send), daemon=True)
    child.start()
    send.close()  # the parent keeps only the reading end, so EOF means the child died
    try:
        if not receive.poll(cap):
            return Capped(capped=True)
        result, error = receive.recv()
        return Capped(result=result, error=error)
    except EOFError:
        child.join()
        return Capped(error=f"child process died (exit code {child.exitcode})")
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        receive.close()
