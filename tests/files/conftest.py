"""Helpers for model-file tests: the examples folder and a writer of small files."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "examples" / "models"


@pytest.fixture
def write(tmp_path):
    """``write(name, text)`` creates ``tmp_path / name`` and returns its path."""

    def make(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return make
