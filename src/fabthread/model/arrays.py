"""Small array helpers shared by the stages."""

from __future__ import annotations

import numpy as np


def column_bounds(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) of each column of a non-empty (n, k) array, as float64 (k,) arrays.

    Column by column: numpy reduces an (n, 3) array over axis 0 some 20 times slower than
    three strided columns (2.4 vs 0.13 ms for 112k vertices)."""
    lo = np.array([a[:, k].min() for k in range(a.shape[1])], dtype=np.float64)
    hi = np.array([a[:, k].max() for k in range(a.shape[1])], dtype=np.float64)
    return lo, hi
