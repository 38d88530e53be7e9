"""J(θ + aθ₁) and J(θ + aθ₁ + bθ₂): values from the compiled loss, directions as documented."""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.viz import landscape_1d, landscape_2d, random_directions

from .conftest import assert_png


def test_line_values_are_the_compiled_loss_at_those_points(logreg, logreg_data, logreg_fit, tmp_path):
    X, T = logreg_data
    compiled = logreg.compile()
    path = tmp_path / "line.png"
    result = landscape_1d(logreg, logreg_fit, X, T, count=2, span=2.0, points=21, seed=1, path=path)
    assert result.values.shape == (2, 21) and result.directions.shape == (2, 3)
    np.testing.assert_array_equal(result.theta, logreg_fit.theta)
    for k, i in [(0, 0), (0, 10), (1, 7), (1, 20)]:
        point = result.theta + result.a[i] * result.directions[k]
        assert result.values[k, i] == pytest.approx(compiled.loss(point, X, T), rel=1e-13)
    assert result.values[0, 10] == pytest.approx(compiled.loss(result.theta, X, T), rel=1e-13)  # a = 0
    ax = result.figure.axes[0]
    assert ax.get_xlabel() == "a"
    assert ax.get_title() == "Loss along 2 random directions"
    assert len(ax.get_lines()) == 2 + 2  # one curve per direction, θ, the a = 0 rule
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == [r"$\theta_{1}$", r"$\theta_{2}$"]
    assert_png(path)


def test_plane_values_are_the_compiled_loss_at_those_points(logreg, logreg_data, logreg_fit, tmp_path):
    X, T = logreg_data
    compiled = logreg.compile()
    path = tmp_path / "plane.png"
    result = landscape_2d(logreg, logreg_fit.theta, X, T, span=(3.0, (-1.0, 2.0)), points=(9, 7), seed=2,
                          path=path)
    assert result.a.shape == (9,) and result.b.shape == (7,) and result.values.shape == (7, 9)
    assert result.b[0] == -1.0 and result.b[-1] == 2.0
    d1, d2 = result.directions
    for j, i in [(0, 0), (3, 4), (6, 8), (2, 7)]:
        point = result.theta + result.a[i] * d1 + result.b[j] * d2
        assert result.values[j, i] == pytest.approx(compiled.loss(point, X, T), rel=1e-13)
    ax, colorbar = result.figure.axes
    assert ax.get_xlabel() == r"a (along $\theta_1$)" and ax.get_ylabel() == r"b (along $\theta_2$)"
    assert "two random directions" in ax.get_title()
    assert colorbar.get_ylabel() == "J"
    assert_png(path, min_kb=20)


def test_surface_of_a_data_free_expression(bowl, tmp_path):
    x, y = sp.symbols("x y")
    # the bowl fixture's expression: its kernels are in the session's cache already
    result = landscape_2d(x**2 + 10 * y**2, {x: 1.0, y: 0.0}, directions=[{x: 1, y: 0}, {x: 0, y: 1}],
                          span=1.0, points=5, kind="surface", path=tmp_path / "surface.png")
    # along the coordinate axes with unit directions: J = (1 + a)² + 10b²
    A, B = np.meshgrid(result.a, result.b)
    np.testing.assert_allclose(result.values, (1 + A) ** 2 + 10 * B**2, rtol=1e-14)
    ax = result.figure.axes[0]
    assert ax.get_zlabel() == "J" and ax.get_xlabel() == "a (along x)" and ax.get_ylabel() == "b (along y)"
    assert_png(tmp_path / "surface.png")


def test_directions_are_seeded():
    theta = np.array([0.5, -2.0, 1.0, 3.0])
    same = random_directions(theta, 2, seed=7), random_directions(theta, 2, seed=np.random.default_rng(7))
    np.testing.assert_array_equal(*same)
    assert not np.allclose(random_directions(theta, 2, seed=8), same[0])


def test_scales_mean_what_the_docs_say():
    theta = np.array([3.0, 0.0, -1.0, 2.0])
    unit = random_directions(theta, 2, scale="unit", seed=0)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, rtol=1e-14)
    assert unit[0] @ unit[1] == pytest.approx(0.0, abs=1e-14)  # orthogonal by default
    norm = random_directions(theta, 1, scale="norm", seed=0)
    assert np.linalg.norm(norm) == pytest.approx(np.linalg.norm(theta), rel=1e-14)
    raw = random_directions(theta, 2, scale="none", seed=0)
    param = random_directions(theta, 2, scale="param", seed=0)
    np.testing.assert_allclose(param, raw * np.abs(theta), rtol=1e-14)  # a zero parameter stays put
    per_entry = random_directions(theta, 1, scale="filter", seed=0)
    np.testing.assert_allclose(np.abs(per_entry[0]), np.abs(theta), rtol=1e-14)  # only the signs stay random
    grouped = random_directions(theta, 1, scale="filter", groups=[[0, 1], [2, 3]], seed=0)[0]
    assert np.linalg.norm(grouped[:2]) == pytest.approx(np.linalg.norm(theta[:2]), rel=1e-14)
    assert np.linalg.norm(grouped[2:]) == pytest.approx(np.linalg.norm(theta[2:]), rel=1e-14)


def test_filter_groups_may_name_symbols(logreg, logreg_fit):
    w1, w2, b = logreg.params
    d = random_directions(logreg_fit.theta, 1, scale="filter", groups=[[w1, w2], [b]], params=logreg.params)
    assert np.linalg.norm(d[0, :2]) == pytest.approx(np.linalg.norm(logreg_fit.theta[:2]), rel=1e-14)


@pytest.mark.parametrize("call, message", [
    (lambda m, th: landscape_1d(m, th, scale="big"), "scale must be one of"),
    (lambda m, th: landscape_1d(m, np.zeros(2), scale="norm"), "length 0"),
    (lambda m, th: landscape_1d(m, th, path="picture.jpg"), "path must end in one of"),
    (lambda m, th: landscape_1d(m, th, span=0.0), "span must be"),
    (lambda m, th: landscape_2d(m, th, directions=np.eye(2)[:1]), "expected 2 direction"),
    (lambda m, th: landscape_1d(m, [1.0, 2.0, 3.0]), "theta has 3 entries, expected 2"),
])
def test_bad_arguments_are_named(bowl, call, message):
    with pytest.raises(sg.errors.DeclarationError, match=message):
        call(bowl, np.array([1.0, 1.0]))


def test_data_is_validated_like_compiled_loss(logreg, logreg_data):
    X, _ = logreg_data
    with pytest.raises(sg.errors.DeclarationError, match="T is required"):
        landscape_1d(logreg, np.zeros(3), X)
