"""Compile and cache: generated modules on disk, compiled by numba."""
