"""Kernel source for layered models: tensor programs printed as batched numba code.

A batch is processed in blocks of at most ``ROWS`` samples. Each per-sample
column vector of one block is a ``(rows, size)`` array with a row per sample
— the data's own layout — so a layer ``W x`` of the block is one BLAS call,
``X_block @ W.T``, and its parameter gradient ``Σ δ xᵀ`` is ``Δᵀ @ X_block``.
Chains of elementwise steps (bias, activation, their derivatives) are fused
into one loop over the block; values that do not depend on the sample are
computed once before the blocks, and what is summed over samples is
accumulated across blocks and finished after them.

The range functions have the signatures of the scalar kernels'
(``_loss_grad_range(theta, X, T, start, stop, out)``, ...), so the public
kernels, the parallel split and the fused training loop are shared.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..errors import DeclarationError, ShapeError
from ..graph.tensor import TensorNode, TensorStore, dummy
from .kernels import CHUNKS, public_kernel_lines
from .printer import HELPERS_SOURCE, ElementPrinter
from .runtime import runtime_key

__all__ = ["TensorKernelPrograms", "Slot", "flatten_blocks", "unflatten_blocks", "generate_tensor_source",
           "ROWS"]

#: Samples per block: large enough for BLAS to pay off, small enough to stay in cache.
ROWS = 256
_INDENT = "    "
#: Ops whose per-block value is written into a workspace allocated once per call.
_BLOCK_ARRAYS = ("ew", "matmul", "softmax", "logsumexp", "sum", "embed")


@dataclass(frozen=True)
class Slot:
    """Where a declared symbol lives: ``theta[offset:offset+size]`` or columns of X / T."""

    symbol: sp.Basic
    shape: tuple[int, int]
    offset: int

    @property
    def size(self) -> int:
        return self.shape[0] * self.shape[1]


def unflatten_blocks(theta, slots) -> dict:
    """``{symbol: value}`` from a flat ``theta``: arrays of the slots' shapes, floats for scalars."""
    return {s.symbol: theta[s.offset:s.offset + s.size].reshape(s.shape).copy()
            if isinstance(s.symbol, sp.MatrixSymbol) else float(theta[s.offset]) for s in slots}


def flatten_blocks(values: Mapping, slots, dtype) -> np.ndarray:
    """A flat array from ``{symbol: array}`` in the order and shapes of ``slots``."""
    known = {s.symbol for s in slots}
    unknown = [k for k in values if k not in known]
    if unknown:
        raise DeclarationError(f"values given for {unknown}, which are not parameters "
                               f"({', '.join(str(s.symbol) for s in slots)})")
    theta = np.empty(sum(s.size for s in slots), dtype=dtype)
    for slot in slots:
        if slot.symbol not in values:
            raise DeclarationError(f"no value for parameter {slot.symbol}")
        value = np.asarray(values[slot.symbol], dtype=dtype)
        if value.size != slot.size or value.ndim > 2 or (value.ndim == 2 and value.shape != slot.shape):
            raise ShapeError(f"{slot.symbol} has shape {slot.shape}; got a value of shape {value.shape}")
        theta[slot.offset:slot.offset + slot.size] = value.reshape(-1)
    if not np.all(np.isfinite(theta)):
        raise DeclarationError("parameter values must be finite")
    return theta


@dataclass(frozen=True)
class TensorKernelPrograms:
    """A layered model's tensor programs: the loss and its gradient, the predictions and the
    data-free regulariser, all as nodes of one store."""

    store: TensorStore
    params: tuple[Slot, ...]
    inputs: tuple[Slot, ...]
    targets: tuple[Slot, ...]
    loss: int
    grads: tuple[int | None, ...]
    outputs: tuple[int, ...] = ()
    regularizer: int | None = None
    regularizer_grads: tuple[int | None, ...] = ()

    @property
    def has_data(self) -> bool:
        return bool(self.inputs or self.targets)

    @property
    def n_params(self) -> int:
        return sum(s.size for s in self.params)




class _Function:
    """One generated range function: the nodes needed by ``roots``, in three phases."""

    def __init__(self, writer: _Writer, roots: list[int]):
        self.w = writer
        self.roots = set(roots)
        store = writer.store
        live: set[int] = set()
        stack = list(roots)
        while stack:
            k = stack.pop()
            if k not in live:
                live.add(k)
                stack.extend(store[k].operands)
        self.order = sorted(live)
        uses: Counter = Counter()
        for k in self.order:
            uses.update(store[k].operands)
        uses.update(roots)
        self.phase: dict[int, str] = {}
        for k in self.order:
            node = store[k]
            if node.batched:
                phase = "block"
            elif node.op in ("outer", "batch_sum"):
                phase = "accumulate"
            elif any(self.phase[o] in ("accumulate", "after") for o in node.operands):
                phase = "after"
            else:
                phase = "before"
            self.phase[k] = phase
        # Fuse an elementwise node into its only reader when both have the same layout.
        self.fused: set[int] = set()
        for k in self.order:
            node = store[k]
            if node.op != "ew":
                continue
            for o in node.operands:
                producer = store[o]
                if (producer.op == "ew" and producer.operands and uses[o] == 1 and o not in roots
                        and self.phase[o] == self.phase[k] and producer.batched == node.batched
                        and writer.storage(producer) == writer.storage(node)):
                    self.fused.add(o)
        # Nodes printed as part of another, or not at all:
        self.skipped: set[int] = set()
        # block values kept in a loop's local variable, never stored (see ``groups``)
        self.local: set[int] = set()
        # the softmax and the log-sum-exp of the same rows (cross-entropy and its gradient) come
        # from one pass over them, printed at the first of the two; ``paired`` maps it to the other
        self.paired: dict[int, int] = {}
        first_of: dict[tuple[int, str], int] = {}
        for k in self.order:
            node = store[k]
            if node.batched and node.op in ("softmax", "logsumexp"):
                other = first_of.get((node.operands[0], "logsumexp" if node.op == "softmax" else "softmax"))
                if other is not None and other not in self.paired:
                    self.paired[other] = k
                    self.skipped.add(k)
                first_of.setdefault((node.operands[0], node.op), k)
        # a transpose that only feeds products as their left factor (those read its operand)
        for k in self.order:
            readers = [store[c] for c in self.order if k in store[c].operands]
            if store[k].op == "transpose" and k not in roots and all(
                    r.op == "matmul" and r.batched and r.operands == (k, r.operands[1]) and r.operands[1] != k
                    for r in readers):
                self.skipped.add(k)

    def expanded(self, k: int) -> tuple[sp.Expr, list[int]]:
        """The body of elementwise node ``k`` with fused producers inlined, over its remaining operands."""
        node = self.w.store[k]
        body, operands = node.attr("body"), []
        replace = {}
        for i, o in enumerate(node.operands):
            if o in self.fused:
                inner, inner_operands = self.expanded(o)
                shift = {dummy(j): sp.Symbol(f"_f{len(operands) + j}") for j in range(len(inner_operands))}
                replace[dummy(i)] = inner.xreplace(shift)
                operands += inner_operands
            else:
                replace[dummy(i)] = sp.Symbol(f"_f{len(operands)}")
                operands.append(o)
        body = body.xreplace(replace)
        return body.xreplace({sp.Symbol(f"_f{j}"): dummy(j) for j in range(len(operands))}), operands

    def reads(self, k: int) -> list[int]:
        """The nodes whose printed values node ``k``'s code reads."""
        node = self.w.store[k]
        if node.op == "ew":
            return self.expanded(k)[1]
        if node.op == "matmul" and node.operands[0] in self.skipped:  # a skipped transpose's operand
            return [self.w.store[node.operands[0]].operands[0], node.operands[1]]
        return list(node.operands)

    def groups(self, block: list[int]) -> list[list[int]]:
        """The block's nodes in the order they are printed, elementwise nodes of one layout that
        can share a loop over the block gathered into one group (``local``: the group members no
        one else reads, kept in a local variable instead of a work array). Anything else is
        printed as soon as its operands are there, so that as many element loops as possible
        become ready together."""
        store = self.w.store
        produced_at = {other: first for first, other in self.paired.items()}
        pending = set(block)
        groups: list[list[int]] = []

        def ready(k: int, group=()) -> bool:
            return all(produced_at.get(o, o) not in pending or o in group for o in self.reads(k))

        while pending:
            waiting = [k for k in block if k in pending]
            group = next(([k] for k in waiting if store[k].op != "ew" and ready(k)), None)
            if group is None:
                group = [next(k for k in waiting if ready(k))]
                layout = self.w.storage(store[group[0]])
                for k in waiting[waiting.index(group[0]) + 1:]:
                    if store[k].op == "ew" and self.w.storage(store[k]) == layout and ready(k, group):
                        group.append(k)
            pending.difference_update(group)
            groups.append(group)
        readers: dict[int, set[int]] = {}
        for k in self.order:
            if k not in self.fused:
                for o in self.reads(k):
                    readers.setdefault(o, set()).add(k)
        self.local = {k for group in groups if len(group) > 1 for k in group
                      if k not in self.roots and k not in produced_at and readers.get(k, set()) <= set(group)}
        return groups


class _Writer:
    def __init__(self, programs: TensorKernelPrograms, dtype: str):
        self.programs = programs
        self.store = programs.store
        self.literal = "{0}" if dtype == "float64" else "F({0})"
        self.lines: list[str] = []
        self.in_place: dict[int, Slot] = {}  # accumulators that are blocks of theta_out (see function)
        self.leaf_names = {}
        for slots, prefix in ((programs.params, "p"), (programs.inputs, "x"), (programs.targets, "t")):
            for k, slot in enumerate(slots):
                self.leaf_names[slot.symbol] = (prefix, k, slot)

    def emit(self, text: str = "", depth: int = 1) -> None:
        self.lines.append(_INDENT * depth + text if text else "")

    @staticmethod
    def storage(node: TensorNode) -> tuple:
        rows, cols = (1, 1) if node.is_scalar else node.shape
        return ("B", rows) if node.batched else (rows, cols)

    def name(self, k: int) -> str:
        node = self.store[k]
        if node.op == "leaf":
            prefix, index, _ = self.leaf_names[node.attr("symbol")]
            return f"{prefix}{index}"
        return f"v{k}"

    # -- elementwise loops -------------------------------------------------------------
    def element_value(self, f: _Function, k: int) -> str:
        """Element ``[b, i]`` (or ``[i, j]`` of a sample-independent node) of elementwise node ``k``."""
        node = self.store[k]
        body, operands = f.expanded(k)
        names = {}
        for i, o in enumerate(operands):
            operand = self.store[o]
            if o in f.local:
                names[dummy(i)] = f"e{o}"
                continue
            if operand.is_scalar:
                index = "b, 0" if operand.batched else "0, 0"
            elif operand.batched:
                index = "b, i"
            else:
                index = "i, 0" if node.batched else "i, j"
            names[dummy(i)] = f"{self.name(o)}[{index}]"
        return ElementPrinter(names, literal=self.literal).doprint(body)

    def elementwise(self, f: _Function, k: int, depth: int) -> None:
        rows, cols = self.storage(self.store[k])
        if self.store[k].batched:
            self.emit("for b in range(B):", depth)
            self.emit(f"for i in range({cols}):", depth + 1)
            self.emit(f"v{k}[b, i] = {self.element_value(f, k)}", depth + 2)
        else:
            self.emit(f"for i in range({rows}):", depth)
            self.emit(f"for j in range({cols}):", depth + 1)
            self.emit(f"v{k}[i, j] = {self.element_value(f, k)}", depth + 2)

    def element_group(self, f: _Function, group: list[int], depth: int) -> None:
        """Several elementwise nodes of one block layout in one loop (see ``_Function.groups``)."""
        for k in group:
            if k not in f.local:
                self.emit(f"v{k} = w{k}[:B]", depth)
        self.emit("for b in range(B):", depth)
        self.emit(f"for i in range({self.storage(self.store[group[0]])[1]}):", depth + 1)
        for k in group:
            target = f"e{k}" if k in f.local else f"v{k}[b, i]"
            self.emit(f"{target} = {self.element_value(f, k)}", depth + 2)

    # -- one node ----------------------------------------------------------------------
    def node(self, f: _Function, k: int, depth: int) -> None:  # noqa: PLR0912 - one case per op
        node = self.store[k]
        v = self.name(k)
        ops = [self.name(o) for o in node.operands]
        op = node.op
        if op == "leaf":
            prefix, index, slot = self.leaf_names[node.attr("symbol")]
            if prefix == "p":
                self.emit(f"{v} = matrix_view(theta, {slot.offset}, {slot.shape[0]}, {slot.shape[1]})", depth)
            else:
                source = "X" if prefix == "x" else "T"
                slots = self.programs.inputs if prefix == "x" else self.programs.targets
                if len(slots) == 1:
                    self.emit(f"{v} = {source}[c0:c1]", depth)
                else:
                    # A column slice is not contiguous: copied, the BLAS helpers keep one specialisation.
                    self.emit(f"{v} = w_{v}[:B]", depth)
                    self.emit("for b in range(B):", depth)
                    self.emit(f"for i in range({slot.size}):", depth + 1)
                    self.emit(f"{v}[b, i] = {source}[c0 + b, {slot.offset} + i]", depth + 2)
            return
        if node.batched:
            if op in _BLOCK_ARRAYS:
                self.emit(f"{v} = w{k}[:B]", depth)
        elif op not in ("transpose", "element", "outer", "batch_sum", "matmul"):
            rows, cols = self.storage(node)
            self.emit(f"{v} = empty_matrix({rows}, {cols}, theta)", depth)
        if op == "ew":
            self.elementwise(f, k, depth)
        elif op == "matmul":
            a, b = node.operands
            if node.batched and self.store[a].op == "transpose":
                self.emit(f"matmul_nn({ops[1]}, {self.name(self.store[a].operands[0])}, {v})", depth)
            elif node.batched:
                self.emit(f"matmul_nt({ops[1]}, {ops[0]}, {v})", depth)
            else:
                self.emit(f"{v} = matmul({ops[0]}, {ops[1]})", depth)
        elif op == "transpose":
            self.emit(f"{v} = {ops[0]}.T", depth)
        elif op == "element":
            i, j = node.attr("index")
            parent = self.store[node.operands[0]]
            self.emit(f"{v} = {ops[0]}[:, {i}:{i + 1}]" if parent.batched else
                      f"{v} = {ops[0]}[{i}:{i + 1}, {j}:{j + 1}]", depth)
        elif op in ("softmax", "logsumexp", "sum"):
            operand = self.store[node.operands[0]]
            source = ops[0] if operand.batched else f"{ops[0]}.T"
            if k in f.paired:
                other = f.paired[k]
                soft, lse = (v, f"v{other}") if op == "softmax" else (f"v{other}", v)
                self.emit(f"v{other} = w{other}[:B]", depth)
                self.emit(f"softmax_logsumexp_rows({source}, {soft}, {lse})", depth)
            elif op == "softmax":
                self.emit(f"softmax_rows({source}, {v if node.batched else v + '.T'})", depth)
            elif op == "logsumexp":
                self.emit(f"logsumexp_rows({source}, {v})", depth)
            elif operand.batched:
                self.emit(f"row_sums({source}, {v})", depth)
            else:
                self.emit(f"{v}[0, 0] = np.sum({ops[0]})", depth)
        elif op == "embed":
            # Element loops: slice assignments cost numba seconds of compile time.
            i, j = node.attr("index")
            rows, cols = self.storage(node)
            self.emit(f"for r in range({v}.shape[0]):", depth)
            self.emit(f"for c in range({cols}):", depth + 1)
            self.emit(f"{v}[r, c] = 0.0", depth + 2)
            if node.batched:
                self.emit("for r in range(B):", depth)
                self.emit(f"{v}[r, {i}] = {ops[0]}[r, 0]", depth + 1)
            else:
                self.emit(f"{v}[{i}, {j}] = {ops[0]}[0, 0]", depth)
        elif op == "outer":
            self.emit(f"matmul_tn_add({ops[0]}, {ops[1]}, {v})", depth)
        elif op == "batch_sum":
            self.emit(f"add_column_sums({ops[0]}, {v})", depth)
        else:  # pragma: no cover - every op of graph.tensor is handled above
            raise AssertionError(op)

    # -- a range function --------------------------------------------------------------
    def function(self, name: str, args: str, roots: list[int], data: bool, finish,
                 grads_in_place: list | None = None) -> None:
        """``grads_in_place``: gradients (one per parameter) that may accumulate straight into
        ``theta_out`` (their blocks of it), with no accumulator to zero and add at the end."""
        f = _Function(self, roots)
        store = self.store
        self.lines += ["@numba.njit(cache=True, fastmath=FASTMATH, nogil=True)", f"def {name}({args}):"]
        printed = [k for k in f.order if k not in f.fused and k not in f.skipped]
        self.in_place = {}
        grads = list(grads_in_place or [])
        for slot, g in zip(self.programs.params, grads, strict=False):
            # only a gradient nothing else reads, of one parameter only, of the parameter's shape
            if (g is not None and f.phase[g] == "accumulate" and grads.count(g) == 1
                    and self.storage(store[g]) == tuple(slot.shape)
                    and not any(g in store[c].operands for c in f.order)):
                self.in_place[g] = slot
        for k in printed:
            if f.phase[k] == "before":
                self.node(f, k, 1)
            elif f.phase[k] == "accumulate" and k in self.in_place:
                slot = self.in_place[k]
                self.emit(f"v{k} = matrix_view(theta_out, {slot.offset}, {slot.shape[0]}, {slot.shape[1]})")
            elif f.phase[k] == "accumulate":
                rows, cols = self.storage(store[k])
                self.emit(f"v{k} = zero_matrix({rows}, {cols}, theta)")
        block = [k for k in printed if f.phase[k] in ("block", "accumulate")]
        groups = f.groups(block) if data else []
        block = [k for k in block if k not in f.local]
        if data:
            # The block's work arrays: (rows, columns) views of one allocation.
            arrays = []
            for k in block:
                if store[k].op == "leaf":
                    prefix, index, slot = self.leaf_names[store[k].attr("symbol")]
                    slots = self.programs.inputs if prefix == "x" else self.programs.targets
                    if prefix != "p" and len(slots) > 1:
                        arrays.append((f"w_{prefix}{index}", slot.size))
            for k in block + [f.paired[k] for k in block if k in f.paired]:
                if store[k].batched and store[k].op in _BLOCK_ARRAYS:
                    arrays.append((f"w{k}", self.storage(store[k])[1]))
            self.emit("rows = min(ROWS, stop - start)")
            if arrays:
                self.emit(f"work = empty_vector(rows * {sum(cols for _, cols in arrays)}, theta)")
            offset = 0
            for name, cols in arrays:
                self.emit(f"{name} = matrix_view(work, rows * {offset}, rows, {cols})")
                offset += cols
        finish("setup", f)
        if data:
            self.emit("for c0 in range(start, stop, ROWS):")
            self.emit("c1 = min(c0 + ROWS, stop)", 2)
            self.emit("B = c1 - c0", 2)
            for group in groups:
                if len(group) > 1:
                    self.element_group(f, group, 2)
                else:
                    self.node(f, group[0], 2)
            finish("block", f)
        for k in printed:
            if f.phase[k] == "after":
                self.node(f, k, 1)
        finish("end", f)
        self.lines += ["", ""]

    def gradient_outputs(self, grads, f, scale: str | None) -> None:
        for slot, g in zip(self.programs.params, grads, strict=True):
            if g is None or self.in_place.get(g) == slot:
                continue
            # Element loops: an array expression ``view += value`` costs seconds of numba compile time.
            rows, cols = slot.shape
            index = "0, 0" if self.store[g].is_scalar else "i, j"
            self.emit(f"for i in range({rows}):")
            self.emit(f"for j in range({cols}):", 2)
            self.emit(f"theta_out[{slot.offset} + i * {cols} + j] += {self.name(g)}[{index}]"
                      + (f" * {scale}" if scale else ""), 3)


def generate_tensor_source(programs: TensorKernelPrograms, *, dtype: str = "float64", parallel: bool = False,
                           fastmath: bool = False, header: str = "") -> str:
    """The module source of a layered model's kernels (see the module docstring)."""
    w = _Writer(programs, dtype)
    data = programs.has_data
    w.lines += [f'"""{header}"""', "", "import math", "", "import numba", "import numpy as np", "",
                "from symgrad.codegen.runtime import (add_column_sums, empty_matrix, empty_vector,",
                "                                     logsumexp_rows, matmul, matmul_nn, matmul_nt,",
                "                                     matmul_tn_add, matrix_view, row_sums,",
                "                                     sigmoid, softmax_logsumexp_rows, softmax_rows,",
                "                                     softplus, tanh, zero_matrix)",
                f"RUNTIME = {runtime_key()!r}  # the helpers' version (their machine code is inlined)", "",
                f"DTYPE = np.{dtype}", "F = DTYPE", f"FASTMATH = {fastmath!r}", f"PARALLEL = {parallel!r}",
                f"N_PARAMS = {programs.n_params}", f"CHUNKS = {CHUNKS}", f"ROWS = {ROWS}",
                *HELPERS_SOURCE.splitlines(), "", ""]
    loss = programs.loss
    loss_batched = programs.store[loss].batched
    # A loss that does not depend on the sample counts once per sample.
    scale = None if loss_batched or not data else "F(stop - start)"

    def value_finish(with_grads):
        def finish(stage, f):
            if stage == "setup":
                w.emit("acc = F(0.0)")
            elif stage == "block" and loss_batched:
                w.emit("for b in range(B):", 2)
                w.emit(f"acc += {w.name(loss)}[b, 0]", 3)
            elif stage == "end":
                if not loss_batched:
                    w.emit(f"acc = {w.name(loss)}[0, 0]" + (f" * {scale}" if scale else ""))
                if with_grads:
                    w.gradient_outputs(programs.grads, f, scale)
                w.emit("return acc")
        return finish

    data_args = ", X, T, start, stop" if data else ""
    live_grads = [g for g in programs.grads if g is not None]
    w.function("_loss_range", f"theta{data_args}", [loss], data, value_finish(False))
    w.function("_loss_grad_range", f"theta{data_args}, theta_out", [loss, *live_grads], data,
               value_finish(True), grads_in_place=None if scale else programs.grads)
    if programs.regularizer is not None:
        reg = programs.regularizer

        def reg_finish(with_grads):
            def finish(stage, f):
                if stage == "end":
                    if with_grads:
                        w.gradient_outputs(programs.regularizer_grads, f, None)
                    w.emit(f"return {w.name(reg)}[0, 0]")
            return finish

        reg_grads = [g for g in programs.regularizer_grads if g is not None]
        w.function("_regularizer", "theta, theta_out", [reg, *reg_grads], False, reg_finish(True))
        w.function("_regularizer_value", "theta", [reg], False, reg_finish(False))
    if programs.outputs:
        _predict(w, programs)
    w.lines += public_kernel_lines(data, regularizer=programs.regularizer is not None, hessian=False,
                                   parallel=parallel)
    return "\n".join(w.lines).rstrip() + "\n"


def _predict(w: _Writer, programs: TensorKernelPrograms) -> None:
    def finish(stage, f):
        if stage != "block":
            return
        column = 0
        for o in programs.outputs:
            node = w.store[o]
            size = 1 if node.is_scalar else node.shape[0]
            value = w.name(o)
            if node.batched:
                w.emit(f"out[c0:c1, {column}:{column + size}] = {value}", 2)
            else:
                w.emit("for b in range(B):", 2)
                w.emit(f"for i in range({size}):", 3)
                w.emit(f"out[c0 + b, {column} + i] = {value}[i, 0]", 4)
            column += size

    w.function("predict_range", "theta, X, start, stop, out", list(programs.outputs), True, finish)
