"""Optimizer paths: recorded exactly, drawn over contours with sensible levels."""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.viz import seed_optimizers, trajectories
from symgrad.viz._style import contour_levels

from .conftest import assert_png

O = sg.optim
#: The notes' comparison, with rates that are stable on x² + 10y² (lr·20 < 2 for GD).
OPTIMIZERS = {"SGD": O.SGD(lr=0.04), "Momentum": O.Momentum(lr=0.01), "Nesterov": O.Nesterov(lr=0.01),
              "Adagrad": O.Adagrad(lr=0.5), "RMSProp": O.RMSProp(lr=0.05), "Adam": O.Adam(lr=0.2)}
STEPS = 40


@pytest.fixture(scope="module")
def picture(bowl, bowl_x0, tmp_path_factory):
    path = tmp_path_factory.mktemp("contours") / "paths.png"
    return trajectories(bowl, bowl_x0, optimizers=OPTIMIZERS, steps=STEPS, grid=60, minimum=[0, 0],
                        path=path), path


def test_paths_start_at_x0_and_end_where_minimize_ends(bowl, bowl_x0, picture):
    result, _ = picture
    assert list(result.paths) == list(OPTIMIZERS)
    for name, optimizer in OPTIMIZERS.items():
        points = result.paths[name]
        np.testing.assert_array_equal(points[0], [3.0, 1.0])
        # fused=False: the loop the callbacks ran in, without compiling a fused loop per optimizer
        # (tests/train/test_fused_python.py shows both loops take bit-identical steps)
        reference = sg.minimize(bowl, bowl_x0, optimizer=optimizer, max_iter=STEPS, fused=False)
        np.testing.assert_array_equal(points[-1], reference.theta)
        assert len(points) == reference.n_iter + 1
        assert result.results[name].n_iter == reference.n_iter


def test_figure_has_labels_legend_and_contours(picture):
    result, path = picture
    ax = result.figure.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")
    assert ax.get_title() == f"6 optimizers, at most {STEPS} steps each"
    texts = [t.get_text() for t in result.figure.legends[0].get_texts()]
    for name in OPTIMIZERS:
        assert any(text.startswith(f"{name}: f = ") for text in texts), texts
    assert "start (3, 1)" in texts and "minimum (0, 0)" in texts
    np.testing.assert_allclose(result.values, result.x[None, :] ** 2 + 10 * result.y[:, None] ** 2,
                               rtol=1e-14)
    assert_png(path, min_kb=30)


def test_a_diverging_path_is_drawn_to_where_it_stopped(bowl, bowl_x0):
    result = trajectories(bowl, bowl_x0, optimizers=[O.GD(lr=0.05), O.GD(lr=0.12)], steps=60, grid=30)
    error = result.results["GD (lr 0.12)"]
    assert isinstance(error, sg.errors.DivergenceError)
    assert len(result.paths["GD (lr 0.12)"]) == error.step + 1  # x0, then every point it stepped to
    texts = [t.get_text() for t in result.figure.legends[0].get_texts()]
    assert f"GD (lr 0.12): diverged at step {error.step}" in texts
    # the automatic box follows the path that converged, not the exploding one
    assert result.x.max() < 5 and abs(result.y).max() < 5


def test_log_levels_for_a_valley_linear_for_a_bowl():
    xs, ys = np.meshgrid(np.linspace(-2, 2, 80), np.linspace(-1, 3, 80))
    valley = contour_levels((1 - xs) ** 2 + 100 * (ys - xs**2) ** 2)
    ratios = np.diff(valley - valley[0])[1:] / np.diff(valley - valley[0])[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)  # geometric above the minimum
    assert ratios[0] > 1.5
    bowl = contour_levels(xs**2 + ys**2)
    np.testing.assert_allclose(np.diff(bowl), np.diff(bowl)[0], rtol=1e-9)
    np.testing.assert_array_equal(contour_levels(xs, 5), np.linspace(xs.min(), xs.max(), 5))


def test_default_optimizers_are_the_notes_six():
    assert list(seed_optimizers()) == ["SGD", "Momentum", "Nesterov", "Adagrad", "RMSProp", "Adam"]


def test_only_two_parameter_objectives(logreg, bowl):
    x, y, z = sp.symbols("x y z")
    with pytest.raises(sg.errors.DeclarationError, match="two parameters"):
        trajectories(x**2 + y**2 + z**2, [1, 1, 1], optimizers=[O.GD(lr=0.1)], steps=2)
    with pytest.raises(sg.errors.DeclarationError, match="pass the Model"):
        trajectories(bowl.compile(), [1, 1], optimizers=[O.GD(lr=0.1)], steps=2)
    with pytest.raises(sg.errors.DeclarationError, match="not a symgrad.optim optimizer"):
        trajectories(bowl, [1, 1], optimizers={"mine": object()}, steps=2)
