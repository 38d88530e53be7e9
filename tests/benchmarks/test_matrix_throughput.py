"""grad_throughput's matrix peers: the same function as the scalar model, theta reordered; no timing claims.

The peer runs in this process through ``throughput_child.measure``. The session's kernel cache starts
empty (``conftest.py``), and a cold compile of the matrix kernels takes ~9 s (parallel ones ~15 s more),
so only the serial peer is run here; the full workload checks both before timing them.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import throughput_child
from benchmarks.models import backprop, matrix_mlp, matrix_order, mlp
from benchmarks.workloads import grad_throughput

TINY = (2, 3, 1)


def test_matrix_order_maps_each_weight_to_its_matrix_element():
    """The scalar parameter at ``order[k]`` is the matrix element at position k of the matrix theta."""
    sizes = (2, 3, 2, 1)
    net, model = mlp(sizes), matrix_mlp(sizes)
    expected = []
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        expected += [f"w{layer}_{j}_{i}" for j in range(n_out) for i in range(n_in)]  # W row-major
        expected += [f"b{layer}_{j}" for j in range(n_out)]
    order = matrix_order(sizes)
    assert sorted(order) == list(range(len(net.params))) == list(range(model.n_params))
    assert [str(net.params[k]) for k in order] == expected
    assert [str(p) for p in model.params] == ["W1", "b1", "W2", "b2", "W3", "b3"]


def test_matrix_model_gradient_equals_the_scalar_backprop():
    sizes = TINY  # the kernels the peer tests below use, so one compilation serves all
    net, model = mlp(sizes), matrix_mlp(sizes)
    rng = np.random.default_rng(5)
    theta, x, t = rng.normal(size=len(net.params)), rng.normal(size=2), rng.uniform()
    order = matrix_order(sizes)
    out = np.empty_like(theta)
    loss, grad = model.compile().loss_and_grad(theta[order], x[None, :], np.array([[t]]), out)
    scalar = np.empty_like(grad)
    scalar[order] = grad
    point = dict(zip(net.symbols, [*theta, *x, t], strict=True))
    np.testing.assert_allclose(scalar, backprop(net, point), rtol=1e-12, atol=1e-15)
    assert loss == pytest.approx(float(net.loss.subs(point)), rel=1e-12)


def test_matrix_peer_answers_in_the_scalar_order():
    spec = {"sizes": TINY, "n_samples": 300, "seed": 3, "min_run_s": 0.001}
    reference = throughput_child.measure({**spec, "peer": "symgrad serial"})
    result = throughput_child.measure({**spec, "peer": "symgrad matrix"})
    errors = grad_throughput._compare(result, reference)
    assert max(errors.values()) <= grad_throughput.MATRIX_TOLERANCE == 1e-12
    assert len(result["grad"]) == 13 and result["runs"][0]["samples_per_s"] > 0
    assert result["threads"] >= 1 and result["threads_note"].startswith("serial kernel")
    assert throughput_child.MATRIX_PEERS == ("symgrad matrix", "symgrad matrix parallel")


def test_matrix_target_names_the_faster_matrix_peer():
    rows = [{"peer": "symgrad serial", "samples_per_s": 10.0},
            {"peer": "torch batched", "samples_per_s": 4.0}, {"peer": "symgrad matrix", "samples_per_s": 3.0},
            {"peer": "symgrad matrix parallel", "samples_per_s": 5.0}]
    grad_throughput._matrix_target(rows)
    assert [len(row["targets"]) for row in rows] == [0, 1, 0, 0]
    [target] = rows[1]["targets"]
    assert target["faster"] == "symgrad matrix parallel" and target["ratio"] == 1.25 and target["met"] is True
    assert grad_throughput.COLUMNS[-1][0] == "target"
    assert grad_throughput._target(rows[1]) == "symgrad matrix parallel >= 1x: met (1.25x)"
    assert grad_throughput._target(rows[0]) == "-"
    rows[1]["samples_per_s"] = None  # torch skipped
    grad_throughput._matrix_target(rows)
    assert rows[1]["targets"][0]["met"] is None
    assert grad_throughput._target(rows[1]) == "symgrad matrix parallel >= 1x: not measured"
