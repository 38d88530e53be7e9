"""Reverse mode's cost grows linearly with the graph, not with graph x parameters.

The models are 2-H-H-1 sigmoid MLPs written with one SymPy symbol per weight,
so the graph has Θ(H²) nodes and Θ(H²) parameters: a per-parameter
(forward-mode-like) derivation would cost Θ(H⁴) while reverse mode costs
Θ(H²). Cost is measured by counting, never by the clock: program statements
and SymPy operations in the program, against graph nodes and edges.
"""

from __future__ import annotations

import math
import random

import mpmath
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

WIDTHS = (2, 4, 8, 16, 32)


def mlp_loss(width: int):
    """Squared-error loss of a 2-H-H-1 sigmoid MLP (H = ``width``), one symbol per weight.

    Returns ``(loss, params, inputs)``; ``inputs`` are x0, x1 and the target t.
    """
    H = width
    x = sp.symbols("x0:2", real=True)
    t = sp.Symbol("t", real=True)
    W1 = [[sp.Symbol(f"W1_{i}_{j}", real=True) for j in range(2)] for i in range(H)]
    b1 = [sp.Symbol(f"b1_{i}", real=True) for i in range(H)]
    W2 = [[sp.Symbol(f"W2_{i}_{j}", real=True) for j in range(H)] for i in range(H)]
    b2 = [sp.Symbol(f"b2_{i}", real=True) for i in range(H)]
    w3 = [sp.Symbol(f"w3_{j}", real=True) for j in range(H)]
    b3 = sp.Symbol("b3", real=True)
    h1 = [sg.sigmoid(sp.Add(*(W1[i][j] * x[j] for j in range(2))) + b1[i]) for i in range(H)]
    h2 = [sg.sigmoid(sp.Add(*(W2[i][j] * h1[j] for j in range(H))) + b2[i]) for i in range(H)]
    out = sp.Add(*(w3[j] * h2[j] for j in range(H))) + b3
    loss = (out - t) ** 2 / 2
    params = [w for row in W1 for w in row] + b1 + [w for row in W2 for w in row] + b2 + w3 + [b3]
    return loss, params, [*x, t]


def measure(width: int) -> dict[str, float]:
    H = width
    loss, params, _ = mlp_loss(H)
    G = sg.graph(loss)
    prog = sg.program(loss, params)
    assert len(prog.wrt) == len(params) == 2 * H + H + H * H + H + H + 1
    ops = sum(sp.count_ops(e) for _, e in prog.statements)
    ops += sum(sp.count_ops(o.expr) for o in prog.outputs)
    return {
        "params": len(params),
        "nodes": G.number_of_nodes(),
        "edges": G.number_of_edges(),
        "statements": len(prog),
        "ops": ops,
    }


@pytest.fixture(scope="module")
def sizes():
    return {H: measure(H) for H in WIDTHS}


def loglog_slope(xs, ys) -> float:
    """Least-squares slope of log(ys) against log(xs)."""
    lx, ly = np.log(xs), np.log(ys)
    return float(np.polyfit(lx, ly, 1)[0])


def test_graph_and_parameters_grow_quadratically_in_width(sizes):
    # sanity of the setup: both the graph and the parameter count are Θ(H²)
    # (lower-order Θ(H) terms still show at these widths, hence 1.5 < slope),
    # so "linear in the graph" is a real claim (a per-parameter sweep would be Θ(H⁴))
    hs = list(WIDTHS)
    assert 1.5 < loglog_slope(hs[2:], [sizes[h]["nodes"] for h in hs[2:]]) < 2.1
    assert 1.5 < loglog_slope(hs[2:], [sizes[h]["params"] for h in hs[2:]]) < 2.1


def test_statements_per_graph_node_bounded(sizes):
    ratios = [sizes[h]["statements"] / sizes[h]["nodes"] for h in WIDTHS]
    # one forward assignment plus at most one adjoint per node (and a few
    # shared temporaries): the ratio is a constant, independent of H
    assert max(ratios) <= 2.0, ratios
    assert max(ratios) / min(ratios) <= 1.5, ratios
    slope = loglog_slope([sizes[h]["nodes"] for h in WIDTHS], [sizes[h]["statements"] for h in WIDTHS])
    assert slope <= 1.15, slope


def test_operation_count_linear_in_graph_size(sizes):
    # Statement count alone could hide work inside long right-hand sides, so
    # also count SymPy operations against nodes + edges (reverse mode does
    # O(1) work per edge: one product and one sum into the adjoint).
    size = [sizes[h]["nodes"] + sizes[h]["edges"] for h in WIDTHS]
    ops = [sizes[h]["ops"] for h in WIDTHS]
    ratios = [o / s for o, s in zip(ops, size, strict=True)]
    assert max(ratios) <= 3.0, ratios
    # linear, not quadratic: doubling the graph at most ~doubles the work
    slope = loglog_slope(size, ops)
    assert slope <= 1.2, slope
    for small, big in zip(WIDTHS, WIDTHS[1:], strict=False):
        growth = sizes[big]["ops"] / sizes[small]["ops"]
        graph_growth = (sizes[big]["nodes"] + sizes[big]["edges"]) / (
            sizes[small]["nodes"] + sizes[small]["edges"]
        )
        assert growth <= 1.3 * graph_growth, (small, big, growth, graph_growth)


def test_far_below_per_parameter_cost(sizes):
    # a per-parameter derivation would need about params x nodes operations
    for h in WIDTHS[2:]:
        s = sizes[h]
        assert s["ops"] * 10 < s["params"] * s["nodes"], s


@pytest.mark.parametrize("width", [2, 3])
def test_mlp_gradient_matches_sympy(width):
    """The programs counted above compute the right thing (checked on small nets)."""
    loss, params, inputs = mlp_loss(width)
    rng = random.Random(width)
    point = {s: rng.uniform(-1, 1) for s in params + inputs}
    ours = sg.grad(loss, params, at=point)
    elementary = sg.expand_activations(loss)
    symbols = params + inputs
    reference = sp.lambdify(symbols, [sp.diff(elementary, p) for p in params], modules="mpmath")
    with mpmath.workdps(30):
        ref = [float(v) for v in reference(*[mpmath.mpf(point[s]) for s in symbols])]
    # double-precision evaluation of a ~100-operation program: 1e-12 is
    # ~1e3 eps relative to the O(1) gradient entries
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)
    assert not math.isclose(float(np.abs(ours).sum()), 0.0)
