"""Per-sample lines rewritten as calls of the straight-line helpers.

:mod:`symgrad.codegen.unrolled` explains why: numba's compile time goes with
the number of operations in a function, and a scalar network's gradient is
mostly long parameter-times-value sums and gradient entries that are one
product. :class:`Packer` finds them:

* a sum with at least ``MIN_TERMS`` terms ``θ_i · v`` (one parameter times
  a parameter-free value) becomes ``_dot(weights, (v, ...), "k,...")`` plus
  whatever else the sum had (a bias, say), where ``weights`` holds the
  parameters every dot product of the function reads (:meth:`Packer.gathered`)
  and ``k`` is the position of ``θ_i`` in it;
* the gradient entries (``row[r] = e``) become one ``_store(row, (f, ...),
  "r:a:b,...")``, where ``e`` is the product of two factors ``f[a] · f[b]``
  or else one factor; equal factors are passed once, so a layer's weight
  gradient, an outer product of deltas and activations, passes each once.

Each call is a symbol in the rewritten expressions; :meth:`Packer.name_calls`
tells the printer what text it prints as.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from .unrolled import dot_layout, store_layout

__all__ = ["Packer", "MIN_TERMS", "IMPORT"]

#: Shorter sums print term by term.
MIN_TERMS = 2

#: How generated modules import the helpers.
IMPORT = ("from symgrad.codegen.unrolled import dot as _dot, gather as _gather, gather_row as _gather_row, "
          "store as _store")


@dataclass
class Packer:
    """Rewrites expressions into calls; ``param_index`` maps parameter symbols to ``theta`` indices."""

    param_index: Mapping[sp.Symbol, int]
    dots: dict[sp.Symbol, tuple[tuple[sp.Expr, ...], tuple[int, ...]]] = field(default_factory=dict)
    stores: dict[sp.Symbol, tuple[tuple[sp.Expr, ...], str]] = field(default_factory=dict)
    _calls: dict[tuple, sp.Symbol] = field(default_factory=dict)

    def rewrite(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with every long parameter-times-value sum in it replaced by a call symbol."""
        if not isinstance(expr, sp.Basic) or expr.is_Atom:
            return expr
        args = [self.rewrite(a) for a in expr.args]
        if isinstance(expr, sp.Add):
            return self._dot_sum(args)
        return expr.func(*args) if any(a is not b for a, b in zip(args, expr.args, strict=True)) else expr

    def store(self, entries: list[tuple[int, sp.Expr]]) -> sp.Symbol:
        """A call symbol that stores each ``(row entry, expression)`` of ``entries``."""
        factors: dict[sp.Expr, int] = {}
        layout = []
        for r, expr in entries:
            slots = [factors.setdefault(f, len(factors)) for f in _two_factors(expr)]
            layout.append((r, *slots))
        call = sp.Dummy(f"store{len(self.stores)}")  # a Dummy never equals a user's symbol
        self.stores[call] = (tuple(factors), store_layout(layout))
        return call

    def name_calls(self, printer, inline: bool = False) -> None:
        """Teach ``printer`` (a :class:`~symgrad.codegen.printer.NumbaPrinter`) the text of each
        call symbol; ``inline``: dot products as sums of parameters times values instead, in the
        order ``_dot`` adds them (for modules that must not import symgrad)."""

        def values(exprs) -> str:
            return "(" + ", ".join(map(printer.doprint, exprs)) + ("," if len(exprs) == 1 else "") + ")"

        symbols = self._symbols()
        position = {i: k for k, i in enumerate(self.gathered())}
        # In the order they were made: a call's arguments may contain calls made before it.
        for call, (v, indices) in self.dots.items():
            if inline:
                terms = [f"{printer.doprint(symbols[i])}*{printer.parenthesize(e, PRECEDENCE['Mul'])}"
                         for i, e in zip(indices, v, strict=True)]
                printer.add_names({call: printer.pairwise(terms)})
            else:
                layout = dot_layout(position[i] for i in indices)
                printer.add_names({call: f'_dot(weights, {values(v)}, "{layout}")'})
        for call, (f, layout) in self.stores.items():
            printer.add_names({call: f'_store(row, {values(f)}, "{layout}")'})

    def gathered(self) -> list[int]:
        """The indices in ``theta`` of the parameters the dot products read, in order: what
        ``weights = _gather(theta, ...)`` holds."""
        return sorted({i for _, indices in self.dots.values() for i in indices})

    def weights(self) -> set[sp.Symbol]:
        """The parameters the dot products read."""
        symbols = self._symbols()
        return {symbols[i] for i in self.gathered()}

    def _symbols(self) -> dict[int, sp.Symbol]:
        return {k: p for p, k in self.param_index.items()}

    def _dot_sum(self, terms: list[sp.Expr]) -> sp.Expr:
        products, rest = [], []
        for term in terms:
            split = self._weight_times_value(term)
            (rest if split is None else products).append(term if split is None else split)
        if len(products) < MIN_TERMS:
            return sp.Add(*terms)
        products.sort(key=lambda pair: pair[0])  # theta order
        dot = (tuple(v for _, v in products), tuple(i for i, _ in products))
        call = self._calls.get(dot)  # the same sum again
        if call is None:
            call = self._calls[dot] = sp.Dummy(f"dot{len(self.dots)}")
            self.dots[call] = dot
        return sp.Add(*rest, call)

    def _weight_times_value(self, term: sp.Expr) -> tuple[int, sp.Expr] | None:
        """(theta index, value) when ``term`` is one parameter times a parameter-free value."""
        if not isinstance(term, sp.Mul):
            return None
        weights = [f for f in term.args if f in self.param_index]
        if len(weights) != 1:
            return None
        value = sp.Mul(*[f for f in term.args if f is not weights[0]])
        if value.free_symbols & self.param_index.keys():
            return None
        return self.param_index[weights[0]], value


def _two_factors(expr: sp.Expr) -> tuple[sp.Expr, ...]:
    """``(a, b)`` when ``expr`` is a product ``a · b`` of two non-numbers (a numeric
    coefficient goes with ``a``), else ``(expr,)``."""
    if isinstance(expr, sp.Mul):
        coefficient, rest = expr.as_coeff_mul()
        if len(rest) == 2:
            return coefficient * rest[0], rest[1]
    return (expr,)
