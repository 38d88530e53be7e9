"""derive: from a model definition to a gradient program.

The models are sigmoid MLPs with one SymPy symbol per weight and bias
(``benchmarks/models.py``). symgrad's time is
``symgrad.Model(loss=..., params=..., inputs=..., targets=...)`` followed
by ``.program`` (declaration checks, lowering to the graph, the reverse
sweep and CSE), split into those two parts in the Model() and .program
columns. The naive baseline is ``sympy.diff(loss, p)`` for every parameter
``p`` followed by ``sympy.lambdify(symbols, gradients, cse=True)`` (told
that ``sigmoid`` is ``1 / (1 + numpy.exp(-z))``), run in a
child process that is stopped at the cap. Both start from the built loss
expression with SymPy's cache cleared. µs/node is symgrad's time per graph
node: flat when the cost grows linearly with the graph.

Before the times count, the gradients are compared at one seeded random
point: symgrad's program evaluated by SymPy at 30 digits against the
baseline's lambdified function (when it finished within the cap) and
against a numpy backprop that shares no code with either. Answers are
equal when every comparison agrees to 1e-9 relative (largest absolute
difference over the largest gradient entry).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sympy as sp

import symgrad as sg

from ..harness import Settings
from ..models import MLP, backprop, mlp
from ..timing import median, run_capped, stopwatch

TITLE = "derive: model definition -> gradient program (scalar sigmoid MLPs)"
SIZES = ((2, 4, 1), (2, 8, 8, 1), (2, 16, 16, 1), (2, 32, 32, 1))
TOLERANCE = 1e-9
DIGITS = 30
#: How the baseline's lambdified code evaluates symgrad.sigmoid (SymPy has no printer for it).
NUMPY_SIGMOID = {"sigmoid": lambda z: 1 / (1 + np.exp(-z))}


def run(settings: Settings, sizes: Sequence[Sequence[int]] = SIZES) -> list[dict]:
    _warm_up()
    rows = []
    for size in sizes:
        row = _measure(mlp(tuple(size)), settings)
        settings.note(f"  {row['model']}: symgrad {row['symgrad_s']:.3g} s, naive {_naive_cell(row)}, "
                      f"answers equal {row['answers_equal']}")
        rows.append(row)
    return rows


def _warm_up() -> None:
    """Pay one-time imports (lambdify's printers, symgrad's lazy parts) before any clock runs."""
    x, t = sp.symbols("x t")
    sg.Model(loss=(sg.sigmoid(x) - t) ** 2, params=[x], targets=[t]).program.evaluate({x: 0.5, t: 1})
    sp.lambdify([x, t], [sp.diff(sg.sigmoid(x) * t, x)], modules=[NUMPY_SIGMOID, "numpy"], cse=True)


def _measure(net: MLP, settings: Settings) -> dict:
    point = _random_point(net, settings.seed)
    declare, program_runs, totals = [], [], []
    for _ in range(settings.repeat):
        sp.core.cache.clear_cache()
        clock = stopwatch()
        model = sg.Model(loss=net.loss, params=net.params, inputs=net.inputs, targets=net.targets)
        declared = clock()
        program = model.program
        totals.append(clock())
        declare.append(declared)
        program_runs.append(totals[-1] - declared)
    naive, naive_gradient = _naive(net, point, settings)
    ours = _symgrad_gradient(program, point)
    errors = {"backprop": _relative_error(ours, backprop(net, point))}
    if naive_gradient is not None:
        errors["naive"] = _relative_error(ours, np.array(naive_gradient))
    symgrad_s = median(totals)
    naive_or_cap = settings.cap if naive["naive_capped"] else naive["naive_s"]
    return {
        "model": net.name,
        "n_params": len(net.params),
        "graph_nodes": len(model.graph),
        "program_statements": len(program),
        "symgrad_s": symgrad_s,
        "symgrad_runs_s": totals,
        "declare_s": median(declare),
        "program_s": median(program_runs),
        "symgrad_s_per_node": symgrad_s / len(model.graph),
        **naive,
        "ratio": None if naive_or_cap is None else naive_or_cap / symgrad_s,
        "ratio_is_lower_bound": naive["naive_capped"],
        "answers_equal": all(e <= TOLERANCE for e in errors.values()),
        "checked_against": sorted(errors),
        "max_rel_error": errors,
    }


def _random_point(net: MLP, seed: int) -> dict[sp.Symbol, float]:
    rng = np.random.default_rng([seed, *net.sizes])
    values = np.concatenate([rng.normal(size=len(net.params) + len(net.inputs)), rng.uniform(size=1)])
    return dict(zip(net.symbols, map(float, values), strict=True))


def _symgrad_gradient(program: sg.Program, point: dict[sp.Symbol, float]) -> np.ndarray:
    values = program.evaluate({s: sp.Float(v, DIGITS) for s, v in point.items()})
    return np.array([float(values[("grad", 0, i)]) for i in range(len(program.wrt))])


def _relative_error(ours: np.ndarray, reference: np.ndarray) -> float:
    return float(np.max(np.abs(ours - reference)) / max(np.max(np.abs(reference)), np.finfo(float).tiny))


def _naive_child(net: MLP, values: list[float]) -> tuple[float, float, list[float]]:
    clock = stopwatch()
    gradients = [sp.diff(net.loss, p) for p in net.params]
    diff_s = clock()
    function = sp.lambdify(net.symbols, gradients, modules=[NUMPY_SIGMOID, "numpy"], cse=True)
    total = clock()
    return total, diff_s, [float(v) for v in function(*values)]


def _naive(net: MLP, point: dict[sp.Symbol, float], settings: Settings) -> tuple[dict, list | None]:
    """The baseline's row fields and its gradient at ``point`` (``None`` if it never finished).

    The time is the median of the runs, a capped run counting as infinitely slow.
    """
    values = [point[s] for s in net.symbols]
    runs, diffs, gradient, error = [], [], None, None
    for _ in range(settings.repeat):
        outcome = run_capped(_naive_child, (net, values), settings.cap)
        if outcome.error:
            error = outcome.error
            break
        if outcome.capped:
            runs.append(None)
            if len(runs) == 1:  # a first run over the cap: the others would be too
                break
            continue
        seconds, diff_s, gradient = outcome.result
        runs.append(seconds)
        diffs.append(diff_s)
    middle = median([np.inf if r is None else r for r in runs]) if runs else None
    capped = middle == np.inf
    return {
        "naive_s": None if capped else middle,
        "naive_runs_s": runs,
        "naive_diff_s": None if capped else median(diffs),
        "naive_capped": capped,
        "naive_cap_s": settings.cap,
        "naive_error": error,
    }, gradient


def _seconds(value: float) -> str:
    return f"{value:.3g}"


def _naive_cell(row: dict) -> str:
    if row["naive_capped"]:
        return f"> {row['naive_cap_s']:g}"
    return "error" if row["naive_s"] is None else _seconds(row["naive_s"])


def _ratio_cell(row: dict) -> str:
    if row["ratio"] is None:
        return "-"
    text = f"{row['ratio']:.0f}x" if row["ratio"] >= 10 else f"{row['ratio']:.1f}x"
    return f"> {text}" if row["ratio_is_lower_bound"] else text


COLUMNS = (
    ("model", lambda r: r["model"]),
    ("params", lambda r: str(r["n_params"])),
    ("graph nodes", lambda r: str(r["graph_nodes"])),
    ("statements", lambda r: str(r["program_statements"])),
    ("symgrad s", lambda r: _seconds(r["symgrad_s"])),
    ("Model() s", lambda r: _seconds(r["declare_s"])),
    (".program s", lambda r: _seconds(r["program_s"])),
    ("µs/node", lambda r: f"{r['symgrad_s_per_node'] * 1e6:.0f}"),
    ("naive s", _naive_cell),
    ("naive/symgrad", _ratio_cell),
    ("equal", lambda r: "yes" if r["answers_equal"] else "NO"),
)
