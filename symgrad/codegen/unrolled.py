"""Straight-line helpers for the scalar kernels, laid out by a literal string.

A scalar network's per-sample gradient is mostly two kinds of line: sums
``b + Σ_k θ[i_k] · v_k`` of parameters times per-sample values, and gradient
entries ``row[i] = a · b``. Printed one term and one line at a time, a
2-16-16-1 network is about 1,500 operations, and numba spends milliseconds
typing and lowering each of them (each ``theta[k]`` load and ``row[k] =``
store alone costs about 5 ms): most of the model's compile time.

The intrinsics here take their layout as a string literal, so one call
stands for a whole sum or a whole gradient, and numba types and lowers it
once. They expand, in the caller, into the same loads, multiplications and
stores the term-by-term code would have given: nothing is called at run time
and LLVM optimises them together with the rest of the kernel. (A compiled
helper taking the layout as arrays would be called, not inlined: numba links
functions from its cache as machine code.)

* ``gather(theta, "i0,i1,...")`` is the tuple ``(theta[i0], theta[i1], ...)``,
  and ``gather_row(X, i, "j0,j1,...")`` the tuple ``(X[i, j0], X[i, j1], ...)``.
  The kernels gather the weights once, before the loop over samples: in a
  tuple LLVM knows the stores into ``row`` cannot change them, loaded from
  ``theta`` inside the loop it would load them again for every sample.
* ``dot(weights, values, "k0,k1,...")`` is ``Σ_j weights[k_j] * values[j]``,
  the sum of the first half's sum and the second half's (recursively).
* ``store(row, factors, "r:a:b,r:a,...")`` sets ``row[r] = factors[a] *
  factors[b]`` (or ``factors[a]``) for each entry.
* ``place(matrix, theta, "r:c:k,...")`` sets ``matrix[r, c] = theta[k]`` and
  ``add_entries(out, matrix, "k:r:c,...")`` adds ``matrix[r, c]`` to ``out[k]``:
  the block form of the scalar kernels (:mod:`symgrad.codegen.sample_blocks`)
  moves parameters into a weight matrix and gradient sums out of one.

``theta``, ``row``, ``out``, ``matrix`` and ``X`` are C-contiguous arrays of floats (the public
kernels check theirs), ``i`` a row of ``X``; values and factors are tuples, converted to the arrays' type.
The layouts are generated, not user input: an index past the end is caught
while numba compiles for the tuples, not for the arrays.
"""

from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic

__all__ = ["gather", "gather_row", "dot", "store", "place", "add_entries", "dot_layout", "store_layout"]


def dot_layout(indices) -> str:
    """The layout string of ``gather`` or ``dot`` for these indices."""
    return ",".join(str(int(i)) for i in indices)


def store_layout(entries) -> str:
    """The layout string of ``store`` for ``(row entry, factor[, factor])`` tuples."""
    return ",".join(":".join(str(int(k)) for k in entry) for entry in entries)


def _parse(layout: str) -> list[tuple[int, ...]]:
    return [tuple(int(k) for k in part.split(":")) for part in layout.split(",")]


def _vector(array) -> bool:
    return (isinstance(array, types.Array) and array.ndim == 1 and array.layout == "C"
            and isinstance(array.dtype, types.Float))


def _matrix(array) -> bool:
    return (isinstance(array, types.Array) and array.ndim == 2 and array.layout == "C"
            and isinstance(array.dtype, types.Float))


def _entry_pointer(context, builder, matrix_type, value, r: int, c: int):
    array = context.make_array(matrix_type)(context, builder, value)
    start = builder.mul(context.get_constant(types.intp, r), builder.extract_value(array.shape, 1))
    return builder.gep(array.data, [builder.add(start, context.get_constant(types.intp, c))], inbounds=True)


def _element(context, builder, tuple_type, value, k: int, real):
    return context.cast(builder, builder.extract_value(value, k), tuple_type[k], real)


def _balanced_sum(builder, terms: list):
    # The halves, recursively: the order in which NumbaPrinter prints a long sum, so that a
    # module printing the same dot product as a sum (sg.emit's) gives the same bits.
    if len(terms) == 1:
        return terms[0]
    half = len(terms) // 2
    return builder.fadd(_balanced_sum(builder, terms[:half]), _balanced_sum(builder, terms[half:]))


@intrinsic
def gather(typingctx, theta, layout):
    """``(theta[i0], theta[i1], ...)`` for the indices in ``layout``."""
    if not isinstance(layout, types.StringLiteral) or not _vector(theta):
        return None
    indices = [i for (i,) in _parse(layout.literal_value)]
    tuple_type = types.UniTuple(theta.dtype, len(indices))

    def codegen(context, builder, signature, args):
        data = context.make_array(theta)(context, builder, args[0]).data
        loads = [builder.load(cgutils.gep_inbounds(builder, data, i)) for i in indices]
        return context.make_tuple(builder, tuple_type, loads)

    return tuple_type(theta, layout), codegen


@intrinsic
def gather_row(typingctx, matrix, i, layout):
    """``(matrix[i, j0], matrix[i, j1], ...)`` for the columns in ``layout``: one sample's inputs."""
    if not isinstance(layout, types.StringLiteral) or not isinstance(i, types.Integer):
        return None
    if not (isinstance(matrix, types.Array) and matrix.ndim == 2 and matrix.layout == "C"
            and isinstance(matrix.dtype, types.Float)):
        return None
    columns = [j for (j,) in _parse(layout.literal_value)]
    tuple_type = types.UniTuple(matrix.dtype, len(columns))

    def codegen(context, builder, signature, args):
        array = context.make_array(matrix)(context, builder, args[0])
        width = builder.extract_value(array.shape, 1)
        start = builder.mul(context.cast(builder, args[1], i, types.intp), width)
        row = builder.gep(array.data, [start], inbounds=True)
        loads = [builder.load(cgutils.gep_inbounds(builder, row, j)) for j in columns]
        return context.make_tuple(builder, tuple_type, loads)

    return tuple_type(matrix, i, layout), codegen


@intrinsic
def dot(typingctx, weights, values, layout):
    """``Σ_k weights[i_k] * values[k]`` for the positions ``i_k`` in ``layout``."""
    # Returning None lets numba retry with the literal type of the string.
    if not isinstance(layout, types.StringLiteral) or not isinstance(weights, types.UniTuple):
        return None
    if not isinstance(values, types.BaseTuple) or not isinstance(weights.dtype, types.Float):
        return None
    indices = [i for (i,) in _parse(layout.literal_value)]
    if len(indices) != len(values) or max(indices) >= len(weights):
        raise TypingError(f"dot layout {layout.literal_value!r} does not fit {len(weights)} weights "
                         f"and {len(values)} values")
    real = weights.dtype

    def codegen(context, builder, signature, args):
        terms = [builder.fmul(builder.extract_value(args[0], i),
                              _element(context, builder, values, args[1], k, real))
                 for k, i in enumerate(indices)]
        return _balanced_sum(builder, terms)

    return real(weights, values, layout), codegen


@intrinsic
def store(typingctx, row, factors, layout):
    """``row[r] = factors[a] * factors[b]`` (or ``factors[a]``) for each ``r:a:b`` of ``layout``."""
    if not isinstance(layout, types.StringLiteral) or not _vector(row):
        return None
    if not isinstance(factors, types.BaseTuple):
        return None
    entries = _parse(layout.literal_value)
    if max(k for entry in entries for k in entry[1:]) >= len(factors):
        raise TypingError(f"store layout {layout.literal_value!r} reads past the {len(factors)} factors")
    real = row.dtype

    def codegen(context, builder, signature, args):
        data = context.make_array(row)(context, builder, args[0]).data
        value = [_element(context, builder, factors, args[1], k, real) for k in range(len(factors))]
        for r, a, *b in entries:
            product = builder.fmul(value[a], value[b[0]]) if b else value[a]
            builder.store(product, cgutils.gep_inbounds(builder, data, r))
        return context.get_dummy_value()

    return types.none(row, factors, layout), codegen


@intrinsic
def place(typingctx, matrix, theta, layout):
    """``matrix[r, c] = theta[k]`` for each ``r:c:k`` of ``layout``."""
    if not isinstance(layout, types.StringLiteral) or not _matrix(matrix) or not _vector(theta):
        return None
    entries = _parse(layout.literal_value)

    def codegen(context, builder, signature, args):
        data = context.make_array(theta)(context, builder, args[1]).data
        for r, c, k in entries:
            value = context.cast(builder, builder.load(cgutils.gep_inbounds(builder, data, k)), theta.dtype,
                                 matrix.dtype)
            builder.store(value, _entry_pointer(context, builder, matrix, args[0], r, c))
        return context.get_dummy_value()

    return types.none(matrix, theta, layout), codegen


@intrinsic
def add_entries(typingctx, out, matrix, layout):
    """``out[k] += matrix[r, c]`` for each ``k:r:c`` of ``layout``."""
    if not isinstance(layout, types.StringLiteral) or not _matrix(matrix) or not _vector(out):
        return None
    entries = _parse(layout.literal_value)

    def codegen(context, builder, signature, args):
        data = context.make_array(out)(context, builder, args[0]).data
        for k, r, c in entries:
            entry = builder.load(_entry_pointer(context, builder, matrix, args[1], r, c))
            value = context.cast(builder, entry, matrix.dtype, out.dtype)
            pointer = cgutils.gep_inbounds(builder, data, k)
            builder.store(builder.fadd(builder.load(pointer), value), pointer)
        return context.get_dummy_value()

    return types.none(out, matrix, layout), codegen
