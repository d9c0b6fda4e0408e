"""Numba kernels of the shared geometry (mesh reading, medial axis)."""
