"""The CBLAS matrix products the layered models' kernels call, found once per process.

numba's own ``np.dot`` needs SciPy (it takes BLAS from ``scipy.linalg``) and
brings a large specialisation into every kernel that LLVM then optimises
again. The kernels instead call ``cblas_?gemm`` directly, and ``cblas_?gemv``
when one side of the product is a vector (OpenBLAS's gemm takes four times
as long for a 256 x 30 matrix times a vector), as external functions: numba
emits one call instruction. The library is the
OpenBLAS that NumPy's wheels ship (the one ``numpy.dot`` itself uses, so the
thread pool is shared), else a system CBLAS (Apple's Accelerate, OpenBLAS,
the reference CBLAS).

The kernels call four fixed symbols, always with 64-bit sizes, registered with
LLVM at import, before any kernel is compiled or loaded from numba's cache.
Behind them is the library's own function when it takes 64-bit sizes (NumPy's
ILP64 OpenBLAS), a small compiled adapter when it takes 32-bit sizes, or a
compiled loop when no CBLAS is found. So cached machine code never depends
on which library a process finds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.metadata
import sys
from pathlib import Path

import llvmlite.binding as llvm
import numba
from numba import types

__all__ = ["LIBRARY", "ROW_MAJOR", "NO_TRANS", "TRANS", "dgemm", "sgemm", "dgemv", "sgemv"]

# CBLAS enum values (cblas.h)
ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112

#: (symbol prefix, suffix, integer type): ILP64 builds take 64-bit sizes.
_NAMINGS = (("scipy_cblas_", "64_", ctypes.c_int64), ("cblas_", "64_", ctypes.c_int64),
            ("scipy_cblas_", "", ctypes.c_int32), ("cblas_", "", ctypes.c_int32))
_SYSTEM = ("/System/Library/Frameworks/Accelerate.framework/Accelerate", "openblas", "cblas", "blas")


def _is_library(name: str) -> bool:
    name = name.lower()
    return "blas" in name and (name.endswith((".so", ".dylib", ".dll")) or ".so." in name)


def _numpy_libraries() -> list[str]:
    """The BLAS libraries inside NumPy's wheel (numpy.libs, numpy/.dylibs), if it ships any."""
    try:
        files = importlib.metadata.files("numpy") or []
    except importlib.metadata.PackageNotFoundError:
        return []
    return [str(f.locate()) for f in files if _is_library(f.name)]


def _system_libraries() -> list[str]:
    found = []
    for name in _SYSTEM:
        path = name if name.startswith("/") else ctypes.util.find_library(name)
        if path and (not name.startswith("/") or sys.platform == "darwin"):
            found.append(path)
    return found


def _find() -> tuple[str, dict[str, int], type] | None:
    """(library, {routine: address}, size type) of the first CBLAS found."""
    for library in [*_numpy_libraries(), *_system_libraries()]:
        try:
            handle = ctypes.CDLL(library)
        except OSError:
            continue
        for prefix, suffix, integer in _NAMINGS:
            try:
                functions = {name: getattr(handle, f"{prefix}{name}{suffix}") for name in ROUTINES}
            except AttributeError:
                continue
            addresses = {name: ctypes.cast(f, ctypes.c_void_p).value for name, f in functions.items()}
            return library, addresses, integer
    return None


def _gemm_type(real: types.Type, size: types.Type, pointer: types.Type = types.voidptr) -> types.Signature:
    # cblas_?gemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
    enum = types.int32
    return types.void(enum, enum, enum, size, size, size, real, pointer, size, pointer, size, real, pointer,
                      size)


def _gemv_type(real: types.Type, size: types.Type, pointer: types.Type = types.voidptr) -> types.Signature:
    # cblas_?gemv(order, transA, M, N, alpha, A, lda, X, incX, beta, Y, incY)
    enum = types.int32
    return types.void(enum, enum, size, size, real, pointer, size, pointer, size, real, pointer, size)


#: The CBLAS routines the kernels call: (C signature, element type).
ROUTINES = {"dgemm": (_gemm_type, types.float64), "sgemm": (_gemm_type, types.float32),
            "dgemv": (_gemv_type, types.float64), "sgemv": (_gemv_type, types.float32)}


def _narrowing(name: str, routine: str):
    """A C function with the 64-bit-size convention that calls ``name``, the LP64 ``routine``."""
    signature, real = ROUTINES[routine]
    narrow = types.ExternalFunction(name, signature(real, types.int32))
    int32 = types.int32
    if signature is _gemm_type:
        @numba.cfunc(signature(real, types.int64))
        def adapter(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
            narrow(order, ta, tb, int32(m), int32(n), int32(k), alpha, a, int32(lda), b, int32(ldb), beta, c,
                   int32(ldc))
    else:
        @numba.cfunc(signature(real, types.int64))
        def adapter(order, ta, m, n, alpha, a, lda, x, incx, beta, y, incy):
            narrow(order, ta, int32(m), int32(n), alpha, a, int32(lda), x, int32(incx), beta, y, int32(incy))

    return adapter


def _loops(routine: str):
    """A C function with ``routine``'s convention that multiplies by loops (row-major only)."""
    signature, real = ROUTINES[routine]
    if signature is _gemv_type:
        return _gemv_loops(real)

    @numba.cfunc(signature(real, types.int64, types.CPointer(real)))
    def gemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
        A = numba.carray(a, (m if ta == NO_TRANS else k) * lda)
        B = numba.carray(b, (k if tb == NO_TRANS else n) * ldb)
        C = numba.carray(c, m * ldc)
        for i in range(m):
            for j in range(n):
                total = 0.0
                for p in range(k):
                    left = A[i * lda + p] if ta == NO_TRANS else A[p * lda + i]
                    right = B[p * ldb + j] if tb == NO_TRANS else B[j * ldb + p]
                    total += left * right
                C[i * ldc + j] = alpha * total + (beta * C[i * ldc + j] if beta != 0.0 else 0.0)

    return gemm


def _gemv_loops(real: types.Type):
    @numba.cfunc(_gemv_type(real, types.int64, types.CPointer(real)))
    def gemv(order, ta, m, n, alpha, a, lda, x, incx, beta, y, incy):
        # y (length rows) = alpha op(A) x (length cols) + beta y, A stored as m rows of lda
        rows, cols = (m, n) if ta == NO_TRANS else (n, m)
        A = numba.carray(a, m * lda)
        X = numba.carray(x, max((cols - 1) * incx + 1, 0))
        Y = numba.carray(y, max((rows - 1) * incy + 1, 0))
        for i in range(rows):
            total = 0.0
            for p in range(cols):
                total += (A[i * lda + p] if ta == NO_TRANS else A[p * lda + i]) * X[p * incx]
            Y[i * incy] = alpha * total + (beta * Y[i * incy] if beta != 0.0 else 0.0)

    return gemv


def _register() -> str:
    """Bind the kernels' symbols; return a description of what they call."""
    found = _find()
    if found is None:  # pragma: no cover - every supported NumPy wheel ships a BLAS
        for routine, symbol in SYMBOLS.items():
            _COMPILED.append(_loops(routine))
            llvm.add_symbol(symbol, _COMPILED[-1].address)
        return "loops"
    library, addresses, integer = found
    if integer is ctypes.c_int64:
        for routine, symbol in SYMBOLS.items():
            llvm.add_symbol(symbol, addresses[routine])
        return f"{Path(library).name} (64-bit sizes)"
    for routine, symbol in SYMBOLS.items():
        llvm.add_symbol(f"{symbol}_lp64", addresses[routine])
        _COMPILED.append(_narrowing(f"{symbol}_lp64", routine))
        llvm.add_symbol(symbol, _COMPILED[-1].address)
    return f"{Path(library).name} (32-bit sizes)"


#: The symbols the kernels call. Their convention never changes (64-bit sizes), whatever
#: library is behind them, so numba's cached machine code stays valid when the library does.
SYMBOLS = {routine: f"symgrad_cblas_{routine}" for routine in ROUTINES}
#: Adapters or loops compiled for the symbols: referenced here so their machine code lives on.
_COMPILED: list = []
LIBRARY = _register()
dgemm, sgemm, dgemv, sgemv = (types.ExternalFunction(SYMBOLS[routine], signature(real, types.int64))
                              for routine, (signature, real) in ROUTINES.items())
