"""One measurement of the ``compile`` workload, run as a fresh interpreter.

``python -m benchmarks.compile_child 2,16,16,1`` times, in this order and
separately:

1. ``import symgrad`` (which imports SymPy, networkx and numba);
2. building the network's SymPy loss (``benchmarks.models.mlp``), not part
   of any target;
3. ``symgrad.Model(...)`` followed by ``.compile()`` and one first call of
   ``loss_and_grad`` on a few samples: "Model -> ready". Of that, the time
   numba spent compiling (its ``numba:compile`` events, zero when its cache
   answered) is reported on its own, with the number of operators and calls
   in the generated per-sample gradient function (``_loss_grad_range``),
   and how many cores other processes kept busy meanwhile.

It prints one JSON object on its last line. The kernel cache is whatever
``SYMGRAD_CACHE_DIR`` names; the parent decides whether it is empty (cold)
or filled by an earlier child (warm). Nothing is imported before the clock
starts except this module and the standard library.
"""

from __future__ import annotations

import json
import sys
import time


def measure(sizes: tuple[int, ...]) -> dict:
    start = time.perf_counter()
    import symgrad as sg

    import_s = time.perf_counter() - start

    import numpy as np
    from numba.core import event

    from benchmarks.cpu_load import OtherLoad
    from benchmarks.models import mlp
    from benchmarks.numba_passes import PassTimes

    start = time.perf_counter()
    net = mlp(sizes)
    build_s = time.perf_counter() - start

    numba_compile, passes = event.TimingListener(), PassTimes()
    X = np.zeros((4, len(net.inputs)))
    T = np.zeros((4, len(net.targets)))
    with event.install_listener("numba:compile", numba_compile), \
            event.install_listener("numba:run_pass", passes), OtherLoad() as other:
        start = time.perf_counter()
        model = sg.Model(loss=net.loss, params=net.params, inputs=net.inputs, targets=net.targets)
        declared = time.perf_counter()
        kernels = model.compile()
        compiled = time.perf_counter()
        kernels.loss_and_grad(np.zeros(model.n_params), X, T, np.empty(model.n_params))
        ready = time.perf_counter()
    return {
        "import_s": import_s,
        "build_s": build_s,
        "model_s": declared - start,
        "compile_s": compiled - declared,
        "first_call_s": ready - compiled,
        "ready_s": ready - start,
        "numba_compile_s": numba_compile.duration if numba_compile.done else 0.0,
        "numba_passes_s": passes.totals(),
        "other_load": other.cores,
        "cache_stats": kernels.cache_stats(),
        "kernel_operations": _operations(kernels.source, "_loss_grad_range"),
    }


def _operations(source: str, function: str) -> int:
    """Arithmetic operators and calls in the generated per-sample gradient function."""
    import ast

    [node] = [n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == function]
    kinds = (ast.BinOp, ast.UnaryOp, ast.Call, ast.AugAssign)
    return sum(isinstance(n, kinds) for n in ast.walk(node))


if __name__ == "__main__":
    print(json.dumps(measure(tuple(int(s) for s in sys.argv[1].split(",")))))
