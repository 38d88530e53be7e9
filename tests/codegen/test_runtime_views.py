"""The runtime's ``matrix_view``: the parameter blocks and work arrays of the layered kernels.

It builds the view's array struct itself instead of calling ``reshape``, so
these check what ``reshape`` guaranteed: the right elements, shared memory,
C-contiguous strides, the source kept alive by the view, and an error, not a
read past the end, when the block does not fit.
"""

import gc

import numba
import numpy as np
import pytest

from symgrad.codegen.runtime import empty_vector, matrix_view


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("offset, rows, cols", [(0, 3, 4), (5, 2, 7), (19, 1, 1), (7, 0, 3), (20, 0, 0)])
def test_view_is_the_row_major_block_and_shares_memory(dtype, offset, rows, cols):
    flat = np.arange(20, dtype=dtype)
    view = matrix_view(flat, offset, rows, cols)
    expected = flat[offset:offset + rows * cols].reshape(rows, cols)
    assert view.dtype == dtype and view.shape == (rows, cols)
    assert view.flags.c_contiguous
    np.testing.assert_array_equal(view, expected)
    if rows * cols:
        assert view.strides == (cols * flat.itemsize, flat.itemsize)
        view[-1, -1] = -1.0
        assert flat[offset + rows * cols - 1] == -1.0


@pytest.mark.parametrize("offset, rows, cols", [(0, 5, 5), (18, 1, 3), (-1, 1, 1), (0, -1, 2)])
def test_a_block_outside_the_array_is_an_error(offset, rows, cols):
    with pytest.raises(ValueError, match="does not lie inside"):
        matrix_view(np.zeros(20), offset, rows, cols)


@numba.njit
def _view_of_a_temporary(n):
    # the work array's only reference is the view's once this returns
    return matrix_view(empty_vector(n * n, np.zeros(1)), 0, n, n)


def test_a_view_keeps_its_memory_alive():
    views = [_view_of_a_temporary(64) for _ in range(4)]
    for k, view in enumerate(views):
        view[:] = k
    gc.collect()
    _ = [np.ones(64 * 64) for _ in range(8)]  # would reuse freed memory
    for k, view in enumerate(views):
        assert (view == k).all()
