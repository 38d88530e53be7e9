"""What every picture shares: the matplotlib import, figures, saving, colours, levels.

matplotlib is imported here, on first use, never when :mod:`symgrad.viz` is
imported; without it every picture raises ``ImportError`` with the install
hint. Figures are plain ``matplotlib.figure.Figure`` objects, not pyplot
figures: they are rendered by Agg when saved, need no display, hold no
global state and are freed like any object.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DeclarationError

__all__ = ["INSTALL_HINT", "Picture", "require_matplotlib", "new_figure", "begin", "check_path", "finish",
           "ROLE_COLORS", "series_colors", "contour_levels", "level_norm"]

INSTALL_HINT = 'pip install "symgrad[viz]"'

#: Fill colour of a graph node per leaf role; ``intermediate`` is every op node.
ROLE_COLORS = {
    "param": "#f4a261",
    "input": "#8ecae6",
    "target": "#95d5b2",
    "variable": "#cdb4db",
    "constant": "#d9d9d9",
    "intermediate": "#ffffff",
}

#: File suffixes ``path=`` accepts, and the format each is written in.
SAVE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def require_matplotlib():
    """``matplotlib`` itself, or an ImportError that says how to install it."""
    try:
        import matplotlib
        import matplotlib.figure  # noqa: F401  (the Figure class every picture uses)
    except ImportError as error:
        raise ImportError(f"symgrad.viz draws with matplotlib, which is not installed: {INSTALL_HINT}") \
            from error
    return matplotlib


def new_figure(width: float, height: float, dpi: float | None = None):
    """A detached Figure with constrained layout (labels and legends do not overlap)."""
    matplotlib = require_matplotlib()
    return matplotlib.figure.Figure(figsize=(width, height), dpi=dpi, layout="constrained")


def check_path(path) -> Path | None:
    """``path`` as a Path whose suffix names a picture format (checked before any work)."""
    if path is None:
        return None
    path = Path(path)
    if path.suffix.lower() not in SAVE_FORMATS:
        raise DeclarationError(f"path must end in one of {', '.join(SAVE_FORMATS)}, got {str(path)!r}")
    return path


def begin(path) -> Path | None:
    """What every picture does first: fail now if matplotlib or the file suffix is wrong,
    not after the objective has been evaluated or trained."""
    require_matplotlib()
    return check_path(path)


def finish(figure, path):
    """Save ``figure`` to ``path`` (format from the suffix) when one is given; return it."""
    path = check_path(path)
    if path is not None:
        figure.savefig(path, format=SAVE_FORMATS[path.suffix.lower()], dpi=120)
    return figure


@dataclass
class Picture:
    """A picture and the numbers it shows: ``figure`` is the matplotlib Figure."""

    figure: object

    def save(self, path) -> Path:
        """Write the figure to ``path`` (``.png``, ``.svg`` or ``.pdf``)."""
        finish(self.figure, path)
        return Path(path)

    def _repr_png_(self) -> bytes:
        # Lets a notebook show the result object itself.
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


def series_colors(count: int) -> list:
    """``count`` distinguishable colours (tab10, then tab20 for more)."""
    matplotlib = require_matplotlib()
    cmap = matplotlib.colormaps["tab10" if count <= 10 else "tab20"]
    return [cmap(k % cmap.N) for k in range(count)]


def contour_levels(values: np.ndarray, levels="auto", count: int = 20) -> np.ndarray:
    """Contour levels for ``values`` (non-finite entries ignored).

    ``"log"`` spaces them geometrically above the minimum, which is what a
    valley such as Rosenbrock's needs: linear levels put all lines on the
    walls and none on the floor. ``"auto"`` takes log levels when more than a
    fifth of the values lie below the first linear level (a flat floor with
    steep walls), else linear ones. An int is that many linear levels; an
    array is used as it is.
    """
    if not isinstance(levels, str):
        if isinstance(levels, (int, np.integer)) and not isinstance(levels, bool):
            return _linear(values, int(levels))
        return np.asarray(levels, dtype=float)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise DeclarationError("the objective is not finite anywhere on the grid; choose other bounds")
    low, spread = float(finite.min()), float(finite.max() - finite.min())
    if levels == "auto":
        floor = np.mean(finite < low + spread / count) if spread > 0 else 0.0
        levels = "log" if floor > 0.2 else "linear"
    if levels == "linear":
        return _linear(values, count)
    if levels != "log":
        raise DeclarationError(f"levels must be 'auto', 'log', 'linear', a count or an array, got {levels!r}")
    if spread <= 0:
        return np.array([low, low + 1.0])
    return low + np.geomspace(spread * 1e-5, spread, count)


def level_norm(levels: np.ndarray):
    """A colour scale with one colour band per contour band: geometric levels under a
    linear scale would paint the whole floor of a valley one colour."""
    from matplotlib.colors import BoundaryNorm

    return BoundaryNorm(levels, 256, extend="both")


def _linear(values: np.ndarray, count: int) -> np.ndarray:
    finite = values[np.isfinite(values)]
    low, high = float(finite.min()), float(finite.max())
    if high <= low:
        high = low + 1.0
    return np.linspace(low, high, count)
