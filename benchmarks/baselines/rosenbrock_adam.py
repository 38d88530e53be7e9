"""Adam on the Rosenbrock function, once per peer of the ``rosenbrock_adam`` workload.

Every peer runs the same float64 algorithm: torch's Adam (``lr=1e-2``,
``betas=(0.9, 0.999)``, ``eps=1e-8``, no weight decay) on
``f(x, y) = (1 - x)**2 + 100 (y - x**2)**2`` from ``(-1.5, 2)``::

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g**2
    theta -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)

:func:`prepare` returns a :class:`~benchmarks.training.Trainer` whose
``train(steps)`` starts afresh from ``(-1.5, 2)`` and returns the final
``theta`` and the seconds spent in the training loop. Only the modules a
peer needs are imported (a missing one raises ``ModuleNotFoundError``).
"""

from __future__ import annotations

import time

import numpy as np

from ..training import Trainer

__all__ = ["PEERS", "X0", "LR", "BETAS", "EPS", "prepare", "rosenbrock"]

X0 = (-1.5, 2.0)
LR = 1e-2
BETAS = (0.9, 0.999)
EPS = 1e-8

#: Peer name -> the importable package it needs beyond symgrad's own dependencies.
PEERS = {
    "symgrad fused": None,
    "symgrad python": None,
    "numba loop": None,
    "torch": "torch",
    "jax fori_loop": "jax",
    "jax jit-step": "jax",
    "pytensor": "pytensor",
}


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def prepare(peer: str, spec: dict) -> Trainer:
    builders = {
        "symgrad fused": lambda: _symgrad(fused=True),
        "symgrad python": lambda: _symgrad(fused=False),
        "numba loop": _numba,
        "torch": _torch,
        "jax fori_loop": lambda: _jax(fori_loop=True),
        "jax jit-step": lambda: _jax(fori_loop=False),
        "pytensor": _pytensor,
    }
    if peer not in builders:
        raise ValueError(f"no peer {peer!r}; choose from {list(PEERS)}")
    return builders[peer]()


def _symgrad(fused: bool) -> Trainer:
    import sympy as sp

    import symgrad as sg

    x, y = sp.symbols("x y")
    objective = rosenbrock(x, y)

    def train(steps: int):
        result = sg.minimize(objective, x0={x: X0[0], y: X0[1]},
                             optimizer=sg.optim.Adam(lr=LR, betas=BETAS, eps=EPS),
                             max_iter=steps, tol=0, fused=fused, progress=False)
        if result.n_iter != steps or result.fused != fused:
            raise RuntimeError(f"sg.minimize stopped early or ran the wrong loop: {result!r}")
        return result.theta, result.elapsed

    return Trainer(train, 1, "fused compiled loop" if fused else "Python loop over numba kernels")


def _numba() -> Trainer:
    from .numba_train import rosenbrock_adam

    theta0 = np.array(X0)

    def train(steps: int):
        start = time.perf_counter()
        theta = rosenbrock_adam(theta0, steps, LR, BETAS[0], BETAS[1], EPS)
        return theta, time.perf_counter() - start

    return Trainer(train, 1, "one @njit function")


def _torch() -> Trainer:
    import torch

    def train(steps: int):
        theta = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.Adam([theta], lr=LR, betas=BETAS, eps=EPS)
        start = time.perf_counter()
        for _ in range(steps):
            optimizer.zero_grad()
            loss = rosenbrock(theta[0], theta[1])
            loss.backward()
            optimizer.step()
        seconds = time.perf_counter() - start
        return theta.detach().numpy().copy(), seconds

    return Trainer(train, torch.get_num_threads(), f"torch {torch.__version__}, torch.optim.Adam")


def _jax(fori_loop: bool) -> Trainer:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    grad = jax.grad(lambda theta: rosenbrock(theta[0], theta[1]))
    b1, b2 = BETAS

    def adam(t, state):
        theta, m, v = state
        g = grad(theta)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta - LR / (1 - b1**t) * m / (jnp.sqrt(v) / jnp.sqrt(1 - b2**t) + EPS)
        return theta, m, v

    def start_state():
        return jnp.array(X0, dtype=jnp.float64), jnp.zeros(2), jnp.zeros(2)

    if fori_loop:
        @jax.jit
        def run(state, steps):
            return jax.lax.fori_loop(0, steps, lambda i, s: adam((i + 1).astype(jnp.float64), s), state)

        def train(steps: int):
            state = start_state()
            start = time.perf_counter()
            theta = run(state, steps)[0].block_until_ready()
            return np.asarray(theta), time.perf_counter() - start
    else:
        step = jax.jit(adam)

        def train(steps: int):
            state = start_state()
            start = time.perf_counter()
            for t in range(1, steps + 1):
                state = step(float(t), state)
            theta = state[0].block_until_ready()
            return np.asarray(theta), time.perf_counter() - start

    return Trainer(train, None, f"jax {jax.__version__}, Adam by hand, jax.grad")


def _pytensor() -> Trainer:
    import pytensor
    import pytensor.tensor as pt

    b1, b2 = BETAS
    theta = pytensor.shared(np.array(X0), name="theta")
    m = pytensor.shared(np.zeros(2), name="m")
    v = pytensor.shared(np.zeros(2), name="v")
    t = pytensor.shared(np.float64(0.0), name="t")
    g = pytensor.grad(rosenbrock(theta[0], theta[1]), theta)
    t1 = t + 1.0
    m1 = b1 * m + (1 - b1) * g
    v1 = b2 * v + (1 - b2) * g * g
    theta1 = theta - LR / (1 - b1**t1) * m1 / (pt.sqrt(v1) / pt.sqrt(1 - b2**t1) + EPS)
    step = pytensor.function([], [], updates=[(theta, theta1), (m, m1), (v, v1), (t, t1)])

    def train(steps: int):
        theta.set_value(np.array(X0))
        m.set_value(np.zeros(2))
        v.set_value(np.zeros(2))
        t.set_value(np.float64(0.0))
        start = time.perf_counter()
        for _ in range(steps):
            step()
        seconds = time.perf_counter() - start
        return theta.get_value().copy(), seconds

    return Trainer(train, None, f"pytensor {pytensor.__version__}, compiled step function "
                                f"({pytensor.config.linker} linker)")
