"""``MatrixModel``: a model whose parameters or data are matrix-valued (layered networks).

``sg.Model(...)`` returns one when any declared symbol is a ``MatrixSymbol``.
It keeps the interface of :class:`symgrad.Model` — ``gradient()``,
``explain()``, ``compile()`` with the same kernels, ``sg.fit`` — but lowers and
differentiates at the tensor level, so a 64-32-10 network is a dozen nodes,
not tens of thousands of scalar statements, and its kernels call BLAS.

``theta`` is the parameters in the order of ``params``, each matrix row-major.
Data rows hold the inputs in order, each vector flattened: ``(n, 64)`` for one
input of 64 features.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cached_property

import networkx as nx
import numpy as np
import sympy as sp

from .codegen.runtime import runtime_key
from .codegen.stable import stabilize
from .codegen.tensor_kernels import (
    Slot,
    TensorKernelPrograms,
    flatten_blocks,
    generate_tensor_source,
    unflatten_blocks,
)
from .compile.compiled import CompiledModel, KernelLayout
from .declare.tensors import Defined, elements, is_matrix, matrix_symbols
from .diff.tensor_reverse import tensor_gradients
from .errors import DeclarationError, ShapeError
from .graph.tensor import TensorStore
from .graph.tensor_lower import TensorLowering
from .model import Model
from .program.tensor_program import TensorDisplay

__all__ = ["MatrixModel", "declared_matrices"]


def declared_matrices(*groups) -> bool:
    """Whether any symbol of the groups (or of a loss expression) is matrix-valued."""
    for group in groups:
        if isinstance(group, sp.Basic):
            if is_matrix(group) or matrix_symbols(group):
                return True
        elif isinstance(group, (list, tuple)):
            if any(isinstance(s, sp.MatrixSymbol) for s in group):
                return True
    return False


def _symbols(value, role: str) -> tuple:
    if value is None:
        return ()
    if isinstance(value, (sp.Symbol, sp.MatrixSymbol)):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise DeclarationError(f"{role} must be a list of symbols or MatrixSymbols, got {value!r}")
    for s in value:
        if not isinstance(s, (sp.Symbol, sp.MatrixSymbol)):
            raise DeclarationError(f"{role} must contain Symbols or MatrixSymbols; "
                                   f"got {type(s).__name__} {s!r}")
    names = [str(s) for s in value]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DeclarationError(f"{', '.join(repeated)} listed more than once in {role}")
    return tuple(value)


def _shape(symbol) -> tuple[int, int]:
    return tuple(int(d) for d in symbol.shape) if isinstance(symbol, sp.MatrixSymbol) else (1, 1)


def _slots(symbols) -> tuple[Slot, ...]:
    slots, offset = [], 0
    for s in symbols:
        slot = Slot(s, _shape(s), offset)
        slots.append(slot)
        offset += slot.size
    return tuple(slots)


def _scalar_loss(expr, what: str):
    expr = sp.sympify(expr)
    if is_matrix(expr):
        if tuple(expr.shape) != (1, 1):
            raise ShapeError(f"{what} must be a scalar (or 1×1), got a matrix of shape {expr.shape}; "
                             f"reduce it with sg.nn.sum or pick an element")
        return expr
    if not isinstance(expr, sp.Expr):
        raise DeclarationError(f"{what} must be a SymPy expression, got {type(expr).__name__}")
    return expr


class MatrixModel(Model):
    """A model with matrix-valued parameters or data (see the module docstring).

    ``outputs`` (what ``compile().predict`` returns per sample) defaults to the
    prediction inside an ``sg.nn`` loss, e.g. the logits of ``cross_entropy``.
    """

    _check_scalar = staticmethod(_scalar_loss)
    _symbol_list = staticmethod(_symbols)

    def __init__(self, loss, params, inputs=(), targets=(), regularizer=None, outputs=None):
        self._declare(loss, params, inputs, targets, regularizer)
        seen: dict = {}
        for role, group in (("params", self.params), ("inputs", self.inputs), ("targets", self.targets)):
            for s in group:
                if str(s) in seen:
                    raise DeclarationError(f"{s} is declared in both {seen[str(s)]} and {role}")
                seen[str(s)] = role
        if self.regularizer != 0:
            data = [s for s in self._free(self.regularizer) if self.roles.get(s) in ("input", "target")]
            if data:
                raise DeclarationError(f"the regularizer must not depend on the data, but it reads {data[0]}")
        self.outputs = self._default_outputs() if outputs is None else self._check_outputs(outputs)
        self._store, self._lowering, self._loss_node, self._grad_nodes = self._differentiate(stable=False)
        self._compiled: dict[tuple, CompiledModel] = {}

    # -- declaration ---------------------------------------------------------------------
    @staticmethod
    def _free(expr) -> set:
        return {a for a in sp.preorder_traversal(expr) if isinstance(a, (sp.Symbol, sp.MatrixSymbol))}

    def _default_outputs(self) -> tuple:
        for node in sp.preorder_traversal(self.loss):
            if isinstance(node, Defined) and getattr(node, "prediction", None) is not None:
                return (node.prediction,)
        return ()

    def _check_outputs(self, outputs) -> tuple:
        outputs = tuple(outputs) if isinstance(outputs, (list, tuple)) else (outputs,)
        allowed = set(self.params + self.inputs)
        for out in outputs:
            extra = [s for s in self._free(out) if s not in allowed and s in self.roles]
            if extra:
                raise DeclarationError(f"output {out} reads the target {extra[0]}; outputs are predictions "
                                       "from parameters and inputs")
            if is_matrix(out) and out.shape[1] != 1:
                raise ShapeError(f"output {out} has shape {out.shape}; outputs must be scalars or "
                                 f"column vectors")
        return outputs

    @property
    def roles(self) -> dict:
        roles = {s: "param" for s in self.params}
        roles.update({s: "input" for s in self.inputs})
        roles.update({s: "target" for s in self.targets})
        return roles

    @property
    def n_params(self) -> int:
        return sum(s.size for s in self.slots)

    @cached_property
    def slots(self) -> tuple[Slot, ...]:
        """Where each parameter lives in ``theta`` (offset, shape; row-major)."""
        return _slots(self.params)

    def _differentiate(self, stable: bool):
        store = TensorStore()
        lowering = TensorLowering(store, self.roles, rewrite=stabilize if stable else None)
        loss = lowering.lower(self.loss)
        if not store[loss].is_scalar:
            raise ShapeError(f"the loss has shape {store[loss].shape}; it must be a scalar")
        leaves = [lowering.lower(p) for p in self.params]
        # Inputs get adjoints too here (for explain); the kernels differentiate w.r.t. params only.
        inputs = [lowering.lower(s) for s in self.inputs if s in self._free(self.loss)]
        used = {store[k].attr("symbol") for k in range(len(store)) if store[k].op == "leaf"}
        unused = [p for p in self.params if p not in used]
        if unused and self.regularizer == 0:
            import warnings

            from .errors import SymgradWarning
            warnings.warn(f"parameter(s) {', '.join(map(str, unused))} do not appear in the loss; "
                          f"their gradient is zero", SymgradWarning, stacklevel=4)
        self._adjoints: dict[int, int] = {}
        grads = tensor_gradients(store, loss, leaves + inputs, self._adjoints)
        return store, lowering, loss, grads[:len(leaves)]

    # -- inspection ----------------------------------------------------------------------
    @cached_property
    def graph(self) -> nx.DiGraph:
        """The tensor-level computational graph of the loss and its adjoints (nodes carry shapes)."""
        return self._store.to_networkx(self._lowering.expressions, (self._loss_node,))

    @property
    def program(self):
        raise DeclarationError("a layered model has a tensor program: see model.gradient() and "
                               "model.explain(param); model.compile().source shows the kernels")

    def gradient(self) -> dict:
        """``{param: ∂loss/∂param}`` for one sample, as SymPy matrix expressions (regulariser added)."""
        display = TensorDisplay(self._store, self._lowering.expressions)
        result = {}
        for p, g in zip(self.params, self._grad_nodes, strict=True):
            value = sp.S.Zero if g is None else display(g)
            if is_matrix(p) and not is_matrix(value):  # a scalar broadcast over the matrix
                value = sp.ZeroMatrix(*p.shape) if value == 0 else sp.MatMul(value, sp.OneMatrix(*p.shape))
            result[p] = value
        if self.regularizer != 0:
            reg = self._regularizer_program()
            reg_display = TensorDisplay(reg[0], reg[1].expressions)
            for p, g in zip(self.params, reg[3], strict=True):
                if g is not None:
                    term = reg_display(g)
                    result[p] = term if result[p] in (sp.S.Zero,) or isinstance(result[p], sp.ZeroMatrix) \
                        else (sp.MatAdd(result[p], term) if is_matrix(p) else result[p] + term)
        return result

    def hessian(self):
        raise DeclarationError("Hessians of layered models are not available; use the scalar form "
                               "(sg.declare.tensors.explicit) for a small model")

    def explain(self, param, at=None, names: Mapping | None = None, max_paths: int = 8):
        """The δ recursion of backprop for ``∂loss/∂param``, statement by statement.

        Each named station (a layer's pre-activation ``z``, its activation ``a``)
        gets its δ = ∂loss/∂station, written with the stations' names.
        """
        from .inspect.matrix_explain import explain_matrix

        if param not in self.params and param not in self.inputs:
            raise DeclarationError(f"{param} is not a parameter or input of this model; choose one of "
                                   f"{', '.join(map(str, self.params + self.inputs))}")
        return explain_matrix(self, param, names=names)

    def unflatten(self, theta) -> dict:
        """``{param: value}`` from a flat ``theta``: arrays of the declared shapes, floats for scalars."""
        theta = np.asarray(theta)
        if theta.shape != (self.n_params,):
            raise ShapeError(f"theta has shape {theta.shape}, expected ({self.n_params},)")
        return unflatten_blocks(theta, self.slots)

    def flatten(self, values: Mapping) -> np.ndarray:
        """A flat ``theta`` from ``{param: array or number}`` naming every parameter."""
        return flatten_blocks(values, self.slots, np.float64)

    def init_params(self, seed=0, weights: str = "xavier", scale: float | None = None) -> np.ndarray:
        """A seeded initial ``theta``: weight matrices by ``weights`` (``"xavier"``, ``"he"`` or
        ``"normal"`` with standard deviation ``scale``), column vectors (biases) and scalars zero."""
        from .nn.init import initial_theta

        return initial_theta(self.slots, seed=seed, weights=weights, scale=scale)

    # -- kernels -------------------------------------------------------------------------
    def fingerprint(self) -> str:
        parts = [sp.srepr(self.loss), sp.srepr(self.regularizer), *map(sp.srepr, self.outputs)]
        order = "|".join(f"{role}:{','.join(f'{s}{_shape(s)}' for s in symbols)}" for role, symbols in
                         (("params", self.params), ("inputs", self.inputs), ("targets", self.targets)))
        # The runtime helpers' machine code is compiled into the kernels: their version is part of the key.
        text = "\n".join([*parts, order, runtime_key()])
        return "tensor:" + hashlib.sha256(text.encode()).hexdigest()[:32]

    def _regularizer_program(self):
        store = TensorStore()
        lowering = TensorLowering(store, self.roles)
        node = lowering.lower(self.regularizer)
        leaves = [lowering.lower(p) for p in self.params]
        return store, lowering, node, tensor_gradients(store, node, leaves)

    def kernel_programs(self, hessian: bool = False, hvp: bool = False) -> TensorKernelPrograms:
        """The tensor programs the kernels are printed from (stable forms of the loss)."""
        store = TensorStore()
        lowering = TensorLowering(store, self.roles, rewrite=stabilize)
        loss = lowering.lower(self.loss)
        leaves = [lowering.lower(p) for p in self.params]
        grads = tensor_gradients(store, loss, leaves)
        outputs = tuple(lowering.lower(o) for o in self.outputs)
        reg = reg_grads = None
        if self.regularizer != 0:
            reg = lowering.lower(self.regularizer)
            reg_grads = tuple(tensor_gradients(store, reg, leaves))
        return TensorKernelPrograms(store=store, params=self.slots, inputs=_slots(self.inputs),
                                    targets=_slots(self.targets), loss=loss, grads=tuple(grads),
                                    outputs=outputs, regularizer=reg, regularizer_grads=reg_grads or ())

    def compile(self, dtype: str = "float64", parallel: bool = False, fastmath: bool = False,
                hessian: bool | None = None, hvp: bool | None = None, cache_dir=None,
                check: bool = False) -> CompiledModel:
        """Compile batched numba kernels (BLAS products, fused elementwise loops); cached on disk.

        The arguments are those of :meth:`symgrad.Model.compile`; Hessian kernels are
        not available for layered models.
        """
        if hessian or hvp:
            raise DeclarationError("Hessian kernels are not available for layered models")
        options = (dtype, bool(parallel), bool(fastmath), str(cache_dir))
        if options not in self._compiled:
            flat = lambda symbols: tuple(e for s in symbols for e in elements(s))  # noqa: E731
            layout = KernelLayout(flat(self.params), flat(self.inputs), flat(self.targets),
                                  sum(1 if not is_matrix(o) else o.shape[0] for o in self.outputs),
                                  blocks=self.slots, initializer=self.init_params)
            self._compiled[options] = CompiledModel(
                layout, self.kernel_programs, key=self.fingerprint(), dtype=dtype, parallel=parallel,
                fastmath=fastmath, cache_dir=cache_dir, description=repr(self),
                generate=generate_tensor_source)
        if check:
            from .check.quick import check_compiled

            check_compiled(self._compiled[options])
        return self._compiled[options]

    def __repr__(self) -> str:
        def names(symbols):
            return "[" + ", ".join(f"{s}{'' if not is_matrix(s) else tuple(s.shape)}" for s in symbols) + "]"

        text = sp.sstr(self.loss)
        loss = text if len(text) <= 70 else text[:69] + "…"
        parts = [f"loss={loss}", f"params={names(self.params)}"]
        if self.inputs:
            parts.append(f"inputs={names(self.inputs)}")
        if self.targets:
            parts.append(f"targets={names(self.targets)}")
        return f"Model({', '.join(parts)})"
