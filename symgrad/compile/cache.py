"""The on-disk cache of generated kernel modules.

A module is stored as a real ``.py`` file named by a content hash of its
source and of the versions of Python, symgrad, numba and numpy, so numba's
own cache (``cache=True``, which cannot work for code made by ``exec``) keeps
the machine code beside it, and a second process compiling the same model
loads both. Files are written to a temporary name and renamed into place, so
a concurrent reader never sees half a module.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import numba
import numpy as np

from .._version import __version__

__all__ = ["cache_directory", "module_key", "store_module", "load_module", "ENV_VAR"]

#: Environment variable naming the cache directory.
ENV_VAR = "SYMGRAD_CACHE_DIR"


def cache_directory(explicit: str | os.PathLike | None = None) -> Path:
    """``explicit``, else ``$SYMGRAD_CACHE_DIR``, else ``$XDG_CACHE_HOME/symgrad``
    (``~/.cache/symgrad``)."""
    if explicit is not None:
        return Path(explicit)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "symgrad"


def module_key(source: str) -> str:
    """Content hash of a module and of everything that shapes its machine code."""
    versions = f"python {sys.version}|symgrad {__version__}|numba {numba.__version__}|numpy {np.__version__}"
    return hashlib.sha256(f"{versions}\n{source}".encode()).hexdigest()[:24]


def store_module(source: str, directory: Path) -> tuple[Path, bool]:
    """Write ``source`` under its key unless present; return the path and whether it was new."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"symgrad_{module_key(source)}.py"
    if path.exists() and path.read_text() == source:
        return path, False
    fd, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".py", dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(source)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path, True


def load_module(path: Path) -> ModuleType:
    """Import a generated module from its file (tracebacks show its real lines)."""
    name = path.stem
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) == str(path):
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
