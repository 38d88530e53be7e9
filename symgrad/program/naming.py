"""Names of program temporaries that cannot collide with the user's symbols."""

from __future__ import annotations

import re
from collections.abc import Iterable

import sympy as sp

__all__ = ["TemporaryNamer"]


class TemporaryNamer:
    """Hands out temporaries ``v12``, ``d12``, ``c3`` ... for a program.

    If a user symbol already looks like a temporary of some kind (say ``v1``),
    that kind's prefix gets underscores appended until no name can clash.
    """

    def __init__(self, taken: Iterable[str]):
        self._taken = set(taken)
        self._prefixes: dict[str, str] = {}
        self._counter = 0

    def _prefix(self, kind: str) -> str:
        if kind not in self._prefixes:
            prefix = kind
            while any(re.fullmatch(re.escape(prefix) + r"[0-9_]+", n) for n in self._taken):
                prefix += "_"
            self._prefixes[kind] = prefix
        return self._prefixes[kind]

    def __call__(self, kind: str, *indices: int) -> sp.Symbol:
        """The temporary of ``kind`` for the given indices (node ids, outputs)."""
        return sp.Symbol(self._prefix(kind) + "_".join(map(str, indices)), real=True)

    def fresh(self, kind: str = "c") -> sp.Symbol:
        """A new numbered temporary of ``kind``."""
        self._counter += 1
        return self(kind, self._counter)
