"""The straight-line helpers of the scalar kernels (symgrad.codegen.unrolled) and the rewriting
that calls them (symgrad.codegen.dots), checked against plain numpy and term-by-term printing."""

import importlib.util

import numba
import numpy as np
import pytest
import sympy as sp
from numba.core.errors import TypingError

import symgrad as sg
from symgrad.codegen.dots import Packer
from symgrad.codegen.kernels import generate_source
from symgrad.codegen.printer import NumbaPrinter
from symgrad.codegen.unrolled import add_entries, dot, gather, gather_row, place, store


def _halves(terms: list[float]) -> float:
    """The documented order: the first half's sum plus the second half's, recursively."""
    if len(terms) == 1:
        return terms[0]
    half = len(terms) // 2
    return _halves(terms[:half]) + _halves(terms[half:])


@numba.njit
def _gathered_dot(theta, a, b, c):
    weights = gather(theta, "4,0,2,7,1")
    return weights, dot(weights, (a, b, c, a * b, 2), "0,1,2,3,4")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gather_and_dot_against_numpy(dtype):
    rng = np.random.default_rng(5)
    theta = rng.standard_normal(8).astype(dtype)
    a, b, c = (dtype(v) for v in rng.standard_normal(3))
    weights, value = _gathered_dot(theta, a, b, c)
    np.testing.assert_array_equal(np.array(weights), theta[[4, 0, 2, 7, 1]])
    # The integer 2 in the values is converted to theta's type; products and sums are in that type.
    terms = [theta[4] * a, theta[0] * b, theta[2] * c, theta[7] * (a * b), theta[1] * dtype(2)]
    assert dtype(value) == _halves(terms)


@numba.njit
def _rows(X):
    return [gather_row(X, i, "3,0,3") for i in range(X.shape[0])]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gather_row_reads_one_row(dtype):
    X = np.arange(20, dtype=dtype).reshape(5, 4)
    assert [tuple(map(float, r)) for r in _rows(X)] == [tuple(map(float, X[i, [3, 0, 3]])) for i in range(5)]


@numba.njit
def _stored(row, a, b, c):
    store(row, (a, b, c), "3:0:1,0:2,5:1:2,1:0")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_store_writes_the_named_entries_only(dtype):
    row = np.full(6, np.nan, dtype=dtype)
    a, b, c = dtype(1.5), dtype(-0.25), dtype(3.0)
    _stored(row, a, b, c)
    expected = np.array([c, a, np.nan, a * b, np.nan, b * c], dtype=dtype)
    np.testing.assert_array_equal(row, expected)


@numba.njit
def _placed_and_summed(matrix, theta, out):
    place(matrix, theta, "1:2:0,0:0:3,1:0:3")
    add_entries(out, matrix, "2:1:2,0:0:0,2:1:0")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_place_and_add_entries_move_the_named_entries_only(dtype):
    theta = np.array([1.5, 9.0, 9.0, -0.25], dtype=dtype)
    matrix = np.full((2, 3), 7.0, dtype=dtype)
    out = np.array([1.0, 2.0, 3.0], dtype=dtype)
    _placed_and_summed(matrix, theta, out)
    np.testing.assert_array_equal(matrix, np.array([[-0.25, 7.0, 7.0], [-0.25, 7.0, 1.5]], dtype=dtype))
    # out[2] gets matrix[1, 2] and matrix[1, 0]; out[1] is not named, so it keeps its value.
    np.testing.assert_array_equal(out, np.array([1.0 - 0.25, 2.0, 3.0 + 1.5 - 0.25], dtype=dtype))


def test_a_layout_that_does_not_fit_fails_to_compile():
    @numba.njit
    def short(theta, a):
        return dot(gather(theta, "0,1"), (a,), "0,1")

    with pytest.raises(TypingError, match="does not fit 2 weights and 1 values"):
        short(np.ones(2), 1.0)


# -- rewriting ------------------------------------------------------------------------------------
w0, w1, w2, b, x, y = sp.symbols("w0 w1 w2 b x y")


def _packer() -> Packer:
    return Packer({w0: 0, w1: 1, w2: 2, b: 3})


def test_sums_of_parameters_times_values_become_one_dot():
    packer = _packer()
    rewritten = packer.rewrite(sp.tanh(w2 * y + w0 * x * y + b))
    (call,) = packer.dots
    assert rewritten == sp.tanh(b + call)
    values, indices = packer.dots[call]
    assert indices == (0, 2) and values == (x * y, y)  # theta order
    assert packer.gathered() == [0, 2] and packer.weights() == {w0, w2}


@pytest.mark.parametrize("expr", [w0 * x + b, w0 * w1 * x + w2 * y, w0 * w1 + w2 * w2])
def test_sums_with_fewer_than_two_such_terms_stay(expr):
    packer = _packer()
    assert packer.rewrite(expr) == expr and not packer.dots


def test_a_value_may_hold_an_earlier_dot():
    packer = _packer()
    inner = w0 * x + w1 * y
    rewritten = packer.rewrite(w2 * sp.exp(inner) + b * sp.sin(inner))
    first, second = packer.dots
    assert packer.dots[second][0] == (sp.exp(first), sp.sin(first))
    printer = NumbaPrinter({w0: "p0", w1: "p1", w2: "p2", b: "p3", x: "x0", y: "x1"})
    packer.name_calls(printer)
    text = printer.doprint(rewritten)
    assert text == ('_dot(weights, (math.exp(_dot(weights, (x0, x1), "0,1")), '
                    'math.sin(_dot(weights, (x0, x1), "0,1"))), "2,3")')
    inline = _packer()  # a fresh one, printed term by term
    rewritten = inline.rewrite(w2 * sp.exp(inner) + b * sp.sin(inner))
    inline.name_calls(printer, inline=True)
    inline_text = printer.doprint(rewritten)
    assert inline_text == "(p2*math.exp((p0*x0 + p1*x1)) + p3*math.sin((p0*x0 + p1*x1)))"


def test_gradient_lines_pass_each_factor_once():
    packer = _packer()
    call = packer.store([(0, x * y), (1, -2 * x * b), (2, y), (3, sp.exp(x) * y)])
    factors, layout = packer.stores[call]
    assert len(factors) == 4 and set(factors) == {x, y, -2 * b, sp.exp(x)}
    position = {f: k for k, f in enumerate(factors)}
    entries = dict((int(r), rest) for r, *rest in (e.split(":") for e in layout.split(",")))
    assert {tuple(factors[int(k)] for k in entries[0])} <= {(x, y), (y, x)}
    assert sp.Mul(*(factors[int(k)] for k in entries[1])) == -2 * x * b
    assert entries[2] == [str(position[y])]
    assert sp.Mul(*(factors[int(k)] for k in entries[3])) == sp.exp(x) * y


# -- whole modules -------------------------------------------------------------------------------
def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_standalone_printing_gives_the_same_bits_as_the_calls(tmp_path):
    """sg.emit prints the dot products term by term; a 2-4-3-1 network's loss and gradient must not
    change by a bit."""
    x0, x1, t = sp.symbols("x0 x1 t")
    layer, params = [x0, x1], []
    for width, act in ((4, sp.tanh), (3, sg.sigmoid), (1, lambda z: z)):
        weights = sp.symbols(f"W{len(params)}_0:{width * len(layer)}")
        biases = sp.symbols(f"c{len(params)}_0:{width}")
        params += [*weights, *biases]
        layer = [act(sum(weights[i * len(layer) + j] * layer[j] for j in range(len(layer))) + biases[i])
                 for i in range(width)]
    model = sg.Model((layer[0] - t) ** 2, params=params, inputs=[x0, x1], targets=[t])
    programs = model.kernel_programs()
    rng = np.random.default_rng(2)
    theta, X, T = rng.standard_normal(len(params)), rng.standard_normal((50, 2)), rng.standard_normal((50, 1))
    results = []
    for standalone in (False, True):
        path = tmp_path / f"kernels_{standalone}.py"
        source = generate_source(programs, standalone=standalone)
        assert ("_dot(" in source) != standalone and ("p5*" in source) == standalone
        path.write_text(source)
        out = np.empty(len(params))
        value = _load(path, path.stem).loss_and_grad(theta, X, T, out)
        results.append(np.concatenate([[value], out]))
    np.testing.assert_array_equal(results[0], results[1])
    kernels = model.compile(cache_dir=tmp_path / "cache")
    value, grad = kernels.loss_and_grad(theta, X, T)
    np.testing.assert_array_equal(np.concatenate([[value], grad]), results[0])
