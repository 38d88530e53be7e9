"""Contours of a two-parameter objective with the paths optimizers take over it.

Lecture notes 001 and 003 compare gradient descent, momentum, Nesterov,
Adagrad, RMSProp and Adam by the paths they draw on one picture. Each path
here is recorded by a :func:`symgrad.minimize` callback, so it is exactly
the sequence of points the optimizer visits: the first point is ``x0`` and
the last is the result ``minimize`` returns with the same arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..compile.compiled import CompiledModel
from ..errors import DeclarationError, DivergenceError
from ..optim import SGD, Adagrad, Adam, Momentum, Nesterov, Optimizer, RMSProp
from ..train.driver import minimize
from ._inputs import LossEvaluator, as_model, as_theta
from ._style import Picture, begin, contour_levels, finish, level_norm, new_figure, series_colors

__all__ = ["Trajectories", "trajectories", "seed_optimizers"]


def seed_optimizers() -> dict[str, Optimizer]:
    """The six optimizers of the notes' comparison, with rates that suit Rosenbrock's valley.

    >>> list(seed_optimizers())
    ['SGD', 'Momentum', 'Nesterov', 'Adagrad', 'RMSProp', 'Adam']
    """
    return {"SGD": SGD(lr=1e-3), "Momentum": Momentum(lr=1e-3), "Nesterov": Nesterov(lr=1e-3),
            "Adagrad": Adagrad(lr=0.5), "RMSProp": RMSProp(lr=1e-2), "Adam": Adam(lr=5e-2)}


@dataclass
class Trajectories(Picture):
    """Optimizer paths over the contours of a two-parameter objective.

    Attributes:
        figure: the matplotlib Figure.
        paths: ``{name: array of shape (steps + 1, 2)}``, the points visited from ``x0`` on.
        results: ``{name: FitResult}``, or the ``DivergenceError`` of a run that diverged.
        x, y: the grid coordinates; ``values[j, i]`` is the objective at ``(x[i], y[j])``.
        levels: the contour levels drawn.
    """

    paths: dict[str, np.ndarray] = field(default_factory=dict)
    results: dict[str, object] = field(default_factory=dict)
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    values: np.ndarray | None = None
    levels: np.ndarray | None = None


def trajectories(f, x0, optimizers=None, *, steps: int = 500, tol: float | None = 1e-8, params=None,
                 bounds=None, grid: int = 150, levels="auto", minimum=None, title: str | None = None,
                 path=None) -> Trajectories:
    """Contours of ``f`` and each optimizer's path from ``x0``.

    Args:
        f: a SymPy expression in two symbols, or a data-free Model with two parameters.
        x0: the start: ``{symbol: value}`` or a pair in the order of the parameters
            (a Model's ``params``, else the symbols sorted by name, or ``params=``).
        optimizers: ``{label: optimizer}`` or a list (labelled by class name);
            default :func:`seed_optimizers`.
        steps, tol: passed to :func:`symgrad.minimize` as ``max_iter`` and ``tol``.
        bounds: ``((xmin, xmax), (ymin, ymax))``; default the box around every path that
            did not diverge, with a margin.
        grid: contour grid points per axis.
        levels: ``"auto"`` (log-spaced for valleys like Rosenbrock's), ``"log"``,
            ``"linear"``, a count or an array of levels.
        minimum: a known minimiser to mark, ``{symbol: value}`` or a pair.
        path: also save the figure there (``.png``, ``.svg``, ``.pdf``).
    """
    begin(path)
    model = as_model(f, params)
    if isinstance(model, CompiledModel):
        raise DeclarationError("trajectories runs sg.minimize, which takes the Model: pass the Model, "
                               "not its compiled kernels")
    names = [str(p) for p in model.params]
    data = bool(model.inputs or model.targets)
    if len(names) != 2 or data:
        raise DeclarationError(f"trajectories draws data-free objectives of two parameters; this one has "
                               f"parameters {names}" + (" and data" if data else ""))
    compiled = model.compile()
    start = as_theta(x0, compiled, "x0")
    runs = _as_named(seed_optimizers() if optimizers is None else optimizers)
    paths, results = {}, {}
    for label, optimizer in runs.items():
        paths[label], results[label] = _path(model, start, optimizer, steps, tol)

    (xlow, xhigh), (ylow, yhigh) = _bounds(bounds, paths, results, start)
    xs, ys = np.linspace(xlow, xhigh, grid), np.linspace(ylow, yhigh, grid)
    X, Y = np.meshgrid(xs, ys)
    values = LossEvaluator(compiled)(np.stack([X, Y], axis=-1))
    chosen = contour_levels(values, levels)

    figure = new_figure(8.2, 5.6)
    ax = figure.add_subplot()
    norm = level_norm(chosen)
    masked = np.ma.masked_invalid(values)
    ax.contourf(X, Y, masked, levels=chosen, cmap="Greys_r", norm=norm, extend="both", alpha=0.55)
    ax.contour(X, Y, masked, levels=chosen, colors="0.35", linewidths=0.5)
    # Paths often share a stretch (the floor of a valley): earlier ones are drawn wider
    # underneath later ones, so that each stays visible.
    widths = np.linspace(3.2, 1.3, len(paths)) if len(paths) > 1 else [1.8]
    for (label, points), color, width in zip(paths.items(), series_colors(len(paths)), widths, strict=True):
        outcome = results[label]
        ax.plot(points[:, 0], points[:, 1], "-", color=color, lw=width, label=_legend(label, outcome))
        ax.plot(points[:, 0], points[:, 1], ".", color=color, ms=2.5)
        end = "X" if isinstance(outcome, DivergenceError) else "o"
        ax.plot(points[-1, 0], points[-1, 1], end, color=color, mec="black", mew=0.6, ms=8, zorder=4)
    ax.plot(*start, "o", color="white", mec="black", ms=9, zorder=5, label=f"start ({_pair(start)})")
    if minimum is not None:
        best = as_theta(minimum, compiled, "minimum")
        ax.plot(*best, "*", color="gold", mec="black", ms=15, zorder=5, label=f"minimum ({_pair(best)})")
    ax.set_xlim(xlow, xhigh)
    ax.set_ylim(ylow, yhigh)
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title(title or f"{len(paths)} optimizers, at most {steps} steps each")
    figure.legend(loc="outside right upper", fontsize="small", title="optimizer: outcome",
                  title_fontsize="small")
    finish(figure, path)
    return Trajectories(figure=figure, paths=paths, results=results, x=xs, y=ys, values=values,
                        levels=chosen)


def _as_named(optimizers) -> dict[str, Optimizer]:
    if isinstance(optimizers, Optimizer):
        optimizers = [optimizers]
    if not isinstance(optimizers, dict):
        optimizers = list(optimizers)
        names = [o.name for o in optimizers]
        optimizers = {(f"{n} (lr {o.lr:g})" if names.count(n) > 1 else n): o
                      for n, o in zip(names, optimizers, strict=True)}
    for label, optimizer in optimizers.items():
        if not isinstance(optimizer, Optimizer):
            raise DeclarationError(f"optimizer {label!r} is {optimizer!r}, not a symgrad.optim optimizer")
    if not optimizers:
        raise DeclarationError("give at least one optimizer")
    return dict(optimizers)


def _path(model, start, optimizer, steps, tol):
    """The points a run visits (a callback copies each one) and its result or DivergenceError."""
    points = [start.copy()]
    try:
        result = minimize(model, start.copy(), optimizer=optimizer, max_iter=steps, tol=tol,
                          callbacks=[lambda info: points.append(info.theta.copy())])
    except DivergenceError as error:
        result = error
    return np.array(points), result


def _bounds(bounds, paths, results, start):
    if bounds is not None:
        (xlow, xhigh), (ylow, yhigh) = bounds
        if not (xlow < xhigh and ylow < yhigh):
            raise DeclarationError(f"bounds must be ((xmin, xmax), (ymin, ymax)) with min < max, "
                                   f"got {bounds}")
        return (float(xlow), float(xhigh)), (float(ylow), float(yhigh))
    # A diverging path would stretch the box to its last, huge point: leave those out.
    kept = [p for label, p in paths.items() if not isinstance(results[label], DivergenceError)]
    points = np.concatenate([start[None], *kept])
    points = points[np.all(np.isfinite(points), axis=1)]
    low, high = points.min(axis=0), points.max(axis=0)
    width = np.maximum(high - low, 0.2 * np.maximum(np.abs(start), 1.0))
    margin = 0.12 * width
    centre = (low + high) / 2
    return tuple((float(c - w / 2 - m), float(c + w / 2 + m)) for c, w, m in zip(centre, width, margin,
                                                                               strict=True))


def _pair(point) -> str:
    return ", ".join(f"{v:.3g}" for v in point)


def _legend(label: str, outcome) -> str:
    if isinstance(outcome, DivergenceError):
        return f"{label}: diverged at step {outcome.step}"
    return f"{label}: f = {outcome.loss:.2g} after {outcome.n_iter} steps"
