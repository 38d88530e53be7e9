"""Structure of the computational graph produced by ``sg.graph``.

Checked independently of symgrad's own walk: node expressions are rebuilt
from their operands' expressions and compared with SymPy, node counts are
compared with SymPy's own set of distinct subexpressions, and errors are
checked to name the offending construct.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import SymgradError, UnsupportedOperationError

x, y, z, t = sp.symbols("x y z t", real=True)

LEAF_OPS = {"symbol", "constant", "boolean"}
BOOLEAN_TYPES = (sp.core.relational.Relational, sp.logic.boolalg.BooleanFunction,
                 sp.logic.boolalg.BooleanAtom)
ROLES = {"param", "input", "target", "variable", "constant"}

SAMPLES = [
    sp.sin(x * y) + x * y,
    sp.exp(-(x**2)) * sp.log(1 + y**2) + sp.sqrt(1 + x**2) * sp.exp(-(x**2)),
    sg.sigmoid(x * y + z) * sg.softplus(x * y + z) - sg.relu(z),
    sp.Max(x, y, z) + sp.Min(x, y) * sp.Abs(x - y),
    sp.Piecewise((x**2, x < y), (sp.cos(y), (x > 0) & (y < 1)), (3 * x, True)),
    sp.Heaviside(x - y) * z + sp.sign(z) * sp.tanh(x) + sp.atan(y) ** sp.Rational(3, 2),
]


def rebuilt(graph, node):
    """The node's SymPy expression rebuilt from its operands' expressions."""
    data = graph.nodes[node]
    args = [graph.nodes[o]["expr"] for o in data["operands"]]
    if data["op"] == "Piecewise":
        return sp.Piecewise(*zip(args[0::2], args[1::2], strict=True))
    return type(data["expr"])(*args)


@pytest.mark.parametrize("expr", SAMPLES, ids=range(len(SAMPLES)))
def test_node_attributes_and_edges(expr):
    G = sg.graph(expr)
    assert isinstance(G, nx.DiGraph)
    assert nx.is_directed_acyclic_graph(G)
    assert set(G.nodes) == set(range(G.number_of_nodes()))
    for node, data in G.nodes(data=True):
        assert {"op", "shape", "expr", "operands", "dtype"} <= set(data), data
        assert data["shape"] == ()
        assert isinstance(data["expr"], sp.Basic)
        assert isinstance(data["operands"], tuple)
        # ids are topological: operands come first
        assert all(isinstance(o, int) and o < node for o in data["operands"])
        # (not sp.Boolean: SymPy's Symbol subclasses it)
        is_bool = isinstance(data["expr"], BOOLEAN_TYPES)
        assert data["dtype"] == ("bool" if is_bool else "real"), data
        if data["op"] in LEAF_OPS:
            assert data["operands"] == ()
            assert data["role"] in ROLES
            if data["op"] == "symbol":
                assert isinstance(data["expr"], sp.Symbol)
            else:
                assert data["role"] == "constant"
        else:
            assert data["operands"], data
            assert rebuilt(G, node) == data["expr"], (node, data)
        # edges: exactly one per distinct operand, carrying the positions
        positions: dict[int, list[int]] = {}
        for pos, operand in enumerate(data["operands"]):
            positions.setdefault(operand, []).append(pos)
        assert set(G.predecessors(node)) == set(positions)
        for operand, where in positions.items():
            edge = G.edges[operand, node]
            assert edge["pos"] == where[0]
            assert tuple(edge.get("positions", (edge["pos"],))) == tuple(where)
    # one node per distinct subexpression (hash-consing), compared with SymPy
    assert G.graph["outputs"] == [max(G.nodes)]
    assert G.nodes[G.graph["outputs"][0]]["expr"] == expr
    exprs = [d["expr"] for _, d in G.nodes(data=True)]
    assert len(exprs) == len(set(exprs)), "a subexpression appears as two nodes"


def test_shared_subexpression_is_one_node_with_two_consumers():
    G = sg.graph(sp.sin(x * y) + x * y)
    muls = [n for n, d in G.nodes(data=True) if d["op"] == "Mul"]
    assert len(muls) == 1
    (mul,) = muls
    assert G.nodes[mul]["expr"] == x * y
    consumers = {G.nodes[s]["op"] for s in G.successors(mul)}
    assert consumers == {"sin", "Add"}
    assert sorted(d["op"] for _, d in G.nodes(data=True)) == ["Add", "Mul", "sin", "symbol", "symbol"]


def test_node_count_equals_distinct_subexpressions():
    # SymPy's preorder traversal visits shared subtrees repeatedly; the set of
    # what it visits is the set of distinct subexpressions, one node each
    # (Max/Min of >2 args aside, which become chains: none here).
    expr = (sp.sin(x * y) + sp.cos(x * y)) * sp.exp(sp.sin(x * y)) + (x * y) ** 2 + sp.log(1 + (x * y) ** 2)
    G = sg.graph(expr)
    distinct = set(sp.preorder_traversal(expr))
    assert G.number_of_nodes() == len(distinct)
    assert {d["expr"] for _, d in G.nodes(data=True)} == distinct


def test_outputs_are_listed_in_order_and_share_nodes():
    exprs = [sp.sin(x * y), x * y, sp.exp(x * y) + z, x * y]
    G = sg.graph(exprs)
    outs = G.graph["outputs"]
    assert len(outs) == 4
    assert [G.nodes[o]["expr"] for o in outs] == exprs
    assert outs[1] == outs[3]  # the same expression is the same node
    assert sum(1 for _, d in G.nodes(data=True) if d["op"] == "Mul") == 1
    # nodes are shared between outputs: x*y feeds sin, exp, and is an output itself
    assert G.out_degree(outs[1]) == 2


def test_roles_are_recorded_on_leaves():
    expr = (sg.sigmoid(x * t + y) - z) ** 2 + 3
    G = sg.graph(expr, roles={x: "param", y: "param", t: "input", z: "target"})
    roles = {d["expr"]: d["role"] for _, d in G.nodes(data=True) if d["op"] == "symbol"}
    assert roles == {x: "param", y: "param", t: "input", z: "target"}
    for _, d in G.nodes(data=True):
        if d["op"] == "constant":
            assert d["role"] == "constant"
        elif d["op"] not in LEAF_OPS:
            assert "role" not in d or d["role"] is None
    # unlisted symbols are plain variables
    G = sg.graph(expr, roles={x: "param"})
    roles = {d["expr"]: d["role"] for _, d in G.nodes(data=True) if d["op"] == "symbol"}
    assert roles == {x: "param", y: "variable", t: "variable", z: "variable"}


@pytest.mark.parametrize("func, n", [(sp.Max, 3), (sp.Max, 4), (sp.Min, 3), (sp.Min, 5)])
def test_nary_max_min_lower_to_binary_nodes(func, n):
    symbols = sp.symbols(f"a0:{n}", real=True)
    expr = func(*symbols)
    G = sg.graph(expr)
    nodes = [node for node, d in G.nodes(data=True) if d["op"] == func.__name__]
    assert len(nodes) == n - 1
    for node in nodes:
        assert len(G.nodes[node]["operands"]) == 2
        assert rebuilt(G, node) == G.nodes[node]["expr"]
    # the chain computes the same function as the n-ary original
    out = G.graph["outputs"][0]
    assert G.nodes[out]["expr"] == expr
    leaves = {G.nodes[n_]["expr"] for n_ in nx.ancestors(G, out) if G.nodes[n_]["op"] == "symbol"}
    assert leaves == set(symbols)


def test_piecewise_conditions_are_boolean_nodes():
    expr = sp.Piecewise((x**2, x < y), (sp.cos(y), (x > 0) & (y < 1)), (3 * x, True))
    G = sg.graph(expr)
    (pw,) = [n for n, d in G.nodes(data=True) if d["op"] == "Piecewise"]
    ops = [G.nodes[o]["op"] for o in G.nodes[pw]["operands"]]
    dtypes = [G.nodes[o]["dtype"] for o in G.nodes[pw]["operands"]]
    assert len(ops) == 6
    assert dtypes == ["real", "bool"] * 3
    assert ops[1] == "Lt" and ops[3] == "And" and ops[5] == "boolean"


# --- unsupported constructs --------------------------------------------------

A = sp.MatrixSymbol("A", 2, 2)
# (expression, ids, spellings of the offending construct; the message must contain one)
UNSUPPORTED = [
    (sp.Function("f")(x), "undefined-f", ("f(x)",)),
    (sp.Function("g")(x, y) + x, "undefined-g", ("g(x, y)",)),
    (sp.Integral(sp.exp(-x * y), (y, 0, 1)), "Integral", ("Integral",)),
    (sp.floor(x) * y, "floor", ("floor",)),
    (sp.I * x, "I*x", ("ImaginaryUnit", "'I'", "I*x")),
    (sp.sin(x) + sp.I, "sin+I", ("ImaginaryUnit", "'I'")),
    (A, "MatrixSymbol", ("MatrixSymbol",)),
    (A[0, 1] * x, "MatrixElement", ("MatrixElement", "A[0, 1]")),
    (sp.gamma(x), "gamma", ("gamma",)),
    (sp.Derivative(sp.Function("h")(x), x), "Derivative", ("Derivative",)),
]


@pytest.mark.parametrize(
    "expr, names", [(e, n) for e, _, n in UNSUPPORTED], ids=[i for _, i, _ in UNSUPPORTED]
)
@pytest.mark.parametrize("entry", ["graph", "grad", "program"])
def test_unsupported_construct_is_named(expr, names, entry):
    if entry == "grad" and expr == A[0, 1] * x:
        # sg.grad writes matrices out element by element, so a matrix element is a variable there.
        assert sg.grad(expr, [x]) == [A[0, 1]]
        return
    call = {
        "graph": lambda: sg.graph(expr),
        "grad": lambda: sg.grad(expr, [x]),
        "program": lambda: sg.program(expr, [x]),
    }[entry]
    with pytest.raises(UnsupportedOperationError) as info:
        call()
    assert isinstance(info.value, SymgradError)
    message = str(info.value)
    assert any(name in message for name in names), message


def test_complex_number_message_says_complex():
    """ops.py has a dedicated hint for complex numbers ("complex numbers are not
    supported; expressions must be real-valued"); an imaginary unit must get it."""
    with pytest.raises(UnsupportedOperationError) as info:
        sg.graph(sp.I * x)
    assert "complex" in str(info.value).lower(), str(info.value)


def test_explicit_matrix_is_rejected_by_graph_like_by_grad():
    """A (mutable) Matrix is a matrix-valued expression: grad and program reject
    it, and graph must not silently flatten it into several outputs."""
    M = sp.Matrix([[x, y], [y, x]])
    with pytest.raises(UnsupportedOperationError):
        sg.grad(M, [x])
    with pytest.raises(UnsupportedOperationError):
        sg.graph(M)


def test_python_number_is_a_constant_graph_or_a_symgrad_error():
    """The lowering sympifies plain Python numbers given as outputs; a bare
    number must give a one-node graph (or at worst a SymgradError, since every
    error a user can provoke derives from it), never a raw TypeError."""
    G = sg.graph([2.5])  # inside a list this path works
    assert [d["op"] for _, d in G.nodes(data=True)] == ["constant"]
    try:
        G = sg.graph(3)
    except SymgradError:
        return
    assert [d["op"] for _, d in G.nodes(data=True)] == ["constant"]


# --- deep and wide expressions -------------------------------------------------

DEPTH = 3000


def nested_sin(depth):
    # SymPy itself recurses when it auto-evaluates sin(sin(...)) or hashes a
    # deep tree for the first time, so the chain is built unevaluated and
    # hashed level by level (each hash is then cached) -- this only keeps
    # SymPy out of the way; symgrad is what is under test.
    expr = x
    for _ in range(depth):
        expr = sp.sin(expr, evaluate=False)
        hash(expr)
    return expr


def test_deep_nested_chain_does_not_recurse():
    expr = nested_sin(DEPTH)
    G = sg.graph(expr)  # RecursionError would propagate and fail the test
    assert G.number_of_nodes() == DEPTH + 1
    assert sum(1 for _, d in G.nodes(data=True) if d["op"] == "sin") == DEPTH
    assert nx.dag_longest_path_length(G) == DEPTH

    prog = sg.program(expr, [x])
    values = prog.evaluate({x: 0.5})
    # independent reference: the chain rule unrolled in plain floats
    s, d = 0.5, 1.0
    for _ in range(DEPTH):
        d *= math.cos(s)
        s = math.sin(s)
    assert math.isclose(float(values[("value", 0)]), s, rel_tol=1e-12)
    assert math.isclose(float(values[("grad", 0, 0)]), d, rel_tol=1e-9)


def test_deep_nested_sum_does_not_recurse():
    symbols = sp.symbols(f"s0:{DEPTH}", real=True)
    expr = symbols[0]
    for s in symbols[1:]:
        expr = sp.Add(expr, sp.sin(s), evaluate=False)
        hash(expr)
    G = sg.graph(expr)
    assert sum(1 for _, d in G.nodes(data=True) if d["op"] == "Add") == DEPTH - 1
    point = {s: 0.25 for s in symbols}
    values = sg.program(expr, [symbols[0], symbols[7]]).evaluate(point)
    assert float(values[("grad", 0, 0)]) == 1.0
    assert math.isclose(float(values[("grad", 0, 1)]), math.cos(0.25), rel_tol=1e-14)


def test_wide_sum_of_5000_terms():
    symbols = sp.symbols("s0:5000", real=True)
    expr = sp.Add(*[s**2 for s in symbols])
    G = sg.graph(expr)
    (out,) = G.graph["outputs"]
    assert G.nodes[out]["op"] == "Add"
    assert len(G.nodes[out]["operands"]) == 5000
    assert G.number_of_nodes() == 1 + 5000 + 5000 + 1  # Add, squares, symbols, the constant 2
    wrt = [symbols[0], symbols[4999], symbols[1234]]
    point = {s: float(i % 7) - 3 for i, s in enumerate(symbols)}
    g = sg.grad(expr, wrt, at=point)
    np.testing.assert_array_equal(g, [2 * point[s] for s in wrt])
