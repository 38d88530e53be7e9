"""Shape mistakes raise symgrad's errors, and the messages name the shapes involved."""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ShapeError, UnsupportedOperationError

W = sg.Param("W", (3, 4))
x = sg.Input("x", 4)


@pytest.mark.parametrize("build", [lambda v: W * v, lambda v: W + v, lambda v: sp.HadamardProduct(W, v)],
                         ids=["product", "sum", "hadamard"])
def test_matrix_algebra_of_mismatched_shapes_is_refused_as_it_is_built(build):
    # W is (3, 4), v is (2, 1): none of W*v, W + v, W ∘ v is defined. SymPy checks the shapes
    # while the expression is built, before symgrad sees it, and raises its own ShapeError
    # (documented in docs/layered-models.md).
    v = sg.Input("v", 2)
    with pytest.raises(sp.matrices.exceptions.ShapeError):
        build(v)


def test_elementwise_operands_of_different_shapes():
    u, w = sp.symbols("u w", real=True)
    with pytest.raises(ShapeError, match=r"\(3, 4\).*\(4, 1\)"):
        sg.nn.Elementwise(sp.Lambda((u, w), u * w), W, x)


def test_cross_entropy_of_mismatched_logits_and_target():
    with pytest.raises(ShapeError, match=r"prediction has shape \(3, 1\) but the target \(2, 1\)"):
        sg.nn.cross_entropy(W * x, sg.Target("y", 2))


def test_element_outside_the_shape():
    with pytest.raises(ShapeError, match=r"index \(3, 0\) is outside the shape \(3, 1\)"):
        sg.nn.element(W * x, 3, 0)


def test_a_matrix_loss():
    with pytest.raises(ShapeError, match=r"loss must be a scalar.*shape \(3, 1\)"):
        sg.Model(loss=W * x, params=[W], inputs=[x])


def test_logsumexp_of_a_matrix():
    with pytest.raises(ShapeError, match=r"column vector.*\(3, 4\)"):
        sg.Model(loss=sg.nn.logsumexp(W), params=[W])


def test_outer_product_of_an_input_is_unsupported():
    # x xᵀ is a (4, 4) matrix per sample; per-sample values must be scalars or column vectors.
    with pytest.raises(UnsupportedOperationError, match="x.T"):
        sg.Model(loss=sg.nn.sum(x * x.T), params=[W], inputs=[x])
    with pytest.raises(UnsupportedOperationError):
        sg.Model(loss=sg.nn.sum(W * (x * x.T)), params=[W], inputs=[x])


def test_data_of_the_wrong_width(mlp231_kernels, mlp231_theta):
    X = np.zeros((5, 3))  # the network reads 2 input features per sample
    T = np.zeros((5, 1))
    with pytest.raises(ShapeError, match=r"X has shape \(5, 3\), expected \(n_samples, 2\)"):
        mlp231_kernels.loss_and_grad(mlp231_theta, X, T)
    with pytest.raises(ShapeError, match=r"T has shape \(5, 2\), expected \(n_samples, 1\)"):
        mlp231_kernels.loss_and_grad(mlp231_theta, np.zeros((5, 2)), np.zeros((5, 2)))
    with pytest.raises(ShapeError, match=r"theta has shape \(12,\), expected \(13,\)"):
        mlp231_kernels.loss_and_grad(mlp231_theta[:12], np.zeros((5, 2)), T)


def test_parameter_values_of_the_wrong_shape(mlp231):
    model = mlp231[0]
    W1, b1, W2, b2 = model.params
    values = {W1: np.zeros((2, 3)), b1: np.zeros(3), W2: np.zeros((1, 3)), b2: 0.0}
    with pytest.raises(ShapeError, match=r"W1 has shape \(3, 2\); got a value of shape \(2, 3\)"):
        model.flatten(values)
