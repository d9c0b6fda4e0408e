"""Numba kernel: a look-ahead motion planner that times a sequence of moves.

Model (the one firmware uses, derived here from first principles):

- each move accelerates and decelerates at constant ``accel`` (trapezoidal velocity),
  cruising at most at ``v_max``;
- at the junction of two moves the speed is limited by the corner: the junction-deviation
  model calibrated so a 90° corner is taken at ``scv`` (square corner velocity), giving
  ``v² = scv² (√2 − 1) s / (1 − s)`` with ``s = sin(θ/2)`` and θ the angle inside the corner
  (θ = 180° on a straight line: no limit; θ = 0, a reversal: a stop); and by a centripetal
  bound for short moves: the corner is rounded by an arc that uses at most half of each move,
  ``v² ≤ a · (L/2) · tan(θ/2)``;
- moves without a direction (E-only retractions) start and end at rest;
- the program starts and ends at rest.

A backward pass makes every entry speed low enough to stop in time, a forward pass makes it
reachable from the previous move; then every move is timed by its trapezoid.
"""

from __future__ import annotations

import math

import numpy as np

from fabthread.kernels.jit import helper, kernel

_SQRT2_M1 = math.sqrt(2.0) - 1.0


@helper
def junction_v2(
    d_prev: np.ndarray,
    d_next: np.ndarray,
    len_prev: float,
    len_next: float,
    a_prev: float,
    a_next: float,
    scv: float,
) -> float:
    """Highest speed² (mm²/s²) at the junction of two moves with unit directions d_prev (at
    its end) and d_next (at its start), lengths (mm) and accelerations (mm/s²). ``inf`` for
    collinear moves; 0 when either move has no direction."""
    n0 = d_prev[0] * d_prev[0] + d_prev[1] * d_prev[1] + d_prev[2] * d_prev[2]
    n1 = d_next[0] * d_next[0] + d_next[1] * d_next[1] + d_next[2] * d_next[2]
    if n0 < 0.5 or n1 < 0.5:
        return 0.0
    cos_a = d_prev[0] * d_next[0] + d_prev[1] * d_next[1] + d_prev[2] * d_next[2]
    if cos_a >= 1.0 - 1e-12:
        return np.inf
    if cos_a <= -1.0 + 1e-12:
        return 0.0
    s = math.sqrt(0.5 * (1.0 + cos_a))  # sin(θ/2)
    c = math.sqrt(0.5 * (1.0 - cos_a))  # cos(θ/2)
    v2 = scv * scv * _SQRT2_M1 * s / (1.0 - s)
    tan_half = s / c
    v2 = min(v2, 0.5 * len_prev * tan_half * a_prev)
    v2 = min(v2, 0.5 * len_next * tan_half * a_next)
    return v2


@kernel(
    "f8[:], f8[:], f8[:], f8[:, :], f8[:, :], f8",
    returns="UniTuple(f8[:], 3)",
)
def plan_times(
    length: np.ndarray,
    v_max: np.ndarray,
    accel: np.ndarray,
    dir_start: np.ndarray,
    dir_end: np.ndarray,
    scv: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time every move of a planned sequence.

    length: float64 (n,) mm (> 0); v_max: float64 (n,) cruise limit mm/s (> 0); accel:
    float64 (n,) mm/s² (> 0); dir_start, dir_end: float64 (n, 3) unit directions (rows of
    zeros: no direction, the move starts and ends at rest); scv: square corner velocity mm/s.
    Returns (time_s (n,), entry_v (n,), exit_v (n,)) with speeds in mm/s.
    """
    n = length.shape[0]
    ent2 = np.empty(n)
    for i in range(n):
        vm2 = v_max[i] * v_max[i]
        if i == 0:
            ent2[i] = 0.0
        else:
            j2 = junction_v2(
                dir_end[i - 1], dir_start[i], length[i - 1], length[i], accel[i - 1], accel[i], scv
            )
            ent2[i] = min(j2, vm2, v_max[i - 1] * v_max[i - 1])
    # backward: able to slow down to the next entry (and to rest at the end)
    nxt = 0.0
    for i in range(n - 1, -1, -1):
        reach = nxt + 2.0 * accel[i] * length[i]
        if ent2[i] > reach:
            ent2[i] = reach
        nxt = ent2[i]
    # forward: entry reachable from the previous entry
    for i in range(1, n):
        reach = ent2[i - 1] + 2.0 * accel[i - 1] * length[i - 1]
        if ent2[i] > reach:
            ent2[i] = reach
    times = np.empty(n)
    v_in = np.empty(n)
    v_out = np.empty(n)
    for i in range(n):
        a = accel[i]
        L = length[i]
        v02 = ent2[i]
        v12 = ent2[i + 1] if i + 1 < n else 0.0
        vp2 = min(v_max[i] * v_max[i], 0.5 * (2.0 * a * L + v02 + v12))
        if vp2 < v02:
            vp2 = v02
        if vp2 < v12:
            vp2 = v12
        v0 = math.sqrt(v02)
        v1 = math.sqrt(v12)
        vp = math.sqrt(vp2)
        d_acc = (vp2 - v02) / (2.0 * a)
        d_dec = (vp2 - v12) / (2.0 * a)
        d_cru = L - d_acc - d_dec
        if d_cru < 0.0:
            d_cru = 0.0
        t = (vp - v0) / a + (vp - v1) / a
        if vp > 0.0:
            t += d_cru / vp
        times[i] = t
        v_in[i] = v0
        v_out[i] = v1
    return times, v_in, v_out


@kernel(
    "f8[:], f8[:], f8[:], b1[:], f8[:, :], f8[:, :], f8[:], f8[:], f8[:], f8[:], f8, f8, f8",
    returns="Tuple((i8[:], f8[:], f8[:], f8[:], f8[:, :], f8[:, :]))",
)
def planner_rows(
    length: np.ndarray,
    e: np.ndarray,
    feed: np.ndarray,
    extrude: np.ndarray,
    dir_start: np.ndarray,
    dir_end: np.ndarray,
    radius: np.ndarray,
    accel_cmd: np.ndarray,
    max_feed: np.ndarray,
    max_accel: np.ndarray,
    print_accel: float,
    travel_accel: float,
    default_feed: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What ``plan_times`` needs for the moves that take time (see ``estimate.py``).

    Per move (n,): length (mm, XYZ; arcs by arc length), e (mm of filament), feed (mm/min, 0:
    never set), extrude (bool: deposits material), dir_start/dir_end (n, 3) unit tangents,
    radius (arcs, else 0), accel_cmd (mm/s² commanded, 0: none). Limits: max_feed, max_accel
    float64 (4,) for X, Y, Z, E (mm/s, mm/s²); print_accel, travel_accel (mm/s²); default_feed
    (mm/min) for moves before any F.

    Returns (index (m,), length (m,), v_max (m,), accel (m,), dir_start (m, 3), dir_end (m, 3))
    for the m moves with XYZ motion or E; E-only moves get their filament as length, E
    limits and no direction.
    """
    n = length.shape[0]
    m = 0
    for i in range(n):
        if length[i] > 0.0 or e[i] != 0.0:
            m += 1
    idx = np.empty(m, dtype=np.int64)
    out_len = np.empty(m)
    out_v = np.empty(m)
    out_acc = np.empty(m)
    d0 = np.zeros((m, 3))
    d1 = np.zeros((m, 3))
    k = 0
    for i in range(n):
        L = length[i]
        ei = e[i]
        if not (L > 0.0 or ei != 0.0):
            continue
        f = feed[i] if feed[i] > 0.0 else default_feed
        v = f / 60.0
        idx[k] = i
        if L > 0.0:
            acc = print_accel if extrude[i] else travel_accel
            if accel_cmd[i] > 0.0:
                acc = accel_cmd[i]
            for ax in range(3):
                u = max(abs(dir_start[i, ax]), abs(dir_end[i, ax]))
                if u > 0.0:
                    v = min(v, max_feed[ax] / u)
                    acc = min(acc, max_accel[ax] / u)
                d0[k, ax] = dir_start[i, ax]
                d1[k, ax] = dir_end[i, ax]
            share = abs(ei) / L  # E rides along
            if share > 0.0:
                v = min(v, max_feed[3] / share)
                acc = min(acc, max_accel[3] / share)
            if radius[i] > 0.0:
                v = min(v, math.sqrt(acc * radius[i]))
            out_len[k] = L
        else:
            out_len[k] = abs(ei)
            v = min(v, max_feed[3])
            acc = max_accel[3]
        out_v[k] = v
        out_acc[k] = acc
        k += 1
    return idx, out_len, out_v, out_acc, d0, d1
