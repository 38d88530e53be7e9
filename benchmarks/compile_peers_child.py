"""One peer measurement of the ``compile`` workload (JAX jit or PyTensor in numba mode), a fresh interpreter.

``python -m benchmarks.compile_peers_child PEER MODEL DATA.npz [CACHE_DIR]``,
``PEER`` one of ``jax`` and ``pytensor``, ``MODEL`` as for
``benchmarks.compile_child`` (``2,16,16,1`` or ``digits``), times

1. importing the library (``jax`` with float64 enabled, or ``pytensor``);
2. "definition -> first gradient value", the peer's counterpart of symgrad's
   Model() -> ready:

   - **jax**: ``jax.jit(jax.value_and_grad(loss))``, then its first call and
     ``jax.block_until_ready``: tracing, lowering, XLA's compilation and the
     run;
   - **pytensor**: the symbolic inputs and the loss graph, ``pytensor.grad``,
     ``pytensor.function(..., mode="NUMBA")``, then its first call, in which
     numba compiles the graph's functions.

The loss is the function symgrad differentiates, written once with the
libraries' numpy-like functions (:func:`_loss`): layer by layer
``a W^T + b^T`` on the rows of ``X``, sigmoid on every layer and
``(y - t)**2 / 2`` for the scalar networks, tanh on the hidden layer and the
log-sum-exp cross-entropy for the digits network, the mean over the rows.
Each library gets the parameters in its natural form, one ``(W, b)`` pair per
layer; the child splits symgrad's flat ``theta`` into them before the clock
starts and puts the gradient back in symgrad's order after it stops
(``benchmarks/compile_models.py``).

``CACHE_DIR`` holds the peer's on-disk caches: JAX's persistent compilation
cache (every entry kept: ``jax_persistent_cache_min_compile_time_secs=0``,
``jax_persistent_cache_min_entry_size_bytes=-1``), or PyTensor's
``base_compiledir``, under which its numba backend caches the compiled
functions (``<dir>/numba``), with ``NUMBA_CACHE_DIR`` pointed inside it too
so that nothing lands beside the installed sources. The parent passes an
empty directory (cold) or one an earlier child filled (warm).
``cache_hit`` says that the directory had entries before the clock started,
that the run added none, and, for PyTensor, that numba compiled nothing.

It prints one JSON object on its last line, with the loss and gradient. Only
the standard library is imported before the library's import is timed.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

__all__ = ["PEERS", "measure"]

PEERS = ("jax", "pytensor")


def measure(peer: str, argument: str, data: str, cache: str | None = None) -> dict:
    """The peer's timings, loss and gradient; ``{"missing": name}`` when its library is not installed.

    Without ``cache`` the library keeps its own cache settings, and ``cache_hit`` is ``None``.
    """
    if peer not in PEERS:
        raise ValueError(f"no peer {peer!r}; choose from {PEERS}")
    run = _jax if peer == "jax" else _pytensor
    try:
        return run(argument, data, None if cache is None else Path(cache))
    except ModuleNotFoundError as error:
        if error.name.split(".")[0] != peer:
            raise
        return {"missing": error.name}


def _loss(model: str, lib, params, X, T):
    """The mean loss over the rows of ``X``, with ``lib``'s ``sigmoid``, ``tanh``, ``logsumexp``, ``sum``
    and ``mean``."""
    from .compile_models import is_digits

    digits, a = is_digits(model), X
    for layer, (W, b) in enumerate(params):
        z = a @ W.T + b
        if not digits:
            a = lib.sigmoid(z)
        else:
            a = z if layer == len(params) - 1 else lib.tanh(z)
    if digits:
        return lib.mean(lib.logsumexp(a, axis=1) - lib.sum(T * a, axis=1))
    return lib.mean(lib.sum((a - T) ** 2, axis=1) / 2)


def _jax(argument: str, data: str, cache: Path | None) -> dict:
    start = time.perf_counter()
    import jax
    import jax.numpy as jnp

    import_s = time.perf_counter() - start
    jax.config.update("jax_enable_x64", True)
    if cache is not None:
        jax.config.update("jax_compilation_cache_dir", str(cache))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    lib = SimpleNamespace(sigmoid=jax.nn.sigmoid, tanh=jnp.tanh, logsumexp=jax.nn.logsumexp, sum=jnp.sum,
                          mean=jnp.mean)
    model, params, X, T = _inputs(argument, data)

    from .cpu_load import OtherLoad

    before = _files(cache)
    with OtherLoad() as other:
        start = time.perf_counter()
        value_and_grad = jax.jit(jax.value_and_grad(lambda p, x, t: _loss(model, lib, p, x, t)))
        defined = time.perf_counter()
        value, grads = value_and_grad(params, X, T)
        jax.block_until_ready(grads)
        ready = time.perf_counter()
    return _result(model, import_s, start, defined, ready, other.cores, value, grads, before, _files(cache),
                   None, f"jax {jax.__version__}, {jax.default_backend()}")


def _pytensor(argument: str, data: str, cache: Path | None) -> dict:
    if cache is not None:  # read when pytensor and numba are imported
        flags = os.environ.get("PYTENSOR_FLAGS")
        os.environ["PYTENSOR_FLAGS"] = ",".join(filter(None, [flags, f"base_compiledir={cache}"]))
        os.environ["NUMBA_CACHE_DIR"] = str(cache / "numba-sources")
    start = time.perf_counter()
    import pytensor
    import pytensor.tensor as pt

    import_s = time.perf_counter() - start
    model, params, X, T = _inputs(argument, data)

    from numba.core import event

    from .cpu_load import OtherLoad

    numba_compile = event.TimingListener()
    before = _files(cache)
    with event.install_listener("numba:compile", numba_compile), OtherLoad() as other:
        start = time.perf_counter()
        weights = [pt.dmatrix(f"W{k}") for k in range(len(params))]
        biases = [pt.dvector(f"b{k}") for k in range(len(params))]
        x, t = pt.dmatrix("X"), pt.dmatrix("T")
        loss = _loss(model, pt, list(zip(weights, biases, strict=True)), x, t)
        grads = pytensor.grad(loss, [*weights, *biases])
        function = pytensor.function([*weights, *biases, x, t], [loss, *grads], mode="NUMBA")
        defined = time.perf_counter()
        value, *grads = function(*(W for W, _ in params), *(b for _, b in params), X, T)
        ready = time.perf_counter()
    pairs = list(zip(grads[: len(params)], grads[len(params):], strict=True))
    numba_s = numba_compile.duration if numba_compile.done else 0.0
    return _result(model, import_s, start, defined, ready, other.cores, value, pairs, before, _files(cache),
                   numba_s, f"pytensor {pytensor.__version__}, mode NUMBA")


def _inputs(argument: str, data: str) -> tuple:
    """``(model, [(W, b), ...], X, T)`` from the parent's first-call data."""
    from .compile_models import from_argument, layers, load

    model = from_argument(argument)
    arrays = load(data)
    return model, layers(model, arrays["theta"]), arrays["X"], arrays["T"]


def _files(cache: Path | None) -> int | None:
    if cache is None:
        return None
    return sum(len(names) for _, _, names in os.walk(cache))


def _result(model, import_s, start, defined, ready, other_load, value, grads, before, after, numba_s,
            library) -> dict:
    from .compile_models import flatten

    hit = None
    if before is not None:
        hit = before > 0 and after == before and not numba_s
    return {
        "import_s": import_s,
        "define_s": defined - start,
        "first_call_s": ready - defined,
        "ready_s": ready - start,
        "numba_compile_s": numba_s,
        "other_load": other_load,
        "cache_files": [before, after],
        "cache_hit": hit,
        "library": library,
        "loss": float(value),
        "grad": [float(g) for g in flatten(model, grads)],
    }


if __name__ == "__main__":
    print(json.dumps(measure(*sys.argv[1:5])))
