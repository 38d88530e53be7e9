"""An expression's text: positions of tree nodes in it, names of constructs, and errors
that point at them.

Error messages quote the line and put a caret under the offending construct::

    [model] loss: attribute access '.__class__' is not allowed (column 2)
      x.__class__
       ^
"""

from __future__ import annotations

import ast

from ..errors import ParseError
from .grammar import MAX_DEPTH

__all__ = ["Source", "describe", "BINARY", "UNARY", "HINTS"]

_BRACKETS = {"(": ")", "[": "]", "{": "}"}

#: The operators' symbols, for messages.
BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.FloorDiv: "//",
          ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|",
          ast.BitXor: "^", ast.BitAnd: "&"}
UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Not: "not", ast.Invert: "~"}

#: How each construct outside the grammar is named in error messages.
_CONSTRUCTS = {
    ast.Attribute: lambda n: f"attribute access '.{n.attr}'",
    ast.Subscript: lambda n: "subscript '[...]'",
    ast.Lambda: lambda n: "lambda",
    ast.ListComp: lambda n: "list comprehension",
    ast.SetComp: lambda n: "set comprehension",
    ast.DictComp: lambda n: "dict comprehension",
    ast.GeneratorExp: lambda n: "generator expression (comprehension)",
    ast.List: lambda n: "list literal '[...]'",
    ast.Tuple: lambda n: "tuple '(..., ...)'",
    ast.Set: lambda n: "set literal '{...}'",
    ast.Dict: lambda n: "dict literal '{...: ...}'",
    ast.JoinedStr: lambda n: "f-string",
    ast.NamedExpr: lambda n: "assignment expression ':=' (walrus)",
    ast.IfExp: lambda n: "conditional expression 'a if c else b'",
    ast.Compare: lambda n: "comparison",
    ast.BoolOp: lambda n: f"boolean operator '{'and' if isinstance(n.op, ast.And) else 'or'}'",
    ast.UnaryOp: lambda n: f"unary operator '{UNARY[type(n.op)]}'",
    ast.BinOp: lambda n: f"arithmetic with '{BINARY[type(n.op)]}'",
    ast.Starred: lambda n: "starred argument '*'",
    ast.Await: lambda n: "'await'",
    ast.Yield: lambda n: "'yield'",
    ast.YieldFrom: lambda n: "'yield from'",
    ast.Slice: lambda n: "slice",
    ast.Call: lambda n: "the result of a call",
    ast.Name: lambda n: f"name '{n.id}'",
}

#: What to write instead, for constructs with a near equivalent.
HINTS = {
    ast.IfExp: "; write where(c, a, b)",
    ast.Compare: "; comparisons are only allowed as the condition of where(c, a, b)",
    ast.BoolOp: "; 'and'/'or' are only allowed in the condition of where(c, a, b)",
}


def describe(node: ast.AST) -> str:
    if isinstance(node, ast.Constant):
        return _constant_kind(node.value)
    describe = _CONSTRUCTS.get(type(node))
    return describe(node) if describe else f"{type(node).__name__} expression"


def _constant_kind(value) -> str:
    if isinstance(value, bool) or value is None:
        return f"literal {value!r}"
    if isinstance(value, str):
        text = repr(value) if len(value) <= 20 else repr(value[:20])[:-1] + "…'"
        return f"string literal {text}"
    if isinstance(value, bytes):
        return "bytes literal"
    if isinstance(value, complex):
        return f"complex literal {value!r}"
    if value is Ellipsis:
        return "'...'"
    return f"literal {value!r}"


class Source:
    """The text of one expression, as parsed wrapped in brackets on lines of their own.

    ``where`` names the text (e.g. ``"[model] loss"``) at the start of every message.
    """

    def __init__(self, text: str, where: str):
        self.text, self.where = text, where
        self.lines = text.split("\n")

    def wrapped(self) -> str:
        """The text the parser sees: in brackets, line breaks need no continuation."""
        return "(\n" + self.text + "\n)"

    def offset(self, lineno: int, col_bytes: int) -> int:
        """Character offset in the text of a parser position (line 1 is the added bracket;
        the parser counts columns in UTF-8 bytes)."""
        index = min(max(lineno - 2, 0), len(self.lines) - 1)
        line = self.lines[index]
        column = len(line.encode("utf-8")[:col_bytes].decode("utf-8", "replace"))
        return sum(len(t) + 1 for t in self.lines[:index]) + min(column, len(line))

    def node_offset(self, node: ast.AST) -> int:
        if isinstance(node, ast.Attribute):  # at the dot, not at the start of ``x`` in ``x.attr``
            return self.offset(node.end_lineno, node.end_col_offset) - len(node.attr) - 1
        if isinstance(node, ast.Subscript):  # at the bracket
            return self.offset(node.value.end_lineno, node.value.end_col_offset)
        return self.offset(node.lineno, node.col_offset)

    def operator_offset(self, node: ast.BinOp, symbol: str) -> int:
        """Where the operator of a binary operation is (the tree only knows its operands)."""
        start = self.offset(node.left.end_lineno, node.left.end_col_offset)
        found = self.text.find(symbol, start, self.node_offset(node.right))
        return found if found >= 0 else self.node_offset(node)

    def error(self, at: ast.AST | int, problem: str) -> ParseError:
        """A ParseError for ``problem`` at a node or character offset."""
        offset = at if isinstance(at, int) else self.node_offset(at)
        index = self.text.count("\n", 0, offset)
        column = offset - (self.text.rfind("\n", 0, offset) + 1)
        place = f"column {column + 1}" + (f" of line {index + 1}" if len(self.lines) > 1 else "")
        shown, caret = excerpt(self.lines[index], column)
        message = f"{self.where}: {problem} ({place})\n  {shown}\n  {' ' * caret}^"
        return ParseError(message, text=self.text, offset=offset)

    def syntax_error(self, err: SyntaxError) -> ParseError:
        index = min(max((err.lineno or 2) - 2, 0), len(self.lines) - 1)
        column = min(max((err.offset or 1) - 1, 0), len(self.lines[index]))
        offset = sum(len(t) + 1 for t in self.lines[:index]) + column
        return self.error(offset, f"invalid syntax: {err.msg}")

    def check_brackets(self) -> None:
        """Balanced and at most ``MAX_DEPTH`` deep, checked before the parser recurses into them."""
        stack: list[tuple[str, int]] = []
        for offset, char in enumerate(self.text):
            if char in _BRACKETS:
                stack.append((char, offset))
                if len(stack) > MAX_DEPTH:
                    raise self.error(offset, f"nesting deeper than {MAX_DEPTH} levels of brackets")
            elif char in _BRACKETS.values():
                if not stack or _BRACKETS[stack[-1][0]] != char:
                    raise self.error(offset, f"unbalanced '{char}'")
                stack.pop()
        if stack:
            raise self.error(stack[-1][1], f"'{stack[-1][0]}' is never closed")


def excerpt(line: str, column: int, width: int = 76) -> tuple[str, int]:
    """The part of a long line around ``column``, and the caret's position in it."""
    if len(line) <= width:
        return line, column
    start = max(0, min(column - width // 2, len(line) - width))
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(line) else ""
    return prefix + line[start:start + width] + suffix, column - start + len(prefix)
