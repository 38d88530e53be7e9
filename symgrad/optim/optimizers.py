"""The built-in first-order optimizers.

Defaults and formulas follow ``torch.optim``. Where the lecture notes write
a method differently (momentum as ``v = γv − η∇J``, ε inside the square
root, the AMSGrad maximum after bias correction) the variant is an explicit
option and the default is torch's. In the formulas ``g`` is the gradient
plus ``weight_decay · θ`` (coupled L2) and ``t`` counts steps from 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import DeclarationError
from . import updates
from .base import Optimizer, check_fraction, check_nonnegative

__all__ = ["GD", "SGD", "Momentum", "Nesterov", "Adagrad", "RMSProp", "Adadelta", "Adam", "AdamW",
           "Adamax", "Nadam", "AMSGrad"]


def _flag(value: bool) -> float:
    return 1.0 if value else 0.0


@dataclass(frozen=True)
class GD(Optimizer):
    """Gradient descent: ``θ ← θ − lr·g``.

    Full-batch, stochastic (one sample) or mini-batch: the batch is the
    driver's choice (``sg.fit(batch_size=...)``). torch: ``SGD(momentum=0)``.
    """

    lr: float = 1e-3
    weight_decay: float = 0.0
    kernel = staticmethod(updates.gd_update)

    def __post_init__(self):
        super().__post_init__()
        check_nonnegative(self, "weight_decay", self.weight_decay)

    def hyper(self) -> np.ndarray:
        return np.array([self.weight_decay])


#: Stochastic and mini-batch gradient descent are GD on a sampled batch.
SGD = GD


@dataclass(frozen=True)
class Momentum(Optimizer):
    """Gradient descent with momentum (heavy ball); ``nesterov=True`` for NAG.

    ``form="torch"`` (default, ``torch.optim.SGD``)::

        b ← g (t = 1),  b ← μ·b + (1 − dampening)·g (t > 1)
        θ ← θ − lr·b                 (θ ← θ − lr·(g + μ·b) with nesterov)

    ``form="seed"`` (the lecture notes' velocity form)::

        v ← μ·v − lr·g;  θ ← θ + v

    With ``nesterov`` the gradient is taken at the look-ahead point
    ``θ + μ·v``; the driver's parameters are that look-ahead point, so the
    step is ``θ ← θ + (1 + μ)·v_new − μ·v_old``. With a constant rate the two
    forms take the same steps; they differ when the rate changes.
    """

    lr: float = 1e-3
    momentum: float = 0.9
    dampening: float = 0.0
    weight_decay: float = 0.0
    nesterov: bool = False
    form: str = "torch"
    slots = ("buffer",)
    kernel = staticmethod(updates.momentum_update)

    def __post_init__(self):
        super().__post_init__()
        check_fraction(self, "momentum", self.momentum)
        check_nonnegative(self, "weight_decay", self.weight_decay)
        check_fraction(self, "dampening", self.dampening)
        if self.form not in ("torch", "seed"):
            raise DeclarationError(f"{self.name}: form must be 'torch' or 'seed', got {self.form!r}")
        if self.nesterov and (self.dampening or not self.momentum):
            raise DeclarationError(f"{self.name}: Nesterov momentum needs momentum > 0 and dampening=0 "
                                   f"(as torch), got momentum={self.momentum}, dampening={self.dampening}")
        if self.form == "seed" and self.dampening:
            raise DeclarationError(f"{self.name}: the velocity form (form='seed') has no dampening; "
                                   f"got dampening={self.dampening}")

    def hyper(self) -> np.ndarray:
        return np.array([self.momentum, self.dampening, self.weight_decay, _flag(self.nesterov),
                         _flag(self.form == "seed")])


@dataclass(frozen=True)
class Nesterov(Momentum):
    """Nesterov accelerated gradient: :class:`Momentum` with ``nesterov=True``."""

    nesterov: bool = True


@dataclass(frozen=True)
class Adagrad(Optimizer):
    """Adagrad: per-parameter rates shrinking with the gradients seen so far::

        G ← G + g²;  θ ← θ − lr_t·g / (√G + ε),  lr_t = lr / (1 + (t − 1)·lr_decay)

    ``eps_inside=True`` uses ``√(G + ε)`` as the lecture notes write it.
    """

    lr: float = 1e-2
    lr_decay: float = 0.0
    weight_decay: float = 0.0
    initial_accumulator_value: float = 0.0
    eps: float = 1e-10
    eps_inside: bool = False
    slots = ("sum",)
    kernel = staticmethod(updates.adagrad_update)

    def __post_init__(self):
        super().__post_init__()
        for name in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_nonnegative(self, name, getattr(self, name))

    def _initial_value(self, slot: str) -> float:
        return self.initial_accumulator_value

    def hyper(self) -> np.ndarray:
        return np.array([self.lr_decay, self.eps, self.weight_decay, _flag(self.eps_inside)])


@dataclass(frozen=True)
class RMSProp(Optimizer):
    """RMSProp: divide by a running root mean square of the gradient::

        v ← α·v + (1 − α)·g²;  θ ← θ − lr·g / (√v + ε)

    ``centered`` subtracts the square of the running mean gradient from ``v``;
    ``momentum > 0`` keeps a buffer ``b ← μ·b + g/(√v + ε)`` and steps
    ``θ ← θ − lr·b``; ``eps_inside=True`` uses ``√(v + ε)`` (the lecture notes).
    """

    lr: float = 1e-2
    alpha: float = 0.99
    eps: float = 1e-8
    weight_decay: float = 0.0
    momentum: float = 0.0
    centered: bool = False
    eps_inside: bool = False
    slots = ("square_avg", "grad_avg", "buffer")
    kernel = staticmethod(updates.rmsprop_update)

    def __post_init__(self):
        super().__post_init__()
        check_fraction(self, "alpha", self.alpha)
        check_fraction(self, "momentum", self.momentum)
        check_nonnegative(self, "eps", self.eps)
        check_nonnegative(self, "weight_decay", self.weight_decay)

    def hyper(self) -> np.ndarray:
        return np.array([self.alpha, self.eps, self.weight_decay, self.momentum, _flag(self.centered),
                         _flag(self.eps_inside)])


@dataclass(frozen=True)
class Adadelta(Optimizer):
    """Adadelta: steps scaled by the ratio of running RMS of steps and gradients::

        v ← ρ·v + (1 − ρ)·g²;  Δ = √(u + ε) / √(v + ε) · g
        u ← ρ·u + (1 − ρ)·Δ²;  θ ← θ − lr·Δ
    """

    lr: float = 1.0
    rho: float = 0.9
    eps: float = 1e-6
    weight_decay: float = 0.0
    slots = ("square_avg", "acc_delta")
    kernel = staticmethod(updates.adadelta_update)

    def __post_init__(self):
        super().__post_init__()
        check_fraction(self, "rho", self.rho)
        check_nonnegative(self, "eps", self.eps)
        check_nonnegative(self, "weight_decay", self.weight_decay)

    def hyper(self) -> np.ndarray:
        return np.array([self.rho, self.eps, self.weight_decay])


@dataclass(frozen=True)
class Adam(Optimizer):
    """Adam: momentum on the gradient and on its square, bias-corrected::

        m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²
        θ ← θ − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

    ``amsgrad=True`` replaces ``v`` by its running maximum (see :class:`AMSGrad`);
    ``decoupled_weight_decay=True`` is :class:`AdamW`.
    """

    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    amsgrad: bool = False
    decoupled_weight_decay: bool = False
    max_of: str = "raw"
    slots = ("m", "v", "v_max")
    kernel = staticmethod(updates.adam_update)

    def __post_init__(self):
        super().__post_init__()
        _check_betas(self)
        check_nonnegative(self, "eps", self.eps)
        check_nonnegative(self, "weight_decay", self.weight_decay)
        if self.max_of not in ("raw", "corrected"):
            raise DeclarationError(f"{self.name}: max_of must be 'raw' or 'corrected', got {self.max_of!r}")
        if self.max_of != "raw" and not self.amsgrad:
            raise DeclarationError(f"{self.name}: max_of={self.max_of!r} applies to AMSGrad only; "
                                   "pass amsgrad=True or use sg.optim.AMSGrad")

    def hyper(self) -> np.ndarray:
        return np.array([*self.betas, self.eps, self.weight_decay, _flag(self.decoupled_weight_decay),
                         _flag(self.amsgrad), _flag(self.max_of == "corrected"), *_log_betas(self)])


@dataclass(frozen=True)
class AdamW(Adam):
    """Adam with decoupled weight decay: ``θ ← θ·(1 − lr·weight_decay)`` before the Adam step."""

    weight_decay: float = 1e-2
    decoupled_weight_decay: bool = True


@dataclass(frozen=True)
class AMSGrad(Adam):
    """AMSGrad: Adam dividing by the running maximum of the second moment.

    ``max_of="raw"`` (torch): ``v̂ ← max(v̂, v)``, denominator ``√v̂ / √(1 − β₂ᵗ) + ε``.
    ``max_of="corrected"``: the maximum of the bias-corrected ``v / (1 − β₂ᵗ)``.
    """

    amsgrad: bool = True


@dataclass(frozen=True)
class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm::

        m ← β₁·m + (1 − β₁)·g;  u ← max(β₂·u, |g| + ε)
        θ ← θ − lr/(1 − β₁ᵗ) · m / u
    """

    lr: float = 2e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    slots = ("m", "u")
    kernel = staticmethod(updates.adamax_update)

    def __post_init__(self):
        super().__post_init__()
        _check_betas(self)
        check_nonnegative(self, "eps", self.eps)
        check_nonnegative(self, "weight_decay", self.weight_decay)

    def hyper(self) -> np.ndarray:
        return np.array([*self.betas, self.eps, self.weight_decay, *_log_betas(self)])


@dataclass(frozen=True)
class Nadam(Optimizer):
    """Nadam: Adam with Nesterov momentum and torch's momentum schedule::

        μₜ = β₁(1 − ½·0.96^(t·ψ)),  Πₜ = μ₁⋯μₜ
        m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²;  d = √(v / (1 − β₂ᵗ)) + ε
        θ ← θ − lr(1 − μₜ)/(1 − Πₜ) · g/d − lr·μₜ₊₁/(1 − Πₜμₜ₊₁) · m/d

    ``ψ`` is ``momentum_decay``.
    """

    lr: float = 2e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    momentum_decay: float = 4e-3
    slots = ("m", "v", "mu_product")
    kernel = staticmethod(updates.nadam_update)
    _initial = {"mu_product": 1.0}

    def __post_init__(self):
        super().__post_init__()
        _check_betas(self)
        check_nonnegative(self, "eps", self.eps)
        check_nonnegative(self, "weight_decay", self.weight_decay)
        check_nonnegative(self, "momentum_decay", self.momentum_decay)

    def hyper(self) -> np.ndarray:
        return np.array([*self.betas, self.eps, self.weight_decay, self.momentum_decay, *_log_betas(self)])


def _log_betas(owner) -> tuple[float, float]:
    """log β₁, log β₂ for the update kernels' bias corrections (−inf for β = 0)."""
    return tuple(math.log(beta) if beta > 0.0 else -math.inf for beta in owner.betas)


def _check_betas(owner) -> None:
    betas = tuple(owner.betas)
    if len(betas) != 2:
        raise DeclarationError(f"{owner.name}: betas must be a pair (beta1, beta2), got {owner.betas!r}")
    for k, beta in enumerate(betas, 1):
        check_fraction(owner, f"beta{k}", beta)
