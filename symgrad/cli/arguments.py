"""Reading command-line values: names, ``name=value`` lists, expressions, models, points.

Nothing here evaluates user text: numbers go through ``float`` and
expressions through the restricted parser of :mod:`symgrad.files.parse`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import sympy as sp

from ..errors import DeclarationError
from ..files import load_model, parse_expression
from ..files.grammar import MAX_LENGTH, RESERVED

__all__ = ["names", "assignments", "expression", "is_model_file", "model_file", "point"]

MODEL_SUFFIXES = (".toml", ".py")


def names(text: str, option: str) -> list[str]:
    """``"x,y"`` → ``["x", "y"]``."""
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isidentifier() for part in parts):
        raise DeclarationError(f"{option} takes comma-separated names, got {text!r}")
    return parts


def assignments(text: str | None, option: str = "--at") -> dict[str, float]:
    """``"x=3,y=-4"`` → ``{"x": 3.0, "y": -4.0}``."""
    if not text:
        return {}
    values = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise DeclarationError(f"{option} takes name=value pairs separated by commas, got {part!r}")
        try:
            values[name] = float(value)
        except ValueError:
            raise DeclarationError(f"{option}: the value of {name} must be a number, got {value.strip()!r}") \
                from None
    return values


def expression(text: str, extra: list[str] = ()) -> tuple[sp.Expr, dict[str, sp.Symbol]]:
    """An expression and its symbols: every name that is not a function or constant
    of the expression language is a symbol (the restricted parser then checks the rest)."""
    if len(text) > MAX_LENGTH:
        raise DeclarationError(f"the expression has {len(text)} characters; at most {MAX_LENGTH} are allowed")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        tree = None  # parse_expression reports the syntax error with its position
    found = [] if tree is None else [node.id for node in ast.walk(tree) if isinstance(node, ast.Name)]
    wanted = dict.fromkeys([*extra, *(n for n in found if n not in RESERVED)])
    symbols = {name: sp.Symbol(name) for name in wanted if not name.startswith("__")}
    return parse_expression(text, symbols), symbols


def is_model_file(text: str) -> bool:
    return Path(text).suffix in MODEL_SUFFIXES and Path(text).is_file()


def model_file(path: str, data: str | None = None):
    """The loaded model file; ``data`` (a ``--data`` option) replaces the file's data file."""
    if Path(path).suffix not in MODEL_SUFFIXES:
        raise DeclarationError(f"{path}: a model file is a .toml (declarative) or .py (trusted code) file")
    loaded = load_model(path)
    if data is not None:
        if not (loaded.model.inputs or loaded.model.targets):
            raise DeclarationError(f"{path} is a data-free objective; --data does not apply")
        loaded.data = Path(data)
    return loaded


def point(loaded, at: str | None, params_file: str | None, rng_seed: int | None = 0) -> np.ndarray:
    """The parameters to work at: ``--at`` values, else a ``--params`` file written by
    ``symgrad train --out``, else the file's ``[init]``, else N(0, 0.1²) seeded."""
    model = loaded.model
    by_name = {str(p): p for p in model.params}
    if params_file:
        with np.load(params_file, allow_pickle=False) as saved:
            if "theta" not in saved:
                raise DeclarationError(f"{params_file}: expected the array 'theta' "
                                       "(from symgrad train --out)")
            theta = np.array(saved["theta"], dtype=np.float64)
        if theta.shape != (len(model.params),):
            raise DeclarationError(f"{params_file}: theta has shape {theta.shape}, the model has "
                                   f"{len(model.params)} parameters")
    elif loaded.x0 is not None:
        theta = np.array([loaded.x0[p] for p in model.params], dtype=np.float64)
    else:
        theta = np.random.default_rng(rng_seed).normal(0.0, 0.1, len(model.params))
    for name, value in assignments(at).items():
        if name not in by_name:
            raise DeclarationError(f"--at: {name} is not a parameter; the parameters are {list(by_name)}")
        theta[list(by_name).index(name)] = value
    return theta
