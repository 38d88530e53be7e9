"""Training data from CSV and NPZ files, matched to a model's inputs and targets by name.

* **CSV**: a header row names the columns; every input and target symbol of
  the model needs a column of its name; other columns are ignored (ids,
  notes, features the model does not use). One sample per row, numbers only.
* **NPZ** (``numpy.savez``): either one array per symbol name (each of shape
  ``(n,)``), or arrays ``X`` of shape ``(n, n_inputs)`` and ``T`` of shape
  ``(n, n_targets)`` (``(n,)`` when there is one column), in the order the
  model declares its inputs and targets.

Every value must be finite; errors name the file, the column and the row.
"""

from __future__ import annotations

import csv
import math
import zipfile
from pathlib import Path

import numpy as np

from ..errors import DeclarationError, EvaluationError, ShapeError

__all__ = ["load_data", "FORMATS"]

#: File suffixes :func:`load_data` reads.
FORMATS = (".csv", ".npz")


def load_data(path, model) -> tuple[np.ndarray, np.ndarray]:
    """Read the samples of ``model`` from a CSV or NPZ file.

    Args:
        path: a ``.csv`` or ``.npz`` file.
        model: a :class:`symgrad.Model` (or a loaded model file); its inputs and
            targets say which columns to read, and in which order.

    Returns:
        ``(X, T)``: float64, C-contiguous, shapes ``(n, n_inputs)`` and ``(n, n_targets)``,
        ready for ``sg.fit(model, X, T)``.

    Raises:
        DeclarationError: the file is missing or of an unknown format, or the model has no data symbols.
        ShapeError: a column is missing, rows are ragged, arrays disagree in shape.
        EvaluationError: a value is not a finite number (naming its column and row).
    """
    model = getattr(model, "model", model)  # a ModelFile stands for its model
    inputs = [str(s) for s in getattr(model, "inputs", ())]
    targets = [str(s) for s in getattr(model, "targets", ())]
    if not hasattr(model, "params"):
        raise DeclarationError(f"load_data needs a symgrad Model, got {model!r}")
    if not inputs and not targets:
        raise DeclarationError("this model has no inputs or targets, so it reads no data "
                               "(a data-free objective: use sg.minimize)")
    path = Path(path)
    if not path.is_file():
        raise DeclarationError(f"data file {path} not found")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        columns = _read_csv(path, inputs + targets)
    elif suffix == ".npz":
        columns = _read_npz(path, inputs, targets)
    else:
        raise DeclarationError(f"data file {path}: unknown format '{path.suffix}'; "
                               f"expected one of {', '.join(FORMATS)}")
    n = len(next(iter(columns.values())))
    if n == 0:
        raise ShapeError(f"data file {path} has no samples")
    X = _stack(columns, inputs, n)
    T = _stack(columns, targets, n)
    return X, T


def _stack(columns: dict[str, np.ndarray], names: list[str], n: int) -> np.ndarray:
    out = np.empty((n, len(names)), dtype=np.float64)
    for k, name in enumerate(names):
        out[:, k] = columns[name]
    return out


# -- CSV ----------------------------------------------------------------------------
def _read_csv(path: Path, wanted: list[str]) -> dict[str, np.ndarray]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = csv.reader(handle)
        header = next(rows, None)
        if header is None:
            raise ShapeError(f"data file {path} is empty; expected a header row naming the columns")
        header = [name.strip() for name in header]
        index = _header_index(path, header, wanted)
        values: dict[str, list[float]] = {name: [] for name in wanted}
        for row in rows:
            if not row or all(not cell.strip() for cell in row):
                continue  # blank lines
            line = rows.line_num
            if len(row) != len(header):
                raise ShapeError(f"data file {path}, line {line}: {len(row)} values, but the header "
                                 f"names {len(header)} columns")
            for name in wanted:
                values[name].append(_number(path, row[index[name]], name, line))
    return {name: np.array(column, dtype=np.float64) for name, column in values.items()}


def _header_index(path: Path, header: list[str], wanted: list[str]) -> dict[str, int]:
    seen: dict[str, int] = {}
    for k, name in enumerate(header):
        if name in seen and name in wanted:
            raise ShapeError(f"data file {path}: column '{name}' appears twice in the header")
        seen.setdefault(name, k)
    missing = [name for name in wanted if name not in seen]
    if missing:
        raise ShapeError(f"data file {path} has no column {', '.join(repr(m) for m in missing)}; "
                         f"the header names {', '.join(header)}; the model needs a column for each of "
                         f"{', '.join(wanted)}")
    return {name: seen[name] for name in wanted}


def _number(path: Path, cell: str, name: str, line: int) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise EvaluationError(f"data file {path}, line {line}, column '{name}': "
                              f"{cell.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise EvaluationError(f"data file {path}, line {line}, column '{name}': the value {cell.strip()!r} "
                              "is not finite")
    return value


# -- NPZ ----------------------------------------------------------------------------
def _read_npz(path: Path, inputs: list[str], targets: list[str]) -> dict[str, np.ndarray]:
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise DeclarationError(f"data file {path} is not a readable .npz archive: {err}") from None
    with archive:
        keys = set(archive.files)
        wanted = inputs + targets
        if all(name in keys for name in wanted):
            columns = {name: _column(path, archive, name) for name in wanted}
        elif ("X" in keys or not inputs) and ("T" in keys or not targets):
            columns = {}
            for key, names in (("X", inputs), ("T", targets)):
                if names:
                    columns.update(_split(path, archive, key, names))
        else:
            missing = [name for name in wanted if name not in keys]
            raise ShapeError(f"data file {path} holds arrays {', '.join(sorted(keys)) or '(none)'}; "
                             f"expected arrays X (inputs {', '.join(inputs) or 'none'}) and T "
                             f"(targets {', '.join(targets) or 'none'}), or one array per symbol "
                             f"(missing {', '.join(missing)})")
    lengths = {name: len(column) for name, column in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ShapeError(f"data file {path}: the arrays have different numbers of samples: "
                         + ", ".join(f"{name}: {n}" for name, n in lengths.items()))
    return columns


def _numeric(path: Path, archive, key: str) -> np.ndarray:
    try:
        array = archive[key]
    except ValueError as err:  # object arrays need pickle, which is never allowed
        raise DeclarationError(f"data file {path}: array '{key}' cannot be read without pickle "
                               f"({err})") from None
    if array.dtype.kind not in "biuf":
        raise ShapeError(f"data file {path}: array '{key}' has dtype {array.dtype}; expected numbers")
    return array.astype(np.float64)


def _column(path: Path, archive, name: str) -> np.ndarray:
    array = _numeric(path, archive, name)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ShapeError(f"data file {path}: array '{name}' has shape {array.shape}; expected (n_samples,)")
    _check_finite(path, array, name)
    return array


def _split(path: Path, archive, key: str, names: list[str]) -> dict[str, np.ndarray]:
    array = _numeric(path, archive, key)
    if array.ndim == 1 and len(names) == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2 or array.shape[1] != len(names):
        raise ShapeError(f"data file {path}: array '{key}' has shape {array.shape}; expected "
                         f"(n_samples, {len(names)}) for {', '.join(names)}")
    columns = {name: array[:, k] for k, name in enumerate(names)}
    for name, column in columns.items():
        _check_finite(path, column, f"{key}[:, {names.index(name)}] ({name})")
    return columns


def _check_finite(path: Path, array: np.ndarray, what: str) -> None:
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise EvaluationError(f"data file {path}: array {what} has the non-finite value {array[bad[0]]} "
                              f"in sample {int(bad[0])}")
