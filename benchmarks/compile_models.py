"""The networks of the ``compile`` workload, the data of their first gradient call, and their layout.

A model is named as in the table: ``"2-16-16-1"`` is the scalar-symbol
sigmoid network of :func:`benchmarks.models.mlp` (squared error), and
:data:`DIGITS` the 64-32-10 network in matrix form with tanh hidden units and
softmax cross-entropy on the logits, declared as in ``examples/mlp_digits.py``.
On a child's command line the names read ``2,16,16,1`` and ``digits``
(:func:`argument`, :func:`from_argument`).

The parent draws each model's first-call data once (:func:`first_call_data`)
and hands the same ``.npz`` file to every child, symgrad's and the peers',
so their losses and gradients can be compared. :func:`layers` splits a flat
``theta`` in symgrad's order into one ``(W, b)`` pair per layer, ``W`` of
shape ``(n_out, n_in)``, and :func:`flatten` puts per-layer gradients back
into that order. symgrad's order is, layer by layer, the rows of ``[W | b]``
for the scalar networks (each unit's weights, then its bias) and ``W``
row-major followed by ``b`` for the matrix one.

Only :func:`declare` and :func:`first_call_data` import symgrad, so a peer's
child can use the rest without loading it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["DIGITS", "N_ROWS", "sizes", "is_digits", "argument", "from_argument", "n_params", "declare",
           "first_call_data", "save", "load", "layers", "flatten"]

DIGITS = "digits 64-32-10"
DIGITS_SIZES = (64, 32, 10)
#: Rows of data in the first ``loss_and_grad`` call.
N_ROWS = 4


def is_digits(model: str) -> bool:
    return model == DIGITS


def sizes(model: str) -> tuple[int, ...]:
    """Layer widths: ``"2-4-1"`` -> ``(2, 4, 1)``."""
    return DIGITS_SIZES if is_digits(model) else tuple(int(s) for s in model.split("-"))


def argument(model: str) -> str:
    return "digits" if is_digits(model) else ",".join(map(str, sizes(model)))


def from_argument(text: str) -> str:
    return DIGITS if text == "digits" else "-".join(str(int(s)) for s in text.split(","))


def n_params(model: str) -> int:
    widths = sizes(model)
    return sum((n_in + 1) * n_out for n_in, n_out in zip(widths[:-1], widths[1:], strict=True))


def declare(model: str) -> tuple:
    """``(loss, params, inputs, targets)``: the arguments of ``symgrad.Model`` for ``model``."""
    if is_digits(model):
        import symgrad as sg

        net = sg.nn.mlp(list(DIGITS_SIZES), activation="tanh")
        y = sg.Target("y", DIGITS_SIZES[-1])
        return sg.nn.cross_entropy(net.output, y), net.params, [net.x], [y]
    from .models import mlp

    net = mlp(sizes(model))
    return net.loss, net.params, list(net.inputs), list(net.targets)


def first_call_data(model: str, seed: int) -> dict[str, np.ndarray]:
    """``theta``, ``X`` and ``T`` of the first gradient call, ``N_ROWS`` rows, float64.

    The scalar networks get standard normal parameters and inputs and targets
    uniform in [0, 1); the digits network ``model.init_params(seed=0)`` (as in
    the ``mlp_digits`` workload), pixels uniform in [0, 1) and one-hot targets.
    """
    rng = np.random.default_rng(seed)
    widths = sizes(model)
    X = rng.uniform(size=(N_ROWS, widths[0])) if is_digits(model) else rng.normal(size=(N_ROWS, widths[0]))
    if is_digits(model):
        import symgrad as sg

        loss, params, inputs, targets = declare(model)
        net = sg.Model(loss=loss, params=params, inputs=inputs, targets=targets)
        theta = np.asarray(net.init_params(seed=0), dtype=np.float64)
        T = np.eye(widths[-1])[rng.integers(0, widths[-1], size=N_ROWS)]
    else:
        theta = rng.normal(size=n_params(model))
        T = rng.uniform(size=(N_ROWS, widths[-1]))
    return {"theta": theta, "X": X, "T": T}


def save(path: Path, data: dict[str, np.ndarray]) -> None:
    np.savez(path, **data)


def load(path: Path | str) -> dict[str, np.ndarray]:
    with np.load(path) as archive:
        return {key: np.ascontiguousarray(archive[key], dtype=np.float64) for key in ("theta", "X", "T")}


def layers(model: str, theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(W, b), ...]`` copies, ``W`` of shape ``(n_out, n_in)``, read from ``theta`` in symgrad's order."""
    widths, offset, out = sizes(model), 0, []
    for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
        block = theta[offset: offset + (n_in + 1) * n_out]
        offset += block.size
        if is_digits(model):
            out.append((block[: n_in * n_out].reshape(n_out, n_in).copy(), block[n_in * n_out:].copy()))
        else:
            rows = block.reshape(n_out, n_in + 1)
            out.append((rows[:, :n_in].copy(), rows[:, n_in].copy()))
    if offset != theta.size:
        raise ValueError(f"theta has {theta.size} entries; {model} has {offset}")
    return out


def flatten(model: str, grads: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """The inverse of :func:`layers`: per-layer ``(dW, db)`` as one vector in symgrad's order."""
    blocks = []
    for dW, db in grads:
        dW, db = np.asarray(dW, dtype=np.float64), np.asarray(db, dtype=np.float64)
        if is_digits(model):
            blocks += [dW.ravel(), db.ravel()]
        else:
            blocks.append(np.column_stack([dW, db]).ravel())
    return np.concatenate(blocks)
