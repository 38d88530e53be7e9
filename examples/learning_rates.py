"""Learning rate too small, about right, too large (lecture notes 001 and 003).

Gradient descent on f = x² + 10y² from (3, 1). The curvature along y is 20,
so plain gradient descent is stable only for lr < 2/20 = 0.1. Too small a
rate crawls; too large a rate makes every step overshoot further, and the
driver stops with a DivergenceError that carries the last good parameters.
A decaying schedule starts large and still settles.
"""

import sympy as sp

import symgrad as sg

x, y = sp.symbols("x y")
f = x**2 + 10 * y**2
start = {x: 3.0, y: 1.0}

for lr in (0.001, 0.05, 0.11):
    try:
        result = sg.minimize(f, start, optimizer=sg.optim.GD(lr=lr), max_iter=200, tol=1e-8)
        print(f"lr = {lr:<6}: {result.reason} after {result.n_iter} steps, f = {result.loss:.3e}")
    except sg.errors.DivergenceError as error:
        last = ", ".join(f"{k} = {v:.3g}" for k, v in error.params.items())
        print(f"lr = {lr:<6}: diverged at step {error.step} (f = {error.loss:.3g}); "
              f"last good parameters {last}")

# Exponential decay α₀e^(−kt): starts above the stability limit, then drops below it.
result = sg.minimize(f, start, optimizer=sg.optim.GD(lr=0.12), schedule=sg.schedules.exponential(0.01),
                     max_iter=2000, tol=1e-8)
print(f"lr = 0.12·exp(-0.01 t): {result.reason} after {result.n_iter} steps, f = {result.loss:.3e}, "
      f"final rate {result.history.lr[-1]:.2e}")
