"""grad_throughput: samples per second of the mean-loss gradient over a large batch.

The model is the 2-16-16-1 sigmoid MLP of ``benchmarks/models.py`` (337
parameters, loss ``(y - t)**2 / 2`` per sample), the batch 100,000 samples in
float64: ``X ~ N(0, 1)`` of shape ``(n, 2)``, ``T`` uniform on [0, 1) of shape
``(n, 1)`` and ``theta ~ N(0, 0.5**2)``, all seeded. Every peer computes the
mean loss and its full gradient over the batch in one call:

- **symgrad serial**: ``model.compile()``, calling
  ``kernels.loss_and_grad(theta, X, T, out)`` with a preallocated ``out``
  (argument checks included);
- **symgrad parallel**: the same with ``compile(parallel=True)``;
- **symgrad matrix**: the same function declared in matrix form
  (``benchmarks.models.matrix_mlp``: ``sg.nn.mlp(sizes, activation="sigmoid",
  output="sigmoid")`` and ``sg.nn.squared_error``), whose kernels process
  blocks of 256 samples with BLAS products; its ``theta`` is the scalar
  model's reordered (``matrix_order``: ``W`` row-major then ``b`` per layer
  instead of each unit's weights then its bias), and its gradient is put back
  in the scalar order for the answer check (outside the timed calls). Its
  child runs with OpenBLAS on one thread, so it is serial;
  **symgrad matrix parallel**: the same with ``compile(parallel=True)``, which
  splits the batch over numba's threads, each calling a one-thread BLAS;
- **numba per-sample**: a hand-written numba kernel
  (``benchmarks/baselines/numba_mlp.py``), forward and backward loops over the
  layers per sample, serial;
- **numpy batched**: hand-written vectorised backprop, matrix products over
  the whole batch (``benchmarks/baselines/numpy_mlp.py``);
- **torch batched**: PyTorch autograd on the CPU over the whole batch, float64,
  ``torch.set_num_threads`` set to the usable cores
  (``benchmarks/baselines/torch_mlp.py``); skipped when PyTorch is not
  installed.

Each peer is timed in a fresh process of its own
(``benchmarks/throughput_child.py``), so that the thread pools of the other
peers (numba's OpenMP workers, OpenBLAS's, PyTorch's, all of which spin while
waiting for work) cannot take its cores. Compiling, loading from caches and a
first warm-up call happen before any clock runs. A timed run repeats the
call until it has lasted at least 0.5 s; each process makes 3 runs, and there
is one process per peer and repeat (3 by default), going round-robin over the
peers so that a busy spell on the machine hits them alike. ``--quick`` makes
one run of at least 0.05 s per peer on 10,000 samples.
samples/s is the median over the runs; "x serial" is that over symgrad
serial's. threads is what the peer was allowed to use (numpy: its element-wise
work is single-threaded, the matrix products use OpenBLAS's threads). "other
load" is the median number of cores that other processes kept busy during
the peer's runs (from ``/proc/stat``): a run with other load near a whole
core on a 2-core machine says more about the machine than about the peer.

Before the times count, every peer's loss and gradient on the full batch are
compared with symgrad serial's: answers are equal when both agree to 1e-9
relative (loss: absolute difference over the loss; gradient: largest absolute
difference over the largest gradient entry). The matrix peers must agree to
1e-12: they compute the same function, only summing in another order
(measured: ~1e-14). The target: the faster of symgrad matrix and symgrad
matrix parallel (median samples/s; the table names which) at least as fast
as torch batched.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..flops import FlopCount
from ..harness import Settings
from ..throughput_child import MATRIX_PEERS, PEERS, TORCH_HINT
from ..timing import median

TITLE = "grad_throughput: mean-loss gradient over a batch, samples/s (2-16-16-1 sigmoid MLP, float64)"
SIZES = (2, 16, 16, 1)
N_SAMPLES = 100_000
QUICK_SAMPLES = 10_000
MIN_RUN_S = 0.5
QUICK_MIN_RUN_S = 0.05
RUNS_PER_PROCESS = 3
#: Other load (cores) above which the run is flagged as disturbed.
BUSY_WARNING = 0.5
TOLERANCE = 1e-9
REFERENCE = "symgrad serial"
#: The matrix form computes the same function with the same kernels' arithmetic in another order:
#: its gradient must agree with the scalar model's more tightly (measured: ~1e-14).
MATRIX_TOLERANCE = 1e-12
#: The faster of the matrix peers (median samples/s) must reach ``ratio`` times ``slower``'s.
MATRIX_TARGET = {"slower": "torch batched", "ratio": 1.0}
#: What the matrix peers' children run with: BLAS on one thread, so that "symgrad matrix" is serial
#: and each of the parallel peer's numba threads calls a one-thread BLAS (no nested pools).
BLAS_ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
#: A cold cache makes symgrad's first child compile the 2-16-16-1 kernels (10-20 s).
CHILD_TIMEOUT_S = 300.0
ROOT = Path(__file__).resolve().parents[2]

__all__ = ["PEERS", "TORCH_HINT", "run", "torch_installed"]


def torch_installed() -> bool:
    return importlib.util.find_spec("torch") is not None


def run(settings: Settings, sizes: Sequence[int] = SIZES, n_samples: int | None = None,
        peers: Sequence[str] = PEERS, cache_dir=None, min_run_s: float | None = None) -> list[dict]:
    """One row per peer. ``cache_dir`` goes to ``Model.compile`` (default: symgrad's usual cache)."""
    if set(peers) - set(PEERS) or REFERENCE not in peers:
        raise ValueError(f"peers must include {REFERENCE!r} and come from {PEERS}; got {list(peers)}")
    peers = [p for p in PEERS if p in peers]  # the reference first
    sizes = tuple(sizes)
    spec = {
        "sizes": sizes,
        "n_samples": n_samples or (QUICK_SAMPLES if settings.quick else N_SAMPLES),
        "seed": settings.seed,
        "min_run_s": min_run_s or (QUICK_MIN_RUN_S if settings.quick else MIN_RUN_S),
        "runs": 1 if settings.quick else RUNS_PER_PROCESS,
        "cache_dir": None if cache_dir is None else str(cache_dir),
    }
    skipped = {p: TORCH_HINT for p in peers if p == "torch batched" and not torch_installed()}
    for name, why in skipped.items():
        settings.note(f"  {name}: skipped ({why})")
    results = {p: [] for p in peers if p not in skipped}
    for round_ in range(settings.repeat):
        for peer in results:
            result = _child({**spec, "peer": peer})
            if "skipped" in result:
                skipped[peer] = result["skipped"]
                continue
            results[peer].append(result)
            speeds = ", ".join(f"{r['samples_per_s']:,.0f}" for r in result["runs"])
            settings.note(f"  [{round_ + 1}/{settings.repeat}] {peer}: {speeds} samples/s")
        for peer in skipped:
            results.pop(peer, None)

    reference = results[REFERENCE][0]
    serial = median([run["samples_per_s"] for r in results[REFERENCE] for run in r["runs"]])
    base = {"model": "-".join(map(str, sizes)), "n_params": len(reference["grad"]),
            "n_samples": spec["n_samples"]}
    rows = []
    for peer, runs in results.items():
        errors = [_compare(r, reference) for r in runs]
        worst = {key: max(e[key] for e in errors) for key in ("loss", "grad")}
        tolerance = MATRIX_TOLERANCE if peer in MATRIX_PEERS else TOLERANCE
        timed = [run for r in runs for run in r["runs"]]
        speed = median([run["samples_per_s"] for run in timed])
        loads = [run["other_load"] for run in timed if run["other_load"] is not None]
        rows.append({
            **base,
            "peer": peer,
            "threads": runs[0]["threads"],
            "threads_note": runs[0]["threads_note"],
            "samples_per_s": speed,
            "ratio_to_serial": speed / serial,
            "runs": timed,
            "other_load": median(loads),
            "setup_s": [r["setup_s"] for r in runs],
            "loss": runs[0]["loss"],
            "max_rel_error": worst,
            "tolerance": tolerance,
            "answers_equal": all(v <= tolerance for v in worst.values()),
            "skipped": None,
        })
    busy = max((row["other_load"] for row in rows if row["other_load"] is not None), default=0.0)
    if busy > BUSY_WARNING:
        settings.note(f"  warning: other processes kept up to {busy:.2f} cores busy during the runs; "
                      "multi-threaded peers suffer most, see the 'other load' column")
    rows += [{**base, "peer": name, "threads": None, "threads_note": "", "samples_per_s": None,
              "ratio_to_serial": None, "other_load": None, "skipped": why} for name, why in skipped.items()]
    _matrix_target(rows)
    return rows


def _matrix_target(rows: list[dict]) -> None:
    """Every row gets ``targets``; the slower peer's row holds the matrix target, judged on medians."""
    speeds = {row["peer"]: row["samples_per_s"] for row in rows if row["samples_per_s"] is not None}
    matrix = [peer for peer in MATRIX_PEERS if peer in speeds]
    for row in rows:
        row["targets"] = []
        if row["peer"] != MATRIX_TARGET["slower"] or not matrix:
            continue
        faster = max(matrix, key=speeds.get)
        ratio = None if row["samples_per_s"] is None else speeds[faster] / row["samples_per_s"]
        met = None if ratio is None else ratio >= MATRIX_TARGET["ratio"]
        row["targets"].append({"faster": faster, "of": list(matrix), "ratio_min": MATRIX_TARGET["ratio"],
                               "ratio": ratio, "met": met})


def _child(spec: dict) -> dict:
    env = dict(os.environ)
    if spec["peer"] in MATRIX_PEERS:
        env.update(BLAS_ONE_THREAD)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "benchmarks.throughput_child", json.dumps(spec)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"{spec['peer']} failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _compare(result: dict, reference: dict) -> dict:
    """Relative differences: of the loss, and the largest of the gradient over its largest entry."""
    tiny = np.finfo(float).tiny
    grad, ref = np.array(result["grad"]), np.array(reference["grad"])
    return {
        "loss": abs(result["loss"] - reference["loss"]) / max(abs(reference["loss"]), tiny),
        "grad": float(np.max(np.abs(grad - ref)) / max(np.max(np.abs(ref)), tiny)),
    }


def _rate(row: dict) -> str:
    if row["samples_per_s"] is None:
        return "skipped"
    value = row["samples_per_s"]
    return f"{value / 1e6:.3g} M" if value >= 1e6 else f"{value / 1e3:.3g} k"


def _ratio(row: dict) -> str:
    return "-" if row["ratio_to_serial"] is None else f"{row['ratio_to_serial']:.2f}x"


def _error(row: dict) -> str:
    return "-" if row["skipped"] else f"{max(row['max_rel_error'].values()):.1e}"


def _equal(row: dict) -> str:
    if row["skipped"]:
        return row["skipped"]
    return "yes" if row["answers_equal"] else "NO"


COLUMNS = (
    ("model", lambda r: r["model"]),
    ("samples", lambda r: f"{r['n_samples']:,}"),
    ("peer", lambda r: r["peer"]),
    ("threads", lambda r: "-" if r["threads"] is None else str(r["threads"])),
    ("samples/s", _rate),
    ("x serial", _ratio),
    ("other load", lambda r: "-" if r["other_load"] is None else f"{r['other_load']:.2f}"),
    ("max rel err", _error),
    ("equal", _equal),
)


def _target(row: dict) -> str:
    cells = []
    for t in row.get("targets", ()):  # t["faster"]: the faster matrix peer, serial or parallel
        if t["ratio"] is None:
            cells.append(f"{t['faster']} >= {t['ratio_min']:g}x: not measured")
        else:
            cells.append(f"{t['faster']} >= {t['ratio_min']:g}x: {'met' if t['met'] else 'NOT met'} "
                         f"({t['ratio']:.3g}x)")
    return "; ".join(cells) or "-"


COLUMNS += (("target", _target),)


def flops_per_sample(sizes: Sequence[int]) -> int:
    """FLOPs of one sample's loss and its share of the gradient, for the sigmoid MLP of these sizes.

    Per layer of ``n_in`` inputs and ``n_out`` units::

        forward   2 n_in n_out        W a + b: a multiply and an add per weight (the bias is one of the adds)
                  4 n_out             sigmoid 1 / (1 + exp(-z)): negate, exp, add, divide
        backward  3 n_out             delta = g s (1 - s), g the loss's gradient at the layer's output
                  2 n_in n_out        delta a^T added into the weights' gradient sum
                  n_out               delta added into the biases' gradient sum
                  n_in (2 n_out - 1)  W^T delta, the g of the layer below (none below the first layer)

    and per output 4 for the loss: ``y - t``, its square, the half, the add into the sum. ``y - t`` is
    also the loss's gradient at ``y``. Dividing the sums by the batch size happens once per batch and
    is not counted. 2-16-16-1: 740 forward, 4 loss, 1,252 backward, 1,996 in all.
    """
    count = 4 * sizes[-1]
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        forward = 2 * n_in * n_out + 4 * n_out
        backward = 3 * n_out + 2 * n_in * n_out + n_out + (n_in * (2 * n_out - 1) if layer > 0 else 0)
        count += forward + backward
    return count


FLOPS = FlopCount(
    rate="samples_per_s", unit="sample", after="samples/s",
    per_unit=lambda row: flops_per_sample([int(size) for size in row["model"].split("-")]),
    what="forward and backward pass, counted in grad_throughput.flops_per_sample",
)
