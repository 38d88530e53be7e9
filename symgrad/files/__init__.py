"""Model files: declarative TOML models with a restricted expression parser, and data files.

* :func:`load_model` reads a ``.toml`` (declarative, nothing executed) or ``.py``
  (trusted code) model file into a :class:`ModelFile`.
* :func:`parse_expression` turns an expression string into SymPy through a
  whitelist of syntax and names, never through ``eval``.
* :func:`load_data` reads a model's samples from CSV or NPZ by symbol name.
"""

from __future__ import annotations

from .data import load_data
from .grammar import CONSTANTS, FUNCTIONS
from .modelfile import ModelFile, load_model
from .parse import parse_expression

__all__ = ["ModelFile", "load_model", "load_data", "parse_expression", "FUNCTIONS", "CONSTANTS"]
