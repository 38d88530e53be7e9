"""The gradient-descent family side by side (lecture notes 001 and 003).

1. Rosenbrock's banana valley from (-1.5, 2): every optimizer, 5000 steps,
   stopping when the gradient norm falls below 1e-6 (the notes' rule).
2. A narrow valley f = x²/20 + y² from (-4, 1): plain gradient descent crawls
   along the floor, momentum builds up speed and overshoots the minimum,
   Adagrad's steps shrink like 1/√t even though it is still far away.
"""

import numpy as np
import sympy as sp

import symgrad as sg

x, y = sp.symbols("x y")
O = sg.optim

rosenbrock = (1 - x) ** 2 + 100 * (y - x**2) ** 2
start = {x: -1.5, y: 2.0}
optimizers = [O.GD(lr=1e-3), O.Momentum(lr=1e-3), O.Nesterov(lr=1e-3), O.Adagrad(lr=0.5), O.RMSProp(lr=1e-3),
              O.Adadelta(lr=1.0), O.Adam(lr=1e-2), O.Adamax(lr=2e-2), O.Nadam(lr=1e-2), O.AMSGrad(lr=1e-2)]

print("Rosenbrock from (-1.5, 2), at most 5000 steps, stop at |grad| <= 1e-6")
print(f"{'optimizer':10} {'lr':>6} {'steps':>6} {'final loss':>11} {'|theta - (1, 1)|':>17}  stopped by")
for optimizer in optimizers:
    result = sg.minimize(rosenbrock, start, optimizer=optimizer, max_iter=5000, tol=1e-6)
    distance = np.linalg.norm(result.theta - 1.0)
    print(f"{optimizer.name:10} {optimizer.lr:6g} {result.n_iter:6d} {result.loss:11.3e} {distance:17.3e}  "
          f"{result.reason}")
newton = sg.minimize(rosenbrock, start, optimizer=O.Newton(), max_iter=100, tol=1e-10)
print(f"{'Newton':10} {1:6g} {newton.n_iter:6d} {newton.loss:11.3e} "
      f"{np.linalg.norm(newton.theta - 1.0):17.3e}  {newton.reason}  (uses the exact Hessian)")


def path(optimizer, steps):
    """The points visited, recorded by a callback (callbacks run the Python-level loop)."""
    points = []
    sg.minimize(valley, {x: -4.0, y: 1.0}, optimizer=optimizer, max_iter=steps, tol=0,
                callbacks=[lambda info: points.append(info.theta.copy())])
    return np.array(points)


valley = x**2 / 20 + y**2
print("\nNarrow valley f = x²/20 + y² from (-4, 1), 100 steps")
for optimizer in (O.GD(lr=0.1), O.Momentum(lr=0.1, momentum=0.9)):
    points = path(optimizer, 100)
    overshoot = "  <- overshoots the minimum at x = 0" if points[:, 0].max() > 0 else ""
    print(f"{optimizer.name:8}: x after 100 steps {points[-1, 0]:+.3f}, "
          f"largest x reached {points[:, 0].max():+.3f}{overshoot}")

points = path(O.Adagrad(lr=0.02), 2000)
lengths = np.linalg.norm(np.diff(points, axis=0), axis=1)
print(f"Adagrad : step length {lengths[9]:.5f} at step 10, {lengths[-1]:.5f} at step 2000, yet still "
      f"{np.linalg.norm(points[-1]):.2f} from the minimum: its steps vanish like 1/sqrt(t)")
