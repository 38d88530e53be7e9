"""Compiled helpers the layered models' kernels call: matrix products and row-wise reductions.

They live in this fixed module rather than in each generated one so that
numba compiles them once per machine (``cache=True``) instead of once per
model. The products call CBLAS directly (:mod:`symgrad.codegen.blas`): one
call instruction in the kernel instead of numba's ``np.dot``, which needs
SciPy and brings a large specialisation that LLVM optimises again inside
every kernel; they accumulate in place (``beta = 1``) where a gradient sums
over blocks. Every helper takes and writes C-contiguous blocks.
"""

from __future__ import annotations

import functools
import hashlib
import math
from pathlib import Path

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic
from numba.np.arrayobj import populate_array

from . import blas

__all__ = ["matmul_nt", "matmul_nn", "matmul_tn_add", "matmul", "softmax_rows", "logsumexp_rows",
           "softmax_logsumexp_rows", "row_sums", "add_column_sums", "matrix_view", "empty_matrix",
           "empty_vector", "zero_matrix", "tanh", "sigmoid", "softplus", "runtime_key"]


@functools.cache
def runtime_key() -> str:
    """A hash of this module's source: generated modules quote it, so a change here renames them
    and numba never reuses machine code that inlined an older helper."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


@numba.njit(cache=True, nogil=True)
def _gemm(trans_a, trans_b, a, b, beta, out):
    """``out = op(a) @ op(b) + beta * out`` (op transposes when asked), row-major CBLAS."""
    m, n = out.shape
    k = a.shape[0] if trans_a else a.shape[1]
    if m == 0 or n == 0:
        return
    if k > 0 and n == 1:
        # a matrix times a vector (b, either way round, is k contiguous numbers)
        _gemv(trans_a, a, b, beta, out)
    elif k > 0 and m == 1:
        # a row vector times a matrix: outᵀ = op(b)ᵀ op(a)ᵀ, op(a) k contiguous numbers
        _gemv(not trans_b, b, a, beta, out)
    else:
        ta = blas.TRANS if trans_a else blas.NO_TRANS
        tb = blas.TRANS if trans_b else blas.NO_TRANS
        # Leading dimensions must be at least 1, even for an empty operand.
        lda, ldb = max(a.shape[1], 1), max(b.shape[1], 1)
        if out.itemsize == 8:
            blas.dgemm(blas.ROW_MAJOR, ta, tb, m, n, k, 1.0, a.ctypes, lda, b.ctypes, ldb, beta,
                       out.ctypes, n)
        else:
            blas.sgemm(blas.ROW_MAJOR, ta, tb, m, n, k, 1.0, a.ctypes, lda, b.ctypes, ldb, beta,
                       out.ctypes, n)


@numba.njit(cache=True, nogil=True)
def _gemv(trans, a, x, beta, out):
    """``out = op(a) @ x + beta * out`` for contiguous vectors ``x`` and ``out`` (any 2-d shape):
    OpenBLAS's gemm is several times slower than its gemv at this."""
    ta = blas.TRANS if trans else blas.NO_TRANS
    rows, cols = a.shape
    if out.itemsize == 8:
        blas.dgemv(blas.ROW_MAJOR, ta, rows, cols, 1.0, a.ctypes, cols, x.ctypes, 1, beta, out.ctypes, 1)
    else:
        blas.sgemv(blas.ROW_MAJOR, ta, rows, cols, 1.0, a.ctypes, cols, x.ctypes, 1, beta, out.ctypes, 1)


@numba.njit(cache=True, nogil=True)
def matmul_nt(a, b, out):
    """``out = a @ b.T``: a layer's pre-activations of a block, rows of ``a`` times weights ``b``."""
    _gemm(False, True, a, b, 0.0, out)


@numba.njit(cache=True, nogil=True)
def matmul_nn(a, b, out):
    """``out = a @ b``: a block's δ pulled back through the weights ``b``."""
    _gemm(False, False, a, b, 0.0, out)


@numba.njit(cache=True, nogil=True)
def matmul_tn_add(a, b, out):
    """``out += a.T @ b``: a weight gradient summed over the block's samples."""
    _gemm(True, False, a, b, 1.0, out)


@numba.njit(cache=True, nogil=True)
def matmul(a, b):
    """``a @ b`` of two sample-independent matrices, in any layout (transposes are views)."""
    out = np.empty((a.shape[0], b.shape[1]), dtype=a.dtype)
    _gemm(False, False, np.ascontiguousarray(a), np.ascontiguousarray(b), 0.0, out)
    return out


# Views and work arrays come from here too: numba compiles its ``reshape``, ``np.empty`` and
# ``np.zeros`` for tuple shapes once per process (most of a second); cached here, never.
@intrinsic
def _block_view(typingctx, flat, offset, rows, cols):
    """The (rows, cols) C-contiguous array at ``flat[offset]``, sharing ``flat``'s memory.

    Built here rather than by ``reshape``: its strides are then products LLVM can see, not values
    an opaque helper wrote to memory, and an element loop over such blocks vectorises (the digits
    network's tanh loop took twice as long unvectorised)."""
    if not (isinstance(flat, types.Array) and flat.ndim == 1 and flat.layout == "C"):
        return None
    view = types.Array(flat.dtype, 2, "C")

    def codegen(context, builder, signature, args):
        flat_value, offset, rows, cols = args
        source = context.make_array(signature.args[0])(context, builder, flat_value)
        block = context.make_array(view)(context, builder)
        itemsize = context.get_constant(types.intp, context.get_abi_sizeof(context.get_data_type(view.dtype)))
        populate_array(block, data=builder.gep(source.data, [offset]),
                       shape=cgutils.pack_array(builder, [rows, cols]),
                       strides=cgutils.pack_array(builder, [builder.mul(cols, itemsize), itemsize]),
                       itemsize=itemsize, meminfo=source.meminfo)
        return impl_ret_borrowed(context, builder, view, block._getvalue())
    return view(flat, types.intp, types.intp, types.intp), codegen


@numba.njit(cache=True, nogil=True)
def matrix_view(flat, offset, rows, cols):
    """``flat[offset:offset + rows * cols]`` as a C-contiguous (rows, cols) view: a parameter block."""
    if offset < 0 or rows < 0 or cols < 0 or offset + rows * cols > flat.shape[0]:
        raise ValueError("matrix_view: the block does not lie inside the array")
    return _block_view(flat, offset, rows, cols)


@numba.njit(cache=True, nogil=True)
def empty_matrix(rows, cols, like):
    """An uninitialised (rows, cols) array of ``like``'s dtype."""
    return np.empty((rows, cols), dtype=like.dtype)


@numba.njit(cache=True, nogil=True)
def empty_vector(size, like):
    """An uninitialised array of ``size`` elements of ``like``'s dtype."""
    return np.empty(size, dtype=like.dtype)


@numba.njit(cache=True, nogil=True)
def zero_matrix(rows, cols, like):
    """A (rows, cols) array of zeros of ``like``'s dtype."""
    return np.zeros((rows, cols), dtype=like.dtype)


@numba.njit(cache=True, nogil=True)
def _row_max(a, r):
    top = a[r, 0]
    for i in range(1, a.shape[1]):
        top = max(top, a[r, i])
    return top


@numba.njit(cache=True, nogil=True)
def _softmax_row(a, r, out):
    """Row ``r``'s softmax into ``out[r]``, the row maximum subtracted before exponentiating;
    returns the row's log-sum-exp, which comes for free."""
    top = _row_max(a, r)
    total = 0.0
    for i in range(a.shape[1]):
        out[r, i] = math.exp(a[r, i] - top)
        total += out[r, i]
    for i in range(a.shape[1]):
        out[r, i] /= total
    return top + math.log(total)


@numba.njit(cache=True, nogil=True)
def softmax_rows(a, out):
    """Each row's softmax (the same numbers as ``softmax_logsumexp_rows``)."""
    softmax_logsumexp_rows(a, out, empty_matrix(a.shape[0], 1, a))


@numba.njit(cache=True, nogil=True)
def logsumexp_rows(a, out):
    """``out[r, 0] = log Σ_i exp(a[r, i])``, stably: the same numbers as ``softmax_logsumexp_rows``
    (so a loss-only kernel and ``loss_and_grad`` agree bit for bit)."""
    softmax_logsumexp_rows(a, empty_matrix(a.shape[0], a.shape[1], a), out)


@numba.njit(cache=True, nogil=True)
def softmax_logsumexp_rows(a, soft, lse):
    """Both of the above from one exponential per element (cross-entropy needs both)."""
    rows, cols = a.shape
    if not (a.flags.c_contiguous and soft.flags.c_contiguous):
        for r in range(rows):
            lse[r, 0] = _softmax_row(a, r, soft)
        return
    # A block's rows are short (a class per column): rather than exponentiate row by row, put
    # each row's maximum in its softmax row, then exponentiate the whole block in one loop,
    # which LLVM vectorises, before the rows' sums.
    for r in range(rows):
        top = _row_max(a, r)
        lse[r, 0] = top
        for i in range(cols):
            soft[r, i] = top
    _exp_below(soft.reshape(rows * cols), a.reshape(rows * cols))
    for r in range(rows):
        total = 0.0
        for i in range(cols):
            total += soft[r, i]
        for i in range(cols):
            soft[r, i] /= total
        lse[r, 0] += math.log(total)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _exp_below(tops, a):
    """``tops[k] = exp(a[k] - tops[k])`` where ``a[k] <= tops[k]``; nan where the difference is
    (a row holding nan, or +inf)."""
    for k in range(a.shape[0]):
        d = tops[k] - a[k]
        e = _exp_neg(d)
        tops[k] = e if d == d else d


@numba.njit(cache=True, nogil=True)
def row_sums(a, out):
    """``out[r, 0] = Σ_i a[r, i]``."""
    for r in range(a.shape[0]):
        total = 0.0
        for i in range(a.shape[1]):
            total += a[r, i]
        out[r, 0] = total


@numba.njit(cache=True, nogil=True)
def add_column_sums(a, out):
    """``out[i, 0] += Σ_r a[r, i]``: a bias gradient summed over the block's samples."""
    if a.shape[1] == 1:
        # One column: the sum in a register (out may alias a, so LLVM would store every step).
        total = out[0, 0]
        for r in range(a.shape[0]):
            total += a[r, 0]
        out[0, 0] = total
        return
    for r in range(a.shape[0]):
        for i in range(a.shape[1]):
            out[i, 0] += a[r, i]


# tanh without a libm call, so that LLVM vectorises the elementwise loops around it (libm's
# tanh is most of a tanh layer's time). With y = 2|x| = j/8 + r, 0 <= r < 1/8:
#     expm1(-y) = expm1(-j/8) + exp(-j/8) * expm1(-r),   tanh|x| = -expm1(-y) / (2 + expm1(-y)),
# the first two from tables, expm1(-r) from its Taylor series to r**12 (remainder below 1e-20
# relative). No cancellation anywhere: within 4 ulp of the exact value (tests/codegen).
_EIGHTHS = np.arange(321) * 0.125  # y is clamped to 40, where tanh rounds to 1
_EXP_TABLE = np.exp(-_EIGHTHS)
_EXPM1_TABLE = np.expm1(-_EIGHTHS)
_K1, _K2, _K3, _K4, _K5, _K6, _K7, _K8, _K9, _K10, _K11, _K12 = (
    (-1.0) ** k / math.factorial(k) for k in range(1, 13))


@numba.njit(cache=True, nogil=True, error_model="numpy")
def tanh(x):
    """``math.tanh(x)`` to within 4 ulp, branch-free (nan stays nan, ±inf gives ±1)."""
    y = 2.0 * abs(x)
    y = y if y < 40.0 else 40.0  # nan also lands here; the last line returns it
    j = int(y * 8.0)
    r = y - j * 0.125  # exact
    r2 = r * r
    r4 = r2 * r2
    r8 = r4 * r4
    # The series from r**3 on, in pairs and then powers (see _exp_neg).
    tail = (((_K3 + r * _K4) + r2 * (_K5 + r * _K6)) + r4 * ((_K7 + r * _K8) + r2 * (_K9 + r * _K10))
            + r8 * (_K11 + r * _K12))
    q = r * (_K1 + r * (_K2 + r * tail))
    em = _EXPM1_TABLE[j] + _EXP_TABLE[j] * q
    t = math.copysign(-em / (2.0 + em), x)
    return t if x == x else x



# The sigmoid and softplus of element loops, without libm calls so that LLVM vectorises the loops
# (a 569-sample logistic loss: 4.5 instead of 10-15 us). Both start from exp(-|x|), so a loop
# that needs both (the loss and its gradient) computes it once. Written out in the calling loop
# (inline="always") because LLVM would not inline them whole; the divisions sit in a helper that
# LLVM does inline, where they keep NumPy's error model (the caller's would add a zero test and
# a branch that stops vectorisation).


@intrinsic
def _float_from_bits(typingctx, bits):
    """The float64 whose IEEE bits are the int64 ``bits``."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


# exp(-y) = 2**-k * exp(-r), k = round(y / ln 2), r = y - k ln 2 in [-ln2/2, ln2/2] (ln 2 in two
# parts, the first with trailing zero bits so that k * _LN2_HI is exact), exp(-r) from its Taylor
# series to r**14 (remainder below 2**-56 relative). 2**-k is two normal powers of two multiplied,
# so that results in the subnormal range round once, at the end.
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.0 / math.log(2.0)
_T2, _T3, _T4, _T5, _T6, _T7, _T8, _T9, _T10, _T11, _T12, _T13, _T14 = (
    1.0 / math.factorial(k) for k in range(2, 15))


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _exp_neg(y):
    """``exp(-y)`` for ``y >= 0``, within 2 ulp (nan gives 0: the callers test for it)."""
    y = y if y < 745.5 else 745.5  # exp(-745.5) rounds to 0
    k = int(y * _INV_LN2 + 0.5)
    r = (k * _LN2_HI - y) + k * _LN2_LO
    r2 = r * r
    r4 = r2 * r2
    r8 = r4 * r4
    # The terms from r**3 on in pairs, then the pairs with powers of r (Estrin's scheme): a
    # dependency chain of four multiply-adds instead of twelve, so a vectorised loop is not
    # waiting on latency. Its rounding is scaled by r**3 (below 0.05); the first terms stay Horner.
    tail = (((_T3 + r * _T4) + r2 * (_T5 + r * _T6)) + r4 * ((_T7 + r * _T8) + r2 * (_T9 + r * _T10))
            + r8 * ((_T11 + r * _T12) + r2 * (_T13 + r * _T14)))
    p = 1.0 + r * (1.0 + r * (_T2 + r * tail))
    half = k >> 1
    return p * _float_from_bits((1023 - half) << 52) * _float_from_bits((1023 - (k - half)) << 52)


# log1p(u) for 0 <= u <= 1 as 2 atanh(s), s = u / (2 + u) in [0, 1/3], from its series
# 2 (s + s**3/3 + ... + s**37/37) (remainder below 2**-60 relative). Tiny u keep their precision.
_A1, _A2, _A3, _A4, _A5, _A6, _A7, _A8, _A9, _A10, _A11, _A12, _A13, _A14, _A15, _A16, _A17, _A18 = (
    1.0 / (2 * k + 1) for k in range(1, 19))


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _log1p_unit(u):
    """``log1p(u)`` for ``0 <= u <= 1``, within 2 ulp."""
    s = u / (2.0 + u)
    z = s * s
    z2 = z * z
    z4 = z2 * z2
    z8 = z4 * z4
    # Estrin's scheme again (see _exp_neg); q's rounding is scaled by z (at most 1/9).
    low = ((_A1 + z * _A2) + z2 * (_A3 + z * _A4)) + z4 * ((_A5 + z * _A6) + z2 * (_A7 + z * _A8))
    high = ((_A9 + z * _A10) + z2 * (_A11 + z * _A12)) + z4 * ((_A13 + z * _A14) + z2 * (_A15 + z * _A16))
    q = (low + z8 * high) + (z8 * z8) * (_A17 + z * _A18)
    return 2.0 * s + 2.0 * s * z * q


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _quotient(a, b):
    return a / b


@numba.njit(cache=True, nogil=True, inline="always")
def sigmoid(x):
    """``1 / (1 + exp(-x))`` within 3 ulp, branch-free (nan stays nan, ±inf give 1 and 0)."""
    e = _exp_neg(abs(x))
    s = _quotient(1.0 if x >= 0.0 else e, 1.0 + e)
    return s if x == x else x


@numba.njit(cache=True, nogil=True, inline="always")
def softplus(x):
    """``log(1 + exp(x))`` as ``max(x, 0) + log1p(exp(-|x|))`` within 2 ulp: no overflow, no
    cancellation (nan stays nan)."""
    e = _exp_neg(abs(x))
    s = (x if x > 0.0 else 0.0) + _log1p_unit(e)
    return s if x == x else x
