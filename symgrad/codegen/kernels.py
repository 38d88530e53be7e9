"""Kernel source: a model's programs printed as one numba module.

Per kind of result there is a *range* function that runs the per-sample
program over samples ``start:stop`` with the parameters unpacked into locals
and the sums kept in local accumulators (registers), and a public kernel
that forms the mean over the batch and adds the data-free regulariser once.
With ``parallel=True`` the batch is cut into a fixed number of chunks summed
in chunk order, so the result does not depend on how threads are scheduled.
The loss and gradient range functions of a model with a long dot product of
raw inputs run over blocks of samples instead (:mod:`symgrad.codegen.sample_blocks`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sympy as sp

from ..program.program import Program
from . import sample_blocks
from .dots import IMPORT as DOTS_IMPORT
from .dots import Packer
from .printer import HELPERS_SOURCE, ElementPrinter, NumbaPrinter
from .unrolled import dot_layout

__all__ = ["KernelPrograms", "generate_source", "public_kernel_lines", "CHUNKS"]

#: Chunks of a parallel batch; fixed so the summation order is too.
CHUNKS = 64
_INDENT = "    "


@dataclass(frozen=True)
class KernelPrograms:
    """The programs a model's kernels are printed from.

    ``sample`` holds the per-sample loss and its gradient (keys ``("value", 0)``
    and ``("grad", 0, k)``); ``regularizer`` the same for the data-free penalty;
    the ``*_hessian`` programs add ``("hess", 0, i, j)``; ``outputs`` the
    prediction values. Absent programs are ``None``.
    """

    params: tuple[sp.Symbol, ...]
    inputs: tuple[sp.Symbol, ...]
    targets: tuple[sp.Symbol, ...]
    sample: Program
    sample_value: Program
    regularizer: Program | None = None
    sample_hessian: Program | None = None
    regularizer_hessian: Program | None = None
    outputs: Program | None = None
    direction: tuple[sp.Symbol, ...] = ()
    sample_hvp: Program | None = None
    regularizer_hvp: Program | None = None

    @property
    def has_data(self) -> bool:
        return bool(self.inputs or self.targets)


def _symbol_names(programs: KernelPrograms) -> dict[sp.Symbol, str]:
    names = {p: f"p{k}" for k, p in enumerate(programs.params)}
    names.update({s: f"x{k}" for k, s in enumerate(programs.inputs)})
    names.update({s: f"t{k}" for k, s in enumerate(programs.targets)})
    names.update({s: f"q{k}" for k, s in enumerate(programs.direction)})
    for prog in (programs.sample, programs.sample_value, programs.regularizer, programs.sample_hessian,
                 programs.regularizer_hessian, programs.outputs, programs.sample_hvp,
                 programs.regularizer_hvp):
        if prog is not None:
            # Temporaries are symgrad's own names (v12, d3, c4); the prefix keeps
            # them apart from the p/x/t names above.
            names.update({t: f"_{t.name}" for t in prog.temporaries})
    return names


class _Writer:
    def __init__(self, programs: KernelPrograms, printer: NumbaPrinter, zero: str,
                 pack: str | None = "calls", block_printer: NumbaPrinter | None = None):
        self.programs = programs
        self.printer = printer
        self.zero = zero
        # Long dot products and the gradient lines as calls ("calls", symgrad.codegen.dots); the
        # dot products only, printed as sums in the same order ("inline"); or as they are (None).
        self.pack = pack
        # With a printer for their element loops, loss and gradient sums over samples may run over
        # blocks of samples (symgrad.codegen.sample_blocks).
        self.block_printer = block_printer
        self.lines: list[str] = []

    def emit(self, text: str = "", depth: int = 0) -> None:
        self.lines.append(_INDENT * depth + text if text else "")

    def decorator(self) -> None:
        # Range functions run serially; the public kernels parallelise over chunks.
        self.emit("@numba.njit(cache=True, fastmath=FASTMATH, nogil=True)")

    def unpack_params(self, used=None, gathered=(), direction: bool = False) -> None:
        """At the top of a function: ``p{k} = theta[k]`` for the parameters in ``used`` (default
        all; numba spends milliseconds on each line, and a parameter read only through ``_dot``
        needs none), the ``weights`` of the dot products (``gathered``: indices in ``theta``),
        and the direction ``q{k} = v[k]``."""
        params = self.programs.params
        self._unpack("p", "theta", [k for k, p in enumerate(params) if used is None or p in used])
        if gathered:
            self.emit(f'weights = _gather(theta, "{dot_layout(gathered)}")', 1)
        self._unpack("q", "v", range(len(self.programs.direction) if direction else 0))

    def _unpack(self, prefix: str, array: str, indices) -> None:
        indices = list(indices)
        if self.pack == "calls" and len(indices) > 1:
            # One call: numba types a tuple's unpacking much faster than as many array loads.
            names = ", ".join(f"{prefix}{k}" for k in indices)
            self.emit(f'{names} = _gather({array}, "{dot_layout(indices)}")', 1)
        else:
            for k in indices:
                self.emit(f"{prefix}{k} = {array}[{k}]", 1)

    def unpack_sample(self, depth: int, targets: bool = True) -> None:
        for prefix, array, count in (("x", "X", len(self.programs.inputs)),
                                     ("t", "T", len(self.programs.targets) if targets else 0)):
            if self.pack == "calls" and count > 1:
                names = ", ".join(f"{prefix}{k}" for k in range(count))
                self.emit(f'{names} = _gather_row({array}, i, "{dot_layout(range(count))}")', depth)
            else:
                for k in range(count):
                    self.emit(f"{prefix}{k} = {array}[i, {k}]", depth)

    def accumulating_function(self, name, program, sums, data: bool, value: bool = False,
                              direction: bool = False) -> None:
        """Sum outputs over samples into ``out`` (``sums``: (output key, index into
        ``out``) pairs); with ``value``, the loss sum is returned.

        Each sample's results are plain stores into ``row``, added to ``out``
        by one loop: hundreds of loop-carried scalar accumulators would make
        numba's SSA repair quadratic, and hundreds of read-modify-writes of
        ``out`` inside the loop cost LLVM more time than the extra loop.
        """
        into = "row" if data else "out"
        operator = "=" if data else "+="
        items = [_Item(t, e, f"{self.printer.doprint(t)} = {{}}") for t, e in program.statements]
        if value:
            items.append(_Item(None, program["value", 0], "acc += {}"))
        stored = [(key, index) for key, index in sums if program[key] != 0]
        items += [_Item(None, program[key], f"{into}[{index}] {operator} {{}}") for key, index in stored]
        items = _inline_single_use(items, program)
        if data and value and not direction and self.block_printer is not None and self.pack == "calls":
            block = sample_blocks.plan(items, [int(index) for _, index in stored], self.programs.inputs,
                                       {p: k for k, p in enumerate(self.programs.params)})
            if block is not None:
                sample_blocks.write(self, name, "theta, X, T, start, stop" + (", out" if sums else ""), block,
                                    self.block_printer, len(self.programs.inputs), self.programs.targets)
                return
        used, gathered = None, []
        if self.pack:
            # Only the stores into ``row`` of a vector become one call.
            rows = ([int(index) for _, index in stored]
                    if data and self.pack == "calls" and all(i.isdigit() for _, i in stored) else [])
            items, used, gathered = self.packed(items, rows)
        self.decorator()
        args = ("theta, v" if direction else "theta") + (", X, T, start, stop" if data else "")
        self.emit(f"def {name}({args}{', out' if sums else ''}):")
        self.unpack_params(used, gathered, direction)
        if value:
            self.emit(f"acc = {self.zero}", 1)
        depth = 1
        if data:
            if sums:
                self.emit("row = np.zeros(out.shape, dtype=DTYPE)", 1)
            self.emit("for i in range(start, stop):", 1)
            depth = 2
            self.unpack_sample(depth)
        for item in items:
            self.emit(item.text(self.printer), depth)
        if data and sums:
            self.emit("out += row", depth)
        if value:
            self.emit("return acc", 1)
        self.emit()
        self.emit()

    def packed(self, items: list, rows: list[int]) -> tuple[list, set, list[int]]:
        """``items`` with long sums as calls, and the last ``len(rows)``, the stores into these
        entries of ``row``, as one call (:mod:`symgrad.codegen.dots`); also the symbols that the
        lines then read and the indices in ``theta`` of the dot products' ``weights``."""
        packer = Packer({p: k for k, p in enumerate(self.programs.params)})
        items = [_Item(i.target, packer.rewrite(i.expr), i.template) for i in items]
        if rows:
            stores = items[len(items) - len(rows):]
            call = packer.store([(r, item.expr) for r, item in zip(rows, stores, strict=True)])
            items = items[: len(items) - len(rows)] + [_Item(None, call, "{}")]
        packer.name_calls(self.printer, inline=self.pack == "inline")
        exprs = [i.expr for i in items] + [e for values, _ in (*packer.dots.values(), *packer.stores.values())
                                          for e in values]
        used = set().union(*(sp.sympify(e).free_symbols for e in exprs))
        if self.pack == "inline":
            return items, used | packer.weights(), []
        return items, used, packer.gathered()


def _inline_single_use(items: list, program: Program) -> list:
    # numba's compile time grows with the number of variables; a temporary
    # read exactly once costs nothing to fold into its reader.
    temporaries = set(program.temporaries)
    uses: Counter = Counter()
    for item in items:
        uses.update(a for a in sp.preorder_traversal(item.expr) if a in temporaries)
    folded: dict[sp.Symbol, sp.Expr] = {}
    kept = []
    for item in items[: len(program.statements)]:
        expr = item.expr.xreplace(folded)
        if uses[item.target] == 1:
            folded[item.target] = expr
        else:
            kept.append(_Item(item.target, expr, item.template))
    kept += [_Item(i.target, i.expr.xreplace(folded), i.template) for i in items[len(program.statements):]]
    return kept


@dataclass(frozen=True)
class _Item:
    """One line of a per-sample body: an assignment or an accumulation."""

    target: sp.Symbol | None
    expr: sp.Expr
    template: str

    def text(self, printer: NumbaPrinter) -> str:
        return self.template.format(printer.doprint(self.expr))


def _grad_sums(n: int):
    return [(("grad", 0, k), f"{k}") for k in range(n)]


def _hvp_sums(n: int):
    return [(("hvp", 0, k), f"{k}") for k in range(n)]


def _hessian_sums(n: int):
    return [(("hess", 0, i, j), f"{i}, {j}") for i in range(n) for j in range(i, n)]


def generate_source(
    programs: KernelPrograms,
    *,
    dtype: str = "float64",
    parallel: bool = False,
    fastmath: bool = False,
    header: str = "",
    standalone: bool = False,
) -> str:
    """The module source of a model's kernels (see the module docstring). Long dot products and
    the gradient lines become calls of :mod:`symgrad.codegen.unrolled`; ``standalone`` modules,
    which must not import symgrad, print them as sums and lines instead (the same bits, slower
    to compile)."""
    pack = "inline" if standalone else "calls"
    literal = "{0}" if dtype == "float64" else "F({0})"
    names = _symbol_names(programs)
    w = _Writer(programs, NumbaPrinter(names, literal=literal), literal.format("0.0"), pack,
                block_printer=None if standalone else ElementPrinter(names, literal=literal))
    n = len(programs.params)
    data = programs.has_data
    w.lines += [f'"""{header}"""', "", "import math", "", "import numba", "import numpy as np", "",
                f"DTYPE = np.{dtype}", "F = DTYPE", f"FASTMATH = {fastmath!r}", f"PARALLEL = {parallel!r}",
                f"N_PARAMS = {n}", f"CHUNKS = {CHUNKS}", *HELPERS_SOURCE.splitlines(),
                *([] if standalone else ["", DOTS_IMPORT, *sample_blocks.IMPORT.splitlines()]), "", ""]

    # Range functions return the loss sum and add gradient sums into the caller's buffer.
    w.accumulating_function("_loss_range", programs.sample_value, [], data, value=True)
    w.accumulating_function("_loss_grad_range", programs.sample, _grad_sums(n), data, value=True)
    if programs.sample_hessian is not None:
        w.accumulating_function("_hessian_range", programs.sample_hessian, _hessian_sums(n), data)
    if programs.regularizer is not None:
        w.accumulating_function("_regularizer", programs.regularizer, _grad_sums(n), False, value=True)
        # Value only: LLVM drops the unused gradient statements.
        w.accumulating_function("_regularizer_value", programs.regularizer, [], False, value=True)
    if programs.regularizer_hessian is not None:
        w.accumulating_function("_regularizer_hessian", programs.regularizer_hessian, _hessian_sums(n), False)
    if programs.sample_hvp is not None:
        w.accumulating_function("_hvp_range", programs.sample_hvp, _hvp_sums(n), data, direction=True)
    if programs.regularizer_hvp is not None:
        w.accumulating_function("_regularizer_hvp", programs.regularizer_hvp, _hvp_sums(n), False,
                                direction=True)
    if programs.outputs is not None:
        _predict_function(w, programs.outputs)
    w.lines += public_kernel_lines(data, parallel=parallel, regularizer=programs.regularizer is not None,
                                   hessian=programs.sample_hessian is not None,
                                   regularizer_hessian=programs.regularizer_hessian is not None)
    if programs.sample_hvp is not None:
        w.lines += (_DATA_HVP if data else _DATA_FREE_HVP).splitlines()
        if programs.regularizer_hvp is None:
            w.lines = [line.replace("_regularizer_hvp(theta, v, out)", "pass") for line in w.lines]
    return "\n".join(w.lines).rstrip() + "\n"


def public_kernel_lines(data: bool, *, regularizer: bool, hessian: bool, regularizer_hessian: bool = False,
                        parallel: bool = False) -> list[str]:
    """The public ``loss_and_grad``, ``loss`` (and ``hessian``) kernels over the range functions."""
    lines = _one_branch((_DATA_KERNELS if data else _DATA_FREE_KERNELS).splitlines(), parallel)
    if not regularizer:
        lines = [line.replace("_regularizer(theta, out)", "0.0").replace("_regularizer_value(theta)", "0.0")
                 for line in lines]
    if not hessian:
        start = lines.index("# hessian")
        lines = lines[:start] + lines[lines.index("# end hessian", start):]
    elif not regularizer_hessian:
        lines = [line.replace("_regularizer_hessian(theta, out)", "pass") for line in lines]
    return lines


def _predict_function(w: _Writer, program: Program) -> None:
    items = [_Item(t, e, f"{w.printer.doprint(t)} = {{}}") for t, e in program.statements]
    items += [_Item(None, output.expr, f"out[i, {k}] = {{}}") for k, output in enumerate(program.outputs)]
    used, gathered = None, []
    if w.pack:
        items, used, gathered = w.packed(items, [])
    w.decorator()
    w.emit("def predict_range(theta, X, start, stop, out):")
    w.unpack_params(used, gathered)
    w.emit("for i in range(start, stop):", 1)
    w.unpack_sample(2, targets=False)
    for item in items:
        w.emit(item.text(w.printer), 2)
    w.emit()
    w.emit()


def _one_branch(lines: list[str], parallel: bool) -> list[str]:
    # Keep only the branch of ``if PARALLEL: ... else: ...`` that runs: numba would
    # compile the other one too, and the parallel branch costs a second.
    kept, branch = [], None
    for line in lines:
        if line == "    if PARALLEL:":
            branch = "parallel"
        elif line == "    else:" and branch == "parallel":
            branch = "serial"
        elif branch and line.startswith("        "):
            if (branch == "parallel") == parallel:
                kept.append(line[4:])
        else:
            branch = None
            kept.append(line)
    return kept


_DATA_KERNELS = '''
@numba.njit(cache=True, fastmath=FASTMATH, nogil=True, parallel=PARALLEL)
def loss_and_grad(theta, X, T, out):
    \"\"\"Mean loss over the rows of X, T plus the regulariser; the gradient goes into out.\"\"\"
    # Element loops, not out[:] = 0 or out += part: numba compiles array expressions slowly.
    n = X.shape[0]
    for k in range(N_PARAMS):
        out[k] = 0.0
    if PARALLEL:
        chunks = min(n, CHUNKS)
        parts = np.zeros((chunks, N_PARAMS), dtype=DTYPE)
        sums = np.zeros(chunks, dtype=DTYPE)
        for c in numba.prange(chunks):
            sums[c] = _loss_grad_range(theta, X, T, c * n // chunks, (c + 1) * n // chunks, parts[c])
        total = F(0.0)
        for c in range(chunks):
            total += sums[c]
            for k in range(N_PARAMS):
                out[k] += parts[c, k]
    else:
        total = _loss_grad_range(theta, X, T, numba.int64(0), n, out)
    scale = 1.0 / n  # one division: a loop of them waits on the divider (1 us for 2,410 entries)
    for k in range(N_PARAMS):
        out[k] *= scale
    return total / n + _regularizer(theta, out)


@numba.njit(cache=True, fastmath=FASTMATH, nogil=True, parallel=PARALLEL)
def loss(theta, X, T):
    n = X.shape[0]
    if PARALLEL:
        chunks = min(n, CHUNKS)
        sums = np.zeros(chunks, dtype=DTYPE)
        for c in numba.prange(chunks):
            sums[c] = _loss_range(theta, X, T, c * n // chunks, (c + 1) * n // chunks)
        total = F(0.0)
        for c in range(chunks):
            total += sums[c]
    else:
        total = _loss_range(theta, X, T, numba.int64(0), n)
    return total / n + _regularizer_value(theta)


# hessian
@numba.njit(cache=True, fastmath=FASTMATH, nogil=True)
def hessian(theta, X, T, out):
    n = X.shape[0]
    out[:, :] = 0.0
    _hessian_range(theta, X, T, numba.int64(0), n, out)
    out /= n
    _regularizer_hessian(theta, out)
    return _mirror_upper(out)
# end hessian
'''

_DATA_FREE_KERNELS = '''
@numba.njit(cache=True, fastmath=FASTMATH, nogil=True)
def loss_and_grad(theta, out):
    \"\"\"The objective at theta; its gradient goes into out.\"\"\"
    out[:] = 0.0
    return _loss_grad_range(theta, out)


@numba.njit(cache=True, fastmath=FASTMATH, nogil=True)
def loss(theta):
    return _loss_range(theta)


# hessian
@numba.njit(cache=True, fastmath=FASTMATH, nogil=True)
def hessian(theta, out):
    out[:, :] = 0.0
    _hessian_range(theta, out)
    return _mirror_upper(out)
# end hessian
'''

_DATA_HVP = '''
@numba.njit(cache=True, fastmath=FASTMATH, nogil=True)
def hvp(theta, v, X, T, out):
    """The Hessian of the objective times v, without forming the Hessian."""
    n = X.shape[0]
    out[:] = 0.0
    _hvp_range(theta, v, X, T, numba.int64(0), n, out)
    out /= n
    _regularizer_hvp(theta, v, out)
    return out
'''

_DATA_FREE_HVP = '''
@numba.njit(cache=True, fastmath=FASTMATH, nogil=True)
def hvp(theta, v, out):
    """The Hessian of the objective times v, without forming the Hessian."""
    out[:] = 0.0
    _hvp_range(theta, v, out)
    return out
'''
