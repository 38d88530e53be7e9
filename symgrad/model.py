"""``Model``: a per-sample loss with named parameters, inputs and targets.

The training objective over a batch of ``m`` samples is

    J(θ) = (1/m) Σ_i loss(θ, x_i, t_i) + regularizer(θ)

and since the regulariser does not depend on the data, J is also the mean
of the per-sample objective ``loss + regularizer``; that per-sample
objective is what :meth:`Model.gradient` differentiates.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

import networkx as nx
import sympy as sp

from .codegen.kernels import KernelPrograms
from .codegen.stable import stabilize
from .compile.compiled import CompiledModel, KernelLayout
from .declare.validate import as_symbol_list, check_outputs, check_roles, check_scalar
from .errors import DeclarationError
from .graph.fingerprint import fingerprint
from .graph.lower import leaf_symbols, to_graph
from .inspect.explain import Explanation, explain
from .program.build import build_program
from .program.program import Program

__all__ = ["Model"]


class Model:
    """A declarative model: per-sample loss, parameters, inputs, targets.

    Args:
        loss: scalar SymPy expression of one sample's loss.
        params: the symbols trained; their order is the order of ``theta``.
        inputs: one sample's input symbols.
        targets: one sample's target symbols.
        regularizer: optional data-free penalty on the parameters, added once
            to the mean loss (e.g. ``sg.losses.l2_penalty(params, lam / m)``).
        outputs: optional prediction expression(s) of parameters and inputs,
            what ``compile().predict`` evaluates (e.g. the probability ``p``).

    >>> import sympy as sp
    >>> import symgrad as sg
    >>> w, b, x, t = sp.symbols("w b x t")
    >>> model = sg.Model(loss=(w * x + b - t) ** 2, params=[w, b], inputs=[x], targets=[t])
    >>> model.gradient()[w]
    x*(2*b - 2*t + 2*w*x)
    """

    def __new__(cls, loss=None, params=None, inputs=(), targets=(), regularizer=None, outputs=None):
        # Matrix-valued declarations are lowered and differentiated at the tensor level.
        if cls is Model:
            from .matrix_model import MatrixModel, declared_matrices

            if declared_matrices(params, inputs, targets, loss):
                return super().__new__(MatrixModel)
        return super().__new__(cls)

    def _declare(self, loss, params, inputs, targets, regularizer) -> None:
        """The checked loss, regulariser and symbol lists, at least one parameter."""
        self.loss = self._check_scalar(loss, "loss")
        self.regularizer = self._check_scalar(0 if regularizer is None else regularizer, "regularizer")
        self.params = self._symbol_list(params, "params")
        self.inputs = self._symbol_list(inputs, "inputs")
        self.targets = self._symbol_list(targets, "targets")
        if not self.params:
            raise DeclarationError("a model needs at least one parameter in params")

    #: How a declaration's loss and symbol lists are checked (a layered model accepts matrices).
    _check_scalar = staticmethod(check_scalar)
    _symbol_list = staticmethod(as_symbol_list)

    def __init__(self, loss, params, inputs=(), targets=(), regularizer=None, outputs=None):
        self._declare(loss, params, inputs, targets, regularizer)
        # Lowering first also rejects unsupported constructs at declaration.
        used = set(leaf_symbols(self.graph))
        check_roles(
            {"params": self.params, "inputs": self.inputs, "targets": self.targets},
            used,
            self.regularizer,
        )
        self.outputs = check_outputs(outputs, set(self.params + self.inputs))
        self._compiled: dict[tuple, CompiledModel] = {}

    @property
    def objective(self) -> sp.Expr:
        """The per-sample objective ``loss + regularizer``."""
        return self.loss + self.regularizer

    @property
    def roles(self) -> dict[sp.Symbol, str]:
        """Role of every declared symbol: ``param``, ``input`` or ``target``."""
        roles = {s: "param" for s in self.params}
        roles.update({s: "input" for s in self.inputs})
        roles.update({s: "target" for s in self.targets})
        return roles

    @property
    def n_params(self) -> int:
        """Length of the flat parameter vector ``theta``."""
        return len(self.params)

    @cached_property
    def graph(self) -> nx.DiGraph:
        """The computational graph of the per-sample objective."""
        return to_graph(self.objective, self.roles)

    @cached_property
    def program(self) -> Program:
        """Forward and adjoint passes of the per-sample objective w.r.t. the parameters."""
        return build_program(
            self.objective,
            self.params,
            roles=self.roles,
            names=["loss"],
            inputs=self.params + self.inputs + self.targets,
            graph=self.graph,
        )

    @cached_property
    def _expanded(self) -> dict:
        return self.program.expanded()

    def gradient(self) -> dict[sp.Symbol, sp.Expr]:
        """``{param: ∂objective/∂param}`` for one sample, as SymPy expressions."""
        return {p: self._expanded[("grad", 0, i)] for i, p in enumerate(self.params)}

    def hessian(self) -> sp.Matrix:
        """Per-sample Hessian of the objective w.r.t. the parameters (SymPy Matrix)."""
        prog = build_program(self.objective, self.params, order=2, roles=self.roles)
        n = self.n_params
        full = prog.expanded()
        return sp.Matrix(n, n, [full[("hess", 0, i, j)] for i in range(n) for j in range(n)])

    def compile(self, dtype: str = "float64", parallel: bool = False, fastmath: bool = False,
                hessian: bool | None = None, hvp: bool | None = None, cache_dir=None,
                check: bool = False) -> CompiledModel:
        """Compile numba kernels for the batch objective (cached on disk and per model).

        Args:
            dtype: ``"float64"`` (default) or ``"float32"``.
            parallel: split the sample loop across threads (deterministic sum order).
            fastmath: let LLVM reorder floating-point arithmetic.
            hessian: also generate the Hessian kernel; default for models with at
                most 20 parameters (its size grows with the square of their number).
            hvp: also generate the Hessian-vector-product kernel; default for models
                with at most 50 parameters (it roughly doubles the generated code).
            cache_dir: where generated modules live (default ``$SYMGRAD_CACHE_DIR``
                or the user cache directory).
            check: after compiling, compare the gradient kernel with central
                differences at a random point (on a random batch of 8 samples for
                a model with data; see :func:`symgrad.check.quick.check_compiled`)
                and raise :class:`~symgrad.errors.GradientCheckError` on a mismatch.

        The kernels differentiate a numerically stable form of the loss that is
        mathematically equal to it (``log(sigmoid(z))`` as ``-softplus(-z)``, ...).
        """
        hessian = self.n_params <= 20 if hessian is None else bool(hessian)
        hvp = self.n_params <= 50 if hvp is None else bool(hvp)
        options = (dtype, bool(parallel), bool(fastmath), hessian, hvp, str(cache_dir))
        if options not in self._compiled:
            layout = KernelLayout(self.params, self.inputs, self.targets, len(self.outputs), hessian, hvp)
            self._compiled[options] = CompiledModel(
                layout, lambda: self.kernel_programs(hessian, hvp), key=self.fingerprint(),
                dtype=dtype, parallel=parallel, fastmath=fastmath, cache_dir=cache_dir,
                description=repr(self), value_programs=self.kernel_programs,
            )
        if check:
            from .check.quick import check_compiled  # the checker sits downstream of compile

            check_compiled(self._compiled[options])
        return self._compiled[options]

    def fingerprint(self) -> str:
        """A hash of everything the kernels are generated from (graph, roles, orders)."""
        parts = [self.graph, to_graph(self.regularizer)]
        if self.outputs:
            parts.append(to_graph(list(self.outputs)))
        order = "|".join(f"{role}:{','.join(map(str, symbols))}" for role, symbols in
                         (("params", self.params), ("inputs", self.inputs), ("targets", self.targets)))
        return f"{fingerprint(*parts)}|{order}"

    def kernel_programs(self, hessian: bool = False, hvp: bool = False) -> KernelPrograms:
        """The programs compiled kernels are printed from (stabilised loss)."""
        data = bool(self.inputs or self.targets)
        ordered = self.params + self.inputs + self.targets
        # Data-free: the objective is evaluated once, regulariser included.
        sample = stabilize(self.loss if data else self.objective)
        penalty = self.regularizer if data and self.regularizer != 0 else None

        def build(expr, order, inputs=ordered, direction=None):
            wrt = self.params if order or direction else []
            return build_program(expr, wrt, order=order, inputs=inputs, direction=direction)

        # Hessian-vector products read the direction v through these symbols.
        direction = tuple(sp.Dummy(f"v{k}") for k in range(self.n_params))
        return KernelPrograms(
            params=self.params, inputs=self.inputs, targets=self.targets,
            sample=build(sample, 1), sample_value=build(sample, 0),
            regularizer=None if penalty is None else build(penalty, 1, self.params),
            sample_hessian=build(sample, 2) if hessian else None,
            regularizer_hessian=build(penalty, 2, self.params) if hessian and penalty is not None else None,
            outputs=build_program(list(self.outputs), [], order=0, inputs=self.params + self.inputs)
            if self.outputs else None,
            direction=direction if hvp else (),
            sample_hvp=build(sample, 1, ordered + direction, direction) if hvp else None,
            regularizer_hvp=None if penalty is None or not hvp
            else build(penalty, 1, self.params + direction, direction),
        )

    def explain(
        self,
        param: sp.Symbol,
        at: Mapping[sp.Symbol, object] | None = None,
        names: Mapping[sp.Basic, str] | None = None,
        max_paths: int = 8,
    ) -> Explanation:
        """The chain rule for ``∂loss/∂param``: factors along every path, and the δ terms.

        Args:
            param: a parameter (or input) of the model.
            at: optional values of all symbols, to show each factor's number.
            names: optional display names for intermediate expressions,
                e.g. ``{w1*x1 + w2*x2 + b: "z"}``.
            max_paths: how many paths to list before summarising.
        """
        if param not in self.roles:
            raise DeclarationError(
                f"{param} is not a symbol of this model; choose one of "
                f"{', '.join(map(str, self.params + self.inputs))}"
            )
        return explain(self.objective, param, at=at, names=names, max_paths=max_paths,
                       output_name="loss")

    def __repr__(self) -> str:
        def names(symbols):
            if len(symbols) > 8:
                return f"[{', '.join(map(str, symbols[:3]))}, … {len(symbols)} symbols]"
            return "[" + ", ".join(map(str, symbols)) + "]"

        def short(expr, width):
            text = sp.sstr(expr)
            return text if len(text) <= width else text[: width - 1] + "…"

        # Printing a large loss costs more than the first 60 characters tell.
        loss = short(self.loss, 60) if len(self.graph) <= 200 else f"<{len(self.graph)}-node graph>"
        parts = [f"loss={loss}", f"params={names(self.params)}"]
        if self.inputs:
            parts.append(f"inputs={names(self.inputs)}")
        if self.targets:
            parts.append(f"targets={names(self.targets)}")
        if self.regularizer != 0:
            parts.append(f"regularizer={short(self.regularizer, 40)}")
        return f"Model({', '.join(parts)})"
