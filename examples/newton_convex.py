"""Newton's method with the exact Hessian (lecture notes 003) on convex problems.

On a quadratic, one Newton step with rate 1 lands on the minimum. On
logistic regression (convex, not quadratic) it converges in a handful of
steps where gradient descent needs hundreds.
"""

import numpy as np
import sympy as sp

import symgrad as sg

x, y = sp.symbols("x y")
quadratic = 3 * x**2 + 2 * x * y + y**2 - 4 * x + 1
result = sg.minimize(quadratic, {x: 5.0, y: -7.0}, optimizer=sg.optim.Newton(), tol=1e-10)
print(f"quadratic: minimum at x = {result.params[x]:.12g}, y = {result.params[y]:.12g} "
      f"after {result.n_iter} Newton step(s) (exact: x = 1, y = -1)")

w1, w2, b, x1, x2, t = sp.symbols("w1 w2 b x1 x2 t")
model = sg.Model(loss=sg.losses.binary_cross_entropy(sg.sigmoid(w1 * x1 + w2 * x2 + b), t),
                 params=[w1, w2, b], inputs=[x1, x2], targets=[t])
rng = np.random.default_rng(0)
X = rng.normal(size=(1000, 2))
T = (rng.random(1000) < 1 / (1 + np.exp(-(2 * X[:, 0] - X[:, 1] + 0.5)))).astype(float)
theta0 = np.zeros(3)
newton = sg.fit(model, X, T, optimizer=sg.optim.Newton(), theta0=theta0, max_iter=50, tol=1e-10)
gd = sg.fit(model, X, T, optimizer=sg.optim.GD(lr=1.0), theta0=theta0, max_iter=20000, tol=1e-10)
print(f"logistic regression: Newton {newton.n_iter} steps, gradient descent {gd.n_iter} steps "
      "to |grad| <= 1e-10")
print(f"the same optimum: {np.max(np.abs(newton.theta - gd.theta)):.1e} apart; "
      f"w1 = {newton.params[w1]:.4f}, w2 = {newton.params[w2]:.4f}, b = {newton.params[b]:.4f}")
