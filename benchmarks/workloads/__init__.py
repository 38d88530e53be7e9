"""The workloads: one module each, found by name.

A workload is a module ``benchmarks/workloads/<name>.py`` defining

``TITLE``
    one line naming what is measured;
``COLUMNS``
    ``(header, cell)`` pairs, ``cell(row) -> str``, for the printed and
    Markdown tables;
``run(settings, **options) -> list[dict]``
    the measurements, one JSON-ready dict per table row. A row may carry
    ``answers_equal``; a ``False`` there fails the run.

The module docstring is the description shown in the Markdown summary.
Adding a workload means adding its module; nothing else is registered.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

__all__ = ["available", "load"]


def available() -> list[str]:
    """Names of all workload modules, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def load(name: str) -> ModuleType:
    if name not in available():
        raise KeyError(f"no workload {name!r}; available: {', '.join(available())}")
    return importlib.import_module(f"{__name__}.{name}")
