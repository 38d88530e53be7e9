"""A restricted parser: expression strings to SymPy, without ``eval``.

The string is parsed by :func:`ast.parse` and the tree is walked against a
whitelist; the SymPy expression is built node by node from the tree. Nothing
is ever evaluated as Python, and no SymPy parser sees the raw string
(``sympy.sympify`` and ``parse_expr`` call ``eval``). Anything outside the
grammar raises :class:`~symgrad.errors.ParseError` naming the construct and
where it is. Limits on length, nesting, exponents and integer sizes keep a
hostile string from hanging the parser or SymPy.

>>> import sympy as sp
>>> w, x, b = sp.symbols("w x b")
>>> parse_expression("sigmoid(w*x + b)**2 / 2", [w, x, b])
sigmoid(b + w*x)**2/2
"""

from __future__ import annotations

import ast
import difflib
import math
from collections.abc import Iterable, Mapping

import sympy as sp

from ..errors import DeclarationError, ParseError
from .grammar import (
    CONSTANTS,
    FUNCTIONS,
    MAX_CONSTANT_NODES,
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_INT_BITS,
    MAX_LENGTH,
    MAX_MAGNITUDE,
    RESERVED,
    Function,
)
from .source import BINARY, HINTS, UNARY, Source, describe

__all__ = ["parse_expression"]

_COMPARISONS = {ast.Lt: sp.Lt, ast.LtE: sp.Le, ast.Gt: sp.Gt, ast.GtE: sp.Ge, ast.Eq: sp.Eq,
                ast.NotEq: sp.Ne}
_COMPARISON_SYMBOLS = {ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}
_NON_FINITE = (sp.zoo, sp.nan, sp.oo, -sp.oo)


def parse_expression(text: str, names: Mapping[str, sp.Basic] | Iterable[sp.Symbol] = (), *,
                     where: str = "expression") -> sp.Expr:
    """Parse ``text`` into a SymPy expression, allowing only symgrad's expression grammar.

    The grammar: numbers (``2``, ``0.5``, ``1e-3``), the given ``names``, the
    constants ``pi`` and ``E``, ``+ - * / **``, unary ``-``/``+``, brackets, and
    calls with positional arguments of the functions in
    :data:`symgrad.files.grammar.FUNCTIONS`. Integers stay exact: ``1/2`` is
    ``Rational(1, 2)``; decimal literals are ``Float``. Whitespace and line
    breaks are free (the string is parsed as if in brackets).

    Args:
        text: the expression.
        names: the names the expression may use: ``{name: symbol or expression}``,
            or symbols (each known by its name).
        where: what the text is (e.g. ``"[model] loss"``), the start of every error message.

    Raises:
        ParseError: naming the construct outside the grammar and its column.

    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> parse_expression("2*x**2 - 1/2", [x])
    2*x**2 - 1/2
    >>> parse_expression("x.__class__", [x])
    Traceback (most recent call last):
    ...
    symgrad.errors.ParseError: expression: attribute access '.__class__' is not allowed (column 2)
      x.__class__
       ^
    """
    table = _name_table(names)
    if not isinstance(text, str):
        raise ParseError(f"{where}: expected an expression string, got {type(text).__name__}: {text!r}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"{where}: the expression is {len(text)} characters long; at most {MAX_LENGTH} "
                         "are accepted", text=text[:100])
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ParseError(f"{where}: the expression is empty", text=text, offset=0)
    source = Source(text, where)
    source.check_brackets()
    try:
        tree = ast.parse(source.wrapped(), mode="eval")
    except SyntaxError as err:
        raise source.syntax_error(err) from None
    except (MemoryError, RecursionError, ValueError) as err:
        message = "nested too deeply for the parser" if not isinstance(err, ValueError) else str(err)
        raise ParseError(f"{where}: {message}", text=text) from None
    builder = _Builder(source, table)
    return builder.finish(tree.body, builder.expr(tree.body, 0))


def _name_table(names) -> dict[str, sp.Basic]:
    if isinstance(names, sp.Symbol):
        names = [names]
    if isinstance(names, Mapping):
        table = dict(names)
    elif isinstance(names, str):
        raise DeclarationError(f"names must be symbols or a mapping from name to expression, got {names!r}")
    else:
        table = {}
        for s in names:
            if not isinstance(s, sp.Symbol):
                raise DeclarationError(f"names must be SymPy symbols, got {type(s).__name__}: {s!r}")
            table[s.name] = s
    for name, value in table.items():
        if not isinstance(name, str):
            raise DeclarationError(f"names must map strings to expressions; got the key {name!r}")
        if name in RESERVED:
            kind = "function" if name in FUNCTIONS else "constant"
            raise DeclarationError(f"'{name}' is the name of a {kind} of the expression language; "
                                   "give the symbol another name")
        if not isinstance(value, sp.Basic):
            raise DeclarationError(f"name '{name}' must stand for a SymPy expression, got {value!r}")
    return table


class _Builder:
    """Walks the tree of one expression and builds its SymPy form."""

    def __init__(self, source: Source, names: dict[str, sp.Basic]):
        self.source, self.names = source, names
        self.error = source.error
        self.memo: dict[int, tuple[sp.Basic, bool, int]] = {}
        self.handlers = {ast.BinOp: self.binary, ast.UnaryOp: self.unary, ast.Call: self.call,
                         ast.Name: self.name, ast.Constant: self.constant}

    # -- the grammar ------------------------------------------------------------------
    def not_allowed(self, node: ast.AST) -> ParseError:
        return self.error(node, f"{describe(node)} is not allowed{HINTS.get(type(node), '')}")

    def expr(self, node: ast.AST, depth: int) -> sp.Basic:
        if depth > MAX_DEPTH:
            raise self.error(node, f"nesting deeper than {MAX_DEPTH} levels")
        handler = self.handlers.get(type(node))
        if handler is None:
            raise self.not_allowed(node)
        return handler(node, depth)

    def constant(self, node: ast.Constant, depth: int) -> sp.Basic:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.not_allowed(node)
        if isinstance(value, int):
            if value.bit_length() > MAX_INT_BITS:
                raise self.error(node, f"integer literal with {value.bit_length()} bits is too large "
                                       f"(at most {MAX_INT_BITS} bits)")
            return sp.Integer(value)
        if not math.isfinite(value):
            raise self.error(node, "float literal that is not finite is not allowed")
        return sp.Float(value)

    def name(self, node: ast.Name, depth: int) -> sp.Basic:
        name = node.id
        self.check_dunder(node, name)
        if name in self.names:
            return self.names[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS:
            raise self.error(node, f"function '{name}' used without arguments; call it as {name}(...)")
        raise self.error(node, self.unknown(name))

    def check_dunder(self, node: ast.AST, name: str) -> None:
        if name.startswith("__"):
            raise self.error(node, f"name '{name}' is not allowed (names starting with '__' are never "
                                   "looked up)")

    def unknown(self, name: str) -> str:
        symbols = [n for n, v in self.names.items() if isinstance(v, sp.Symbol)]
        definitions = [n for n in self.names if n not in symbols]
        message = f"unknown name '{name}'; declared symbols are {_listing(symbols)}"
        if definitions:
            message += f", definitions are {_listing(definitions)}"
        close = difflib.get_close_matches(name, list(self.names) + list(RESERVED), n=1)
        return message + (f" (did you mean '{close[0]}'?)" if close else "")

    def binary(self, node: ast.BinOp, depth: int) -> sp.Basic:
        op = type(node.op)
        if op in (ast.Add, ast.Sub):
            return self.chain(node, depth, (ast.Add, ast.Sub), sp.Add, lambda term: -term)
        if op in (ast.Mult, ast.Div):
            return self.chain(node, depth, (ast.Mult, ast.Div), sp.Mul, lambda factor: sp.Pow(factor, -1))
        if op is ast.Pow:
            return self.power(node, depth)
        symbol = BINARY.get(op, type(node.op).__name__)
        hint = "; write powers as x**2" if op is ast.BitXor else ""
        at = self.source.operator_offset(node, symbol)
        raise self.error(at, f"operator '{symbol}' is not allowed{hint}")

    def chain(self, node: ast.BinOp, depth: int, ops, combine, invert) -> sp.Basic:
        """``a + b - c + ...`` (or ``a * b / c``) as one n-ary node: long sums are one level deep."""
        operands = []
        top = node
        while isinstance(node, ast.BinOp) and isinstance(node.op, ops):
            right = self.expr(node.right, depth + 1)
            operands.append(invert(right) if isinstance(node.op, ops[1]) else right)
            node = node.left
        operands.append(self.expr(node, depth + 1))
        return self.checked(top, lambda: combine(*reversed(operands)), "arithmetic")

    def power(self, node: ast.BinOp, depth: int) -> sp.Basic:
        base = self.expr(node.left, depth + 1)
        exponent = self.expr(node.right, depth + 1)
        if exponent.is_Number and abs(exponent) > MAX_EXPONENT:
            raise self.error(node.right, f"exponent {sp.sstr(exponent)[:40]} is too large "
                                         f"(at most {MAX_EXPONENT} in magnitude)")
        if base.is_Rational and exponent.is_Integer and base != 0:
            bits = abs(int(exponent)) * max(math.log2(abs(base.p)), math.log2(base.q))
            if bits > MAX_INT_BITS:
                shown = sp.sstr(base) if len(sp.sstr(base)) <= 20 else "a number"
                raise self.error(node, f"{shown} to the power {exponent} would be an integer of "
                                       f"{math.ceil(bits)} bits (at most {MAX_INT_BITS})")
        return self.checked(node, lambda: sp.Pow(base, exponent), "power")

    def unary(self, node: ast.UnaryOp, depth: int) -> sp.Basic:
        if isinstance(node.op, (ast.Not, ast.Invert)):
            raise self.error(node, f"operator '{UNARY[type(node.op)]}' is not allowed")
        operand = self.expr(node.operand, depth + 1)
        return operand if isinstance(node.op, ast.UAdd) else self.checked(node, lambda: -operand, "negation")

    def call(self, node: ast.Call, depth: int) -> sp.Basic:
        func = node.func
        if not isinstance(func, ast.Name):
            if isinstance(func, (ast.Attribute, ast.Subscript)):
                raise self.not_allowed(func)
            raise self.error(func, f"calling {describe(func)} is not allowed; only named functions "
                                   f"can be called: {_listing(sorted(FUNCTIONS), 60)}")
        name = func.id
        self.check_dunder(func, name)
        spec = FUNCTIONS.get(name)
        if spec is None:
            raise self.error(func, self.not_callable(name))
        for keyword in node.keywords:
            what = f"keyword argument '{keyword.arg}='" if keyword.arg else "'**' argument unpacking"
            raise self.error(keyword, f"{what} is not allowed; {name}(...) takes positional arguments only")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.error(arg, "starred argument '*' is not allowed")
        count = len(node.args)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            raise self.error(node, f"{name}(...) takes {spec.arity()}, got {count}")
        args = [self.argument(name, spec, k, arg, depth + 1) for k, arg in enumerate(node.args)]
        if spec.compares:
            for k, first in enumerate(args):
                for second in args[k + 1:]:
                    self.check_comparable(node, first, second)
        return self.checked(node, lambda: spec.build(*args), f"{name}(...)")

    def check_comparable(self, node: ast.AST, first: sp.Expr, second: sp.Expr) -> None:
        """SymPy decides ``Max``, ``Min`` and comparisons by the sign of the difference; when
        that is a constant, :meth:`checked` makes sure numeric evaluation can tell it from zero."""
        self.checked(node, lambda: first - second, "comparison")

    def not_callable(self, name: str) -> str:
        if name in self.names:
            kind = "a symbol" if isinstance(self.names[name], sp.Symbol) else "a definition (an expression)"
            return f"'{name}' is {kind}, not a function, and cannot be called"
        if name in CONSTANTS:
            return f"'{name}' is a constant, not a function, and cannot be called"
        close = difflib.get_close_matches(name, list(FUNCTIONS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown function '{name}'{hint}; the functions are {_listing(sorted(FUNCTIONS), 60)}"

    def argument(self, name: str, spec: Function, k: int, node: ast.AST, depth: int):
        if k in spec.sequences:
            if not isinstance(node, (ast.List, ast.Tuple)):
                raise self.error(node, f"argument {k + 1} of {name}(...) must be a list such as [w1, w2]")
            if depth + 1 > MAX_DEPTH:
                raise self.error(node, f"nesting deeper than {MAX_DEPTH} levels")
            for item in node.elts:
                if isinstance(item, ast.Starred):
                    raise self.error(item, "starred argument '*' is not allowed")
            return [self.expr(item, depth + 1) for item in node.elts]
        if k in spec.conditions:
            return self.condition(node, depth, name)
        return self.expr(node, depth)

    def condition(self, node: ast.AST, depth: int, owner: str) -> sp.Basic:
        if depth > MAX_DEPTH:
            raise self.error(node, f"nesting deeper than {MAX_DEPTH} levels")
        if isinstance(node, ast.Compare):
            left = self.expr(node.left, depth + 1)
            parts = []
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                relation = _COMPARISONS.get(type(op))
                if relation is None:
                    raise self.error(node, f"comparison '{_COMPARISON_SYMBOLS.get(type(op), '?')}' is not "
                                           "allowed; use <, <=, >, >=, == or !=")
                right = self.expr(comparator, depth + 1)
                self.check_comparable(node, left, right)
                parts.append(self.checked(node, lambda r=relation, a=left, b=right: r(a, b), "comparison"))
                left = right
            return parts[0] if len(parts) == 1 else self.checked(node, lambda: sp.And(*parts), "comparison")
        if isinstance(node, ast.BoolOp):
            combine = sp.And if isinstance(node.op, ast.And) else sp.Or
            parts = [self.condition(value, depth + 1, owner) for value in node.values]
            return self.checked(node, lambda: combine(*parts), "condition")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.condition(node.operand, depth + 1, owner)
            return self.checked(node, lambda: sp.Not(inner), "condition")
        raise self.error(node, f"the condition of {owner}(...) must be a comparison such as x > 0, "
                               f"got {describe(node)}")

    # -- results ----------------------------------------------------------------------
    def checked(self, node: ast.AST, build, what: str) -> sp.Basic:
        """Build one node; SymPy's own errors and non-finite or huge numbers become ParseErrors."""
        try:
            value = build()
        except (TypeError, ValueError, ArithmeticError, AttributeError) as err:
            raise self.error(node, f"{what}: {err}") from None
        if value in _NON_FINITE or any(arg in _NON_FINITE for arg in value.args):
            raise self.error(node, f"{what} gives the non-finite value {self.show(value)} "
                                   "(a division by zero?)")
        if isinstance(value, sp.Rational):
            if max(value.p.bit_length(), value.q.bit_length()) > MAX_INT_BITS:
                raise self.error(node, f"{what} gives an integer of more than {MAX_INT_BITS} bits")
        elif isinstance(value, sp.Expr):
            constant, size = self.measure(value)
            if constant and size > MAX_CONSTANT_NODES:
                raise self.error(node, f"{what} gives a constant expression of {size} nodes "
                                       f"(at most {MAX_CONSTANT_NODES})")
            if constant:
                self.check_magnitude(node, value)
        return value

    def measure(self, expr: sp.Basic) -> tuple[bool, int]:
        """Whether ``expr`` is free of symbols, and its size as a tree, in time linear in its
        size as a DAG. A definition used twice in the next is one object twice, so a chain of
        definitions makes a tree exponentially larger than the DAG; SymPy's own ``is_number``,
        ``evalf`` and printing walk the tree."""
        memo = self.memo
        stack = [expr]
        while stack:
            top = stack[-1]
            if id(top) in memo:
                stack.pop()
                continue
            pending = [arg for arg in top.args if id(arg) not in memo]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            parts = [memo[id(arg)] for arg in top.args]
            constant = not isinstance(top, sp.Symbol) and all(part[1] for part in parts)
            # the object is kept in the memo so that its id is not reused during the parse
            memo[id(top)] = (top, constant, 1 + sum(part[2] for part in parts))
        return memo[id(expr)][1:]

    def show(self, value: sp.Basic, limit: int = 200) -> str:
        size = self.measure(value)[1]
        return sp.sstr(value)[:80] if size <= limit else f"<an expression of {size} nodes>"

    def check_magnitude(self, node: ast.AST, value: sp.Expr) -> None:
        """A constant must be a real number within float64's range that numeric evaluation
        can tell from zero. SymPy evaluates constants to decide comparisons, Max, Abs, ...; for
        a constant like exp(exp(exp(100))) it would need astronomically many digits, and for an
        algebraic number it cannot tell from zero it falls back to minimal polynomials: either
        may never return."""
        approximation = value if isinstance(value, sp.Float) else value.evalf(15)
        if isinstance(approximation, sp.Float) and approximation._prec <= 1:
            raise self.error(node, f"the constant {sp.sstr(value)[:60]} is zero or too close to zero to "
                                   "evaluate (its terms cancel beyond float precision); simplify it")
        if approximation.is_extended_real is False:
            raise self.error(node, f"the constant {sp.sstr(value)[:60]} is complex-valued "
                                   f"(about {sp.sstr(approximation.evalf(3))[:40]})")
        size = abs(approximation)
        if not (size.is_Number and size.is_finite) or size > MAX_MAGNITUDE:
            raise self.error(node, f"the constant {sp.sstr(value)[:60]} is too large (about "
                                   f"{sp.sstr(approximation.evalf(3))[:30]}; at most {MAX_MAGNITUDE:.3g}, "
                                   "the float64 range)")

    def finish(self, node: ast.AST, value: sp.Basic) -> sp.Expr:
        # No whole-tree checks (``has``) here: an expression using definitions many times is a
        # small DAG but may be a huge tree. Every node was checked as it was built.
        if not isinstance(value, sp.Expr):
            raise self.error(node, f"the expression is a {type(value).__name__}, not a number")
        return value


def _listing(names, limit: int = 30) -> str:
    names = list(names)
    if not names:
        return "(none)"
    if len(names) > limit:
        return ", ".join(names[:limit]) + f", … ({len(names)} in all)"
    return ", ".join(names)
