"""Numba kernel: arc fitting. Runs of short G1 extrusions that lie on a circle become G2/G3.

Inputs are the emitter's rounded integers (µm, 1e-5 mm of filament), so the arcs are fitted to
exactly the points the program would otherwise visit. For a run that starts at row ``i`` (its
start point ``P0`` is the end of row ``i - 1``) and ends at row ``j``, the candidate circle
passes through ``P0``, the end of row ``j`` and the point half way between them (by row); its
centre is rounded to the µm, as the I/J words will be. The run becomes one arc when, for
every row of it,

- the row's end point lies within ``tol - sagitta`` of the circle (``sagitta``: how far the
  arc bulges away from the row's chord), so no point of the arc is further than ``tol`` from
  the original polyline;
- the row turns the same way as the arc, by less than 90°; the whole arc sweeps between
  ``MIN_SWEEP_RAD`` and ``MAX_SWEEP_RAD`` (near 0 or a full turn, rounding could make
  firmware read a start and end that are the wrong way round);

and the radius is in ``[r_min, r_max]``. Which rows may join a run (same feed, same Z,
extruding, steady flow, no event such as a ``;TYPE:`` change before them) is decided here
from ``mode``, ``brk`` and the flow; the arc's E is the sum of its rows' E, so the total is
unchanged. Runs grow greedily: doubling while the arc fits, then a bisection between the last
fit and the first miss.
"""

from __future__ import annotations

import math

import numpy as np

from fabthread.gcode.kernels.format import ARC_CCW, ARC_CW, ARC_NONE, ARC_SKIP, MODE_EXTRUDE
from fabthread.kernels.jit import helper, kernel

MAX_SWEEP_RAD = 2.0 * math.pi - 0.1
MIN_SWEEP_RAD = 0.002
#: Rows of one run may differ in flow (filament per mm) by this fraction of the first row's.
FLOW_SPREAD = 0.05


@helper
def _row_len(q_xyz: np.ndarray, k: int) -> float:
    dx = (q_xyz[k, 0] - q_xyz[k - 1, 0]) * 1e-3
    dy = (q_xyz[k, 1] - q_xyz[k - 1, 1]) * 1e-3
    return math.sqrt(dx * dx + dy * dy)


@helper
def arc_fits(
    q_xyz: np.ndarray, i: int, j: int, tol: float, r_min: float, r_max: float
) -> tuple[int, int, int]:
    """Whether rows i..j (j >= i + 1, i >= 1) fit one arc; (code, I µm, J µm) with code
    ARC_CW/ARC_CCW when they do, ARC_NONE (and zeros) when they do not."""
    x0 = q_xyz[i - 1, 0] * 1e-3
    y0 = q_xyz[i - 1, 1] * 1e-3
    m = (i - 1 + j + 1) // 2  # a middle point, strictly between start and end
    xm = q_xyz[m, 0] * 1e-3
    ym = q_xyz[m, 1] * 1e-3
    x1 = q_xyz[j, 0] * 1e-3
    y1 = q_xyz[j, 1] * 1e-3
    # circle through three points
    ax = xm - x0
    ay = ym - y0
    bx = x1 - x0
    by = y1 - y0
    d = 2.0 * (ax * by - ay * bx)
    if abs(d) < 1e-12:
        return ARC_NONE, 0, 0
    a2 = ax * ax + ay * ay
    b2 = bx * bx + by * by
    ux = (by * a2 - ay * b2) / d
    uy = (ax * b2 - bx * a2) / d
    qi = int(round(ux * 1000.0))
    qj = int(round(uy * 1000.0))
    cx = x0 + qi * 1e-3
    cy = y0 + qj * 1e-3
    r = math.sqrt((x0 - cx) ** 2 + (y0 - cy) ** 2)
    if r < r_min or r > r_max:
        return ARC_NONE, 0, 0
    # turning sense: counter-clockwise when P0 -> Pm -> P1 turns left
    sense = 1.0 if d > 0.0 else -1.0
    px = x0 - cx
    py = y0 - cy
    sweep = 0.0
    for k in range(i, j + 1):
        qx = q_xyz[k, 0] * 1e-3 - cx
        qy = q_xyz[k, 1] * 1e-3 - cy
        dist = math.sqrt(qx * qx + qy * qy)
        cr = (px * qy - py * qx) * sense
        dt = px * qx + py * qy
        if cr <= 0.0 or dt <= 0.0:  # wrong way round, or a turn of 90° or more
            return ARC_NONE, 0, 0
        half = 0.5 * math.sqrt((qx - px) ** 2 + (qy - py) ** 2)
        sag = r - math.sqrt(max(r * r - half * half, 0.0))
        if abs(dist - r) + sag > tol:
            return ARC_NONE, 0, 0
        sweep += math.atan2(cr, dt)
        px = qx
        py = qy
    if sweep >= MAX_SWEEP_RAD or sweep < MIN_SWEEP_RAD:
        return ARC_NONE, 0, 0
    return (ARC_CCW if sense > 0.0 else ARC_CW), qi, qj


@kernel(
    "i8[:, :], i8[:], i8[:], u1[:], b1[:], f8, i8, f8, f8",
    returns="Tuple((u1[:], i8[:, :], i8[:, :], i8[:]))",
)
def fit_arcs(
    q_xyz: np.ndarray,
    q_feed: np.ndarray,
    q_e: np.ndarray,
    mode: np.ndarray,
    brk: np.ndarray,
    tol: float,
    min_rows: int,
    r_min: float,
    r_max: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Replace runs of at least ``min_rows`` (>= 2) rows by arcs.

    q_xyz: int64 (n, 3) µm; q_feed: int64 (n,); q_e: int64 (n,) filament in 1e-5 mm;
    mode: uint8 (n,) MODE_*; brk: bool (n,) rows that may start an arc but not continue one
    (something is written before them); tol, r_min, r_max in mm.

    Returns (arc uint8 (n,) ARC_*, q_ij int64 (n, 2), xyz int64 (n, 3), e int64 (n,)): for a
    row that starts an arc, ``xyz`` is the arc's end point, ``e`` the sum of its rows' E and
    ``q_ij`` its centre relative to its start point; the other rows of the arc are ARC_SKIP.
    Rows outside arcs are copied unchanged.
    """
    n = q_xyz.shape[0]
    arc = np.zeros(n, dtype=np.uint8)
    q_ij = np.zeros((n, 2), dtype=np.int64)
    xyz = q_xyz.copy()
    e = q_e.copy()
    min_rows = max(min_rows, 2)
    i = 1
    while i < n:
        if mode[i] != MODE_EXTRUDE or q_xyz[i, 2] != q_xyz[i - 1, 2]:
            i += 1
            continue
        len0 = _row_len(q_xyz, i)
        if len0 <= 0.0:
            i += 1
            continue
        flow0 = q_e[i] / len0
        # the run of rows that could join an arc starting at i
        r_end = i
        while r_end + 1 < n:
            k = r_end + 1
            if mode[k] != MODE_EXTRUDE or brk[k] or q_feed[k] != q_feed[i]:
                break
            if q_xyz[k, 2] != q_xyz[i, 2]:
                break
            lk = _row_len(q_xyz, k)
            if lk <= 0.0 or abs(q_e[k] / lk - flow0) > FLOW_SPREAD * abs(flow0):
                break
            r_end = k
        if r_end - i + 1 < min_rows:
            i = r_end + 1
            continue
        lo = i + min_rows - 1
        code, ci, cj = arc_fits(q_xyz, i, lo, tol, r_min, r_max)
        if code == ARC_NONE:
            i += 1
            continue
        # grow: double while it fits, then bisect between the last fit and the first miss
        step = min_rows
        hi = -1
        while lo < r_end:
            cand = min(lo + step, r_end)
            c2, i2, j2 = arc_fits(q_xyz, i, cand, tol, r_min, r_max)
            if c2 == ARC_NONE:
                hi = cand
                break
            lo, code, ci, cj = cand, c2, i2, j2
            step *= 2
        if hi >= 0:
            while hi - lo > 1:
                mid = (lo + hi) // 2
                c2, i2, j2 = arc_fits(q_xyz, i, mid, tol, r_min, r_max)
                if c2 == ARC_NONE:
                    hi = mid
                else:
                    lo, code, ci, cj = mid, c2, i2, j2
        arc[i] = code
        q_ij[i, 0] = ci
        q_ij[i, 1] = cj
        total = 0
        for k in range(i, lo + 1):
            total += q_e[k]
        e[i] = total
        for ax in range(3):
            xyz[i, ax] = q_xyz[lo, ax]
        for k in range(i + 1, lo + 1):
            arc[k] = ARC_SKIP
        i = lo + 1
    return arc, q_ij, xyz, e
