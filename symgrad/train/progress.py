"""A progress bar for long runs: tqdm when installed, else one line on stderr."""

from __future__ import annotations

import os
import sys
import time

__all__ = ["Progress", "progress_wanted"]

#: A run shows a bar only once it has lasted this long (short runs stay quiet).
DELAY = 0.5


def progress_wanted(progress: bool | None) -> bool:
    """``None``: only when stderr is a terminal and not under CI."""
    if progress is not None:
        return bool(progress)
    return sys.stderr.isatty() and not os.environ.get("CI")


class Progress:
    """Shows ``done / total`` steps and the latest loss; silent when not wanted."""

    def __init__(self, total: int | None, wanted: bool):
        self.total = total
        self.wanted = wanted
        self.start = time.perf_counter()
        self._bar = None

    def update(self, done: int, loss: float) -> None:
        if not self.wanted or time.perf_counter() - self.start < DELAY:
            return
        if self._bar is None:
            self._bar = _make_bar(self.total)
        self._bar.update(done, loss)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _make_bar(total):
    try:
        import tqdm
    except ImportError:
        return _LineBar(total)
    return _TqdmBar(tqdm.tqdm(total=total, unit="step", dynamic_ncols=True))


class _TqdmBar:
    def __init__(self, bar):
        self.bar = bar

    def update(self, done: int, loss: float) -> None:
        self.bar.update(done - self.bar.n)
        self.bar.set_postfix(loss=f"{loss:.4g}", refresh=False)

    def close(self) -> None:
        self.bar.close()


class _LineBar:
    def __init__(self, total):
        self.total = total

    def update(self, done: int, loss: float) -> None:
        of = f"/{self.total}" if self.total else ""
        sys.stderr.write(f"\rstep {done}{of}  loss {loss:.6g}   ")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()
