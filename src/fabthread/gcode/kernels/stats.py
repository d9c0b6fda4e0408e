"""Numba kernel: bounding box of selected moves (numpy's axis-0 reductions over (n, 3)
arrays are strided and several times slower on million-row programs)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def masked_bounds(start: np.ndarray, end: np.ndarray, mask: np.ndarray, with_start: bool) -> tuple:
    """(found, lo (3,), hi (3,)): min/max over the end points (and the start points when
    ``with_start``) (float64 (n, 3), mm) of the rows where ``mask`` (bool (n,)) is true;
    found is False when no row is."""
    lo = np.full(3, np.inf)
    hi = np.full(3, -np.inf)
    found = False
    for i in range(start.shape[0]):
        if not mask[i]:
            continue
        found = True
        for k in range(3):
            b = end[i, k]
            a = start[i, k] if with_start else b
            if a < lo[k]:
                lo[k] = a
            if a > hi[k]:
                hi[k] = a
            if b < lo[k]:
                lo[k] = b
            if b > hi[k]:
                hi[k] = b
    return found, lo, hi
