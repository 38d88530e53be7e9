"""The benchmark harness end to end on tiny networks: well-formed results, no timing claims."""

from __future__ import annotations

import json
import time
from itertools import pairwise

import pytest

from benchmarks import harness
from benchmarks.__main__ import parse
from benchmarks.timing import run_capped
from benchmarks.workloads import derive

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
