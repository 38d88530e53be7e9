"""A complex128 kernel of the loss value, for complex-step differentiation.

For a loss J that is analytic in the parameters, ``Im J(θ + ih·u) / h`` is
the directional derivative along ``u`` with no subtractive cancellation, so
``h`` can be tiny (1e-20) and the result is exact to rounding. The kernel is
the model's value program printed with complex-capable functions (numpy's
instead of ``math``'s, complex versions of the activations' helpers) and the
same writer as the real kernels. Abs, Max, Min, relu, sign, Heaviside and
Piecewise compare or fold real numbers, so they have no complex extension
that complex step could use: :func:`non_analytic` finds them and
:func:`generate_complex_loss_source` refuses them with a message naming the
expression.
"""

from __future__ import annotations

import sympy as sp

from ..declare.functions import relu, sigmoid, softplus
from ..errors import ComplexStepError
from ..program.cse import remove_dead_statements
from ..program.program import Output, Program
from .kernels import KernelPrograms, _symbol_names, _Writer
from .printer import FUNCTION_TEMPLATES, NumbaPrinter

__all__ = ["ComplexPrinter", "COMPLEX_HELPERS_SOURCE", "NON_ANALYTIC", "non_analytic",
           "generate_complex_loss_source"]

#: Constructs without a usable complex extension, and why.
NON_ANALYTIC: dict[type, str] = {
    sp.Abs: "|u| has a kink at u = 0, and |u + ih| is a real number",
    sp.sign: "sign is piecewise constant with a jump at 0",
    sp.Heaviside: "Heaviside is piecewise constant with a jump at 0",
    relu: "relu(u) = max(u, 0) compares real numbers and has a kink at 0",
    sp.Max: "Max compares real numbers and has a kink at ties",
    sp.Min: "Min compares real numbers and has a kink at ties",
    sp.Piecewise: "Piecewise branches on comparisons of real numbers",
    sp.erf: "erf is analytic but numba has no complex erf",
}

#: numpy's functions take real and complex scalars alike (cmath's take complex
#: only, and the kernels mix complex parameters with real data).
_COMPLEX_TEMPLATES: dict[type, str] = {
    sp.exp: "np.exp({0})",
    sp.log: "np.log({0})",
    sp.sin: "np.sin({0})",
    sp.cos: "np.cos({0})",
    sp.tan: "np.tan({0})",
    sp.tanh: "np.tanh({0})",
    sp.sinh: "np.sinh({0})",
    sp.cosh: "np.cosh({0})",
    sp.asin: "np.arcsin({0})",
    sp.acos: "np.arccos({0})",
    sp.atan: "np.arctan({0})",
    sigmoid: FUNCTION_TEMPLATES[sigmoid],
    softplus: FUNCTION_TEMPLATES[softplus],
}

#: Complex versions of the real kernels' helpers, under the same names. The
#: branch on the real part picks the overflow-free form; both forms are the
#: same analytic function, so the imaginary part carries the derivative.
COMPLEX_HELPERS_SOURCE = '''
@numba.njit(cache=True)
def _sigmoid(z):
    if z.real >= 0.0:
        return 1.0 / (1.0 + np.exp(-z))
    e = np.exp(z)
    return e / (1.0 + e)


@numba.njit(cache=True)
def _softplus(z):
    if z.real >= 0.0:
        return z + np.log1p(np.exp(-z))
    return np.log1p(np.exp(z))


@numba.njit(cache=True)
def _ipow(z, n):
    # Integer powers by squaring: z**5.0 goes through exp(5 log z), whose
    # imaginary part is rounding noise of size 1e-16 for a negative real part.
    result = 1.0 + 0.0j
    base = z
    while n > 0:
        if n & 1:
            result *= base
        base *= base
        n >>= 1
    return result
'''


class ComplexPrinter(NumbaPrinter):
    """Prints expressions for complex arguments; refuses non-analytic constructs."""

    function_templates = _COMPLEX_TEMPLATES
    sqrt, log, log1p = "np.sqrt", "np.log", "np.log1p"

    def _print_Pow(self, expr, rational=False):  # noqa: N802 - SymPy's hook name
        base, exponent = expr.args
        if exponent.is_Integer and abs(exponent) > 4:
            power = f"_ipow({self._print(base)}, {abs(int(exponent))})"
            return power if exponent > 0 else f"(1.0 / {power})"
        return super()._print_Pow(expr, rational)

    def _refuse(self, expr):
        raise ComplexStepError(_message(type(expr), expr))

    _print_Heaviside = _print_Piecewise = _print_Max = _print_Min = _refuse  # noqa: N815
    _print_Abs = _print_sign = _print_relu = _print_erf = _refuse  # noqa: N815


def _first_kind(expr: sp.Basic) -> type | None:
    for node in sp.preorder_traversal(expr):
        for cls in NON_ANALYTIC:
            if isinstance(node, cls):
                return cls
    return None


def non_analytic(program: Program) -> tuple[type, sp.Expr] | None:
    """The first construct of ``program`` complex step cannot go through, with
    the expression it sits in (temporaries expanded), or ``None``."""
    definitions: dict[sp.Symbol, sp.Expr] = {}
    body = [*program.statements, *((None, out.expr) for out in program.outputs)]
    for target, expr in body:
        expanded = expr.xreplace(definitions)
        if target is not None:
            definitions[target] = expanded
        kind = _first_kind(expr)
        if kind is not None:
            culprit = next(n for n in sp.preorder_traversal(expanded) if isinstance(n, kind))
            return kind, culprit
    return None


def _message(kind: type, culprit: sp.Basic) -> str:
    text = sp.sstr(culprit)
    text = text if len(text) <= 80 else text[:79] + "…"
    return (f"method='complex' needs a loss that is complex-analytic in the parameters, but it contains "
            f"{text}: {NON_ANALYTIC[kind]}. Use method='central' or method='richardson', which also "
            f"report kinks.")


def _value_only(program: Program) -> Program:
    value = program["value", 0]
    statements = tuple(remove_dead_statements(program.statements, [value]))
    return Program(program.inputs, (), statements, (Output(("value", 0), "value", value),))


def generate_complex_loss_source(programs: KernelPrograms, *, header: str = "") -> str:
    """Module source with one kernel, ``loss(theta, X, T)`` (or ``loss(theta)``):
    the batch objective for a complex128 ``theta`` and real data.

    Raises:
        ComplexStepError: the loss contains a construct listed in :data:`NON_ANALYTIC`.
    """
    sample = _value_only(programs.sample_value)
    penalty = None if programs.regularizer is None else _value_only(programs.regularizer)
    for program in (sample, penalty):
        found = None if program is None else non_analytic(program)
        if found is not None:
            raise ComplexStepError(_message(*found))
    # Term by term: the straight-line helpers multiply real numbers only.
    w = _Writer(programs, ComplexPrinter(_symbol_names(programs)), "0j", pack=None)
    data = programs.has_data
    w.lines += [f'"""{header}"""', "", "import numba", "import numpy as np", "",
                "DTYPE = np.complex128", "FASTMATH = False", *COMPLEX_HELPERS_SOURCE.splitlines(), "", ""]
    w.accumulating_function("_loss_range", sample, [], data, value=True)
    if penalty is not None:
        w.accumulating_function("_regularizer_value", penalty, [], False, value=True)
    regularizer = " + _regularizer_value(theta)" if penalty is not None else ""
    w.decorator()
    if data:
        w.lines += ["def loss(theta, X, T):",
                    f"    return _loss_range(theta, X, T, 0, X.shape[0]) / X.shape[0]{regularizer}"]
    else:
        w.lines += ["def loss(theta):", f"    return _loss_range(theta){regularizer}"]
    return "\n".join(w.lines).rstrip() + "\n"

