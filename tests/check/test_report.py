"""Reports: the exact text of a small fixed case, the other views, and access for programs.

The golden case is f(θ) = θ₀² + 3θ₁ at (1.5, −2) with the step 2⁻¹⁰: every
loss value and difference quotient is exact in binary floating point, so the
text is the same on every platform. Its gradient callable claims 6 for
∂f/∂θ₁ (the right value is 3).
"""

import json

import numpy as np
import pytest

import symgrad as sg
from symgrad.errors import DeclarationError, GradientCheckError, SymgradError


def golden_report():
    def loss(theta):
        return theta[0] ** 2 + 3 * theta[1]

    def wrong_grad(theta):
        return np.array([2 * theta[0], 6.0])

    return sg.gradcheck((loss, wrong_grad), np.array([1.5, -2.0]), step=2.0**-10)


GOLDEN = "\n".join([
    "gradient check: central differences, float64, 2 of 2 parameters; 7 loss evaluations, 1 "
    "gradient",
    "#  parameter           exact       numerical  abs err  rel err     step  status",
    "0  θ[0]       3.00000000e+00  3.00000000e+00  0.0e+00  0.0e+00  9.8e-04  ok",
    "1  θ[1]       6.00000000e+00  3.00000000e+00  3.0e+00  5.0e-01  9.8e-04  FAIL",
    "rel err = |exact − numerical| / max(|exact|, |numerical|, 1.0e-03); ok when rel err ≤ "
    "rtol = 1e-06 (atol 1e-09)",
    "max abs err 3.0e+00, max rel err 5.0e-01: 1 ok, 1 FAIL",
    "θ[1]: FAIL — second look: Richardson extrapolation of central differences at h and h/4",
])

GOLDEN_PERTURBATIONS = "\n".join([
    "gradient check: central differences, float64, 2 of 2 parameters; 7 loss evaluations, 1 "
    "gradient",
    "J(θ) = -3.75000000e+00; each row perturbs θ along one e",
    "#  parameter                θ        h         J(θ+h·e)         J(θ−h·e)  (J(θ+h)−J(θ))/h "
    " (J(θ)−J(θ−h))/h           exact  status",
    "0  θ[0]        1.50000000e+00  9.8e-04  -3.74706936e+00  -3.75292873e+00   3.00097656e+00 "
    "  2.99902344e+00  3.00000000e+00  ok",
    "1  θ[1]       -2.00000000e+00  9.8e-04  -3.74707031e+00  -3.75292969e+00   3.00000000e+00 "
    "  3.00000000e+00  6.00000000e+00  FAIL",
])


def test_the_text_table_is_exact():
    report = golden_report()
    assert str(report) == GOLDEN
    assert repr(report) == GOLDEN


def test_the_perturbation_view_is_the_notes_numerical_gradient_table():
    assert golden_report().table("perturbations").startswith(GOLDEN_PERTURBATIONS)


def test_verbose_prints_the_perturbations_as_they_are_computed(capsys):
    def loss(theta):
        return theta[0] ** 2 + 3 * theta[1]

    sg.gradcheck((loss, lambda th: np.array([2 * th[0], 3.0])), np.array([1.5, -2.0]), step=2.0**-10,
                 verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "J(θ) = -3.75000000e+00"
    assert lines[1].split() == ["parameter", "θ", "h", "J(θ+h)", "J(θ−h)", "slope", "exact", "status"]
    assert lines[2].split() == ["θ[0]", "1.50000000e+00", "9.8e-04", "-3.74706936e+00", "-3.75292873e+00",
                                "3.00000000e+00", "3.00000000e+00", "ok"]
    assert len(lines) == 4


def test_arrays_rows_and_dict_for_programs():
    report = golden_report()
    np.testing.assert_array_equal(report.exact, [3.0, 6.0])
    np.testing.assert_array_equal(report.numerical, [3.0, 3.0])
    np.testing.assert_array_equal(report.abs_err, [0.0, 3.0])
    np.testing.assert_array_equal(report.rel_err, [0.0, 0.5])
    np.testing.assert_array_equal(report.passed, [True, False])
    np.testing.assert_array_equal(report.step, [2.0**-10] * 2)
    assert (report.ok, report.failures, report.kinks, report.unresolved) == (False, ["θ[1]"], [], [])
    assert (report.max_abs_err, report.max_rel_err, report.floor) == (3.0, 0.5, pytest.approx(1e-3))
    assert (report.n_evaluations, report.n_gradients, report.dtype) == (7, 1, np.float64)
    entry = report["θ[1]"]
    assert (entry.name, entry.index, entry.exact, entry.numerical) == ("θ[1]", 1, 6.0, 3.0)
    assert entry.status == "FAIL"
    assert report[0].name == "θ[0]" and report[-1] == entry
    assert [e.name for e in report] == ["θ[0]", "θ[1]"] and len(report) == 2
    assert report.worst(1) == [entry]
    with pytest.raises(KeyError, match="no row 'w9'"):
        report["w9"]
    with pytest.raises(DeclarationError, match="view must be one of errors, perturbations; got 'plot'"):
        report.table("plot")
    data = report.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert data["entries"][1] == {"name": "θ[1]", "index": 1, "theta": -2.0, "step": 2.0**-10, "exact": 6.0,
                                  "numerical": 3.0, "abs_err": 3.0, "rel_err": 0.5, "status": "FAIL",
                                  "note": entry.note}
    assert (data["ok"], data["method"], data["mode"], data["seed"]) == (False, "central", "full", None)


def test_assert_ok_names_the_worst_offenders():
    report = golden_report()
    with pytest.raises(GradientCheckError) as caught:
        report.assert_ok()
    message = str(caught.value)
    assert message.startswith("gradient check failed (central differences, float64): 1 of 2 entry disagrees")
    assert "θ[1]: exact 6.00000000e+00, numerical 3.00000000e+00, rel err 5.0e-01" in message
    assert "θ[0]" not in message
    assert isinstance(caught.value, SymgradError) and isinstance(caught.value, AssertionError)
    assert caught.value.report is report


def test_notebook_views():
    report = golden_report()
    html = report._repr_html_()
    assert html.count("<tr>") == 3 and "<th>rel err</th>" in html
    assert '<td style="text-align:left;color:#c62828;font-weight:bold">FAIL</td>' in html
    assert "θ[1]: FAIL — second look" in html
    latex = report._repr_latex_()
    assert latex.startswith("$$\n\\begin{array}{l}") and latex.endswith("\\end{array}\n$$")
    assert (r"6.00000000 \times 10^{0} & 3.00000000 \times 10^{0} & 3.0 \times 10^{0} & "
            r"5.0 \times 10^{-1}") in latex
    assert r"\textbf{FAIL}" in latex


def test_model_reports_print_parameter_names_and_latex_symbols(seed003_case):
    report = sg.gradcheck(*seed003_case.args())
    assert [line.split()[1] for line in str(report).splitlines()[2:8]] == [
        "w31", "w32", "w41", "w42", "w53", "w54"]
    assert "w_{53}" in report._repr_latex_()


def test_long_reports_show_the_worst_rows_first():
    n = 50

    def grad(theta):
        g = 2 * theta
        g[37] += 1.0
        return g

    report = sg.gradcheck((lambda th: float(th @ th), grad), np.linspace(-1, 1, n))
    text = str(report)
    rows = text.splitlines()[2:22]
    assert all(r.split()[-1] in ("ok", "FAIL") for r in rows)
    assert text.splitlines()[22].startswith("rel err =")  # 20 rows, then the footer
    assert any(r.split()[1] == "θ[37]" and r.endswith("FAIL") for r in rows)
    assert "… 30 more rows, all ok; report.table(limit=None) shows all" in text
    assert len(report.table(limit=None).splitlines()) == 2 + n + 3  # title, header; definition, verdict, note


def test_random_modes_print_their_seed_and_repeat_with_it():
    def loss(theta):
        return float(np.sum(np.sin(theta)))

    theta = np.linspace(0, 1, 30)
    first = sg.gradcheck((loss, np.cos), theta, mode="projection", k=3)
    assert isinstance(first.seed, int)
    assert f"seed {first.seed} (pass seed={first.seed} to repeat)" in str(first)
    again = sg.gradcheck((loss, np.cos), theta, mode="projection", k=3, seed=first.seed)
    np.testing.assert_array_equal(first.directions, again.directions)
    assert first.directions.shape == (3, 30) and str(first).splitlines()[1].split()[1] == "direction"
    subset = sg.gradcheck((loss, np.cos), theta, mode="subset", k=4, seed=first.seed)
    assert "4 of 30 parameters (random subset)" in str(subset)


def test_taylor_and_hessian_reports_print(rosenbrock_case):
    c = rosenbrock_case
    taylor = sg.check.taylor_test(c.compiled, c.theta, seed=0)
    text = str(taylor)
    assert text.startswith("Taylor remainder test: float64, 27 steps, 28 loss evaluations, 1 gradient")
    assert "observed order 2.00 (2 for a right gradient, 1 for a wrong one; passes above 1.5): ok" in text
    assert "<table>" in taylor._repr_html_() and taylor.to_dict()["status"] == "ok"
    hessian = sg.hesscheck(c.compiled, c.theta)
    assert str(hessian).startswith("Hessian check: central differences of the gradient, float64, "
                                   "3 entries of the 2×2 Hessian (upper triangle); 0 loss evaluations, "
                                   "5 gradient/Hessian calls")
    assert hessian.names == ("x,x", "x,y", "y,y")
    np.testing.assert_allclose(hessian.exact, [1902.0, 600.0, 200.0])
