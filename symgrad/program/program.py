"""The straight-line program: forward and adjoint passes as ordered assignments.

A :class:`Program` is what code generation consumes and what users print to
read a derivative the way it is computed. Its statements are SSA
assignments ``temporary = expression``; its outputs are keyed
``("value", k)``, ``("grad", k, i)`` and ``("hess", k, i, j)`` where ``k``
indexes the differentiated expressions and ``i``, ``j`` index ``wrt``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import sympy as sp

from ..errors import EvaluationError

__all__ = ["Program", "Output"]

OutputKey = tuple


class Output(NamedTuple):
    """One named result of a program."""

    key: OutputKey
    name: str
    expr: sp.Expr


@dataclass(frozen=True)
class Program:
    """Ordered assignments plus named outputs, with common subexpressions shared.

    Attributes:
        inputs: the leaf symbols the program reads, in a stable order.
        wrt: the symbols derivatives are taken with respect to.
        statements: ``(temporary, expression)`` pairs in execution order.
        outputs: the results, each an expression of inputs and temporaries.
    """

    inputs: tuple[sp.Symbol, ...]
    wrt: tuple[sp.Symbol, ...]
    statements: tuple[tuple[sp.Symbol, sp.Expr], ...]
    outputs: tuple[Output, ...]

    def __len__(self) -> int:
        return len(self.statements)

    def __getitem__(self, key: OutputKey | str) -> sp.Expr:
        for out in self.outputs:
            if out.key == key or out.name == key:
                return out.expr
        raise KeyError(f"program has no output {key!r}; outputs: {[o.name for o in self.outputs]}")

    @property
    def temporaries(self) -> tuple[sp.Symbol, ...]:
        return tuple(target for target, _ in self.statements)

    def expanded(self, key: OutputKey | str | None = None):
        """Outputs with every temporary substituted away: plain SymPy in the inputs.

        With ``key``, just that output; otherwise ``{key: expression}`` for all.
        """
        full: dict[sp.Symbol, sp.Expr] = {}
        for target, expr in self.statements:
            full[target] = expr.xreplace(full)
        if key is not None:
            return self[key].xreplace(full)
        return {out.key: out.expr.xreplace(full) for out in self.outputs}

    def evaluate(self, at: Mapping[sp.Symbol, object]) -> dict[OutputKey, sp.Expr]:
        """Run the program on SymPy numbers; exact when ``at`` holds exact numbers."""
        env = _numeric_environment(self.inputs, at)
        for target, expr in self.statements:
            env[target] = _number(expr.xreplace(env), target)
        return {out.key: _number(out.expr.xreplace(env), out.name) for out in self.outputs}

    def __str__(self) -> str:
        lines = [f"# inputs: {', '.join(map(str, self.inputs)) or '(none)'}"]
        lines += [f"{target} = {sp.sstr(expr)}" for target, expr in self.statements]
        lines += [f"{out.name} := {sp.sstr(out.expr)}" for out in self.outputs]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<Program: {len(self.statements)} statements, {len(self.outputs)} outputs, "
            f"inputs {', '.join(map(str, self.inputs)) or '(none)'}>"
        )

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


def _numeric_environment(inputs, at) -> dict[sp.Symbol, sp.Expr]:
    missing = [s for s in inputs if s not in at]
    if missing:
        raise EvaluationError(
            f"no value given for {', '.join(map(str, missing))}; "
            f"'at' must map every free symbol ({', '.join(map(str, inputs))}) to a number"
        )
    env = {}
    for symbol in inputs:
        value = at[symbol]
        try:
            number = sp.sympify(value, strict=True) if not isinstance(value, sp.Basic) else value
        except (sp.SympifyError, TypeError):
            raise EvaluationError(
                f"value for {symbol} must be a real number, got {type(value).__name__}: {value!r}"
            ) from None
        if not (number.is_number and number.is_real):
            raise EvaluationError(f"value for {symbol} must be a real number, got {value!r}")
        env[symbol] = number
    return env


def _number(value: sp.Expr, where) -> sp.Expr:
    if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise EvaluationError(f"{where} is not finite at the given point ({value})")
    return value
