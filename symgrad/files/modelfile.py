"""Model files: a model, its data and its training settings, declared in TOML (or Python).

A TOML model file declares symbols by name and every expression as a string
read by the restricted parser (:mod:`symgrad.files.parse`); nothing in it is
executed. A Python model file is trusted code and is run. The schema is in
``docs/model-files.md``; in short::

    [model]      params, inputs, targets, loss, regularizer, outputs, name, description
    [define]     name = "expression", in order; each sees the symbols and earlier definitions
    [data]       path (relative to the model file)
    [init]       one number per parameter
    [optimizer]  name = "Adam" and its options
    [schedule]   name = "exponential" and its arguments
    [train]      epochs, batch_size, max_iter, tol, ftol, seed, shuffle, time_limit
"""

from __future__ import annotations

import keyword
import runpy
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sympy as sp

from ..errors import DeclarationError, ParseError, ShapeError, UnsupportedOperationError
from ..model import Model
from ..optim.base import Optimizer
from ..optim.schedules import Schedule
from ..train.driver import fit, minimize
from .data import load_data
from .grammar import CONSTANTS, RESERVED
from .parse import parse_expression
from .settings import TRAIN_KEYS, build_optimizer, build_schedule, check_init, check_train, kind

__all__ = ["ModelFile", "load_model", "SECTIONS", "MODEL_KEYS"]

#: The tables of a TOML model file.
SECTIONS = ("model", "define", "data", "init", "optimizer", "schedule", "train")
#: The keys of ``[model]``.
MODEL_KEYS = ("name", "description", "params", "inputs", "targets", "loss", "regularizer", "outputs")
#: What a Python model file may define (``model`` is required).
PYTHON_NAMES = ("model", "data", "optimizer", "schedule", "fit_settings", "x0")


@dataclass
class ModelFile:
    """A loaded model file: the model and what the file says about training it.

    Attributes:
        path: the model file.
        model: the :class:`symgrad.Model`.
        symbols: every declared symbol, by name.
        definitions: the ``[define]`` expressions, by name, in order.
        data: the data file (resolved relative to the model file), ``(X, T)`` arrays
            from a Python model file, or ``None``.
        optimizer: a :mod:`symgrad.optim` optimizer, or ``None`` (``sg.fit``'s default, Adam).
        schedule: a learning-rate schedule, or ``None`` (constant).
        fit_settings: the ``[train]`` settings, keyword arguments of ``sg.fit``/``sg.minimize``.
        x0: initial parameter values ``{symbol: value}``, or ``None``.
        name, description: free text from ``[model]`` (or the Python file's docstring).
    """

    path: Path
    model: Model
    symbols: dict[str, sp.Symbol]
    definitions: dict[str, sp.Expr] = field(default_factory=dict)
    data: Path | tuple | None = None
    optimizer: Optimizer | None = None
    schedule: object = None
    fit_settings: dict = field(default_factory=dict)
    x0: dict[sp.Symbol, float] | None = None
    name: str | None = None
    description: str | None = None

    @property
    def names(self) -> dict[sp.Expr, str]:
        """``{expression: name}`` of the definitions, for ``model.explain(param, names=...)``."""
        return {expr: name for name, expr in self.definitions.items() if not isinstance(expr, sp.Symbol)}

    def load_data(self) -> tuple[np.ndarray, np.ndarray]:
        """The samples ``(X, T)`` from the data file (see :func:`symgrad.load_data`)."""
        if self.data is None:
            raise DeclarationError(f"{self.path}: no data file; add [data] path = \"...\" or pass X and T "
                                   "to sg.fit yourself")
        if isinstance(self.data, tuple):
            return self.data
        return load_data(self.data, self.model)

    def training_arguments(self) -> dict:
        """``optimizer``, ``schedule`` and the ``[train]`` settings, as keyword arguments."""
        extra = {"optimizer": self.optimizer, "schedule": self.schedule}
        return {**{k: v for k, v in extra.items() if v is not None}, **self.fit_settings}

    def run(self, **overrides):
        """Train as the file says: ``sg.fit`` on its data, or ``sg.minimize`` from ``x0`` for a
        data-free objective. Keyword arguments override the file's settings."""
        arguments = {**self.training_arguments(), **overrides}
        if self.model.inputs or self.model.targets:
            X, T = self.load_data()
            if self.x0 is not None:
                arguments.setdefault("theta0", self.x0)
            return fit(self.model, X, T, **arguments)
        x0 = arguments.pop("x0", self.x0)
        if x0 is None:
            raise DeclarationError(f"{self.path}: a data-free objective starts from [init] values; "
                                   "add an [init] table or pass x0=...")
        return minimize(self.model, x0, **arguments)

    def __repr__(self) -> str:
        parts = [f"{self.path}", repr(self.model)]
        if self.data is not None:
            parts.append(f"data={self.data if isinstance(self.data, Path) else '(X, T)'}")
        if self.optimizer is not None:
            parts.append(f"optimizer={self.optimizer!r}")
        return f"ModelFile({', '.join(parts)})"


def load_model(path) -> ModelFile:
    """Load a model file: TOML (declarative, parsed without executing anything) or Python (trusted code).

    >>> import symgrad as sg
    >>> mf = sg.load_model("examples/models/rosenbrock.toml")
    >>> mf.model
    Model(loss=(1 - x)**2 + 100*(-x**2 + y)**2, params=[x, y])
    >>> mf.x0
    {x: -1.5, y: 2.0}
    """
    path = Path(path)
    if not path.is_file():
        raise DeclarationError(f"model file {path} not found")
    suffix = path.suffix.lower()
    if suffix == ".toml":
        return _from_toml(path)
    if suffix == ".py":
        return _from_python(path)
    raise DeclarationError(f"model file {path}: expected a .toml or .py file, got '{path.suffix}'")


# -- TOML ---------------------------------------------------------------------------
def _from_toml(path: Path) -> ModelFile:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ParseError(f"{path}: not valid TOML: {err}") from None
    except UnicodeDecodeError as err:
        raise ParseError(f"{path}: not UTF-8 text ({err})") from None
    _only(document, SECTIONS, f"{path}", "table")
    for key, value in document.items():
        if not isinstance(value, dict):
            raise DeclarationError(f"{path}: '{key}' must be a table [{key}], got {kind(value)}")
    spec = document.get("model")
    if spec is None:
        raise DeclarationError(f"{path}: no [model] table; it declares params, inputs, targets and the loss")
    model, symbols, definitions = _declare_model(spec, document.get("define", {}), path)
    where = f"{path} [model]"
    has_data = bool(model.inputs or model.targets)
    mf = ModelFile(path=path, model=model, symbols=symbols, definitions=definitions,
                   fit_settings=check_train(document.get("train", {}), has_data, f"{path} [train]"),
                   name=_text(spec, "name", where), description=_text(spec, "description", where))
    if "data" in document:
        mf.data = _data_path(document["data"], path, has_data)
    if "optimizer" in document:
        mf.optimizer = build_optimizer(document["optimizer"], f"{path} [optimizer]")
    if "schedule" in document:
        mf.schedule = build_schedule(document["schedule"], f"{path} [schedule]")
    if "init" in document:
        mf.x0 = check_init(document["init"], list(model.params), f"{path} [init]")
    return mf


def _declare_model(spec: dict, defines: dict, path: Path) -> tuple[Model, dict, dict]:
    """The model of ``[model]`` and ``[define]``, its symbols and its definitions."""
    _only(spec, MODEL_KEYS, f"{path} [model]", "key")
    where = f"{path} [model]"

    symbols: dict[str, sp.Symbol] = {}
    roles = {}
    for role in ("params", "inputs", "targets"):
        roles[role] = [_declare(name, role, symbols, where) for name in _names(spec, role, where)]
    if not roles["params"]:
        raise DeclarationError(f"{where} params: declare at least one parameter")

    names: dict[str, sp.Basic] = dict(symbols)
    definitions: dict[str, sp.Expr] = {}
    for name, text in defines.items():
        _check_name(name, f"{path} [define]")
        if name in names:
            raise DeclarationError(f"{path} [define] {name}: '{name}' is already a declared symbol")
        definitions[name] = names[name] = _expression(text, names, f"{path} [define] {name}")

    if "loss" not in spec:
        raise DeclarationError(f"{where}: no loss; add loss = \"...\" (the per-sample loss)")
    loss = _expression(spec["loss"], names, f"{where} loss")
    regularizer = _expression(spec["regularizer"], names, f"{where} regularizer") \
        if "regularizer" in spec else None
    outputs = None
    if "outputs" in spec:
        texts = spec["outputs"] if isinstance(spec["outputs"], list) else [spec["outputs"]]
        outputs = [_expression(text, names, f"{where} outputs") for text in texts]
    try:
        model = Model(loss=loss, regularizer=regularizer, outputs=outputs, **roles)
    except (DeclarationError, ShapeError, UnsupportedOperationError) as err:
        raise type(err)(f"{where}: {err}") from None
    return model, symbols, definitions


def _only(table: dict, allowed, where: str, what: str) -> None:
    unknown = [key for key in table if key not in allowed]
    if unknown:
        raise DeclarationError(f"{where}: unknown {what} '{unknown[0]}'; expected "
                               f"{'one of ' if len(allowed) > 1 else ''}{', '.join(allowed)}")


def _names(spec: dict, role: str, where: str) -> list[str]:
    value = spec.get(role, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DeclarationError(f"{where} {role} must be a list of names such as [\"w1\", \"b\"], "
                               f"got {kind(value)}: {value!r}")
    return value


def _check_name(name: str, where: str) -> None:
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("__"):
        raise DeclarationError(f"{where}: '{name}' is not a valid name (letters, digits and _, "
                               "not starting with a digit or '__', not a Python keyword)")
    if unicodedata.normalize("NFKC", name) != name:
        raise DeclarationError(f"{where}: '{name}' is not in Unicode normal form NFKC; write it as "
                               f"'{unicodedata.normalize('NFKC', name)}'")
    if name in RESERVED:
        kind = "constant" if name in CONSTANTS else "function"
        raise DeclarationError(f"{where}: '{name}' is the name of a {kind} of the expression language; "
                               "choose another name")


def _declare(name: str, role: str, symbols: dict[str, sp.Symbol], where: str) -> sp.Symbol:
    _check_name(name, f"{where} {role}")
    if name in symbols:
        raise DeclarationError(f"{where} {role}: '{name}' is declared more than once")
    symbols[name] = sp.Symbol(name)
    return symbols[name]


def _expression(text, names: dict, where: str) -> sp.Expr:
    if not isinstance(text, str):
        raise DeclarationError(f"{where} must be an expression string, got {kind(text)}: {text!r}")
    return parse_expression(text, names, where=where)


def _text(spec: dict, key: str, where: str) -> str | None:
    value = spec.get(key)
    if value is not None and not isinstance(value, str):
        raise DeclarationError(f"{where} {key} must be a string, got {kind(value)}")
    return value


def _data_path(table: dict, path: Path, has_data: bool) -> Path:
    where = f"{path} [data]"
    _only(table, ("path",), where, "key")
    if not has_data:
        raise DeclarationError(f"{where}: this model has no inputs or targets, so it reads no data")
    if not isinstance(table.get("path"), str):
        raise DeclarationError(f"{where} path must be the data file's path (relative to the model file)")
    resolved = path.parent / table["path"]
    if not resolved.is_file():
        raise DeclarationError(f"{where} path: data file '{table['path']}' not found (looked for {resolved})")
    return resolved


# -- Python -------------------------------------------------------------------------
def _from_python(path: Path) -> ModelFile:
    # Trusted code, like any Python script: run it and read the names it defines.
    namespace = runpy.run_path(str(path), run_name="__symgrad_model__")
    model = namespace.get("model")
    if not isinstance(model, Model):
        raise DeclarationError(f"{path}: a Python model file must define model = sg.Model(...), "
                               f"got {kind(model) if model is not None else 'nothing'}")
    data = namespace.get("data")
    if isinstance(data, (str, Path)):
        data = path.parent / data
        if not data.is_file():
            raise DeclarationError(f"{path} data: data file {data} not found")
    elif data is not None and not (isinstance(data, tuple) and len(data) == 2):
        raise DeclarationError(f"{path} data must be a file path or a pair (X, T), got {kind(data)}")
    optimizer = namespace.get("optimizer")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise DeclarationError(f"{path} optimizer must be a symgrad.optim optimizer, got {optimizer!r}")
    schedule = namespace.get("schedule")
    if schedule is not None and not (isinstance(schedule, Schedule) or callable(schedule)):
        raise DeclarationError(f"{path} schedule must be a schedule or a callable of the step, "
                               f"got {schedule!r}")
    settings = namespace.get("fit_settings") or {}
    if not isinstance(settings, dict):
        raise DeclarationError(f"{path} fit_settings must be a dict with keys among {', '.join(TRAIN_KEYS)}")
    x0 = namespace.get("x0")
    if x0 is not None:
        if not isinstance(x0, dict):
            raise DeclarationError(f"{path} x0 must be a dict {{symbol or name: value}}, got {kind(x0)}")
        x0 = check_init({str(k): v for k, v in x0.items()}, list(model.params), f"{path} x0")
    doc = (namespace.get("__doc__") or "").strip()
    return ModelFile(
        path=path, model=model, symbols={str(s): s for s in model.roles}, data=data, optimizer=optimizer,
        schedule=schedule, fit_settings=check_train(settings, bool(model.inputs or model.targets),
                                                    f"{path} fit_settings"),
        x0=x0, name=doc.splitlines()[0] if doc else None, description=doc or None,
    )
