"""compile: from ``symgrad.Model(...)`` to ready kernels, with a cold and a warm cache.

Each measurement is a fresh Python process (``python -m
benchmarks.compile_child``), so nothing numba or SymPy did earlier in the
harness helps. The child times ``import symgrad`` on its own, builds the
network's SymPy loss (not timed against any target), then times
``symgrad.Model(loss=..., params=..., inputs=..., targets=...)``, ``.compile()``
and one first ``loss_and_grad`` call on four samples: "ready".

- **cold**: ``SYMGRAD_CACHE_DIR`` is a fresh empty directory, so symgrad
  builds the gradient program, prints the kernel module and numba compiles
  it (numba's own cache lives beside the module, so it is empty too).
- **warm**: a new process with the directory the cold run filled: symgrad
  finds the module by the model's fingerprint and numba loads the machine
  code from its cache. It still pays numba's one-time initialisation in the
  process (its type registries and target, on the first load).

Each repeat uses a new directory (one cold run, then one warm run); tables
show medians. "numba" is the time numba spent compiling (its
``numba:compile`` events, 0 when everything came from the cache), split into
type inference and lowering (lowering includes LLVM's optimisation);
"ops" counts the operators and calls in the generated per-sample gradient
function, and "typing ms/op" is type inference divided by them. "rest" is the
cold time outside numba's compiler: symgrad's symbolic work and code
printing, loading the module, and numba's initialisation. "warm hit"
says whether the warm run loaded the training kernel from numba's cache;
"other load" is the most cores other processes kept busy, on average, during
any one child's Model() -> ready (``benchmarks/cpu_load.py``).
The targets the project tracks are for 2-16-16-1: cold <= 5 s and warm <= 0.5 s
(Model() to ready, import excluded). A child that runs past the timeout
(120 s) is stopped and reported as ``> 120``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..harness import Settings
from ..timing import median

TITLE = "compile: symgrad.Model() -> ready numba kernels, cold and warm cache (scalar sigmoid MLPs)"
SIZES = ((2, 4, 1), (2, 8, 8, 1), (2, 16, 16, 1))
TIMEOUT_S = 120.0
#: Targets the project tracks, for this model: Model() to ready kernels, seconds.
TARGETS = {"2-16-16-1": {"cold": 5.0, "warm": 0.5}}
ROOT = Path(__file__).resolve().parents[2]


def run(settings: Settings, sizes: Sequence[Sequence[int]] | None = None,
        timeout: float = TIMEOUT_S) -> list[dict]:
    """One row per size; ``--quick`` leaves out the largest size."""
    if sizes is None:
        sizes = SIZES[:-1] if settings.quick else SIZES
    rows = []
    for size in sizes:
        row = _measure(tuple(size), settings.repeat, timeout)
        settings.note(f"  {row['model']}: import {_seconds(row['import_s'])} s, cold {_cold_cell(row)} s, "
                      f"warm {_warm_cell(row)} s")
        rows.append(row)
    return rows


def _child(size: tuple[int, ...], cache: Path, timeout: float) -> dict:
    """One child process's measurements, or ``{"timed_out": True}`` / ``{"error": ...}``."""
    env = dict(os.environ)
    env["SYMGRAD_CACHE_DIR"] = str(cache)
    env.pop("NUMBA_CACHE_DIR", None)  # numba's cache must sit beside the module, in `cache`
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "benchmarks.compile_child", ",".join(map(str, size))]
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"timed_out": True}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _measure(size: tuple[int, ...], repeat: int, timeout: float) -> dict:
    name = "-".join(map(str, size))
    colds, warms = [], []
    for _ in range(repeat):
        cache = Path(tempfile.mkdtemp(prefix="symgrad-compile-bench-"))
        try:
            colds.append(_child(size, cache, timeout))
            if "ready_s" not in colds[-1]:
                break  # no warm run without a filled cache; the other repeats would fare alike
            warms.append(_child(size, cache, timeout))
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    cold, warm = _summary(colds), _summary(warms)
    target = TARGETS.get(name, {})
    return {
        "model": name,
        "n_params": sum((a + 1) * b for a, b in zip(size[:-1], size[1:], strict=True)),
        "import_s": median([r["import_s"] for r in colds + warms if "import_s" in r]),
        "build_s": median([r["build_s"] for r in colds if "build_s" in r]),
        "kernel_operations": next((r["kernel_operations"] for r in colds if "kernel_operations" in r), None),
        **{f"cold_{key}": value for key, value in cold.items()},
        **{f"warm_{key}": value for key, value in warm.items()},
        "warm_cache_hit": bool(warms) and all(_hit(r) for r in warms),
        "other_load": max((r["other_load"] for r in colds + warms if r.get("other_load") is not None),
                          default=None),
        "timeout_s": timeout,
        "cold_target_s": target.get("cold"),
        "warm_target_s": target.get("warm"),
        "cold_target_met": _met(cold["ready_s"], target.get("cold")),
        "warm_target_met": _met(warm["ready_s"], target.get("warm")),
        "runs": {"cold": colds, "warm": warms},
    }


def _summary(runs: list[dict]) -> dict:
    done = [r for r in runs if "ready_s" in r]
    passes = [r.get("numba_passes_s", {}) for r in done]
    return {
        "ready_s": median([r["ready_s"] for r in done]),
        "model_s": median([r["model_s"] for r in done]),
        "compile_s": median([r["compile_s"] for r in done]),
        "numba_s": median([r["numba_compile_s"] for r in done]),
        "typing_s": median([p.get("nopython_type_inference", 0.0) for p in passes]),
        "lowering_s": median([p.get("native_lowering", 0.0) for p in passes]),
        "timed_out": any(r.get("timed_out") for r in runs),
        "error": next((r["error"] for r in runs if "error" in r), None),
    }


def _hit(run: dict) -> bool:
    stats = run.get("cache_stats", {}).get("loss_and_grad", {})
    return stats.get("hits", 0) >= 1 and stats.get("misses", 1) == 0 and run.get("numba_compile_s") == 0.0


def _met(seconds: float | None, target: float | None) -> bool | None:
    if target is None or seconds is None:
        return None if target is None else False
    return seconds <= target


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _cell(row: dict, which: str) -> str:
    if row[f"{which}_timed_out"]:
        return f"> {row['timeout_s']:g}"
    if row[f"{which}_error"]:
        return "error"
    return _seconds(row[f"{which}_ready_s"])


def _cold_cell(row: dict) -> str:
    return _cell(row, "cold")


def _warm_cell(row: dict) -> str:
    return _cell(row, "warm")


def _target_cell(which: str):
    def cell(row: dict) -> str:
        target = row[f"{which}_target_s"]
        if target is None:
            return "-"
        return f"<= {target:g}: {'met' if row[f'{which}_target_met'] else 'NOT met'}"

    return cell


def _rest(row: dict) -> str:
    if row["cold_ready_s"] is None:
        return "-"
    return _seconds(row["cold_ready_s"] - row["cold_numba_s"])


def _ms_per_op(row: dict) -> str:
    if not row["kernel_operations"] or row["cold_typing_s"] is None:
        return "-"
    return f"{row['cold_typing_s'] / row['kernel_operations'] * 1e3:.2f}"


COLUMNS = (
    ("model", lambda r: r["model"]),
    ("params", lambda r: str(r["n_params"])),
    ("import s", lambda r: _seconds(r["import_s"])),
    ("cold s", _cold_cell),
    ("numba s", lambda r: _seconds(r["cold_numba_s"])),
    ("rest s", _rest),
    ("typing s", lambda r: _seconds(r["cold_typing_s"])),
    ("lowering s", lambda r: _seconds(r["cold_lowering_s"])),
    ("ops", lambda r: "-" if r["kernel_operations"] is None else str(r["kernel_operations"])),
    ("typing ms/op", _ms_per_op),
    ("warm s", _warm_cell),
    ("warm hit", lambda r: "yes" if r["warm_cache_hit"] else "NO"),
    ("other load", lambda r: "-" if r["other_load"] is None else f"{r['other_load']:.2f}"),
    ("cold target", _target_cell("cold")),
    ("warm target", _target_cell("warm")),
)
