"""The command line, run as a user would: in a subprocess."""

import subprocess
import sys

import pytest


def run(*args):
    return subprocess.run([sys.executable, "-m", "symgrad", *args], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def demo():
    return run("demo")


def test_demo_prints_the_notes_results_exactly(demo):
    assert demo.returncode == 0, demo.stderr
    out = demo.stdout
    assert "f = -20" in out and "∇f = (-8, 6, 2, 0)" in out
    assert "= x1*(p - t)" in out and "= p - t" in out
    assert "E = 0.0181039038366" in out
    assert "∂E/∂w53 = 0.0276740349387" in out
    assert "path 1: ∂loss/∂a3 · ∂a3/∂z3 · ∂z3/∂w53" in out
    assert demo.stderr == ""


def test_demo_trains_with_the_optimizers(demo):
    import re

    out = demo.stdout.split("4. Training", 1)[1]
    for name in ("Momentum", "Adam"):
        x, y = map(float, re.search(rf"{name} .*gradient_norm after \d+ steps, \(x, y\) = \((\S+), (\S+)\)",
                                     out).groups())
        assert abs(x - 1) < 1e-5 and abs(y - 1) < 1e-5
    assert re.search(r"GD +lr 0.001: max_iter after 20000 steps", out)
    # the labels come from sigmoid(2 x1 - x2 + 0.5): both fits recover those weights
    for w1, w2, b in re.findall(r"w1 = (\S+), w2 = (\S+), b = (\S+)", out):
        assert abs(float(w1) - 2) < 0.3 and abs(float(w2) + 1) < 0.3 and abs(float(b) - 0.5) < 0.3


def test_help_and_version():
    assert "demo" in run("--help").stdout
    assert run("--version").stdout.startswith("symgrad ")


def test_no_command_prints_usage_and_fails():
    result = run()
    assert result.returncode == 2 and "usage: symgrad" in result.stderr


def test_unknown_command_is_an_error_without_traceback():
    result = run("frobnicate")
    assert result.returncode == 2 and "invalid choice" in result.stderr and "Traceback" not in result.stderr
