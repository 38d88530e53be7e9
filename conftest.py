"""Settings shared by the whole test run: tests, module doctests and docs."""

import os

import pytest

# Importing the command-line entry module runs the command.
collect_ignore = ["symgrad/__main__.py"]


@pytest.fixture(scope="session", autouse=True)
def kernel_cache(tmp_path_factory):
    """Compiled kernels go to a fresh cache for the session (and its subprocesses),
    never to the user's cache directory."""
    directory = tmp_path_factory.mktemp("symgrad-cache")
    previous = os.environ.get("SYMGRAD_CACHE_DIR")
    os.environ["SYMGRAD_CACHE_DIR"] = str(directory)
    yield directory
    if previous is None:
        os.environ.pop("SYMGRAD_CACHE_DIR", None)
    else:
        os.environ["SYMGRAD_CACHE_DIR"] = previous
