"""peak: this machine's float64 matrix-product rate (GFLOP/s) and memory bandwidth (GB/s).

The limits the other workloads' FLOP rates are measured against
(``benchmarks/flops.py``). Every kernel runs on seeded float64 data:

- **numpy matmul**: ``np.matmul(A, B, out=C)``, ``A`` and ``B`` 1024 x 1024
  from N(0, 1), OpenBLAS's dgemm; 2 n^3 FLOPs per product;
- **numba np.dot**: the same product as ``np.dot(A, B, C)`` inside an
  ``@njit`` function, which calls SciPy's BLAS
  (``benchmarks/baselines/peak.py``); skipped, with a hint, without SciPy;
- **numpy copy**: ``np.copyto(a, b)``; **numba copy**: ``a[i] = b[i]`` in a
  ``prange`` loop;
- **numpy triad**: ``a = b + s c`` as numpy evaluates it, in two passes
  (``a = s c``, then ``a += b``); **numba triad**: the same in one ``prange``
  loop.

The STREAM kernels run on arrays of 2^25 float64 (256 MiB each, far beyond
the caches); GB/s counts the bytes the kernel must move, as STREAM does: 16
per element for copy, 24 for triad (not the extra reads a cache makes
before it writes). numpy's two-pass triad moves more than that and so shows
a lower rate.

Each thread count is measured in a fresh process of its own
(``benchmarks/peak_child.py``) whose thread pools are pinned through the
environment (``OPENBLAS_NUM_THREADS``, ``NUMBA_NUM_THREADS``, ``OMP_NUM_THREADS``,
``MKL_NUM_THREADS``) before anything loads: one thread, and all usable
cores. numpy's element-wise kernels use one thread whatever the setting and
run only in the first process. Allocating, compiling or loading from
numba's cache and one warm-up call come before any clock. A timed run
repeats the call until it has lasted 0.3 s; 3 runs per process, one process
per thread count and repeat (3 repeats). The table shows the median and the
best run; the machine's peak is the best run of a matrix product, whatever
its thread count: what the machine can do when nothing gets in the way.
``--quick`` measures only numpy's kernels, only on all usable cores (the
first numba call in a process takes about 1 s, most of it numba loading
SciPy's BLAS), one run of 0.1 s each, on arrays of 2^22 float64 (32 MiB
each: two or three of them still overflow the 32 MiB last-level cache of
the machine in ``docs/performance.md``).

**Answers.** 64 entries of each product are compared with the correctly
rounded sum of their products (``math.fsum`` over Python floats), and 64
entries of each copy and triad with the same expression in Python floats:
equal when they agree to 1e-12 relative (largest difference over the
largest entry).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import training
from ..harness import Settings
from ..peak_child import KERNELS
from ..throughput_child import usable_cores
from ..timing import median

TITLE = "peak: float64 matrix product (GFLOP/s) and memory bandwidth (GB/s) of this machine"
MATMUL_N = 1024
STREAM_N, QUICK_STREAM_N = 2**25, 2**22
MIN_RUN_S, QUICK_MIN_RUN_S = 0.3, 0.1
RUNS_PER_PROCESS = 3
TOLERANCE = 1e-12
#: ``--quick`` has 2 s; numba's first call in a process alone takes about 1 s (it loads SciPy's BLAS).
QUICK_KERNELS = ("numpy matmul", "numpy copy", "numpy triad")
#: Kernels that use one thread whatever the pools are given; they run in the first process only.
SINGLE_THREADED = ("numpy copy", "numpy triad")
NEEDS = {"numba np.dot": "scipy"}
CHILD_TIMEOUT_S = 300.0
ROOT = Path(__file__).resolve().parents[2]

__all__ = ["KERNELS", "run", "limit"]


def run(settings: Settings, threads: Sequence[int] | None = None, kernels: Sequence[str] | None = None,
        matmul_n: int = MATMUL_N, stream_n: int | None = None, min_run_s: float | None = None) -> list[dict]:
    """One row per kernel and thread count; ``threads``: default (1, usable cores), quick (usable cores,)."""
    if kernels is not None and set(kernels) - set(KERNELS):
        raise ValueError(f"kernels must come from {list(KERNELS)}; got {list(kernels)}")
    cores = usable_cores()
    threads = sorted(set(threads or ((cores,) if settings.quick else (1, cores))))
    if kernels is None:
        kernels = QUICK_KERNELS if settings.quick else KERNELS
    chosen = [k for k in KERNELS if k in kernels]
    skipped = {k: training.HINTS[NEEDS[k]] for k in chosen if not training.installed(NEEDS.get(k))}
    for name, why in skipped.items():
        settings.note(f"  {name}: skipped ({why})")
    spec = {
        "seed": settings.seed,
        "matmul_n": matmul_n,
        "stream_n": stream_n or (QUICK_STREAM_N if settings.quick else STREAM_N),
        "min_run_s": min_run_s or (QUICK_MIN_RUN_S if settings.quick else MIN_RUN_S),
        "runs": 1 if settings.quick else RUNS_PER_PROCESS,
    }
    plan = {t: [k for k in chosen if k not in skipped and (t == threads[0] or k not in SINGLE_THREADED)]
            for t in threads}
    results = {t: [] for t in threads}
    for round_ in range(settings.repeat):
        for t, names in plan.items():
            result = _child({**spec, "kernels": names}, t)["kernels"]
            results[t].append(result)
            rates = ", ".join(f"{k} {r['runs'][0]['rate']:.3g} {KERNELS[k]}" for k, r in result.items())
            settings.note(f"  [{round_ + 1}/{settings.repeat}] {t} thread(s): {rates}")
    rows = []
    for kernel in chosen:
        if kernel in skipped:
            rows.append(_row(kernel, None, spec, [], why=skipped[kernel]))
        rows += [_row(kernel, t, spec, [r[kernel] for r in results[t]]) for t in threads if kernel in plan[t]]
    return rows


def limit(rows: Sequence[dict]) -> dict:
    """The machine's peak from ``peak``'s rows: the best matrix-product run on any number of threads (a
    busy machine can make all cores slower than one), the best on one thread and the best bandwidth
    (``None`` where not measured)."""
    products = [r for r in rows if r["unit"] == "GFLOP/s" and not r["skipped"]]
    bandwidths = [r["best_rate"] for r in rows if r["unit"] == "GB/s" and not r["skipped"]]
    best = max(products, key=lambda r: r["best_rate"], default=None)
    return {
        "gflops": None if best is None else best["best_rate"],
        "threads": None if best is None else best["threads"],
        "kernel": None if best is None else best["kernel"],
        "gflops_1_thread": max((r["best_rate"] for r in products if r["threads"] == 1), default=None),
        "gb_per_s": max(bandwidths, default=None),
    }


def _child(spec: dict, threads: int) -> dict:
    env = dict(os.environ)
    env.update(dict.fromkeys(training.THREAD_VARIABLES, str(threads)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "benchmarks.peak_child", json.dumps(spec)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"peak with {threads} thread(s) failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _row(kernel: str, threads: int | None, spec: dict, results: list[dict], why: str | None = None) -> dict:
    unit = KERNELS[kernel]
    if unit == "GFLOP/s":
        n, size = spec["matmul_n"], f"{spec['matmul_n']} x {spec['matmul_n']}"
    else:
        arrays = 3 if kernel.endswith("triad") else 2
        n, size = spec["stream_n"], f"{arrays} x {spec['stream_n'] * 8 / 2**20:.3g} MiB"
    row = {"kernel": kernel, "unit": unit, "n": n, "size": size, "skipped": why}
    if why is not None:
        return {**row, "threads": None, "note": "", "rate": None, "best_rate": None, "other_load": None}
    runs = [run for r in results for run in r["runs"]]
    loads = [run["other_load"] for run in runs if run["other_load"] is not None]
    error = max(r["max_rel_error"] for r in results)
    return {
        **row,
        "threads": 1 if kernel in SINGLE_THREADED else threads,
        "note": results[0]["note"],
        "per_call": results[0]["per_call"],
        "rate": median([run["rate"] for run in runs]),
        "best_rate": max(run["rate"] for run in runs),
        "runs": runs,
        "other_load": median(loads),
        "setup_s": [r["setup_s"] for r in results],
        "max_rel_error": error,
        "answers_equal": error <= TOLERANCE,
    }


def _rate(unit: str):
    def cell(row: dict) -> str:
        if row["skipped"]:
            return "skipped" if row["unit"] == unit else "-"
        return f"{row['rate']:.3g}" if row["unit"] == unit else "-"

    return cell


def _equal(row: dict) -> str:
    if row["skipped"]:
        return row["skipped"]
    return "yes" if row["answers_equal"] else "NO"


COLUMNS = (
    ("kernel", lambda r: r["kernel"]),
    ("threads", lambda r: "-" if r["threads"] is None else str(r["threads"])),
    ("size", lambda r: r["size"]),
    ("GFLOP/s", _rate("GFLOP/s")),
    ("GB/s", _rate("GB/s")),
    ("best run", lambda r: "-" if r["best_rate"] is None else f"{r['best_rate']:.3g}"),
    ("other load", lambda r: "-" if r["other_load"] is None else f"{r['other_load']:.2f}"),
    ("max rel err", lambda r: "-" if r["skipped"] else f"{r['max_rel_error']:.1e}"),
    ("equal", _equal),
)
