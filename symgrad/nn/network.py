"""Arbitrary feed-forward networks: a networkx DAG of units, as SymPy expressions.

The backprop lecture notes describe a network as units joined by weighted
arrows with no loops. :class:`Network` takes exactly that, a
``networkx.DiGraph`` whose nodes are units, and writes every unit's net input
``z_j = Σ_{i ∈ In(j)} w_ji o_i (+ b_j)`` and output ``o_j = h_j(z_j)`` as plain
SymPy expressions. The squared error built from them is an ordinary
:class:`symgrad.Model`, differentiated by the same reverse sweep as any other
model; :meth:`Network.deltas` and :meth:`Network.gradient` give the notes'
δ rule as well, for checking a hand derivation against it.

Symbol names follow the units' names (``label`` is ``str(unit)``): when every
label is one character, symbols are written without separators like the
notes (``x1``, ``w53``, ``b5``, ``t5``); otherwise with underscores
(``x_in1``, ``w_out_h1``, ``b_out``, ``t_out``).
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from functools import cached_property

import networkx as nx
import sympy as sp
from sympy.core.function import FunctionClass, UndefinedFunction

from ..api import grad
from ..declare.functions import sigmoid
from ..errors import DeclarationError, EvaluationError, ShapeError, SymgradError
from ..graph.lower import to_graph
from ..model import Model

__all__ = ["Network"]

_LABEL = re.compile(r"[A-Za-z0-9]+")
# Node attributes read on non-input units; any other attribute is left to the user.
_UNIT_ATTRIBUTES = ("transfer", "bias")


class Network:
    """A feed-forward network given as a directed acyclic graph of units.

    Args:
        graph: a ``networkx.DiGraph``; nodes are units (non-negative integers or
            strings of letters and digits), an edge ``i -> j`` is the weight
            ``w_ji`` from unit ``i`` into unit ``j``. Edge attributes are not read.
            A non-input unit may carry the node attributes

            - ``transfer``: its transfer function ``h_j``, a SymPy function
              class (``sympy.tanh``, ``sg.sigmoid``, ``sg.relu``, ...) or a
              one-argument ``sympy.Lambda`` (``Lambda(z, z)`` is a linear
              unit); default ``sg.sigmoid``;
            - ``bias``: ``True`` to add a bias ``b_j`` to ``z_j``; default ``False``.
        inputs: the input units, in the order of :attr:`inputs`; default every
            unit without incoming edges, in unit order. When given, they must be
            exactly the units without incoming edges.

    Attributes:
        graph: a copy of the graph given.
        units: every unit in topological order; among the orders networkx
            allows, the one closest to the graph's node order (so units
            numbered as in the notes, arrows from smaller to larger numbers,
            keep their numbering).
        input_units, outputs: the input units and the output units (the
            units without outgoing edges), in unit order.
        inputs: one input symbol per input unit (``x{label}``).
        targets: one target symbol per output unit (``t{label}``).
        weights: every parameter, in a stable order: for each non-input unit
            ``j`` in unit order, ``w_ji`` for ``i`` in its predecessors' unit
            order, then ``b_j`` if it has a bias. This is the order of ``theta``.
        weight: ``{(j, i): w_ji}``; ``bias``: ``{j: b_j}`` for the units with a bias.
        transfer: ``{j: h_j}`` for the non-input units.
        net: ``{j: z_j}`` for the non-input units.
        output: ``{j: o_j}`` for every unit (``o_i = x_i`` for an input unit).

    A cycle, an edge into a listed input, a transfer function symgrad cannot
    differentiate or an attribute of the wrong type raises a
    :class:`~symgrad.errors.DeclarationError` naming the unit.

    >>> import networkx as nx
    >>> import sympy as sp
    >>> G = nx.DiGraph([(1, 3), (2, 3), (3, 4), (1, 4)])
    >>> G.nodes[3].update(transfer=sp.tanh, bias=True)
    >>> net = Network(G)
    >>> net.inputs, net.outputs, net.weights
    ((x1, x2), (4,), (w31, w32, b3, w41, w43))
    >>> net.net[3]
    b3 + w31*x1 + w32*x2
    >>> net.output[4]
    sigmoid(w41*x1 + w43*tanh(b3 + w31*x1 + w32*x2))
    """

    def __init__(self, graph: nx.DiGraph, inputs=None):
        _check_graph(graph)
        self.graph = graph.copy()  # later edits to the caller's graph do not desynchronise the expressions
        self.units = tuple(_unit_order(graph))
        self._labels = _labels(self.units)
        self._compact = all(len(label) == 1 for label in self._labels.values())
        self.input_units = _input_units(graph, self.units, inputs)
        sources = set(self.input_units)
        self.outputs = tuple(j for j in self.units if j not in sources and graph.out_degree(j) == 0)
        if not self.outputs:
            raise DeclarationError("the network has no unit besides its inputs; add a unit that reads them")
        self.transfer = {j: _transfer(j, graph.nodes[j]) for j in self.units if j not in sources}
        for i in self.input_units:
            _check_input_unit(i, graph)

        self.inputs = tuple(self._symbol("x", i) for i in self.input_units)
        self.targets = tuple(self._symbol("t", k) for k in self.outputs)
        self.weight: dict[tuple, sp.Symbol] = {}
        self.bias: dict[object, sp.Symbol] = {}
        self.output: dict[object, sp.Expr] = dict(zip(self.input_units, self.inputs, strict=True))
        self.net: dict[object, sp.Expr] = {}
        weights = []
        for j in self.units:
            if j in sources:
                continue
            terms = []
            for i in self._in(j):
                self.weight[j, i] = w = self._symbol("w", j, i)
                weights.append(w)
                terms.append(w * self.output[i])
            if _bias(j, graph.nodes[j]):
                self.bias[j] = b = self._symbol("b", j)
                weights.append(b)
                terms.append(b)
            self.net[j] = sp.Add(*terms)
            self.output[j] = self.transfer[j](self.net[j])
        self.weights = tuple(weights)

    # -- naming ------------------------------------------------------------------
    def _symbol(self, prefix: str, *units) -> sp.Symbol:
        labels = [self._labels[u] for u in units]
        return sp.Symbol(prefix + "".join(labels) if self._compact else "_".join([prefix, *labels]))

    def local_symbol(self, kind: str, unit) -> sp.Symbol:
        """The symbol standing for ``z_j`` (``kind="z"``), ``o_j`` (``"o"``) or
        ``δ_j`` (``"delta"``) in the local forms of :meth:`deltas` and :meth:`gradient`.

        An input unit's ``o`` is its input symbol.
        """
        if kind not in ("z", "o", "delta"):
            raise DeclarationError(f"kind must be 'z', 'o' or 'delta', got {kind!r}")
        if unit not in self._labels:
            raise DeclarationError(f"{unit!r} is not a unit of this network; units: {list(self.units)}")
        if unit in self.input_units:
            if kind == "o":
                return self.output[unit]
            raise DeclarationError(f"input unit {unit!r} has no {kind}: it only copies its input")
        return self._symbol(kind, unit)

    def _in(self, j) -> list:
        """The units feeding ``j`` (In(j)), in unit order."""
        return sorted(self.graph.predecessors(j), key=self._position.__getitem__)

    def _out(self, j) -> list:
        """The units ``j`` feeds (Out(j)), in unit order."""
        return sorted(self.graph.successors(j), key=self._position.__getitem__)

    @cached_property
    def _position(self) -> dict:
        return {u: n for n, u in enumerate(self.units)}

    # -- the error and its model ---------------------------------------------------
    @property
    def error(self) -> sp.Expr:
        """One sample's squared error ``E = ½ Σ_k (o_k − t_k)²`` over the output units."""
        pairs = zip(self.outputs, self.targets, strict=True)
        return sp.Add(*((self.output[k] - t) ** 2 for k, t in pairs)) / 2

    def model(self, regularizer=None) -> Model:
        """``sg.Model`` of :attr:`error`: parameters :attr:`weights`, inputs
        :attr:`inputs`, targets :attr:`targets`, and the outputs ``o_k`` as its
        predictions (what ``compile().predict`` returns).

        For another loss, build the model from :attr:`output` yourself.
        """
        return Model(loss=self.error, params=list(self.weights), inputs=list(self.inputs),
                     targets=list(self.targets), regularizer=regularizer,
                     outputs=[self.output[k] for k in self.outputs])

    # -- backprop, the notes' way ----------------------------------------------------
    @cached_property
    def _local_deltas(self) -> dict:
        deltas = {}
        for j in reversed(self.units):
            if j in self.input_units:
                continue
            slope = _derivative(self.transfer[j], self.local_symbol("z", j))
            if j in self.outputs:
                deltas[j] = slope * (self.local_symbol("o", j) - self.targets[self.outputs.index(j)])
            else:
                deltas[j] = slope * sp.Add(*(self.local_symbol("delta", i) * self.weight[i, j]
                                             for i in self._out(j)))
        return deltas

    @cached_property
    def _deltas(self) -> dict:
        values = {}
        for j in reversed(self.units):
            if j in self.input_units:
                continue
            names = {self.local_symbol("z", j): self.net[j], self.local_symbol("o", j): self.output[j]}
            names.update({self.local_symbol("delta", i): values[i] for i in self._out(j)})
            values[j] = self._local_deltas[j].xreplace(names)
        return values

    def deltas(self, local: bool = False) -> dict:
        """``{j: δ_j}`` for every non-input unit, δ_j = ∂E/∂z_j by the notes' recursion.

        At an output unit δ_k = h′_k(z_k)·(o_k − t_k); elsewhere
        δ_j = h′_j(z_j)·Σ_{i ∈ Out(j)} δ_i w_ij.

        Args:
            local: ``False`` (default): each δ_j as an expression of the inputs,
                weights and targets. ``True``: as the recursion reads, in the
                symbols ``z_j``, ``o_j`` and ``δ_i`` of :meth:`local_symbol`.
        """
        deltas = self._local_deltas if local else self._deltas
        return {j: deltas[j] for j in self.units if j in deltas}

    def gradient(self, local: bool = False) -> dict[sp.Symbol, sp.Expr]:
        """``{weight: ∂E/∂weight}`` by the δ rule: ∂E/∂w_ji = δ_j o_i, ∂E/∂b_j = δ_j.

        In :attr:`weights` order; ``local`` as in :meth:`deltas`. The values
        equal ``self.model().gradient()``, which symgrad's reverse sweep computes.
        """
        delta = self._local_deltas if local else self._deltas

        def d(j):
            return self.local_symbol("delta", j) if local else delta[j]

        def o(i):
            return self.local_symbol("o", i) if local else self.output[i]

        result = {w: d(j) * o(i) for (j, i), w in self.weight.items()}
        result.update({b: d(j) for j, b in self.bias.items()})
        return {w: result[w] for w in self.weights}

    # -- optimising the inputs with the weights fixed -----------------------------------
    def input_gradient(self, weights, objective=None, at=None):
        """∂objective/∂inputs with the weights fixed at numbers (reverse mode, ``sg.grad``).

        Args:
            weights: ``{weight: number}`` for every weight (``FitResult.params``
                works), or the numbers in :attr:`weights` order (``FitResult.theta``).
            objective: a scalar expression of the inputs, weights and targets,
                e.g. built from :attr:`output`; default :attr:`error`.
            at: optional values of the inputs (and of the targets the objective
                reads), to get a float array instead of expressions.

        Returns:
            A list of SymPy expressions, one per input, or an array when ``at`` is given.
        """
        fixed = self._objective(objective).xreplace(self._weight_values(weights))
        return grad(fixed, list(self.inputs), at=at)

    def control_model(self, weights, targets=None, objective=None) -> Model:
        """A data-free ``sg.Model`` whose parameters are the inputs (the controls u).

        The weights are fixed at numbers, so ``sg.minimize(model, x0=...)``
        optimises the inputs: give either the ``targets`` the outputs should
        reach (minimising :attr:`error`) or any ``objective`` of the inputs and
        weights.

        Args:
            weights: as in :meth:`input_gradient`.
            targets: ``{target symbol: number}`` or numbers in :attr:`outputs` order.
            objective: a scalar expression of the inputs and weights.
        """
        if (targets is None) == (objective is None):
            raise DeclarationError("give either targets (to reach) or an objective (to minimise), not both")
        if objective is None:
            expr = self.error.xreplace(_values(self.targets, targets, "targets"))
        else:
            expr = self._objective(objective)
        fixed = expr.xreplace(self._weight_values(weights))
        stray = fixed.free_symbols - set(self.inputs)
        if stray:
            raise DeclarationError(
                f"the objective still uses {', '.join(sorted(map(str, stray)))}; with the weights fixed "
                f"it may use the inputs {', '.join(map(str, self.inputs))} only"
            )
        return Model(loss=fixed, params=list(self.inputs))

    def _weight_values(self, weights) -> dict:
        return _values(self.weights, weights, "weights")

    def _objective(self, objective) -> sp.Expr:
        if objective is None:
            return self.error
        if not isinstance(objective, sp.Expr) or isinstance(objective, sp.MatrixExpr):
            raise DeclarationError(f"objective must be a scalar SymPy expression, got {objective!r}")
        stray = objective.free_symbols - set(self.inputs + self.weights + self.targets)
        if stray:
            raise DeclarationError(
                f"the objective uses {', '.join(sorted(map(str, stray)))}, which is not a symbol of this "
                "network; use its inputs, weights and targets"
            )
        return objective

    def __repr__(self) -> str:
        return (f"Network(units={list(self.units)}, inputs={list(self.inputs)}, "
                f"outputs={list(self.outputs)}, {len(self.weights)} weights)")


# -- checks on the declaration --------------------------------------------------------
def _check_graph(graph) -> None:
    if not isinstance(graph, nx.DiGraph) or graph.is_multigraph():
        raise DeclarationError(
            f"a Network is built from a networkx.DiGraph (one edge i -> j per weight w_ji), "
            f"got {type(graph).__name__}"
        )
    if graph.number_of_nodes() == 0:
        raise DeclarationError("the graph has no units")
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    path = " -> ".join(repr(i) for i, _ in cycle) + f" -> {cycle[0][0]!r}"
    raise DeclarationError(
        f"unit {cycle[0][0]!r} is on a cycle ({path}); a feed-forward network must have no loops"
    )


def _unit_order(graph: nx.DiGraph) -> list:
    position = {u: n for n, u in enumerate(graph.nodes)}
    return list(nx.lexicographical_topological_sort(graph, key=position.__getitem__))


def _labels(units) -> dict:
    labels = {}
    for u in units:
        if isinstance(u, bool) or not (isinstance(u, int) and u >= 0 or isinstance(u, str)) \
                or not _LABEL.fullmatch(str(u)):
            raise DeclarationError(
                f"unit {u!r}: unit names must be non-negative integers or strings of letters and digits "
                "(they become part of symbol names)"
            )
        labels[u] = str(u)
    seen: dict[str, object] = {}
    for u, label in labels.items():
        if label in seen:
            raise DeclarationError(f"units {seen[label]!r} and {u!r} would get the same symbol names")
        seen[label] = u
    return labels


def _input_units(graph: nx.DiGraph, units, inputs) -> tuple:
    sources = [u for u in units if graph.in_degree(u) == 0]
    if inputs is None:
        return tuple(sources)
    if isinstance(inputs, (str, bytes)) or not hasattr(inputs, "__iter__"):
        raise DeclarationError(f"inputs must be a list of units, got {inputs!r}")
    inputs = tuple(inputs)
    for u in inputs:
        if u not in graph:
            raise DeclarationError(f"input unit {u!r} is not a unit of the graph; units: {list(units)}")
        if graph.in_degree(u):
            feeding = ", ".join(repr(i) for i in graph.predecessors(u))
            raise DeclarationError(
                f"input unit {u!r} has incoming edges (from {feeding}); an input unit only copies its input"
            )
    if len(set(inputs)) != len(inputs):
        repeated = sorted({repr(u) for u in inputs if inputs.count(u) > 1})
        raise DeclarationError(f"input unit(s) {', '.join(repeated)} listed more than once in inputs")
    for u in sources:
        if u not in inputs:
            raise DeclarationError(
                f"unit {u!r} has no incoming edges but is not listed in inputs; "
                "list it as an input or connect a unit to it"
            )
    return inputs


def _check_input_unit(unit, graph: nx.DiGraph) -> None:
    for name in _UNIT_ATTRIBUTES:
        if name in graph.nodes[unit]:
            raise DeclarationError(
                f"input unit {unit!r} has a {name!r} attribute; an input unit only copies its input "
                "(give transfer and bias to the units it feeds)"
            )
    if graph.out_degree(unit) == 0:
        raise DeclarationError(f"input unit {unit!r} feeds no unit; connect it or remove it")


def _bias(unit, attributes: Mapping) -> bool:
    value = attributes.get("bias", False)
    if not isinstance(value, bool):
        raise DeclarationError(
            f"unit {unit!r}: bias must be True or False, got {type(value).__name__} {value!r}"
        )
    return value


def _transfer(unit, attributes: Mapping):
    h = attributes.get("transfer", sigmoid)
    z = sp.Dummy("z")
    if isinstance(h, sp.Lambda):
        if len(h.variables) != 1:
            raise DeclarationError(
                f"unit {unit!r}: a transfer Lambda takes one argument, got {len(h.variables)}: {h}"
            )
    elif isinstance(h, FunctionClass) and not isinstance(h, UndefinedFunction):
        if 1 not in h.nargs:
            raise DeclarationError(f"unit {unit!r}: transfer {h} does not take one argument")
    else:
        raise DeclarationError(
            f"unit {unit!r}: transfer must be a SymPy function class (sympy.tanh, sg.sigmoid, sg.relu, ...) "
            f"or a one-argument sympy.Lambda, got {type(h).__name__} {h!r}"
        )
    body = h(z)
    stray = body.free_symbols - {z}
    if stray:
        raise DeclarationError(
            f"unit {unit!r}: transfer {h} uses {', '.join(sorted(map(str, stray)))}; "
            "a transfer function may use its argument only"
        )
    try:
        to_graph(body)
    except SymgradError as error:
        raise type(error)(f"unit {unit!r}: transfer {h} cannot be differentiated: {error}") from error
    return h


def _derivative(h, z: sp.Symbol) -> sp.Expr:
    """``h′(z)``, from ``sympy.diff`` of the transfer function alone."""
    d = sp.Dummy("d")
    return sp.diff(h(d), d).xreplace({d: z})


# -- numbers for fixed weights and targets ---------------------------------------------
def _values(symbols: tuple, values, what: str) -> dict:
    """``{symbol: SymPy number}`` from a mapping over ``symbols`` or a sequence in their order."""
    if isinstance(values, Mapping):
        extra = [k for k in values if k not in symbols]
        if extra:
            named = any(isinstance(k, str) for k in extra)
            hint = " (keys are the symbols, not their names)" if named else ""
            raise DeclarationError(
                f"{what}: {', '.join(map(repr, extra))} not among {', '.join(map(str, symbols))}{hint}"
            )
        missing = [s for s in symbols if s not in values]
        if missing:
            raise EvaluationError(f"{what}: no value for {', '.join(map(str, missing))}")
        pairs = [(s, values[s]) for s in symbols]
    else:
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
            raise DeclarationError(
                f"{what} must be a mapping {{symbol: number}} or a sequence of numbers, got {values!r}"
            )
        if len(values) != len(symbols) or getattr(values, "ndim", 1) != 1:
            raise ShapeError(
                f"{what}: expected {len(symbols)} numbers (for {', '.join(map(str, symbols))}), "
                f"got {getattr(values, 'shape', len(values))}"
            )
        pairs = list(zip(symbols, values, strict=True))
    return {s: _number(v, s, what) for s, v in pairs}


def _number(value, symbol: sp.Symbol, what: str) -> sp.Expr:
    if isinstance(value, sp.Basic) and value.is_number and value.is_extended_real:
        number = value
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        number = sp.Integer(int(value))
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = sp.Float(float(value))
    else:
        raise EvaluationError(f"{what}: the value of {symbol} must be a real number, got {value!r}")
    if not (number.is_finite and math.isfinite(float(number))):
        raise EvaluationError(f"{what}: the value of {symbol} must be finite, got {value!r}")
    return number
