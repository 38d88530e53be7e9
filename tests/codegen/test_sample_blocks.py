"""Scalar kernels over blocks of samples (symgrad.codegen.sample_blocks): the input layer's dot
products and gradient sums as matrix products, checked against SymPy's derivatives summed in numpy."""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.codegen.kernels import generate_source
from symgrad.codegen.sample_blocks import BLOCK_ROWS, MIN_INPUTS

pytestmark = pytest.mark.filterwarnings("ignore::numba.NumbaPerformanceWarning")


def _explicit_sigmoid(z):
    return 1 / (1 + sp.exp(-z))


def _logistic(k: int):
    """Logistic regression on k inputs: a dot product of raw inputs, one factor per gradient row."""
    w, x = sp.symbols(f"w0:{k}"), sp.symbols(f"x0:{k}")
    b, t = sp.symbols("b t")
    z = sp.Add(*(wi * xi for wi, xi in zip(w, x, strict=True))) + b
    model = sg.Model(loss=sg.losses.binary_cross_entropy(sg.sigmoid(z), t), params=[*w, b], inputs=list(x),
                     targets=[t])
    s = _explicit_sigmoid(z)
    return model, -t * sp.log(s) - (1 - t) * sp.log(1 - s)


def _tanh_network():
    """A MIN_INPUTS-3-1 tanh network with a linear output: first-layer dot products of raw inputs, the
    second layer's of hidden values, gradient rows with and without an input factor."""
    n = MIN_INPUTS
    x, t = sp.symbols(f"x0:{n}"), sp.Symbol("t")
    W = sp.Matrix(3, n, lambda i, j: sp.Symbol(f"w{i}_{j}"))
    c, v, d = sp.symbols("c0:3"), sp.symbols("v0:3"), sp.Symbol("d")
    hidden = [sp.tanh(sum(W[i, j] * x[j] for j in range(n)) + c[i]) for i in range(3)]
    loss = (sum(vi * h for vi, h in zip(v, hidden, strict=True)) + d - t) ** 2 / 2
    model = sg.Model(loss=loss, params=[*W, *c, *v, d], inputs=list(x), targets=[t])
    return model, loss


def _features():
    """Beside a long dot product of raw inputs, one with inputs in other forms: x0 twice (so not one
    column of weights), x0**2 and x0*x1 (values, not inputs); gradient rows x0*δ, x0**2*δ, x0*x1*δ."""
    x, t = sp.symbols(f"x0:{MIN_INPUTS}"), sp.Symbol("t")
    w, u = sp.symbols("w0:4"), sp.symbols(f"u0:{MIN_INPUTS}")
    inner = w[0] * x[0] + w[1] * x[0] + w[2] * x[0] ** 2 + w[3] * x[0] * x[1]
    loss = (sp.sin(inner) + sp.tanh(sum(ui * xi for ui, xi in zip(u, x, strict=True))) - t) ** 2
    return sg.Model(loss=loss, params=[*w, *u], inputs=list(x), targets=[t]), loss


def _reference(model, loss, theta, X, T):
    """Mean loss and gradient from SymPy's derivatives, evaluated by numpy over all samples at once."""
    symbols = [*model.params, *model.inputs, *model.targets]
    exprs = [loss, *(sp.diff(loss, p) for p in model.params)]
    f = sp.lambdify(symbols, exprs, modules="numpy")
    values = f(*theta, *X.T, *T.T)
    columns = [np.broadcast_to(np.asarray(v, dtype=np.float64), (X.shape[0],)) for v in values]
    return columns[0].mean(), np.array([c.mean() for c in columns[1:]])


def _data(model, n, seed=7):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(model.inputs)))
    T = rng.integers(0, 2, size=(n, 1)).astype(np.float64)
    theta = rng.normal(size=len(model.params)) * 0.4
    return theta, X, T


MODELS = {"logistic": lambda: _logistic(30), "tanh network": _tanh_network, "features": _features}


@pytest.fixture(scope="module", params=sorted(MODELS))
def built(request):
    model, loss = MODELS[request.param]()
    return model, loss, model.compile()


def test_the_kernels_take_the_block_form(built):
    model, _, kernels = built
    body = kernels.source.split("def _loss_grad_range")[1].split("\n\n\n")[0]
    assert "matmul_tn_add(fxb, xb, gx)" in body and "for i in range" not in body
    loss_only = kernels.source.split("def _loss_range")[1].split("\n\n\n")[0]
    assert "_add_entries" not in loss_only and "for c0 in range" in loss_only


@pytest.mark.parametrize("n", [1, BLOCK_ROWS - 1, BLOCK_ROWS, 2 * BLOCK_ROWS + 37])
def test_loss_and_gradient_match_sympy_across_block_boundaries(built, n):
    model, loss, kernels = built
    theta, X, T = _data(model, n)
    value, grad = kernels.loss_and_grad(theta, X, T)
    expected_value, expected_grad = _reference(model, loss, theta, X, T)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-13 * np.abs(expected_grad).max())


def test_the_loss_kernel_agrees_with_loss_and_grad(built):
    # Validation losses and training losses of the same theta: the same block code, but the loss-only
    # program may be simplified differently, so equal to rounding.
    model, _, kernels = built
    theta, X, T = _data(model, 3 * BLOCK_ROWS + 5, seed=11)
    np.testing.assert_allclose(kernels.loss(theta, X, T), kernels.loss_and_grad(theta, X, T)[0], rtol=1e-14)


def test_parallel_chunks_and_float32_agree_with_the_serial_kernel():
    model, loss = _tanh_network()
    theta, X, T = _data(model, 1000, seed=3)
    serial = model.compile().loss_and_grad(theta, X, T)
    parallel = model.compile(parallel=True).loss_and_grad(theta, X, T)
    np.testing.assert_allclose(parallel[0], serial[0], rtol=1e-13)
    np.testing.assert_allclose(parallel[1], serial[1], rtol=1e-11, atol=1e-14)
    single = model.compile(dtype="float32").loss_and_grad(theta.astype(np.float32), X.astype(np.float32),
                                                          T.astype(np.float32))
    np.testing.assert_allclose(single[0], serial[0], rtol=2e-5)
    np.testing.assert_allclose(single[1], serial[1], rtol=1e-3, atol=1e-5)


def test_models_without_a_long_input_dot_product_keep_the_per_sample_loop():
    # No dot product of raw inputs at all, or a short one: nothing for a block to gain.
    w, x, t = sp.symbols("w x t")
    for model, loss in [(sg.Model(loss=(w * sp.sin(x) - t) ** 2, params=[w], inputs=[x], targets=[t]),
                         (w * sp.sin(x) - t) ** 2), _logistic(MIN_INPUTS - 1)]:
        source = generate_source(model.kernel_programs())
        assert "for i in range(start, stop):" in source and "_place(" not in source
        theta, X, T = _data(model, 40)
        value, grad = model.compile().loss_and_grad(theta, X, T)
        expected_value, expected_grad = _reference(model, loss, theta, X, T)
        np.testing.assert_allclose([value, *grad], [expected_value, *expected_grad], rtol=1e-11)


def test_standalone_modules_keep_the_per_sample_loop():
    # sg.emit modules import numpy and numba only: no runtime helpers, no BLAS.
    model, _ = _logistic(4)
    source = generate_source(model.kernel_programs(), standalone=True)
    assert "symgrad" not in source.split('"""', 2)[2] and "_place(" not in source
