"""Learning-rate schedules (``sg.schedules``); see :mod:`symgrad.optim.schedules`."""

from .optim.schedules import Schedule, constant, exponential, inverse_time, step

__all__ = ["Schedule", "constant", "step", "exponential", "inverse_time"]
