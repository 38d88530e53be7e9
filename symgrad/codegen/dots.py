"""Long dot products of per-sample code printed as one call over packed arrays.

A scalar network's per-sample program is mostly sums ``b + Σ_k w_k · e_k`` of
parameters times per-sample values: each layer's pre-activations, and going
back, each unit's share of the next layer's deltas. Printed term by term, a
2-16-16-1 network's gradient is about 1,500 operations, and numba spends
milliseconds typing and lowering each one: most of the model's compile time.

Here a sum with at least ``MIN_TERMS`` such products becomes one call
``_dot(weights, w, values, v, n)``: the weights are copied out of ``theta``
once per call of the kernel, the values once per sample, and sums over the
same values share their copy. A layer of 16 units then costs 16 copies and 16 calls instead of 512
operations. ``_dot`` adds its products in a fixed order (four running sums),
so every kernel gives the same result for the same input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

__all__ = ["DotPacker", "MIN_TERMS", "DOT_HELPER_SOURCE", "DOT_HELPER_IMPORT"]

#: Shorter sums print term by term: the copies would cost as much as they save.
MIN_TERMS = 2

#: The helpers as source, for standalone modules (``sg.emit``), which must not import symgrad;
#: the kernels symgrad compiles import them from :mod:`symgrad.codegen.runtime`.
DOT_HELPER_SOURCE = '''
@numba.njit(cache=True)
def _dot(weights, w, values, v, n):
    s0 = s1 = s2 = s3 = 0.0
    full = n - n % 4
    for k in range(0, full, 4):
        s0 += weights[w + k] * values[v + k]
        s1 += weights[w + k + 1] * values[v + k + 1]
        s2 += weights[w + k + 2] * values[v + k + 2]
        s3 += weights[w + k + 3] * values[v + k + 3]
    for k in range(full, n):
        s0 += weights[w + k] * values[v + k]
    return (s0 + s1) + (s2 + s3)


@numba.njit(cache=True)
def _products(row, triples, values):
    for q in range(triples.shape[0]):
        row[triples[q, 0]] = values[triples[q, 1]] * values[triples[q, 2]]
'''
DOT_HELPER_IMPORT = "from symgrad.codegen.runtime import dot as _dot, products as _products"


@dataclass
class DotPacker:
    """Rewrites expressions (``rewrite``) and says what to copy where.

    ``param_index`` maps each parameter symbol to its index in ``theta``. After
    rewriting, ``weights[k]`` is the index in ``theta`` of the ``k``-th packed
    weight, ``values`` maps each tuple of packed values to its offset, and
    ``calls`` gives the printed call of each dot product's symbol.
    """

    param_index: dict[sp.Symbol, int]
    weights: list[int] = field(default_factory=list)
    values: dict[tuple, int] = field(default_factory=dict)
    calls: dict[sp.Symbol, str] = field(default_factory=dict)
    products: list[tuple[int, int, int]] = field(default_factory=list)  # (entry of row, value, value)
    _weight_offsets: dict[tuple, int] = field(default_factory=dict)

    def slot(self, value: sp.Expr) -> tuple[int, bool]:
        """Where ``value`` is packed, and whether it is new (the caller then writes it there)."""
        for values, at in self.values.items():
            if value in values:
                return at + values.index(value), False
        at = self.values.setdefault((value,), self.value_count)
        return at, True

    @property
    def value_count(self) -> int:
        return sum(len(values) for values in self.values)

    def rewrite(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with every long parameter-times-value sum in it replaced by a call symbol."""
        if not isinstance(expr, sp.Basic) or expr.is_Atom:
            return expr
        args = [self.rewrite(a) for a in expr.args]
        if isinstance(expr, sp.Add):
            return self._dot_sum(args)
        return expr.func(*args) if any(a is not b for a, b in zip(args, expr.args, strict=True)) else expr

    def _dot_sum(self, terms: list[sp.Expr]) -> sp.Expr:
        products, rest = [], []
        for term in terms:
            split = self._weight_times_value(term)
            if split is None:
                rest.append(term)
            else:
                products.append(split)
        if len(products) < MIN_TERMS:
            return sp.Add(*terms)
        products.sort(key=lambda pair: pair[0])  # theta order: the same values line up the same way
        weights = tuple(index for index, _ in products)
        values = tuple(value for _, value in products)
        w = self._weight_offsets.setdefault(weights, len(self.weights))
        if w == len(self.weights):
            self.weights.extend(weights)
        v = self.values.setdefault(values, self.value_count)
        call = sp.Symbol(f"_dot{len(self.calls)}")
        self.calls[call] = f"_dot(weights, {w}, values, {v}, {len(products)})"
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
