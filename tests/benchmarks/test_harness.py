"""The benchmark harness end to end on tiny networks: well-formed results, no timing claims."""

from __future__ import annotations

import json
import math
import time
from itertools import pairwise

import pytest

from benchmarks import harness, training
from benchmarks.__main__ import parse
from benchmarks.throughput_child import usable_cores
from benchmarks.timing import run_capped
from benchmarks.workloads import derive, peak

TINY = [(2, 2, 1), (2, 3, 1)]


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    settings = harness.Settings.for_mode(quick=True, cap=20.0, verbose=False)
    out = tmp_path_factory.mktemp("results")
    return harness.run(["derive"], settings, out, options={"derive": {"sizes": TINY}})


def test_json_is_well_formed(outcome):
    document = json.loads(outcome.json_path.read_text())
    machine = document["machine"]
    for key in ("date", "cpu_model", "cpu_count", "python", "versions"):
        assert machine[key]
    assert set(machine["versions"]) >= {"sympy", "numpy", "networkx", "numba"}
    assert document["settings"]["quick"] is True
    derive = document["workloads"]["derive"]
    assert derive["answers_equal"] is True
    assert [row["model"] for row in derive["rows"]] == ["2-2-1", "2-3-1"]


@pytest.mark.parametrize("index", range(len(TINY)))
def test_rows_are_complete(outcome, index):
    row = json.loads(outcome.json_path.read_text())["workloads"]["derive"]["rows"][index]
    sizes = TINY[index]
    assert row["n_params"] == sum((a + 1) * b for a, b in pairwise(sizes))
    assert row["graph_nodes"] > row["n_params"] and row["program_statements"] > 0
    assert row["answers_equal"] is True
    assert row["checked_against"] == ["backprop", "naive"]  # the tiny baseline finishes
    assert all(error <= 1e-9 for error in row["max_rel_error"].values())
    for key in ("symgrad_s", "declare_s", "program_s", "symgrad_s_per_node", "naive_s", "ratio"):
        assert row[key] > 0, key
    assert row["naive_capped"] is False and row["naive_error"] is None


def test_markdown_summary(outcome):
    text = outcome.markdown_path.read_text()
    assert "| model |" in text and "| 2-3-1 |" in text
    assert "Answers equal in every row: yes" in text
    assert outcome.answers_equal


@pytest.fixture(scope="module")
def peak_outcome(tmp_path_factory):
    settings = harness.Settings.for_mode(quick=True, verbose=False)
    return harness.run(["peak"], settings, tmp_path_factory.mktemp("results"))


def test_peak_rows_are_well_formed(peak_outcome):
    document = json.loads(peak_outcome.json_path.read_text())
    rows = document["workloads"]["peak"]["rows"]
    assert [row["kernel"] for row in rows] == list(peak.QUICK_KERNELS)
    assert [row["unit"] for row in rows] == ["GFLOP/s", "GB/s", "GB/s"]
    assert [row["threads"] for row in rows] == [usable_cores(), 1, 1]  # numpy's element-wise: one thread
    for row in rows:
        assert math.isfinite(row["rate"]) and row["rate"] > 0 and row["best_rate"] >= row["rate"]
        [run] = row["runs"]  # quick: one process, one run
        assert run["rate"] == row["rate"] and run["calls"] >= 1 and run["seconds"] > 0
        assert row["answers_equal"] is True and row["max_rel_error"] <= peak.TOLERANCE
        assert row["per_call"] > 0 and len(row["setup_s"]) == 1
    matmul, copy, triad = rows
    assert matmul["per_call"] == 2 * 1024**3 and copy["per_call"] == 16 * triad["per_call"] / 24
    limit = document["peak"]
    assert limit["measured_by"] == "peak workload" and limit["kernel"] == "numpy matmul"
    assert limit["gflops"] == matmul["best_rate"] and limit["threads"] == usable_cores()
    assert math.isfinite(limit["gb_per_s"])
    assert limit["gb_per_s"] == max(copy["best_rate"], triad["best_rate"])
    text = peak_outcome.markdown_path.read_text()
    assert "Machine peak (peak workload, best runs): " in text and "| numpy matmul | " in text
    assert peak_outcome.answers_equal


def test_peak_kernels_on_one_thread():
    """Every kernel, numba's included, in a child pinned to one thread; small sizes, no timing claims."""
    settings = harness.Settings.for_mode(quick=True, verbose=False)
    rows = peak.run(settings, threads=[1], kernels=list(peak.KERNELS), matmul_n=48, stream_n=1000,
                    min_run_s=0.001)
    assert [row["kernel"] for row in rows] == list(peak.KERNELS)
    for row in rows:
        if row["skipped"]:  # numba's np.dot without SciPy
            assert row["kernel"] == "numba np.dot" and row["skipped"] == training.HINTS["scipy"]
            continue
        assert row["threads"] == 1 and row["answers_equal"] is True and row["rate"] > 0
    [numba_triad] = [row for row in rows if row["kernel"] == "numba triad"]
    assert "on 1 thread(s)" in numba_triad["note"] and numba_triad["n"] == 1000
    assert peak.limit(rows)["gflops_1_thread"] == peak.limit(rows)["gflops"]


def test_capped_baseline_is_reported_as_a_lower_bound():
    settings = harness.Settings(quick=True, repeat=1, cap=0.01, verbose=False)
    [row] = derive.run(settings, sizes=[(2, 2, 1)])
    assert row["naive_capped"] is True and row["naive_s"] is None and row["naive_runs_s"] == [None]
    assert row["ratio_is_lower_bound"] is True and row["ratio"] > 0
    assert row["checked_against"] == ["backprop"] and row["answers_equal"] is True
    cells = {header: cell(row) for header, cell in derive.COLUMNS}
    assert cells["naive s"] == "> 0.01" and cells["naive/symgrad"].startswith("> ")


def test_run_capped_reports_results_errors_and_timeouts():
    assert run_capped(sum, ([1, 2],), cap=10).result == 3
    assert "ZeroDivisionError" in run_capped(divmod, (1, 0), cap=10).error
    assert run_capped(time.sleep, (5,), cap=0.05).capped


def test_command_line_options():
    args = parse(["--quick", "--only", "derive", "--repeat", "2", "--out", "somewhere"])
    assert args.quick and args.only == ["derive"] and args.repeat == 2 and str(args.out) == "somewhere"
    with pytest.raises(SystemExit):
        parse(["--only", "no-such-workload"])
