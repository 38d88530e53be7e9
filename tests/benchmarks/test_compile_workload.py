"""compile on a tiny network, with its peers: well-formed rows, equal answers, no timing claims.

The children run for real on 2-2-1 (symgrad's always; JAX's and PyTensor's when installed). The
bookkeeping of skipped peers and wrong answers is checked with made-up child results, and the digits
network's layout against symgrad's gradient.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import compile_models, harness, training
from benchmarks.baselines.mlp_digits import unflatten
from benchmarks.models import matrix_order
from benchmarks.workloads import compile as compile_workload

QUICK = harness.Settings.for_mode(quick=True, verbose=False)


@pytest.fixture(scope="module")
def row():
    [row] = compile_workload.run(QUICK, sizes=[(2, 2, 1)], digits=False)
    return row


def cells(row: dict) -> dict:
    return {header: cell(row) for header, cell in compile_workload.COLUMNS}


def test_symgrad_part_is_well_formed(row):
    assert row["model"] == "2-2-1" and row["n_params"] == 9
    assert row["cold_error"] is None and row["warm_error"] is None
    for key in ("import_s", "cold_ready_s", "cold_numba_s", "warm_ready_s"):
        assert row[key] > 0, key
    assert row["warm_cache_hit"] is True and row["warm_numba_s"] == 0.0
    assert row["cold_target_s"] is None and row["cold_target_met"] is None
    [cold], [warm] = row["runs"]["cold"], row["runs"]["warm"]  # quick: one repeat
    assert cold["equal"] is True and cold["max_rel_error"] == {"loss": 0.0, "grad": 0.0}
    assert warm["equal"] is True and "grad" not in cold and np.isfinite(cold["loss"])
    assert row["answers_equal"] is True
    # The third run is warm too, in a process that could not import SciPy.
    [bare] = row["runs"]["warm_without_scipy"]
    assert bare["equal"] is True and bare["scipy_loaded"] is False and bare["numba_compile_s"] == 0.0
    assert row["warm_without_scipy_ready_s"] == bare["ready_s"] > 0
    assert cells(row)["warm s, no SciPy"] == compile_workload._seconds(bare["ready_s"])
    assert cells(row)["warm hit"] == "yes" and cells(row)["cold target"] == "-"
    assert cells(row)["equal"].startswith("yes")


@pytest.mark.parametrize("peer", list(compile_workload.PEERS))
def test_peer_answers_equal_symgrad(row, peer):
    pytest.importorskip(compile_workload.PEERS[peer])
    summary = row["peers"][peer]
    assert summary["library"].startswith(peer) and summary["import_s"] > 0
    assert summary["answers_equal"] is True and summary["max_rel_error"] <= compile_workload.TOLERANCE
    for which in ("cold", "warm"):
        [run] = summary["runs"][which]
        assert run["equal"] is True and run["loss"] == pytest.approx(row["runs"]["cold"][0]["loss"], rel=1e-9)
        assert summary[f"{which}_ready_s"] == run["ready_s"] > 0 and summary[f"{which}_error"] is None
        assert summary[f"{which}_ratio"] == pytest.approx(run["ready_s"] / row[f"{which}_ready_s"])
        assert run["ready_s"] == pytest.approx(run["define_s"] + run["first_call_s"])
    [cold] = summary["runs"]["cold"]
    assert cold["cache_files"][0] == 0 and cold["cache_hit"] is False
    assert summary["warm_cache_hit"] is True
    assert cells(row)[f"{peer} warm s"].endswith("x)")  # seconds, then the ratio to symgrad


def fake_child(wrong: str | None = None):
    """A stand-in for the child processes: answers from numpy, ``wrong``'s gradient off by 1e-6."""

    def child(who, model, data, cache, timeout, without_scipy=False):
        arrays = compile_models.load(data)
        grad = np.cos(arrays["theta"]) * (1 + (1e-6 if who == wrong else 0))
        ready = 0.3 if without_scipy else 1.0
        result = {"import_s": 0.5, "ready_s": ready, "other_load": 0.0, "loss": 0.25, "grad": list(grad)}
        if who == "symgrad":
            return {**result, "build_s": 0.1, "model_s": 0.1, "compile_s": 0.8, "numba_compile_s": 0.5,
                    "numba_passes_s": {}, "kernel_operations": 10,
                    "cache_stats": {"loss_and_grad": {"hits": 1, "misses": 0}}}
        if who == "pytensor":
            return {"missing": "pytensor"}  # as if its import failed in the child
        return {**result, "define_s": 0.0, "first_call_s": 1.0, "numba_compile_s": None, "cache_hit": True,
                "library": f"{who} 0"}

    return child


def test_missing_peers_are_skipped_with_a_hint(monkeypatch):
    monkeypatch.setattr(compile_workload, "_child", fake_child())
    monkeypatch.setattr(compile_workload, "installed", lambda package: package != "jax")
    [row] = compile_workload.run(QUICK, sizes=[(2, 2, 1)], digits=False)
    assert row["skipped"] == {"jax": training.HINTS["jax"], "pytensor": training.HINTS["pytensor"]}
    assert row["peers"] == {} and row["answers_equal"] is True
    assert cells(row)["jax cold s"] == cells(row)["pytensor warm s"] == "skipped"
    assert "jax skipped: JAX is not installed: pip install jax" in cells(row)["equal"]
    assert "pytensor skipped: PyTensor is not installed: pip install pytensor" in cells(row)["equal"]


def test_a_wrong_gradient_does_not_count(monkeypatch):
    monkeypatch.setattr(compile_workload, "_child", fake_child(wrong="jax"))
    monkeypatch.setattr(compile_workload, "installed", lambda package: True)  # the child is made up
    [row] = compile_workload.run(QUICK, sizes=[(2, 2, 1)], digits=False, peers=["jax"])
    jax = row["peers"]["jax"]
    assert row["answers_equal"] is False and jax["answers_equal"] is False
    assert jax["max_rel_error"] == pytest.approx(1e-6) and jax["cold_ready_s"] is None
    assert cells(row)["jax cold s"] == "differs" and cells(row)["equal"] == "NO (jax)"
    assert row["cold_ready_s"] == 1.0 and row["peers"]["jax"]["warm_ready_s"] is None


def test_quick_runs_the_smallest_network_and_digits(monkeypatch):
    monkeypatch.setattr(compile_workload, "_child", fake_child())
    monkeypatch.setattr(compile_workload, "installed", lambda package: True)  # the children are made up
    rows = compile_workload.run(QUICK, peers=["jax"])
    assert [row["model"] for row in rows] == ["2-4-1", "digits 64-32-10"]
    digits = rows[1]
    assert digits["n_params"] == 2410 and digits["answers_equal"] is True
    assert digits["cold_target_met"] is True and digits["warm_target_met"] is None
    assert cells(digits)["jax cold s"] == "1 (1x)" and cells(digits)["pytensor cold s"] == "-"
    small = rows[0]
    assert len(small["runs"]["warm_without_scipy"]) == 1 and small["warm_without_scipy_ready_s"] == 0.3


def test_the_warm_target_is_judged_with_and_without_scipy(monkeypatch):
    monkeypatch.setattr(compile_workload, "_child", fake_child())  # warm 1.0 s, 0.3 s without SciPy
    monkeypatch.setattr(compile_workload, "installed", lambda package: False)
    [row] = compile_workload.run(QUICK, sizes=[(2, 16, 16, 1)], digits=False)
    assert row["warm_target_met"] is False and row["warm_without_scipy_target_met"] is True
    assert cells(row)["warm target"] == "<= 0.5: NOT met; without SciPy: met"
    assert cells(row)["cold target"] == "<= 5: met"


def test_layouts_match_symgrads_theta():
    rng = np.random.default_rng(3)
    sizes = (2, 3, 4, 1)
    theta = rng.normal(size=compile_models.n_params("2-3-4-1"))
    pairs = compile_models.layers("2-3-4-1", theta)
    assert np.array_equal(np.concatenate([a for W, b in pairs for a in (W.ravel(), b)]),
                          theta[matrix_order(sizes)])
    assert np.array_equal(compile_models.flatten("2-3-4-1", pairs), theta)
    digits = rng.normal(size=2410)
    pairs = compile_models.layers(compile_models.DIGITS, digits)
    for mine, theirs in zip([a for pair in pairs for a in pair], unflatten(digits), strict=True):
        assert np.array_equal(mine, theirs)
    assert np.array_equal(compile_models.flatten(compile_models.DIGITS, pairs), digits)


def test_digits_jax_answers_equal_symgrads(tmp_path):
    """The hand-written JAX loss of the digits network, in its child process, against symgrad's kernel.

    Not in this process: JAX starts threads, and other tests fork.
    """
    pytest.importorskip("jax")
    import symgrad as sg

    data = compile_models.first_call_data(compile_models.DIGITS, seed=5)
    assert data["theta"].shape == (2410,) and data["X"].shape == (4, 64)
    assert np.array_equal(data["T"].sum(axis=1), np.ones(4))  # one-hot
    compile_models.save(tmp_path / "data.npz", data)
    loss, params, inputs, targets = compile_models.declare(compile_models.DIGITS)
    kernels = sg.Model(loss=loss, params=params, inputs=inputs, targets=targets).compile()
    value, grad = kernels.loss_and_grad(data["theta"], data["X"], data["T"])
    (tmp_path / "cache").mkdir()
    result = compile_workload._child("jax", compile_models.DIGITS, tmp_path / "data.npz", tmp_path / "cache",
                                     timeout=120)
    assert result["cache_hit"] is False and result["cache_files"][0] == 0 < result["cache_files"][1]
    assert result["loss"] == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(result["grad"], grad, rtol=0, atol=1e-12 * np.max(np.abs(grad)))
