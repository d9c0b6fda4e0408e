"""Numba kernel: bounding box of selected moves (numpy's axis-0 reductions over (n, 3)
arrays are strided and several times slower on million-row programs)."""

from __future__ import annotations

import math

import numpy as np

from fabthread.kernels.jit import kernel


@kernel(
    "f8[:, :], f8[:, :], b1[:], b1, f8[:, :], f8[:], f8[:, :]",
    returns="Tuple((b1, f8[:], f8[:]))",
)
def masked_bounds(
    start: np.ndarray,
    end: np.ndarray,
    mask: np.ndarray,
    with_start: bool,
    centre: np.ndarray,
    radius: np.ndarray,
    dir_start: np.ndarray,
) -> tuple:
    """(found, lo (3,), hi (3,)): min/max over the end points (and the start points when
    ``with_start``) (float64 (n, 3), mm) of the rows where ``mask`` (bool (n,)) is true;
    found is False when no row is.

    Arcs (rows with ``radius`` (n,) > 0, XY ``centre`` (n, 2)) also count by the points where
    they reach furthest along +X, +Y, -X and -Y, when their sweep passes them; their turning
    sense comes from the start tangent ``dir_start`` (n, 3)."""
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
    # arcs, in a loop of their own so the one above stays tight
    for i in range(start.shape[0]):
        r = radius[i]
        if not mask[i] or r <= 0.0:
            continue
        cx = centre[i, 0]
        cy = centre[i, 1]
        sx = start[i, 0] - cx
        sy = start[i, 1] - cy
        ccw = sx * dir_start[i, 1] - sy * dir_start[i, 0] > 0.0
        a0 = math.atan2(sy, sx)
        a1 = math.atan2(end[i, 1] - cy, end[i, 0] - cx)
        sweep = (a1 - a0) if ccw else (a0 - a1)
        if sweep <= 1e-12:
            sweep += 2.0 * math.pi
        for q in range(4):
            phi = 0.5 * math.pi * q
            delta = (phi - a0) if ccw else (a0 - phi)
            delta = delta % (2.0 * math.pi)
            if delta <= sweep:
                k = q % 2  # 0, 2: X; 1, 3: Y
                v = (cx if k == 0 else cy) + (r if q < 2 else -r)
                if v < lo[k]:
                    lo[k] = v
                if v > hi[k]:
                    hi[k] = v
    return found, lo, hi
