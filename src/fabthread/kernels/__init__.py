"""Numba kernels, compiled ahead of time when they can be (see ``jit`` and ``build``)."""
