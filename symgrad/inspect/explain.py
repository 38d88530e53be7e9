"""Chain-rule breakdown of one partial derivative, for checking hand derivations.

The graph is viewed at the level a person derives backprop by hand: the
*stations* are the output, every function application (an activation
``a = f(z)``), the argument ``z`` of each, and the variable asked about.
Between two stations the local factor (``∂loss/∂a``, ``∂a/∂z``, ``∂z/∂w``)
is the derivative of the upper station's one-level definition, taken with
symgrad's own rules. The explanation lists the factors along every path
and the δ recursion ``δ_s = Σ_parents δ_p · ∂p/∂s`` of backpropagation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..diff.reverse import active_nodes
from ..graph.lower import leaf_symbols, to_graph
from ..graph.ops import KINKED_FUNCTIONS, SMOOTH_FUNCTIONS
from ..program.build import build_program, rewrite_bottom_up
from ..program.naming import TemporaryNamer

__all__ = ["Explanation", "Factor", "explain"]

_FUNCTION_OPS = (
    frozenset(SMOOTH_FUNCTIONS.values()) | frozenset(KINKED_FUNCTIONS.values()) | {"Max", "Min"}
)


@dataclass(frozen=True)
class Factor:
    """``∂upper/∂lower`` between two neighbouring stations."""

    upper: sp.Symbol
    lower: sp.Symbol
    expr: sp.Expr
    value: sp.Expr | None = None

    @property
    def name(self) -> str:
        return f"∂{self.upper}/∂{self.lower}"


@dataclass
class Explanation:
    """The chain rule for ``∂output/∂variable``; prints as text, LaTeX in notebooks.

    Attributes:
        output, variable: the symbols of the derivative explained.
        definitions: ``(label, definition)`` of each station, inputs first.
        paths: each path from the output to the variable as its factors.
        n_paths: number of paths (``paths`` may be cut at ``max_paths``).
        deltas: ``(label, δ expression)`` with ``δ_s = ∂output/∂s``, written
            recursively in terms of the δ of the stations above.
        derivative: the partial derivative in terms of the station labels.
        values: numeric value of every label, δ and the derivative when ``at`` was given.
    """

    output: sp.Symbol
    variable: sp.Symbol
    definitions: list[tuple[sp.Symbol, sp.Expr]]
    paths: list[list[Factor]]
    n_paths: int
    deltas: list[tuple[sp.Symbol, sp.Expr]]
    derivative: sp.Expr
    values: dict[sp.Basic, sp.Expr] = field(default_factory=dict)

    @property
    def value(self) -> float | None:
        """The derivative's value at the given point (``None`` without ``at``)."""
        v = self.values.get(self.derivative)
        return None if v is None else float(v)

    def _num(self, expr) -> str:
        v = self.values.get(expr)
        return "" if v is None else f"  = {float(v):.6g}"

    def __str__(self) -> str:
        out, var = self.output, self.variable
        plural = "path" if self.n_paths == 1 else "paths"
        lines = [f"∂{out}/∂{var} by the chain rule ({self.n_paths} {plural})", "", "where"]
        width = max((len(f"{s} = {sp.sstr(e)}") for s, e in self.definitions), default=0)
        for label, definition in self.definitions:
            text = f"{label} = {sp.sstr(definition)}"
            lines.append(f"  {text:<{width}}{self._num(label)}")
        for k, path in enumerate(self.paths, 1):
            chain = " · ".join(f.name for f in path)
            lines += ["", f"path {k}: {chain}"]
            for f in path:
                lines.append(f"  {f.name} = {sp.sstr(f.expr)}{self._num(f.expr)}")
        if self.n_paths > len(self.paths):
            lines += ["", f"... {self.n_paths - len(self.paths)} more paths (raise max_paths to list them)"]
        lines += ["", f"δ terms (δ_s = ∂{out}/∂s, backpropagated)"]
        for label, delta in self.deltas:
            lines.append(f"  δ_{label} = {sp.sstr(delta)}{self._num(sp.Symbol(f'δ_{label}'))}")
        lines.append(f"  ∂{out}/∂{var} = {sp.sstr(self.derivative)}{self._num(self.derivative)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Explanation of ∂{self.output}/∂{self.variable}: {self.n_paths} path(s)>\n{self}"

    def _repr_latex_(self) -> str:
        rows = [rf"{sp.latex(s)} &= {sp.latex(e)}" for s, e in self.definitions]
        for path in self.paths:
            factors = r" \cdot ".join(
                rf"\frac{{\partial {sp.latex(f.upper)}}}{{\partial {sp.latex(f.lower)}}}" for f in path
            )
            rows.append(rf"\text{{path}} &: {factors}")
        rows += [rf"\delta_{{{sp.latex(s)}}} &= {sp.latex(e)}" for s, e in self.deltas]
        rows.append(
            rf"\frac{{\partial {sp.latex(self.output)}}}{{\partial {sp.latex(self.variable)}}}"
            rf" &= {sp.latex(self.derivative)}"
        )
        return r"$\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}$"


def _stations(graph, root, leaf):
    # Every activation and its argument gets a label, on the path or not, so
    # that definitions read like the hand derivation (z3 = w53*a1 + w54*a2).
    stations = {root, leaf}
    for node, data in graph.nodes(data=True):
        if data["op"] in _FUNCTION_OPS:
            stations.add(node)
            stations.update(o for o in data["operands"] if graph.nodes[o]["operands"])
    return sorted(stations)


def _labels(graph, stations, root, leaf, output_name, names, taken):
    namer = TemporaryNamer(taken)
    labels, counts = {}, {"a": 0, "z": 0}
    for node in stations:
        expr = graph.nodes[node]["expr"]
        if node == leaf:
            labels[node] = expr
        elif node == root:
            labels[node] = sp.Symbol(output_name, real=True)
        elif names and expr in names:
            labels[node] = sp.Symbol(names[expr], real=True)
        else:
            kind = "a" if graph.nodes[node]["op"] in _FUNCTION_OPS else "z"
            counts[kind] += 1
            labels[node] = namer(kind, counts[kind])
    return labels


def explain(expr, variable, at=None, names=None, max_paths=8, output_name="f") -> Explanation:
    """Chain-rule breakdown of ``∂expr/∂variable``; see :class:`Explanation`."""
    graph = to_graph(expr)
    root = graph.graph["outputs"][0]
    leaf = next((n for n, d in graph.nodes(data=True) if d["expr"] == variable and d["op"] == "symbol"), None)
    taken = {str(s) for s in leaf_symbols(graph)} | set((names or {}).values())
    if leaf is None:  # the output does not depend on the variable
        return Explanation(sp.Symbol(output_name), variable, [], [], 0, [], sp.S.Zero)
    active = active_nodes(graph, root, [leaf])
    stations = _stations(graph, root, leaf)
    labels = _labels(graph, stations, root, leaf, output_name, names, taken)

    # One-level definitions: a station's expression with lower stations as labels.
    definitions: dict[int, sp.Expr] = {}

    def visit(node: int, own: sp.Expr) -> sp.Expr:
        if node not in labels:
            return own
        definitions[node] = own
        return labels[node]

    rewrite_bottom_up(graph, visit)

    on_path = [s for s in stations if s in active]
    children = {
        s: [c for c in on_path if c != s and labels[c] in definitions.get(s, sp.S.Zero).free_symbols]
        for s in on_path
    }
    # A factor mentioning a station's own definition reads better as its label:
    # ∂a/∂z = a*(1 - a), as in the notes, not sigmoid(z)*(1 - sigmoid(z)).
    relabel = {definitions[s]: labels[s] for s in definitions}
    factors = {}
    for upper in on_path:
        for lower in children[upper]:
            d = build_program(definitions[upper], [labels[lower]], cse=False).expanded(("grad", 0, 0))
            factors[upper, lower] = Factor(labels[upper], labels[lower], d.xreplace(relabel))

    paths = _paths(root, leaf, children, factors, max_paths)
    deltas, delta_symbols, derivative = _delta_recursion(on_path, root, leaf, children, factors, labels)
    result = Explanation(
        labels[root], variable,
        [(labels[s], definitions[s]) for s in stations if s in definitions],
        paths[0], paths[1], deltas, derivative,
    )
    if at is not None:
        result.values = _evaluate(result, factors, delta_symbols, at)
        result.paths = [[Factor(f.upper, f.lower, f.expr, result.values.get(f.expr)) for f in p]
                        for p in result.paths]
    return result


def _paths(root, leaf, children, factors, max_paths):
    listed, count = [], 0
    stack = [(root, [])]
    while stack:
        node, path = stack.pop()
        if node == leaf:
            count += 1
            if len(listed) < max_paths:
                listed.append(path)
            continue
        for child in reversed(children[node]):
            stack.append((child, path + [factors[node, child]]))
    return listed, count


def _delta_recursion(stations, root, leaf, children, factors, labels):
    parents = {s: [p for p in stations if s in children[p]] for s in stations}
    deltas, delta_symbols = [], {}
    for s in reversed(stations):
        if s == root:
            continue
        terms = [
            (delta_symbols[p] if p != root else sp.S.One) * factors[p, s].expr for p in parents[s]
        ]
        if s == leaf:
            return deltas, delta_symbols, sp.Add(*terms)
        delta_symbols[s] = sp.Symbol(f"δ_{labels[s]}")
        deltas.append((labels[s], sp.Add(*terms)))
    raise AssertionError("the variable is a station")  # pragma: no cover


def _evaluate(result, factors, delta_symbols, at):
    env = {sp.sympify(k): sp.sympify(v) for k, v in at.items()}
    for label, definition in result.definitions:
        env[label] = definition.xreplace(env).evalf(30)
    values = dict(env)
    for f in factors.values():
        values[f.expr] = f.expr.xreplace(env).evalf(30)
    for label, delta in result.deltas:
        symbol = sp.Symbol(f"δ_{label}")
        env[symbol] = values[symbol] = delta.xreplace(env).evalf(30)
    values[result.derivative] = result.derivative.xreplace(env).evalf(30)
    return values
