"""Every tensor op's vector-Jacobian product against central differences of a numpy forward pass.

One compiled model holds one loss term per op (or small group of ops), each
multiplied by its own scalar target (a *gate*): a target row that is one-hot in
the gates selects a single term, so a single numba compile checks each term's
VJP separately. The gates also make this the model that mixes scalar targets
with a vector input and a vector target. Most terms read ``tanh.(W*x + b)``, so
the matrix product, the bias and tanh are in every check.
"""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

W = sg.Param("W", (3, 4))
b = sg.Param("b", 3)
V = sg.Param("V", (2, 3))
s = sg.Param("s")
P = sg.Param("P", (2, 4))
a = sg.Param("a", 2)
x = sg.Input("x", 4)
c = sg.Target("c", 2)
_q = sp.Symbol("q", real=True)

z = W * x + b
h = sg.nn.tanh(z)
y = V * h

#: Terms for the ops (sigmoid, sum and HadamardPower(·, 2) are also checked by the 2-3-1
#: network of the other modules). Each term costs 1-5 s of numba compile time, so some
#: terms combine ops; the name lists them.
TERMS = {
    "transpose_of_param_hadamard_mean": sg.nn.mean(sp.HadamardProduct(W.T * h, x)),
    "scalar_param_times_matrix_hadamard_power": sg.nn.sum(sp.HadamardProduct(s * W * x, b,
                                                                              sp.HadamardPower(z, 3))),
    "lambda_with_scalar_param": sg.nn.sum(sg.nn.apply(sp.Lambda(_q, sp.sin(s * _q) + s * _q**2), W * x)),
    "logsumexp": sg.nn.logsumexp(y),
    "softmax": sg.nn.sum(sp.HadamardProduct(sg.nn.softmax(y), c)),
    "element": sg.nn.element(y, 1, 0),
    "dot_product": sg.nn.element((W * x).T * h, 0, 0),
    "relu": sg.nn.sum(sg.nn.relu(z)),
    "cross_entropy": sg.nn.cross_entropy(P * x + a, c),
}
GATES = sp.symbols(f"g0:{len(TERMS)}", real=True)
#: A per-sample loss term that does not read the data (it counts once per sample).
DATA_FREE = s**2 * sg.nn.sum(sp.HadamardPower(V, 2)) / 2
L2, L1 = 0.1, 0.05
PARAMS = [W, b, V, s, P, a]
N = 7


def _logsumexp(v):
    top = v.max(axis=1, keepdims=True)
    return top[:, 0] + np.log(np.exp(v - top).sum(axis=1))


def _softmax(v):
    e = np.exp(v - v.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _unpack(theta):
    theta = np.asarray(theta, dtype=np.float64)
    return (theta[0:12].reshape(3, 4), theta[12:15], theta[15:21].reshape(2, 3), theta[21],
            theta[22:30].reshape(2, 4), theta[30:32])


def reference_terms(theta, X, C):
    """Each term per sample, written with numpy (rows are samples)."""
    Wv, bv, Vv, sv, Pv, av = _unpack(theta)
    Wx = X @ Wv.T
    zv = Wx + bv
    hv = np.tanh(zv)
    yv = hv @ Vv.T
    logits = X @ Pv.T + av
    return {
        "transpose_of_param_hadamard_mean": ((hv @ Wv) * X).mean(1),
        "scalar_param_times_matrix_hadamard_power": (sv * Wx * bv * zv**3).sum(1),
        "lambda_with_scalar_param": (np.sin(sv * Wx) + sv * Wx**2).sum(1),
        "logsumexp": _logsumexp(yv),
        "softmax": (_softmax(yv) * C).sum(1),
        "element": yv[:, 1],
        "dot_product": (Wx * hv).sum(1),
        "relu": np.maximum(zv, 0.0).sum(1),
        "cross_entropy": _logsumexp(logits) - (C * logits).sum(1),
    }


def reference_objective(theta, X, T):
    """Mean over samples of Σ gate·term + the data-free term, plus the L2 / L1 regulariser."""
    Wv, _, Vv, sv, _, _ = _unpack(theta)
    C, G = T[:, :2], T[:, 2:]
    terms = reference_terms(theta, X, C)
    per_sample = sum(G[:, k] * terms[name] for k, name in enumerate(TERMS)) + sv**2 * (Vv**2).sum() / 2
    return float(per_sample.mean() + L2 / 2 * (Wv**2).sum() + L1 * np.abs(Vv).sum())


@pytest.fixture(scope="module")
def ops_model():
    loss = sum(g * term for g, term in zip(GATES, TERMS.values(), strict=True)) + DATA_FREE
    return sg.Model(loss=loss, params=PARAMS, inputs=[x], targets=[c, *GATES],
                    regularizer=sg.nn.l2([W], L2) + sg.nn.l1([V], L1))


@pytest.fixture(scope="module")
def ops_kernels(ops_model):
    return ops_model.compile()


@pytest.fixture(scope="module")
def theta():
    # Entries of V away from 0 (the kink of |V|) so that central differences of the L1 term are exact.
    rng = np.random.default_rng(7)
    value = rng.normal(0.0, 0.6, 32)
    value[15:21] = np.sign(value[15:21]) * (0.2 + np.abs(value[15:21]))
    return value


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(N, 4))
    C = np.eye(2)[rng.integers(0, 2, N)]
    return X, C


def _targets(C, gates):
    return np.hstack([C, np.broadcast_to(gates, (C.shape[0], len(TERMS)))])


def _one_hot(name):
    gates = np.zeros(len(TERMS))
    if name is not None:
        gates[list(TERMS).index(name)] = 1.0
    return gates


def test_theta_layout_is_params_in_order_row_major(ops_model):
    assert ops_model.n_params == 32
    assert [(str(slot.symbol), slot.offset, slot.shape) for slot in ops_model.slots] == [
        ("W", 0, (3, 4)), ("b", 12, (3, 1)), ("V", 15, (2, 3)), ("s", 21, (1, 1)), ("P", 22, (2, 4)),
        ("a", 30, (2, 1))]


@pytest.mark.parametrize("name", [*TERMS, None], ids=[*TERMS, "data_free_and_regulariser_only"])
def test_each_op_vjp_matches_central_differences(name, ops_kernels, theta, inputs, central_difference):
    X, C = inputs
    T = _targets(C, _one_hot(name))
    loss, grad = ops_kernels.loss_and_grad(theta, X, T)
    assert loss == pytest.approx(reference_objective(theta, X, T), rel=1e-12, abs=1e-12)
    expected = central_difference(lambda th: reference_objective(th, X, T), theta)
    # Central differences with h = 1e-6 are accurate to about 1e-9 on these O(1) functions.
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-7)


def test_the_selected_term_has_a_nonzero_gradient(ops_kernels, theta, inputs):
    # Guards the test above against vacuous passes: each term moves the gradient on its own.
    X, C = inputs
    base = ops_kernels.grad(theta, X, _targets(C, _one_hot(None)))
    for name in TERMS:
        assert np.abs(ops_kernels.grad(theta, X, _targets(C, _one_hot(name))) - base).max() > 1e-3, name


def test_all_terms_together_with_per_sample_gates(ops_kernels, theta, inputs, central_difference):
    X, C = inputs
    G = np.random.default_rng(9).uniform(-1.0, 1.0, (N, len(TERMS)))
    T = np.hstack([C, G])
    loss, grad = ops_kernels.loss_and_grad(theta, X, T)
    assert loss == pytest.approx(reference_objective(theta, X, T), rel=1e-12)
    np.testing.assert_allclose(grad, central_difference(lambda th: reference_objective(th, X, T), theta),
                               rtol=1e-6, atol=1e-7)


# -- stability at large logits ------------------------------------------------------------
def _large_logit_theta(theta, logits_bias):
    value = theta.copy()
    value[22:30] *= 1e-3  # P small: the logits are ≈ a
    value[30:32] = logits_bias
    return value


@pytest.mark.parametrize("logits_bias", [(1000.0, -1000.0), (-1000.0, 1000.0), (1000.0, 999.0)])
def test_cross_entropy_is_finite_at_logits_of_1000(logits_bias, ops_kernels, theta, inputs):
    X, C = inputs
    th = _large_logit_theta(theta, logits_bias)
    T = _targets(C, _one_hot("cross_entropy"))
    loss, grad = ops_kernels.loss_and_grad(th, X, T)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    assert loss == pytest.approx(reference_objective(th, X, T), rel=1e-12)
    # ∂/∂logits = softmax(logits) − y, so ∂J/∂a is its mean over samples and ∂J/∂P its mean times xᵀ.
    _, _, _, _, Pv, av = _unpack(th)
    delta = _softmax(X @ Pv.T + av) - C
    np.testing.assert_allclose(grad[30:32], delta.mean(0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grad[22:30], (delta.T @ X).ravel() / N, rtol=1e-12, atol=1e-15)


def test_softmax_and_logsumexp_terms_are_finite_at_logits_of_1000(ops_kernels, theta, inputs):
    X, C = inputs
    th = theta.copy()
    th[15:21] = np.array([[800.0, -900.0, 1000.0], [-1000.0, 700.0, -800.0]]).ravel()  # |V h| up to ~1000
    gates = _one_hot("softmax") + _one_hot("logsumexp") + _one_hot("cross_entropy")
    T = _targets(C, gates)
    loss, grad = ops_kernels.loss_and_grad(th, X, T)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    assert loss == pytest.approx(reference_objective(th, X, T), rel=1e-12)
