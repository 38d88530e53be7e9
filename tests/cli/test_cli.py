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


def test_help_and_version():
    assert "demo" in run("--help").stdout
    assert run("--version").stdout.startswith("symgrad ")


def test_no_command_prints_usage_and_fails():
    result = run()
    assert result.returncode == 2 and "usage: symgrad" in result.stderr


def test_unknown_command_is_an_error_without_traceback():
    result = run("frobnicate")
    assert result.returncode == 2 and "invalid choice" in result.stderr and "Traceback" not in result.stderr
