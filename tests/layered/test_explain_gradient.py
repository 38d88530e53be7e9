"""``model.explain`` prints backprop's δ recursion; ``model.gradient()`` evaluates to the compiled
gradient."""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.declare.tensors import elements


def test_explain_prints_the_delta_recursion(mlp231):
    model, _, _ = mlp231
    lines = [line.strip() for line in str(model.explain(model.params[0])).splitlines()]
    assert any(line.startswith("δ_z1 = δ_a1 ∘ ") for line in lines), lines
    assert "∂loss/∂W1 = δ_z1*x.T" in lines


@pytest.fixture(scope="module")
def two_outputs():
    """The 2-3-1 network with two sigmoid outputs (a column vector instead of a 1×1 output)."""
    net = sg.nn.mlp([2, 3, 2], activation="sigmoid", output="sigmoid")
    t = sg.Target("t", 2)
    model = sg.Model(loss=sg.nn.squared_error(net.output, t), params=net.params, inputs=[net.x], targets=[t])
    return model, net


def test_explain_of_a_two_output_network(two_outputs):
    model, net = two_outputs
    lines = [line.strip() for line in str(model.explain(net.params[0])).splitlines()]
    assert "z1 = W1*x + b1" in lines and "a1 = sigmoid.(z1)" in lines
    assert "δ_z1 = δ_a1 ∘ (u ↦ u*(1 - u)).(a1)" in lines
    assert "δ_a1 = W2.T*δ_z2" in lines
    assert "∂loss/∂W1 = δ_z1*x.T" in lines


def test_explain_with_respect_to_the_input(two_outputs):
    # explain accepts inputs; ∂loss/∂x = W1ᵀ δ_z1 is not zero.
    model, net = two_outputs
    lines = [line.strip() for line in str(model.explain(net.x)).splitlines()]
    assert lines[-1].startswith("∂loss/∂x = ")
    assert "δ_z1" in lines[-1] and "W1" in lines[-1], lines[-1]


def test_gradient_evaluated_at_a_point_equals_compiled_gradient(mlp231, mlp231_kernels):
    model, net, target = mlp231
    rng = np.random.default_rng(31)
    theta = rng.normal(0.0, 0.8, 13)
    X, T = rng.normal(size=(1, 2)), rng.uniform(size=(1, 1))
    point = dict(zip([e for p in model.params for e in elements(p)], map(sp.Float, theta), strict=True))
    point.update(zip(elements(net.x), map(sp.Float, X[0]), strict=True))
    point[target[0, 0]] = sp.Float(T[0, 0])
    compiled = mlp231_kernels.grad(theta, X, T)  # one sample: the mean is that sample's gradient
    gradient = model.gradient()
    for p, slot in zip(model.params, model.slots, strict=True):
        value = sg.nn.explicit(gradient[p]).subs(point)
        assert value.shape == p.shape
        ours = np.array(value.evalf(), dtype=np.float64)
        np.testing.assert_allclose(ours, compiled[slot.offset:slot.offset + slot.size].reshape(p.shape),
                                   rtol=1e-12, atol=1e-16)


def test_gradient_prints_as_delta_times_input_transpose(mlp231):
    model, net, _ = mlp231
    W1 = model.params[0]
    g = model.gradient()[W1]
    assert isinstance(g, sp.MatMul) and g.args[-1] == net.x.T


def test_gradient_of_a_softmax_loss_evaluated_at_a_point():
    # The softmax's adjoint displays as an elementwise function whose body reads a sum over the
    # softmax; its scalar form must still evaluate to the scalar reverse mode's gradient.
    W = sg.Param("W", (2, 2))
    x = sg.Input("x", 2)
    c = sg.Target("c", 2)
    loss = sg.nn.sum(sp.HadamardProduct(sg.nn.softmax(sg.nn.tanh(W * x)), c))
    model = sg.Model(loss=loss, params=[W], inputs=[x], targets=[c])
    rng = np.random.default_rng(41)
    point = {e: sp.Rational(int(rng.integers(-900, 900)), 500) for s in (W, x, c) for e in elements(s)}
    ours = np.array(sg.nn.explicit(model.gradient()[W]).subs(point).evalf(), dtype=np.float64)
    reference = sg.grad(sg.nn.explicit(loss), elements(W), at=point)
    np.testing.assert_allclose(ours.ravel(), reference, rtol=1e-12, atol=1e-15)
