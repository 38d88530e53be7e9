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
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import IO

import numba
import numpy as np

from .._version import __version__

__all__ = ["cache_directory", "module_key", "store_module", "load_module", "lookup", "remember", "ENV_VAR",
           "write_atomically"]

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


_VERSIONS = f"python {sys.version}|symgrad {__version__}|numba {numba.__version__}|numpy {np.__version__}"


def module_key(text: str) -> str:
    """Content hash of ``text`` and of everything that shapes its machine code."""
    return hashlib.sha256(f"{_VERSIONS}\n{text}".encode()).hexdigest()[:24]


def write_atomically(path: Path, write: Callable[[IO], None], binary: bool = False) -> None:
    """Call ``write(handle)`` on a temporary file beside ``path``, then rename it into place:
    a reader sees the old file or the whole new one, never a part."""
    fd, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_atomically(path: Path, text: str) -> None:
    write_atomically(path, lambda handle: handle.write(text))


def store_module(source: str, directory: Path) -> tuple[Path, bool]:
    """Write ``source`` under its key unless present; return the path and whether it was new."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"symgrad_{module_key(source)}.py"
    if path.exists() and path.read_text(encoding="utf-8") == source:
        return path, False
    _write_atomically(path, source)
    return path, True


def lookup(model_key: str, directory: Path) -> Path | None:
    """The module stored for a model fingerprint, if any (skips regenerating it)."""
    entry = directory / "index" / module_key(model_key)
    if not entry.exists():
        return None
    path = directory / entry.read_text(encoding="utf-8").strip()
    return path if path.exists() else None


def remember(model_key: str, module: Path, directory: Path) -> None:
    """Record which module a model fingerprint produced."""
    entry = directory / "index" / module_key(model_key)
    entry.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(entry, module.name)


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
