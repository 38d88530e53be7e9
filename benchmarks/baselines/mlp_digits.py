"""A 64-32-10 tanh network trained with Adam on the digits data, once per peer of the ``mlp_digits`` workload.

The data is scikit-learn's bundled 8x8 digits (1,797 images, no download):
pixels divided by 16, one-hot targets, split by
``train_test_split(X, Y, test_size=0.2, random_state=0)`` into 1,437
training and 360 test rows. Every peer runs the same float64 algorithm on
the training rows: the logits ``W2 tanh(W1 x + b1) + b2``, the mean over a
mini-batch of the softmax cross-entropy ``logsumexp(z) - y . z``, and one
step of torch's Adam (``lr=1e-3``, ``betas=(0.9, 0.999)``, ``eps=1e-8``)
per mini-batch of 32 rows, taken in order without shuffling, so an epoch is
44 batches of 32 and one of 29 (1,437 = 44 * 32 + 29), 45 steps::

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g**2
    theta -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)

``theta`` is symgrad's layout: ``W1`` (32, 64) row-major, ``b1`` (32),
``W2`` (10, 32), ``b2`` (10). The workload draws the starting point once
(``model.init_params(seed=0)``: Xavier weights, zero biases) and passes it
to every peer in the spec. :func:`prepare` returns a
:class:`~benchmarks.training.Trainer` whose ``train(epochs)`` starts afresh
from it and returns the final ``theta`` and the seconds spent in the
training loop.
"""

from __future__ import annotations

import time

import numpy as np

from ..training import HINTS, Trainer

__all__ = ["PEERS", "SIZES", "LR", "BETAS", "EPS", "BATCH", "SKLEARN_HINT", "load", "model", "prepare",
           "accuracy", "unflatten"]

SIZES = (64, 32, 10)
LR = 1e-3
BETAS = (0.9, 0.999)
EPS = 1e-8
BATCH = 32
SKLEARN_HINT = HINTS["sklearn"]

#: Peer name -> the importable package it needs beyond symgrad's own dependencies.
PEERS = {
    "symgrad fit": None,
    "symgrad python": None,
    "numba BLAS": "scipy",  # numba's np.dot calls BLAS through SciPy
    "numpy": None,
    "torch": "torch",
    "jax jit-step": "jax",
    "jax scan": "jax",
}


def load() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X_train, Y_train, X_test, Y_test)``: the digits, pixels over 16, one-hot targets, C-contiguous."""
    from sklearn.datasets import load_digits  # ships with scikit-learn, no download
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = digits.data / 16.0
    Y = np.eye(SIZES[-1])[digits.target]
    parts = train_test_split(X, Y, test_size=0.2, random_state=0)
    return tuple(np.ascontiguousarray(part, dtype=np.float64) for part in parts[::2] + parts[1::2])


def model():
    """The symgrad model: ``sg.nn.mlp`` with tanh hidden units, softmax cross-entropy on the logits."""
    import symgrad as sg

    net = sg.nn.mlp(list(SIZES), activation="tanh")
    y = sg.Target("y", SIZES[-1])
    return sg.Model(loss=sg.nn.cross_entropy(net.output, y), params=net.params, inputs=[net.x], targets=[y])


def unflatten(theta) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Views ``(W1, b1, W2, b2)`` of a flat ``theta`` in symgrad's layout."""
    d, h, k = SIZES
    theta = np.asarray(theta)
    W1 = theta[: h * d].reshape(h, d)
    b1 = theta[h * d: h * d + h]
    W2 = theta[h * d + h: h * d + h + k * h].reshape(k, h)
    b2 = theta[h * d + h + k * h:]
    if b2.shape != (k,):
        raise ValueError(f"theta has {theta.size} entries; the {'-'.join(map(str, SIZES))} network has "
                         f"{h * d + h + k * h + k}")
    return W1, b1, W2, b2


def accuracy(theta, X, Y) -> float:
    """Fraction of rows whose largest logit is the one-hot target's class (numpy, no symgrad)."""
    W1, b1, W2, b2 = unflatten(theta)
    logits = np.tanh(X @ W1.T + b1) @ W2.T + b2
    return float(np.mean(logits.argmax(axis=1) == Y.argmax(axis=1)))


def prepare(peer: str, spec: dict) -> Trainer:
    X, Y, _, _ = load()
    theta0 = np.array(spec["theta0"], dtype=np.float64)
    builders = {
        "symgrad fit": lambda: _symgrad(X, Y, theta0, fused=True),
        "symgrad python": lambda: _symgrad(X, Y, theta0, fused=False),
        "numba BLAS": lambda: _numba(X, Y, theta0),
        "numpy": lambda: _numpy(X, Y, theta0),
        "torch": lambda: _torch(X, Y, theta0, spec.get("threads")),
        "jax jit-step": lambda: _jax(X, Y, theta0, scan=False),
        "jax scan": lambda: _jax(X, Y, theta0, scan=True),
    }
    if peer not in builders:
        raise ValueError(f"no peer {peer!r}; choose from {list(PEERS)}")
    return builders[peer]()


def _steps(n: int, epochs: int) -> int:
    return epochs * -(-n // BATCH)


def _symgrad(X, Y, theta0, fused: bool) -> Trainer:
    import symgrad as sg

    net = model()

    def train(epochs: int):
        result = sg.fit(net, X, Y, optimizer=sg.optim.Adam(lr=LR, betas=BETAS, eps=EPS), batch_size=BATCH,
                        epochs=epochs, shuffle=False, seed=0, theta0=theta0, fused=fused, progress=False)
        if result.n_iter != _steps(len(X), epochs) or result.fused != fused:
            raise RuntimeError(f"sg.fit stopped early or ran the wrong loop: {result!r}")
        return result.theta, result.elapsed

    return Trainer(train, 1, "fused compiled loop" if fused else "Python loop over numba kernels")


def _numba(X, Y, theta0) -> Trainer:
    from .numba_train import mlp_adam_blas

    def train(epochs: int):
        losses = np.empty(_steps(len(X), epochs))
        start = time.perf_counter()
        theta = mlp_adam_blas(X, Y, theta0, SIZES[1], epochs, BATCH, LR, BETAS[0], BETAS[1], EPS, losses)
        return theta, time.perf_counter() - start

    return Trainer(train, _blas_threads(), "one @njit function for all epochs, np.dot for the 5 products")


def _numpy(X, Y, theta0) -> Trainer:
    b1, b2 = BETAS

    def train(epochs: int):
        theta = theta0.copy()
        W1, bias1, W2, bias2 = unflatten(theta)
        g = np.zeros_like(theta)
        gW1, gb1, gW2, gb2 = unflatten(g)
        m, v = np.zeros_like(theta), np.zeros_like(theta)
        losses, t = [], 0
        start = time.perf_counter()
        for _ in range(epochs):
            for first in range(0, len(X), BATCH):
                Xb, Yb = X[first:first + BATCH], Y[first:first + BATCH]
                A1 = np.tanh(Xb @ W1.T + bias1)
                Z2 = A1 @ W2.T + bias2
                Z2 -= Z2.max(axis=1, keepdims=True)
                log_total = np.log(np.exp(Z2).sum(axis=1, keepdims=True))
                losses.append(float(np.sum(Yb * (log_total - Z2))) / len(Xb))
                D2 = (np.exp(Z2 - log_total) - Yb) / len(Xb)  # the mean loss's gradient at the logits
                np.dot(D2.T, A1, out=gW2)
                gb2[:] = D2.sum(axis=0)
                D1 = (D2 @ W2) * (1.0 - A1 * A1)
                np.dot(D1.T, Xb, out=gW1)
                gb1[:] = D1.sum(axis=0)
                t += 1
                m *= b1
                m += (1.0 - b1) * g
                v *= b2
                v += (1.0 - b2) * g * g
                theta -= LR / (1.0 - b1**t) * m / (np.sqrt(v) / np.sqrt(1.0 - b2**t) + EPS)
        seconds = time.perf_counter() - start
        return theta, seconds

    return Trainer(train, _blas_threads(), "array expressions per mini-batch, Adam by hand")


def _torch(X, Y, theta0, threads: int | None) -> Trainer:
    import torch

    if threads is not None:
        # The child's environment already says so; a run in the parent process (tests) needs it too:
        # two intra-op threads on a busy 2-core machine made each step 100 times slower.
        torch.set_num_threads(threads)
    Xt = torch.from_numpy(X)
    labels = torch.from_numpy(Y.argmax(axis=1))
    d, h, k = SIZES

    def train(epochs: int):
        net = torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.Tanh(), torch.nn.Linear(h, k)).double()
        with torch.no_grad():
            for param, value in zip(net.parameters(), unflatten(theta0), strict=True):
                param.copy_(torch.from_numpy(value))
        optimizer = torch.optim.Adam(net.parameters(), lr=LR, betas=BETAS, eps=EPS)
        start = time.perf_counter()
        for _ in range(epochs):
            for first in range(0, len(X), BATCH):
                optimizer.zero_grad()
                loss = torch.nn.functional.cross_entropy(net(Xt[first:first + BATCH]),
                                                         labels[first:first + BATCH])
                loss.backward()
                optimizer.step()
        seconds = time.perf_counter() - start
        theta = torch.cat([p.detach().reshape(-1) for p in net.parameters()]).numpy().copy()
        return theta, seconds

    return Trainer(train, torch.get_num_threads(),
                   f"torch {torch.__version__}, nn.Linear + cross_entropy, torch.optim.Adam, Python loop")


def _jax(X, Y, theta0, scan: bool) -> Trainer:
    """``scan``: every epoch in one jitted call, the 44 full batches in ``lax.scan``, the 29-row tail
    after it in the same call, epochs in ``lax.fori_loop``; otherwise one jitted step per batch."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    b1, b2 = BETAS

    def loss(params, Xb, Yb):
        W1, bias1, W2, bias2 = params
        Z2 = jnp.tanh(Xb @ W1.T + bias1) @ W2.T + bias2
        return jnp.mean(jax.nn.logsumexp(Z2, axis=1) - jnp.sum(Yb * Z2, axis=1))

    grad = jax.value_and_grad(loss)

    def adam(state, Xb, Yb):
        params, m, v, t = state
        t = t + 1.0
        value, g = grad(params, Xb, Yb)
        m = tuple(b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g, strict=True))
        v = tuple(b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, g, strict=True))
        step_size, root_bc2 = LR / (1 - b1**t), jnp.sqrt(1 - b2**t)
        params = tuple(p - step_size * mi / (jnp.sqrt(vi) / root_bc2 + EPS)
                       for p, mi, vi in zip(params, m, v, strict=True))
        return (params, m, v, t), value

    def start_state():
        params = tuple(jnp.asarray(a) for a in unflatten(theta0.copy()))
        zeros = tuple(jnp.zeros_like(p) for p in params)
        return params, zeros, zeros, jnp.float64(0.0)

    full = len(X) // BATCH * BATCH
    if scan:
        Xs = jnp.asarray(X[:full].reshape(-1, BATCH, X.shape[1]))
        Ys = jnp.asarray(Y[:full].reshape(-1, BATCH, Y.shape[1]))
        X_tail, Y_tail = jnp.asarray(X[full:]), jnp.asarray(Y[full:])

        def epoch(_, state):
            state, _ = jax.lax.scan(lambda s, batch: adam(s, *batch), state, (Xs, Ys))
            if full < len(X):
                state, _ = adam(state, X_tail, Y_tail)
            return state

        run = jax.jit(lambda state, epochs: jax.lax.fori_loop(0, epochs, epoch, state))

        def train(epochs: int):
            state = start_state()
            start = time.perf_counter()
            params = run(state, epochs)[0]
            jax.block_until_ready(params)
            return _flat(params), time.perf_counter() - start

        note = "lax.scan over the 44 full batches + the tail step, epochs in fori_loop, one jitted call"
    else:
        step = jax.jit(adam)
        batches = [(jnp.asarray(X[i:i + BATCH]), jnp.asarray(Y[i:i + BATCH]))
                   for i in range(0, len(X), BATCH)]

        def train(epochs: int):
            state = start_state()
            start = time.perf_counter()
            for _ in range(epochs):
                for Xb, Yb in batches:
                    state, _ = step(state, Xb, Yb)
            jax.block_until_ready(state[0])
            return _flat(state[0]), time.perf_counter() - start

        note = "jitted Adam step (jax.value_and_grad) called per batch from Python"
    return Trainer(train, None, f"jax {jax.__version__}, {note}")


def _flat(params) -> np.ndarray:
    return np.concatenate([np.asarray(p).reshape(-1) for p in params])


def _blas_threads() -> int | None:
    from ..throughput_child import blas_threads

    return blas_threads()
