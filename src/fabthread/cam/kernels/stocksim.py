"""Material removal on a heightmap of the stock: every move sweeps the tool and lowers the
cells it passes over; rapids that would have to cut are counted.

``hm`` float64 (ny, nx): stock top height at the centre of cell (i, j), which is at
(x0 + (i + 0.5) * cell, y0 + (j + 0.5) * cell). Per move: ``xyz`` end point, ``kind`` a
MoveKind value (20 = RAPID), ``radius`` and ``cutter`` (0 flat, 1 ball) of the tool. The
first move starts at its own xy from above the stock.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

RAPID = 20
_GOLDEN = 0.3819660112501051


@njit(cache=True, inline="always")
def _ball_h(
    t: float,
    ax: float,
    ay: float,
    az: float,
    dx: float,
    dy: float,
    dz: float,
    cx: float,
    cy: float,
    r: float,
) -> float:
    px = ax + t * dx - cx
    py = ay + t * dy - cy
    d2 = px * px + py * py
    return az + t * dz + r - math.sqrt(max(r * r - d2, 0.0))


@njit(cache=True)
def tool_bottom(
    cx: float,
    cy: float,
    ax: float,
    ay: float,
    az: float,
    bx: float,
    by: float,
    bz: float,
    r: float,
    cutter: int,
    floor_ok: float = np.inf,
) -> float:
    """Lowest height of the tool's bottom over (cx, cy) while it moves from a to b; +inf
    when the tool never covers the point, or (ball) when it provably stays at or above
    ``floor_ok``."""
    dx, dy, dz = bx - ax, by - ay, bz - az
    fx, fy = ax - cx, ay - cy
    a = dx * dx + dy * dy
    qb = 2.0 * (fx * dx + fy * dy)
    qc = fx * fx + fy * fy - r * r
    if a < 1e-18:
        if qc > 0.0:
            return np.inf
        t1, t2 = 0.0, 1.0
    else:
        disc = qb * qb - 4.0 * a * qc
        if disc < 0.0:
            return np.inf
        sq = math.sqrt(disc)
        t1 = max(0.0, (-qb - sq) / (2.0 * a))
        t2 = min(1.0, (-qb + sq) / (2.0 * a))
        if t1 > t2:
            return np.inf
    if cutter == 0:
        return min(az + t1 * dz, az + t2 * dz)
    if not math.isinf(floor_ok):
        # lower bound over the interval (lowest tip, closest approach): skip the search
        # when it cannot go below what is already there
        tm = min(max(-qb / (2.0 * a), t1), t2) if a >= 1e-18 else 0.0
        px, py = fx + tm * dx, fy + tm * dy
        bound = min(az + t1 * dz, az + t2 * dz) + r - math.sqrt(max(r * r - px * px - py * py, 0.0))
        if bound >= floor_ok:
            return np.inf
    # ball: the height over the point is convex in t on [t1, t2]; golden-section search
    lo, hi = t1, t2
    for _ in range(60):
        if hi - lo < 1e-9:
            break
        m1 = lo + _GOLDEN * (hi - lo)
        m2 = hi - _GOLDEN * (hi - lo)
        if _ball_h(m1, ax, ay, az, dx, dy, dz, cx, cy, r) <= _ball_h(
            m2, ax, ay, az, dx, dy, dz, cx, cy, r
        ):
            hi = m2
        else:
            lo = m1
    best = _ball_h(0.5 * (lo + hi), ax, ay, az, dx, dy, dz, cx, cy, r)
    best = min(best, _ball_h(t1, ax, ay, az, dx, dy, dz, cx, cy, r))
    return min(best, _ball_h(t2, ax, ay, az, dx, dy, dz, cx, cy, r))


@njit(cache=True)
def simulate(
    hm: np.ndarray,
    x0: float,
    y0: float,
    cell: float,
    xyz: np.ndarray,
    kind: np.ndarray,
    radius: np.ndarray,
    cutter: np.ndarray,
    tol: float,
) -> tuple[int, float, int]:
    """Run the moves over ``hm`` (modified in place). Returns (rapid moves that hit stock,
    deepest rapid intrusion in mm, index of the first such move or -1)."""
    ny, nx = hm.shape
    hits = 0
    worst = 0.0
    first = -1
    for m in range(xyz.shape[0]):
        bx, by, bz = xyz[m, 0], xyz[m, 1], xyz[m, 2]
        if m == 0:
            ax, ay, az = bx, by, bz
        else:
            ax, ay, az = xyz[m - 1, 0], xyz[m - 1, 1], xyz[m - 1, 2]
        r = radius[m]
        i0 = max(0, int(math.floor((min(ax, bx) - r - x0) / cell)))
        i1 = min(nx - 1, int(math.floor((max(ax, bx) + r - x0) / cell)))
        j0 = max(0, int(math.floor((min(ay, by) - r - y0) / cell)))
        j1 = min(ny - 1, int(math.floor((max(ay, by) + r - y0) / cell)))
        hit = False
        for j in range(j0, j1 + 1):
            cy = y0 + (j + 0.5) * cell
            for i in range(i0, i1 + 1):
                cx = x0 + (i + 0.5) * cell
                h = tool_bottom(cx, cy, ax, ay, az, bx, by, bz, r, cutter[m], hm[j, i])
                if h < hm[j, i]:
                    if kind[m] == RAPID and hm[j, i] - h > tol:
                        hit = True
                        worst = max(worst, hm[j, i] - h)
                    hm[j, i] = h
        if hit:
            hits += 1
            if first < 0:
                first = m
    return hits, worst, first
