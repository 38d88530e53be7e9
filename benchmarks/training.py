"""What the training workloads (``rosenbrock_adam``, ``logreg``) share: timing peers, checking answers, rows.

A peer is a :class:`Trainer` built by the workload's module in
``benchmarks/baselines/``. Each peer is timed in a fresh process of its
own (``benchmarks/training_child.py``), one process per peer and repeat,
going round-robin over the peers, as ``grad_throughput`` does and for the
same reason: the thread pools of numba, OpenBLAS, PyTorch and XLA spin
while they wait and would take cores from the peer being timed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .timing import median

__all__ = ["Trainer", "Target", "HINTS", "THREAD_VARIABLES", "installed", "measure_peers", "rows",
           "skipped_row", "COLUMNS"]

ROOT = Path(__file__).resolve().parent.parent
#: The cold symgrad compile of the 31-parameter logistic model takes some seconds; torch's Rosenbrock
#: peer takes ~12 s per 20,000-step training.
CHILD_TIMEOUT_S = 600.0
#: How to get what a skipped peer needs, by the package it failed to import.
HINTS = {
    "torch": "PyTorch is not installed: pip install torch==2.13.0",
    "jax": "JAX is not installed: pip install jax",
    "pytensor": "PyTensor is not installed: pip install pytensor (its 3.0.7 pins numba<=0.65.1: "
                "reinstall numba==0.68.1 afterwards)",
    "scipy": "SciPy is not installed (numba's np.dot needs it): pip install scipy",
    "sklearn": "scikit-learn is not installed: pip install scikit-learn",
}
#: What sizes the thread pools of OpenMP, OpenBLAS, MKL and numba; each reads it when it loads.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
#: Environment of a child timed with one thread: every pool of every library it may load.
ONE_THREAD = {
    **dict.fromkeys(THREAD_VARIABLES, "1"),
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}


@dataclass
class Trainer:
    """``train(steps) -> (final theta, seconds in the training loop)``, starting afresh each call.

    ``threads``: what the peer may use (``None``: the library decides); ``note``: how it runs.
    """

    train: Callable[[int], tuple[np.ndarray, float]]
    threads: int | None
    note: str


@dataclass(frozen=True)
class Target:
    """``faster``'s steps/s must be at least ``ratio`` times ``slower``'s."""

    faster: str
    slower: str
    ratio: float


def installed(package: str | None) -> bool:
    return package is None or importlib.util.find_spec(package) is not None


def measure_peers(spec: dict, peers: Mapping[str, str | None], settings,
                  isolate: bool = True) -> tuple[dict, dict]:
    """``({peer: [child results]}, {peer: why skipped})``, round-robin over ``settings.repeat`` rounds.

    ``peers`` maps each peer to the package it needs. With ``isolate=False`` every peer runs in
    this process instead (tests: no timing claims, much faster).
    """
    skipped = {p: HINTS[need] for p, need in peers.items() if not installed(need)}
    for name, why in skipped.items():
        settings.note(f"  {name}: skipped ({why})")
    results = {p: [] for p in peers if p not in skipped}
    for round_ in range(settings.repeat):
        for peer in list(results):
            result = _child({**spec, "peer": peer}) if isolate else _in_process({**spec, "peer": peer})
            if "skipped" in result:
                need = peers[peer]
                if need is None or result["missing"].split(".")[0] != need:
                    raise RuntimeError(f"{peer}: {result['skipped']}")
                skipped[peer] = HINTS[need]
                settings.note(f"  {peer}: skipped ({skipped[peer]})")
                del results[peer]
                continue
            results[peer].append(result)
            speeds = ", ".join(f"{r['steps_per_s']:,.0f}" for r in result["runs"])
            settings.note(f"  [{round_ + 1}/{settings.repeat}] {peer}: {speeds} steps/s "
                          f"(setup {result['setup_s']:.2g} s)")
    return results, skipped


def _in_process(spec: dict) -> dict:
    from .training_child import measure

    return measure(spec)


def _child(spec: dict) -> dict:
    env = dict(os.environ)
    if spec.get("threads") == 1:
        env.update(ONE_THREAD)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "benchmarks.training_child", json.dumps(spec)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"{spec['peer']} failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def relative_error(theta, reference) -> float:
    """Largest absolute difference over the largest absolute entry of ``reference``."""
    theta, reference = np.asarray(theta, dtype=float), np.asarray(reference, dtype=float)
    return float(np.max(np.abs(theta - reference)) / max(np.max(np.abs(reference)), np.finfo(float).tiny))


def rows(results: dict, skipped: dict, reference: str, base: dict, tolerances: dict,
         targets: Sequence[Target] = (), exact: Sequence[str] = ()) -> list[dict]:
    """One row per peer, ``reference`` first; ratios and answers against ``reference``'s.

    ``tolerances``: ``{"check": .., "end": ..}`` relative errors allowed; peers in ``exact`` must
    agree bit for bit (error 0).
    """
    ref = results[reference][0]
    speeds = {p: median([run["steps_per_s"] for r in rs for run in r["runs"]]) for p, rs in results.items()}
    best = {p: max(run["steps_per_s"] for r in rs for run in r["runs"]) for p, rs in results.items()}
    out = []
    for peer, runs in results.items():
        errors = {key: max(relative_error(r[f"{key}_theta"], ref[f"{key}_theta"]) for r in runs)
                  for key in ("check", "end")}
        allowed = {key: 0.0 if peer in exact else tolerances[key] for key in errors}
        timed = [run for r in runs for run in r["runs"]]
        loads = [run["other_load"] for run in timed if run["other_load"] is not None]
        out.append({
            **base,
            "peer": peer,
            "threads": runs[0]["threads"],
            "note": runs[0]["note"],
            "steps_per_s": speeds[peer],
            "best_steps_per_s": best[peer],
            "ratio_to_symgrad": speeds[peer] / speeds[reference],
            "overhead_s": median([run["overhead_s"] for run in timed]),
            "other_load": median(loads),
            "runs": timed,
            "setup_s": [r["setup_s"] for r in runs],
            "check_theta": runs[0]["check_theta"],
            "end_theta": runs[0]["end_theta"],
            "max_rel_error": errors,
            "tolerance": allowed,
            "answers_equal": all(errors[key] <= allowed[key] for key in errors),
            "targets": [_target(t, speeds, best) for t in targets if t.slower == peer],
            "skipped": None,
        })
    out += [skipped_row(base, peer, why, [_target(t, speeds, best) for t in targets if t.slower == peer])
            for peer, why in skipped.items()]
    return out


def skipped_row(base: dict, peer: str, why: str, targets: list | None = None) -> dict:
    return {**base, "peer": peer, "threads": None, "note": "", "steps_per_s": None, "best_steps_per_s": None,
            "ratio_to_symgrad": None,
            "overhead_s": None, "other_load": None, "targets": targets or [], "skipped": why}


def _target(target: Target, speeds: dict, best: dict) -> dict:
    """The target judged on median speeds; ``ratio_best`` is the same ratio of the best runs."""

    def ratio(of: dict) -> float | None:
        fast, slow = of.get(target.faster), of.get(target.slower)
        return None if fast is None or slow is None else fast / slow

    measured = ratio(speeds)
    return {"faster": target.faster, "ratio_min": target.ratio, "ratio": measured, "ratio_best": ratio(best),
            "met": None if measured is None else measured >= target.ratio}


def _rate(key: str) -> Callable[[dict], str]:
    def cell(row: dict) -> str:
        value = row[key]
        if value is None:
            return "skipped"
        if value >= 1e6:
            return f"{value / 1e6:.3g} M"
        return f"{value / 1e3:.3g} k" if value >= 1e3 else f"{value:.3g}"

    return cell


def _ratio(row: dict) -> str:
    value = row["ratio_to_symgrad"]
    return "-" if value is None else f"{value:.3g}x"


def _error(key: str) -> Callable[[dict], str]:
    def cell(row: dict) -> str:
        return "-" if row["skipped"] else f"{row['max_rel_error'][key]:.1e}"

    return cell


def _equal(row: dict) -> str:
    if row["skipped"]:
        return row["skipped"]
    return "yes" if row["answers_equal"] else "NO"


def _targets(row: dict) -> str:
    cells = []
    for t in row["targets"]:
        if t["ratio"] is None:
            cells.append(f"{t['faster']} >= {t['ratio_min']:g}x: not measured")
        else:
            cells.append(f"{t['faster']} >= {t['ratio_min']:g}x: {'met' if t['met'] else 'NOT met'} "
                         f"({t['ratio']:.3g}x; best runs {t['ratio_best']:.3g}x)")
    return "; ".join(cells) or "-"


COLUMNS = (
    ("peer", lambda r: r["peer"]),
    ("threads", lambda r: "-" if r["threads"] is None else str(r["threads"])),
    ("steps/s", _rate("steps_per_s")),
    ("best run", _rate("best_steps_per_s")),
    ("x symgrad", _ratio),
    ("overhead ms", lambda r: "-" if r["overhead_s"] is None else f"{r['overhead_s'] * 1e3:.2g}"),
    ("other load", lambda r: "-" if r["other_load"] is None else f"{r['other_load']:.2f}"),
    ("err check", _error("check")),
    ("err end", _error("end")),
    ("equal", _equal),
    ("target", _targets),
)
