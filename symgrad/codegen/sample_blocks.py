"""Scalar range functions over blocks of samples: the input layer as matrix products.

Most scalar models begin with dot products of parameters and raw inputs,
``z = b + Σ_k θ_k · x_k``, and the gradient of those parameters is a
per-sample factor times an input, ``δ · x_k``. One sample at a time, that is
a multiply-add chain per sample and a gradient row added into ``out`` per
sample, and the loop over samples stays scalar. Over a block of samples it
is two matrix products BLAS does well:

* before the loop, ``Z = X_b Lᵀ``, where row ``r`` of ``L`` holds the weights
  of the ``r``-th dot product at its inputs' columns;
* in the loop, each sample's statements read its dot products from ``Z`` and
  write the loss term and the gradient's factors into columns of work
  arrays: no loop-carried sum, so LLVM vectorises the loop when the
  functions in it are the runtime's (``tanh``, ``sigmoid``, ``softplus``);
* after it, ``G += F_xᵀ X_b`` sums the factors that multiply an input, and
  column sums the entries that do not (a bias's ``δ``); the loss terms are
  added in sample order.

:func:`plan` decides whether a function has enough to gain (a dot product
of at least ``MIN_INPUTS`` raw inputs) and how its lines split; :func:`write`
prints the function. A sum over a block rounds differently from the
sample-by-sample sum: the results agree with the per-sample kernels to
rounding, not bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sympy as sp

from .dots import Packer
from .unrolled import dot_layout, store_layout

__all__ = ["BlockPlan", "plan", "write", "IMPORT", "MIN_INPUTS", "BLOCK_ROWS", "WORK_BUDGET"]

#: The block form is used for a function with a dot product of at least this many raw inputs. Shorter
#: ones are a few multiply-adds per sample, and the per-sample form compiles in about half the time
#: (a model of a few inputs: 1 s against 2 s).
MIN_INPUTS = 8
#: Samples per block, at most; fewer when the work arrays would be wide (see WORK_BUDGET).
BLOCK_ROWS = 256
#: Numbers of work arrays per block, at most (128 KiB of float64: they stay in L2).
WORK_BUDGET = 16384

#: How generated modules import the runtime helpers the block functions call.
IMPORT = ("from symgrad.codegen.runtime import (add_column_sums, empty_vector, matmul_nt, matmul_tn_add,\n"
          "                                     matrix_view, sigmoid, softplus, tanh)\n"
          "from symgrad.codegen.unrolled import add_entries as _add_entries, place as _place")


@dataclass
class BlockPlan:
    """How one range function's lines split between the block products and the loop."""

    packer: Packer
    statements: list  # the per-sample assignments, rewritten
    value: sp.Expr  # the loss term, rewritten
    inputs: Mapping[sp.Symbol, int]  # input symbol -> column of X
    dots: dict[sp.Symbol, int] = field(default_factory=dict)  # call of a raw-input dot -> column of Z
    weights: list[tuple[int, int, int]] = field(default_factory=list)  # (row of L, column, theta index)
    input_factors: list[sp.Expr] = field(default_factory=list)  # columns of F_x
    plain_factors: list[sp.Expr] = field(default_factory=list)  # columns of F_1, summed as they are
    input_entries: list[tuple[int, int, int]] = field(default_factory=list)  # out[k] += G[r, c]
    plain_entries: list[tuple[int, int]] = field(default_factory=list)  # out[k] += S[r, 0]

    @property
    def width(self) -> int:
        """Work-array numbers per sample: Z, F_x, F_1 and the loss term."""
        return len(self.dots) + len(self.input_factors) + len(self.plain_factors) + 1

    def rows(self) -> int:
        """Samples per block."""
        return max(8, min(BLOCK_ROWS, WORK_BUDGET // self.width))


def plan(items: Sequence, gradient_rows: Sequence[int], inputs: Sequence[sp.Symbol],
         param_index: Mapping[sp.Symbol, int]) -> BlockPlan | None:
    """The block form of a range function's lines, or ``None`` when it has no dot product of at least
    ``MIN_INPUTS`` raw inputs.

    ``items`` are the per-sample lines (``.target``, ``.expr``): assignments, then the loss term, then
    one gradient entry per index in ``gradient_rows`` (none for a loss-only function).
    """
    packer = Packer(param_index)
    exprs = [packer.rewrite(item.expr) for item in items]
    n_statements = len(items) - len(gradient_rows) - 1
    columns = {x: k for k, x in enumerate(inputs)}
    targets = [item.target for item in items[:n_statements]]
    statements = list(zip(targets, exprs[:n_statements], strict=True))
    block = BlockPlan(packer, statements, exprs[n_statements], columns)
    longest = 0
    for call, (values, indices) in list(packer.dots.items()):
        if all(v in columns for v in values) and len(set(values)) == len(values):
            row = block.dots[call] = len(block.dots)
            block.weights += [(row, columns[v], i) for v, i in zip(values, indices, strict=True)]
            del packer.dots[call]
            longest = max(longest, len(values))
    if longest < MIN_INPUTS:
        return None
    factor_columns: dict[tuple[str, sp.Expr], int] = {}
    for k, expr in zip(gradient_rows, exprs[len(exprs) - len(gradient_rows):], strict=True):
        split = _input_factor(expr, columns)
        kind, factor = ("input", split[0]) if split else ("plain", expr)
        factors = block.input_factors if split else block.plain_factors
        r = factor_columns.setdefault((kind, factor), len(factors))
        if r == len(factors):
            factors.append(factor)
        if split:
            block.input_entries.append((k, r, split[1]))
        else:
            block.plain_entries.append((k, r))
    return block


def _input_factor(expr: sp.Expr, columns: Mapping[sp.Symbol, int]) -> tuple[sp.Expr, int] | None:
    """``(f, c)`` when ``expr`` is ``f · x`` for the input ``x`` in column ``c`` of X."""
    if expr in columns:
        return sp.S.One, columns[expr]
    if isinstance(expr, sp.Mul):
        for k, a in enumerate(expr.args):
            if a in columns:
                return sp.Mul(*expr.args[:k], *expr.args[k + 1:]), columns[a]
    return None


def write(w, name: str, args: str, block: BlockPlan, printer, n_inputs: int,
          targets: Sequence[sp.Symbol]) -> None:
    """Print the range function ``name(args)`` of ``block`` through ``w`` (a kernel writer: ``emit``,
    ``decorator``, ``unpack_params``); ``printer`` prints the loop's lines."""
    rows, nz, nx, n1 = block.rows(), len(block.dots), len(block.input_factors), len(block.plain_factors)
    printer.add_names({call: f"zb[b, {r}]" for call, r in block.dots.items()})
    block.packer.name_calls(printer)
    exprs = [e for _, e in block.statements] + [*block.input_factors, *block.plain_factors, block.value]
    exprs += [e for values, _ in block.packer.dots.values() for e in values]
    used = set().union(*(sp.sympify(e).free_symbols for e in exprs))

    w.decorator()
    w.emit(f"def {name}({args}):")
    w.unpack_params(used, block.packer.gathered())
    # One allocation: the per-sample work arrays, then the sums (zeroed by a loop: np.zeros would be a
    # second allocation). Sizes are passed as int64, not as literals: numba compiles a helper anew for
    # every literal value it is called with (0.1-0.3 s each).
    sums = [("lin", nz, n_inputs), ("gx", nx, n_inputs), ("s1", n1, 1)]
    total = sum(r * c for _, r, c in sums)
    w.emit(f"rows = min({rows}, stop - start)", 1)
    w.emit(f"work = empty_vector(rows * {block.width} + {total}, theta)", 1)
    w.emit(f"for k in range(rows * {block.width}, rows * {block.width} + {total}):", 1)
    w.emit("work[k] = 0.0", 2)
    # (work array, its rows in the current block, columns)
    per_sample = [(a, b, c) for a, b, c in (("z", "zb", nz), ("fx", "fxb", nx), ("f1", "f1b", n1),
                                             ("terms", "tb", 1)) if c]
    offset = 0
    for array, _, cols in per_sample:
        w.emit(f"{array} = matrix_view(work, rows * {offset}, rows, numba.int64({cols}))", 1)
        offset += cols
    fixed = 0
    for array, r, c in sums:
        if r:
            w.emit(f"{array} = matrix_view(work, rows * {block.width} + {fixed}, numba.int64({r}), "
                   f"numba.int64({c}))", 1)
            fixed += r * c
    if nz:
        w.emit(f'_place(lin, theta, "{store_layout(block.weights)}")', 1)
    w.emit(f"acc = {w.zero}", 1)
    w.emit(f"for c0 in range(start, stop, {rows}):", 1)
    w.emit(f"c1 = min(c0 + {rows}, stop)", 2)
    w.emit("xb = X[c0:c1]", 2)
    for array, block_rows, _ in per_sample:
        w.emit(f"{block_rows} = {array}[:c1 - c0]", 2)
    if nz:
        w.emit("matmul_nt(xb, lin, zb)", 2)
    if any(t in used for t in targets):
        w.emit("yb = T[c0:c1]", 2)
    w.emit("for b in range(c1 - c0):", 2)
    # Samples are read from the block's slices of X and T: indexed from the arguments themselves,
    # the loop stays scalar (LLVM cannot tell those loads from the work arrays' stores).
    needed = sorted((x for x in used if x in block.inputs), key=block.inputs.__getitem__)
    if needed:
        names = ", ".join(printer.doprint(x) for x in needed) + ("," if len(needed) == 1 else "")
        w.emit(f'{names} = _gather_row(xb, b, "{dot_layout(block.inputs[x] for x in needed)}")', 3)
    for k, t in enumerate(targets):
        if t in used:
            w.emit(f"{printer.doprint(t)} = yb[b, {k}]", 3)
    for target, expr in block.statements:
        w.emit(f"{printer.doprint(target)} = {printer.doprint(expr)}", 3)
    w.emit(f"tb[b, 0] = {printer.doprint(block.value)}", 3)
    for array, factors in (("fxb", block.input_factors), ("f1b", block.plain_factors)):
        if factors:
            values = ", ".join(printer.doprint(f) for f in factors) + ("," if len(factors) == 1 else "")
            layout = store_layout((j, j) for j in range(len(factors)))
            w.emit(f'_store({array}[b], ({values}), "{layout}")', 3)
    if nx:
        w.emit("matmul_tn_add(fxb, xb, gx)", 2)
    if n1:
        w.emit("add_column_sums(f1b, s1)", 2)
    w.emit("for b in range(c1 - c0):", 2)
    w.emit("acc += tb[b, 0]", 3)
    if nx:
        w.emit(f'_add_entries(out, gx, "{store_layout(block.input_entries)}")', 1)
    if n1:
        w.emit(f'_add_entries(out, s1, "{store_layout((k, r, 0) for k, r in block.plain_entries)}")', 1)
    w.emit("return acc", 1)
    w.emit()
    w.emit()
