"""Feed-forward networks as DAGs of units: naming, the notes' δ rule, input optimisation, errors.

References are independent of :mod:`symgrad.nn.network`: the network's formulas
written out by hand in SymPy and numpy, central finite differences of that numpy
forward pass, symgrad's own reverse sweep (``Model.gradient``) and the notes'
seed-003 model as the demo builds it.
"""

import networkx as nx
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import DeclarationError, EvaluationError, ShapeError, SymgradError
from symgrad.nn.network import Network

z = sp.Symbol("z")
LINEAR = sp.Lambda(z, z)
NAMES = "x1 x2 t5 t6 w31 w32 b3 w41 w42 w43 w51 w53 w54 b5 w62 w64"
x1, x2, t5, t6, w31, w32, b3, w41, w42, w43, w51, w53, w54, b5, w62, w64 = sp.symbols(NAMES)
WEIGHTS = [w31, w32, b3, w41, w42, w43, w51, w53, w54, b5, w62, w64]

# Central differences with step 1e-6: truncation ~h²·|f'''| ≈ 1e-12, rounding ~1e-16/h = 1e-10.
STEP, FD_TOL = 1e-6, 1e-8


def dag() -> nx.DiGraph:
    """Two inputs, a tanh unit with bias, a sigmoid unit fed by it, and two outputs:
    a sigmoid with bias that input 1 reaches directly (skip connection) and a
    linear one that input 2 reaches directly."""
    G = nx.DiGraph([(1, 3), (2, 3), (1, 4), (2, 4), (3, 4), (3, 5), (4, 5), (1, 5), (4, 6), (2, 6)])
    G.nodes[3].update(transfer=sp.tanh, bias=True)
    G.nodes[5].update(transfer=sg.sigmoid, bias=True)
    G.nodes[6].update(transfer=LINEAR)
    return G


def numpy_forward(p, x, shift=None):
    """The same network written out by hand: returns {unit: o_j}; ``shift`` adds to z_j."""
    s = {3: 0.0, 4: 0.0, 5: 0.0, 6: 0.0, **(shift or {})}

    def logistic(v):
        return 1 / (1 + np.exp(-v))

    o3 = np.tanh(p["w31"] * x[0] + p["w32"] * x[1] + p["b3"] + s[3])
    o4 = logistic(p["w41"] * x[0] + p["w42"] * x[1] + p["w43"] * o3 + s[4])
    o5 = logistic(p["w51"] * x[0] + p["w53"] * o3 + p["w54"] * o4 + p["b5"] + s[5])
    o6 = p["w62"] * x[1] + p["w64"] * o4 + s[6]
    return {3: o3, 4: o4, 5: o5, 6: o6}


def numpy_error(p, x, t, shift=None):
    o = numpy_forward(p, x, shift)
    return ((o[5] - t[0]) ** 2 + (o[6] - t[1]) ** 2) / 2


def central(f, v, h=STEP):
    return (f(v + h) - f(v - h)) / (2 * h)


@pytest.fixture(scope="module")
def net():
    return Network(dag())


@pytest.fixture
def point(rng):
    """A random point as floats (for numpy) and as SymPy numbers."""
    values = dict(zip(WEIGHTS + [x1, x2, t5, t6], rng.uniform(-1.5, 1.5, len(WEIGHTS) + 4), strict=True))
    return {str(s): float(v) for s, v in values.items()}, {s: sp.Float(v, 30) for s, v in values.items()}


def value(expr, at) -> float:
    return float(sp.N(expr.xreplace(at), 30))


# -- declaration --------------------------------------------------------------------------
def test_symbols_follow_the_naming_rule_and_the_documented_order(net):
    assert net.units == (1, 2, 3, 4, 5, 6)
    assert net.input_units == (1, 2) and net.outputs == (5, 6)
    assert net.inputs == (x1, x2) and net.targets == (t5, t6)
    # per non-input unit in unit order: incoming weights in unit order, then the bias
    assert list(net.weights) == WEIGHTS
    assert net.weight[5, 1] == w51 and net.bias == {3: b3, 5: b5}


def test_multi_character_unit_names_get_separated_symbol_names():
    G = nx.DiGraph([("in1", "h"), ("in2", "h"), ("h", "out"), ("in1", "out")])
    G.nodes["out"]["bias"] = True
    net = Network(G)
    assert [str(s) for s in net.weights] == ["w_h_in1", "w_h_in2", "w_out_in1", "w_out_h", "b_out"]
    assert [str(s) for s in net.inputs + net.targets] == ["x_in1", "x_in2", "t_out"]
    assert str(net.local_symbol("delta", "h")) == "delta_h"


def test_unit_order_follows_the_node_order_where_the_edges_allow():
    G = nx.DiGraph()
    G.add_nodes_from(["c", "a", "b"])
    G.add_edges_from([("a", "b"), ("c", "b")])
    assert Network(G).units == ("c", "a", "b")
    late_input = nx.DiGraph([(3, 4), (1, 3), (2, 4)])   # node order 3, 4, 1, 2
    assert Network(late_input).units == (1, 3, 2, 4)


def test_net_inputs_and_outputs_are_the_notes_formulas(net):
    o3 = sp.tanh(w31 * x1 + w32 * x2 + b3)
    o4 = sg.sigmoid(w41 * x1 + w42 * x2 + w43 * o3)
    assert net.net[3] == w31 * x1 + w32 * x2 + b3 and net.output[3] == o3
    assert net.output[4] == o4
    assert net.net[5] == w51 * x1 + w53 * o3 + w54 * o4 + b5
    assert net.output[6] == w62 * x2 + w64 * o4
    assert net.output[1] == x1
    expected = ((sg.sigmoid(net.net[5]) - t5) ** 2 + (w62 * x2 + w64 * o4 - t6) ** 2) / 2
    assert sp.expand(net.error - expected) == 0


def test_forward_pass_agrees_with_numpy(net, point):
    p, at = point
    reference = numpy_forward(p, [p["x1"], p["x2"]])
    for unit, o in reference.items():
        assert value(net.output[unit], at) == pytest.approx(o, rel=1e-14, abs=1e-15)


def test_seed003_network_is_the_notes_model(seed003):
    notes, exact = seed003
    net = Network(nx.DiGraph([(1, 3), (2, 3), (1, 4), (2, 4), (3, 5), (4, 5)]))
    t = sp.Symbol("t")
    assert net.error.xreplace({t5: t}) == notes.loss
    assert list(net.weights) == list(notes.params) and list(net.inputs) == list(notes.inputs)
    at = {**exact, t5: exact[t]}
    # the worked example's exact value (docs/worked-examples.md, examples/backprop_by_hand.py)
    assert f"{sp.N(net.gradient()[w53].xreplace(at), 10)}" == "0.02767403494"


# -- backprop ---------------------------------------------------------------------------------
def test_deltas_are_dE_dz_by_finite_differences(net, point):
    p, at = point
    x, t = [p["x1"], p["x2"]], [p["t5"], p["t6"]]
    deltas = net.deltas()
    assert set(deltas) == {3, 4, 5, 6}
    for unit, delta in deltas.items():
        fd = central(lambda h, unit=unit: numpy_error(p, x, t, {unit: h}), 0.0)
        assert value(delta, at) == pytest.approx(fd, abs=FD_TOL)


def test_delta_rule_gradient_equals_symgrads_reverse_sweep(net, random_point):
    model = net.model()
    reverse = model.gradient()
    backprop = net.gradient()
    assert list(backprop) == list(net.weights)
    for _ in range(3):
        at = random_point(list(net.weights) + list(net.inputs) + list(net.targets))
        for w in net.weights:
            # two symbolic forms of one derivative at exact rationals, evaluated to 30 digits
            assert value(backprop[w], at) == pytest.approx(value(reverse[w], at), rel=1e-25, abs=1e-25)


def test_delta_rule_gradient_matches_central_differences(net, point):
    p, at = point
    x, t = [p["x1"], p["x2"]], [p["t5"], p["t6"]]
    gradient = net.gradient()
    for w in net.weights:
        name = str(w)
        fd = central(lambda v, name=name: numpy_error({**p, name: v}, x, t), p[name])
        assert value(gradient[w], at) == pytest.approx(fd, abs=FD_TOL), name


def test_local_forms_are_the_notes_recursion(net):
    d = {j: net.local_symbol("delta", j) for j in (3, 4, 5, 6)}
    zs = {j: net.local_symbol("z", j) for j in (3, 4, 5, 6)}
    o3, o4, o5, o6 = (net.local_symbol("o", j) for j in (3, 4, 5, 6))
    local = net.deltas(local=True)
    assert sp.simplify(local[3] - (1 - sp.tanh(zs[3]) ** 2) * (d[4] * w43 + d[5] * w53)) == 0
    s4 = 1 / (1 + sp.exp(-zs[4]))
    assert sp.simplify(sg.expand_activations(local[4]) - s4 * (1 - s4) * (d[5] * w54 + d[6] * w64)) == 0
    s5 = 1 / (1 + sp.exp(-zs[5]))
    assert sp.simplify(sg.expand_activations(local[5]) - s5 * (1 - s5) * (o5 - t5)) == 0
    assert local[6] == o6 - t6       # linear output unit: h' = 1
    gradient = net.gradient(local=True)
    assert gradient[w53] == d[5] * o3 and gradient[w54] == d[5] * o4
    assert gradient[w51] == d[5] * x1    # the skip connection: o_1 is the input x1
    assert gradient[b5] == d[5]


def test_relu_and_softplus_units_follow_the_same_rule(random_point):
    G = nx.DiGraph([("a", "h"), ("b", "h"), ("a", "g"), ("h", "g"), ("h", "y"), ("g", "y"), ("b", "y")])
    G.nodes["h"].update(transfer=sg.relu, bias=True)
    G.nodes["g"].update(transfer=sg.softplus)
    G.nodes["y"].update(transfer=sp.tanh)
    net = Network(G)
    reverse, backprop = net.model().gradient(), net.gradient()
    for _ in range(3):
        at = random_point(list(net.weights) + list(net.inputs) + list(net.targets))
        for w in net.weights:
            assert value(backprop[w], at) == pytest.approx(value(reverse[w], at), rel=1e-25, abs=1e-25)


def test_the_model_compiles_and_its_kernels_pass_the_gradient_check(net, rng):
    model = net.model()
    X, T = rng.uniform(-1, 1, (16, 2)), rng.uniform(0, 1, (16, 2))
    report = sg.gradcheck(model, rng.uniform(-1, 1, len(net.weights)), X, T, seed=0)
    assert report.ok


# -- inputs as controls ---------------------------------------------------------------------
def test_input_gradient_matches_central_differences(net, point):
    p, at = point
    x, t = np.array([p["x1"], p["x2"]]), [p["t5"], p["t6"]]
    weights = {w: p[str(w)] for w in net.weights}
    gradient = net.input_gradient(weights)
    assert all(g.free_symbols <= {x1, x2, t5, t6} for g in gradient)
    numeric = net.input_gradient(weights, at={x1: x[0], x2: x[1], t5: t[0], t6: t[1]})
    for k in range(2):
        def f(v, k=k):
            return numpy_error(p, np.where(np.arange(2) == k, v, x), t)
        fd = central(f, x[k])
        assert value(gradient[k], at) == pytest.approx(fd, abs=FD_TOL)
        assert numeric[k] == pytest.approx(fd, abs=FD_TOL)


def test_input_gradient_of_any_objective_of_the_outputs(net, point):
    p, at = point
    x = np.array([p["x1"], p["x2"]])
    weights = [p[str(w)] for w in net.weights]     # a flat vector in weights order
    gradient = net.input_gradient(weights, objective=net.output[5] * net.output[6])
    for k in range(2):
        def f(v, k=k):
            o = numpy_forward(p, np.where(np.arange(2) == k, v, x))
            return o[5] * o[6]
        assert value(gradient[k], at) == pytest.approx(central(f, x[k]), abs=FD_TOL)


def test_minimising_over_the_inputs_drives_the_output_to_its_target():
    # seed 004's setting: trained weights fixed, the controls u are the parameters
    G = nx.DiGraph([(1, 3), (2, 3), (3, 4), (1, 4)])
    G.nodes[3]["transfer"] = sp.tanh
    net = Network(G)
    weights = {net.weight[3, 1]: 0.5, net.weight[3, 2]: -1.0, net.weight[4, 1]: -1.0, net.weight[4, 3]: 2.0}
    controls = net.control_model(weights, targets={t: 0.9 for t in net.targets})
    assert controls.params == net.inputs and not controls.inputs
    res = sg.minimize(controls, x0={x1: 1.0, x2: 0.0}, optimizer=sg.optim.GD(lr=2.0), max_iter=3000, tol=1e-9)
    u1, u2 = res.params[x1], res.params[x2]
    reached = 1 / (1 + np.exp(-(-u1 + 2 * np.tanh(0.5 * u1 - u2))))   # the network by hand
    assert reached == pytest.approx(0.9, abs=1e-6)
    # the controls model's gradient is the input gradient: compare with central differences
    g = controls.gradient()
    def e(a, b):
        return (1 / (1 + np.exp(-(-a + 2 * np.tanh(0.5 * a - b)))) - 0.9) ** 2 / 2
    at = {x1: sp.Float(0.3, 30), x2: sp.Float(-0.7, 30)}
    assert value(g[x1], at) == pytest.approx(central(lambda a: e(a, -0.7), 0.3), abs=FD_TOL)
    assert value(g[x2], at) == pytest.approx(central(lambda b: e(0.3, b), -0.7), abs=FD_TOL)


def test_control_model_takes_an_objective_and_fit_results(net, rng):
    theta = rng.uniform(-1, 1, len(net.weights))
    by_symbol = dict(zip(net.weights, theta, strict=True))
    a = net.control_model(theta, objective=(net.output[5] - net.output[6]) ** 2)
    b = net.control_model(by_symbol, objective=(net.output[5] - net.output[6]) ** 2)
    assert a.loss == b.loss and a.loss.free_symbols == {x1, x2}
    at = {x1: sp.Float(0.25, 30), x2: sp.Float(-0.5, 30)}
    p = {str(w): v for w, v in by_symbol.items()}
    o = numpy_forward(p, [0.25, -0.5])
    assert value(a.loss, at) == pytest.approx((o[5] - o[6]) ** 2, rel=1e-13)


# -- errors ------------------------------------------------------------------------------------
def graph_with(edges, **attributes):
    G = nx.DiGraph(edges)
    for unit, attrs in attributes.items():
        G.nodes[int(unit[1:]) if unit[1:].isdigit() else unit[1:]].update(attrs)
    return G


DECLARATION_ERRORS = [
    ("cycle", nx.DiGraph([(1, 2), (2, 3), (3, 2), (3, 4)]), {}, "unit 2 is on a cycle \\(2 -> 3 -> 2\\)"),
    ("self loop", nx.DiGraph([(1, 2), (2, 2)]), {}, "unit 2 is on a cycle"),
    ("undirected", nx.Graph([(1, 2)]), {}, "networkx.DiGraph.*got Graph"),
    ("multigraph", nx.MultiDiGraph([(1, 2), (1, 2)]), {}, "got MultiDiGraph"),
    ("empty", nx.DiGraph(), {}, "no units"),
    ("inputs only", nx.empty_graph([1, 2], create_using=nx.DiGraph), {},
     "no unit besides its inputs"),
    ("transfer string", graph_with([(1, 2)], u2={"transfer": "tanh"}), {},
     "unit 2: transfer must be a SymPy function class.*got str 'tanh'"),
    ("transfer numpy", graph_with([(1, 2)], u2={"transfer": np.tanh}), {}, "unit 2: transfer must be"),
    ("transfer python lambda", graph_with([(1, 2)], u2={"transfer": lambda v: sp.tanh(v)}), {},
     "unit 2: transfer must be"),
    ("undefined function", graph_with([(1, 2)], u2={"transfer": sp.Function("h")}), {},
     "unit 2: transfer must be"),
    ("two-argument Lambda", graph_with([(1, 2)], u2={"transfer": sp.Lambda((z, sp.Symbol("y")), z)}), {},
     "unit 2: a transfer Lambda takes one argument"),
    ("Lambda with a free symbol", graph_with([(1, 2)], u2={"transfer": sp.Lambda(z, sp.Symbol("a") * z)}),
     {}, "unit 2: transfer .* uses a"),
    ("bias not a bool", graph_with([(1, 2)], u2={"bias": "yes"}), {}, "unit 2: bias must be True or False"),
    ("bias an int", graph_with([(1, 2)], u2={"bias": 1}), {}, "unit 2: bias must be True or False, got int"),
    ("transfer on an input", graph_with([(1, 2)], u1={"transfer": sp.tanh}), {},
     "input unit 1 has a 'transfer' attribute"),
    ("missing input", nx.DiGraph([(1, 2)]), {"inputs": [1, 5]},
     "input unit 5 is not a unit of the graph"),
    ("edge into an input", nx.DiGraph([(1, 2), (2, 3)]), {"inputs": [1, 2]},
     "input unit 2 has incoming edges \\(from 1\\)"),
    ("unlisted source", nx.DiGraph([(1, 3), (2, 3)]), {"inputs": [1]},
     "unit 2 has no incoming edges but is not listed in inputs"),
    ("repeated input", nx.DiGraph([(1, 3), (2, 3)]), {"inputs": [1, 2, 1]},
     "input unit\\(s\\) 1 listed more"),
    ("bad unit name", nx.DiGraph([("h 1", "y")]), {}, "unit 'h 1': unit names must be"),
    ("tuple unit", nx.DiGraph([(("h", 1), "y")]), {}, "unit \\('h', 1\\): unit names must be"),
    ("same labels", nx.DiGraph([(1, "1")]), {}, "units 1 and '1' would get the same symbol names"),
]


@pytest.mark.parametrize("graph, kwargs, message", [case[1:] for case in DECLARATION_ERRORS],
                         ids=[case[0] for case in DECLARATION_ERRORS])
def test_bad_declarations_name_the_unit(graph, kwargs, message):
    with pytest.raises(DeclarationError, match=message):
        Network(graph, **kwargs)


def test_isolated_input_and_untransformable_transfer():
    G = nx.DiGraph([(1, 3)])
    G.add_node(2)
    with pytest.raises(DeclarationError, match="input unit 2 feeds no unit"):
        Network(G)
    G = nx.DiGraph([(1, 2)])
    G.nodes[2]["transfer"] = sp.floor
    with pytest.raises(sg.errors.UnsupportedOperationError, match="unit 2: transfer floor cannot be"):
        Network(G)


def test_bad_fixed_values_are_named(net):
    good = dict.fromkeys(net.weights, 0.5)
    cases = [
        (lambda: net.input_gradient({**good, sp.Symbol("w99"): 1}), DeclarationError, "w99 not among"),
        (lambda: net.input_gradient({"w31": 1}), DeclarationError, "'w31' not among.*not their names"),
        (lambda: net.input_gradient({w: 1 for w in net.weights[1:]}), EvaluationError, "no value for w31"),
        (lambda: net.input_gradient({**good, w43: float("nan")}), EvaluationError, "w43 must be finite"),
        (lambda: net.input_gradient({**good, w43: "1"}), EvaluationError, "w43 must be a real number"),
        (lambda: net.input_gradient({**good, w43: True}), EvaluationError, "w43 must be a real number"),
        (lambda: net.input_gradient(np.ones(3)), ShapeError, "expected 12 numbers"),
        (lambda: net.input_gradient(np.ones((12, 1))), ShapeError, "expected 12 numbers"),
        (lambda: net.input_gradient(good, objective=sp.Symbol("q") * x1), DeclarationError, "uses q"),
        (lambda: net.control_model(good), DeclarationError, "either targets"),
        (lambda: net.control_model(good, targets=[1], objective=x1), DeclarationError, "either targets"),
        (lambda: net.control_model(good, targets=[1.0]), ShapeError, "targets: expected 2 numbers"),
        (lambda: net.control_model(good, objective=net.error), DeclarationError, "still uses t5, t6"),
        (lambda: net.local_symbol("zeta", 3), DeclarationError, "kind must be"),
        (lambda: net.local_symbol("z", 9), DeclarationError, "9 is not a unit"),
        (lambda: net.local_symbol("delta", 1), DeclarationError, "input unit 1 has no delta"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()
        assert issubclass(error, SymgradError)
