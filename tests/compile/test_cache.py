"""The on-disk kernel cache: real module files, numba's cache across processes,
concurrent compiles, atomic writes, and the model fingerprint that keys it."""

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.cli.demo import logistic_regression
from symgrad.compile import cache

REPO = Path(__file__).resolve().parents[2]


def run_python(code, env=None, timeout=300):
    """Run ``code`` in a fresh interpreter (the session's environment plus ``env``)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_python(code, env=None):
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def last_json_line(stdout):
    return json.loads(stdout.strip().splitlines()[-1])


def snapshot(directory):
    """Every file under ``directory`` with its size and modification time."""
    return {
        str(p.relative_to(directory)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in directory.rglob("*")
        if p.is_file()
    }


def modules(directory):
    return sorted(p.name for p in directory.glob("symgrad_*.py"))


def temporaries(directory):
    return [str(p) for p in directory.rglob(".tmp-*")]


# Data the in-process and the subprocess computations share: exact binary fractions.
THETA = [0.625, -1.25, 0.375]
X = [[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0], [0.125, -0.5]]
T = [[1.0], [0.0], [1.0], [0.0]]


# -- the module file ----------------------------------------------------------------------
def test_module_is_a_real_file_in_the_cache_directory(logreg64, kernel_cache):
    path = logreg64.path
    assert path.is_file() and path.parent == Path(os.environ[cache.ENV_VAR]) == kernel_cache
    assert logreg64.source == path.read_text(encoding="utf-8")
    # Content addressed: the name is the hash of the text (and of the tool versions).
    assert path.name == f"symgrad_{cache.module_key(logreg64.source)}.py"
    compile(logreg64.source, str(path), "exec")
    if os.environ.get("NUMBA_CACHE_DIR"):
        pytest.skip("NUMBA_CACHE_DIR moves numba's cache elsewhere")
    # numba's cache=True keeps the machine code beside the module.
    cached = {p.name for p in (path.parent / "__pycache__").glob(f"{path.stem}.*")}
    assert any(re.fullmatch(rf"{path.stem}\.loss_and_grad-\d+\.py\d+\.nbi", n) for n in cached), cached
    assert any(re.fullmatch(rf"{path.stem}\.loss_and_grad-\d+\.py\d+\.\d+\.nbc", n) for n in cached), cached


def test_second_process_hits_numba_cache_and_writes_nothing(logreg, logreg64, kernel_cache):
    theta, X_, T_ = np.array(THETA), np.array(X), np.array(T)
    value, gradient = logreg64.loss_and_grad(theta, X_, T_)
    before = snapshot(kernel_cache)
    result = run_python(
        f"""
        import json
        import numpy as np
        from symgrad.cli.demo import logistic_regression
        model = logistic_regression()
        kernels = model.compile()
        value, gradient = kernels.loss_and_grad(np.array({THETA}), np.array({X}), np.array({T}))
        print(json.dumps({{"stats": kernels.cache_stats(), "path": str(kernels.path),
                          "fingerprint": model.fingerprint(),
                          "value": value.hex(), "gradient": [float(g).hex() for g in gradient]}}))
    """,
        env={"PYTHONHASHSEED": "12345"},
    )
    assert result.returncode == 0, result.stderr
    report = last_json_line(result.stdout)
    assert report["stats"]["loss_and_grad"]["hits"] >= 1
    assert all(s["misses"] == 0 for s in report["stats"].values()), report["stats"]
    assert report["path"] == str(logreg64.path)
    assert snapshot(kernel_cache) == before  # no module, index entry or numba file added or touched
    # The same machine code on the same numbers: bit-identical results.
    assert report["value"] == value.hex()
    assert report["gradient"] == [float(g).hex() for g in gradient]
    # The fingerprint does not depend on the process (string hashing is randomised).
    assert report["fingerprint"] == logreg.fingerprint()


CONCURRENT_MODEL = """
    import json
    import numpy as np
    import sympy as sp
    import symgrad as sg
    a, b, x, t = sp.symbols("a_concurrent b x t")
    z = a * x + b
    model = sg.Model(loss=sg.losses.binary_cross_entropy_with_logits(z, t) + sp.Rational(1, 7) * sp.sin(z),
                     params=[a, b], inputs=[x], targets=[t])
    kernels = model.compile(hessian=False)
    x_values = np.linspace(-2.0, 2.0, 9)
    t_values = (np.arange(9) % 2).astype(float)
    value, gradient = kernels.loss_and_grad(np.array([0.75, -0.5]), x_values, t_values)
    print(json.dumps({"stats": kernels.cache_stats(), "path": kernels.path.name,
                      "value": value.hex(), "gradient": [float(g).hex() for g in gradient]}))
"""


def test_concurrent_compiles_of_a_new_model_agree(tmp_path):
    directory = tmp_path / "shared-cache"
    env = {cache.ENV_VAR: str(directory)}
    first, second = start_python(CONCURRENT_MODEL, env), start_python(CONCURRENT_MODEL, env)
    outputs = [p.communicate(timeout=300) for p in (first, second)]
    for process, (_, stderr) in zip((first, second), outputs, strict=True):
        assert process.returncode == 0, stderr
    reports = [last_json_line(stdout) for stdout, _ in outputs]
    assert reports[0]["path"] == reports[1]["path"]
    assert (reports[0]["value"], reports[0]["gradient"]) == (reports[1]["value"], reports[1]["gradient"])
    # ... and both are right: softplus(z) - t z + sin(z)/7, averaged here in numpy.
    xs, ts = np.linspace(-2.0, 2.0, 9), (np.arange(9) % 2).astype(float)
    zs = 0.75 * xs - 0.5
    p = 1 / (1 + np.exp(-zs))
    # Nine terms of order 1: agreement to a few ε.
    assert float.fromhex(reports[0]["value"]) == pytest.approx(
        np.mean(np.logaddexp(0, zs) - ts * zs + np.sin(zs) / 7), rel=1e-13
    )
    dz = p - ts + np.cos(zs) / 7
    np.testing.assert_allclose(
        [float.fromhex(g) for g in reports[0]["gradient"]],
        [np.mean(dz * xs), np.mean(dz)],
        rtol=1e-12,
        atol=1e-14,
    )
    # One module (both wrote the same content-addressed file), one index entry, no debris.
    assert modules(directory) == [reports[0]["path"]]
    assert len(list((directory / "index").iterdir())) == 1
    assert temporaries(directory) == []
    # What they left behind is a valid cache: a third process only loads.
    third = run_python(CONCURRENT_MODEL, env)
    assert third.returncode == 0, third.stderr
    report = last_json_line(third.stdout)
    assert report["stats"]["loss_and_grad"] == {"hits": 1, "misses": 0}
    assert (report["value"], report["gradient"]) == (reports[0]["value"], reports[0]["gradient"])


def test_unicode_symbol_names_compile_under_a_non_utf8_locale(tmp_path):
    # Greek parameter names are common in SymPy code; the module (whose docstring
    # shows the model) must be written and read back whatever the locale encoding.
    env = {
        "LC_ALL": "C",
        "LANG": "C",
        "PYTHONUTF8": "0",
        "PYTHONCOERCECLOCALE": "0",
        "PYTHONIOENCODING": "utf-8",
        cache.ENV_VAR: str(tmp_path),
    }
    probe = run_python("import locale; print(locale.getpreferredencoding(False))", env)
    if probe.stdout.strip().lower().replace("-", "") in ("utf8", ""):
        pytest.skip("cannot start Python with a non-UTF-8 locale encoding here")
    result = run_python(
        """
        import numpy as np
        import sympy as sp
        import symgrad as sg
        theta, x, t = sp.symbols("\\u03b8 x t")  # escaped: argv itself is decoded as ASCII here
        assert theta.name == "\\N{GREEK SMALL LETTER THETA}"
        model = sg.Model(loss=(theta * x - t) ** 2, params=[theta], inputs=[x], targets=[t])
        kernels = model.compile(hessian=False)
        print(kernels.loss(np.array([2.0]), np.array([1.0, 3.0]), np.array([1.0, 5.0])))
    """,
        env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # ((2·1 - 1)² + (2·3 - 5)²) / 2 = 1, exactly.
    assert result.stdout.strip().splitlines()[-1] == "1.0"


# -- where the cache lives ------------------------------------------------------------------
def test_cache_directory_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_directory(tmp_path / "explicit") == tmp_path / "explicit"
    assert cache.cache_directory(str(tmp_path / "explicit")) == tmp_path / "explicit"
    assert cache.cache_directory() == tmp_path / "env"
    monkeypatch.setenv(cache.ENV_VAR, "")  # empty counts as unset
    assert cache.cache_directory() == tmp_path / "xdg" / "symgrad"
    monkeypatch.delenv(cache.ENV_VAR)
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_directory() == tmp_path / "home" / ".cache" / "symgrad"


def test_explicit_cache_dir_wins_over_the_environment(tmp_path, kernel_cache):
    q = sp.Symbol("q_explicit_cache_dir")
    model = sg.Model(loss=(q - 3) ** 2 + sp.cos(q), params=[q])
    kernels = model.compile(hessian=False, cache_dir=tmp_path)
    assert os.environ[cache.ENV_VAR] == str(kernel_cache) != str(tmp_path)
    assert kernels.path.parent == tmp_path and kernels.path.is_file()
    assert not (kernel_cache / kernels.path.name).exists()
    assert len(list((tmp_path / "index").iterdir())) == 1
    # ((1 - 3)² + cos 1; derivative 2(q - 3) - sin q) at q = 1.
    value, gradient = kernels.loss_and_grad(np.array([1.0]))
    assert value == pytest.approx(4 + np.cos(1.0), rel=1e-15)
    assert gradient[0] == pytest.approx(-4 - np.sin(1.0), rel=1e-15)
    assert model.compile(hessian=False, cache_dir=tmp_path) is kernels


# -- store_module, remember, lookup ---------------------------------------------------------
SOURCE = '"""A module."""\n\nVALUE = 42\n'


def test_store_module_writes_once_and_leaves_no_temporary(tmp_path):
    directory = tmp_path / "new" / "dir"
    path, new = cache.store_module(SOURCE, directory)
    assert new and path.parent == directory and path.read_text() == SOURCE
    assert path.name == f"symgrad_{cache.module_key(SOURCE)}.py"
    assert temporaries(directory) == []
    stat = path.stat()
    again, new = cache.store_module(SOURCE, directory)
    assert again == path and not new
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == (stat.st_mtime_ns, stat.st_ino)
    assert cache.load_module(path).VALUE == 42
    other, _ = cache.store_module(SOURCE + "OTHER = 1\n", directory)
    assert other != path and len(modules(directory)) == 2


def test_store_module_replaces_a_damaged_file(tmp_path):
    path = tmp_path / f"symgrad_{cache.module_key(SOURCE)}.py"
    path.write_text(SOURCE[:10])  # e.g. a crash of an older, non-atomic writer
    stored, new = cache.store_module(SOURCE, tmp_path)
    assert stored == path and new and path.read_text() == SOURCE
    assert temporaries(tmp_path) == []


def test_store_module_renames_a_complete_temporary_into_place(tmp_path, monkeypatch):
    real_replace = os.replace
    seen = []

    def spy(source, target):
        source, target = Path(source), Path(target)
        # At the moment of the rename the full text is in a temporary beside the target,
        # and the target does not exist yet: a reader sees nothing or everything.
        seen.append(
            (
                source.parent == target.parent,
                source.name.startswith(".tmp-"),
                source.read_text() == SOURCE,
                target.exists(),
            )
        )
        real_replace(source, target)

    monkeypatch.setattr(cache.os, "replace", spy)
    path, _ = cache.store_module(SOURCE, tmp_path)
    assert seen == [(True, True, True, False)]
    assert path.read_text() == SOURCE and temporaries(tmp_path) == []


def test_store_module_cleans_up_after_a_failed_write(tmp_path, monkeypatch):
    def failing_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(cache.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        cache.store_module(SOURCE, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_remember_and_lookup(tmp_path):
    key = "fingerprint|float64|parallel=False"
    assert cache.lookup(key, tmp_path) is None
    path, _ = cache.store_module(SOURCE, tmp_path)
    cache.remember(key, path, tmp_path)
    assert cache.lookup(key, tmp_path) == path
    assert cache.lookup(key + "x", tmp_path) is None
    assert temporaries(tmp_path) == []
    path.unlink()  # a module deleted by hand is regenerated, not looked up
    assert cache.lookup(key, tmp_path) is None


# -- one compiled object per model and options ------------------------------------------------
def test_compile_twice_returns_the_same_object(logreg, logreg64, logreg32):
    assert logreg.compile() is logreg64
    assert logreg.compile(dtype="float64", parallel=False, fastmath=False, hessian=True) is logreg64
    assert logreg.compile(dtype="float32") is logreg32


def test_equal_model_reuses_the_stored_module_without_symbolic_work(logreg64, monkeypatch):
    fresh = logistic_regression()

    def no_symbolic_work(*args, **kwargs):
        raise AssertionError("kernel programs rebuilt although the module is cached")

    monkeypatch.setattr(fresh, "kernel_programs", no_symbolic_work)
    kernels = fresh.compile()
    assert kernels is not logreg64 and kernels.path == logreg64.path
    theta, X_, T_ = np.array(THETA), np.array(X), np.array(T)
    assert kernels.loss(theta, X_, T_) == logreg64.loss(theta, X_, T_)


def test_different_options_give_different_modules(logreg64, logreg32, logreg_parallel):
    paths = {logreg64.path, logreg32.path, logreg_parallel.path}
    assert len(paths) == 3 and all(p.parent == logreg64.path.parent for p in paths)
    assert "DTYPE = np.float64" in logreg64.source and "PARALLEL = False" in logreg64.source
    assert "DTYPE = np.float32" in logreg32.source and "PARALLEL = False" in logreg32.source
    assert "DTYPE = np.float64" in logreg_parallel.source and "PARALLEL = True" in logreg_parallel.source


# -- fingerprints ---------------------------------------------------------------------------
def _logreg(order=(0, 1, 2), assumptions=None, loss="bce", regularizer=None, outputs=None):
    w1, w2, b = sp.symbols("w1 w2 b", **(assumptions or {}))
    x1, x2, t = sp.symbols("x1 x2 t")
    z = w1 * x1 + w2 * x2 + b
    losses = {
        "bce": lambda: sg.losses.binary_cross_entropy(sg.sigmoid(z), t),
        "logits": lambda: sg.losses.binary_cross_entropy_with_logits(z, t),
        "scaled": lambda: 2 * sg.losses.binary_cross_entropy(sg.sigmoid(z), t),
    }
    params = [[w1, w2, b][k] for k in order]
    return sg.Model(
        loss=losses[loss](),
        params=params,
        inputs=[x1, x2],
        targets=[t],
        regularizer=regularizer(params) if regularizer else None,
        outputs=outputs(z) if outputs else None,
    )


def test_fingerprint_is_equal_for_equal_models(logreg):
    assert _logreg().fingerprint() == _logreg().fingerprint() == logreg.fingerprint()
    l2 = lambda ps: sg.losses.l2_penalty(ps, 0.1)  # noqa: E731
    assert _logreg(regularizer=l2).fingerprint() == _logreg(regularizer=l2).fingerprint()


@pytest.mark.parametrize(
    "variant",
    [
        dict(loss="logits"),
        dict(loss="scaled"),
        dict(order=(1, 0, 2)),
        dict(order=(2, 0, 1)),
        dict(assumptions={"real": True}),
        dict(assumptions={"positive": True}),
        dict(regularizer=lambda ps: sg.losses.l2_penalty(ps, 0.1)),
        dict(outputs=lambda z: [sg.sigmoid(z)]),
    ],
    ids=[
        "loss-logits",
        "loss-scaled",
        "params-swapped",
        "params-rotated",
        "assumption-real",
        "assumption-positive",
        "regularizer",
        "outputs",
    ],
)
def test_fingerprint_changes_with_the_model(variant):
    assert _logreg(**variant).fingerprint() != _logreg().fingerprint()


def test_fingerprint_distinguishes_regularizer_strength_and_roles():
    l2 = [_logreg(regularizer=lambda ps, s=s: sg.losses.l2_penalty(ps, s)).fingerprint() for s in (0.1, 0.2)]
    assert l2[0] != l2[1]
    w, x, t = sp.symbols("w x t")
    # Same loss expression, roles of x and t swapped: the kernels read X and T differently.
    a = sg.Model(loss=(w * x - t) ** 2, params=[w], inputs=[x], targets=[t])
    b = sg.Model(loss=(w * x - t) ** 2, params=[w], inputs=[t], targets=[x])
    assert a.fingerprint() != b.fingerprint()
