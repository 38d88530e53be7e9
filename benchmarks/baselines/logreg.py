"""Logistic regression by full-batch gradient descent, once per peer of the ``logreg`` workload.

The data is scikit-learn's breast-cancer set (569 samples, 30 features),
each feature standardised to mean 0 and standard deviation 1 (population
std), target 1 for benign. Every peer minimises the mean binary
cross-entropy of ``p = sigmoid(w . x + b)`` by gradient descent with a
fixed rate from ``theta = (w, b) = 0``::

    theta -= lr * (X^T (p - t) / n,  mean(p - t))

:func:`prepare` returns a :class:`~benchmarks.training.Trainer` whose
``train(steps)`` starts afresh from zeros and returns the final ``theta``
(``w`` then ``b``, symgrad's parameter order) and the seconds spent in the
training loop. For tests, ``data`` may name a small seeded synthetic set
instead, or keep only the first features.
"""

from __future__ import annotations

import time

import numpy as np

from ..training import HINTS, Trainer

__all__ = ["PEERS", "LR", "load", "prepare", "model", "matrix_model", "SKLEARN_HINT"]

LR = 0.1
SKLEARN_HINT = HINTS["sklearn"]

#: Peer name -> the importable package it needs beyond symgrad's own dependencies.
PEERS = {
    "symgrad fit": None,
    "symgrad python": None,
    "symgrad matrix fit": None,
    "numba BLAS": "scipy",  # numba's np.dot calls BLAS through SciPy
    "numba BLAS + loss": "scipy",
    "numpy": None,
    "torch": "torch",
    "jax fori_loop": "jax",
}


def load(data: dict) -> tuple[np.ndarray, np.ndarray]:
    """``(X, t)``: ``{"name": "breast_cancer", "features": k}`` or ``{"name": "synthetic", ...}``.

    ``features`` keeps the first ``k`` columns (default all). The synthetic set has
    ``samples`` rows drawn from N(0, 1), ``seed``-ed, and targets from a noisy linear rule.
    """
    if data["name"] == "breast_cancer":
        from sklearn.datasets import load_breast_cancer  # ships with scikit-learn, no download

        bunch = load_breast_cancer()
        X, t = bunch.data, bunch.target.astype(np.float64)
    elif data["name"] == "synthetic":
        rng = np.random.default_rng(data.get("seed", 0))
        X = rng.normal(size=(data["samples"], data.get("features") or 3))
        t = (X @ rng.normal(size=X.shape[1]) + rng.normal(size=X.shape[0]) > 0).astype(np.float64)
    else:
        raise ValueError(f"unknown data set {data['name']!r}")
    X = X[:, : data.get("features") or X.shape[1]]
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return np.ascontiguousarray(X), t


def prepare(peer: str, spec: dict) -> Trainer:
    X, t = load(spec["data"])
    lr = spec.get("lr", LR)
    builders = {
        "symgrad fit": lambda: _symgrad(X, t, lr, fused=True),
        "symgrad python": lambda: _symgrad(X, t, lr, fused=False),
        "symgrad matrix fit": lambda: _symgrad(X, t, lr, fused=True, declare=matrix_model),
        "numba BLAS": lambda: _numba(X, t, lr, loss=False),
        "numba BLAS + loss": lambda: _numba(X, t, lr, loss=True),
        "numpy": lambda: _numpy(X, t, lr),
        "torch": lambda: _torch(X, t, lr),
        "jax fori_loop": lambda: _jax(X, t, lr),
    }
    if peer not in builders:
        raise ValueError(f"no peer {peer!r}; choose from {list(PEERS)}")
    return builders[peer]()


def model(k: int):
    """The symgrad model: ``k`` weights and a bias, ``k`` scalar inputs, one target."""
    import sympy as sp

    import symgrad as sg

    w, x = sp.symbols(f"w0:{k}"), sp.symbols(f"x0:{k}")
    b, t = sp.symbols("b t")
    z = sp.Add(*(wi * xi for wi, xi in zip(w, x, strict=True))) + b
    loss = sg.losses.binary_cross_entropy(sg.sigmoid(z), t)
    return sg.Model(loss=loss, params=[*w, b], inputs=list(x), targets=[t])


def matrix_model(k: int):
    """The same model in matrix form: a (1, k) weight row ``w``, a bias ``b``, ``k`` inputs as one column."""
    import symgrad as sg

    w, b = sg.Param("w", (1, k)), sg.Param("b", 1)
    x, t = sg.Input("x", k), sg.Target("t", 1)
    loss = sg.nn.binary_cross_entropy(w * x + b, t, logits=True)
    return sg.Model(loss=loss, params=[w, b], inputs=[x], targets=[t])


def _symgrad(X, t, lr, fused: bool, declare=model) -> Trainer:
    import symgrad as sg

    net = declare(X.shape[1])
    T = t[:, None]
    theta0 = np.zeros(X.shape[1] + 1)

    def train(steps: int):
        result = sg.fit(net, X, T, optimizer=sg.optim.GD(lr=lr), batch_size=None, max_iter=steps, tol=None,
                        theta0=theta0, fused=fused, progress=False)
        if result.n_iter != steps or result.fused != fused:
            raise RuntimeError(f"sg.fit stopped early or ran the wrong loop: {result!r}")
        return result.theta, result.elapsed

    how = "fused compiled loop" if fused else "Python loop over numba kernels"
    return Trainer(train, 1, how + (", matrix form" if declare is matrix_model else ""))


def _numba(X, t, lr, loss: bool) -> Trainer:
    from .numba_train import logreg_gd_blas

    theta0 = np.zeros(X.shape[1] + 1)

    def train(steps: int):
        losses = np.empty(steps if loss else 0)
        start = time.perf_counter()
        theta = logreg_gd_blas(X, t, theta0, steps, lr, losses)
        return theta, time.perf_counter() - start

    return Trainer(train, _blas_threads(), "one @njit function, np.dot for X w and X^T r"
                   + (", loss every step" if loss else ""))


def _numpy(X, t, lr) -> Trainer:
    n, k = X.shape

    def train(steps: int):
        w, b = np.zeros(k), 0.0
        start = time.perf_counter()
        for _ in range(steps):
            p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
            r = p - t
            w -= lr * (X.T @ r) / n
            b -= lr * r.mean()
        seconds = time.perf_counter() - start
        return np.append(w, b), seconds

    return Trainer(train, _blas_threads(), "array expressions, BLAS matrix-vector products")


def _torch(X, t, lr) -> Trainer:
    import torch

    Xt, tt = torch.from_numpy(X), torch.from_numpy(t)

    def train(steps: int):
        theta = torch.zeros(X.shape[1] + 1, dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.SGD([theta], lr=lr)
        start = time.perf_counter()
        for _ in range(steps):
            optimizer.zero_grad()
            z = Xt @ theta[:-1] + theta[-1]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(z, tt)
            loss.backward()
            optimizer.step()
        seconds = time.perf_counter() - start
        return theta.detach().numpy().copy(), seconds

    return Trainer(train, torch.get_num_threads(), f"torch {torch.__version__}, autograd + torch.optim.SGD")


def _jax(X, t, lr) -> Trainer:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    Xj, tj = jnp.asarray(X), jnp.asarray(t)

    def loss(theta):
        z = Xj @ theta[:-1] + theta[-1]
        return jnp.mean(jax.nn.softplus(z) - tj * z)

    grad = jax.grad(loss)

    @jax.jit
    def run(theta, steps):
        return jax.lax.fori_loop(0, steps, lambda i, th: th - lr * grad(th), theta)

    def train(steps: int):
        theta = jnp.zeros(X.shape[1] + 1, dtype=jnp.float64)
        start = time.perf_counter()
        theta = run(theta, steps).block_until_ready()
        return np.asarray(theta), time.perf_counter() - start

    return Trainer(train, None, f"jax {jax.__version__}, jax.grad in lax.fori_loop")


def _blas_threads() -> int | None:
    from ..throughput_child import blas_threads

    return blas_threads()
