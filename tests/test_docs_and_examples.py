"""Docs and examples are executed: doctests run every ``>>>`` block (see pyproject),
this checks that no Python block escapes them and runs each example script."""

import functools
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_every_python_block_is_a_doctest(path):
    blocks = re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)
    for block in blocks:
        assert block.lstrip().startswith(">>>"), f"{path.name}: a python block that is not executed:\n{block}"


def test_readme_quickstart_has_exactly_the_two_commands():
    text = (ROOT / "README.md").read_text()
    quickstart = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)\n```", quickstart, flags=re.S)
    assert commands == ['python -m pip install . && symgrad demo',
                        'python -m pip install ".[dev]" && python -m pytest']
    assert "python -m pytest" in (ROOT / ".ci" / "run").read_text()


EXPECTED_OUTPUT = {
    "backprop_by_hand.py": ["∂E/∂w53 = 0.02767403494", "∂z5/∂w53 = y3", "E after one step"],
    "gates.py": ["∇f at (3, -4, 2, -1): [-8.  6.  2.  0.]", "∇f at a tie z = w = 2: [-8.  6.  1.  1.]"],
    "optimise_inputs.py": ["for target 0.9"],
    "compiled_logistic_regression.py": ["500 full-batch steps over 20000 samples", "parameters: w1 = "],
}


@functools.cache
def run_example(name):
    result = subprocess.run([sys.executable, str(ROOT / "examples" / name)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_and_says_what_it_should(script):
    out = run_example(script.name)
    for line in EXPECTED_OUTPUT[script.name]:
        assert line in out


def test_input_optimisation_reaches_its_target():
    out = run_example("optimise_inputs.py")
    reached = float(re.search(r"output (\S+) for target", out).group(1))
    assert abs(reached - 0.9) < 5e-3


def test_compiled_example_gradient_matches_closed_form_and_trains():
    out = run_example("compiled_logistic_regression.py")
    assert float(re.search(r"closed form\| = (\S+)", out).group(1)) < 1e-12
    losses = [float(v) for v in re.findall(r"loss (\S+),", out)]
    assert losses == sorted(losses, reverse=True) and losses[-1] < 0.2
    assert float(re.search(r"training accuracy: (\S+)", out).group(1)) > 0.9
