"""The matrix products of the layered kernels: CBLAS called directly, its adapters and fallback.

Every product is checked against NumPy's ``@`` on random blocks, in both
precisions, for each transpose combination the kernels use, including the
matrix-vector shapes that go to ?gemv.
"""

import ctypes
import glob
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from symgrad.codegen import blas
from symgrad.codegen.runtime import matmul, matmul_nn, matmul_nt, matmul_tn_add

ROOT = Path(__file__).resolve().parents[2]
TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}
TRANSPOSES = [(ta, tb) for ta in (blas.NO_TRANS, blas.TRANS) for tb in (blas.NO_TRANS, blas.TRANS)]


def _close(actual, expected, dtype):
    assert actual.shape == expected.shape
    if expected.size == 0:
        return
    scale = max(1.0, float(np.abs(expected).max()))
    assert np.abs(actual - expected).max() <= TOLERANCE[dtype] * scale


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("m, n, k", [(7, 5, 3), (256, 32, 64), (1, 1, 1), (3, 4, 0), (256, 1, 30),
                                     (1, 30, 256), (1, 7, 3), (5, 1, 1), (1, 1, 0)])
def test_runtime_products_equal_numpy(dtype, m, n, k):
    rng = np.random.default_rng(m * 100 + n + k)
    a = rng.normal(size=(m, k)).astype(dtype)
    w = rng.normal(size=(n, k)).astype(dtype)
    out = np.full((m, n), np.nan, dtype=dtype)
    matmul_nt(a, w, out)
    _close(out, a @ w.T, dtype)

    v = rng.normal(size=(k, n)).astype(dtype)
    out = np.full((m, n), np.nan, dtype=dtype)
    matmul_nn(a, v, out)
    _close(out, a @ v, dtype)

    # out += aᵀ b, accumulating: the weight gradient summed over blocks
    b = rng.normal(size=(m, n)).astype(dtype)
    start = rng.normal(size=(k, n)).astype(dtype)
    out = start.copy()
    matmul_tn_add(a, b, out)
    _close(out, start + a.T @ b, dtype)

    # sample-independent products take any layout (transposes are views)
    _close(matmul(a.T, b), a.T @ b, dtype)
    _close(matmul(w, a.T), w @ a.T, dtype)


def _pointer(array, dtype):
    c_type = ctypes.c_double if dtype == np.float64 else ctypes.c_float
    return array.ctypes.data_as(ctypes.POINTER(c_type))


def _check_gemm(function, dtype, pointer=_pointer):
    """``function`` follows the row-major CBLAS ?gemm convention with 64-bit sizes."""
    rng = np.random.default_rng(1)
    m, n, k = 4, 6, 5
    for ta, tb in TRANSPOSES:
        a = rng.normal(size=(m, k) if ta == blas.NO_TRANS else (k, m)).astype(dtype)
        b = rng.normal(size=(k, n) if tb == blas.NO_TRANS else (n, k)).astype(dtype)
        c = rng.normal(size=(m, n)).astype(dtype)
        expected = 2.0 * ((a if ta == blas.NO_TRANS else a.T) @ (b if tb == blas.NO_TRANS else b.T)) + 0.5 * c
        function(blas.ROW_MAJOR, ta, tb, m, n, k, 2.0, pointer(a, dtype), a.shape[1], pointer(b, dtype),
                 b.shape[1], 0.5, pointer(c, dtype), n)
        _close(c, expected, dtype)


def _check_gemv(function, dtype, pointer=_pointer):
    """``function`` follows the row-major CBLAS ?gemv convention with 64-bit sizes (strided too)."""
    rng = np.random.default_rng(2)
    m, n = 4, 6
    for ta in (blas.NO_TRANS, blas.TRANS):
        a = rng.normal(size=(m, n)).astype(dtype)
        x = rng.normal(size=(n if ta == blas.NO_TRANS else m) * 2).astype(dtype)
        y = rng.normal(size=(m if ta == blas.NO_TRANS else n) * 3).astype(dtype)
        expected = y.copy()
        expected[::3] = 2.0 * ((a if ta == blas.NO_TRANS else a.T) @ x[::2]) + 0.5 * y[::3]
        function(blas.ROW_MAJOR, ta, m, n, 2.0, pointer(a, dtype), n, pointer(x, dtype), 2, 0.5,
                 pointer(y, dtype), 3)
        _close(y, expected, dtype)


_ROUTINES = {np.float64: ("dgemm", "dgemv"), np.float32: ("sgemm", "sgemv")}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loop_fallback_follows_the_cblas_convention(dtype):
    gemm, gemv = _ROUTINES[dtype]
    _check_gemm(blas._loops(gemm).ctypes, dtype)
    _check_gemv(blas._loops(gemv).ctypes, dtype)


def _lp64_cblas() -> tuple[str, str] | None:
    """A CBLAS with 32-bit sizes on this machine: SciPy's bundled OpenBLAS, or a system one."""
    try:
        import scipy
    except ImportError:
        scipy = None
    candidates = []
    if scipy is not None:
        libraries = os.path.join(os.path.dirname(scipy.__file__), os.pardir, "scipy.libs")
        candidates += glob.glob(os.path.join(libraries, "*blas*"))
    candidates += blas._system_libraries()
    for path in candidates:
        try:
            handle = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_cblas_dgemm", "cblas_dgemm"):
            if all(hasattr(handle, name.replace("dgemm", routine)) for routine in blas.ROUTINES):
                return path, name
    return None


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_adapter_narrows_sizes_for_a_32_bit_cblas(dtype):
    import llvmlite.binding as llvm

    found = _lp64_cblas()
    if found is None:
        pytest.skip("no CBLAS with 32-bit sizes on this machine (SciPy's wheel bundles one)")
    path, name = found
    handle = ctypes.CDLL(path)
    for routine, check in zip(_ROUTINES[dtype], (_check_gemm, _check_gemv), strict=True):
        function = getattr(handle, name.replace("dgemm", routine))
        symbol = f"test_symgrad_{routine}_lp64"
        llvm.add_symbol(symbol, ctypes.cast(function, ctypes.c_void_p).value)
        check(blas._narrowing(symbol, routine).ctypes, dtype, pointer=lambda array, _: array.ctypes.data)


def test_layered_models_need_no_scipy(tmp_path):
    """numba's np.dot would import SciPy for BLAS; symgrad's kernels must not need it."""
    script = textwrap.dedent("""
        import sys
        sys.modules["scipy"] = None          # any import of SciPy fails
        import numpy as np
        import symgrad as sg

        net = sg.nn.mlp([4, 3, 2], activation="tanh")
        y = sg.Target("y", 2)
        model = sg.Model(loss=sg.nn.cross_entropy(net.output, y), params=net.params, inputs=[net.x],
                         targets=[y])
        rng = np.random.default_rng(0)
        X = rng.normal(size=(300, 4))
        Y = np.eye(2)[rng.integers(0, 2, 300)]
        theta = model.init_params(seed=0)
        kernels = model.compile()
        grad = kernels.grad(theta, X, Y)
        step = 1e-6
        worst = 0.0
        for i in range(len(theta)):
            e = np.zeros_like(theta)
            e[i] = step
            central = (kernels.loss(theta + e, X, Y) - kernels.loss(theta - e, X, Y)) / (2 * step)
            worst = max(worst, abs(grad[i] - central))
        print(worst, "scipy" in sys.modules and sys.modules["scipy"] is not None)
    """)
    env = dict(os.environ, SYMGRAD_CACHE_DIR=str(tmp_path),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    worst, imported = done.stdout.split()
    assert float(worst) < 1e-7
    assert imported == "False"


@pytest.mark.parametrize("cols", [1, 3, 32])
def test_column_sums_accumulate_in_row_order(cols):
    from symgrad.codegen.runtime import add_column_sums

    rng = np.random.default_rng(cols)
    a = rng.normal(size=(257, cols))
    start = rng.normal(size=(cols, 1))
    out = start.copy()
    add_column_sums(a, out)
    expected = start[:, 0].copy()
    for row in a:  # the order a block's samples are summed in, whatever the layout
        expected += row
    np.testing.assert_array_equal(out[:, 0], expected)
