"""The loss along random directions: J(θ + aθ₁) and J(θ + aθ₁ + bθ₂).

Lecture notes 001: a cost over many parameters cannot be drawn, but its
restriction to a line or a plane through a point θ can. Pick random
directions θ₁ (and θ₂), evaluate the objective along them with the
compiled loss kernel, and draw the curve or the contours.

How a random direction is scaled (``scale=``) decides what ``a`` means:

* ``"unit"`` (default): the direction has length 1, so ``a`` is the
  Euclidean distance from θ in parameter space.
* ``"norm"``: the direction has the length ‖θ‖, so ``a = 1`` moves as far
  as θ is from the origin.
* ``"param"``: entry i of a N(0, 1) draw is multiplied by |θᵢ|, so each
  parameter moves in proportion to its own size (and a parameter that is
  exactly 0, such as a zero bias, stays where it is). For models declared
  with one scalar symbol per parameter this is the per-parameter form of
  filter normalisation, and the option to use for networks.
* ``"filter"``: filter normalisation (Li et al., 2018): each group of
  entries (``groups=``, e.g. the weights into one unit) is rescaled to the
  norm of θ in that group. symgrad's parameters are scalar symbols, so
  without ``groups`` every parameter is its own group, and the direction
  becomes ±|θᵢ|: only the signs stay random. Prefer ``"param"`` then.
* ``"none"``: the draw (or the directions given) as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..errors import DeclarationError
from ._inputs import LossEvaluator, as_compiled, as_theta
from ._style import Picture, begin, contour_levels, finish, level_norm, new_figure, series_colors

__all__ = ["Landscape", "landscape_1d", "landscape_2d", "random_directions", "SCALES"]

SCALES = ("unit", "norm", "param", "filter", "none")


@dataclass
class Landscape(Picture):
    """The objective on a line or a plane through ``theta``, and its picture.

    Attributes:
        figure: the matplotlib Figure.
        theta: the centre point θ.
        directions: the scaled directions, one per row (θ₁, θ₂, ...).
        a: the step sizes along ``directions[0]`` (the x axis).
        b: along ``directions[1]`` for a plane, else ``None``.
        values: on a line, ``values[k, i] = J(θ + a[i]·directions[k])``, one row per
            direction; on a plane, ``values[j, i] = J(θ + a[i]·θ₁ + b[j]·θ₂)`` (rows follow
            ``b``, as ``matplotlib.contour`` expects).
    """

    theta: np.ndarray
    directions: np.ndarray
    a: np.ndarray
    b: np.ndarray | None
    values: np.ndarray


def random_directions(theta, count: int = 1, *, scale: str = "unit", groups=None, seed=0,
                      orthogonal: bool = True, params=None) -> np.ndarray:
    """``count`` random directions for ``theta``, one per row, scaled as ``scale`` says.

    Args:
        theta: the point (a flat array).
        scale: ``"unit"``, ``"norm"``, ``"param"``, ``"filter"`` or ``"none"`` (module docstring).
        groups: for ``"filter"``: lists of parameter indices, or of symbols when
            ``params`` names them; entries in no group are left as drawn.
        seed: an int or a ``numpy.random.Generator``; the same seed gives the same directions.
        orthogonal: make the draws orthogonal (Gram-Schmidt) before scaling; in a
            few dimensions two random directions can be nearly parallel.

    >>> d = random_directions(np.array([3.0, 0.0, -1.0]), 2, scale="param", seed=0)
    >>> print(d.shape, bool(np.all(d[:, 1] == 0)))   # a zero parameter stays put
    (2, 3) True
    """
    theta = np.asarray(theta, dtype=np.float64).reshape(-1)
    n = theta.size
    if scale not in SCALES:
        raise DeclarationError(f"scale must be one of {', '.join(map(repr, SCALES))}, got {scale!r}")
    if int(count) != count or count < 1:
        raise DeclarationError(f"count must be a positive integer, got {count!r}")
    if orthogonal and count > n:
        raise DeclarationError(f"{count} orthogonal directions need at least {count} parameters, "
                               f"the model has {n}")
    rng = np.random.default_rng(seed)
    draws = rng.standard_normal((int(count), n))
    if orthogonal:
        draws = _orthogonalised(draws)
    return np.stack([scale_direction(d, theta, scale, groups, params) for d in draws])


def scale_direction(direction, theta, scale: str = "unit", groups=None, params=None) -> np.ndarray:
    """One direction scaled relative to ``theta`` (see the module docstring)."""
    d = np.array(direction, dtype=np.float64).reshape(-1)
    theta = np.asarray(theta, dtype=np.float64).reshape(-1)
    if d.shape != theta.shape:
        raise DeclarationError(f"a direction has {d.size} entries, theta has {theta.size}")
    if scale == "unit":
        d = d / _nonzero_norm(d, "the direction")
    elif scale == "norm":
        length = _nonzero_norm(theta, "theta (scale='norm' scales to its length)")
        d = d * (length / _nonzero_norm(d, "the direction"))
    elif scale == "param":
        d = d * np.abs(theta)
    elif scale == "filter":
        for group in _groups(groups, theta.size, params):
            size = np.linalg.norm(d[group])
            d[group] = d[group] * (np.linalg.norm(theta[group]) / size) if size > 0 else 0.0
    elif scale != "none":
        raise DeclarationError(f"scale must be one of {', '.join(map(repr, SCALES))}, got {scale!r}")
    if not np.any(d):
        raise DeclarationError(f"the direction scaled with scale={scale!r} is zero (theta is zero where "
                               f"it matters); use scale='unit' or another point")
    return d


def _nonzero_norm(v: np.ndarray, what: str) -> float:
    size = float(np.linalg.norm(v))
    if size == 0.0:
        raise DeclarationError(f"{what} has length 0 and cannot be rescaled")
    return size


def _orthogonalised(draws: np.ndarray) -> np.ndarray:
    q, r = np.linalg.qr(draws.T)
    # QR fixes each column's sign arbitrarily; keep the draw's own orientation.
    signs = np.where(np.diag(r) < 0, -1.0, 1.0)
    return (q * signs).T * np.linalg.norm(draws, axis=1)[:, None]


def _groups(groups, n: int, params) -> list[np.ndarray]:
    if groups is None:
        return [np.array([i]) for i in range(n)]
    index = {p: i for i, p in enumerate(params or ())}
    result = []
    for group in groups:
        ids = [index[g] if isinstance(g, sp.Basic) and g in index else g for g in group]
        if not all(isinstance(i, (int, np.integer)) and 0 <= i < n for i in ids):
            raise DeclarationError(f"a group lists {list(group)}; give parameter indices below {n} "
                                   f"or parameter symbols")
        result.append(np.array(ids, dtype=int))
    return result


def _directions(directions, count: int, theta, compiled, scale, groups, seed) -> np.ndarray:
    params = compiled.layout.params
    if directions is None:
        return random_directions(theta, count, scale=scale, groups=groups, seed=seed, params=params)
    rows = [as_theta(d, compiled, "a direction") for d in _direction_rows(directions)]
    if len(rows) != count:
        raise DeclarationError(f"expected {count} direction(s), got {len(rows)}")
    return np.stack([scale_direction(d, theta, scale, groups, params) for d in rows])


def _direction_rows(directions) -> list:
    """Given directions as a list of rows: one dict or 1-D array is one direction."""
    if isinstance(directions, dict):
        return [directions]
    if isinstance(directions, (list, tuple)) and directions and isinstance(directions[0], dict):
        return list(directions)
    return list(np.atleast_2d(np.asarray(directions, dtype=np.float64)))


def _steps(span, points: int, name: str) -> np.ndarray:
    if int(points) != points or points < 2:
        raise DeclarationError(f"{name} must be an integer >= 2, got {points!r}")
    low, high = (-float(span), float(span)) if np.ndim(span) == 0 else map(float, span)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise DeclarationError(f"span must be a positive number or a pair (low, high), got {span!r}")
    return np.linspace(low, high, int(points))


def _axis_name(direction: np.ndarray, params) -> str | None:
    # A direction along one coordinate axis is named after that parameter.
    nonzero = np.flatnonzero(direction)
    return str(params[nonzero[0]]) if nonzero.size == 1 else None


def _line_title(count: int, random: bool) -> str:
    if random:
        return "Loss along a random direction" if count == 1 else f"Loss along {count} random directions"
    return "Loss along the given direction" + ("s" if count > 1 else "")


def landscape_1d(objective, theta, X=None, T=None, *, directions=None, count: int = 1, span=1.0,
                 points: int = 51, scale: str = "unit", groups=None, seed=0, params=None, logy: bool = False,
                 title: str | None = None, path=None) -> Landscape:
    """The objective along random directions through ``theta``: J(θ + aθ₁) for a in ``span``.

    Args:
        objective: a Model, a CompiledModel or a data-free SymPy expression.
        theta: the point: an array, ``{symbol: value}`` or a FitResult.
        X, T: the data, for a model with inputs or targets.
        directions: given directions (arrays or ``{symbol: value}``), else ``count``
            random ones drawn from ``seed``.
        span: ``a`` runs over ``[-span, span]``, or over the pair given.
        points: how many values of ``a``.
        scale, groups: how directions are scaled (module docstring).
        logy: a logarithmic loss axis.
        path: also save the figure there (``.png``, ``.svg``, ``.pdf``).
    """
    begin(path)
    compiled = as_compiled(objective, params)
    theta = as_theta(theta, compiled)
    if directions is not None:
        count = len(_direction_rows(directions))
    d = _directions(directions, count, theta, compiled, scale, groups, seed)
    a = _steps(span, points, "points")
    evaluate = LossEvaluator(compiled, X, T)
    values = np.stack([evaluate(theta + a[:, None] * row) for row in d])

    figure = new_figure(6.4, 4.2)
    ax = figure.add_subplot()
    names = [_axis_name(row, compiled.layout.params) for row in d]
    for k, (row, color) in enumerate(zip(values, series_colors(len(d)), strict=True)):
        label = rf"$\theta_{{{k + 1}}}$" + (f" (along {names[k]})" if names[k] else "")
        ax.plot(a, row, color=color, lw=1.8, label=label)
    centre = evaluate(theta[None])[0]
    ax.plot([0.0], [centre], "o", color="black", ms=6, zorder=3, label=rf"$\theta$: J = {centre:.4g}")
    ax.axvline(0.0, color="0.7", lw=0.8, zorder=0)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("a")
    ax.set_ylabel(r"$J(\theta + a\,\theta_k)$" if len(d) > 1 else r"$J(\theta + a\,\theta_1)$")
    ax.set_title(title or _line_title(len(d), random=directions is None))
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    finish(figure, path)
    return Landscape(figure=figure, theta=theta, directions=d, a=a, b=None, values=values)


def landscape_2d(objective, theta, X=None, T=None, *, directions=None, span=1.0, points: int = 25,
                 scale: str = "unit", groups=None, seed=0, params=None, kind: str = "contour",
                 levels="auto", title: str | None = None, path=None) -> Landscape:
    """The objective over the plane J(θ + aθ₁ + bθ₂) of two random directions through ``theta``.

    Arguments as for :func:`landscape_1d`; ``directions`` is a pair; ``span`` is a number
    or a pair (low, high) for both axes, or one of each per axis, e.g. ``(3.0, (-1.0, 2.0))``;
    ``points`` an int or a pair.

    Args:
        kind: ``"contour"`` (filled contours with a colour bar) or ``"surface"`` (3-D).
        levels: contour levels: ``"auto"``, ``"log"``, ``"linear"``, a count or an array.
    """
    begin(path)
    if kind not in ("contour", "surface"):
        raise DeclarationError(f"kind must be 'contour' or 'surface', got {kind!r}")
    compiled = as_compiled(objective, params)
    theta = as_theta(theta, compiled)
    d = _directions(directions, 2, theta, compiled, scale, groups, seed)
    per_axis = isinstance(span, (list, tuple)) and len(span) == 2 and any(np.ndim(s) == 1 for s in span)
    spans = tuple(span) if per_axis else (span, span)
    counts = tuple(points) if np.ndim(points) == 1 else (points, points)
    a, b = _steps(spans[0], counts[0], "points"), _steps(spans[1], counts[1], "points")
    evaluate = LossEvaluator(compiled, X, T)
    grid = theta + a[None, :, None] * d[0] + b[:, None, None] * d[1]
    values = evaluate(grid)

    names = [_axis_name(row, compiled.layout.params) for row in d]
    xlabel = "a" + (f" (along {names[0]})" if names[0] else r" (along $\theta_1$)")
    ylabel = "b" + (f" (along {names[1]})" if names[1] else r" (along $\theta_2$)")
    figure = new_figure(6.4, 5.0)
    A, B = np.meshgrid(a, b)
    masked = np.ma.masked_invalid(values)
    centre = evaluate(theta[None])[0]
    if kind == "contour":
        ax = figure.add_subplot()
        chosen = contour_levels(values, levels)
        norm = level_norm(chosen)
        filled = ax.contourf(A, B, masked, levels=chosen, cmap="viridis", norm=norm, extend="both")
        ax.contour(A, B, masked, levels=chosen, colors="black", linewidths=0.4, alpha=0.5)
        figure.colorbar(filled, ax=ax, label="J", format="%.3g", ticks=_ticks(chosen))
        ax.plot([0.0], [0.0], "*", color="white", mec="black", ms=14, label=rf"$\theta$: J = {centre:.4g}")
        ax.legend(loc="upper right", fontsize="small")
    else:
        ax = figure.add_subplot(projection="3d")
        ax.plot_surface(A, B, np.where(np.isfinite(values), values, np.nan), cmap="viridis",
                        linewidth=0, antialiased=True, alpha=0.95)
        ax.scatter([0.0], [0.0], [centre], color="red", s=30, label=r"$\theta$")
        ax.set_zlabel("J")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title or (r"$J(\theta + a\,\theta_1 + b\,\theta_2)$"
                           + (" along two random directions" if directions is None else "")))
    finish(figure, path)
    return Landscape(figure=figure, theta=theta, directions=d, a=a, b=b, values=values)


def _ticks(levels: np.ndarray) -> np.ndarray:
    # Every level as a tick label would overlap; about six are readable.
    return levels[:: max(1, len(levels) // 6)]
