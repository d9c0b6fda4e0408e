"""Numba kernel: clip horizontal scan lines by a polygon region (even-odd), for rectilinear fill.

The caller rotates the region so the fill direction is +x, calls ``scanline_segments`` and
rotates the segments back.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _first_at_or_above(ys: np.ndarray, value: float) -> int:
    """``searchsorted(ys, value, 'left')``: first index with ``ys[i] >= value``."""
    lo = 0
    hi = ys.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if ys[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def scanline_segments(points: np.ndarray, ring_start: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Inside parts of the lines y = ys[k] for a region bounded by closed rings.

    points: float64 (P, 2) ring vertices (no repeated last point); ring_start: int64 (R + 1,);
    ys: float64 (K,) ascending. An edge (a, b) crosses line y when min(ya, yb) <= y <
    max(ya, yb) (half-open, so a vertex on a line is counted once). Crossings of one line are
    sorted by x and paired even-odd. Returns float64 (S, 4): x0, y, x1, y with x0 < x1, ordered
    by line then x; zero-length pieces are dropped.
    """
    n_lines = ys.shape[0]
    counts = np.zeros(n_lines + 1, dtype=np.int64)
    n_rings = ring_start.shape[0] - 1
    for r in range(n_rings):
        r0 = ring_start[r]
        r1 = ring_start[r + 1]
        for i in range(r0, r1):
            j = i + 1 if i + 1 < r1 else r0
            ya = points[i, 1]
            yb = points[j, 1]
            if ya == yb:
                continue
            lo = min(ya, yb)
            hi = max(ya, yb)
            k0 = _first_at_or_above(ys, lo)
            k1 = _first_at_or_above(ys, hi)
            for k in range(k0, k1):
                counts[k + 1] += 1
    start = np.cumsum(counts)
    fill = start[:-1].copy()
    xs = np.empty(start[-1], dtype=np.float64)
    for r in range(n_rings):
        r0 = ring_start[r]
        r1 = ring_start[r + 1]
        for i in range(r0, r1):
            j = i + 1 if i + 1 < r1 else r0
            xa = points[i, 0]
            ya = points[i, 1]
            xb = points[j, 0]
            yb = points[j, 1]
            if ya == yb:
                continue
            lo = min(ya, yb)
            hi = max(ya, yb)
            k0 = _first_at_or_above(ys, lo)
            k1 = _first_at_or_above(ys, hi)
            for k in range(k0, k1):
                t = (ys[k] - ya) / (yb - ya)
                xs[fill[k]] = xa + t * (xb - xa)
                fill[k] += 1
    out = np.empty((start[-1] // 2 + 1, 4), dtype=np.float64)
    n_out = 0
    for k in range(n_lines):
        seg = np.sort(xs[start[k] : start[k + 1]])
        for p in range(0, seg.shape[0] - 1, 2):
            if seg[p + 1] > seg[p]:
                out[n_out, 0] = seg[p]
                out[n_out, 1] = ys[k]
                out[n_out, 2] = seg[p + 1]
                out[n_out, 3] = ys[k]
                n_out += 1
    return out[:n_out].copy()
