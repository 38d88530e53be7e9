"""compile: from a model's definition to its first gradient value, with a cold and a warm cache.

Each measurement is a fresh Python process, so nothing numba, SymPy, JAX or
PyTensor did earlier in the harness helps. For symgrad (``python -m
benchmarks.compile_child``) the child times ``import symgrad`` on its own,
builds the network's SymPy loss (not timed against any target), then times
``symgrad.Model(loss=..., params=..., inputs=..., targets=...)``,
``.compile()`` and one first ``loss_and_grad`` call on four samples: "ready".
The models are the scalar-symbol sigmoid MLPs of ``benchmarks/models.py``
(squared error) and "digits 64-32-10", the matrix-form network of
``examples/mlp_digits.py``: ``sg.nn.mlp([64, 32, 10], activation="tanh")``
with ``sg.nn.cross_entropy`` and ``sg.Target("y", 10)``, at
``model.init_params(seed=0)``.

- **cold**: ``SYMGRAD_CACHE_DIR`` is a fresh empty directory, so symgrad
  builds the gradient program, prints the kernel module and numba compiles
  it (numba's own cache lives beside the module, so it is empty too).
- **warm**: a new process with the directory the cold run filled: symgrad
  finds the module by the model's fingerprint and numba loads the machine
  code from its cache. It still pays numba's one-time initialisation in the
  process (its type registries and target, on the first load).
- **warm, no SciPy**: the same, in a process that cannot import SciPy, as
  after the README's ``pip install .``. numba's initialisation imports
  ``scipy.linalg`` when it can (to look for BLAS), which symgrad's kernels
  do not use; the warm target is judged both ways.

**Peers** (``python -m benchmarks.compile_peers_child``) time the same
network and loss at the same float64 parameters and rows, written by hand
with each library's numpy-like functions and handed one ``(W, b)`` pair per
layer, from definition to the first gradient value, after timing their
import on its own:

- **jax**: ``jax.jit(jax.value_and_grad(loss))``, its first call and
  ``block_until_ready``. Cold: a fresh persistent compilation cache
  (``jax_compilation_cache_dir``, every entry kept). Warm: a new process
  with that cache. JAX's warm cache skips only XLA's compilation: tracing
  the Python function, lowering it to StableHLO and hashing the module into
  the cache key happen again, then the executable is loaded from disk.
- **pytensor**: the symbolic inputs and loss graph, ``pytensor.grad`` and
  ``pytensor.function(..., mode="NUMBA")``, then its first call, in which
  numba compiles the graph's functions. Cold: a fresh ``base_compiledir``
  (``PYTENSOR_FLAGS``), which holds PyTensor's numba cache, and a fresh
  ``NUMBA_CACHE_DIR``. Warm: a new process with those: the graph, its
  rewrites and the generated numba source are built again, the machine code
  is loaded from numba's cache.

A peer missing its library is skipped with an install hint. Each child
returns its loss and gradient; every run's must equal symgrad's cold run's to
1e-9 relative (largest difference over the largest entry), symgrad's warm
runs included, and only runs that do count in the medians ("equal"). JAX
compiles for the rows' shapes; symgrad's and PyTensor's functions take any
number of rows.

Each repeat uses new directories (one cold run, then one warm run, per
peer); tables show medians. "numba" is the time numba spent compiling
symgrad's kernels (its ``numba:compile`` events, 0 when everything came from
the cache), split into type inference and lowering (lowering includes
LLVM's optimisation); "ops" counts the operators and calls in the generated
per-sample gradient function, and "typing ms/op" is type inference divided
by them. "rest" is the cold time outside numba's compiler: symgrad's
symbolic work and code printing, loading the module, and numba's
initialisation. "warm hit" says whether symgrad's warm run loaded the
training kernel from numba's cache. A peer's cells give its seconds and, in
brackets, its time over symgrad's; "miss" marks a warm run that compiled
anyway. "other load" is the most cores other processes kept busy, on
average, during any one child's timed span (``benchmarks/cpu_load.py``).
The targets the project tracks are symgrad's, Model() to ready with the
import excluded: for 2-16-16-1, cold <= 5 s and warm <= 0.5 s; for digits
64-32-10, cold <= 5 s. A child that runs past the timeout (300 s) is stopped and reported
as ``> 300``. ``--quick``: one repeat of 2-4-1 and digits 64-32-10.
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

import numpy as np

from .. import compile_models
from ..compile_child import WITHOUT_SCIPY
from ..compile_models import DIGITS
from ..harness import Settings
from ..timing import median
from ..training import HINTS, installed

TITLE = ("compile: definition -> first gradient value, cold and warm cache: symgrad (scalar sigmoid MLPs, "
         "digits 64-32-10) vs JAX jit and PyTensor (numba mode)")
SIZES = ((2, 4, 1), (2, 8, 8, 1), (2, 16, 16, 1))
TIMEOUT_S = 300.0
#: Targets the project tracks, per model: symgrad's Model() to ready kernels, seconds.
TARGETS = {"2-16-16-1": {"cold": 5.0, "warm": 0.5}, DIGITS: {"cold": 5.0}}
#: Peer -> the package it needs.
PEERS = {"jax": "jax", "pytensor": "pytensor"}
#: Largest relative difference from symgrad's loss and gradient that counts as the same answer.
TOLERANCE = 1e-9
ROOT = Path(__file__).resolve().parents[2]


def run(settings: Settings, sizes: Sequence[Sequence[int]] | None = None, digits: bool = True,
        peers: Sequence[str] | None = None, timeout: float = TIMEOUT_S) -> list[dict]:
    """One row per model: the scalar ``sizes`` (``--quick``: the smallest), then digits 64-32-10."""
    if sizes is None:
        sizes = SIZES[:1] if settings.quick else SIZES
    peers = list(PEERS) if peers is None else list(peers)
    if set(peers) - set(PEERS):
        raise ValueError(f"peers must come from {list(PEERS)}; got {peers}")
    skipped = {p: HINTS[PEERS[p]] for p in peers if not installed(PEERS[p])}
    for peer, why in skipped.items():
        settings.note(f"  {peer}: skipped ({why})")
    rows = []
    for model in ["-".join(map(str, size)) for size in sizes] + ([DIGITS] if digits else []):
        row = _measure(model, peers, dict(skipped), settings, timeout)
        peer_notes = "".join(f"; {p}: cold {_peer_cell(p, 'cold')(row)}, warm {_peer_cell(p, 'warm')(row)}"
                             for p in row["peers"])
        settings.note(f"  {model}: import {_seconds(row['import_s'])} s, cold {_cold_cell(row)} s, "
                      f"warm {_warm_cell(row)} s{peer_notes}")
        rows.append(row)
    return rows


def _child(who: str, model: str, data: Path, cache: Path, timeout: float,
           without_scipy: bool = False) -> dict:
    """One child process's measurements, or ``{"timed_out": True}`` / ``{"error": ...}``;
    ``without_scipy``: symgrad's child cannot import SciPy."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    argument = compile_models.argument(model)
    if who == "symgrad":
        env["SYMGRAD_CACHE_DIR"] = str(cache)
        env.pop("NUMBA_CACHE_DIR", None)  # numba's cache must sit beside the module, in `cache`
        command = [sys.executable, "-m", "benchmarks.compile_child", argument, str(data),
                   *([WITHOUT_SCIPY] if without_scipy else [])]
    else:
        command = [sys.executable, "-m", "benchmarks.compile_peers_child", who, argument, str(data),
                   str(cache)]
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"timed_out": True}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _measure(model: str, peers: list[str], skipped: dict, settings: Settings, timeout: float) -> dict:
    runs = {who: {"cold": [], "warm": []} for who in ["symgrad", *peers] if who not in skipped}
    runs["symgrad"]["warm_without_scipy"] = []
    with tempfile.TemporaryDirectory(prefix="symgrad-compile-bench-") as root:
        data = Path(root) / "data.npz"
        compile_models.save(data, compile_models.first_call_data(model, settings.seed))
        for _ in range(settings.repeat):
            for who, done in list(runs.items()):
                if any("ready_s" not in r for r in done["cold"]):
                    continue  # no warm run without a filled cache; the other repeats would fare alike
                cache = Path(tempfile.mkdtemp(dir=root))
                cold = _child(who, model, data, cache, timeout)
                if "missing" in cold:  # installed, but its import failed
                    skipped[who] = HINTS[PEERS[who]]
                    settings.note(f"  {who}: skipped ({skipped[who]})")
                    del runs[who]
                    continue
                done["cold"].append(cold)
                if "ready_s" in cold:
                    done["warm"].append(_child(who, model, data, cache, timeout))
                    if who == "symgrad":
                        done["warm_without_scipy"].append(_child(who, model, data, cache, timeout, True))
                shutil.rmtree(cache, ignore_errors=True)
    first = next((r for r in runs["symgrad"]["cold"] if "ready_s" in r), None)
    reference = None if first is None else {"loss": first["loss"], "grad": np.array(first["grad"])}
    for done in runs.values():
        for r in _all(done):
            _check(r, reference)
    row = _symgrad_row(model, runs.pop("symgrad"), timeout)
    row["peers"] = {peer: _peer_summary(done, row) for peer, done in runs.items()}
    row["skipped"] = skipped
    row["answers_equal"] = all(r.get("equal") is not False for done in [row["runs"], *runs.values()]
                               for r in _all(done))
    row["other_load"] = max((r["other_load"] for done in [row["runs"], *runs.values()]
                             for r in _all(done) if r.get("other_load") is not None), default=None)
    return row


def _all(runs: dict) -> list[dict]:
    """Every run of one library: cold, warm (and symgrad's warm runs without SciPy)."""
    return [r for which in runs.values() for r in which]


def _check(run: dict, reference: dict | None) -> None:
    """Mark ``run`` equal or not to ``reference``'s answers (``None``: nothing to compare); drop its gradient
    (the JSON keeps the losses)."""
    grad = run.pop("grad", None)
    if grad is None or reference is None:
        return
    mine, theirs = np.array(grad), reference["grad"]
    if mine.shape != theirs.shape:
        run["max_rel_error"], run["equal"] = None, False
        return
    scale = max(float(np.max(np.abs(theirs))), np.finfo(float).tiny)
    run["max_rel_error"] = {
        "loss": abs(run["loss"] - reference["loss"]) / max(abs(reference["loss"]), np.finfo(float).tiny),
        "grad": float(np.max(np.abs(mine - theirs))) / scale,
    }
    run["equal"] = max(run["max_rel_error"].values()) <= TOLERANCE


def _symgrad_row(model: str, runs: dict, timeout: float) -> dict:
    colds, warms = runs["cold"], runs["warm"]
    cold, warm, bare = _summary(colds), _summary(warms), _summary(runs["warm_without_scipy"])
    target = TARGETS.get(model, {})
    return {
        "model": model,
        "n_params": compile_models.n_params(model),
        "import_s": median([r["import_s"] for r in colds + warms if "import_s" in r]),
        "build_s": median([r["build_s"] for r in colds if "build_s" in r]),
        "kernel_operations": next((r["kernel_operations"] for r in colds if "kernel_operations" in r), None),
        **{f"cold_{key}": value for key, value in cold.items()},
        **{f"warm_{key}": value for key, value in warm.items()},
        **{f"warm_without_scipy_{key}": value for key, value in bare.items()},
        "warm_cache_hit": bool(warms) and all(_hit(r) for r in warms + runs["warm_without_scipy"]),
        "timeout_s": timeout,
        "cold_target_s": target.get("cold"),
        "warm_target_s": target.get("warm"),
        "cold_target_met": _met(cold["ready_s"], target.get("cold")),
        "warm_target_met": _met(warm["ready_s"], target.get("warm")),
        "warm_without_scipy_target_met": _met(bare["ready_s"], target.get("warm")),
        "runs": runs,
    }


def _counted(runs: list[dict]) -> list[dict]:
    """The runs that finished with the reference's answers (or had nothing to be compared with)."""
    return [r for r in runs if "ready_s" in r and r.get("equal") is not False]


def _summary(runs: list[dict]) -> dict:
    done = _counted(runs)
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


def _peer_summary(runs: dict, row: dict) -> dict:
    summary = {"library": next((r["library"] for r in runs["cold"] if "library" in r), None),
               "import_s": median([r["import_s"] for r in runs["cold"] + runs["warm"] if "import_s" in r])}
    for which in ("cold", "warm"):
        done = _counted(runs[which])
        checked = [r for r in done if "equal" in r]
        seconds = median([r["ready_s"] for r in checked])
        summary.update({
            f"{which}_ready_s": seconds,
            f"{which}_define_s": median([r["define_s"] for r in checked]),
            f"{which}_first_call_s": median([r["first_call_s"] for r in checked]),
            f"{which}_numba_s": median([r["numba_compile_s"] for r in checked
                                        if r["numba_compile_s"] is not None]),
            f"{which}_ratio": None if seconds is None or not row[f"{which}_ready_s"]
            else seconds / row[f"{which}_ready_s"],
            f"{which}_timed_out": any(r.get("timed_out") for r in runs[which]),
            f"{which}_error": next((r["error"] for r in runs[which] if "error" in r), None),
            f"{which}_unchecked": len(done) > len(checked),
        })
    finished = [r for r in runs["cold"] + runs["warm"] if "ready_s" in r]
    summary["warm_cache_hit"] = bool(runs["warm"]) and all(r.get("cache_hit") for r in runs["warm"])
    summary["answers_equal"] = all(r.get("equal") is not False for r in finished)
    summary["max_rel_error"] = max((max(r["max_rel_error"].values()) for r in finished
                                    if r.get("max_rel_error")), default=None)
    summary["runs"] = runs
    return summary


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


def _warm_without_scipy_cell(row: dict) -> str:
    return _cell(row, "warm_without_scipy")


def _peer_cell(peer: str, which: str):
    def cell(row: dict) -> str:
        if peer in row["skipped"]:
            return "skipped"
        summary = row["peers"].get(peer)
        if summary is None:
            return "-"
        if summary[f"{which}_ready_s"] is None:
            if summary[f"{which}_timed_out"]:
                return f"> {row['timeout_s']:g}"
            if summary[f"{which}_error"]:
                return "error"
            if summary[f"{which}_unchecked"]:
                return "unchecked"  # symgrad gave no answer to compare with
            return "differs" if not summary["answers_equal"] else "-"
        ratio = summary[f"{which}_ratio"]
        text = _seconds(summary[f"{which}_ready_s"]) + ("" if ratio is None else f" ({ratio:.2g}x)")
        return text + (" miss" if which == "warm" and not summary["warm_cache_hit"] else "")

    return cell


def _equal_cell(row: dict) -> str:
    differ = [p for p, s in row["peers"].items() if not s["answers_equal"]]
    if any(r.get("equal") is False for r in _all(row["runs"])):
        differ.insert(0, "symgrad")
    compared = any("equal" in r for done in [row["runs"], *(s["runs"] for s in row["peers"].values())]
                   for r in done["cold"] + done["warm"])
    text = f"NO ({', '.join(differ)})" if differ else "yes" if compared else "-"
    return "; ".join([text, *(f"{peer} skipped: {why}" for peer, why in row["skipped"].items())])


def _target_cell(which: str):
    def cell(row: dict) -> str:
        target = row[f"{which}_target_s"]
        if target is None:
            return "-"
        text = f"<= {target:g}: {'met' if row[f'{which}_target_met'] else 'NOT met'}"
        if which == "warm":
            text += f"; without SciPy: {'met' if row['warm_without_scipy_target_met'] else 'NOT met'}"
        return text

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
    ("warm s, no SciPy", _warm_without_scipy_cell),
    ("warm hit", lambda r: "yes" if r["warm_cache_hit"] else "NO"),
    *((f"{peer} {which} s", _peer_cell(peer, which)) for peer in PEERS for which in ("cold", "warm")),
    ("equal", _equal_cell),
    ("other load", lambda r: "-" if r["other_load"] is None else f"{r['other_load']:.2f}"),
    ("cold target", _target_cell("cold")),
    ("warm target", _target_cell("warm")),
)
