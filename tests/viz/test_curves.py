"""Learning-rate sweeps and training curves."""

import numpy as np
import pytest

import symgrad as sg
from symgrad.viz import learning_rates, training_curves

from .conftest import assert_png


def test_rates_too_small_right_and_too_large(bowl, bowl_x0, tmp_path):
    path = tmp_path / "rates.png"
    sweep = learning_rates(bowl, bowl_x0, rates=[0.001, 0.05, 0.11], steps=60, path=path)
    assert sweep.rates == [0.001, 0.05, 0.11]
    assert [sweep.diverged(r) for r in sweep.rates] == [False, False, True]
    reference = sg.minimize(bowl, bowl_x0, optimizer=sg.optim.GD(lr=0.05), max_iter=60, fused=False)
    np.testing.assert_array_equal(sweep.losses[0.05], [*reference.history.loss, reference.loss])
    error = sweep.results[0.11]
    assert sweep.losses[0.11].size == error.step + 1 and sweep.losses[0.11][-1] == error.loss
    assert error.loss > 1e6 * sweep.losses[0.11][0]  # the driver's divergence threshold
    ax = sweep.figure.axes[0]
    assert (ax.get_xlabel(), ax.get_yscale()) == ("step", "log")
    assert ax.get_title() == "GD: the learning rate decides speed and stability"
    texts = [t.get_text() for t in sweep.figure.legends[0].get_texts()]
    assert texts[0].startswith("0.001: loss ") and texts[0].endswith(" after 60 steps")
    assert texts[1].startswith("0.05: ") and texts[2] == f"0.11: diverged at step {error.step}"
    assert texts[-1] == "stopped: diverged"
    assert_png(path, min_kb=20)


def test_sweep_over_data_uses_fit(logreg, logreg_data):
    X, T = logreg_data
    sweep = learning_rates(logreg, np.zeros(3), X, T, rates=(0.5, 2.0), optimizer=sg.optim.Momentum(),
                           steps=15)
    reference = sg.fit(logreg, X, T, optimizer=sg.optim.Momentum(lr=2.0), theta0=np.zeros(3), max_iter=15,
                       fused=False, progress=False)
    np.testing.assert_array_equal(sweep.losses[2.0][:-1], reference.history.loss)
    assert sweep.figure.axes[0].get_title().startswith("Momentum:")


def test_training_curves_of_a_fit_with_validation(logreg_fit, tmp_path):
    path = tmp_path / "curves.png"
    figure = training_curves(logreg_fit, path=path)
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == ["loss per step", "gradient norm", "learning rate", "loss per epoch"]
    assert [ax.get_xlabel() for ax in figure.axes] == ["step", "step", "step", "epoch"]
    epoch = figure.axes[3]
    assert [t.get_text() for t in epoch.get_legend().get_texts()] == ["training (mean batch loss)",
                                                                       "validation"]
    np.testing.assert_array_equal(epoch.get_lines()[1].get_ydata(), logreg_fit.history.val_loss)
    # mini-batches: the raw loss and its mean over an epoch's steps
    assert len(figure.axes[0].get_lines()) == 2
    assert any("stopped by max_epochs" in t.get_text() for t in figure.texts)  # the suptitle
    assert_png(path, min_kb=30)


def test_training_curves_of_a_minimize_history(bowl, bowl_x0):
    result = sg.minimize(bowl, bowl_x0, optimizer=sg.optim.GD(lr=0.04), max_iter=50, fused=False)
    figure = training_curves(result.history, title="GD on a bowl")
    assert [ax.get_title() for ax in figure.axes] == ["loss per step", "gradient norm", "learning rate"]
    assert figure.axes[0].get_yscale() == "log"
    np.testing.assert_array_equal(figure.axes[0].get_lines()[0].get_ydata(), result.history.loss)
    assert [t.get_text() for t in figure.texts] == ["GD on a bowl"]


def test_training_curves_want_a_history():
    with pytest.raises(sg.errors.DeclarationError, match="FitResult or a History"):
        training_curves([1, 2, 3])
    with pytest.raises(sg.errors.DeclarationError, match="took no steps"):
        training_curves(sg.History())
