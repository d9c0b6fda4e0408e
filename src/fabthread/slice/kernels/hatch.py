"""Numba kernel: clip horizontal scan lines by a polygon region (even-odd), for rectilinear fill.

The caller rotates the region so the fill direction is +x, calls ``scanline_segments`` and
rotates the segments back.
"""

from __future__ import annotations

import numpy as np

from fabthread.kernels.jit import helper, kernel


@helper
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


@helper
def _insertion_sort(a: np.ndarray) -> None:
    """Sort ``a`` in place. A scan line crosses few edges, so this beats a general sort and
    compiles in a fraction of the time ``np.sort`` takes."""
    for i in range(1, a.shape[0]):
        v = a[i]
        j = i - 1
        while j >= 0 and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


@kernel(
    "f8[:, :], i8[:], f8[:]",
    returns="f8[:, :]",
)
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
        seg = xs[start[k] : start[k + 1]]
        _insertion_sort(seg)
        for p in range(0, seg.shape[0] - 1, 2):
            if seg[p + 1] > seg[p]:
                out[n_out, 0] = seg[p]
                out[n_out, 1] = ys[k]
                out[n_out, 2] = seg[p + 1]
                out[n_out, 3] = ys[k]
                n_out += 1
    return out[:n_out].copy()


@kernel(
    "f8[:, :], i8[:], f8",
    returns="Tuple((i8[:], b1[:], i8[:]))",
)
def link_scanlines(
    seg: np.ndarray, line: np.ndarray, max_gap: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chain scan-line segments into zig-zags (serpentines), greedily.

    seg: float64 (S, 4) x0, y, x1, y with x0 < x1, in the rotated frame (fill direction +x);
    line: int64 (S,) scan-line index of each segment, ascending, and segments of one line
    ascending in x (the order ``scanline_segments`` returns). A chain starts at the first
    unused segment, runs it left to right, then steps to the unused segment of the next line
    whose end on the same side is nearest, if it is within ``max_gap`` along x, and runs that
    one right to left, and so on.

    Returns ``order`` int64 (S,) segments in chain order, ``flipped`` bool (S,) per position
    (run right to left) and ``chain_start`` int64 (C + 1,) into ``order``.
    """
    n = seg.shape[0]
    order = np.empty(n, dtype=np.int64)
    flipped = np.zeros(n, dtype=np.bool_)
    chain_start = np.empty(n + 1, dtype=np.int64)
    used = np.zeros(n, dtype=np.bool_)
    if n == 0:
        chain_start[0] = 0
        return order, flipped, chain_start[:1].copy()
    n_lines = line[n - 1] - line[0] + 1
    base = line[0]
    line_start = np.zeros(n_lines + 1, dtype=np.int64)
    for i in range(n):
        line_start[line[i] - base + 1] += 1
    for k in range(n_lines):
        line_start[k + 1] += line_start[k]
    pos = 0
    n_chains = 0
    for s in range(n):
        if used[s]:
            continue
        chain_start[n_chains] = pos
        n_chains += 1
        used[s] = True
        order[pos] = s
        flipped[pos] = False
        pos += 1
        cur = s
        right = True  # the chain's current end is the right end of ``cur``
        while True:
            k = line[cur] - base + 1
            if k >= n_lines:
                break
            x = seg[cur, 2] if right else seg[cur, 0]
            best = -1
            best_d = max_gap
            for j in range(line_start[k], line_start[k + 1]):
                if used[j]:
                    continue
                xe = seg[j, 2] if right else seg[j, 0]
                d = abs(xe - x)
                if d <= best_d:
                    best = j
                    best_d = d
            if best < 0:
                break
            used[best] = True
            order[pos] = best
            flipped[pos] = right  # entered at its right end: run right to left
            pos += 1
            cur = best
            right = not right
    chain_start[n_chains] = pos
    return order, flipped, chain_start[: n_chains + 1].copy()
