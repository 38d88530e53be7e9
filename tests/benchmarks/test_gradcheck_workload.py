"""The gradcheck workload in quick mode: well-formed rows, right verdicts, evaluation counts.

No timing claims."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import harness
from benchmarks.workloads import gradcheck

QUICK = harness.Settings.for_mode(quick=True, verbose=False)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    outcome = harness.run(["gradcheck"], QUICK, out)
    return outcome, json.loads(outcome.json_path.read_text())["workloads"]["gradcheck"]


def test_rows_are_well_formed(result):
    outcome, workload = result
    rows = workload["rows"]
    expected = [(n, mode, gradient) for n in gradcheck.QUICK_SIZES for mode in gradcheck.MODES
                for gradient in ("correct", "mutated")]
    assert [(r["n_params"], r["mode"], r["gradient"]) for r in rows] == expected
    for row in rows:
        assert row["seconds"] > 0 and len(row["runs_s"]) == QUICK.repeat
        assert row["n_gradients"] == 1 and row["failures"] <= row["rows_checked"]
        assert np.isfinite(row["max_rel_err"]) and row["max_rel_err"] >= 0
        cells = {header: cell(row) for header, cell in gradcheck.COLUMNS}
        assert cells["params"] == f"{row['n_params']:,}" and cells["equal"] == "yes"
    assert workload["answers_equal"] is True and outcome.answers_equal
    text = outcome.markdown_path.read_text()
    assert "| params | mode | k | gradient |" in text and "Answers equal in every row: yes" in text


def test_correct_gradient_passes_and_mutation_is_caught(result):
    _, workload = result
    for row in workload["rows"]:
        if row["gradient"] == "correct":
            assert row["passed"] is True and row["failures"] == 0 and row["caught"] is None
            assert row["max_rel_err"] <= 1e-6 and row["mutated_index"] is None
        else:
            assert row["passed"] is False and row["caught"] is True and row["failures"] >= 1
            assert 0 <= row["mutated_index"] < row["n_params"]
            assert dict(gradcheck.COLUMNS)["caught"](row) == "yes"


def test_evaluation_counts(result):
    _, workload = result
    counts = {(r["n_params"], r["mode"], r["gradient"]): r for r in workload["rows"]}
    k_subset, k_projection = gradcheck.K["subset"], gradcheck.K["projection"]
    for n in gradcheck.QUICK_SIZES:
        assert counts[n, "full", "correct"]["n_evaluations"] == 2 * n + 1
        assert counts[n, "subset", "correct"]["n_evaluations"] == 2 * min(k_subset, n) + 1
        assert counts[n, "projection", "correct"]["n_evaluations"] == 2 * k_projection + 1
        for mode in gradcheck.MODES:
            correct, mutated = counts[n, mode, "correct"], counts[n, mode, "mutated"]
            # a failing row's second look costs 2 more evaluations (central differences at h/4)
            assert mutated["n_evaluations"] == correct["n_evaluations"] + 2 * mutated["failures"]
    # once n ≥ k, subset and projection costs do not grow with n
    def costs(n: int) -> dict[str, int]:
        rows = gradcheck.run(QUICK, sizes=(n,), full_max=0)
        return {r["mode"]: r["n_evaluations"] for r in rows if r["gradient"] == "correct"}

    assert costs(40) == costs(4000) == {"subset": 2 * k_subset + 1, "projection": 2 * k_projection + 1}


def test_full_checks_stop_at_full_max():
    rows = gradcheck.run(QUICK, sizes=(30, 60), full_max=40)
    assert [(r["n_params"], r["mode"]) for r in rows if r["gradient"] == "correct"] == \
        [(30, "full"), (30, "subset"), (30, "projection"), (60, "subset"), (60, "projection")]
    assert all(r["answers_equal"] for r in rows)


def test_objective_gradient_is_analytic():
    loss, grad, theta = gradcheck.objective(7, seed=3)
    h = 1e-6
    numerical = [(loss(theta + h * e) - loss(theta - h * e)) / (2 * h) for e in np.eye(7)]
    np.testing.assert_allclose(grad(theta), numerical, rtol=1e-6)
    again = gradcheck.objective(7, seed=3)[2]
    np.testing.assert_array_equal(theta, again)
