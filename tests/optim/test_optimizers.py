"""First-order optimizers, driven by a table of (optimizer, independent numpy reference) cases.

Each reference below is written from the formula in the optimizer's docstring
(equivalently the torch.optim documentation) with plain numpy, and never calls
symgrad. Every case runs ``STEPS`` steps on one fixed gradient sequence that does
not depend on theta, once at the optimizer's own rate and once with a rate that
changes every step (``update(..., lr=...)``), and compares every step.

Tolerance: the kernels evaluate the same formulas in a different order, so a
step can differ from the reference by a few ulps; over 25 steps that stays far
below ``rtol=1e-12`` (no entry of any trajectory comes closer to 0 than 0.08,
so the relative tolerance is meaningful and ``atol`` never decides).
``test_every_variant_option_changes_the_trajectory`` checks that each
non-default option moves the reference by far more than that tolerance, so a
kernel ignoring an option cannot pass.
"""

import math
from dataclasses import dataclass, field

import numpy as np
import pytest

import symgrad as sg
from symgrad.errors import DeclarationError, SymgradError
from symgrad.optim import (
    GD,
    OPTIMIZERS,
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    AMSGrad,
    Momentum,
    Nadam,
    Nesterov,
    Newton,
    Optimizer,
    OptimizerState,
    RMSProp,
)

N, STEPS = 6, 25
RTOL, ATOL = 1e-12, 1e-15

_rng = np.random.default_rng(20261121)
#: start: entries in [0.5, 2] with random signs, none near 0 (so the relative tolerance stays meaningful)
THETA0 = _rng.uniform(0.5, 2.0, N) * _rng.choice([-1.0, 1.0], N)
#: the fixed gradient sequence: shrinking magnitudes (so AMSGrad's maximum matters) and one exact zero
GRADS = _rng.normal(size=(STEPS, N)) * (2.0 * 0.85 ** np.arange(STEPS) + 0.1)[:, None]
GRADS[4, 0] = 0.0
#: per-step rate factors for the scheduled runs (positive, changing every step)
RATE_FACTORS = 1.0 + 0.5 * np.sin(np.arange(STEPS))
FIRST_ORDER = sorted(name for name, cls in OPTIMIZERS.items() if not cls.needs_hessian)


# ---------------------------------------------------------------- numpy references
# Each takes (theta0, grads, rates, **hyper) and returns (trajectory, final slots by name),
# trajectory[k] being theta after k steps.


def gd_ref(theta, grads, rates, *, weight_decay=0.0):
    theta = theta.copy()
    trajectory = [theta.copy()]
    for g, lr in zip(grads, rates, strict=True):
        theta = theta - lr * (g + weight_decay * theta)
        trajectory.append(theta.copy())
    return trajectory, {}


def momentum_torch_ref(theta, grads, rates, *, momentum=0.9, dampening=0.0, weight_decay=0.0,
                       nesterov=False):
    """torch.optim.SGD: b = g at t = 1, else b = μb + (1 − dampening)g; step b (Nesterov: g + μb)."""
    theta = theta.copy()
    trajectory, b = [theta.copy()], None
    for g, lr in zip(grads, rates, strict=True):
        d = g + weight_decay * theta
        b = d.copy() if b is None else momentum * b + (1 - dampening) * d
        theta = theta - lr * (d + momentum * b if nesterov else b)
        trajectory.append(theta.copy())
    return trajectory, {"buffer": b}


def momentum_seed_ref(theta, grads, rates, *, momentum=0.9, weight_decay=0.0, nesterov=False):
    """The notes' velocity form: v = μv − lr·g; θ += v (Nesterov: θ += (1 + μ)v − μ·v_old)."""
    theta = theta.copy()
    trajectory, v = [theta.copy()], np.zeros_like(theta)
    for g, lr in zip(grads, rates, strict=True):
        d = g + weight_decay * theta
        v_old, v = v, momentum * v - lr * d
        theta = theta + ((1 + momentum) * v - momentum * v_old if nesterov else v)
        trajectory.append(theta.copy())
    return trajectory, {"buffer": v}


def adagrad_ref(theta, grads, rates, *, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                eps=1e-10, eps_inside=False):
    theta = theta.copy()
    trajectory, G = [theta.copy()], np.full_like(theta, initial_accumulator_value)
    for t, (g, lr) in enumerate(zip(grads, rates, strict=True), 1):
        d = g + weight_decay * theta
        G = G + d**2
        denominator = np.sqrt(G + eps) if eps_inside else np.sqrt(G) + eps
        theta = theta - lr / (1 + (t - 1) * lr_decay) * d / denominator
        trajectory.append(theta.copy())
    return trajectory, {"sum": G}


def rmsprop_ref(theta, grads, rates, *, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                centered=False, eps_inside=False):
    theta = theta.copy()
    trajectory = [theta.copy()]
    v, mean, b = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta)
    for g, lr in zip(grads, rates, strict=True):
        d = g + weight_decay * theta
        v = alpha * v + (1 - alpha) * d**2
        if centered:
            mean = alpha * mean + (1 - alpha) * d
        spread = v - mean**2 if centered else v
        denominator = np.sqrt(spread + eps) if eps_inside else np.sqrt(spread) + eps
        if momentum > 0:
            b = momentum * b + d / denominator
            theta = theta - lr * b
        else:
            theta = theta - lr * d / denominator
        trajectory.append(theta.copy())
    return trajectory, {"square_avg": v, "grad_avg": mean, "buffer": b}


def adadelta_ref(theta, grads, rates, *, rho=0.9, eps=1e-6, weight_decay=0.0):
    theta = theta.copy()
    trajectory, v, u = [theta.copy()], np.zeros_like(theta), np.zeros_like(theta)
    for g, lr in zip(grads, rates, strict=True):
        d = g + weight_decay * theta
        v = rho * v + (1 - rho) * d**2
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * d
        u = rho * u + (1 - rho) * delta**2
        theta = theta - lr * delta
        trajectory.append(theta.copy())
    return trajectory, {"square_avg": v, "acc_delta": u}


def adam_ref(theta, grads, rates, *, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
             decoupled_weight_decay=False, max_of="raw"):
    b1, b2 = betas
    theta = theta.copy()
    trajectory = [theta.copy()]
    m, v, v_max = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta)
    for t, (g, lr) in enumerate(zip(grads, rates, strict=True), 1):
        if decoupled_weight_decay:
            theta = theta * (1 - lr * weight_decay)
            d = g
        else:
            d = g + weight_decay * theta
        m = b1 * m + (1 - b1) * d
        v = b2 * v + (1 - b2) * d**2
        if amsgrad and max_of == "corrected":
            v_max = np.maximum(v_max, v / (1 - b2**t))
            denominator = np.sqrt(v_max) + eps
        elif amsgrad:
            v_max = np.maximum(v_max, v)
            denominator = np.sqrt(v_max) / math.sqrt(1 - b2**t) + eps
        else:
            denominator = np.sqrt(v) / math.sqrt(1 - b2**t) + eps
        theta = theta - lr / (1 - b1**t) * m / denominator
        trajectory.append(theta.copy())
    return trajectory, {"m": m, "v": v, "v_max": v_max}


def adamax_ref(theta, grads, rates, *, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    b1, b2 = betas
    theta = theta.copy()
    trajectory, m, u = [theta.copy()], np.zeros_like(theta), np.zeros_like(theta)
    for t, (g, lr) in enumerate(zip(grads, rates, strict=True), 1):
        d = g + weight_decay * theta
        m = b1 * m + (1 - b1) * d
        u = np.maximum(b2 * u, np.abs(d) + eps)
        theta = theta - lr / (1 - b1**t) * m / u
        trajectory.append(theta.copy())
    return trajectory, {"m": m, "u": u}


def nadam_ref(theta, grads, rates, *, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3):
    """torch.optim.NAdam: μₜ = β₁(1 − ½·0.96^(tψ)), Πₜ = μ₁⋯μₜ."""
    b1, b2 = betas
    theta = theta.copy()
    trajectory, m, v, product = [theta.copy()], np.zeros_like(theta), np.zeros_like(theta), 1.0

    def mu(t):
        return b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))

    for t, (g, lr) in enumerate(zip(grads, rates, strict=True), 1):
        d = g + weight_decay * theta
        product *= mu(t)
        m = b1 * m + (1 - b1) * d
        v = b2 * v + (1 - b2) * d**2
        denominator = np.sqrt(v / (1 - b2**t)) + eps
        theta = (theta - lr * (1 - mu(t)) / (1 - product) * d / denominator
                 - lr * mu(t + 1) / (1 - product * mu(t + 1)) * m / denominator)
        trajectory.append(theta.copy())
    return trajectory, {"m": m, "v": v, "mu_product": np.full_like(theta, product)}


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class Case:
    id: str
    optimizer: Optimizer
    reference: object
    lr: float
    hyper: dict = field(default_factory=dict)

    def run_reference(self, rates, **override):
        return self.reference(THETA0, GRADS, rates, **{**self.hyper, **override})


def case(id, optimizer, reference, lr, **hyper):
    return Case(id, optimizer, reference, lr, hyper)


CASES = [
    case("GD-default", GD(), gd_ref, 1e-3),
    case("SGD-alias-weight-decay", SGD(lr=0.05, weight_decay=0.3), gd_ref, 0.05, weight_decay=0.3),
    case("Momentum-torch", Momentum(lr=0.01), momentum_torch_ref, 0.01),
    case("Momentum-torch-dampening", Momentum(lr=0.02, momentum=0.8, dampening=0.3, weight_decay=0.05),
         momentum_torch_ref, 0.02, momentum=0.8, dampening=0.3, weight_decay=0.05),
    case("Momentum-torch-nesterov", Momentum(lr=0.01, nesterov=True), momentum_torch_ref, 0.01,
         nesterov=True),
    case("Nesterov-torch", Nesterov(lr=0.02, momentum=0.7, weight_decay=0.1), momentum_torch_ref, 0.02,
         momentum=0.7, weight_decay=0.1, nesterov=True),
    case("Momentum-seed", Momentum(lr=0.01, form="seed"), momentum_seed_ref, 0.01),
    case("Momentum-seed-weight-decay", Momentum(lr=0.02, momentum=0.6, weight_decay=0.2, form="seed"),
         momentum_seed_ref, 0.02, momentum=0.6, weight_decay=0.2),
    case("Momentum-seed-nesterov", Momentum(lr=0.01, form="seed", nesterov=True), momentum_seed_ref, 0.01,
         nesterov=True),
    case("Nesterov-seed", Nesterov(lr=0.02, momentum=0.5, form="seed"), momentum_seed_ref, 0.02,
         momentum=0.5, nesterov=True),
    case("Adagrad-default", Adagrad(), adagrad_ref, 1e-2),
    case("Adagrad-lr-decay", Adagrad(lr=0.05, lr_decay=0.1), adagrad_ref, 0.05, lr_decay=0.1),
    case("Adagrad-initial-accumulator", Adagrad(initial_accumulator_value=0.5, weight_decay=0.1),
         adagrad_ref, 1e-2, initial_accumulator_value=0.5, weight_decay=0.1),
    case("Adagrad-eps-inside", Adagrad(eps=1e-2, eps_inside=True), adagrad_ref, 1e-2, eps=1e-2,
         eps_inside=True),
    case("RMSProp-default", RMSProp(), rmsprop_ref, 1e-2),
    case("RMSProp-centered", RMSProp(alpha=0.9, centered=True), rmsprop_ref, 1e-2, alpha=0.9, centered=True),
    case("RMSProp-momentum", RMSProp(lr=1e-3, momentum=0.8, weight_decay=0.1), rmsprop_ref, 1e-3,
         momentum=0.8, weight_decay=0.1),
    case("RMSProp-centered-momentum", RMSProp(lr=1e-3, alpha=0.9, momentum=0.5, centered=True),
         rmsprop_ref, 1e-3, alpha=0.9, momentum=0.5, centered=True),
    case("RMSProp-eps-inside", RMSProp(eps=1e-2, eps_inside=True), rmsprop_ref, 1e-2, eps=1e-2,
         eps_inside=True),
    case("Adadelta-default", Adadelta(), adadelta_ref, 1.0),
    case("Adadelta-non-default", Adadelta(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1), adadelta_ref, 0.5,
         rho=0.8, eps=1e-4, weight_decay=0.1),
    case("Adam-default", Adam(), adam_ref, 1e-3),
    case("Adam-coupled-weight-decay", Adam(lr=0.01, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.1),
         adam_ref, 0.01, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.1),
    case("Adam-amsgrad", Adam(lr=0.01, amsgrad=True), adam_ref, 0.01, amsgrad=True),
    case("Adam-decoupled-weight-decay", Adam(lr=0.01, weight_decay=0.3, decoupled_weight_decay=True),
         adam_ref, 0.01, weight_decay=0.3, decoupled_weight_decay=True),
    case("AdamW-default", AdamW(), adam_ref, 1e-3, weight_decay=1e-2, decoupled_weight_decay=True),
    case("AdamW-amsgrad", AdamW(lr=0.01, weight_decay=0.2, amsgrad=True), adam_ref, 0.01, weight_decay=0.2,
         decoupled_weight_decay=True, amsgrad=True),
    case("AMSGrad-raw", AMSGrad(), adam_ref, 1e-3, amsgrad=True),
    case("AMSGrad-corrected", AMSGrad(lr=0.01, max_of="corrected"), adam_ref, 0.01, amsgrad=True,
         max_of="corrected"),
    case("Adamax-default", Adamax(), adamax_ref, 2e-3),
    case("Adamax-non-default", Adamax(lr=0.01, betas=(0.8, 0.9), eps=1e-2, weight_decay=0.1), adamax_ref,
         0.01, betas=(0.8, 0.9), eps=1e-2, weight_decay=0.1),
    case("Nadam-default", Nadam(), nadam_ref, 2e-3),
    case("Nadam-non-default", Nadam(lr=0.01, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.1,
                                    momentum_decay=0.1), nadam_ref, 0.01, betas=(0.8, 0.99), eps=1e-3,
         weight_decay=0.1, momentum_decay=0.1),
]
CASE_IDS = [c.id for c in CASES]
#: the non-default options of every case, one test each
OPTION_CASES = [(c, option) for c in CASES for option in c.hyper]


def run(optimizer, rates=None, theta0=THETA0, grads=GRADS):
    """Steps of ``optimizer`` on the fixed gradients: theta after each step, and the final state."""
    theta = theta0.copy()
    state = optimizer.init(theta)
    trajectory = [theta.copy()]
    for k, g in enumerate(grads):
        if rates is None:
            optimizer.update(theta, g, state)
        else:
            optimizer.update(theta, g, state, lr=rates[k])
        trajectory.append(theta.copy())
    return trajectory, state


def test_table_covers_every_first_order_optimizer():
    assert set(FIRST_ORDER) == {type(c.optimizer).__name__ for c in CASES}
    assert len(set(CASE_IDS)) == len(CASE_IDS)
    assert STEPS >= 20


@pytest.mark.parametrize("scheduled", [False, True], ids=["own-rate", "rate-per-step"])
@pytest.mark.parametrize("c", CASES, ids=CASE_IDS)
def test_every_step_matches_the_numpy_reference(c, scheduled):
    rates = c.lr * RATE_FACTORS if scheduled else np.full(STEPS, c.lr)
    expected, expected_slots = c.run_reference(rates)
    theta = THETA0.copy()
    state = c.optimizer.init(theta)
    for k, g in enumerate(GRADS):
        g_before = g.copy()
        out_theta, out_state = c.optimizer.update(theta, g, state, **({"lr": rates[k]} if scheduled else {}))
        assert out_theta is theta and out_state is state
        assert state.step == k + 1
        np.testing.assert_array_equal(g, g_before)  # the gradient is not modified
        np.testing.assert_allclose(theta, expected[k + 1], rtol=RTOL, atol=ATOL, err_msg=f"step {k + 1}")
    for name, value in expected_slots.items():
        np.testing.assert_allclose(getattr(state, name), value, rtol=RTOL, atol=ATOL, err_msg=name)


@pytest.mark.parametrize(("c", "option"), OPTION_CASES,
                         ids=[f"{c.id}-{option}" for c, option in OPTION_CASES])
def test_every_variant_option_changes_the_trajectory(c, option):
    """Each non-default option moves the reference far beyond the tolerance, so the table can catch a
    kernel that ignores it."""
    rates = c.lr * RATE_FACTORS
    with_option, _ = c.run_reference(rates)
    without = {k: v for k, v in c.hyper.items() if k != option}
    without_option, _ = c.reference(THETA0, GRADS, rates, **without)
    assert np.max(np.abs(np.array(with_option) - np.array(without_option))) > 1e-8


def test_the_lr_override_does_not_change_the_optimizer():
    optimizer = Adam(lr=0.01)
    scheduled, _ = run(optimizer, rates=np.full(STEPS, 0.01))
    own, _ = run(optimizer)
    assert optimizer.lr == 0.01
    np.testing.assert_array_equal(np.array(scheduled), np.array(own))
    slower, _ = run(optimizer, rates=np.full(STEPS, 0.001))
    assert not np.allclose(slower[-1], own[-1])


def test_a_zero_rate_leaves_theta_still_and_updates_the_state():
    optimizer = Adam()
    trajectory, state = run(optimizer, rates=np.zeros(STEPS))
    np.testing.assert_array_equal(trajectory[-1], THETA0)
    assert state.step == STEPS
    assert np.all(state.v > 0)


# ---------------------------------------------------------------- torch.optim

#: (id, symgrad optimizer, torch.optim class name, its keyword arguments)
TORCH_CASES = [
    ("GD-default", GD(), "SGD", {}),
    ("GD-weight-decay", GD(lr=0.05, weight_decay=0.3), "SGD", {"lr": 0.05, "weight_decay": 0.3}),
    ("Momentum-default", Momentum(), "SGD", {"momentum": 0.9}),
    ("Momentum-dampening", Momentum(lr=0.02, momentum=0.8, dampening=0.3, weight_decay=0.05), "SGD",
     {"lr": 0.02, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.05}),
    ("Nesterov-default", Nesterov(), "SGD", {"momentum": 0.9, "nesterov": True}),
    ("Nesterov-non-default", Nesterov(lr=0.02, momentum=0.7, weight_decay=0.1), "SGD",
     {"lr": 0.02, "momentum": 0.7, "nesterov": True, "weight_decay": 0.1}),
    ("Adagrad-default", Adagrad(), "Adagrad", {}),
    ("Adagrad-non-default", Adagrad(lr=0.05, lr_decay=0.1, initial_accumulator_value=0.5, weight_decay=0.1),
     "Adagrad", {"lr": 0.05, "lr_decay": 0.1, "initial_accumulator_value": 0.5, "weight_decay": 0.1}),
    ("RMSProp-default", RMSProp(), "RMSprop", {}),
    ("RMSProp-centered-momentum", RMSProp(lr=1e-3, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1),
     "RMSprop", {"lr": 1e-3, "alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    ("Adadelta-default", Adadelta(), "Adadelta", {}),
    ("Adadelta-non-default", Adadelta(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1), "Adadelta",
     {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.1}),
    ("Adam-default", Adam(), "Adam", {}),
    ("Adam-coupled-weight-decay", Adam(lr=0.01, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.1), "Adam",
     {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-3, "weight_decay": 0.1}),
    ("Adam-decoupled-weight-decay", Adam(lr=0.01, weight_decay=0.3, decoupled_weight_decay=True), "Adam",
     {"lr": 0.01, "weight_decay": 0.3, "decoupled_weight_decay": True}),
    ("AdamW-default", AdamW(), "AdamW", {}),
    ("AdamW-amsgrad", AdamW(lr=0.01, weight_decay=0.2, amsgrad=True), "AdamW",
     {"lr": 0.01, "weight_decay": 0.2, "amsgrad": True}),
    ("AMSGrad-default", AMSGrad(), "Adam", {"amsgrad": True}),
    ("AMSGrad-non-default", AMSGrad(lr=0.01, betas=(0.8, 0.95)), "Adam",
     {"lr": 0.01, "betas": (0.8, 0.95), "amsgrad": True}),
    ("Adamax-default", Adamax(), "Adamax", {}),
    ("Adamax-non-default", Adamax(lr=0.01, betas=(0.8, 0.9), eps=1e-2, weight_decay=0.1), "Adamax",
     {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-2, "weight_decay": 0.1}),
    ("Nadam-default", Nadam(), "NAdam", {}),
    ("Nadam-non-default", Nadam(lr=0.01, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.1, momentum_decay=0.1),
     "NAdam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-3, "weight_decay": 0.1, "momentum_decay": 0.1}),
]
TORCH_IDS = [t[0] for t in TORCH_CASES]


@pytest.fixture
def torch64():
    """torch with float64 as the default dtype: torch keeps scalar state (Nadam's ``mu_product``, the step)
    in the default dtype, so under float32 its steps differ from any float64 computation by ~1e-8."""
    torch = pytest.importorskip("torch")
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(previous)


def test_torch_table_has_every_first_order_optimizer_at_its_defaults():
    defaults = {type(opt).__name__ for _, opt, _, kwargs in TORCH_CASES if opt == type(opt)()}
    assert defaults == set(FIRST_ORDER)


@pytest.mark.parametrize("scheduled", [False, True], ids=["own-rate", "rate-per-step"])
@pytest.mark.parametrize(("id", "optimizer", "torch_name", "kwargs"), TORCH_CASES, ids=TORCH_IDS)
def test_every_step_matches_torch_optim(id, optimizer, torch_name, kwargs, scheduled, torch64):
    torch = torch64
    rates = optimizer.lr * RATE_FACTORS if scheduled else None
    p = torch.nn.Parameter(torch.tensor(THETA0, dtype=torch.float64))
    torch_optimizer = getattr(torch.optim, torch_name)([p], foreach=False, **kwargs)
    assert torch_optimizer.defaults["lr"] == optimizer.lr
    theta = THETA0.copy()
    state = optimizer.init(theta)
    for k, g in enumerate(GRADS):
        p.grad = torch.tensor(g, dtype=torch.float64)
        if scheduled:
            torch_optimizer.param_groups[0]["lr"] = float(rates[k])
            optimizer.update(theta, g, state, lr=rates[k])
        else:
            optimizer.update(theta, g, state)
        torch_optimizer.step()
        # torch uses lerp and fused multiply-adds in other places: a few ulps per step, as for numpy
        np.testing.assert_allclose(theta, p.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=f"step {k + 1}")


#: torch.optim's documented defaults, by symgrad class (torch class in the second field).
#: Momentum is the one deliberate difference: torch's SGD has momentum=0, which is GD here, so the
#: Momentum class defaults to momentum=0.9 (checked separately below).
TORCH_DEFAULTS = {
    "GD": ("SGD", {"lr": 1e-3, "weight_decay": 0.0}),
    "Momentum": ("SGD", {"lr": 1e-3, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False}),
    "Nesterov": ("SGD", {"lr": 1e-3, "dampening": 0.0, "weight_decay": 0.0}),
    "Adagrad": ("Adagrad", {"lr": 1e-2, "lr_decay": 0.0, "weight_decay": 0.0,
                            "initial_accumulator_value": 0.0, "eps": 1e-10}),
    "RMSProp": ("RMSprop", {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0,
                            "centered": False}),
    "Adadelta": ("Adadelta", {"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0}),
    "Adam": ("Adam", {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False,
                      "decoupled_weight_decay": False}),
    "AdamW": ("AdamW", {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2,
                        "amsgrad": False, "decoupled_weight_decay": True}),
    "AMSGrad": ("Adam", {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                         "decoupled_weight_decay": False}),
    "Adamax": ("Adamax", {"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}),
    "Nadam": ("NAdam", {"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                        "momentum_decay": 4e-3}),
}


def test_defaults_table_covers_every_first_order_optimizer():
    assert set(TORCH_DEFAULTS) == set(FIRST_ORDER)


@pytest.mark.parametrize("name", sorted(TORCH_DEFAULTS))
def test_defaults_are_torchs_documented_defaults(name):
    optimizer = OPTIMIZERS[name]()
    for key, value in TORCH_DEFAULTS[name][1].items():
        assert getattr(optimizer, key) == value, key


@pytest.mark.parametrize("name", sorted(TORCH_DEFAULTS))
def test_documented_defaults_are_torchs_actual_defaults(name):
    torch = pytest.importorskip("torch")
    torch_name, defaults = TORCH_DEFAULTS[name]
    actual = getattr(torch.optim, torch_name)([torch.nn.Parameter(torch.zeros(2))]).defaults
    for key, value in defaults.items():
        assert actual[key] == value, key


def test_variant_defaults_are_torchs_forms():
    assert Momentum().momentum == 0.9 and Momentum().form == "torch" and not Momentum().nesterov
    assert Nesterov().nesterov and Nesterov().momentum == 0.9 and Nesterov().form == "torch"
    assert AMSGrad().amsgrad and AMSGrad().max_of == "raw"
    assert Adam().max_of == "raw"
    assert not Adagrad().eps_inside and not RMSProp().eps_inside
    assert SGD is GD


# ---------------------------------------------------------------- momentum forms


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_momentum_forms_take_the_same_steps_at_a_constant_rate(nesterov, weight_decay):
    torch_form = Momentum(lr=0.02, momentum=0.8, weight_decay=weight_decay, nesterov=nesterov)
    seed_form = Momentum(lr=0.02, momentum=0.8, weight_decay=weight_decay, nesterov=nesterov, form="seed")
    for rates in (None, np.full(STEPS, 0.05)):
        a, _ = run(torch_form, rates)
        b, _ = run(seed_form, rates)
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-12, atol=1e-14)
        assert np.max(np.abs(a[-1] - THETA0)) > 1e-2  # they did move


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_forms_differ_when_the_rate_changes(nesterov):
    mu = 0.8
    rates = 0.02 * RATE_FACTORS
    a, _ = run(Momentum(lr=0.02, momentum=mu, nesterov=nesterov), rates)
    b, _ = run(Momentum(lr=0.02, momentum=mu, nesterov=nesterov, form="seed"), rates)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-14)  # the first step is −lr·g(1 + μ·nesterov) in both
    # at step 2: torch steps lr₂·μ·g₁ (μ²·lr₂·g₁ with Nesterov) where the velocity form keeps lr₁
    predicted = (mu**2 if nesterov else mu) * (rates[0] - rates[1]) * GRADS[0]
    np.testing.assert_allclose(a[2] - b[2], predicted, rtol=1e-9, atol=1e-15)
    assert np.max(np.abs(a[-1] - b[-1])) > 1e-4


# ---------------------------------------------------------------- convergence on a convex quadratic

#: a sensible rate per optimizer for A with eigenvalues 1..8, and a step budget (2-3 times what it needs).
#: RMSProp at lr=0.01 and Adadelta at its default eps=1e-6 end in a limit cycle of size ~lr around x*
#: (their steps become sign-like once the running averages have caught up), so they get other rates.
CONVERGENCE = {
    "GD": (GD(lr=0.2), 200),
    "Momentum": (Momentum(lr=0.05), 800),
    "Nesterov": (Nesterov(lr=0.05), 600),
    "Adagrad": (Adagrad(lr=0.5), 500),
    "RMSProp": (RMSProp(lr=0.05), 400),
    "Adadelta": (Adadelta(lr=0.3, eps=1e-2), 400),
    "Adam": (Adam(lr=0.05), 1000),
    "AdamW": (AdamW(lr=0.05, weight_decay=0.0), 1000),
    "AMSGrad": (AMSGrad(lr=0.05), 1000),
    "Adamax": (Adamax(lr=0.05), 1500),
    "Nadam": (Nadam(lr=0.05), 1000),
}


def test_convergence_table_covers_every_first_order_optimizer():
    assert set(CONVERGENCE) == set(FIRST_ORDER)


@pytest.mark.parametrize("name", sorted(CONVERGENCE))
def test_minimises_a_convex_quadratic(name, quadratic):
    optimizer, budget = CONVERGENCE[name]
    x = quadratic.x0.copy()
    state = optimizer.init(x)
    start = quadratic.value(x)
    for _ in range(budget):
        optimizer.update(x, quadratic.grad(x), state)
        if np.linalg.norm(x - quadratic.x_star) < 1e-8:
            break
    assert np.linalg.norm(x - quadratic.x_star) < 1e-8, f"{name}: |x − x*| after {state.step} steps"
    assert quadratic.value(x) < start


def test_seed_form_momentum_minimises_a_convex_quadratic(quadratic):
    optimizer = Momentum(lr=0.05, form="seed", nesterov=True)
    x = quadratic.x0.copy()
    state = optimizer.init(x)
    for _ in range(800):
        optimizer.update(x, quadratic.grad(x), state)
    np.testing.assert_allclose(x, quadratic.x_star, rtol=0, atol=1e-8)


def test_adamw_weight_decay_shrinks_the_minimiser(quadratic):
    """Decoupled decay pulls the limit from x* towards 0 (ignoring it would end exactly on x*)."""
    x = quadratic.x0.copy()
    optimizer = AdamW(lr=0.01, weight_decay=0.5)
    state = optimizer.init(x)
    for _ in range(3000):
        optimizer.update(x, quadratic.grad(x), state)
    assert np.linalg.norm(x) < np.linalg.norm(quadratic.x_star)


# ---------------------------------------------------------------- hyperparameter validation

BAD = [
    (lambda: GD(lr=-0.1), "lr"),
    (lambda: GD(lr=float("nan")), "lr"),
    (lambda: GD(lr=float("inf")), "lr"),
    (lambda: GD(weight_decay=-1.0), "weight_decay"),
    (lambda: Momentum(momentum=1.0), "momentum"),
    (lambda: Momentum(momentum=-0.1), "momentum"),
    (lambda: Momentum(dampening=1.0), "dampening"),
    (lambda: Momentum(nesterov=True, dampening=0.1), "dampening"),
    (lambda: Nesterov(dampening=0.5), "dampening"),
    (lambda: Momentum(form="velocity"), "form"),
    (lambda: Momentum(form="seed", dampening=0.1), "dampening"),
    (lambda: Nesterov(momentum=0.0), "momentum"),
    (lambda: Adam(max_of="corrected"), "max_of"),
    (lambda: Adagrad(lr_decay=-1.0), "lr_decay"),
    (lambda: Adagrad(initial_accumulator_value=-0.5), "initial_accumulator_value"),
    (lambda: Adagrad(eps=-1e-10), "eps"),
    (lambda: RMSProp(alpha=1.0), "alpha"),
    (lambda: RMSProp(momentum=1.5), "momentum"),
    (lambda: RMSProp(eps=float("nan")), "eps"),
    (lambda: Adadelta(rho=1.0), "rho"),
    (lambda: Adadelta(rho=-0.5), "rho"),
    (lambda: Adam(betas=(0.9, 1.0)), "beta2"),
    (lambda: Adam(betas=(1.0, 0.999)), "beta1"),
    (lambda: Adam(betas=(0.9,)), "betas"),
    (lambda: Adam(betas=(0.9, 0.99, 0.999)), "betas"),
    (lambda: Adam(max_of="bias"), "max_of"),
    (lambda: AMSGrad(max_of="Corrected"), "max_of"),
    (lambda: AdamW(weight_decay=-0.01), "weight_decay"),
    (lambda: Adamax(betas=(0.9, 1.5)), "beta2"),
    (lambda: Nadam(betas=(-0.1, 0.999)), "beta1"),
    (lambda: Nadam(momentum_decay=-4e-3), "momentum_decay"),
    (lambda: Newton(damping=-1.0), "damping"),
    (lambda: Newton(max_tries=0), "max_tries"),
]


@pytest.mark.parametrize(("make", "parameter"), BAD, ids=[f"{k}-{p}" for k, (_, p) in enumerate(BAD)])
def test_bad_hyperparameter_is_a_declaration_error_naming_it(make, parameter):
    with pytest.raises(DeclarationError, match=rf"\b{parameter}\b") as info:
        make()
    assert isinstance(info.value, SymgradError)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_rejects_a_negative_rate_naming_its_class(name):
    with pytest.raises(DeclarationError, match=rf"^{name}: lr must be"):
        OPTIMIZERS[name](lr=-1.0)


def test_edge_values_are_accepted():
    assert Momentum(momentum=0.0).momentum == 0.0
    assert Adam(betas=[0.0, 0.0]).betas == [0.0, 0.0]
    assert GD(lr=0.0).lr == 0.0
    assert Momentum(dampening=0.99).dampening == 0.99


def test_optimizers_are_immutable():
    with pytest.raises(AttributeError):
        Adam().lr = 0.1  # type: ignore[misc]


# ---------------------------------------------------------------- state


def test_state_slots_by_name():
    theta = THETA0.copy()
    optimizer = Adam(lr=0.01)
    state = optimizer.init(theta)
    assert state.names == ("m", "v", "v_max")
    assert state.arrays.shape == (3, N)
    assert np.shares_memory(state.m, state.arrays) and np.shares_memory(state.v, state.arrays)
    optimizer.update(theta, GRADS[0], state)
    np.testing.assert_allclose(state.m, 0.1 * GRADS[0], rtol=1e-15)
    np.testing.assert_allclose(state.v, 0.001 * GRADS[0] ** 2, rtol=1e-15)
    np.testing.assert_array_equal(state.arrays[0], state.m)
    np.testing.assert_array_equal(state.v_max, 0.0)


def test_unknown_slot_is_an_attribute_error_listing_the_slots():
    state = Adam().init(THETA0)
    with pytest.raises(AttributeError, match=r"slots \('m', 'v', 'v_max'\), not 'buffer'"):
        state.buffer  # noqa: B018
    assert not hasattr(state, "mu_product")
    assert not hasattr(GD().init(THETA0), "m")


@pytest.mark.parametrize("name", FIRST_ORDER)
def test_init_is_fresh_state_named_by_the_slots(name):
    cls = OPTIMIZERS[name]
    state = cls().init(THETA0)
    assert isinstance(state, OptimizerState)
    assert state.step == 0
    assert state.names == cls.slots
    assert state.arrays.shape == (max(len(cls.slots), 1), N)
    for slot in cls.slots:
        expected = 1.0 if slot == "mu_product" else 0.0
        np.testing.assert_array_equal(getattr(state, slot), expected, err_msg=slot)


def test_initial_values():
    np.testing.assert_array_equal(Adagrad(initial_accumulator_value=0.3).init(THETA0).sum, 0.3)
    nadam = Nadam().init(THETA0)
    np.testing.assert_array_equal(nadam.mu_product, 1.0)
    np.testing.assert_array_equal(nadam.m, 0.0)
    np.testing.assert_array_equal(nadam.v, 0.0)
    np.testing.assert_array_equal(Momentum().init(THETA0).buffer, 0.0)


def test_init_does_not_alias_theta():
    theta = THETA0.copy()
    state = Nadam().init(theta)
    state.arrays[:] = 7.0
    np.testing.assert_array_equal(theta, THETA0)


def test_copy_is_independent():
    optimizer = Nadam(lr=0.01)
    theta = THETA0.copy()
    state = optimizer.init(theta)
    for g in GRADS[:5]:
        optimizer.update(theta, g, state)
    saved, saved_theta = state.copy(), theta.copy()
    assert saved.names == state.names and saved.step == state.step == 5
    assert not np.shares_memory(saved.arrays, state.arrays)
    for g in GRADS[5:10]:
        optimizer.update(theta, g, state)
    assert saved.step == 5 and state.step == 10
    assert not np.array_equal(saved.m, state.m)
    # resuming from the copy replays the same steps bit for bit
    replay = saved_theta.copy()
    for g in GRADS[5:10]:
        optimizer.update(replay, g, saved)
    np.testing.assert_array_equal(replay, theta)
    np.testing.assert_array_equal(saved.arrays, state.arrays)


@pytest.mark.parametrize("c", [c for c in CASES if c.id.endswith("default") or "seed" in c.id],
                         ids=lambda c: c.id)
def test_float32_theta_is_updated_in_place_keeping_its_dtype(c):
    theta0, grads = THETA0.astype(np.float32), GRADS.astype(np.float32)
    theta = theta0.copy()
    state = c.optimizer.init(theta)
    assert state.arrays.dtype == np.float32
    for g in grads:
        out, _ = c.optimizer.update(theta, g, state)
        assert out is theta
    assert theta.dtype == np.float32 and state.arrays.dtype == np.float32
    expected, _ = c.reference(theta0.astype(np.float64), grads.astype(np.float64), np.full(STEPS, c.lr),
                              **c.hyper)
    # single precision over 25 steps: a few float32 ulps of |theta| ~ 1
    np.testing.assert_allclose(theta, expected[-1], rtol=1e-5, atol=1e-6)


def test_optimizers_table():
    assert OPTIMIZERS == {cls.__name__: cls for cls in OPTIMIZERS.values()}
    assert all(issubclass(cls, Optimizer) for cls in OPTIMIZERS.values())
    assert sg.optim.OPTIMIZERS is OPTIMIZERS
    assert [name for name, cls in OPTIMIZERS.items() if cls.needs_hessian] == ["Newton"]
    assert all(OPTIMIZERS[name].kernel is not None for name in FIRST_ORDER)
