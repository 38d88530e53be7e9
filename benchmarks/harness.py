"""Run workloads, print their tables, write the JSON and Markdown results."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from . import flops, report, workloads
from .machine import machine_info
from .timing import stopwatch

__all__ = ["Settings", "Outcome", "run"]

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
#: The workload that measures the machine's peak, which FLOP rates are reported as fractions of.
PEAK = "peak"


@dataclass(frozen=True)
class Settings:
    """What every workload is told.

    Attributes:
        quick: a short run (fewer repeats, shorter cap); workloads may also trim.
        repeat: timed runs per measurement; tables show the median.
        cap: seconds after which a slow baseline is stopped and shown as ``> cap``.
        seed: seeds the random points answers are compared at.
        verbose: print progress to stderr.
    """

    quick: bool = False
    repeat: int = 3
    cap: float = 60.0
    seed: int = 2024
    verbose: bool = True

    @classmethod
    def for_mode(cls, quick: bool, repeat: int | None = None, cap: float | None = None, **kw) -> Settings:
        """Defaults by mode: 3 repeats and a 60 s cap, or 1 and 10 s with ``quick``."""
        return cls(quick=quick, repeat=repeat or (1 if quick else 3), cap=cap or (10.0 if quick else 60.0),
                   **kw)

    def note(self, message: str) -> None:
        if self.verbose:
            print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Outcome:
    json_path: Path
    markdown_path: Path
    answers_equal: bool


def run(
    names: Sequence[str],
    settings: Settings,
    out_dir: Path = DEFAULT_OUT,
    options: Mapping[str, Mapping] | None = None,
) -> Outcome:
    """Run the named workloads in order, ``peak`` first; ``options[name]`` goes to that workload's ``run``.

    ``peak`` goes first because the FLOP fractions of the others divide by it; when it is not among
    ``names``, a quick peak measurement is made before the first workload that declares ``FLOPS``.
    """
    names = sorted(names, key=lambda name: name != PEAK)
    modules = {name: workloads.load(name) for name in names}  # unknown names fail before any work
    machine = machine_info()
    results, peak = {}, None
    for name, module in modules.items():
        count = getattr(module, "FLOPS", None)
        if count is not None and peak is None:
            peak = _quick_peak(settings)
        settings.note(f"[{name}] {module.TITLE}")
        clock = stopwatch()
        rows = module.run(settings, **(options or {}).get(name, {}))
        if name == PEAK:
            peak = {**module.limit(rows), "measured_by": "peak workload"}
        if count is not None:
            flops.annotate(rows, count, peak["gflops"])
        results[name] = {
            "title": module.TITLE,
            "wall_s": clock(),
            "answers_equal": all(row.get("answers_equal", True) for row in rows),
            "rows": rows,
        }
        print(f"\n{module.TITLE}\n\n{report.text_table(flops.columns(module), rows)}\n")
        if not results[name]["answers_equal"]:
            print(f"[{name}] ANSWERS DIFFER: see answers_equal in the JSON", file=sys.stderr)
    document = {"schema_version": 1, "machine": machine, "settings": asdict(settings), "peak": peak,
                "workloads": results}
    json_path, markdown_path = report.write(Path(out_dir), document, modules)
    print(f"wrote {json_path}\nwrote {markdown_path}")
    return Outcome(json_path, markdown_path, all(r["answers_equal"] for r in results.values()))


def _quick_peak(settings: Settings) -> dict:
    """The machine's peak from a ``--quick`` run of ``peak`` (its rows kept), for the FLOP fractions."""
    module = workloads.load(PEAK)
    settings.note(f"[{PEAK}] quick measurement for the FLOP fractions")
    clock = stopwatch()
    rows = module.run(Settings.for_mode(True, seed=settings.seed, verbose=settings.verbose))
    return {**module.limit(rows), "measured_by": "quick peak measurement", "wall_s": clock(), "rows": rows}
