"""rosenbrock_adam and logreg at a tiny size: well-formed rows, equal answers across peers, no timing claims.

The peers run in this process (``isolate=False``) to keep the tests fast; one test runs a peer through
the child process the full workloads use. Peers whose library is not installed are skipped, and so
must say so with an install hint.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from benchmarks import harness, training, training_child
from benchmarks.baselines import logreg as logreg_peers
from benchmarks.workloads import logreg, rosenbrock_adam

QUICK = harness.Settings.for_mode(quick=True, verbose=False)
TINY_RUN = {"min_run_s": 0.001, "isolate": False}


def check_rows(rows: list[dict], peers, reference: str, exact=()) -> list[dict]:
    """The rows every training workload gives: returns the rows that ran."""
    assert [row["peer"] for row in rows if not row["skipped"]] == \
        [p for p in peers if training.installed(peers[p])]
    assert {row["peer"] for row in rows} == set(peers)
    ran = [row for row in rows if not row["skipped"]]
    assert ran[0]["peer"] == reference and ran[0]["ratio_to_symgrad"] == 1.0
    assert ran[0]["max_rel_error"] == {"check": 0.0, "end": 0.0}
    for row in ran:
        assert row["answers_equal"] is True, (row["peer"], row["max_rel_error"])
        assert row["max_rel_error"]["check"] <= row["tolerance"]["check"]
        assert row["max_rel_error"]["end"] <= row["tolerance"]["end"]
        assert row["steps_per_s"] > 0 and row["ratio_to_symgrad"] > 0 and row["overhead_s"] >= 0
        [run] = row["runs"]  # quick: one run
        assert run["trainings"] >= 1 and run["seconds"] > 0
        assert run["steps_per_s"] == row["steps_per_s"] == row["best_steps_per_s"]
        assert len(row["setup_s"]) == 1 and row["setup_s"][0] > 0
        assert np.all(np.isfinite(row["end_theta"])) and np.all(np.isfinite(row["check_theta"]))
    for row in ran:
        if row["peer"] in exact:
            assert row["max_rel_error"] == {"check": 0.0, "end": 0.0}, row["peer"]
            assert row["end_theta"] == ran[0]["end_theta"]
    for row in rows:
        if row["skipped"]:
            assert "pip install" in row["skipped"] and row["steps_per_s"] is None
    return ran


@pytest.fixture(scope="module")
def rosenbrock(tmp_path_factory):
    options = {"steps": 300, "check_steps": 100, **TINY_RUN}
    out = tmp_path_factory.mktemp("results")
    outcome = harness.run(["rosenbrock_adam"], QUICK, out, options={"rosenbrock_adam": options})
    return outcome, json.loads(outcome.json_path.read_text())["workloads"]["rosenbrock_adam"]


def test_rosenbrock_rows(rosenbrock):
    outcome, result = rosenbrock
    ran = check_rows(result["rows"], rosenbrock_adam.PEERS, "symgrad fused", rosenbrock_adam.EXACT)
    assert all(row["steps"] == 300 and row["check_steps"] == 100 for row in result["rows"])
    # 300 steps stay well before the minimum, where only rounding separates the peers
    assert all(row["max_rel_error"]["end"] <= 1e-12 for row in ran)
    assert result["answers_equal"] is True and outcome.answers_equal
    targets = {(t["faster"], row["peer"]): t for row in result["rows"] for t in row["targets"]}
    assert set(targets) == {("symgrad fused", "numba loop"), ("symgrad fused", "torch"),
                            ("symgrad python", "torch")}
    numba_target = targets["symgrad fused", "numba loop"]
    assert numba_target["ratio_min"] == 0.5 and numba_target["met"] in (True, False)
    assert numba_target["ratio"] == numba_target["ratio_best"] > 0  # one run each
    text = outcome.markdown_path.read_text()
    assert "| 300 | symgrad fused | 1 |" in text and "Answers equal in every row: yes" in text


def test_rosenbrock_answers_start_at_the_same_point(rosenbrock):
    _, result = rosenbrock
    ran = [row for row in result["rows"] if not row["skipped"]]
    reference = np.array(ran[0]["check_theta"])
    assert np.all(np.abs(reference - np.array([-1.5, 2.0])) < 1.0)  # 100 steps of 0.01 or less
    for row in ran:
        np.testing.assert_allclose(row["check_theta"], reference, rtol=1e-11, atol=0)


@pytest.fixture(scope="module")
def logreg_rows():
    pytest.importorskip("sklearn")
    return logreg.run(QUICK, steps=60, check_steps=20, data={"name": "breast_cancer", "features": 3},
                      **TINY_RUN)


def test_logreg_rows_on_three_breast_cancer_features(logreg_rows):
    ran = check_rows(logreg_rows, logreg.PEERS, "symgrad fit", logreg.EXACT)
    for row in ran:
        assert row["data"] == "breast_cancer" and row["features"] == 3 and row["steps"] == 60
        assert len(row["end_theta"]) == 4
    cells = {header: cell(ran[0]) for header, cell in logreg.COLUMNS}
    assert cells["data"] == "breast cancer (3 features)" and cells["equal"] == "yes"
    [jax_row] = [row for row in logreg_rows if row["peer"] == "jax fori_loop"]
    assert [t["faster"] for t in jax_row["targets"]] == ["symgrad fit", "symgrad matrix fit"]
    assert all(row["shape"] == [569, 3] for row in ran)
    assert logreg.FLOPS.per_unit(ran[0]) == 4 * 569 * 3 + 7 * 569 + 3 * 4
    assert logreg.flops_per_step(569, 30) == 72_356  # the docstring's figure for the whole set


def test_logreg_data():
    X, t = logreg_peers.load({"name": "synthetic", "samples": 50, "features": 4, "seed": 3})
    assert X.shape == (50, 4) and t.shape == (50,) and set(np.unique(t)) <= {0.0, 1.0}
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1, rtol=1e-12)
    if training.installed("sklearn"):
        X, t = logreg_peers.load({"name": "breast_cancer"})
        assert X.shape == (569, 30) and t.sum() == 357  # benign


def test_logreg_is_skipped_without_scikit_learn(monkeypatch):
    monkeypatch.setattr(training, "installed", lambda package: package != "sklearn")
    rows = logreg.run(QUICK, peers=["symgrad fit", "numpy"], isolate=False)
    assert [row["peer"] for row in rows] == ["symgrad fit", "numpy"]
    assert all(row["skipped"] == logreg.SKLEARN_HINT for row in rows)
    assert "pip install scikit-learn" in logreg.SKLEARN_HINT


def test_missing_peer_library_is_skipped_with_a_hint(monkeypatch):
    monkeypatch.setattr(training, "installed", lambda package: package != "torch")
    # three features: the same model as the breast-cancer test, so its kernels come from the cache
    rows = logreg.run(QUICK, steps=5, check_steps=2, peers=["symgrad fit", "torch"],
                      data={"name": "synthetic", "samples": 20, "features": 3}, **TINY_RUN)
    assert rows[1]["peer"] == "torch" and rows[1]["skipped"] == training.HINTS["torch"]
    assert "pip install torch==2.13.0" in rows[1]["skipped"]
    cells = {header: cell(rows[1]) for header, cell in logreg.COLUMNS}
    assert cells["steps/s"] == "skipped" and cells["target"] == "-"


def test_child_reports_a_missing_library(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails as if not installed
    spec = {"problem": "rosenbrock_adam", "peer": "torch", "steps": 3, "check_steps": 2}
    assert training_child.measure(spec) == {"skipped": "torch is not installed", "missing": "torch"}


def test_a_peer_in_its_own_process():
    spec = {"problem": "logreg", "peer": "numpy", "data": {"name": "synthetic", "samples": 30, "features": 2},
            "steps": 50, "check_steps": 10, "min_run_s": 0.001, "runs": 2, "budget_s": 10.0, "threads": 1}
    result = training._child(spec)
    assert result["threads"] in (1, None)  # OpenBLAS told to use one thread, when it can be asked
    assert len(result["runs"]) == 2 and len(result["end_theta"]) == 3 and len(result["check_theta"]) == 3
    assert all(run["steps_per_s"] > 0 for run in result["runs"])


def test_unknown_or_missing_reference_peer_is_refused():
    with pytest.raises(ValueError):
        rosenbrock_adam.run(QUICK, peers=["torch"])
    with pytest.raises(ValueError):
        logreg.run(QUICK, peers=["symgrad fit", "no such peer"])
