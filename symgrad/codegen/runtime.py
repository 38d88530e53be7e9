"""Compiled helpers the layered models' kernels call: matrix products and row-wise reductions.

They live in this fixed module rather than in each generated one so that
numba compiles them once per machine (``cache=True``) instead of once per
model: a ``np.dot`` specialisation costs about a second of compile time, a
cached one nothing. Every product takes and writes C-contiguous blocks, so
each has one specialisation per dtype.
"""

from __future__ import annotations

import functools
import hashlib
import math
from pathlib import Path

import numba
import numpy as np

__all__ = ["matmul_nt", "matmul_nn", "matmul_tn_add", "softmax_rows", "logsumexp_rows", "row_sums",
           "add_column_sums", "runtime_key"]


@functools.cache
def runtime_key() -> str:
    """A hash of this module's source: generated modules quote it, so a change here renames them
    and numba never reuses machine code that inlined an older helper."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


@numba.njit(cache=True, nogil=True)
def matmul_nt(a, b, out):
    """``out = a @ b.T``: a layer's pre-activations of a block, rows of ``a`` times weights ``b``."""
    np.dot(a, b.T, out)


@numba.njit(cache=True, nogil=True)
def matmul_nn(a, b, out):
    """``out = a @ b``: a block's δ pulled back through the weights ``b``."""
    np.dot(a, b, out)


@numba.njit(cache=True, nogil=True)
def matmul_tn_add(a, b, out):
    """``out += a.T @ b``: a weight gradient summed over the block's samples."""
    out += np.dot(a.T, b)


@numba.njit(cache=True, nogil=True)
def _row_max(a, r):
    top = a[r, 0]
    for i in range(1, a.shape[1]):
        top = max(top, a[r, i])
    return top


@numba.njit(cache=True, nogil=True)
def softmax_rows(a, out):
    """Each row's softmax, with the row maximum subtracted before exponentiating."""
    for r in range(a.shape[0]):
        top = _row_max(a, r)
        total = 0.0
        for i in range(a.shape[1]):
            out[r, i] = math.exp(a[r, i] - top)
            total += out[r, i]
        for i in range(a.shape[1]):
            out[r, i] /= total


@numba.njit(cache=True, nogil=True)
def logsumexp_rows(a, out):
    """``out[r, 0] = log Σ_i exp(a[r, i])``, stably."""
    for r in range(a.shape[0]):
        top = _row_max(a, r)
        total = 0.0
        for i in range(a.shape[1]):
            total += math.exp(a[r, i] - top)
        out[r, 0] = top + math.log(total)


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
    for r in range(a.shape[0]):
        for i in range(a.shape[1]):
            out[i, 0] += a[r, i]
