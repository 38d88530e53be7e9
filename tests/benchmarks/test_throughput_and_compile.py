"""grad_throughput on tiny inputs: well-formed rows, equal answers, no timing claims.

The compile workload's tests are in test_compile_workload.py.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from benchmarks import baselines, flops, harness, throughput_child
from benchmarks.baselines import numpy_mlp
from benchmarks.models import backprop, mlp
from benchmarks.workloads import grad_throughput

TINY = (2, 3, 1)


@pytest.fixture(scope="module")
def throughput(tmp_path_factory):
    settings = harness.Settings.for_mode(quick=True, verbose=False)
    options = {"sizes": TINY, "n_samples": 300, "min_run_s": 0.001,
               "cache_dir": tmp_path_factory.mktemp("symgrad-cache"),
               # the matrix peers compile for ~20 s in a fresh cache: test_matrix_throughput.py covers them
               "peers": [p for p in grad_throughput.PEERS if p not in throughput_child.MATRIX_PEERS]}
    out = tmp_path_factory.mktemp("results")
    outcome = harness.run(["grad_throughput"], settings, out, options={"grad_throughput": options})
    return outcome, json.loads(outcome.json_path.read_text())["workloads"]["grad_throughput"]


def test_throughput_rows_are_well_formed(throughput):
    outcome, result = throughput
    rows = result["rows"]
    assert [row["peer"] for row in rows][:4] == list(grad_throughput.PEERS[:4])
    ran = [row for row in rows if not row["skipped"]]
    assert len(ran) >= 4 and all(row["skipped"] == grad_throughput.TORCH_HINT for row in rows[len(ran):])
    for row in ran:
        assert row["model"] == "2-3-1" and row["n_params"] == 13 and row["n_samples"] == 300
        assert row["answers_equal"] is True, row["peer"]
        assert max(row["max_rel_error"].values()) <= 1e-9
        assert row["samples_per_s"] > 0 and row["ratio_to_serial"] > 0
        [run] = row["runs"]  # quick: one round
        assert run["samples_per_s"] == row["samples_per_s"] and run["calls"] >= 1 and run["seconds"] > 0
        assert run["other_load"] is None or run["other_load"] >= 0
        assert len(row["setup_s"]) == 1 and row["setup_s"][0] > 0
        assert row["threads"] is None or row["threads"] >= 1
    assert ran[0]["ratio_to_serial"] == 1.0 and ran[0]["max_rel_error"] == {"loss": 0.0, "grad": 0.0}
    assert result["answers_equal"] is True and outcome.answers_equal
    assert "| 2-3-1 | 300 | symgrad serial | 1 |" in outcome.markdown_path.read_text()


def test_throughput_rows_carry_their_flop_rate(throughput):
    """Without the peak workload in the run, the harness measures a quick peak for the fractions."""
    outcome, result = throughput
    peak = json.loads(outcome.json_path.read_text())["peak"]
    assert peak["measured_by"] == "quick peak measurement" and peak["gflops"] > 0 and peak["rows"]
    for row in result["rows"]:
        if row["skipped"]:
            assert row["gflops"] is None and row["peak_fraction"] is None
            continue
        assert row["flops_per_unit"] == grad_throughput.flops_per_sample(TINY) == 75
        assert row["gflops"] == pytest.approx(row["samples_per_s"] * 75 / 1e9)
        assert row["peak_fraction"] == pytest.approx(row["gflops"] / peak["gflops"])
    text = outcome.markdown_path.read_text()
    assert "| samples/s | GFLOP/s | % peak | x serial |" in text
    assert "GFLOP/s: samples/s times 75 FLOPs per sample" in text and "Machine peak (quick peak" in text


def test_flop_counts():
    """The counts the docstrings give: 2-16-16-1 per sample, and by hand for 2-3-1.

    2-3-1: forward 2 (2*3 + 3*1) + 4 (3 + 1) = 34; loss 4; backward 3 * 4 deltas, 2 * 9 weight-gradient
    terms, 4 bias adds and 3 * (2*1 - 1) for W^T delta into the hidden layer = 37.
    """
    assert grad_throughput.flops_per_sample((2, 16, 16, 1)) == 1996
    assert grad_throughput.flops_per_sample((2, 3, 1)) == 34 + 4 + 37
    columns = [header for header, _ in flops.columns(grad_throughput)]
    assert columns[columns.index("samples/s") + 1:][:2] == ["GFLOP/s", "% peak"]
    rows = [{"model": "2-3-1", "samples_per_s": 1e6, "skipped": None}]
    flops.annotate(rows, grad_throughput.FLOPS, None)  # no peak measured: no fraction
    assert rows[0]["gflops"] == pytest.approx(0.075) and rows[0]["peak_fraction"] is None


def test_torch_is_skipped_with_a_hint_when_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(grad_throughput, "torch_installed", lambda: False)
    settings = harness.Settings.for_mode(quick=True, verbose=False)
    rows = grad_throughput.run(settings, sizes=TINY, n_samples=50, min_run_s=0.001, cache_dir=tmp_path,
                               peers=("symgrad serial", "torch batched"))
    assert [row["peer"] for row in rows] == ["symgrad serial", "torch batched"]
    assert rows[1]["skipped"] == grad_throughput.TORCH_HINT and "pip install torch" in rows[1]["skipped"]
    cells = {header: cell(rows[1]) for header, cell in grad_throughput.COLUMNS}
    assert cells["samples/s"] == "skipped" and cells["equal"] == grad_throughput.TORCH_HINT


def test_baseline_layout_matches_the_models_params():
    """numpy_mlp reads theta in benchmarks.models' order: one sample agrees with the scalar backprop."""
    sizes = (2, 3, 2, 1)
    net = mlp(sizes)
    rng = np.random.default_rng(7)
    theta, x, t = rng.normal(size=len(net.params)), rng.normal(size=2), rng.uniform()
    point = dict(zip(net.symbols, [*theta, *x, t], strict=True))
    out = np.empty_like(theta)
    numpy_mlp.loss_and_grad(theta, x[None, :], np.array([[t]]), sizes, out)
    np.testing.assert_allclose(out, backprop(net, point), rtol=1e-12, atol=1e-15)


def test_child_reports_a_missing_torch(monkeypatch):
    monkeypatch.delitem(sys.modules, "benchmarks.baselines.torch_mlp", raising=False)
    monkeypatch.delattr(baselines, "torch_mlp", raising=False)
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails as if not installed
    spec = {"peer": "torch batched", "sizes": TINY, "n_samples": 10, "seed": 1, "min_run_s": 0.001}
    assert throughput_child.measure(spec) == {"skipped": grad_throughput.TORCH_HINT}
