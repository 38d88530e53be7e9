"""One peer of the ``grad_throughput`` workload, timed alone in a fresh interpreter.

``python -m benchmarks.throughput_child '<json spec>'`` builds the seeded
batch, prepares the named peer (compiling or loading kernels and one warm-up
call, together ``setup_s``), computes its loss and gradient on the whole batch
for the answer check, then times ``runs`` runs of repeated calls, each lasting
at least ``min_run_s``. It prints one JSON object on its last line.

A peer runs in a process of its own so that only its own thread pools exist:
numba's OpenMP workers, OpenBLAS's and PyTorch's all wait for work by
spinning for a while, and on a small machine pools left behind by another
peer would take cores from the one being timed. Only the modules the peer
needs are imported (numpy's peer never loads numba, for instance).

Each run also reports ``other_load`` (``benchmarks/cpu_load.py``): the
average number of cores busy with work other than this process, so that a
run disturbed by something else on the machine shows as such.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable

import numpy as np

from .cpu_load import timed_calls

PEERS = ("symgrad serial", "symgrad parallel", "numba per-sample", "numpy batched", "torch batched",
         "symgrad matrix", "symgrad matrix parallel")
#: The peers that take ``theta`` in the matrix model's order (``benchmarks.models.matrix_order``).
MATRIX_PEERS = ("symgrad matrix", "symgrad matrix parallel")
TORCH_HINT = "PyTorch is not installed: pip install torch"


def batch(sizes: tuple[int, ...], n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded ``theta ~ N(0, 0.5**2)``, ``X ~ N(0, 1)`` of shape ``(n, inputs)``, ``T`` uniform ``(n, 1)``."""
    from .baselines import n_params

    rng = np.random.default_rng([seed, n, *sizes])
    X = rng.normal(size=(n, sizes[0]))
    T = rng.uniform(size=(n, sizes[-1]))
    theta = rng.normal(0.0, 0.5, size=n_params(sizes))
    return theta, X, T


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def prepare(name: str, sizes: tuple[int, ...], theta, X, T, cache_dir) -> tuple[Callable, int | None, str]:
    """``(call, threads, note)``; ``call()`` returns ``(loss, gradient)`` for the whole batch."""
    out = np.empty_like(theta)
    if name in MATRIX_PEERS:
        from .models import matrix_mlp, matrix_order

        parallel = name == "symgrad matrix parallel"
        kernels = matrix_mlp(sizes).compile(parallel=parallel, cache_dir=cache_dir)
        theta_matrix = theta[matrix_order(sizes)]

        def call():  # the gradient in the matrix order; measure() puts the answer in the scalar one
            return kernels.loss_and_grad(theta_matrix, X, T, out)

        blas = blas_threads()
        if not parallel:
            return call, blas or 1, f"serial kernel, BLAS on {blas or 'an unknown number of'} thread(s)"
        import numba

        call()
        return call, numba.get_num_threads(), (f"numba {numba.threading_layer()} layer, BLAS on "
                                                f"{blas or 'an unknown number of'} thread(s) in each")
    if name.startswith("symgrad"):
        import symgrad as sg

        from .models import mlp

        net = mlp(sizes)
        model = sg.Model(loss=net.loss, params=net.params, inputs=net.inputs, targets=net.targets)
        parallel = name == "symgrad parallel"
        kernels = model.compile(parallel=parallel, cache_dir=cache_dir)

        def call():
            return kernels.loss_and_grad(theta, X, T, out)

        if not parallel:
            return call, 1, "serial"
        import numba

        call()  # numba picks its threading layer on the first parallel call
        return call, numba.get_num_threads(), f"numba {numba.threading_layer()} layer"
    if name == "numba per-sample":
        from .baselines import numba_mlp

        kernel = numba_mlp.compile_for(sizes)
        return (lambda: (kernel(theta, X, T, out), out)), 1, "serial"
    if name == "numpy batched":
        from .baselines import numpy_mlp

        blas = blas_threads()
        return ((lambda: (numpy_mlp.loss_and_grad(theta, X, T, sizes, out), out)), blas,
                "OpenBLAS threads for the matrix products" if blas else "BLAS threads unknown")
    if name == "torch batched":
        from .baselines import torch_mlp  # ModuleNotFoundError(name="torch") without PyTorch

        tensors = torch_mlp.prepare(theta.copy(), X, T, usable_cores())
        return ((lambda: torch_mlp.loss_and_grad(*tensors, sizes)), torch_mlp.torch.get_num_threads(),
                f"torch {torch_mlp.torch.__version__} intra-op threads")
    raise ValueError(f"no peer {name!r}; choose from {PEERS}")


def blas_threads() -> int | None:
    """Threads numpy's OpenBLAS uses for matrix products, when it can be asked."""
    try:
        from threadpoolctl import threadpool_info

        counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
        return max(counts) if counts else None
    except ImportError:
        pass
    import ctypes
    import glob

    # numpy's wheels bundle scipy-openblas; asking the loaded library does not load another copy
    for lib in glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*")):
        try:
            handle = ctypes.CDLL(lib)
        except OSError:
            continue
        for symbol in ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
                       "openblas_get_num_threads64_", "openblas_get_num_threads"):
            function = getattr(handle, symbol, None)
            if function is not None:
                return int(function())
    return None


def timed_runs(call: Callable, n: int, min_run_s: float, runs: int) -> list[dict]:
    """Runs of ``call`` on ``n`` samples (``cpu_load.timed_calls``), each with its samples/s."""
    return [{"samples_per_s": run["calls"] * n / run["seconds"], **run}
            for run in timed_calls(call, min_run_s, runs)]


def measure(spec: dict) -> dict:
    sizes = tuple(spec["sizes"])
    theta, X, T = batch(sizes, spec["n_samples"], spec["seed"])
    start = time.perf_counter()
    try:
        call, threads, note = prepare(spec["peer"], sizes, theta, X, T, spec.get("cache_dir"))
    except ModuleNotFoundError as error:
        if error.name != "torch":
            raise
        return {"skipped": TORCH_HINT}
    call()
    setup_s = time.perf_counter() - start
    loss, grad = call()
    if spec["peer"] in MATRIX_PEERS:
        from .models import matrix_order

        grad, matrix = np.empty_like(grad), grad
        grad[matrix_order(sizes)] = matrix
    answer = {"loss": float(loss), "grad": [float(g) for g in grad]}
    return {**answer, "threads": threads, "threads_note": note, "setup_s": setup_s,
            "runs": timed_runs(call, spec["n_samples"], spec["min_run_s"], spec.get("runs", 1))}


if __name__ == "__main__":
    print(json.dumps(measure(json.loads(sys.argv[1]))))
