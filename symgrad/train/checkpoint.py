"""Checkpoints: everything a run needs to continue exactly where it stopped.

A checkpoint is an ``.npz`` file with the parameters, the optimizer state,
the step/epoch/batch position, the shuffling seed and the history so far.
Shuffling draws each epoch's order from a generator seeded by (seed, epoch),
so the seed and the position are the whole random state. Files are written
to a temporary name and renamed, so a crash never leaves half a checkpoint.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..compile.cache import write_atomically
from ..errors import DeclarationError
from .result import History

__all__ = ["Checkpoint", "save_checkpoint", "load_checkpoint"]

_FORMAT = 1


@dataclass
class Checkpoint:
    theta: np.ndarray
    state_names: tuple[str, ...]
    state_arrays: np.ndarray
    state_step: int
    step: int
    epoch: int
    batch: int
    seed: int
    optimizer: str
    model: str
    explode: float
    elapsed: float
    history: History


def save_checkpoint(path, checkpoint: Checkpoint) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = {f"history_{name}": values for name, values in checkpoint.history.to_dict().items()}
    arrays = dict(format=_FORMAT, theta=checkpoint.theta, state_arrays=checkpoint.state_arrays,
                  state_names=np.array(checkpoint.state_names, dtype=str),
                  counters=np.array([checkpoint.state_step, checkpoint.step, checkpoint.epoch,
                                     checkpoint.batch], dtype=np.int64),
                  seed=np.array(str(checkpoint.seed)), optimizer=np.array(checkpoint.optimizer),
                  model=np.array(checkpoint.model),
                  floats=np.array([checkpoint.explode, checkpoint.elapsed]), **fields)
    write_atomically(path, lambda handle: np.savez(handle, **arrays), binary=True)


def load_checkpoint(path) -> Checkpoint:
    path = Path(path)
    if not path.exists():
        raise DeclarationError(f"checkpoint {str(path)!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            if int(data["format"]) != _FORMAT:
                raise DeclarationError(f"checkpoint {str(path)!r} has format {int(data['format'])}, "
                                       f"this symgrad reads format {_FORMAT}")
            state_step, step, epoch, batch = (int(v) for v in data["counters"])
            explode, elapsed = (float(v) for v in data["floats"])
            history = History(**{name: data[f"history_{name}"] for name in History.__dataclass_fields__})
            return Checkpoint(theta=data["theta"], state_names=tuple(str(s) for s in data["state_names"]),
                              state_arrays=data["state_arrays"], state_step=state_step, step=step,
                              epoch=epoch, batch=batch, seed=int(str(data["seed"])),
                              optimizer=str(data["optimizer"]), model=str(data["model"]), explode=explode,
                              elapsed=elapsed, history=history)
    except (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise DeclarationError(f"{str(path)!r} is not a symgrad checkpoint: {error}") from error
