"""Compiled kernels against independent references.

References are SymPy's own derivatives (``sympy.diff`` of the activations
written out with ``sg.expand_activations``) evaluated by ``sympy.lambdify``
with numpy, the batch mean taken here; central finite differences of the
compiled loss; and hand-written numpy formulas. The compiled models come
from ``conftest.py`` (one numba compile per model and option set).

Tolerance notes used below: float64 ε = 2.2e-16, float32 u = 6e-8. A mean
of n terms summed in two different orders differs by at most about
n·ε·mean|term| (≈ 4e-14 for n = 200 and terms of order 1).
"""

import numba
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import DeclarationError, EvaluationError, ShapeError, SymgradError


# -- references ---------------------------------------------------------------------
class Reference:
    """lambdify'd per-sample loss, gradient, Hessian, regulariser and outputs of a model,
    differentiated by ``sympy.diff`` (not by symgrad)."""

    def __init__(self, model):
        self.model = model
        self.n = model.n_params
        loss = sg.expand_activations(model.loss)
        reg = sg.expand_activations(model.regularizer)
        ps = list(model.params)
        args = ps + list(model.inputs) + list(model.targets)
        self._loss = sp.lambdify(args, loss, "numpy")
        self._grad = [sp.lambdify(args, sp.diff(loss, p), "numpy") for p in ps]
        self._hess = [[sp.lambdify(args, sp.diff(loss, p, q), "numpy") for q in ps] for p in ps]
        self._reg = sp.lambdify(ps, reg, "numpy")
        self._reg_grad = [sp.lambdify(ps, sp.diff(reg, p), "numpy") for p in ps]
        self._reg_hess = [[sp.lambdify(ps, sp.diff(reg, p, q), "numpy") for q in ps] for p in ps]
        outs = [sg.expand_activations(o) for o in model.outputs]
        self._outputs = [sp.lambdify(ps + list(model.inputs), o, "numpy") for o in outs]

    def _mean(self, f, theta, X, T):
        if X is None and T is None:  # data-free: evaluated once
            return float(f(*theta))
        values = f(*theta, *X.T, *T.T)
        return float(np.mean(np.broadcast_to(values, (X.shape[0],))))

    def data_loss(self, theta, X=None, T=None):
        return self._mean(self._loss, theta, X, T)

    def regularizer(self, theta):
        return float(self._reg(*theta))

    def loss(self, theta, X=None, T=None):
        return self.data_loss(theta, X, T) + self.regularizer(theta)

    def data_grad(self, theta, X=None, T=None):
        return np.array([self._mean(g, theta, X, T) for g in self._grad])

    def grad(self, theta, X=None, T=None):
        return self.data_grad(theta, X, T) + np.array([float(g(*theta)) for g in self._reg_grad])

    def data_hessian(self, theta, X=None, T=None):
        return np.array([[self._mean(h, theta, X, T) for h in row] for row in self._hess])

    def hessian(self, theta, X=None, T=None):
        reg = np.array([[float(h(*theta)) for h in row] for row in self._reg_hess])
        return self.data_hessian(theta, X, T) + reg

    def predict(self, theta, X):
        cols = [np.broadcast_to(f(*theta, *X.T), (X.shape[0],)) for f in self._outputs]
        return np.stack(cols, axis=1)


@pytest.fixture(scope="module")
def logreg_ref(logreg):
    return Reference(logreg)


@pytest.fixture(scope="module")
def net_ref(net):
    return Reference(net)


@pytest.fixture(scope="module")
def net_data():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((150, 2))
    T = rng.standard_normal((150, 1))
    theta = 0.6 * rng.standard_normal(10)
    return theta, X, T


def central_difference(f, theta, h=1e-5):
    """Central differences of a scalar or vector function of theta, one column per entry."""
    columns = []
    for k in range(theta.size):
        step = np.zeros_like(theta)
        step[k] = h
        columns.append((np.asarray(f(theta + step)) - np.asarray(f(theta - step))) / (2 * h))
    return np.stack(columns, axis=-1)


# Central differences with h = 1e-5: truncation error h²/6·|f'''| ≈ 2e-11·|f'''|
# plus rounding ε·|f|/h ≈ 2e-11·|f|; with f and its derivatives of order 1-10
# here, 1e-6 leaves a wide margin while a wrong derivative is off by far more.
FD_TOL = 1e-6


# -- logistic regression, float64 -----------------------------------------------------
def test_logreg_loss_grad_hessian_match_sympy_reference(logreg64, logreg_ref, logreg_data):
    X, T = logreg_data
    theta = np.array([0.7, -1.3, 0.4])
    # Terms are O(1); the naive reference loses at most ~ε/(1-p) ≈ 1e-14 relative for
    # |z| < 6, summation order another ~4e-14: 1e-10 is tight yet safe.
    value, gradient = logreg64.loss_and_grad(theta, X, T)
    assert value == pytest.approx(logreg_ref.loss(theta, X, T), rel=1e-10, abs=1e-12)
    assert logreg64.loss(theta, X, T) == pytest.approx(value, rel=1e-13)
    np.testing.assert_allclose(gradient, logreg_ref.grad(theta, X, T), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(logreg64.grad(theta, X, T), gradient, rtol=0, atol=0)
    np.testing.assert_allclose(
        logreg64.hessian(theta, X, T), logreg_ref.hessian(theta, X, T), rtol=1e-10, atol=1e-12
    )


def test_logreg_gradient_is_the_textbook_formula(logreg64, logreg_data):
    # ∂/∂θ mean BCE = mean((p - t)·[x1, x2, 1]), independent of any SymPy expression.
    X, T = logreg_data
    theta = np.array([0.7, -1.3, 0.4])
    z = X @ theta[:2] + theta[2]
    p = 1 / (1 + np.exp(-z))
    features = np.column_stack([X, np.ones(len(X))])
    expected = ((p - T[:, 0])[:, None] * features).mean(axis=0)
    np.testing.assert_allclose(logreg64.grad(theta, X, T), expected, rtol=1e-10, atol=1e-12)
    hessian = (features.T * (p * (1 - p))) @ features / len(X)
    np.testing.assert_allclose(logreg64.hessian(theta, X, T), hessian, rtol=1e-10, atol=1e-12)


def test_logreg_derivatives_match_finite_differences(logreg64, logreg_data):
    X, T = logreg_data
    theta = np.array([-0.5, 0.25, 1.1])
    fd = central_difference(lambda th: logreg64.loss(th, X, T), theta)
    np.testing.assert_allclose(logreg64.grad(theta, X, T), fd, rtol=FD_TOL, atol=FD_TOL)
    fd_hessian = central_difference(lambda th: logreg64.grad(th, X, T).copy(), theta)
    np.testing.assert_allclose(logreg64.hessian(theta, X, T), fd_hessian, rtol=FD_TOL, atol=FD_TOL)


# -- 2-3-1 net with a regulariser and outputs ----------------------------------------
def test_net_matches_sympy_reference(net64, net_ref, net_data):
    theta, X, T = net_data
    value, gradient = net64.loss_and_grad(theta, X, T)
    # Smooth tanh terms of order 1: same 1e-10 argument as for logistic regression.
    assert value == pytest.approx(net_ref.loss(theta, X, T), rel=1e-10, abs=1e-12)
    assert net64.loss(theta, X, T) == pytest.approx(value, rel=1e-13)
    np.testing.assert_allclose(gradient, net_ref.grad(theta, X, T), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        net64.hessian(theta, X, T), net_ref.hessian(theta, X, T), rtol=1e-10, atol=1e-12
    )


def test_net_derivatives_match_finite_differences(net64, net_data):
    theta, X, T = net_data
    fd = central_difference(lambda th: net64.loss(th, X, T), theta)
    np.testing.assert_allclose(net64.grad(theta, X, T), fd, rtol=FD_TOL, atol=FD_TOL)
    fd_hessian = central_difference(lambda th: net64.grad(th, X, T).copy(), theta)
    np.testing.assert_allclose(net64.hessian(theta, X, T), fd_hessian, rtol=FD_TOL, atol=FD_TOL)
    assert np.array_equal(net64.hessian(theta, X, T), net64.hessian(theta, X, T).T)


def test_regularizer_is_added_once(net64, net_ref, net_data, net_lambda):
    theta, X, T = net_data
    penalty = net_lambda / 2 * np.sum(theta**2)
    assert penalty > 0.1  # large against the 1e-10 tolerance: 0, 1 or n copies are told apart
    assert net_ref.regularizer(theta) == pytest.approx(penalty, rel=1e-14)
    data_loss = net_ref.data_loss(theta, X, T)
    assert net64.loss(theta, X, T) - data_loss == pytest.approx(penalty, rel=1e-9)
    np.testing.assert_allclose(
        net64.grad(theta, X, T) - net_ref.data_grad(theta, X, T), net_lambda * theta, rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(
        net64.hessian(theta, X, T) - net_ref.data_hessian(theta, X, T),
        net_lambda * np.eye(10),
        rtol=1e-9,
        atol=1e-12,
    )
    # Repeating every sample leaves the mean, hence the objective, unchanged: a
    # regulariser summed per sample (or divided by n) would move it.
    X2, T2 = np.vstack([X, X]), np.vstack([T, T])
    assert net64.loss(theta, X2, T2) == pytest.approx(net64.loss(theta, X, T), rel=1e-13)
    np.testing.assert_allclose(net64.grad(theta, X2, T2), net64.grad(theta, X, T), rtol=1e-12, atol=1e-14)
    # Through the single-sample path too: n = 1 must still add it once.
    one = net64.loss(theta, X[:1], T[:1])
    assert one == pytest.approx(net_ref.data_loss(theta, X[:1], T[:1]) + penalty, rel=1e-12)


def test_predict_matches_reference(net64, net_ref, net_data):
    theta, X, _ = net_data
    prediction = net64.predict(theta, X)
    assert prediction.shape == (X.shape[0], 2) and prediction.dtype == np.float64
    # Two tanh evaluations and a dot product: libm implementations agree to a few ulp.
    np.testing.assert_allclose(prediction, net_ref.predict(theta, X), rtol=1e-13, atol=1e-15)
    # The second output is the first hidden unit, by hand.
    np.testing.assert_allclose(prediction[:, 1], np.tanh(X @ theta[:2]), rtol=1e-13, atol=1e-15)


# -- data-free objective ----------------------------------------------------------------
def rosenbrock_reference(theta):
    x, y = theta
    value = (1 - x) ** 2 + 100 * (y - x**2) ** 2
    gradient = np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])
    hessian = np.array([[2 - 400 * (y - x**2) + 800 * x**2, -400 * x], [-400 * x, 200.0]])
    return value, gradient, hessian


@pytest.mark.parametrize("theta", [[-1.2, 1.0], [0.3, -0.7], [2.5, 6.0]])
def test_rosenbrock_data_free(rosenbrock64, theta):
    theta = np.array(theta)
    value, gradient, hessian = rosenbrock_reference(theta)
    # A few flops on O(1-1000) numbers: rounding error ≲ 1e-13 relative.
    assert rosenbrock64.loss(theta) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(rosenbrock64.grad(theta), gradient, rtol=1e-12, atol=1e-10)
    fused_value, fused_gradient = rosenbrock64.loss_and_grad(theta)
    assert fused_value == pytest.approx(value, rel=1e-12)
    np.testing.assert_array_equal(fused_gradient, rosenbrock64.grad(theta))
    np.testing.assert_allclose(rosenbrock64.hessian(theta), hessian, rtol=1e-12, atol=1e-10)


def test_rosenbrock_at_its_minimum_is_exact(rosenbrock64):
    # Every intermediate is a small integer at (1, 1), so float64 is exact.
    theta = np.array([1.0, 1.0])
    assert rosenbrock64.loss(theta) == 0.0
    np.testing.assert_array_equal(rosenbrock64.grad(theta), [0.0, 0.0])
    np.testing.assert_array_equal(rosenbrock64.hessian(theta), [[802.0, -400.0], [-400.0, 200.0]])


def test_data_free_objective_rejects_data(rosenbrock64):
    theta = np.array([0.0, 0.0])
    with pytest.raises(DeclarationError, match="no inputs or targets"):
        rosenbrock64.loss(theta, np.zeros((3, 1)))
    with pytest.raises(DeclarationError, match="theta only"):
        rosenbrock64.grad(theta, None, np.zeros((3, 1)))


def test_n_ary_max_and_min_are_evaluated_with_every_argument():
    # Max(a, b, c) is lowered to Max(Max(a, b), c); the loss kernel must not drop c.
    a, b, c = sp.symbols("a b c")
    model = sg.Model(loss=sp.Max(a, b, c) + sp.Min(a, b, c), params=[a, b, c])
    kernels = model.compile(hessian=False)
    for theta in ([1.0, 2.0, 3.0], [3.0, 1.0, 2.0], [2.0, 3.0, 1.0]):
        theta = np.array(theta)
        # Exact: max + min of small integers.
        assert kernels.loss(theta) == 4.0, theta
        value, gradient = kernels.loss_and_grad(theta)
        assert value == 4.0, theta
        expected = np.zeros(3)
        expected[np.argmax(theta)] += 1
        expected[np.argmin(theta)] += 1
        np.testing.assert_array_equal(gradient, expected)


# -- float32 ------------------------------------------------------------------------------
def test_float32_agrees_with_float64_and_returns_float32(logreg32, logreg64, logreg_data):
    X, T = logreg_data
    X32, T32 = X.astype(np.float32), T.astype(np.float32)
    theta32 = np.array([0.7, -1.3, 0.4], dtype=np.float32)
    value, gradient = logreg32.loss_and_grad(theta32, X32, T32)
    hessian = logreg32.hessian(theta32, X32, T32)
    assert gradient.dtype == np.float32 and hessian.dtype == np.float32
    assert logreg32.grad(theta32, X32, T32).dtype == np.float32
    assert isinstance(value, float) and isinstance(logreg32.loss(theta32, X32, T32), float)
    # Reference: float64 kernels on the same (float32-rounded) numbers, so only
    # the arithmetic differs. Summing n = 200 terms of order 1 in float32 costs at
    # most n·u ≈ 1.2e-5, each term a few u more: 1e-4 absolute has ~8x headroom.
    args64 = (theta32.astype(np.float64), X32.astype(np.float64), T32.astype(np.float64))
    value64, gradient64 = logreg64.loss_and_grad(*args64)
    assert value == pytest.approx(value64, rel=1e-4, abs=1e-4)
    assert logreg32.loss(theta32, X32, T32) == pytest.approx(value64, rel=1e-4, abs=1e-4)
    np.testing.assert_allclose(gradient, gradient64, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(hessian, logreg64.hessian(*args64), rtol=1e-4, atol=1e-4)


def test_float32_kernels_reject_float64_arrays(logreg32, logreg_data):
    X, T = logreg_data
    with pytest.raises(EvaluationError, match="theta has dtype float64.*compiled for float32"):
        logreg32.loss(np.zeros(3), X.astype(np.float32), T.astype(np.float32))
    with pytest.raises(EvaluationError, match="X has dtype float64.*compiled for float32"):
        logreg32.loss(np.zeros(3, np.float32), X, T.astype(np.float32))


# -- parallel -----------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 10, 64, 65, 1000])
def test_parallel_agrees_with_serial(logreg_parallel, logreg64, n):
    rng = np.random.default_rng(n)
    X = rng.standard_normal((n, 2))
    T = (rng.random((n, 1)) < 0.5).astype(np.float64)
    theta = np.array([1.5, -0.5, 0.2])
    value, gradient = logreg_parallel.loss_and_grad(theta, X, T)
    serial_value, serial_gradient = logreg64.loss_and_grad(theta, X, T)
    # Only the summation order differs (chunks of the batch): at most n·ε·mean|term|
    # ≈ 2e-13 for n = 1000 and terms of order 1.
    assert value == pytest.approx(serial_value, rel=1e-12)
    assert logreg_parallel.loss(theta, X, T) == pytest.approx(logreg64.loss(theta, X, T), rel=1e-12)
    np.testing.assert_allclose(gradient, serial_gradient, rtol=1e-12, atol=1e-12)


def test_parallel_is_bit_reproducible(logreg_parallel):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5000, 2))
    T = (rng.random((5000, 1)) < 0.5).astype(np.float64)
    theta = np.array([0.3, 0.9, -0.4])
    first_value, first_gradient = logreg_parallel.loss_and_grad(theta, X, T)
    first_gradient = first_gradient.copy()
    first_loss = logreg_parallel.loss(theta, X, T)
    before = numba.get_num_threads()
    try:
        for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}) * 3:
            numba.set_num_threads(threads)
            value, gradient = logreg_parallel.loss_and_grad(theta, X, T)
            assert value == first_value, threads
            assert np.array_equal(gradient, first_gradient), threads
            assert logreg_parallel.loss(theta, X, T) == first_loss, threads
    finally:
        numba.set_num_threads(before)


# -- out= buffers ---------------------------------------------------------------------------
def test_out_buffers_are_written_in_place_and_returned(logreg64, logreg_data):
    X, T = logreg_data
    theta = np.array([0.2, 0.1, -0.3])
    expected_value, expected = logreg64.loss_and_grad(theta, X, T)
    buffer = np.full(3, np.nan)  # garbage that must be overwritten, not added to
    value, gradient = logreg64.loss_and_grad(theta, X, T, out=buffer)
    assert gradient is buffer and value == expected_value
    np.testing.assert_array_equal(buffer, expected)
    buffer[:] = 1e300
    assert logreg64.grad(theta, X, T, out=buffer) is buffer
    np.testing.assert_array_equal(buffer, expected)
    square = np.full((3, 3), np.nan)
    result = logreg64.hessian(theta, X, T, out=square)
    assert np.shares_memory(result, square)
    np.testing.assert_array_equal(square, logreg64.hessian(theta, X, T))


def test_predict_out_buffer(net64, single64, net_data):
    theta, X, _ = net_data
    out = np.full((X.shape[0], 2), np.nan)
    result = net64.predict(theta, X, out=out)
    assert np.shares_memory(result, out)
    np.testing.assert_array_equal(out, net64.predict(theta, X))
    # One output: the buffer has the shape predict returns, (n,).
    column = np.full(X.shape[0], np.nan)
    result = single64.predict(np.array([0.5, -0.1]), X[:, 0].copy(), out=column)
    assert result is column
    np.testing.assert_allclose(column, np.tanh(0.5 * X[:, 0] - 0.1), rtol=1e-13, atol=1e-15)
    with pytest.raises(ShapeError, match=r"out has shape \(150, 1\), expected \(150,\)"):
        single64.predict(np.array([0.5, -0.1]), X[:, 0].copy(), out=np.empty((X.shape[0], 1)))
    inputs = X[:, 0].copy()
    with pytest.raises(EvaluationError, match="out shares memory with X"):
        single64.predict(np.array([0.5, -0.1]), inputs, out=inputs)


@pytest.mark.parametrize(
    "call, exc, pattern",
    [
        (
            lambda k, th, X, T: k.grad(th, X, T, out=np.zeros(4)),
            ShapeError,
            r"out has shape \(4,\), expected \(3,\)",
        ),
        (
            lambda k, th, X, T: k.grad(th, X, T, out=np.zeros(3, np.float32)),
            EvaluationError,
            "out has dtype float32",
        ),
        (lambda k, th, X, T: k.hessian(th, X, T, out=np.zeros(3)), ShapeError, r"expected \(3, 3\)"),
        (
            lambda k, th, X, T: k.grad(th, X, T, out=np.zeros((3, 2))[:, 0]),
            EvaluationError,
            "out must be C-contiguous",
        ),
        # The kernels clear out before reading theta: a shared buffer would give zeros' gradient.
        (lambda k, th, X, T: k.grad(th, X, T, out=th), EvaluationError, "out shares memory with theta"),
        (lambda k, th, X, T: k.hessian(th, X, T, out=X.reshape(-1)[:9].reshape(3, 3)),
         EvaluationError, "out shares memory with X"),
    ],
    ids=["out-length", "out-dtype", "hessian-out-shape", "out-strided", "out-is-theta", "hessian-out-in-X"],
)
def test_bad_out_buffers(logreg64, logreg_data, call, exc, pattern):
    X, T = logreg_data
    with pytest.raises(exc, match=pattern):
        call(logreg64, np.zeros(3), X, T)


# -- numerical stability ------------------------------------------------------------------
def _sigmoid(z):
    # exp(-softplus(-z)): no overflow, relative accuracy of a few ε for every z.
    return np.exp(-np.logaddexp(0.0, -z))


@pytest.mark.parametrize("theta", [[800.0, 0.0, 0.0], [-800.0, 0.0, 5.0], [0.0, 1e4, -300.0]])
def test_large_logits_stay_finite_and_exact(logreg64, logreg_ref, logreg_data, theta):
    X, T = logreg_data
    theta = np.array(theta)
    t = T[:, 0]
    z = X @ theta[:2] + theta[2]
    assert np.abs(z).max() > 700  # exp(±z) overflows here: the hard regime
    with np.errstate(all="ignore"):  # the formula as written breaks down...
        assert not np.isfinite(logreg_ref.loss(theta, X, T)) or not np.all(
            np.isfinite(logreg_ref.grad(theta, X, T))
        )
    value, gradient = logreg64.loss_and_grad(theta, X, T)
    assert np.isfinite(value) and np.all(np.isfinite(gradient))
    # ...the stable reference: softplus via logaddexp, p - t via σ(z) and σ(-z).
    expected_value = np.mean(t * np.logaddexp(0.0, -z) + (1 - t) * np.logaddexp(0.0, z))
    features = np.column_stack([X, np.ones(len(X))])
    residual = (1 - t) * _sigmoid(z) - t * _sigmoid(-z)  # = p - t without cancellation
    expected_gradient = (residual[:, None] * features).mean(axis=0)
    # Each term accurate to a few ε relative; the means to n·ε·mean|term| ≲ 1e-13·scale.
    assert value == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-11, atol=1e-13)
    # The Hessian mean(p(1-p) x xᵀ): 1 - σ may lose relative accuracy when σ ≈ 1 but
    # never more than ε absolute per sample, so 1e-13 absolute bounds the error.
    hessian = logreg64.hessian(theta, X, T)
    assert np.all(np.isfinite(hessian))
    weight = _sigmoid(z) * _sigmoid(-z)
    np.testing.assert_allclose(hessian, (features.T * weight) @ features / len(X), rtol=1e-9, atol=1e-13)


# -- single-input model -------------------------------------------------------------------
def test_single_input_accepts_one_dimensional_X_and_T(single64):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(40)
    t = rng.standard_normal(40)
    theta = np.array([0.8, -0.2])
    flat = single64.loss_and_grad(theta, x, t)
    column = single64.loss_and_grad(theta, x.reshape(-1, 1), t.reshape(-1, 1))
    assert flat[0] == column[0] and np.array_equal(flat[1], column[1])
    y = np.tanh(theta[0] * x + theta[1])
    # n = 40 order-1 terms; tanh may differ by an ulp between libms.
    assert flat[0] == pytest.approx(np.mean((y - t) ** 2), rel=1e-12)
    dy = 1 - y**2
    expected = np.array([np.mean(2 * (y - t) * dy * x), np.mean(2 * (y - t) * dy)])
    np.testing.assert_allclose(flat[1], expected, rtol=1e-11, atol=1e-13)
    prediction = single64.predict(theta, x)
    assert prediction.shape == (40,)
    np.testing.assert_allclose(prediction, y, rtol=1e-13, atol=1e-15)


# -- input validation ---------------------------------------------------------------------
def _bad_calls():
    X = np.random.default_rng(0).standard_normal((6, 2))
    T = np.ones((6, 1))
    good = np.zeros(3)

    def with_nan(a, index):
        a = a.copy()
        a[index] = np.nan
        return a

    def with_inf(a, index):
        a = a.copy()
        a[index] = np.inf
        return a

    cases = {
        "theta-length": (
            lambda k: k.loss(np.zeros(2), X, T),
            ShapeError,
            r"theta has shape \(2,\), expected \(3,\)",
        ),
        "theta-2d": (
            lambda k: k.grad(np.zeros((1, 3)), X, T),
            ShapeError,
            r"theta has shape \(1, 3\), expected \(3,\)",
        ),
        "theta-int": (
            lambda k: k.loss(np.zeros(3, dtype=np.int64), X, T),
            EvaluationError,
            "theta has dtype int64.*float64",
        ),
        "theta-float32": (
            lambda k: k.loss(np.zeros(3, dtype=np.float32), X, T),
            EvaluationError,
            "theta has dtype float32.*float64",
        ),
        "theta-list": (
            lambda k: k.loss([0.0, 0.0, 0.0], X, T),
            EvaluationError,
            "theta must be a numpy array",
        ),
        "theta-nan": (lambda k: k.loss(with_nan(good, 1), X, T), EvaluationError, r"theta\[1\] is nan"),
        "theta-inf-hessian": (
            lambda k: k.hessian(with_inf(good, 2), X, T),
            EvaluationError,
            r"theta\[2\] is inf",
        ),
        "X-float32": (
            lambda k: k.loss(good, X.astype(np.float32), T),
            EvaluationError,
            "X has dtype float32.*float64",
        ),
        "X-reversed-columns": (
            lambda k: k.loss(good, X[:, ::-1], T),
            EvaluationError,
            "X must be C-contiguous",
        ),
        "X-fortran": (
            lambda k: k.grad(good, np.asfortranarray(X), T),
            EvaluationError,
            "X must be C-contiguous",
        ),
        "T-strided": (
            lambda k: k.loss(good, X, np.ones((6, 2))[:, :1]),
            EvaluationError,
            "T must be C-contiguous",
        ),
        "X-width": (
            lambda k: k.loss(good, np.zeros((6, 3)), T),
            ShapeError,
            r"X has shape \(6, 3\), expected \(n_samples, 2\)",
        ),
        "X-1d": (
            lambda k: k.loss(good, np.zeros(6), T),
            ShapeError,
            r"X has shape \(6,\), expected \(n_samples, 2\)",
        ),
        "T-width": (
            lambda k: k.loss(good, X, np.ones((6, 2))),
            ShapeError,
            r"T has shape \(6, 2\), expected \(n_samples, 1\)",
        ),
        "X-nan": (
            lambda k: k.loss(good, with_nan(X, (3, 1)), T),
            EvaluationError,
            "X has a non-finite value in sample 3",
        ),
        "X-inf": (
            lambda k: k.grad(good, with_inf(X, (0, 0)), T),
            EvaluationError,
            "X has a non-finite value in sample 0",
        ),
        "T-nan": (
            lambda k: k.loss(good, X, with_nan(T, (5, 0))),
            EvaluationError,
            "T has a non-finite value in sample 5",
        ),
        "T-inf-hessian": (
            lambda k: k.hessian(good, X, with_inf(T, (2, 0))),
            EvaluationError,
            "T has a non-finite value in sample 2",
        ),
        "T-fewer-rows": (
            lambda k: k.loss(good, X, T[:4]),
            ShapeError,
            r"(?=.*\b6\b)(?=.*\b4\b)(?=.*\bT\b).*X",
        ),
        "X-fewer-rows": (
            lambda k: k.loss(good, X[:4], T),
            ShapeError,
            r"(?=.*\b6\b)(?=.*\b4\b)(?=.*\bT\b).*X",
        ),
        "zero-samples": (
            lambda k: k.loss(good, np.zeros((0, 2)), np.zeros((0, 1))),
            ShapeError,
            "X has no samples",
        ),
        "missing-T": (lambda k: k.loss(good, X), DeclarationError, r"T is required.*1 target\(s\) \(t\)"),
        "missing-X": (
            lambda k: k.grad(good, None, T),
            DeclarationError,
            r"X is required.*2 input\(s\) \(x1, x2\)",
        ),
        "T-0d": (lambda k: k.loss(good, X, np.array(1.0)), SymgradError, r"\bT\b"),
        "predict-without-outputs": (lambda k: k.predict(good, X), DeclarationError, "declares no outputs"),
    }
    return [pytest.param(*case, id=name) for name, case in cases.items()]


@pytest.mark.parametrize("call, exc, pattern", _bad_calls())
def test_bad_inputs_raise_symgrad_errors_naming_the_argument(logreg64, call, exc, pattern):
    with pytest.raises(SymgradError) as info:
        call(logreg64)
    assert isinstance(info.value, exc), f"{type(info.value).__name__}: {info.value}"
    assert info.match(pattern)


def test_hessian_of_a_model_compiled_without_it(single64):
    with pytest.raises(DeclarationError, match=r"compiled without a Hessian.*hessian=True"):
        single64.hessian(np.zeros(2), np.zeros(3), np.zeros(3))


def test_predict_validates_its_arguments(net64):
    theta = np.zeros(10)
    with pytest.raises(ShapeError, match=r"X has shape \(4, 3\), expected \(n_samples, 2\)"):
        net64.predict(theta, np.zeros((4, 3)))
    with pytest.raises(ShapeError, match=r"theta has shape \(9,\)"):
        net64.predict(np.zeros(9), np.zeros((4, 2)))
    with pytest.raises(ShapeError, match=r"out has shape \(4,\), expected \(4, 2\)"):
        net64.predict(theta, np.zeros((4, 2)), out=np.zeros(4))
