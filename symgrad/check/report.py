"""``GradientReport``: what a gradient or Hessian check found, entry by entry.

Numbers are numpy arrays for programs (``report.exact``, ``report.rel_err``,
...), ``to_dict()`` gives plain Python for JSON, the text table is the repr
in a terminal and notebooks get HTML and LaTeX. ``assert_ok()`` raises
:class:`~symgrad.errors.GradientCheckError` naming the worst entries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..errors import DeclarationError, GradientCheckError
from . import render

__all__ = ["GradientReport", "Entry", "STATUSES"]

#: Every status an entry can have (see symgrad.check.probe for the rule).
STATUSES = ("ok", "kink", "unresolved", "FAIL")


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class Entry(NamedTuple):
    """One row of a report."""

    name: str
    index: int
    theta: float
    step: float
    exact: float
    numerical: float
    abs_err: float
    rel_err: float
    status: str
    note: str


@dataclass(frozen=True, eq=False, repr=False)
class GradientReport:
    """The result of :func:`symgrad.gradcheck` or :func:`symgrad.hesscheck`.

    Attributes:
        kind: ``"gradient"`` or ``"hessian"``.
        method, title: the method's name (``"central"``) and description.
        mode: ``"full"``, ``"subset"`` or ``"projection"``.
        dtype: the dtype of the checked kernels.
        names: one label per row: a parameter (``w1``), a direction (``v1``)
            or a Hessian entry (``w1,w2``).
        index: the parameter index of each row (direction number in projection mode).
        theta: the parameter's value per row (nan for directions).
        step: the finite-difference step h per row.
        exact, numerical: the compared values.
        status: ``ok``, ``kink``, ``unresolved`` or ``FAIL`` per row.
        notes: why a row is not plainly ok.
        loss: J(θ); ``loss_plus``/``loss_minus``: J(θ ± h·u) per row (nan if not evaluated).
        rtol, atol: the tolerances; ``floor = atol/rtol`` is the relative error's floor.
        n_params: parameters of the objective; ``n_evaluations``: loss evaluations
            (one compiled loss call over the batch each); ``n_gradients``: gradient
            (or Hessian) evaluations.
        seed: the seed of the random choices (None when nothing was random).
        directions: the projection mode's directions, one row each (else None).
    """

    kind: str
    method: str
    title: str
    mode: str
    dtype: np.dtype
    names: tuple[str, ...]
    index: np.ndarray
    theta: np.ndarray
    step: np.ndarray
    exact: np.ndarray
    numerical: np.ndarray
    status: tuple[str, ...]
    notes: tuple[str, ...]
    loss: float
    loss_plus: np.ndarray
    loss_minus: np.ndarray
    rtol: float
    atol: float
    n_params: int
    n_evaluations: int
    n_gradients: int
    seed: int | None = None
    directions: np.ndarray | None = None
    latex_names: dict[str, str] = field(default_factory=dict)

    # -- numbers -----------------------------------------------------------------
    @property
    def floor(self) -> float:
        """The relative error's denominator never drops below this (``atol / rtol``)."""
        return self.atol / self.rtol

    @property
    def abs_err(self) -> np.ndarray:
        return np.abs(self.exact - self.numerical)

    @property
    def rel_err(self) -> np.ndarray:
        """``|exact − numerical| / max(|exact|, |numerical|, floor)`` (nan where the loss was not finite)."""
        scale = np.maximum(np.maximum(np.abs(self.exact), np.abs(self.numerical)), self.floor)
        with np.errstate(invalid="ignore"):
            return np.where(np.isfinite(self.numerical), self.abs_err / scale, np.nan)

    @property
    def passed(self) -> np.ndarray:
        """Per row: not a failure (ok, kink or unresolved)."""
        return np.array([s != "FAIL" for s in self.status], dtype=bool)

    @property
    def ok(self) -> bool:
        """No row failed."""
        return bool(self.passed.all())

    def _names_with(self, status: str) -> list[str]:
        return [n for n, s in zip(self.names, self.status, strict=True) if s == status]

    @property
    def failures(self) -> list[str]:
        return self._names_with("FAIL")

    @property
    def kinks(self) -> list[str]:
        return self._names_with("kink")

    @property
    def unresolved(self) -> list[str]:
        return self._names_with("unresolved")

    def _smooth(self) -> np.ndarray:
        # A kink's disagreement is expected and an unresolved estimate says nothing: the maxima
        # are over the rows finite differences decided (ok or FAIL).
        return np.array([s in ("ok", "FAIL") for s in self.status], dtype=bool)

    @property
    def max_abs_err(self) -> float:
        smooth = self._smooth()
        return float(self.abs_err[smooth].max()) if smooth.any() else 0.0

    @property
    def max_rel_err(self) -> float:
        smooth = self._smooth()
        return float(self.rel_err[smooth].max()) if smooth.any() else 0.0

    # -- rows --------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.names)

    def _entry(self, k: int) -> Entry:
        return Entry(self.names[k], int(self.index[k]), float(self.theta[k]), float(self.step[k]),
                     float(self.exact[k]), float(self.numerical[k]), float(self.abs_err[k]),
                     float(self.rel_err[k]), self.status[k], self.notes[k])

    def __iter__(self):
        return (self._entry(k) for k in range(len(self)))

    def __getitem__(self, key: str | int) -> Entry:
        """The row named ``key`` (a parameter's name, ``v1``, ``w1,w2``) or at position ``key``."""
        if isinstance(key, (int, np.integer)):
            return self._entry(range(len(self))[key])
        try:
            return self._entry(self.names.index(str(key)))
        except ValueError:
            raise KeyError(f"no row {key!r} in this report; rows: {', '.join(self.names[:8])}"
                           f"{', …' if len(self) > 8 else ''}") from None

    def worst(self, k: int = 5) -> list[Entry]:
        """The ``k`` rows with the largest relative error, failures first."""
        order = sorted(range(len(self)), key=lambda j: (self.status[j] != "FAIL", -self.rel_err[j]))
        return [self._entry(j) for j in order[:k]]

    # -- views -------------------------------------------------------------------
    def _header(self) -> str:
        what = {"gradient": "gradient check", "hessian": "Hessian check"}[self.kind]
        n = self.n_params
        if self.mode == "projection":
            scope = f"{len(self)} random directions over {n} parameters"
        elif self.kind == "hessian":
            scope = f"{len(self)} entries of the {n}×{n} Hessian (upper triangle)"
        else:
            scope = f"{len(self)} of {n} parameters" + (" (random subset)" if self.mode == "subset" else "")
        calls = _plural(self.n_gradients, "gradient" if self.kind == "gradient" else "gradient/Hessian call")
        evaluations = _plural(self.n_evaluations, "loss evaluation")
        return f"{what}: {self.title}, {self.dtype}, {scope}; {evaluations}, {calls}"

    def _rows(self, limit: int | None) -> list[int]:
        if limit is None or len(self) <= limit:
            return list(range(len(self)))
        keep = sorted(range(len(self)), key=lambda j: (self.status[j] == "ok", -self.rel_err[j]))[:limit]
        return sorted(keep)

    def _verdict(self) -> str:
        counts = {s: self.status.count(s) for s in STATUSES if self.status.count(s)}
        if set(counts) == {"ok"}:
            tally = f"all {len(self)} ok"
        else:
            tally = ", ".join(f"{n} {s}" for s, n in counts.items())
        return (f"max abs err {render.error(self.max_abs_err)}, max rel err {render.error(self.max_rel_err)}"
                f": {tally}")

    def _footer(self, shown: list[int]) -> list[str]:
        lines = [f"rel err = |exact − numerical| / max(|exact|, |numerical|, {render.error(self.floor)}); "
                 f"ok when rel err ≤ rtol = {self.rtol:g} (atol {self.atol:g})", self._verdict()]
        lines += [f"{self.names[j]}: {self.status[j]} — {self.notes[j]}" for j in shown if self.notes[j]]
        if len(shown) < len(self):
            lines.append(f"… {len(self) - len(shown)} more rows, all ok; report.table(limit=None) shows all")
        if self.seed is not None:
            lines.append(f"seed {self.seed} (pass seed={self.seed} to repeat)")
        return lines

    def _label(self) -> str:
        if self.mode == "projection":
            return "direction"
        return "entry" if self.kind == "hessian" else "parameter"

    def _errors_table(self, limit: int | None) -> render.Table:
        shown = self._rows(limit)
        rows = [(str(self.index[j]), self.names[j], render.number(self.exact[j]),
                 render.number(self.numerical[j]), render.error(self.abs_err[j]),
                 render.error(self.rel_err[j]), render.error(self.step[j]), self.status[j]) for j in shown]
        headers = ("#", self._label(), "exact", "numerical", "abs err", "rel err", "step", "status")
        return render.Table(self._header(), headers, rows, "rlrrrrrl", self._footer(shown), status=7,
                            latex_names=self.latex_names)

    def _perturbations_table(self, limit: int | None) -> render.Table:
        shown = self._rows(limit)
        rows = []
        for j in shown:
            h = self.step[j]
            rows.append((str(self.index[j]), self.names[j], render.number(self.theta[j]), render.error(h),
                         render.number(self.loss_plus[j]), render.number(self.loss_minus[j]),
                         render.number((self.loss_plus[j] - self.loss) / h),
                         render.number((self.loss - self.loss_minus[j]) / h), render.number(self.exact[j]),
                         self.status[j]))
        u = "v" if self.mode == "projection" else "e"
        headers = ("#", self._label(), "θ", "h", f"J(θ+h·{u})", f"J(θ−h·{u})", "(J(θ+h)−J(θ))/h",
                   "(J(θ)−J(θ−h))/h", "exact", "status")
        title = f"{self._header()}\nJ(θ) = {render.number(self.loss)}; each row perturbs θ along one {u}"
        return render.Table(title, headers, rows, "rlrrrrrrrl", self._footer(shown), status=9,
                            latex_names=self.latex_names)

    def table(self, view: str = "errors", limit: int | None = 20) -> str:
        """A text table. ``view="errors"`` compares the values; ``view="perturbations"``
        is the lecture notes' numerical-gradient table: per parameter θᵢ, the step h,
        J(θ ± h), the one-sided slopes and the exact value. ``limit`` rows at most
        (failures and the largest errors first); ``None`` for all."""
        views = {"errors": self._errors_table, "perturbations": self._perturbations_table}
        if view not in views:
            raise DeclarationError(f"view must be one of {', '.join(views)}; got {view!r}")
        if view == "perturbations" and self.kind != "gradient":
            raise DeclarationError("the perturbation view shows loss values; a Hessian check has none")
        return render.text(views[view](limit))

    def __str__(self) -> str:
        return self.table()

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return render.to_html(self._errors_table(20))

    def _repr_latex_(self) -> str:
        return render.to_latex(self._errors_table(20))

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))

    def to_dict(self) -> dict:
        """Plain Python (JSON-ready: nan becomes None)."""
        def plain(x):
            return None if isinstance(x, float) and math.isnan(x) else x

        return {
            "kind": self.kind, "method": self.method, "mode": self.mode, "dtype": str(self.dtype),
            "rtol": self.rtol, "atol": self.atol, "floor": self.floor, "ok": self.ok,
            "max_abs_err": self.max_abs_err, "max_rel_err": self.max_rel_err, "loss": self.loss,
            "n_params": self.n_params, "n_evaluations": self.n_evaluations, "n_gradients": self.n_gradients,
            "seed": self.seed,
            "entries": [{k: plain(v) for k, v in e._asdict().items()} for e in self],
        }

    def assert_ok(self) -> GradientReport:
        """Raise :class:`~symgrad.errors.GradientCheckError` if a row failed; else return the report."""
        if self.ok:
            return self
        worst = self.worst(5)
        lines = [f"  {e.name}: exact {render.number(e.exact)}, numerical {render.number(e.numerical)}, "
                 f"rel err {render.error(e.rel_err)}" + (f" ({e.note})" if e.note else "")
                 for e in worst if e.status == "FAIL"]
        n = len(self.failures)
        message = (f"{self.kind} check failed ({self.title}, {self.dtype}): {n} of {len(self)} "
                   f"{'entry disagrees' if n == 1 else 'entries disagree'} with finite differences "
                   f"beyond rtol {self.rtol:g} (atol {self.atol:g}); worst:\n" + "\n".join(lines))
        raise GradientCheckError(message, report=self)
