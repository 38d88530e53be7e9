"""``symgrad demo``: the lecture notes' worked examples, computed exactly, then trained.

Each section builds its model from a few SymPy lines, differentiates it and
prints what a reader would check by hand. The builders are importable so the
tests can check the same numbers the demo prints.
"""

from __future__ import annotations

import sys
from typing import TextIO

import numpy as np
import sympy as sp

from .. import losses
from ..api import grad, program
from ..declare.functions import sigmoid
from ..model import Model
from ..optim import GD, Adam, Momentum
from ..train.driver import fit, minimize

__all__ = ["run", "gate_example", "logistic_regression", "logistic_data", "seed003_network", "SEED003_POINT"]


def gate_example():
    """Seed 002: ``f = 2(xy + max(z, w))`` and the point (3, -4, 2, -1)."""
    x, y, z, w = sp.symbols("x y z w")
    return 2 * (x * y + sp.Max(z, w)), [x, y, z, w], {x: 3, y: -4, z: 2, w: -1}


def logistic_regression() -> Model:
    """Seed 000: logistic regression with the cross-entropy loss."""
    w1, w2, b, x1, x2, t = sp.symbols("w1 w2 b x1 x2 t")
    p = sigmoid(w1 * x1 + w2 * x2 + b)
    return Model(loss=losses.binary_cross_entropy(p, t), params=[w1, w2, b], inputs=[x1, x2], targets=[t])


_r = sp.Rational
SEED003_POINT = {
    "x1": _r(35, 100), "x2": _r(9, 10),
    "w31": _r(1, 10), "w32": _r(8, 10), "w41": _r(4, 10), "w42": _r(6, 10),
    "w53": _r(3, 10), "w54": _r(9, 10), "t": _r(1, 2),
}


def seed003_network() -> tuple[Model, dict[sp.Symbol, sp.Rational]]:
    """Seed 003: the 2-2-1 sigmoid network, E = ½(y₅ − t)², and its point (exact)."""
    x1, x2, w31, w32, w41, w42, w53, w54, t = sp.symbols("x1 x2 w31 w32 w41 w42 w53 w54 t")
    y3 = sigmoid(w31 * x1 + w32 * x2)
    y4 = sigmoid(w41 * x1 + w42 * x2)
    y5 = sigmoid(w53 * y3 + w54 * y4)
    model = Model(
        loss=losses.half_squared_error(y5, t),
        params=[w31, w32, w41, w42, w53, w54],
        inputs=[x1, x2],
        targets=[t],
    )
    symbols = {str(s): s for s in model.roles}
    return model, {symbols[name]: value for name, value in SEED003_POINT.items()}


def _heading(out: TextIO, title: str) -> None:
    out.write(f"\n{title}\n{'=' * len(title)}\n")


def _gates(out: TextIO) -> None:
    f, variables, point = gate_example()
    _heading(out, "1. Backprop through gates (seed 002)")
    out.write(f"f = {f}   at {', '.join(f'{k} = {v}' for k, v in point.items())}\n\n")
    prog = program(f, variables)
    values = prog.evaluate(point)
    out.write(f"f = {values['value', 0]}\n")
    gradient = ", ".join(str(values["grad", 0, i]) for i in range(len(variables)))
    out.write(f"∇f = ({gradient})   (the notes: (-8, 6, 2, 0))\n")
    symbolic = zip(variables, grad(f, variables), strict=True)
    out.write("symbolically: " + ", ".join(f"∂f/∂{v} = {g}" for v, g in symbolic) + "\n")
    out.write("\nthe straight-line program (forward pass, then adjoints):\n")
    out.write("".join(f"  {line}\n" for line in str(prog).splitlines()))
    out.write("A tie z = w would split the max's gradient evenly: 1/2 each.\n")


def _logistic(out: TextIO) -> None:
    model = logistic_regression()
    _heading(out, "2. Logistic regression, cross-entropy loss (seed 000)")
    z = model.loss.atoms(sigmoid).pop()
    p = sp.Symbol("p")
    out.write(f"loss = {model.loss.subs(z, p)}   with p = {z}\n\n")
    for param, g in model.gradient().items():
        in_p = g.subs(z, p)
        out.write(f"∂loss/∂{param} = {in_p}\n{'':>{len(str(param)) + 8}}= {sp.factor(in_p)}\n")
    out.write("i.e. (p - t)·x: the chain rule's σ' = p(1 - p) cancels the log's 1/p.\n")


def _network(out: TextIO) -> None:
    model, point = seed003_network()
    _heading(out, "3. The 2-2-1 sigmoid network (seed 003)")
    out.write("x = (0.35, 0.9), W0 = [[0.1, 0.8], [0.4, 0.6]], W1 = [0.3, 0.9], target 0.5\n\n")
    values = model.program.evaluate(point)
    loss = values["value", 0]
    out.write(f"E = {sp.N(loss, 12)}   (the slide rounds to 0.01805)\n")
    for i, param in enumerate(model.params):
        out.write(f"∂E/∂{param} = {sp.N(values['grad', 0, i], 12)}\n")
    w53 = model.params.index(sp.Symbol("w53"))
    out.write(
        "\nThe slide's Δw53 = (0.69 - 0.5)·0.69·(1 - 0.69)·0.663 = 0.02711 has two slips:\n"
        "0.663 is y4, but ∂z5/∂w53 = y3 = σ(0.755) = 0.6803, and those rounded factors\n"
        f"multiply to 0.02694, not 0.02711. The exact value is {sp.N(values['grad', 0, w53], 8)}.\n\n"
    )
    out.write(str(model.explain(sp.Symbol("w53"), at=point)) + "\n")
    step = {p: point[p] - values["grad", 0, i] for i, p in enumerate(model.params)}
    after = model.program.evaluate({**point, **step})["value", 0]
    out.write(f"\nOne gradient step (learning rate 1): E goes from {sp.N(loss, 8)} to {sp.N(after, 8)}.\n")


def logistic_data(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Samples for :func:`logistic_regression`: labels drawn from σ(2x₁ − x₂ + ½)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    T = (rng.random(n) < 1 / (1 + np.exp(-(2 * X[:, 0] - X[:, 1] + 0.5)))).astype(float)
    return X, T


def _training(out: TextIO) -> None:
    _heading(out, "4. Training: the gradient-descent family (seeds 001 and 003)")
    x, y = sp.symbols("x y")
    rosenbrock = (1 - x) ** 2 + 100 * (y - x**2) ** 2
    out.write(f"minimise {rosenbrock} from (-1.5, 2), stop when |grad| <= 1e-8\n")
    for optimizer in (GD(lr=1e-3), Momentum(lr=1e-3), Adam(lr=1e-2)):
        res = minimize(rosenbrock, {x: -1.5, y: 2.0}, optimizer=optimizer, max_iter=20_000, tol=1e-8)
        out.write(f"  {optimizer.name:8} lr {optimizer.lr:g}: {res.reason} after {res.n_iter} steps, "
                  f"(x, y) = ({res.params[x]:.6f}, {res.params[y]:.6f})\n")
    X, T = logistic_data()
    out.write(f"\nlogistic regression (section 2) on {len(X)} samples with labels from σ(2x₁ − x₂ + ½):\n")
    for label, settings in (("batch GD", dict(optimizer=GD(lr=1.0), max_iter=500)),
                            ("mini-batch Adam", dict(optimizer=Adam(lr=0.05), batch_size=32, epochs=5))):
        res = fit(logistic_regression(), X, T, theta0=np.zeros(3), seed=0, **settings)
        weights = ", ".join(f"{p} = {v:.3f}" for p, v in res.params.items())
        out.write(f"  {label:16}: {res.n_iter} steps, loss {res.loss:.4f}, {weights}\n")


def run(out: TextIO | None = None) -> None:
    """Print the worked examples to ``out`` (default stdout)."""
    out = out or sys.stdout
    out.write("symgrad demo: the lecture notes' worked examples, differentiated exactly\n")
    for section in (_gates, _logistic, _network, _training):
        section(out)
