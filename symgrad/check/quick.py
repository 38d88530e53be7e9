"""Quick checks for code that checks as it goes: ``compile(check=True)``, training loops.

``quick_check`` costs one gradient and at most 2·32 + 1 loss evaluations
(plus 4 for each row that needs a second look): central differences for
every parameter of a model with at most 32, else along 8 random directions
(fixed seed, so repeated calls are comparable).
``check_compiled`` is what ``model.compile(check=True)`` runs: a quick check
at a random point, on a small random batch for a model with data.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import EvaluationError, SymgradWarning
from .gradient import run_check
from .objective import as_objective
from .report import GradientReport

__all__ = ["quick_check", "check_compiled", "random_point", "QUICK_FULL_LIMIT", "BATCH_ROWS"]

#: Up to this many parameters a quick check looks at each one; above, at 8 directions.
QUICK_FULL_LIMIT = 32
#: Rows of the random batch ``compile(check=True)`` checks a model with data on.
BATCH_ROWS = 8


def quick_check(compiled, theta, X=None, T=None, *, seed: int = 0) -> GradientReport:
    """A cheap central-difference check of ``compiled``'s gradient at ``theta``.

    Returns the report without raising (call ``.assert_ok()`` to raise) and
    without the float32 warning of :func:`symgrad.gradcheck`, so a training loop
    can call it every N steps.
    """
    objective = as_objective(compiled, theta, X, T)
    mode = "full" if objective.n <= QUICK_FULL_LIMIT else "projection"
    return run_check(objective, theta, method="central", mode=mode, seed=seed, warn=False)


def random_point(compiled, seed: int = 0):
    """``(theta, X, T)``: θ and inputs uniform in [-1, 1], targets uniform in [0.1, 0.9]
    (valid for cross-entropy and squared losses alike), ``BATCH_ROWS`` rows; X and T
    are None for a data-free objective. If the loss or gradient is not finite
    there, the absolute values are tried (logarithms and square roots of
    parameters or inputs need positive numbers)."""
    rng = np.random.default_rng(seed)
    layout, dtype = compiled.layout, compiled.dtype
    theta = rng.uniform(-1.0, 1.0, len(layout.params)).astype(dtype)
    X = T = None
    if layout.inputs:
        X = rng.uniform(-1.0, 1.0, (BATCH_ROWS, len(layout.inputs))).astype(dtype)
    if layout.targets:
        T = rng.uniform(0.1, 0.9, (BATCH_ROWS, len(layout.targets))).astype(dtype)
    for candidate in ((theta, X, T), (np.abs(theta), None if X is None else np.abs(X), T)):
        loss, grad = compiled.loss_and_grad(*candidate)
        if np.isfinite(loss) and np.all(np.isfinite(grad)):
            return candidate
    raise EvaluationError("compile(check=True) found no random point where the loss and gradient are finite; "
                          "call sg.gradcheck(kernels, theta, X, T) at a point of your choice")


def check_compiled(compiled, seed: int = 0) -> GradientReport:
    """The quick check at :func:`random_point`; raises GradientCheckError on failure."""
    if compiled.dtype == np.float32:
        warnings.warn("compile(check=True) with dtype='float32' checks with float32's loose tolerances; "
                      "float64 is the reliable check", SymgradWarning, stacklevel=3)
    theta, X, T = random_point(compiled, seed)
    return quick_check(compiled, theta, X, T, seed=seed).assert_ok()
