"""matplotlib is optional: symgrad never imports it, and symgrad.viz says how to install it."""

import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import symgrad.viz as viz


def test_importing_symgrad_and_viz_does_not_import_matplotlib():
    code = ("import sys, symgrad, symgrad.viz; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         check=True)
    assert out.stdout.strip() == "[]"


@pytest.fixture
def no_matplotlib(monkeypatch):
    # A None entry in sys.modules makes the import statement raise ImportError.
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)


@pytest.mark.parametrize("call", [
    lambda bowl: viz.landscape_1d(bowl, [1.0, 1.0]),
    lambda bowl: viz.landscape_2d(bowl, [1.0, 1.0]),
    lambda bowl: viz.trajectories(bowl, [1.0, 1.0], steps=2),
    lambda bowl: viz.learning_rates(bowl, [1.0, 1.0], steps=2),
    lambda bowl: viz.training_curves(None),
    lambda bowl: viz.draw_graph(bowl),
], ids=["landscape_1d", "landscape_2d", "trajectories", "learning_rates", "training_curves", "draw_graph"])
def test_every_picture_says_how_to_install_matplotlib(bowl, no_matplotlib, call):
    with pytest.raises(ImportError, match=r'pip install "symgrad\[viz\]"'):
        call(bowl)


def test_dot_text_needs_no_matplotlib(no_matplotlib):
    x = sp.Symbol("x")
    assert "n0" in viz.to_dot(sp.exp(x))
    assert np.all(np.isfinite(viz.random_directions(np.ones(3), 2)))
