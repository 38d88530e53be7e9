"""rosenbrock_adam: training steps per second of ``sg.minimize`` with Adam on the Rosenbrock function.

Every peer runs torch's Adam (``lr=1e-2``, betas ``(0.9, 0.999)``, eps
``1e-8``) on ``(1 - x)**2 + 100 (y - x**2)**2`` from ``(-1.5, 2)`` for 20,000
steps in float64 (``benchmarks/baselines/rosenbrock_adam.py``):

- **symgrad fused**: ``sg.minimize(expr, x0={x: -1.5, y: 2.0},
  optimizer=sg.optim.Adam(lr=1e-2), max_iter=20000, tol=0)``, which runs the
  steps inside one compiled function;
- **symgrad python**: the same with ``fused=False``: a Python loop calling
  the same numba kernels once per step;
- **numba loop**: Adam and the analytic gradient written by hand in one
  ``@njit`` function (``benchmarks/baselines/numba_train.py``);
- **torch**: ``torch.optim.Adam`` stepping a 2-element float64 tensor,
  autograd for the gradient, the loop in Python;
- **jax fori_loop**: Adam written with ``jax.numpy`` and ``jax.grad``, all
  steps in one jitted ``lax.fori_loop``; **jax jit-step**: the same step
  jitted and called from a Python loop;
- **pytensor**: one compiled PyTensor function with the Adam updates on
  shared variables, called from a Python loop.

Each peer is timed in a fresh process of its own, with every library's
thread pool set to one thread (``benchmarks/training_child.py``).
Building, compiling and a first 2,000-step training come before any clock
runs (the JSON keeps them as ``setup_s``). steps/s counts only the time
inside each training's loop: for symgrad ``FitResult.elapsed``, which
excludes compiling; "overhead ms" is what each training call cost on top
(for ``sg.minimize(expr)``: building the model from the expression,
finding the cached kernels, the result). A timed run repeats whole
trainings until it has lasted 0.5 s; each process makes up to 3 runs (fewer
once 10 s have passed), one process per peer and repeat (3 repeats), the
peers visited round-robin; steps/s is the median over the runs and
"x symgrad" that over symgrad fused's. ``--quick``: one repeat, one run of
0.1 s. "other load" is the median number of cores other processes kept
busy during the runs.

**Answers.** Adam on this valley amplifies rounding differences once it is
near the minimum (``python -m benchmarks.rosenbrock_sensitivity``): 902 runs
whose start differs by up to 3e-14 relative, or whose arithmetic is ordered
differently, agree to 3e-13 after 2,000 steps, when the iterate is at about
(0.91, 0.83), but end up to 2.3e-3 apart at step 20,000, all near (1, 1).
So each peer is checked twice against symgrad fused: "err check" after
2,000 steps must be at most 1e-11 relative (largest difference over the
largest entry; placing eps inside the square root instead, a different
algorithm, already differs by 1.1e-9 there), and "err end" after 20,000
steps at most 1e-2.
symgrad python must equal symgrad fused bit for bit at both points (the
driver's claim). The targets: symgrad fused at least 0.5x the numba loop and
5,000x PyTorch; symgrad python at least 10x PyTorch.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import training
from ..baselines.rosenbrock_adam import PEERS
from ..harness import Settings

TITLE = "rosenbrock_adam: Adam on the Rosenbrock function, 20,000 steps from (-1.5, 2), steps/s (float64)"
STEPS = 20_000
CHECK_STEPS = 2_000
REFERENCE = "symgrad fused"
TOLERANCES = {"check": 1e-11, "end": 1e-2}
EXACT = ("symgrad python",)
TARGETS = (
    training.Target("symgrad fused", "numba loop", 0.5),
    training.Target("symgrad fused", "torch", 5000.0),
    training.Target("symgrad python", "torch", 10.0),
)
MIN_RUN_S, QUICK_MIN_RUN_S = 0.5, 0.1
RUNS_PER_PROCESS = 3
BUDGET_S = 10.0

__all__ = ["PEERS", "run"]


def run(settings: Settings, steps: int = STEPS, check_steps: int = CHECK_STEPS,
        peers: Sequence[str] | None = None, min_run_s: float | None = None,
        isolate: bool = True) -> list[dict]:
    """One row per peer. ``isolate=False`` runs the peers in this process (tests)."""
    chosen = list(PEERS) if peers is None else [p for p in PEERS if p in peers]
    if REFERENCE not in chosen or (peers is not None and set(peers) - set(PEERS)):
        raise ValueError(f"peers must include {REFERENCE!r} and come from {list(PEERS)}; got {peers}")
    spec = {
        "problem": "rosenbrock_adam",
        "steps": steps,
        "check_steps": check_steps,
        "min_run_s": min_run_s or (QUICK_MIN_RUN_S if settings.quick else MIN_RUN_S),
        "runs": 1 if settings.quick else RUNS_PER_PROCESS,
        "budget_s": BUDGET_S,
        "threads": 1,
    }
    results, skipped = training.measure_peers(spec, {p: PEERS[p] for p in chosen}, settings, isolate)
    return training.rows(results, skipped, REFERENCE, {"steps": steps, "check_steps": check_steps},
                         TOLERANCES, TARGETS, EXACT)


COLUMNS = (("steps", lambda r: f"{r['steps']:,}"),) + training.COLUMNS
