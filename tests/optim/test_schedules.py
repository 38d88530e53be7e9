"""Learning-rate schedules against their closed forms; bad arguments and bad callables."""

import math

import numpy as np
import pytest

import symgrad as sg
from symgrad.errors import DeclarationError, SymgradError
from symgrad.optim import schedules as optim_schedules
from symgrad.optim.schedules import Schedule, as_schedule, scheduled_rate
from symgrad.schedules import constant, exponential, inverse_time, step

T = list(range(0, 60)) + [99, 100, 101, 1000, 12345]
LR0 = [1e-3, 0.05, 1.0]

#: (schedule, closed form of the rate at step t from lr0), written independently of the implementation
CLOSED_FORMS = [
    ("constant", constant(), lambda t, lr0: lr0),
    ("step-10-0.5", step(10, 0.5), lambda t, lr0: lr0 * 0.5 ** (t // 10)),
    ("step-3-default-gamma", step(3), lambda t, lr0: lr0 * 0.1 ** (t // 3)),
    ("step-1-0.9", step(1, 0.9), lambda t, lr0: lr0 * 0.9**t),
    ("step-7-gamma-1", step(7, 1.0), lambda t, lr0: lr0),
    ("step-float-size", step(4.0, 0.3), lambda t, lr0: lr0 * 0.3 ** (t // 4)),
    ("exponential-0.01", exponential(0.01), lambda t, lr0: lr0 * math.exp(-0.01 * t)),
    ("exponential-0.5", exponential(0.5), lambda t, lr0: lr0 * math.exp(-0.5 * t)),
    ("exponential-0", exponential(0.0), lambda t, lr0: lr0),
    ("inverse-time-0.1", inverse_time(0.1), lambda t, lr0: lr0 / (1 + 0.1 * t)),
    ("inverse-time-2", inverse_time(2.0), lambda t, lr0: lr0 / (1 + 2.0 * t)),
]


@pytest.mark.parametrize("lr0", LR0)
@pytest.mark.parametrize(("id", "schedule", "closed_form"), CLOSED_FORMS, ids=[c[0] for c in CLOSED_FORMS])
def test_rates_match_the_closed_form(id, schedule, closed_form, lr0):
    assert isinstance(schedule, Schedule)
    rates = np.array([schedule(t, lr0) for t in T])
    expected = np.array([closed_form(t, lr0) for t in T])
    # numba raises a float to an integer power by repeated squaring: ~log2(t) ulps at t = 12345
    np.testing.assert_allclose(rates, expected, rtol=1e-13, atol=0)
    assert all(type(rate) is float for rate in rates.tolist())


def test_schedules_are_monotone_and_start_at_the_base_rate():
    for _, schedule, _ in CLOSED_FORMS:
        rates = [schedule(t, 0.1) for t in range(200)]
        assert rates[0] == 0.1, schedule
        assert all(b <= a for a, b in zip(rates, rates[1:], strict=False)), schedule


def test_step_schedule_changes_exactly_at_multiples_of_the_step_size():
    schedule = step(5, 0.5)
    assert [schedule(t, 1.0) for t in range(11)] == [1.0] * 5 + [0.5] * 5 + [0.25]


def test_the_numba_rate_function_is_what_the_schedule_calls():
    for _, schedule, _ in CLOSED_FORMS:
        for t in (0, 7, 31):
            assert schedule(t, 0.2) == scheduled_rate(schedule.kind, schedule.a, schedule.b, 0.2, t)


def test_public_module_reexports_the_schedules():
    assert sg.schedules.step is optim_schedules.step is step
    assert sg.schedules.Schedule is Schedule
    assert set(sg.schedules.__all__) == {"Schedule", "constant", "step", "exponential", "inverse_time"}


def test_repr_names_the_schedule():
    assert repr(step(10, 0.5)) == "<Schedule step(step_size=10, gamma=0.5)>"
    assert repr(exponential(0.25)) == "<Schedule exponential(k=0.25)>"
    assert repr(inverse_time(0.1)) == "<Schedule inverse_time(k=0.1)>"
    assert repr(constant()) == "<Schedule constant>"


BAD = [
    (lambda: step(0), "step_size"),
    (lambda: step(-3), "step_size"),
    (lambda: step(2.5), "step_size"),
    (lambda: step(float("nan")), "step_size"),
    (lambda: step(float("inf")), "step_size"),
    (lambda: step(10, -0.5), "gamma"),
    (lambda: step(10, float("nan")), "gamma"),
    (lambda: step(10, float("inf")), "gamma"),
    (lambda: exponential(-0.1), "k"),
    (lambda: exponential(float("nan")), "k"),
    (lambda: exponential(float("inf")), "k"),
    (lambda: inverse_time(-1.0), "k"),
    (lambda: inverse_time(float("nan")), "k"),
    (lambda: exponential("0.1"), "k"),
    (lambda: step(10, None), "gamma"),
]


@pytest.mark.parametrize(("make", "parameter"), BAD, ids=[f"{k}-{p}" for k, (_, p) in enumerate(BAD)])
def test_bad_arguments_are_declaration_errors_naming_the_parameter(make, parameter):
    with pytest.raises(DeclarationError, match=rf"^{parameter} must be") as info:
        make()
    assert isinstance(info.value, SymgradError)


# ---------------------------------------------------------------- as_schedule


def test_none_is_the_constant_schedule():
    schedule = as_schedule(None)
    assert isinstance(schedule, Schedule)
    assert [schedule(t, 0.3) for t in (0, 1, 50, 10_000)] == [0.3] * 4


def test_a_schedule_is_taken_as_is():
    schedule = exponential(0.1)
    assert as_schedule(schedule) is schedule


def test_a_callable_gives_the_absolute_rate_of_the_step():
    calls = []

    def rate(t):
        calls.append(t)
        return 0.5 / (t + 1)

    schedule = as_schedule(rate)
    rates = [schedule(t, 123.0) for t in range(20)]  # the base rate plays no part
    np.testing.assert_allclose(rates, [0.5 / (t + 1) for t in range(20)], rtol=0)
    assert calls == list(range(20))
    assert as_schedule(lambda t: 0)(3, 1.0) == 0.0  # zero is a valid rate (and is made a float)


@pytest.mark.parametrize("bad", [-1e-3, float("nan"), float("inf"), -float("inf")])
def test_a_callable_giving_a_bad_rate_is_a_declaration_error_naming_the_step(bad):
    schedule = as_schedule(lambda t: bad if t == 7 else 0.1)
    for t in range(7):
        assert schedule(t, 1.0) == 0.1
    with pytest.raises(DeclarationError, match=r"at step 7\b"):
        schedule(7, 1.0)


@pytest.mark.parametrize("bad", [0.1, "exponential", [0.1, 0.01]])
def test_something_else_is_a_declaration_error(bad):
    with pytest.raises(DeclarationError, match="schedule must be"):
        as_schedule(bad)


# ---------------------------------------------------------------- torch.optim.lr_scheduler


@pytest.mark.parametrize(("schedule", "make_scheduler"), [
    (step(4, 0.5), lambda torch, opt: torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)),
    (step(1, 0.9), lambda torch, opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.9)),
    (exponential(0.05),
     lambda torch, opt: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=math.exp(-0.05))),
], ids=["StepLR-4", "StepLR-1", "ExponentialLR"])
def test_rates_match_torch_schedulers(schedule, make_scheduler):
    torch = pytest.importorskip("torch")
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = torch.optim.SGD([p], lr=0.1)
    scheduler = make_scheduler(torch, optimizer)
    for t in range(40):
        # torch multiplies the rate step by step (chainable form): equal up to rounding
        assert schedule(t, 0.1) == pytest.approx(optimizer.param_groups[0]["lr"], rel=1e-12), t
        optimizer.step()
        scheduler.step()
