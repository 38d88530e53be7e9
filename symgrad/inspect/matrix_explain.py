"""The δ recursion of a layered model, in matrix form.

The *stations* are the values a person names when deriving backprop by hand:
each activation ``a = f.(z)``, each activation's argument ``z``, and every
value read more than once (the logits of a softmax loss). Each station is
defined in terms of the stations below it; its δ (``∂loss/∂station`` for one
sample) in terms of the δ of the stations above it; and the derivative asked
for in terms of one δ — ``∂loss/∂W1 = δ_z1 xᵀ``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sympy as sp
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from ..declare.tensors import is_matrix
from ..program.tensor_program import TensorDisplay

__all__ = ["MatrixExplanation", "explain_matrix"]


@dataclass
class MatrixExplanation:
    """Prints as text; ``latex()`` (and notebooks) render the same lines."""

    variable: sp.Basic
    definitions: list[tuple[sp.Basic, sp.Basic]]
    deltas: list[tuple[sp.Basic, sp.Basic]]
    derivative: sp.Basic

    def lines(self) -> list[str]:
        text = _MatrixStrPrinter().doprint
        out = [f"∂loss/∂{self.variable} for one sample, by backpropagation", "", "stations:"]
        out += [f"  {name} = {text(expr)}" for name, expr in self.definitions]
        out += ["", "δ recursion (δ_s = ∂loss/∂s; ∘ is the elementwise product):"]
        out += [f"  {name} = {text(expr)}" for name, expr in self.deltas]
        out += ["", f"∂loss/∂{self.variable} = {text(self.derivative)}"]
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def latex(self) -> str:
        rows = [rf"{sp.latex(n)} &= {sp.latex(e)}" for n, e in self.definitions + self.deltas]
        rows.append(rf"\frac{{\partial \mathrm{{loss}}}}{{\partial {sp.latex(self.variable)}}} &= "
                    rf"{sp.latex(self.derivative)}")
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    def _repr_latex_(self) -> str:
        return f"$${self.latex()}$$"


class _MatrixStrPrinter(StrPrinter):
    """SymPy's text printer with ``A ∘ B`` for Hadamard products and ``A.^2`` for powers."""

    def _print_HadamardProduct(self, expr):  # noqa: N802 - SymPy's printer method names
        return " ∘ ".join(self.parenthesize(a, precedence(expr)) for a in expr.args)

    def _print_HadamardPower(self, expr):  # noqa: N802
        base, exponent = expr.args
        return f"{self.parenthesize(base, PRECEDENCE['Pow'])}.^{self._print(exponent)}"


def _is_activation(node) -> bool:
    body = node.attr("body")
    return node.op == "ew" and isinstance(body, sp.Function) and len(node.operands) == 1


def explain_matrix(model, variable, names=None) -> MatrixExplanation:
    store, lowering, adjoints = model._store, model._lowering, model._adjoints
    target = lowering.lower(variable)
    path = _path(store, target, model._loss_node)
    consumers: Counter = Counter()
    readers: dict[int, list[int]] = {}
    for k in path:
        for o in set(store[k].operands):
            consumers[o] += 1
            readers.setdefault(o, []).append(k)
    user = {lowering.lower(e): n for e, n in (names or {}).items()}
    stations = [k for k in path if store[k].op != "leaf" and k != model._loss_node and (
        k in user or _is_activation(store[k]) or consumers[k] > 1
        or any(_is_activation(store[r]) for r in readers.get(k, ())))]
    counts: Counter = Counter()
    labels: dict[int, str] = {}
    for k in stations:
        if k in user:
            labels[k] = user[k]
            continue
        kind = "a" if _is_activation(store[k]) else "z" if any(
            _is_activation(store[r]) for r in readers.get(k, ())) else "h"
        counts[kind] += 1
        labels[k] = f"{kind}{counts[kind]}"
    labels[model._loss_node] = "loss"

    def symbol(k, label):
        node = store[k]
        return sp.MatrixSymbol(label, *node.shape) if not node.is_scalar else sp.Symbol(label)

    forward = {k: symbol(k, label) for k, label in labels.items()}
    deltas = {adjoints[k]: symbol(k, f"δ_{label}") for k, label in labels.items()
              if k in adjoints and k != model._loss_node}
    display = TensorDisplay(store, lowering.expressions, {**forward, **deltas})
    definitions = [(forward[k], display(k, expand_name=True)) for k in [*stations, model._loss_node]]
    recursion = [(deltas[adjoints[k]], display(adjoints[k], expand_name=True))
                 for k in reversed(stations) if k in adjoints]
    grad = adjoints.get(target)
    derivative = sp.S.Zero if grad is None else display(grad, expand_name=grad in deltas)
    if is_matrix(variable) and not is_matrix(derivative):
        derivative = sp.MatMul(derivative, sp.OneMatrix(*variable.shape))
    return MatrixExplanation(variable, definitions, recursion, derivative)


def _path(store, source: int, loss: int) -> list[int]:
    """Nodes that depend on ``source`` and that the loss depends on, in order."""
    depends = {source}
    for k in range(source + 1, loss + 1):
        if any(o in depends for o in store[k].operands):
            depends.add(k)
    needed = {loss}
    for k in range(loss, source - 1, -1):
        if k in needed:
            needed.update(store[k].operands)
    return sorted(depends & needed)
