"""The progress bar: on a terminal only (not under CI), on stderr, after ``DELAY`` seconds.

The assertions look for ``done/total``, which both the plain line and tqdm show.
"""

import io
import os
import subprocess
import sys
import textwrap

import pytest

import symgrad as sg
from symgrad.train import progress


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def no_delay(monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 0.0)


def _fit(logreg, data, theta0, **kwargs):
    X, T = data
    return sg.fit(logreg, X, T, sg.optim.GD(lr=0.1), batch_size=8, epochs=3, theta0=theta0, **kwargs)


def test_progress_true_writes_to_stderr(no_delay, capsys, logreg, data, theta0):
    res = _fit(logreg, data, theta0, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "12/12" in captured.err and "loss" in captured.err
    assert res.n_iter == 12


def test_progress_false_is_silent(no_delay, capsys, monkeypatch, logreg, data, theta0):
    monkeypatch.setattr(sys, "stderr", _Terminal())
    _fit(logreg, data, theta0, progress=False)
    assert sys.stderr.getvalue() == ""
    assert capsys.readouterr().err == ""


def test_progress_waits_for_the_delay(monkeypatch, capsys, logreg, data, theta0):
    monkeypatch.setattr(progress, "DELAY", 1e9)
    _fit(logreg, data, theta0, progress=True)
    assert capsys.readouterr().err == ""


def test_default_follows_the_terminal_and_ci(no_delay, monkeypatch, logreg, data, theta0):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.delenv("CI", raising=False)
    _fit(logreg, data, theta0)
    assert "12/12" in terminal.getvalue()

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setenv("CI", "true")
    _fit(logreg, data, theta0)
    assert terminal.getvalue() == ""


def test_default_is_silent_without_a_terminal():
    # A real process whose stderr is a pipe; DELAY is 0 so only the terminal test can keep it quiet.
    script = textwrap.dedent("""
        import sys
        import numpy as np
        import symgrad as sg
        from symgrad.cli.demo import logistic_regression
        from symgrad.train import progress

        progress.DELAY = 0.0
        X = np.random.default_rng(0).standard_normal((20, 2))
        T = (X[:, :1] > 0).astype(np.float64)
        model = logistic_regression()
        sg.fit(model, X, T, sg.optim.GD(lr=0.1), epochs=5, fused=False)
        sys.stderr.write("MARK")
        sys.stderr.flush()
        sg.fit(model, X, T, sg.optim.GD(lr=0.1), epochs=5, fused=False, progress=True)
    """)
    env = dict(os.environ)
    env.pop("CI", None)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    before, mark, after = done.stderr.partition("MARK")
    assert mark == "MARK"
    assert before == ""
    assert "5/5" in after


def test_progress_wanted(monkeypatch):
    monkeypatch.setattr(sys, "stderr", _Terminal())
    monkeypatch.delenv("CI", raising=False)
    assert progress.progress_wanted(None) and progress.progress_wanted(True)
    assert not progress.progress_wanted(False)
    monkeypatch.setenv("CI", "1")
    assert not progress.progress_wanted(None) and progress.progress_wanted(True)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    monkeypatch.delenv("CI")
    assert not progress.progress_wanted(None)
