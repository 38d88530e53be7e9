"""Code generation: programs printed as numba-compatible Python source."""
