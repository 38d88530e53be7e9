"""The numba kernels of the ``peak`` workload: a matrix product through ``np.dot``, copy and triad.

``copy`` and ``triad`` are the STREAM kernels ``a = b`` and ``a = b + s c``
over float64 arrays, one ``prange`` loop each, so that they use as many
threads as numba was given (``NUMBA_NUM_THREADS``). ``dot`` is numba's
``np.dot``, which calls SciPy's BLAS; it needs SciPy. All are cached on disk.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["dot", "copy", "triad"]


@numba.njit(cache=True, nogil=True)
def dot(A, B, C):
    """``C = A @ B`` in place (float64, C-contiguous)."""
    np.dot(A, B, C)


@numba.njit(cache=True, parallel=True)
def copy(a, b):
    for i in numba.prange(a.shape[0]):
        a[i] = b[i]


@numba.njit(cache=True, parallel=True)
def triad(a, b, c, s):
    for i in numba.prange(a.shape[0]):
        a[i] = b[i] + s * c[i]
