"""FLOP rates of the workloads, and what fraction of the machine's peak they reach.

A workload whose work has a well-defined FLOP count declares it as
``FLOPS = FlopCount(...)`` in its module: which row key holds its rate
(samples/s, steps/s) and how many FLOPs one unit of that rate takes. The
harness then adds to every row ``flops_per_unit``, ``gflops`` (the rate
times the count) and ``peak_fraction`` (``gflops`` over the peak matmul
GFLOP/s that the ``peak`` workload measured in the same invocation), and
two columns to the workload's tables.

The count is of the arithmetic the computation needs, the same for every
peer, not of what a peer happens to execute; ``exp``, ``log`` and division
count as one FLOP each, as FLOP counts usually do, although each costs
several instructions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType

__all__ = ["FlopCount", "annotate", "columns"]


@dataclass(frozen=True)
class FlopCount:
    """A workload's FLOPs per unit of its rate.

    Attributes:
        rate: the row key holding the rate, in units per second (``"samples_per_s"``).
        unit: what one unit is, for the Markdown summary (``"sample"``).
        after: the header of the column the FLOP columns follow.
        per_unit: ``per_unit(row)``, the FLOPs of one unit of that row's computation.
        what: one line on what the count covers, for the Markdown summary.
    """

    rate: str
    unit: str
    after: str
    per_unit: Callable[[dict], float]
    what: str


def annotate(rows: Sequence[dict], count: FlopCount, peak_gflops: float | None) -> None:
    """Add ``flops_per_unit``, ``gflops`` and ``peak_fraction`` to each row (``None`` where unmeasured)."""
    for row in rows:
        rate = row.get(count.rate)
        per_unit = None if row.get("skipped") else count.per_unit(row)
        gflops = None if rate is None or per_unit is None else rate * per_unit / 1e9
        row["flops_per_unit"] = per_unit
        row["gflops"] = gflops
        row["peak_fraction"] = None if gflops is None or not peak_gflops else gflops / peak_gflops


def _gflops(row: dict) -> str:
    return "-" if row.get("gflops") is None else f"{row['gflops']:.3g}"


def _fraction(row: dict) -> str:
    return "-" if row.get("peak_fraction") is None else f"{100 * row['peak_fraction']:.3g}%"


CELLS = (("GFLOP/s", _gflops), ("% peak", _fraction))


def columns(module: ModuleType) -> tuple:
    """The module's ``COLUMNS``, with GFLOP/s and % peak after ``FLOPS.after`` when it declares ``FLOPS``."""
    count: FlopCount | None = getattr(module, "FLOPS", None)
    if count is None:
        return tuple(module.COLUMNS)
    headers = [header for header, _ in module.COLUMNS]
    if count.after not in headers:
        raise ValueError(f"FLOPS.after names no column: {count.after!r} not in {headers}")
    at = headers.index(count.after) + 1
    return (*module.COLUMNS[:at], *CELLS, *module.COLUMNS[at:])
