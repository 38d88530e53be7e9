"""logreg: training steps per second of ``sg.fit``, logistic regression on the breast-cancer data.

scikit-learn's breast-cancer set (569 samples, 30 features, each
standardised to mean 0 and standard deviation 1; target 1 for benign),
full-batch gradient descent on the mean binary cross-entropy with a fixed
rate 0.1 from ``theta = 0``, 2,000 steps in float64
(``benchmarks/baselines/logreg.py``):

- **symgrad fit**: the model declared with 31 scalar parameters
  (``w0..w29, b``), 30 scalar inputs (``x0..x29``) and a target ``t``, loss
  ``sg.losses.binary_cross_entropy(sg.sigmoid(w . x + b), t)``;
  ``sg.fit(model, X, T, optimizer=sg.optim.GD(lr=0.1), batch_size=None,
  max_iter=2000, tol=None, theta0=zeros)``, which runs the steps inside one
  compiled function; **symgrad python**: the same with ``fused=False``;
- **symgrad matrix fit**: the same model declared in matrix form
  (``benchmarks.baselines.logreg.matrix_model``): ``w = sg.Param("w", (1, 30))``,
  ``b = sg.Param("b", 1)``, ``x = sg.Input("x", 30)``, ``t = sg.Target("t", 1)``,
  loss ``sg.nn.binary_cross_entropy(w * x + b, t, logits=True)``, so the
  kernels work on blocks of samples as matrices; ``theta`` is laid out as
  before (``w`` then ``b``) and the ``sg.fit`` call is the same;
- **numba BLAS**: the gradient step written by hand in one ``@njit``
  function, ``np.dot`` (BLAS) for ``X w`` and ``X^T r`` and a loop over the
  samples for the sigmoid (``benchmarks/baselines/numba_train.py``); it
  computes only the gradient. **numba BLAS + loss** also computes the loss
  at every step, as ``sg.fit`` does (it records it in the history);
- **numpy**: the same step as array expressions;
- **torch**: autograd through ``binary_cross_entropy_with_logits`` and
  ``torch.optim.SGD``, the loop in Python;
- **jax fori_loop**: ``jax.grad`` of the mean ``softplus(z) - t z``, all steps
  in one jitted ``lax.fori_loop``.

The whole workload is skipped, with a message, when scikit-learn is not
installed; a peer whose library is missing is skipped with an install hint.
Timing is as in ``rosenbrock_adam``: a fresh process per peer and repeat,
one thread for every library's pool, compiling and a first 100-step
training before any clock runs, steps/s from the time inside the training
loop only (for symgrad ``FitResult.elapsed``), "overhead ms" what each
training call cost on top, runs of at least 0.5 s (``--quick``: 0.1 s), up
to 3 per process, 3 repeats, medians.

**Answers.** Gradient descent on this convex loss does not amplify
rounding differences: each peer's ``theta`` after 100 ("err check") and
after 2,000 steps ("err end") must agree with symgrad fit's to 1e-9
relative (largest difference over the largest entry); symgrad python must
equal symgrad fit bit for bit. The target: symgrad at least as fast as
JAX's ``fori_loop``, judged for both declarations (symgrad fit and symgrad
matrix fit).
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import training
from ..baselines.logreg import PEERS, SKLEARN_HINT, load
from ..flops import FlopCount
from ..harness import Settings

TITLE = ("logreg: logistic regression on breast cancer (569 x 30), full-batch GD, 2,000 steps, "
         "steps/s (float64)")
STEPS = 2_000
CHECK_STEPS = 100
REFERENCE = "symgrad fit"
TOLERANCES = {"check": 1e-9, "end": 1e-9}
EXACT = ("symgrad python",)
TARGETS = (training.Target("symgrad fit", "jax fori_loop", 1.0),
           training.Target("symgrad matrix fit", "jax fori_loop", 1.0))
MIN_RUN_S, QUICK_MIN_RUN_S = 0.5, 0.1
RUNS_PER_PROCESS = 3
BUDGET_S = 10.0
BREAST_CANCER = {"name": "breast_cancer"}

__all__ = ["PEERS", "SKLEARN_HINT", "run"]


def run(settings: Settings, steps: int = STEPS, check_steps: int = CHECK_STEPS,
        peers: Sequence[str] | None = None, data: dict | None = None, lr: float = 0.1,
        min_run_s: float | None = None, isolate: bool = True) -> list[dict]:
    """One row per peer. ``data`` (see ``benchmarks.baselines.logreg.load``) replaces the breast-cancer
    set, e.g. ``{"name": "synthetic", "samples": 40, "features": 3}``, or
    ``{"name": "breast_cancer", "features": 3}`` keeps the first three features (tests)."""
    chosen = list(PEERS) if peers is None else [p for p in PEERS if p in peers]
    if REFERENCE not in chosen or (peers is not None and set(peers) - set(PEERS)):
        raise ValueError(f"peers must include {REFERENCE!r} and come from {list(PEERS)}; got {peers}")
    data = dict(data or BREAST_CANCER)
    base = {"data": data["name"], "features": data.get("features"), "steps": steps,
            "check_steps": check_steps, "lr": lr}
    if data["name"] == "breast_cancer" and not training.installed("sklearn"):
        settings.note(f"  skipped: {SKLEARN_HINT}")
        return [training.skipped_row(base, peer, SKLEARN_HINT) for peer in chosen]
    base["shape"] = list(load(data)[0].shape)
    spec = {
        "problem": "logreg",
        "data": data,
        "lr": lr,
        "steps": steps,
        "check_steps": check_steps,
        "min_run_s": min_run_s or (QUICK_MIN_RUN_S if settings.quick else MIN_RUN_S),
        "runs": 1 if settings.quick else RUNS_PER_PROCESS,
        "budget_s": BUDGET_S,
        "threads": 1,
    }
    results, skipped = training.measure_peers(spec, {p: PEERS[p] for p in chosen}, settings, isolate)
    return training.rows(results, skipped, REFERENCE, base, TOLERANCES, TARGETS, EXACT)


def _data(row: dict) -> str:
    features = row["features"]
    return row["data"].replace("_", " ") + ("" if features is None else f" ({features} features)")


COLUMNS = (("data", _data), ("steps", lambda r: f"{r['steps']:,}")) + training.COLUMNS


def flops_per_step(samples: int, features: int) -> int:
    """FLOPs of one full-batch gradient step on ``samples`` (n) x ``features`` (d) data::

        z = X w + b          2 n d      a multiply and an add per entry of X (the bias is one of the adds)
        p = sigmoid(z)       4 n        negate, exp, add, divide
        r = p - t            n
        X^T r                2 n d      a multiply and an add per entry of X
        sum(r)               n          the bias's gradient
        theta -= lr g / n    3 (d + 1)  divide, multiply, subtract per parameter

    4 n d + 7 n + 3 (d + 1) in all: 72,356 on 569 x 30. The step does not need the loss, so it is not
    counted; the peers that compute it (symgrad fit records it, numba BLAS + loss) do more than this.
    """
    return 4 * samples * features + 7 * samples + 3 * (features + 1)


FLOPS = FlopCount(
    rate="steps_per_s", unit="step", after="steps/s", per_unit=lambda row: flops_per_step(*row["shape"]),
    what="one gradient step without the loss, counted in logreg.flops_per_step",
)
