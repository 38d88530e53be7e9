"""Training settings of a model file: optimizer, schedule, ``[train]`` and ``[init]``.

Each is built from a whitelisted name and plain values (numbers, booleans,
strings, lists of numbers), checked against what the target accepts, so a
typo or a wrong type is reported with the key at fault.
"""

from __future__ import annotations

import dataclasses
import inspect
import math

import sympy as sp

from ..errors import DeclarationError
from ..optim import OPTIMIZERS
from ..optim import schedules as _schedules
from ..optim.base import Optimizer

__all__ = ["build_optimizer", "build_schedule", "check_train", "check_init", "kind", "SCHEDULES",
           "TRAIN_KEYS", "DATA_ONLY_KEYS"]

#: Built-in schedules by name.
SCHEDULES = {"constant": _schedules.constant, "step": _schedules.step,
             "exponential": _schedules.exponential, "inverse_time": _schedules.inverse_time}

#: ``[train]`` keys and what each must be.
TRAIN_KEYS = {"epochs": "count", "batch_size": "count", "max_iter": "count", "seed": "seed",
              "shuffle": "bool", "tol": "nonnegative", "ftol": "nonnegative", "time_limit": "nonnegative"}
#: Keys that only make sense with data (``sg.fit``), not for ``sg.minimize``.
DATA_ONLY_KEYS = ("epochs", "batch_size", "seed", "shuffle")

_OPTIMIZERS = {name.lower(): cls for name, cls in OPTIMIZERS.items()} | {"sgd": OPTIMIZERS["GD"]}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def kind(value) -> str:
    """What a TOML value is, for messages: ``a string``, ``an integer``, ..."""
    kinds = {bool: "a boolean", str: "a string", list: "a list", dict: "a table", int: "an integer",
             float: "a number"}
    return kinds.get(type(value), f"a {type(value).__name__}")


def build_optimizer(options: dict, where: str = "[optimizer]") -> Optimizer:
    """An optimizer from ``{"name": "adam", "lr": 0.01, ...}``; names are case-insensitive."""
    options = dict(options)
    name = options.pop("name", None)
    if not isinstance(name, str):
        raise DeclarationError(f"{where}: name must be the optimizer's name, one of "
                               f"{', '.join(OPTIMIZERS)}; got {name!r}")
    cls = _OPTIMIZERS.get(name.lower())
    if cls is None:
        raise DeclarationError(f"{where}: unknown optimizer '{name}'; the optimizers are "
                               f"{', '.join(OPTIMIZERS)} (and SGD = GD)")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    kwargs = {}
    for key, value in options.items():
        if key not in fields:
            raise DeclarationError(f"{where}: {cls.__name__} has no option '{key}'; its options are "
                                   f"{', '.join(fields)}")
        kwargs[key] = _option(value, fields[key].default, f"{where} {key}")
    try:
        return cls(**kwargs)
    except DeclarationError as err:
        raise DeclarationError(f"{where}: {err}") from None


def _option(value, default, where: str):
    """``value`` converted to the type of the option's default, or an error naming the key."""
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        expected = "true or false"
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        expected = "an integer"
    elif isinstance(default, float):
        if _is_number(value):
            return float(value)
        expected = "a number"
    elif isinstance(default, str):
        if isinstance(value, str):
            return value
        expected = "a string"
    elif isinstance(default, tuple):
        if isinstance(value, list) and len(value) == len(default) and all(map(_is_number, value)):
            return tuple(float(v) for v in value)
        expected = f"a list of {len(default)} numbers"
    else:  # pragma: no cover - every built-in option has one of the types above
        raise DeclarationError(f"{where}: this option cannot be set from a model file")
    raise DeclarationError(f"{where} must be {expected}, got {kind(value)}: {value!r}")


def build_schedule(options: dict, where: str = "[schedule]"):
    """A learning-rate schedule from ``{"name": "exponential", "k": 0.01}``."""
    options = dict(options)
    name = options.pop("name", None)
    factory = SCHEDULES.get(name) if isinstance(name, str) else None
    if factory is None:
        raise DeclarationError(f"{where}: unknown schedule {name!r}; the schedules are "
                               f"{', '.join(SCHEDULES)}")
    parameters = inspect.signature(factory).parameters
    for key, value in options.items():
        if key not in parameters:
            raise DeclarationError(f"{where}: schedule '{name}' has no option '{key}'; its options are "
                                   f"{', '.join(parameters) or '(none)'}")
        wants_int = parameters[key].annotation in ("int", int)
        if (not isinstance(value, int) or isinstance(value, bool)) if wants_int else not _is_number(value):
            raise DeclarationError(f"{where} {key} must be {'an integer' if wants_int else 'a number'}, "
                                   f"got {kind(value)}: {value!r}")
    missing = [k for k, p in parameters.items() if p.default is inspect.Parameter.empty and k not in options]
    if missing:
        raise DeclarationError(f"{where}: schedule '{name}' needs {', '.join(missing)}")
    try:
        return factory(**options)
    except DeclarationError as err:
        raise DeclarationError(f"{where}: {err}") from None


def check_train(settings: dict, data: bool, where: str = "[train]") -> dict:
    """The ``[train]`` settings as keyword arguments of ``sg.fit`` (``data``) or ``sg.minimize``."""
    out = {}
    for key, value in settings.items():
        rule = TRAIN_KEYS.get(key)
        if rule is None:
            table = {"optimizer": "optimizer", "lr": "optimizer", "schedule": "schedule"}.get(key)
            hint = f" (the {table} has its own table: [{table}])" if table else ""
            raise DeclarationError(f"{where}: unknown setting '{key}'{hint}; the settings are "
                                   f"{', '.join(TRAIN_KEYS)}")
        if key in DATA_ONLY_KEYS and not data:
            raise DeclarationError(f"{where} {key}: this model has no inputs or targets (a data-free "
                                   "objective, run by sg.minimize): no epochs, batches or shuffling")
        integer = isinstance(value, int) and not isinstance(value, bool)
        valid = {"count": integer and value >= 1,
                 "seed": integer and value >= 0,
                 "bool": isinstance(value, bool),
                 "nonnegative": _is_number(value) and math.isfinite(value) and value >= 0}[rule]
        if not valid:
            expected = {"count": "an integer >= 1", "seed": "an integer >= 0", "bool": "true or false",
                        "nonnegative": "a finite number >= 0"}[rule]
            raise DeclarationError(f"{where} {key} must be {expected}, got {kind(value)}: {value!r}")
        out[key] = value
    return out


def check_init(values: dict, params: list[sp.Symbol], where: str = "[init]") -> dict[sp.Symbol, float]:
    """``{name: number}`` for every parameter, as ``{symbol: float}`` in the order of ``params``."""
    by_name = {str(p): p for p in params}
    unknown = [name for name in values if name not in by_name]
    if unknown:
        raise DeclarationError(f"{where}: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not "
                               f"a parameter; the parameters are {', '.join(by_name)}")
    missing = [name for name in by_name if name not in values]
    if missing:
        raise DeclarationError(f"{where}: no initial value for {', '.join(missing)}; "
                               "give every parameter one")
    for name, value in values.items():
        if not (_is_number(value) and math.isfinite(value)):
            raise DeclarationError(f"{where} {name} must be a finite number, got {kind(value)}: {value!r}")
    return {by_name[name]: float(values[name]) for name in by_name}
