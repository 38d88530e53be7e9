"""One peer of a training workload (``rosenbrock_adam``, ``logreg``), timed alone in a fresh interpreter.

``python -m benchmarks.training_child '<json spec>'`` prepares the named
peer (building, compiling, loading from caches), then runs one training of
``check_steps`` steps: its final ``theta`` is the check answer, and it
warms up whatever compiles on first use. Then it times ``runs`` runs; a run
repeats whole trainings of ``steps`` steps until it has lasted at least
``min_run_s``, and runs stop early once ``budget_s`` has passed (at least
one run is made). steps/s counts only the seconds each training spends in
its loop (for symgrad, ``FitResult.elapsed``); what a training costs
outside the loop (for ``sg.minimize``: building the model, finding the
cached kernels, the result) is reported per training as ``overhead_s``.
The first timed training's final ``theta`` is the end answer. It prints one
JSON object on its last line.

The parent sets the thread environment (``OMP_NUM_THREADS`` and friends)
before this interpreter starts, so that every library's thread pool has
the size the workload asked for.
"""

from __future__ import annotations

import importlib
import json
import sys
import time

from .cpu_load import OtherLoad
from .training import Trainer

__all__ = ["measure", "timed_runs"]

PROBLEMS = {"rosenbrock_adam": "benchmarks.baselines.rosenbrock_adam",
            "logreg": "benchmarks.baselines.logreg",
            "mlp_digits": "benchmarks.baselines.mlp_digits"}


def prepare(spec: dict) -> Trainer:
    module = importlib.import_module(PROBLEMS[spec["problem"]])
    return module.prepare(spec["peer"], spec)


def timed_runs(trainer: Trainer, steps: int, min_run_s: float, runs: int,
               budget_s: float) -> tuple[list, list]:
    """``(runs, theta of the first training)``; see the module docstring."""
    results, theta = [], None
    began = time.perf_counter()
    for _ in range(runs):
        trainings, seconds = 0, 0.0
        with OtherLoad() as load:
            start = time.perf_counter()
            while True:
                final, spent = trainer.train(steps)
                theta = final if theta is None else theta
                trainings += 1
                seconds += spent
                if time.perf_counter() - start >= min_run_s:
                    break
            wall = time.perf_counter() - start
        results.append({"steps_per_s": trainings * steps / seconds, "trainings": trainings,
                        "seconds": seconds, "overhead_s": max(0.0, wall - seconds) / trainings,
                        "other_load": load.cores})
        if time.perf_counter() - began >= budget_s:
            break
    return results, [float(v) for v in theta]


def measure(spec: dict) -> dict:
    """The peer's setup time, check answer, timed runs and end answer (or ``{"skipped": reason}``)."""
    start = time.perf_counter()
    try:
        trainer = prepare(spec)
        check, _ = trainer.train(spec["check_steps"])
    except ModuleNotFoundError as error:
        return {"skipped": f"{error.name} is not installed", "missing": error.name}
    setup_s = time.perf_counter() - start
    runs, final = timed_runs(trainer, spec["steps"], spec["min_run_s"], spec["runs"], spec["budget_s"])
    return {"setup_s": setup_s, "threads": trainer.threads, "note": trainer.note,
            "check_theta": [float(v) for v in check], "end_theta": final, "runs": runs}


if __name__ == "__main__":
    print(json.dumps(measure(json.loads(sys.argv[1]))))
