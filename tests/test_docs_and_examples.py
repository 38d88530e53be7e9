"""Docs and examples are executed: doctests run every ``>>>`` block (see pyproject),
this checks that no Python block escapes them and runs each example script."""

import functools
import re
import subprocess
import sys
import tempfile
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
    "dag_network.py": ["δ3 = delta5*w53*(1 - tanh(z3)**2)", "δ rule vs sg.grad: max |difference| = ",
                       "for target 0.9"],
    "mlp_digits.py": ["test accuracy", "∂loss/∂W1 = δ_z1*x.T"],
    "seed003_matrix_form.py": ["∂E/∂W2 = ", "matrix form equals the scalar form"],
    "compiled_logistic_regression.py": ["500 full-batch steps over 20000 samples", "parameters: w1 = "],
    "optimizers_compared.py": ["Rosenbrock from (-1.5, 2)", "<- overshoots the minimum at x = 0",
                               "its steps vanish like 1/sqrt(t)"],
    "learning_rates.py": ["lr = 0.11  : diverged at step", "lr = 0.05  : gradient_norm"],
    "newton_convex.py": ["after 1 Newton step(s)"],
    "breast_cancer_logistic_regression.py": ["426 training and 143 test samples, 31 parameters"],
    "pictures.py": ["wrote", "optimizer_paths.png", "graph_gates.dot"],
    "gradient_check.py": ["compile(check=True): the gradient kernel agrees",
                          "hand-written backprop: 4 wrong entries: w31, w32, w41, w42",
                          "with σ' restored: ok by complex step",
                          "one wrong entry caught by 8 of 8 directions"],
}


@functools.cache
def run_example(name):
    # in a scratch directory: examples that write files write them there
    result = subprocess.run([sys.executable, str(ROOT / "examples" / name)], capture_output=True,
                            text=True, timeout=300, cwd=tempfile.mkdtemp(prefix="symgrad-example-"))
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


def test_optimizer_comparison_tells_the_notes_stories():
    out = run_example("optimizers_compared.py")
    rows = {name: distance for name, distance, _ in re.findall(r"^(\w+) +\S+ +\d+ +\S+ +(\S+)  (\w+)", out,
                                                                 flags=re.M)}
    assert set(rows) >= {"GD", "Momentum", "Nesterov", "Adagrad", "RMSProp", "Adadelta", "Adam", "Adamax",
                         "Nadam", "AMSGrad", "Newton"}
    # momentum methods and Adam reach (1, 1); plain gradient descent is still in the valley
    for name in ("Momentum", "Nesterov", "Adam", "Newton"):
        assert float(rows[name]) < 1e-4, name
    assert float(rows["GD"]) > 1e-2
    momentum = re.search(r"Momentum: x after 100 steps (\S+), largest x reached (\S+)", out)
    gd = re.search(r"GD      : x after 100 steps (\S+), largest x reached (\S+)", out)
    assert float(momentum.group(2)) > 0 > float(gd.group(2))
    steps = re.search(r"step length (\S+) at step 10, (\S+) at step 2000, yet still (\S+) from", out)
    first, last, distance = map(float, steps.groups())
    assert last < first / 10 and distance > 1


def test_learning_rate_story_detects_divergence_and_keeps_good_parameters():
    out = run_example("learning_rates.py")
    assert re.search(r"lr = 0.001 : max_iter after 200 steps", out)
    diverged = re.search(r"diverged at step (\d+) \(f = (\S+)\); "
                         r"last good parameters x = (\S+), y = (\S+)", out)
    assert float(diverged.group(2)) > 1e6 and all(abs(float(v)) < 1e6 for v in diverged.groups()[2:])
    assert "exp(-0.01 t): gradient_norm" in out


def test_newton_solves_a_quadratic_in_one_step_and_agrees_with_gradient_descent():
    out = run_example("newton_convex.py")
    assert "minimum at x = 1, y = -1 after 1 Newton step(s)" in out
    newton, gd = map(int, re.search(r"Newton (\d+) steps, gradient descent (\d+) steps", out).groups())
    assert newton < 10 < gd
    assert float(re.search(r"the same optimum: (\S+) apart", out).group(1)) < 1e-6


def test_breast_cancer_models_generalise():
    out = run_example("breast_cancer_logistic_regression.py")
    accuracies = [float(v) for v in re.findall(r"test accuracy (\S+)", out)]
    assert len(accuracies) == 2 and min(accuracies) > 0.9


def test_optimizer_table_in_the_docs_lists_every_optimizer_with_its_defaults():
    import dataclasses

    from symgrad.optim import OPTIMIZERS

    text = (ROOT / "docs" / "optimizers.md").read_text()
    rows = dict(re.findall(r"^\| `(\w+)`(?: \(= `SGD`\))? \| ([^|]*) \|", text, flags=re.M))
    assert set(OPTIMIZERS) <= set(rows)
    for name, cls in OPTIMIZERS.items():
        documented = dict(re.findall(r"(\w+)=(\([^)]*\)|[^,]+)", rows[name]))
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}
        for key, value in documented.items():
            assert key in defaults, (name, key)
            value = value.strip().strip('"')
            if isinstance(defaults[key], float):
                assert defaults[key] == float(value), (name, key)
            else:
                assert str(defaults[key]) == value, (name, key)


def test_gradient_check_example_matches_the_compiled_gradient_and_sees_order_one():
    out = run_example("gradient_check.py")
    assert float(re.search(r"max \|difference\| = (\S+)", out).group(1)) < 1e-15
    assert float(re.search(r"observed order (\S+)", out).group(1)) < 1.5


def test_digits_network_reaches_95_percent_on_held_out_digits():
    out = run_example("mlp_digits.py")
    assert float(re.search(r"test accuracy (\S+)", out).group(1)) >= 0.95
    assert "δ_z1 = δ_a1 ∘ (u ↦ 1 - u**2).(a1)" in out


def test_dag_network_example_agrees_with_reverse_mode_and_reaches_its_target():
    out = run_example("dag_network.py")
    assert float(re.search(r"max \|difference\| = (\S+)", out).group(1)) < 1e-12
    assert abs(float(re.search(r"output (\S+) for target", out).group(1)) - 0.9) < 1e-4


def test_seed003_network_in_matrix_form_gives_the_scalar_numbers():
    out = run_example("seed003_matrix_form.py")
    assert float(re.search(r"largest difference (\S+)", out).group(1)) < 1e-15
