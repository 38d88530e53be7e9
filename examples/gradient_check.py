"""Checking a hand-written backprop against symgrad's exact gradient and finite differences.

The story: you wrote the backward pass of the notes' 2-2-1 sigmoid network
(seed 003) by hand, in numpy. Is it right? symgrad's compiled gradient is
exact; finite differences of the loss are an independent witness. The
script checks the compiled kernels (compile(check=True)), prints the notes'
numerical-gradient table (seed 001), catches a forgotten σ' in the
hand-written version, and checks a 100 000-parameter numpy model with a few
dozen loss evaluations.

    python examples/gradient_check.py
"""

import numpy as np
import sympy as sp

import symgrad as sg

# -- the model, compiled and checked ------------------------------------------------------------
x1, x2, t = sp.symbols("x1 x2 t")
w31, w32, w41, w42, w53, w54 = params = sp.symbols("w31 w32 w41 w42 w53 w54")
y3 = sg.sigmoid(w31 * x1 + w32 * x2)
y4 = sg.sigmoid(w41 * x1 + w42 * x2)
y5 = sg.sigmoid(w53 * y3 + w54 * y4)
model = sg.Model(loss=sg.losses.half_squared_error(y5, t), params=params, inputs=[x1, x2], targets=[t])
kernels = model.compile(check=True)  # raises GradientCheckError if the kernels disagree
print("compile(check=True): the gradient kernel agrees with central differences at a random point")

theta = np.array([0.1, 0.8, 0.4, 0.6, 0.3, 0.9])  # the notes' W0 and W1
rng = np.random.default_rng(0)
X = rng.uniform(-1, 1, (64, 2))
T = rng.uniform(0, 1, (64, 1))

print("\nThe notes' numerical-gradient table (seed 001): perturb one weight at a time, h = 1e-4")
sg.gradcheck(kernels, theta, X, T, method="forward", step=1e-4, rtol=1e-3, verbose=True)


# -- a hand-written backward pass ---------------------------------------------------------------
def forward(theta):
    a31, a32, a41, a42, a53, a54 = theta
    h3 = 1 / (1 + np.exp(-(a31 * X[:, 0] + a32 * X[:, 1])))
    h4 = 1 / (1 + np.exp(-(a41 * X[:, 0] + a42 * X[:, 1])))
    out = 1 / (1 + np.exp(-(a53 * h3 + a54 * h4)))
    return h3, h4, out


def loss(theta):
    return np.mean(0.5 * (forward(theta)[2] - T[:, 0]) ** 2)


def backprop(theta, forgot_hidden_derivative=False):
    h3, h4, out = forward(theta)
    d5 = (out - T[:, 0]) * out * (1 - out)  # δ of the output unit
    s3 = 1.0 if forgot_hidden_derivative else h3 * (1 - h3)
    s4 = 1.0 if forgot_hidden_derivative else h4 * (1 - h4)
    d3, d4 = d5 * theta[4] * s3, d5 * theta[5] * s4  # δ_j = h'(z_j) Σ δ_i w_ij
    return np.array([np.mean(v) for v in (d3 * X[:, 0], d3 * X[:, 1], d4 * X[:, 0], d4 * X[:, 1],
                                          d5 * h3, d5 * h4)])


names = tuple(map(str, params))
print("\nA backprop that forgets σ' in the hidden layer:")
wrong = sg.check.Objective(loss, lambda th: backprop(th, forgot_hidden_derivative=True), names)
report = sg.gradcheck(wrong, theta)
print(report)
try:
    report.assert_ok()
except sg.errors.GradientCheckError as error:
    wrong_entries = error.report.failures
    print(f"hand-written backprop: {len(wrong_entries)} wrong entries: {', '.join(wrong_entries)}")

# numpy keeps complex numbers complex, so the complex step applies to the hand-written loss too
fixed = sg.gradcheck(sg.check.Objective(loss, backprop, names, complex_fn=loss), theta, method="complex")
print(f"\nwith σ' restored: {'ok' if fixed.ok else 'FAIL'} by complex step, "
      f"max rel err {fixed.max_rel_err:.1e}")
same = np.max(np.abs(backprop(theta) - kernels.grad(theta, X, T)))
print(f"and it matches symgrad's compiled gradient: max |difference| = {same:.1e}")

# -- many parameters ----------------------------------------------------------------------------
n = 100_000
c, d = rng.uniform(0.5, 2.0, n), rng.normal(size=n)


def big_loss(theta):
    return 0.5 * np.sum(c * (theta - d) ** 2) + np.sum(np.cos(theta)) / n


def big_grad(theta, wrong_entry=None):
    g = c * (theta - d) - np.sin(theta) / n
    if wrong_entry is not None:
        g[wrong_entry] *= 1.5
    return g


point = rng.normal(size=n)
right = sg.gradcheck((big_loss, big_grad), point, seed=1)
wrong = sg.gradcheck((big_loss, lambda th: big_grad(th, wrong_entry=12_345)), point, seed=1)
print(f"\n{n} parameters, {len(right)} random directions: right gradient {'ok' if right.ok else 'FAIL'} "
      f"({right.n_evaluations} loss evaluations), one wrong entry caught by "
      f"{len(wrong.failures)} of {len(wrong)} directions ({wrong.n_evaluations} loss evaluations)")
taylor = sg.check.taylor_test((big_loss, lambda th: big_grad(th, wrong_entry=12_345)), point, seed=1)
print(f"Taylor remainder test with the wrong entry: observed order {taylor.order:.2f} "
      "(a right gradient gives 2)")
