"""Drop-cutter: the lowest tool-tip height at (x, y) where a flat or ball end mill touches a
triangle mesh from above, without entering it.

For one triangle the contact is at a vertex, inside an edge, or inside the facet; the tip
height is the maximum over the candidates of all triangles near (x, y). Triangles are binned
into a uniform grid of cells, each triangle into every cell its xy box grown by the radius
touches, so a query reads one cell.

Arrays: ``tri`` float64 (T, 9) vertex coordinates x0 y0 z0 x1 y1 z1 x2 y2 z2 in mm;
``cutter`` 0 flat, 1 ball; ``radius`` in mm. Heights below ``floor_z`` are not reported
(a query that touches nothing returns ``floor_z``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

FLAT = 0
BALL = 1
_EPS = 1e-12


@njit(cache=True)
def build_bins(
    tri: np.ndarray, radius: float, x0: float, y0: float, cell: float, nx: int, ny: int
) -> tuple[np.ndarray, np.ndarray]:
    """Bin triangles: returns (cell_start int64 (nx*ny+1,), items int64 (K,)); the triangles
    of cell (i, j) are ``items[cell_start[j*nx+i]:cell_start[j*nx+i+1]]``."""
    n = tri.shape[0]
    counts = np.zeros(nx * ny + 1, dtype=np.int64)
    lo = np.empty((n, 4), dtype=np.int64)
    for t in range(n):
        xmin = min(tri[t, 0], tri[t, 3], tri[t, 6]) - radius
        xmax = max(tri[t, 0], tri[t, 3], tri[t, 6]) + radius
        ymin = min(tri[t, 1], tri[t, 4], tri[t, 7]) - radius
        ymax = max(tri[t, 1], tri[t, 4], tri[t, 7]) + radius
        i0 = max(0, int(math.floor((xmin - x0) / cell)))
        i1 = min(nx - 1, int(math.floor((xmax - x0) / cell)))
        j0 = max(0, int(math.floor((ymin - y0) / cell)))
        j1 = min(ny - 1, int(math.floor((ymax - y0) / cell)))
        lo[t, 0], lo[t, 1], lo[t, 2], lo[t, 3] = i0, i1, j0, j1
        for j in range(j0, j1 + 1):
            for i in range(i0, i1 + 1):
                counts[j * nx + i + 1] += 1
    start = np.cumsum(counts)
    fill = start[:-1].copy()
    items = np.empty(start[-1], dtype=np.int64)
    for t in range(n):
        for j in range(lo[t, 2], lo[t, 3] + 1):
            for i in range(lo[t, 0], lo[t, 1] + 1):
                k = j * nx + i
                items[fill[k]] = t
                fill[k] += 1
    return start, items


@njit(cache=True, inline="always")
def _inside(px: float, py: float, t: np.ndarray) -> bool:
    """Is (px, py) inside the xy projection of triangle ``t`` (either winding)?"""
    d1 = (px - t[3]) * (t[1] - t[4]) - (t[0] - t[3]) * (py - t[4])
    d2 = (px - t[6]) * (t[4] - t[7]) - (t[3] - t[6]) * (py - t[7])
    d3 = (px - t[0]) * (t[7] - t[1]) - (t[6] - t[0]) * (py - t[1])
    neg = d1 < -_EPS or d2 < -_EPS or d3 < -_EPS
    pos = d1 > _EPS or d2 > _EPS or d3 > _EPS
    return not (neg and pos)


@njit(cache=True)
def tri_tip_z(x: float, y: float, t: np.ndarray, radius: float, cutter: int) -> float:
    """Highest tip height at which the cutter centred on (x, y) touches triangle ``t``
    (float64 (9,)); -inf when it does not touch it."""
    best = -np.inf
    r2 = radius * radius
    # vertices
    for k in range(3):
        dx = t[3 * k] - x
        dy = t[3 * k + 1] - y
        d2 = dx * dx + dy * dy
        if d2 <= r2:
            z = t[3 * k + 2]
            if cutter == BALL:
                z += math.sqrt(r2 - d2) - radius
            if z > best:
                best = z
    # facet
    ux, uy, uz = t[3] - t[0], t[4] - t[1], t[5] - t[2]
    vx, vy, vz = t[6] - t[0], t[7] - t[1], t[8] - t[2]
    nx = uy * vz - uz * vy
    ny = uz * vx - ux * vz
    nz = ux * vy - uy * vx
    nn = math.sqrt(nx * nx + ny * ny + nz * nz)
    if nn > _EPS and abs(nz) > 1e-9 * nn:
        if nz < 0.0:
            nx, ny, nz = -nx, -ny, -nz
        nx, ny, nz = nx / nn, ny / nn, nz / nn
        if cutter == FLAT:
            gx, gy = -nx / nz, -ny / nz  # gradient of the plane's z
            g = math.sqrt(gx * gx + gy * gy)
            if g > _EPS:
                cx, cy = x + radius * gx / g, y + radius * gy / g
            else:
                cx, cy = x, y
            if _inside(cx, cy, t):
                z = t[2] + gx * (cx - t[0]) + gy * (cy - t[1])
                if z > best:
                    best = z
        else:
            cx, cy = x - radius * nx, y - radius * ny
            if _inside(cx, cy, t):
                z = t[2] - (nx * (cx - t[0]) + ny * (cy - t[1])) / nz + radius * nz - radius
                if z > best:
                    best = z
    # edges
    for k in range(3):
        a = 3 * k
        b = 3 * ((k + 1) % 3)
        ax, ay, az = t[a], t[a + 1], t[a + 2]
        dx, dy, dz = t[b] - ax, t[b + 1] - ay, t[b + 2] - az
        lxy2 = dx * dx + dy * dy
        if lxy2 < _EPS:
            continue  # vertical edge: its top vertex decides
        if cutter == FLAT:
            fx, fy = ax - x, ay - y
            qb = 2.0 * (fx * dx + fy * dy)
            qc = fx * fx + fy * fy - r2
            disc = qb * qb - 4.0 * lxy2 * qc
            if disc < 0.0:
                continue
            sq = math.sqrt(disc)
            t1 = max(0.0, (-qb - sq) / (2.0 * lxy2))
            t2 = min(1.0, (-qb + sq) / (2.0 * lxy2))
            if t1 > t2:
                continue
            z = az + max(t1, t2) * dz if dz > 0.0 else az + t1 * dz
            if z > best:
                best = z
        else:
            lxy = math.sqrt(lxy2)
            ex, ey = dx / lxy, dy / lxy
            px, py = x - ax, y - ay
            dist = abs(ex * py - ey * px)
            if dist >= radius:
                continue
            rr = math.sqrt(r2 - dist * dist)
            t0 = px * ex + py * ey
            s = dz / lxy
            root = math.sqrt(1.0 + s * s)
            tc = t0 + rr * s / root
            if tc < 0.0 or tc > lxy:
                continue
            z = az + s * tc + rr / root - radius
            if z > best:
                best = z
    return best


@njit(cache=True)
def _drop(
    x: float,
    y: float,
    tri: np.ndarray,
    start: np.ndarray,
    items: np.ndarray,
    x0: float,
    y0: float,
    cell: float,
    nx: int,
    ny: int,
    radius: float,
    cutter: int,
    floor_z: float,
) -> float:
    i = int(math.floor((x - x0) / cell))
    j = int(math.floor((y - y0) / cell))
    best = floor_z
    if i < 0 or j < 0 or i >= nx or j >= ny:
        return best
    k = j * nx + i
    for m in range(start[k], start[k + 1]):
        t = tri[items[m]]
        # quick reject: the triangle's top is below the best height so far
        top = max(t[2], t[5], t[8])
        if top <= best:
            continue
        z = tri_tip_z(x, y, t, radius, cutter)
        if z > best:
            best = z
    return best


@njit(cache=True, parallel=True)
def drop_lines(
    xs: np.ndarray,
    ys: np.ndarray,
    tri: np.ndarray,
    start: np.ndarray,
    items: np.ndarray,
    x0: float,
    y0: float,
    cell: float,
    nx: int,
    ny: int,
    radius: float,
    cutter: int,
    floor_z: float,
) -> np.ndarray:
    """Tip heights float64 (L, N) at the points (xs[l, i], ys[l, i]); lines in parallel."""
    n_lines, n_pts = xs.shape
    out = np.empty((n_lines, n_pts), dtype=np.float64)
    for line in prange(n_lines):
        for i in range(n_pts):
            out[line, i] = _drop(
                xs[line, i],
                ys[line, i],
                tri,
                start,
                items,
                x0,
                y0,
                cell,
                nx,
                ny,
                radius,
                cutter,
                floor_z,
            )
    return out
