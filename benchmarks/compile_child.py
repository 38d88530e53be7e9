"""One measurement of the ``compile`` workload, run as a fresh interpreter.

``python -m benchmarks.compile_child 2,16,16,1 [DATA.npz]`` (or ``digits``
for the matrix-form 64-32-10 network, see ``benchmarks/compile_models.py``)
times, in this order and separately:

1. ``import symgrad`` (which imports SymPy, networkx and numba);
2. building the network's SymPy loss, not part of any target;
3. ``symgrad.Model(...)`` followed by ``.compile()`` and one first call of
   ``loss_and_grad`` on the first-call data: "Model -> ready". Of that, the
   time numba spent compiling (its ``numba:compile`` events, zero when its
   cache answered) is reported on its own, with the number of operators and
   calls in the generated per-sample gradient function
   (``_loss_grad_range``), and how many cores other processes kept busy
   meanwhile.

The first-call data (``theta``, ``X``, ``T``) comes from the ``.npz`` file the
parent wrote, the same for every peer; without one, zeros of the right shapes.
It prints one JSON object on its last line, the loss and gradient included.
With ``--without-scipy`` the process cannot import SciPy, as after the
README's ``pip install .``.
The kernel cache is whatever ``SYMGRAD_CACHE_DIR`` names; the parent decides
whether it is empty (cold) or filled by an earlier child (warm). Nothing is
imported before the clock starts except this module and the standard library.
"""

from __future__ import annotations

import json
import sys
import time

#: The flag that makes ``import scipy`` fail in this process.
WITHOUT_SCIPY = "--without-scipy"


def measure(argument: str, data: str | None = None) -> dict:
    """``argument`` names the model as on the command line (``2,16,16,1`` or ``digits``)."""
    start = time.perf_counter()
    import symgrad as sg

    import_s = time.perf_counter() - start

    import numpy as np
    from numba.core import event

    from benchmarks import compile_models
    from benchmarks.cpu_load import OtherLoad
    from benchmarks.numba_passes import PassTimes

    model = compile_models.from_argument(argument)
    start = time.perf_counter()
    loss, params, inputs, targets = compile_models.declare(model)
    build_s = time.perf_counter() - start

    numba_compile, passes = event.TimingListener(), PassTimes()
    if data is None:
        widths = compile_models.sizes(model)
        theta = np.zeros(compile_models.n_params(model))
        X, T = np.zeros((compile_models.N_ROWS, widths[0])), np.zeros((compile_models.N_ROWS, widths[-1]))
    else:
        arrays = compile_models.load(data)
        theta, X, T = arrays["theta"], arrays["X"], arrays["T"]
    with event.install_listener("numba:compile", numba_compile), \
            event.install_listener("numba:run_pass", passes), OtherLoad() as other:
        start = time.perf_counter()
        declared_model = sg.Model(loss=loss, params=params, inputs=inputs, targets=targets)
        declared = time.perf_counter()
        kernels = declared_model.compile()
        compiled = time.perf_counter()
        value, grad = kernels.loss_and_grad(theta, X, T, np.empty(declared_model.n_params))
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
        "scipy_loaded": sys.modules.get("scipy") is not None,
        "loss": float(value),
        "grad": [float(g) for g in grad],
    }


def _operations(source: str, function: str) -> int:
    """Arithmetic operators and calls in the generated per-sample gradient function."""
    import ast

    [node] = [n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == function]
    kinds = (ast.BinOp, ast.UnaryOp, ast.Call, ast.AugAssign)
    return sum(isinstance(n, kinds) for n in ast.walk(node))


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if WITHOUT_SCIPY in arguments:
        arguments.remove(WITHOUT_SCIPY)
        # As if SciPy were not installed (the README's `pip install .` does not bring it): numba's
        # start-up imports scipy.linalg when it can, which symgrad's kernels do not need.
        sys.modules["scipy"] = None
    print(json.dumps(measure(*arguments[:2])))
