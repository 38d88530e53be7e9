"""One thread count of the ``peak`` workload, measured alone in a fresh interpreter.

``python -m benchmarks.peak_child '<json spec>'`` runs the kernels the spec
names on seeded float64 data and prints one JSON object on its last line:
per kernel its setup time (allocating, compiling or loading from numba's
cache, one warm-up call), the error of its result and ``runs`` timed runs,
each repeating the call until it has lasted at least ``min_run_s``.

The parent pins the threads through the environment (``OPENBLAS_NUM_THREADS``,
``NUMBA_NUM_THREADS`` and friends) before this interpreter starts, since
OpenBLAS and numba size their thread pools when they load.

Results are checked against plain Python floats, which share no code with
numpy, OpenBLAS or numba: a sample of the product's entries summed exactly
(``math.fsum``), a sample of the copied and triad entries recomputed.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .cpu_load import timed_calls

__all__ = ["KERNELS", "measure"]

#: Kernel -> what its rate measures: FLOPs (the matrix products) or bytes moved (the STREAM kernels).
KERNELS = {
    "numpy matmul": "GFLOP/s",
    "numba np.dot": "GFLOP/s",
    "numpy copy": "GB/s",
    "numba copy": "GB/s",
    "numpy triad": "GB/s",
    "numba triad": "GB/s",
}
TRIAD_SCALAR = 3.0
CHECKED_ENTRIES = 64


@dataclass
class Kernel:
    """``call()`` runs the kernel once; ``per_call`` FLOPs or bytes; ``error()`` checks the last result."""

    call: Callable[[], object]
    per_call: float
    error: Callable[[], float]


def _relative(values, reference) -> float:
    values, reference = np.asarray(values, dtype=float), np.asarray(reference, dtype=float)
    return float(np.max(np.abs(values - reference)) / max(np.max(np.abs(reference)), np.finfo(float).tiny))


class _Data:
    """The operands, made on first use and shared by the kernels of one child."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.rng = np.random.default_rng([spec["seed"], spec["matmul_n"], spec["stream_n"]])
        self._matrices = self._vectors = None
        picks = np.random.default_rng(spec["seed"])
        self.cells = picks.integers(spec["matmul_n"], size=(CHECKED_ENTRIES, 2))
        self.items = picks.integers(spec["stream_n"], size=CHECKED_ENTRIES)

    def matrices(self):
        if self._matrices is None:
            n = self.spec["matmul_n"]
            self._matrices = (self.rng.normal(size=(n, n)), self.rng.normal(size=(n, n)), np.empty((n, n)))
        return self._matrices

    def vectors(self):
        if self._vectors is None:
            n = self.spec["stream_n"]
            self._vectors = (np.zeros(n), self.rng.random(n), self.rng.random(n))
        return self._vectors

    def product_error(self) -> float:
        A, B, C = self.matrices()
        exact = [math.fsum(a * b for a, b in zip(A[i].tolist(), B[:, j].tolist(), strict=True))
                 for i, j in self.cells]
        return _relative([C[i, j] for i, j in self.cells], exact)

    def stream_error(self, triad: bool) -> float:
        a, b, c = self.vectors()
        expected = [float(b[i]) + TRIAD_SCALAR * float(c[i]) if triad else float(b[i]) for i in self.items]
        return _relative(a[self.items], expected)


def prepare(name: str, data: _Data) -> Kernel:
    """The named kernel on ``data``'s operands; numba kernels are compiled or loaded here."""
    if KERNELS[name] == "GFLOP/s":
        A, B, C = data.matrices()
        if name == "numpy matmul":
            def call():
                np.matmul(A, B, out=C)
        else:
            from .baselines.peak import dot

            def call():
                dot(A, B, C)
        return Kernel(call, 2.0 * A.shape[0] ** 3, data.product_error)  # n multiplies and n adds per entry
    a, b, c = data.vectors()
    triad = name.endswith("triad")
    if name == "numpy copy":
        def call():
            np.copyto(a, b)
    elif name == "numpy triad":
        def call():  # two passes, as numpy evaluates b + s c: a = s c, then a += b
            np.multiply(c, TRIAD_SCALAR, out=a)
            np.add(a, b, out=a)
    elif name == "numba copy":
        from .baselines.peak import copy

        def call():
            copy(a, b)
    else:
        from .baselines.peak import triad as numba_triad

        def call():
            numba_triad(a, b, c, TRIAD_SCALAR)
    # STREAM's count: the bytes the kernel must read and write, not the extra reads of write-allocate
    moved = (3 if triad else 2) * a.itemsize * a.shape[0]
    return Kernel(call, moved, lambda: data.stream_error(triad))


def threads_note(name: str) -> str:
    if name.startswith("numpy") and KERNELS[name] == "GB/s":
        return "numpy element-wise: one thread"
    if name == "numba np.dot":
        return "numba np.dot: SciPy's BLAS"
    if name.startswith("numba"):
        import numba

        return f"numba prange on {numba.get_num_threads()} thread(s), {numba.threading_layer()} layer"
    from .throughput_child import blas_threads

    blas = blas_threads()
    return f"numpy's OpenBLAS on {blas} thread(s)" if blas else "numpy's BLAS, threads unknown"


def timed_runs(kernel: Kernel, min_run_s: float, runs: int) -> list[dict]:
    """Runs of the kernel (``cpu_load.timed_calls``), each with its rate in units of 1e9."""
    return [{"rate": run["calls"] * kernel.per_call / run["seconds"] / 1e9, **run}
            for run in timed_calls(kernel.call, min_run_s, runs)]


def measure(spec: dict) -> dict:
    """``{"kernels": {name: result}}`` for the kernels in ``spec["kernels"]``, in that order."""
    data = _Data(spec)
    results = {}
    for name in spec["kernels"]:
        start = time.perf_counter()
        kernel = prepare(name, data)
        kernel.call()
        setup_s = time.perf_counter() - start
        results[name] = {"setup_s": setup_s, "per_call": kernel.per_call, "max_rel_error": kernel.error(),
                         "note": threads_note(name),
                         "runs": timed_runs(kernel, spec["min_run_s"], spec["runs"])}
    return {"kernels": results}


if __name__ == "__main__":
    print(json.dumps(measure(json.loads(sys.argv[1]))))
