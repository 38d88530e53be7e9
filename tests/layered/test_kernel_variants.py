"""The batched kernels in their variants: blocks of 256 rows, one sample, float32, parallel.

The reference is the hand-written numpy backprop of the 2-3-1 network (itself
checked against central differences in test_scalar_equivalence.py).
"""

import re

import numpy as np
import pytest

from symgrad.codegen.tensor_kernels import ROWS


@pytest.fixture(scope="module")
def big_data():
    rng = np.random.default_rng(12)
    X = rng.normal(size=(600, 2))
    return X, rng.uniform(0.0, 1.0, size=(600, 1))


def test_blocks_are_256_rows():
    # The sizes below are chosen around this block size.
    assert ROWS == 256


@pytest.mark.parametrize("n", [1, 2, 255, 256, 257, 512, 513, 600])
def test_any_batch_size_matches_numpy(n, mlp231_kernels, mlp231_theta, big_data, mlp231_reference):
    X, T = big_data[0][:n], big_data[1][:n]
    loss, grad = mlp231_kernels.loss_and_grad(mlp231_theta, X, T)
    assert loss == pytest.approx(mlp231_reference.loss(mlp231_theta, X, T), rel=1e-13)
    np.testing.assert_allclose(grad, mlp231_reference.grad(mlp231_theta, X, T), rtol=1e-11, atol=1e-15)


def test_each_sample_counts_once_across_blocks(mlp231_kernels, mlp231_theta, big_data):
    # The mean over 600 rows is the size-weighted mean over the row ranges of the three blocks.
    X, T = big_data
    whole = mlp231_kernels.grad(mlp231_theta, X, T)
    parts = [(0, 256), (256, 512), (512, 600)]
    weighted = sum((b - a) * mlp231_kernels.grad(mlp231_theta, X[a:b], T[a:b]) for a, b in parts) / 600
    np.testing.assert_allclose(whole, weighted, rtol=1e-12, atol=1e-16)


@pytest.fixture(scope="module")
def parallel_kernels(mlp231):
    return mlp231[0].compile(parallel=True)


@pytest.mark.parametrize("n", [1, 3, 600, 20_000])
def test_parallel_equals_serial(n, parallel_kernels, mlp231_kernels, mlp231_theta, big_data):
    # 20 000 rows: each of the 64 parallel chunks holds more than one 256-row block.
    rng = np.random.default_rng(13)
    X, T = (big_data[0][:n], big_data[1][:n]) if n <= 600 else (rng.normal(size=(n, 2)), rng.random((n, 1)))
    loss, grad = parallel_kernels.loss_and_grad(mlp231_theta, X, T)
    serial_loss, serial_grad = mlp231_kernels.loss_and_grad(mlp231_theta, X, T)
    assert parallel_kernels.parallel and not mlp231_kernels.parallel
    # Chunks are summed in another order than one serial pass: equal up to rounding.
    assert loss == pytest.approx(serial_loss, rel=1e-12)
    np.testing.assert_allclose(grad, serial_grad, rtol=1e-12, atol=1e-16)


@pytest.fixture(scope="module")
def float32_kernels(mlp231):
    return mlp231[0].compile(dtype="float32")


@pytest.mark.parametrize("n", [1, 600])
def test_float32_matches_float64_reference(n, float32_kernels, mlp231_theta, big_data, mlp231_reference):
    X, T = (a[:n].astype(np.float32) for a in big_data)
    theta32 = mlp231_theta.astype(np.float32)
    loss, grad = float32_kernels.loss_and_grad(theta32, X, T)
    assert grad.dtype == np.float32
    # The reference in float64 at the same (float32-rounded) numbers.
    theta, X, T = (a.astype(np.float64) for a in (theta32, X, T))
    reference = mlp231_reference.grad(theta, X, T)
    # float32 rounds each operation to ~6e-8 relative; a few dozen roundings per sample and a
    # 600-term sum leave errors of ~1e-6 of the gradient's scale. 2e-5 of that scale allows for
    # this with margin and still fails for any real error (a wrong term is O(1) of the scale).
    scale = np.abs(reference).max()
    np.testing.assert_allclose(grad, reference, rtol=0, atol=2e-5 * scale)
    assert loss == pytest.approx(mlp231_reference.loss(theta, X, T), rel=2e-5)


def test_elementwise_siblings_share_one_loop():
    """The logistic loss ``softplus(z) - t z`` and its gradient ``sigmoid(z) - t`` read the same
    ``z = w x + b``: one loop over the block computes both (one exp(-|z|)), with ``z`` in a local."""
    import symgrad as sg

    w, b = sg.Param("w", (1, 4)), sg.Param("b", 1)
    x, t = sg.Input("x", 4), sg.Target("t", 1)
    model = sg.Model(loss=sg.nn.binary_cross_entropy(w * x + b, t, logits=True), params=[w, b], inputs=[x],
                     targets=[t])
    kernels = model.compile()
    body = kernels.source.split("def _loss_grad_range")[1].split("@numba")[0]
    loops = body.split("for b in range(B):")[1:]
    assert len(loops) == 2  # the element loop, then the loss summed in order
    assert "softplus(" in loops[0] and "sigmoid(" in loops[0]
    assert re.search(r"\be\d+ = ", loops[0])  # z, never stored

    rng = np.random.default_rng(14)
    X, T = rng.normal(size=(300, 4)), rng.integers(0, 2, size=(300, 1)).astype(float)
    theta = rng.normal(size=5)
    z = X @ theta[:4] + theta[4]
    residual = 1.0 / (1.0 + np.exp(-z)) - T[:, 0]
    loss, grad = kernels.loss_and_grad(theta, X, T)
    assert loss == pytest.approx(np.mean(np.logaddexp(0.0, z) - T[:, 0] * z), rel=1e-13)
    np.testing.assert_allclose(grad, np.append(X.T @ residual, residual.sum()) / 300, rtol=1e-12, atol=1e-16)
