"""The fused loop's cached module is named after everything its machine code comes from."""

from pathlib import Path

import pytest

from symgrad.train import fused


@pytest.mark.parametrize("source", ["fused.py", "updates.py", "schedules.py", "steps.py"])
def test_a_changed_source_renames_the_trainer_module(monkeypatch, source):
    fused._dependencies.cache_clear()
    before = fused._dependencies()
    read = Path.read_text

    def edited(self, *args, **kwargs):
        return read(self, *args, **kwargs) + ("\n# edited" if self.name == source else "")

    monkeypatch.setattr(Path, "read_text", edited)
    fused._dependencies.cache_clear()
    try:
        assert fused._dependencies() != before
    finally:
        monkeypatch.undo()
        fused._dependencies.cache_clear()
    assert fused._dependencies() == before
