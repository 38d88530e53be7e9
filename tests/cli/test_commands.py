"""Every command of the command line, run in a subprocess on the example model files."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.cli.demo import SEED003_POINT, seed003_network

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "examples" / "models"


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "symgrad", *map(str, args)], capture_output=True, text=True,
                          timeout=600, cwd=cwd)


def ok(*args, cwd=None):
    result = run(*args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("command", ["demo", "grad", "hessian", "explain", "check", "train", "emit", "graph",
                                     "landscape"])
def test_every_command_has_help(command):
    out = ok(command, "--help")
    assert f"usage: symgrad {command}" in out


def test_grad_symbolic_and_at_the_notes_point():
    out = ok("grad", "2*(x*y + Max(z, w))", "--wrt", "x,y,z,w", "--at", "x=3,y=-4,z=2,w=-1")
    values = [float(v) for v in re.findall(r"=  (\S+)$", out, flags=re.M)]
    assert values == [-8, 6, 2, 0]
    assert "df/dx = 2*y" in out


def test_grad_latex():
    out = ok("grad", "exp(a*b)", "--wrt", "a", "--latex")
    assert r"b e^{a b}" in out


def test_hessian_matches_sympy():
    out = ok("hessian", "x**3*y + sin(y)", "--wrt", "x,y", "--at", "x=1,y=2")
    x, y = sp.symbols("x y")
    H = sp.hessian(x**3 * y + sp.sin(y), (x, y)).subs({x: 1, y: 2})
    numbers = [float(v) for v in re.findall(r"-?\d+\.\d+", out.split("at x = 1, y = 2:")[1])]
    assert np.allclose(numbers, np.array(H.evalf(), dtype=float).ravel())


@pytest.mark.parametrize("expr", ["__import__('os').system('echo hacked')", "x.__class__", "lambda: 1",
                                  "open('f')", "9**9**9"])
def test_injection_is_refused_without_traceback(expr):
    result = run("grad", expr, "--wrt", "x")
    assert result.returncode == 1
    assert result.stderr.startswith("symgrad: error:") and "Traceback" not in result.stderr
    assert "hacked" not in result.stdout


def test_debug_shows_the_traceback():
    result = run("--debug", "grad", "x.y", "--wrt", "x")
    assert result.returncode == 1 and "Traceback" in result.stderr


def test_explain_seed003_with_values():
    point = ",".join(f"{k}={float(v)}" for k, v in SEED003_POINT.items())
    out = ok("explain", MODELS / "seed003.toml", "w53", "--at", point)
    assert "path 1:" in out and "δ" in out
    model, exact_point = seed003_network()
    exact = model.program.evaluate(exact_point)["grad", 0, model.params.index(sp.Symbol("w53"))]
    assert f"{float(exact):.6f}"[:8] in out


def test_explain_unknown_parameter():
    result = run("explain", MODELS / "seed003.toml", "w99")
    assert result.returncode == 1 and "w99 is not a parameter" in result.stderr


def test_check_passes_on_a_correct_model():
    out = ok("check", MODELS / "logistic.toml")
    assert re.search(r"all 3 ok", out)


def test_train_writes_parameters_that_match_the_library(tmp_path):
    out = ok("train", MODELS / "logistic.toml", "--optimizer", "adam", "--lr", "0.05", "--epochs", "5",
             "--batch-size", "32", "--seed", "1", "--out", tmp_path / "p.npz", "--no-progress")
    assert "max_epochs after" in out
    saved = np.load(tmp_path / "p.npz")
    loaded = sg.load_model(MODELS / "logistic.toml")
    expected = loaded.run(optimizer=sg.optim.Adam(lr=0.05), epochs=5, batch_size=32, seed=1, progress=False)
    assert np.array_equal(saved["theta"], expected.theta)
    assert np.array_equal(saved["history_loss"], expected.history.loss)


def test_train_data_free_objective():
    out = ok("train", MODELS / "rosenbrock.toml", "--max-iter", "50")
    assert "max_iter after 50 steps" in out


def test_emit_writes_a_script(tmp_path):
    out = ok("emit", MODELS / "logistic.toml", "-o", tmp_path / "train_model.py")
    assert "wrote" in out
    source = (tmp_path / "train_model.py").read_text()
    assert "import numba" in source and "sympy" not in source.split('"""', 2)[2]


def test_graph_dot_and_picture(tmp_path):
    out = ok("graph", "2*(x*y + Max(z, w))", "-o", tmp_path / "g.dot")
    text = (tmp_path / "g.dot").read_text()
    assert text.startswith("digraph") and "Max" in text
    assert re.search(r"\((\d+) nodes\)", out)
    ok("graph", MODELS / "seed003.toml", "-o", tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_landscape_picture(tmp_path):
    out = ok("landscape", MODELS / "logistic.toml", "-o", tmp_path / "land.png", "--dims", "1")
    low, high = map(float, re.search(r"loss from (\S+) to (\S+)", out).groups())
    assert 0 < low < high
    assert (tmp_path / "land.png").stat().st_size > 5000


def test_missing_file_and_bad_options():
    result = run("train", "does-not-exist.toml")
    assert result.returncode == 1 and "does-not-exist.toml" in result.stderr
    result = run("grad", "x*y", "--wrt", "x", "--at", "x=abc")
    assert result.returncode == 1 and "must be a number" in result.stderr
    result = run("train")
    assert result.returncode == 2 and "usage:" in result.stderr


def test_bench_runs_the_harness_of_the_checkout():
    out = ok("bench", "--help", cwd=ROOT)
    assert "python -m benchmarks" in out and "--quick" in out


def test_bench_without_the_benchmarks_says_where_they_are(monkeypatch, capsys):
    from symgrad.cli.main import main

    monkeypatch.setitem(sys.modules, "benchmarks.__main__", None)  # makes the import fail
    assert main(["bench"]) == 1
    assert "source repository" in capsys.readouterr().err


def test_data_option_replaces_the_files_data(tmp_path):
    rows = (MODELS / "logistic.csv").read_text().splitlines()
    (tmp_path / "half.csv").write_text("\n".join(rows[: 1 + (len(rows) - 1) // 2]) + "\n")
    whole = ok("train", MODELS / "logistic.toml", "--epochs", "1", "--batch-size", "10", "--no-progress")
    half = ok("train", MODELS / "logistic.toml", "--data", tmp_path / "half.csv", "--epochs", "1",
              "--batch-size", "10", "--no-progress")
    steps = [int(re.search(r"after (\d+) steps", out).group(1)) for out in (whole, half)]
    assert steps[1] == -(-((len(rows) - 1) // 2) // 10) and steps[0] > steps[1]
    result = run("train", MODELS / "rosenbrock.toml", "--data", tmp_path / "half.csv")
    assert result.returncode == 1 and "data-free" in result.stderr
