"""gradcheck: the cost of ``sg.gradcheck`` against the number of parameters, full, subset and projection.

The objective is a numpy pair ``(loss_fn, grad_fn)`` of a vector of n
parameters, ``J(θ) = Σ log(1 + (θᵢ − cᵢ)²) + ½ (Σ θᵢ)²`` with its analytic
gradient ``2(θᵢ − cᵢ)/(1 + (θᵢ − cᵢ)²) + Σ θⱼ`` (one loss evaluation is a few
passes over the vector; the coupling term makes every entry depend on every
parameter). ``c`` and the point θ are standard normal, drawn from the
harness seed and n. Each row is one ``sg.gradcheck((loss_fn, grad_fn), θ,
method="central", mode=..., k=..., seed=...)`` call: ``full`` (every
parameter, 2n + 1 loss evaluations; run up to n = 1000), ``subset`` (k = 20
random parameters, k capped at n) and ``projection`` (k = 8 random
directions). "loss evals" is the report's ``n_evaluations`` (a row that
fails its first estimate costs 2 more: the second look at h/4), "s" the
median time of the call over the repeats, "max rel err" the report's
``max_rel_err``.

Every check runs twice: on the correct gradient (row "correct") and on the
gradient with one entry scaled by 1.01 (row "θ[i] × 1.01"). "equal" says the
check's verdict is the right one: the correct gradient passes (no row
``FAIL``), the mutated one is caught ("caught": some row ``FAIL``s). The
mutated entry is one the subset check draws with the same seed, so that all
three modes see it; a subset check finds a single wrong entry at a random
place only with probability k/n (``catch_probability`` in the JSON), while
full and projection checks find it wherever it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

import symgrad as sg

from ..harness import Settings
from ..timing import median, stopwatch

TITLE = "gradcheck: cost of sg.gradcheck vs parameters (numpy objective, central differences)"
SIZES = (10, 100, 1000, 10_000)
QUICK_SIZES = (10, 100)
#: Full checks cost 2n + 1 loss evaluations; above this many parameters they are not run.
FULL_MAX = 1000
K = {"subset": 20, "projection": 8}
MODES = ("full", "subset", "projection")
SCALE = 1.01

Pair = tuple[Callable[[np.ndarray], float], Callable[[np.ndarray], np.ndarray]]


def run(settings: Settings, sizes: Sequence[int] | None = None, full_max: int = FULL_MAX,
        k: dict[str, int] | None = None) -> list[dict]:
    """Two rows (correct, mutated) per size and mode; ``full`` only up to ``full_max`` parameters."""
    sizes = (QUICK_SIZES if settings.quick else SIZES) if sizes is None else tuple(sizes)
    ks = {**K, **(k or {})}
    _warm_up(settings.seed)
    rows = []
    for n in sizes:
        loss, grad, theta = objective(n, settings.seed)
        # The mutated entry: one the subset check draws, so every mode sees it (see the docstring).
        drawn = sg.gradcheck((loss, grad), theta, mode="subset", k=ks["subset"], seed=settings.seed).index
        index = int(drawn[np.random.default_rng([settings.seed, n]).integers(len(drawn))])
        wrong = mutated(grad, index)
        for mode in MODES:
            if mode == "full" and n > full_max:
                continue
            for gradient, fn in (("correct", grad), ("mutated", wrong)):
                row = _measure(n, mode, ks.get(mode), (loss, fn), theta, settings)
                row["gradient"] = gradient
                row["mutated_index"] = index if gradient == "mutated" else None
                row["caught"] = None if gradient == "correct" else not row["passed"]
                row["answers_equal"] = row["passed"] if gradient == "correct" else row["caught"]
                rows.append(row)
            correct, bad = rows[-2:]
            settings.note(f"  n={n} {mode}: {correct['n_evaluations']} loss evals, "
                          f"{correct['seconds']:.3g} s, passes {correct['passed']}, "
                          f"mutation caught {bad['caught']}")
    return rows


def objective(n: int, seed: int) -> tuple[Callable, Callable, np.ndarray]:
    """``loss_fn``, ``grad_fn`` and the point θ for n parameters (deterministic in ``seed`` and n)."""
    rng = np.random.default_rng([seed, n])
    c = rng.normal(size=n)
    theta = rng.normal(size=n)

    def loss(t: np.ndarray) -> float:
        r = t - c
        return np.sum(np.log1p(r * r)) + 0.5 * np.sum(t) ** 2

    def grad(t: np.ndarray) -> np.ndarray:
        r = t - c
        return 2 * r / (1 + r * r) + np.sum(t)

    return loss, grad, theta


def mutated(grad: Callable[[np.ndarray], np.ndarray], index: int) -> Callable[[np.ndarray], np.ndarray]:
    """``grad`` with entry ``index`` scaled by 1.01."""
    def wrong(t: np.ndarray) -> np.ndarray:
        g = grad(t)
        g[index] *= SCALE
        return g

    return wrong


def _warm_up(seed: int) -> None:
    """Pay the checker's one-time imports before any clock runs."""
    loss, grad, theta = objective(4, seed)
    for mode in MODES:
        sg.gradcheck((loss, grad), theta, mode=mode, k=None if mode == "full" else 2, seed=seed)


def _measure(n: int, mode: str, k: int | None, pair: Pair, theta: np.ndarray, settings: Settings) -> dict:
    runs = []
    for _ in range(settings.repeat):
        clock = stopwatch()
        report = sg.gradcheck(pair, theta, method="central", mode=mode, k=k, seed=settings.seed)
        runs.append(clock())
    rows_checked = len(report)
    return {
        "n_params": n,
        "mode": mode,
        "k": None if mode == "full" else rows_checked,
        "n_evaluations": report.n_evaluations,
        "n_gradients": report.n_gradients,
        "seconds": median(runs),
        "runs_s": runs,
        "max_rel_err": report.max_rel_err,
        "max_abs_err": report.max_abs_err,
        "passed": report.ok,
        "failures": len(report.failures),
        "unresolved": len(report.unresolved),
        "rows_checked": rows_checked,
        "catch_probability": rows_checked / n if mode == "subset" else 1.0,
        "seed": report.seed,
    }


def _gradient_cell(row: dict) -> str:
    return "correct" if row["gradient"] == "correct" else f"θ[{row['mutated_index']}] × {SCALE:g}"


def _caught_cell(row: dict) -> str:
    if row["caught"] is None:
        return "-"
    return "yes" if row["caught"] else "NO"


COLUMNS = (
    ("params", lambda r: f"{r['n_params']:,}"),
    ("mode", lambda r: r["mode"]),
    ("k", lambda r: "-" if r["k"] is None else str(r["k"])),
    ("gradient", _gradient_cell),
    ("loss evals", lambda r: f"{r['n_evaluations']:,}"),
    ("s", lambda r: f"{r['seconds']:.3g}"),
    ("max rel err", lambda r: f"{r['max_rel_err']:.1e}"),
    ("caught", _caught_cell),
    ("equal", lambda r: "yes" if r["answers_equal"] else "NO"),
)
