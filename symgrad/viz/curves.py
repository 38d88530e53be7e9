"""Loss curves: several learning rates side by side, and one run's training history.

Lecture notes 001 and 003: a small learning rate makes gradient descent
slow, a large one overshoots the minimum and may diverge. The sweep runs
the same optimizer from the same start with each rate and draws the loss
per step, up to the step where a diverging run was stopped.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ..compile.compiled import CompiledModel
from ..errors import DeclarationError, DivergenceError
from ..optim import GD, Optimizer
from ..train.driver import fit, minimize
from ..train.result import FitResult, History
from ._inputs import as_model, as_theta
from ._style import Picture, begin, finish, new_figure, series_colors

__all__ = ["LearningRateSweep", "learning_rates", "training_curves"]


@dataclass
class LearningRateSweep(Picture):
    """The loss per step for each learning rate.

    Attributes:
        figure: the matplotlib Figure.
        rates: the learning rates, in the order given.
        losses: ``{rate: array}``; entry k is the objective at the parameters step k
            started from, and a diverged run ends with the loss that stopped it.
        results: ``{rate: FitResult}``, or the ``DivergenceError`` of a diverged run.
    """

    rates: list[float] = field(default_factory=list)
    losses: dict[float, np.ndarray] = field(default_factory=dict)
    results: dict[float, object] = field(default_factory=dict)

    def diverged(self, rate: float) -> bool:
        return isinstance(self.results[rate], DivergenceError)


def learning_rates(objective, theta0, X=None, T=None, *, rates=(1e-3, 1e-2, 1e-1), optimizer=GD,
                   steps: int = 100, batch_size: int | None = None, seed: int | None = 0, params=None,
                   logy: bool | None = None, title: str | None = None, path=None) -> LearningRateSweep:
    """Loss against step for several learning rates, from the same start.

    Args:
        objective: a Model, or a data-free SymPy expression.
        theta0: the start: an array or ``{symbol: value}``.
        X, T: the data, for a model with inputs or targets (trained with :func:`symgrad.fit`,
            full batch unless ``batch_size`` is given); without them :func:`symgrad.minimize` runs.
        rates: the learning rates.
        optimizer: an optimizer class (``sg.optim.GD``), an instance whose ``lr`` is replaced,
            or a callable ``rate -> optimizer``.
        steps: parameter updates per rate; data-free runs also stop when ‖∇J‖ ≤ 1e-8.
        logy: a logarithmic loss axis (default: when the losses are positive and span
            more than about 1.5 decades).
        path: also save the figure there (``.png``, ``.svg``, ``.pdf``).
    """
    begin(path)
    model = as_model(objective, params)
    if isinstance(model, CompiledModel):
        raise DeclarationError("learning_rates trains the model: pass the Model, not its compiled kernels")
    rates = [float(r) for r in np.atleast_1d(rates)]
    if not rates or not all(r > 0 for r in rates):
        raise DeclarationError(f"rates must be positive learning rates, got {rates}")
    start = as_theta(theta0, model.compile(), "theta0")
    sweep = LearningRateSweep(figure=None, rates=rates)
    for rate in rates:
        sweep.losses[rate], sweep.results[rate] = _run(model, start, _optimizer(optimizer, rate), X, T,
                                                       steps, batch_size, seed)

    figure = new_figure(9.0, 4.6)
    ax = figure.add_subplot()
    everything = np.concatenate(list(sweep.losses.values()))
    finite = everything[np.isfinite(everything)]
    logy = bool(finite.size and finite.min() > 0 and finite.max() / finite.min() > 30) if logy is None \
        else logy
    for rate, color in zip(rates, series_colors(len(rates)), strict=True):
        losses, outcome = sweep.losses[rate], sweep.results[rate]
        steps_axis = np.arange(losses.size)
        shown = np.isfinite(losses)
        ax.plot(steps_axis[shown], losses[shown], "-", color=color, lw=1.8, label=_legend(rate, outcome))
        if isinstance(outcome, DivergenceError) and shown.any():
            last = np.flatnonzero(shown)[-1]
            ax.plot(steps_axis[last], losses[last], "X", color=color, mec="black", ms=11, zorder=4)
    if logy:
        ax.set_yscale("log")
    if any(sweep.diverged(r) for r in rates):
        ax.plot([], [], "X", color="0.5", mec="black", ms=9, label="stopped: diverged")
    name = _optimizer(optimizer, rates[0]).name
    ax.set_xlabel("step")
    ax.set_ylabel(r"loss $J(\theta)$")
    ax.set_title(title or f"{name}: the learning rate decides speed and stability")
    # Outside the axes: curves fill every corner of a sweep, whatever the rates.
    figure.legend(loc="outside right upper", title="learning rate", fontsize="small", title_fontsize="small")
    ax.grid(alpha=0.3)
    sweep.figure = finish(figure, path)
    return sweep


def _optimizer(optimizer, rate: float) -> Optimizer:
    if isinstance(optimizer, Optimizer):
        return dataclasses.replace(optimizer, lr=rate)
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        return optimizer(lr=rate)
    if callable(optimizer):
        made = optimizer(rate)
        if isinstance(made, Optimizer):
            return made
    raise DeclarationError(f"optimizer must be a symgrad.optim class, instance or a callable rate -> "
                           f"optimizer, got {optimizer!r}")


def _run(model, start, optimizer, X, T, steps, batch_size, seed):
    """Losses per step (recorded by a callback, so a diverged run keeps them) and the outcome."""
    losses = []
    record = [lambda info: losses.append(info.loss)]
    try:
        if X is None and T is None:
            result = minimize(model, start.copy(), optimizer=optimizer, max_iter=steps, callbacks=record)
        else:
            result = fit(model, X, T, optimizer=optimizer, theta0=start.copy(), max_iter=steps,
                         batch_size=batch_size, seed=seed, callbacks=record, progress=False)
    except DivergenceError as error:
        return np.array([*losses, error.loss]), error
    return np.array([*losses, result.loss]), result


def _legend(rate: float, outcome) -> str:
    if isinstance(outcome, DivergenceError):
        return f"{rate:g}: diverged at step {outcome.step}"
    if outcome.converged:
        return f"{rate:g}: converged in {outcome.n_iter} steps"
    return f"{rate:g}: loss {outcome.loss:.3g} after {outcome.n_iter} steps"


def training_curves(run, *, title: str | None = None, path=None):
    """The history of one run: loss, gradient norm and learning rate per step, loss per epoch.

    Args:
        run: a :class:`~symgrad.FitResult` or its :class:`~symgrad.History`.
        path: also save the figure there (``.png``, ``.svg``, ``.pdf``).

    Returns:
        The matplotlib Figure: three panels per step, and a fourth with the
        epoch loss (and the validation loss, when there was validation data)
        for runs over data.
    """
    begin(path)
    history = run.history if isinstance(run, FitResult) else run
    if not isinstance(history, History):
        raise DeclarationError(f"expected a FitResult or a History, got {type(run).__name__}")
    if history.loss.size == 0:
        raise DeclarationError("the history is empty: the run took no steps")
    from matplotlib.ticker import MaxNLocator

    epochs = history.epoch_loss.size > 0
    figure = new_figure(10.0, 6.4 if epochs else 3.6)
    axes = figure.subplots(2, 2) if epochs else figure.subplots(1, 3)
    axes = axes.ravel()
    steps = np.arange(history.loss.size)
    # Mini-batch losses jump from batch to batch; the mean over an epoch's steps shows the trend.
    per_epoch = history.loss.size // history.epoch_loss.size if epochs else 1
    _panel(axes[0], steps, history.loss, "loss per step", r"loss $J(\theta)$", "C0", smooth=per_epoch)
    _panel(axes[1], steps, history.grad_norm, "gradient norm", r"$\|\nabla J(\theta)\|$", "C1",
           smooth=per_epoch)
    _panel(axes[2], steps, history.lr, "learning rate", "learning rate", "C2")
    if epochs:
        ax = axes[3]
        numbers = np.arange(1, history.epoch_loss.size + 1)
        ax.plot(numbers, history.epoch_loss, "o-", color="C0", ms=3, label="training (mean batch loss)")
        if np.isfinite(history.val_loss).any():
            ax.plot(numbers, history.val_loss, "s-", color="C3", ms=3, label="validation")
        _log_if_positive(ax, np.concatenate([history.epoch_loss, history.val_loss]))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.set_title("loss per epoch")
        ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
    if title is None and isinstance(run, FitResult):
        title = f"{run.n_iter} steps, stopped by {run.reason}, final loss {run.loss:.4g}"
    if title:
        figure.suptitle(title)
    return finish(figure, path)


def _panel(ax, steps, values, title, ylabel, color, smooth: int = 1):
    if smooth > 1 and values.size >= 2 * smooth:
        ax.plot(steps, values, "-", color=color, lw=0.8, alpha=0.35, label="per step")
        mean = np.convolve(values, np.ones(smooth) / smooth, mode="valid")
        ax.plot(steps[smooth - 1:], mean, "-", color=color, lw=1.8, label=f"mean of last {smooth} steps")
        ax.legend(fontsize="small")
    else:
        ax.plot(steps, values, "-", color=color, lw=1.4)
    finite = values[np.isfinite(values)]
    if finite.size and np.ptp(finite) == 0:
        # A constant (say the learning rate) would otherwise get a zoomed-in axis of rounding noise.
        value = float(finite[0])
        ax.set_ylim(*sorted((0.0, 1.5 * value)) if value else (-1.0, 1.0))
        ax.text(0.5, 0.85, f"constant {value:g}", transform=ax.transAxes, ha="center", fontsize="small")
    else:
        _log_if_positive(ax, values)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)


def _log_if_positive(ax, values) -> None:
    """A log axis for positive values spanning more than about 1.5 decades; else a linear one."""
    finite = values[np.isfinite(values)]
    if finite.size and finite.min() > 0 and finite.max() / finite.min() > 30:
        ax.set_yscale("log")
