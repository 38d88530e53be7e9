"""What a training run gives back: the parameters, the history, why it stopped."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

__all__ = ["History", "FitResult", "CONVERGED_REASONS"]

#: Stopping reasons that mean the run converged (rather than ran out of budget).
CONVERGED_REASONS = ("gradient_norm", "loss_change")


class _Growing:
    """An append-only float array that doubles its capacity."""

    def __init__(self):
        self._data = np.empty(64)
        self._size = 0

    def extend(self, values) -> None:
        values = np.asarray(values, dtype=np.float64)
        need = self._size + values.size
        if need > self._data.size:
            bigger = np.empty(max(need, 2 * self._data.size))
            bigger[: self._size] = self._data[: self._size]
            self._data = bigger
        self._data[self._size:need] = values
        self._size = need

    def array(self) -> np.ndarray:
        return self._data[: self._size].copy()

    def view(self, start: int, stop: int) -> np.ndarray:
        return self._data[start:stop]


@dataclass
class History:
    """Per step (one entry per parameter update): ``loss`` (the batch loss at the
    parameters the step started from), ``grad_norm`` (of that batch gradient),
    ``lr`` (the rate used). Per epoch: ``epoch_loss`` (the epoch's batch losses
    averaged with the batch sizes as weights: the mean per-sample loss over the epoch)
    and ``val_loss`` (on the validation data, NaN without it)."""

    loss: np.ndarray = field(default_factory=lambda: np.empty(0))
    grad_norm: np.ndarray = field(default_factory=lambda: np.empty(0))
    lr: np.ndarray = field(default_factory=lambda: np.empty(0))
    epoch_loss: np.ndarray = field(default_factory=lambda: np.empty(0))
    val_loss: np.ndarray = field(default_factory=lambda: np.empty(0))

    def to_dict(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name).copy() for name in self.__dataclass_fields__}

    def to_dataframe(self, per: str = "step"):
        """A pandas DataFrame per ``"step"`` or per ``"epoch"`` (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as error:  # optional dependency
            raise ImportError("History.to_dataframe needs pandas: pip install pandas") from error
        if per == "step":
            return pd.DataFrame({"loss": self.loss, "grad_norm": self.grad_norm, "lr": self.lr})
        return pd.DataFrame({"epoch_loss": self.epoch_loss, "val_loss": self.val_loss})


class HistoryRecorder:
    """Collects a run's history chunk by chunk."""

    def __init__(self, start: History | None = None):
        self._columns = {name: _Growing() for name in History.__dataclass_fields__}
        if start is not None:
            for name, values in start.to_dict().items():
                self._columns[name].extend(values)

    def steps(self, loss, grad_norm, lr) -> None:
        self._columns["loss"].extend(loss)
        self._columns["grad_norm"].extend(grad_norm)
        self._columns["lr"].extend(lr)

    def step_losses(self, start: int, stop: int) -> np.ndarray:
        return self._columns["loss"].view(start, stop)

    def epoch(self, loss: float, val_loss: float) -> None:
        self.epochs([loss], [val_loss])

    def epochs(self, losses, val_losses) -> None:
        self._columns["epoch_loss"].extend(losses)
        self._columns["val_loss"].extend(val_losses)

    def history(self) -> History:
        return History(**{name: column.array() for name, column in self._columns.items()})


@dataclass
class FitResult:
    """The outcome of :func:`symgrad.fit` or :func:`symgrad.minimize`.

    Attributes:
        params: ``{symbol: value}`` at the end.
        theta: the same as the flat parameter vector.
        history: per-step and per-epoch records (:class:`History`).
        loss: the objective (full data) at ``theta``.
        grad_norm: its gradient's norm.
        n_iter: parameter updates taken; ``n_epochs``: epochs completed.
        converged: whether a convergence test stopped the run.
        reason: ``"gradient_norm"``, ``"loss_change"``, ``"max_iter"``, ``"max_epochs"``,
            ``"time_limit"`` or ``"callback"``.
        elapsed: seconds in the loop; ``fused``: whether the compiled loop ran it.
        state: the optimizer's final state; ``seed``: the seed entropy used for shuffling.
    """

    params: dict[sp.Symbol, float]
    theta: np.ndarray
    history: History
    loss: float
    grad_norm: float
    n_iter: int
    n_epochs: int
    reason: str
    elapsed: float
    fused: bool
    state: object = None
    seed: int | None = None

    @property
    def converged(self) -> bool:
        return self.reason in CONVERGED_REASONS

    @property
    def steps_per_second(self) -> float:
        return self.n_iter / self.elapsed if self.elapsed > 0 else float("inf")

    def __repr__(self) -> str:
        return (f"<FitResult: {self.reason} after {self.n_iter} steps ({self.n_epochs} epochs), "
                f"loss {self.loss:.6g}, |grad| {self.grad_norm:.3g}, {self.elapsed:.3g} s"
                f"{', fused loop' if self.fused else ''}>")
