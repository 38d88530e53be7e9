"""What a result was measured on: CPU, cores, versions, date, commit."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

__all__ = ["machine_info"]

PACKAGES = ("sympy", "numpy", "networkx", "numba")
#: Recorded only when installed (the optional peers of grad_throughput, rosenbrock_adam and logreg).
OPTIONAL_PACKAGES = ("torch", "jax", "jaxlib", "pytensor", "scipy", "scikit-learn")
ROOT = Path(__file__).resolve().parent.parent


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)  # does not import the package (numba is slow to import)
    except metadata.PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        return commit + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.SubprocessError):
        return None


def machine_info() -> dict:
    import symgrad

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "versions": {"symgrad": symgrad.__version__} | {p: _version(p) for p in PACKAGES}
        | {p: v for p in OPTIONAL_PACKAGES if (v := _version(p))},
        "git_commit": _git_commit(),
    }
