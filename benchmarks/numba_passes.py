"""Where numba's compile time goes: seconds per compiler pass, from numba's event API."""

from __future__ import annotations

import time

from numba.core import event

__all__ = ["PassTimes"]


class PassTimes(event.Listener):
    """A numba event listener: seconds per compiler pass, each pass's nested passes excluded.

    A pass can compile another function (typing ``loss_and_grad`` compiles the
    functions it calls), so a pass's own time is its duration less that of
    the passes run inside it.
    """

    def __init__(self):
        self._stack: list[list] = []  # [name, start, seconds spent in nested passes]
        self._totals: dict[str, float] = {}

    def on_start(self, event: event.Event) -> None:
        self._stack.append([event.data["name"].split(" [")[0], time.perf_counter(), 0.0])

    def on_end(self, event: event.Event) -> None:
        now = time.perf_counter()
        name, start, nested = self._stack.pop()
        self._totals[name] = self._totals.get(name, 0.0) + (now - start - nested)
        if self._stack:
            self._stack[-1][2] += now - start

    def totals(self) -> dict[str, float]:
        return dict(sorted(self._totals.items(), key=lambda item: -item[1]))
