"""``symgrad grad`` and ``symgrad hessian``: derivatives of an expression typed on the command line."""

from __future__ import annotations

import sympy as sp

from ..api import grad, hessian
from . import arguments

__all__ = ["register"]


def register(commands) -> None:
    for name, summary in (("grad", "the gradient of an expression"),
                          ("hessian", "the Hessian of an expression")):
        parser = commands.add_parser(
            name, help=summary,
            description=f"Print {summary}, symbolically and (with --at) at a point. The expression uses "
                        "+ - * / **, numbers, symbols and the functions of the model-file language "
                        "(exp, log, sqrt, sin, ..., Max, Min, Abs, sigmoid, relu, softplus).",
            epilog=f'example: symgrad {name} "2*(x*y + Max(z, w))" --wrt x,y,z,w --at x=3,y=-4,z=2,w=-1')
        parser.add_argument("expr", metavar="EXPR", help="the expression, quoted")
        parser.add_argument("--wrt", required=True, metavar="X,Y", help="the variables, comma-separated")
        parser.add_argument("--at", metavar="X=1,Y=2", help="also evaluate at this point")
        parser.add_argument("--latex", action="store_true", help="print LaTeX")
        parser.set_defaults(run=_gradient if name == "grad" else _hessian)


def _setup(args):
    variables = arguments.names(args.wrt, "--wrt")
    f, symbols = arguments.expression(args.expr, variables)
    at = arguments.assignments(args.at)
    unknown = [name for name in at if name not in symbols]
    if unknown:
        from ..errors import DeclarationError

        raise DeclarationError(f"--at gives values for {unknown}, which do not appear in the expression")
    return f, [symbols[v] for v in variables], {symbols[k]: v for k, v in at.items()}


def _show(expr, latex: bool) -> str:
    return sp.latex(expr) if latex else str(expr)


def _gradient(args, out) -> None:
    f, wrt, at = _setup(args)
    out.write(f"f = {_show(f, args.latex)}\n")
    values = grad(f, wrt, at=at) if at else None
    for k, (variable, derivative) in enumerate(zip(wrt, grad(f, wrt), strict=True)):
        line = f"df/d{variable} = {_show(derivative, args.latex)}"
        out.write(line + (f"  =  {values[k]:.12g}\n" if values is not None else "\n"))


def _hessian(args, out) -> None:
    f, wrt, at = _setup(args)
    H = hessian(f, wrt)
    out.write(f"f = {_show(f, args.latex)}\n")
    out.write((sp.latex(H) if args.latex else sp.pretty(H, use_unicode=True)) + "\n")
    if at:
        numeric = H.subs(at).evalf()
        if numeric.free_symbols:
            from ..errors import EvaluationError

            raise EvaluationError(f"--at leaves {sorted(map(str, numeric.free_symbols))} without values")
        out.write(f"at {', '.join(f'{k} = {v:g}' for k, v in at.items())}:\n")
        out.write(sp.pretty(numeric.applyfunc(lambda v: sp.Float(v, 12)), use_unicode=True) + "\n")
