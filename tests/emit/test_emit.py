"""sg.emit: a standalone module that trains without symgrad, sympy or networkx."""

import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import DeclarationError

BLOCKED = "import sys\nfor name in ('sympy', 'networkx', 'symgrad'):\n    sys.modules[name] = None\n"


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(96, 2))
    T = (X @ np.array([1.5, -2.0]) + 0.3 + 0.5 * rng.normal(size=96) > 0).astype(np.float64)
    return X, T


def reference_adam(kernels, X, T, theta, epochs, batch, lr, seed, b1=0.9, b2=0.999, eps=1e-8):
    """Adam as torch.optim documents it, over seeded shuffled mini-batches, on the library's kernels."""
    rng = np.random.default_rng(seed)
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    t = 0
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch):
            rows = order[start:start + batch]
            _, g = kernels.loss_and_grad(theta, np.ascontiguousarray(X[rows]), T[rows].reshape(-1, 1))
            t += 1
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g**2
            theta = theta - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return theta


def test_emitted_script_runs_without_symgrad_and_matches_the_library(logreg, data, tmp_path):
    X, T = data
    script = sg.emit(logreg, tmp_path / "train_model.py", optimizer="adam", lr=0.05, epochs=5, batch_size=16)
    np.savez(tmp_path / "data.npz", X=X, T=T)
    runner = BLOCKED + "import runpy\nsys.argv = ['train_model.py', 'data.npz', '--out', 'p.npz']\n" \
                       "runpy.run_path('train_model.py', run_name='__main__')\n"
    result = subprocess.run([sys.executable, "-c", runner], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert "trained 5 epochs" in result.stdout
    saved = np.load(tmp_path / "p.npz")
    assert list(saved["names"]) == ["w1", "w2", "b"]
    theta0 = np.random.default_rng(0).normal(0.0, 0.1, 3)  # the script's documented initialisation
    expected = reference_adam(logreg.compile(), X, T, theta0, epochs=5, batch=16, lr=0.05, seed=0)
    np.testing.assert_allclose(saved["theta"], expected, rtol=1e-12, atol=1e-14)
    assert saved["losses"][-1] < saved["losses"][0]
    assert script.read_text().count("import sympy") == 0


def test_emitted_module_is_importable_and_its_kernels_match(logreg, data, tmp_path):
    X, T = data
    sg.emit(logreg, tmp_path / "lr_module.py", optimizer="gd", lr=0.5, epochs=3)
    probe = BLOCKED + (
        "sys.path.insert(0, '.')\nimport numpy as np\nimport lr_module\n"
        "theta = np.array([0.3, -0.2, 0.1])\nX = np.load('x.npy'); T = np.load('t.npy').reshape(-1, 1)\n"
        "out = np.empty(3)\nloss = lr_module.loss_and_grad(theta, X, T, out)\n"
        "np.save('result.npy', np.concatenate([[loss], out]))\n"
        "print(lr_module.LAYOUT['b'], lr_module.OPTIMIZER, lr_module.SETTINGS['lr'])\n"
    )
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "t.npy", T)
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "slice(2, 3, None) gd 0.5"
    loss, grad = logreg.compile().loss_and_grad(np.array([0.3, -0.2, 0.1]), X, T.reshape(-1, 1))
    np.testing.assert_array_equal(np.load(tmp_path / "result.npy"), np.concatenate([[loss], grad]))


def test_symbol_names_cannot_inject_code(tmp_path):
    evil = sp.Symbol('x"); __import__("os").system("touch pwned"); ("')
    w, t = sp.symbols("w t")
    model = sg.Model(loss=(w * evil - t) ** 2, params=[w], inputs=[evil], targets=[t])
    path = sg.emit(model, tmp_path / "evil.py", optimizer="gd", epochs=1)
    compile(path.read_text(), str(path), "exec")  # still valid Python
    np.savez(tmp_path / "d.npz", X=np.ones((4, 1)), T=np.ones(4))
    result = subprocess.run([sys.executable, str(path), "d.npz", "--out", "o.npz"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "pwned").exists()


def test_emit_rejects_bad_requests(tmp_path, logreg):
    x = sp.Symbol("x")
    with pytest.raises(DeclarationError, match="needs inputs or targets"):
        sg.emit(sg.Model(loss=x**2, params=[x]), tmp_path / "a.py")
    with pytest.raises(DeclarationError, match="optimizer must be one of"):
        sg.emit(logreg, tmp_path / "b.py", optimizer="lbfgs")
    with pytest.raises(DeclarationError, match="adam has no setting"):
        sg.emit(logreg, tmp_path / "c.py", momentum=0.9)
