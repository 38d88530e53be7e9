"""mlp_digits through the harness in quick mode, one epoch: well-formed rows, equal answers, no timing claims.

The peers run in this process (``isolate=False``) to keep the test short; a peer whose library is not
installed must be skipped with an install hint, and the whole workload without scikit-learn.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import harness, training
from benchmarks.baselines import mlp_digits as peers
from benchmarks.workloads import mlp_digits

QUICK = harness.Settings.for_mode(quick=True, verbose=False)


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    pytest.importorskip("sklearn")
    options = {"epochs": 1, "min_run_s": 0.001, "isolate": False}
    outcome = harness.run(["mlp_digits"], QUICK, tmp_path_factory.mktemp("results"),
                          options={"mlp_digits": options})
    return outcome, json.loads(outcome.json_path.read_text())["workloads"]["mlp_digits"]


def test_rows_are_well_formed_and_answers_equal(outcome):
    outcome, result = outcome
    rows = result["rows"]
    installed = [p for p, need in mlp_digits.PEERS.items() if training.installed(need)]
    assert [row["peer"] for row in rows if not row["skipped"]] == installed
    assert {row["peer"] for row in rows} == set(mlp_digits.PEERS)
    ran = [row for row in rows if not row["skipped"]]
    assert ran[0]["peer"] == "symgrad fit" and ran[0]["ratio_to_symgrad"] == 1.0
    for row in ran:
        assert row["answers_equal"] is True and row["accuracy_ok"] is True, row["peer"]
        assert row["epochs"] == row["check_epochs"] == 1 and row["batch_size"] == 32
        assert row["n_train"] == 1437 and row["n_test"] == 360 and row["n_params"] == 2410
        assert max(row["max_rel_error"].values()) <= mlp_digits.TOLERANCES["end"]
        [run] = row["runs"]  # quick: one run
        assert run["samples_per_s"] == row["samples_per_s"] == row["best_samples_per_s"] > 0
        assert row["samples_per_s"] == pytest.approx(run["trainings"] * 1437 / run["seconds"])
        assert "steps_per_s" not in row and "steps_per_s" not in run
        assert len(row["end_theta"]) == 2410 and np.all(np.isfinite(row["end_theta"]))
        assert row["test_accuracy"] == ran[0]["test_accuracy"]
        assert row["gflops"] == pytest.approx(row["samples_per_s"] * mlp_digits.flops_per_sample() / 1e9)
    for row in ran:
        if row["peer"] in mlp_digits.EXACT:
            assert row["end_theta"] == ran[0]["end_theta"] and row["check_theta"] == ran[0]["check_theta"]
    for row in rows:
        if row["skipped"]:
            assert "pip install" in row["skipped"] and row["samples_per_s"] is None
    # one epoch from the same start: all peers moved the same way, away from theta0
    start = np.array(peers.model().init_params(seed=0))
    assert np.max(np.abs(np.array(ran[0]["end_theta"]) - start)) > 1e-3
    targets = {(t["faster"], row["peer"]): t["ratio_min"] for row in rows for t in row["targets"]}
    assert targets == {("symgrad fit", "jax scan"): 1.0, ("symgrad fit", "numpy"): 1.66}
    assert result["answers_equal"] is True and outcome.answers_equal
    text = outcome.markdown_path.read_text()
    assert "| epochs | peer | threads | samples/s | GFLOP/s | % peak | best run |" in text
    assert "| 1 | symgrad fit | 1 |" in text and "Answers equal in every row: yes" in text


def test_flop_count():
    """The docstring's figures: 10,331 per sample and 45 Adam steps of 2,410 parameters per 1,437 samples."""
    assert mlp_digits.flops_per_sample() == pytest.approx(10_331 + 13 * 2410 * 45 / 1437)
    # 2-3-2 by hand: forward 2*2*3 + 3 + 2*3*2 = 27; loss 8*2 + 1 = 17; backward 12 + 2 + 9 + 9 + 12 + 3 = 47;
    # Adam 13 * 17 parameters, one step of 4 samples
    assert mlp_digits.flops_per_sample((2, 3, 2), batch=4, n=4) == 27 + 17 + 47 + 13 * 17 / 4


def test_data_split():
    pytest.importorskip("sklearn")
    X, Y, X_test, Y_test = peers.load()
    assert X.shape == (1437, 64) and Y.shape == (1437, 10) and X_test.shape == (360, 64)
    assert X.min() >= 0 and X.max() <= 1 and np.all(Y.sum(axis=1) == 1) and np.all(Y_test.sum(axis=1) == 1)
    assert all(a.flags.c_contiguous and a.dtype == np.float64 for a in (X, Y, X_test, Y_test))


def test_skipped_without_scikit_learn(monkeypatch):
    monkeypatch.setattr(training, "installed", lambda package: package != "sklearn")
    rows = mlp_digits.run(QUICK, peers=["symgrad fit", "numpy"], isolate=False)
    assert [row["peer"] for row in rows] == ["symgrad fit", "numpy"]
    assert all(row["skipped"] == mlp_digits.SKLEARN_HINT for row in rows)
    cells = {header: cell(rows[0]) for header, cell in mlp_digits.COLUMNS}
    assert cells["samples/s"] == "skipped" and cells["test acc"] == "-"


def test_unknown_or_missing_reference_peer_is_refused():
    with pytest.raises(ValueError):
        mlp_digits.run(QUICK, peers=["numpy"])
    with pytest.raises(ValueError):
        mlp_digits.run(QUICK, peers=["symgrad fit", "no such peer"])
