"""Tables (aligned text and Markdown) and the result files."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType

from . import flops

__all__ = ["text_table", "markdown_table", "machine_line", "write"]

Columns = Sequence[tuple[str, Callable[[dict], str]]]


def _cells(columns: Columns, rows: Sequence[dict]) -> list[list[str]]:
    return [[header for header, _ in columns]] + [[cell(row) for _, cell in columns] for row in rows]


def text_table(columns: Columns, rows: Sequence[dict]) -> str:
    """Right-aligned columns, first column left-aligned, a rule under the header."""
    table = _cells(columns, rows)
    widths = [max(len(line[k]) for line in table) for k in range(len(columns))]

    def line(cells: list[str]) -> str:
        first, *rest = cells
        aligned = [c.rjust(w) for c, w in zip(rest, widths[1:], strict=True)]
        return "  ".join([first.ljust(widths[0]), *aligned])

    return "\n".join([line(table[0]), "  ".join("-" * w for w in widths)] + [line(c) for c in table[1:]])


def markdown_table(columns: Columns, rows: Sequence[dict]) -> str:
    header, *body = _cells(columns, rows)
    rule = ["---"] + ["---:"] * (len(columns) - 1)
    return "\n".join("| " + " | ".join(cells) + " |" for cells in [header, rule, *body])


def machine_line(machine: Mapping) -> str:
    versions = ", ".join(f"{name} {version}" for name, version in machine["versions"].items())
    return (
        f"{machine['cpu_model']}, {machine['cpu_count']} cores ({machine['cpus_usable']} usable), "
        f"{machine['platform']}, Python {machine['python']}; {versions}; "
        f"git {machine['git_commit'] or 'unknown'}"
    )


def _peak_line(peak: Mapping) -> str:
    """The machine's peak as measured in the run, for the Markdown summary."""
    if peak["gflops"] is None:
        return "Machine peak: no matrix product measured, so no FLOP fractions."
    one = "" if peak["gflops_1_thread"] is None else f", {peak['gflops_1_thread']:.3g} on one thread"
    bandwidth = "" if peak["gb_per_s"] is None else f"; memory bandwidth {peak['gb_per_s']:.3g} GB/s"
    return (f"Machine peak ({peak['measured_by']}, best runs): {peak['gflops']:.3g} GFLOP/s float64 matrix "
            f"product on {peak['threads']} thread(s) ({peak['kernel']}){one}{bandwidth}.")


def _flop_count(module: ModuleType, rows: Sequence[dict]) -> list[str]:
    count = getattr(module, "FLOPS", None)
    if count is None:
        return []
    per_unit = {row["flops_per_unit"] for row in rows if row.get("flops_per_unit") is not None}
    amount = f"{per_unit.pop():,.0f} FLOPs" if len(per_unit) == 1 else "the FLOPs"
    return ["", f"GFLOP/s: {count.after} times {amount} per {count.unit} ({count.what}); "
                "% peak: that over the machine's peak above."]


def _markdown(document: Mapping, modules: Mapping[str, ModuleType]) -> str:
    machine, settings = document["machine"], document["settings"]
    lines = [
        f"# symgrad benchmarks, {machine['date']}",
        "",
        f"Machine: {machine_line(machine)}.",
        "",
        f"Settings: {settings['repeat']} repeat(s), medians shown; baseline cap {settings['cap']:g} s; "
        f"seed {settings['seed']}{'; quick mode' if settings['quick'] else ''}.",
    ]
    if document.get("peak") is not None:
        lines += ["", _peak_line(document["peak"])]
    for name, result in document["workloads"].items():
        module = modules[name]
        lines += [
            "",
            f"## {result['title']}",
            "",
            inspect.cleandoc(module.__doc__ or "").split("\n\n", 1)[-1],
            "",
            markdown_table(flops.columns(module), result["rows"]),
            *_flop_count(module, result["rows"]),
            "",
            f"Answers equal in every row: {'yes' if result['answers_equal'] else '**NO**'}.",
        ]
    return "\n".join(lines) + "\n"


def write(out_dir: Path, document: Mapping, modules: Mapping[str, ModuleType]) -> tuple[Path, Path]:
    """``<workloads>-<date>.json`` and ``.md`` in ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = document["machine"]["date"][:19].replace(":", "").replace("-", "")
    stem = f"{'_'.join(document['workloads'])}-{stamp}"
    json_path, markdown_path = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    json_path.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
    markdown_path.write_text(_markdown(document, modules))
    return json_path, markdown_path
