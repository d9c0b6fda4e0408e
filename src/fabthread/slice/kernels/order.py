"""Numba kernels: greedy nearest-neighbour ordering of paths, and paths -> moves."""

from __future__ import annotations

import numpy as np

from fabthread.kernels.jit import helper, kernel


@kernel(
    "f8[:, :], f8[:, :], b1[:], i8[:], b1[:], f8, f8",
    returns="Tuple((i8[:], b1[:]))",
)
def order_paths(
    starts: np.ndarray,
    ends: np.ndarray,
    reversible: np.ndarray,
    group: np.ndarray,
    fixed: np.ndarray,
    x0: float,
    y0: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy nearest-neighbour order of paths, group by group.

    starts, ends: float64 (n, 2) first and last point of each path; reversible: bool (n,)
    (a path that may be run end to start); group: int64 (n,) ascending: all paths of a group
    are done before the next group; fixed: bool (n,): a group whose first path is fixed keeps
    its index order (monotonic skins), only choosing the nearer end of reversible paths.
    (x0, y0): where the nozzle is. Ties go to the lower index.
    Returns ``order`` int64 (n,) path indices in print order and ``flipped`` bool (n,) per
    position in ``order``.
    """
    n = starts.shape[0]
    order = np.empty(n, dtype=np.int64)
    flipped = np.zeros(n, dtype=np.bool_)
    used = np.zeros(n, dtype=np.bool_)
    cx = x0
    cy = y0
    pos = 0
    g0 = 0
    while g0 < n:
        g1 = g0
        while g1 < n and group[g1] == group[g0]:
            g1 += 1
        if fixed[g0]:
            for i in range(g0, g1):
                flip = False
                if reversible[i]:
                    ds = (starts[i, 0] - cx) ** 2 + (starts[i, 1] - cy) ** 2
                    de = (ends[i, 0] - cx) ** 2 + (ends[i, 1] - cy) ** 2
                    flip = de < ds
                order[pos] = i
                flipped[pos] = flip
                pos += 1
                if flip:
                    cx = starts[i, 0]
                    cy = starts[i, 1]
                else:
                    cx = ends[i, 0]
                    cy = ends[i, 1]
            g0 = g1
            continue
        for _ in range(g0, g1):
            best = -1
            best_d = np.inf
            best_flip = False
            for i in range(g0, g1):
                if used[i]:
                    continue
                dx = starts[i, 0] - cx
                dy = starts[i, 1] - cy
                d = dx * dx + dy * dy
                if d < best_d:
                    best = i
                    best_d = d
                    best_flip = False
                if reversible[i]:
                    dx = ends[i, 0] - cx
                    dy = ends[i, 1] - cy
                    d = dx * dx + dy * dy
                    if d < best_d:
                        best = i
                        best_d = d
                        best_flip = True
            used[best] = True
            order[pos] = best
            flipped[pos] = best_flip
            pos += 1
            if best_flip:
                cx = starts[best, 0]
                cy = starts[best, 1]
            else:
                cx = ends[best, 0]
                cy = ends[best, 1]
        g0 = g1
    return order, flipped


@kernel(
    "f8[:, :], i8[:], i8[:], b1[:], u1[:], f8[:], f8[:], f8, f8, f8, f8, b1",
    returns="Tuple((f8[:, :], f8[:], u1[:], f8[:], b1[:], i8[:]))",
)
def build_moves(
    points: np.ndarray,
    path_start: np.ndarray,
    order: np.ndarray,
    flipped: np.ndarray,
    path_kind: np.ndarray,
    seg_mm3_per_mm: np.ndarray,
    path_feed: np.ndarray,
    x0: float,
    y0: float,
    travel_feed: float,
    retract_min_mm: float,
    force_first_travel: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Moves of one layer: for each path in ``order`` a travel to its first point, then one
    extrusion move per segment.

    points: float64 (P, 2) mm, path i is ``points[path_start[i]:path_start[i+1]]`` (a loop
    repeats its first point at the end); flipped: bool per position in ``order``;
    path_kind: uint8 and path_feed (mm/min): float64 per path; seg_mm3_per_mm: float64 (P,),
    entry k is the rate of the segment from point k to point k + 1 of the same path (the last
    point's entry is unused), so a path's line width may vary (gap fill).
    (x0, y0): nozzle position before the layer. A travel of zero length is skipped unless it is
    the first of the layer and ``force_first_travel`` (the layer change). Travels longer than
    ``retract_min_mm`` are marked retract. Returns xy float64 (n, 2), feed float64 (n,),
    kind uint8 (n,), extrude_mm3 float64 (n,), retract bool (n,) and path int64 (n,), the
    path each move belongs to (a travel belongs to the path it leads to).
    """
    n_max = 0
    for i in range(order.shape[0]):
        p = order[i]
        n_max += path_start[p + 1] - path_start[p]
    xy = np.empty((n_max, 2), dtype=np.float64)
    feed = np.empty(n_max, dtype=np.float64)
    kind = np.empty(n_max, dtype=np.uint8)
    mm3 = np.zeros(n_max, dtype=np.float64)
    retract = np.zeros(n_max, dtype=np.bool_)
    path = np.empty(n_max, dtype=np.int64)
    n = 0
    cx = x0
    cy = y0
    for i in range(order.shape[0]):
        p = order[i]
        a = path_start[p]
        b = path_start[p + 1]
        m = b - a
        if m < 2:
            continue
        for j in range(m):
            idx = b - 1 - j if flipped[i] else a + j
            px = points[idx, 0]
            py = points[idx, 1]
            dx = px - cx
            dy = py - cy
            d = np.sqrt(dx * dx + dy * dy)
            if j == 0:
                if d > 0.0 or (n == 0 and force_first_travel):
                    xy[n, 0] = px
                    xy[n, 1] = py
                    feed[n] = travel_feed
                    kind[n] = 0
                    retract[n] = d > retract_min_mm
                    path[n] = p
                    n += 1
            else:
                if d == 0.0:
                    continue
                xy[n, 0] = px
                xy[n, 1] = py
                feed[n] = path_feed[p]
                kind[n] = path_kind[p]
                seg = b - 1 - j if flipped[i] else a + j - 1
                mm3[n] = d * seg_mm3_per_mm[seg]
                path[n] = p
                n += 1
            cx = px
            cy = py
    return (
        xy[:n].copy(),
        feed[:n].copy(),
        kind[:n].copy(),
        mm3[:n].copy(),
        retract[:n].copy(),
        path[:n].copy(),
    )


@helper
def _gap(ax: float, ay: float, bx: float, by: float) -> float:
    return np.sqrt((ax - bx) ** 2 + (ay - by) ** 2)


@kernel(
    "f8[:, :], f8[:, :], b1[:], i8[:], b1[:], i8[:], b1[:], f8, f8, i8, i8",
    returns="Tuple((i8[:], b1[:]))",
)
def improve_order(
    starts: np.ndarray,
    ends: np.ndarray,
    reversible: np.ndarray,
    group: np.ndarray,
    fixed: np.ndarray,
    order: np.ndarray,
    flipped: np.ndarray,
    x0: float,
    y0: float,
    window: int,
    passes: int,
) -> tuple[np.ndarray, np.ndarray]:
    """2-opt on a path order: reverse runs of up to ``window`` consecutive paths of one group
    (running each path of the run the other way) when that shortens the travels, for up to
    ``passes`` sweeps. A run may hold reversible paths and closed loops (start == end, kept in
    their direction); other paths and fixed groups are never moved. Same arguments as
    ``order_paths`` plus its result; returns the improved ``order`` and ``flipped``.
    """
    n = order.shape[0]
    order = order.copy()
    flipped = flipped.copy()
    movable = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        p = order[i]
        closed = starts[p, 0] == ends[p, 0] and starts[p, 1] == ends[p, 1]
        movable[i] = (reversible[p] or closed) and not fixed[p]
    for _ in range(passes):
        changed = False
        for i in range(n):
            if not movable[i]:
                continue
            gi = group[order[i]]
            # exit point before position i
            if i == 0:
                px = x0
                py = y0
            else:
                q = order[i - 1]
                px = starts[q, 0] if flipped[i - 1] else ends[q, 0]
                py = starts[q, 1] if flipped[i - 1] else ends[q, 1]
            p = order[i]
            ix = ends[p, 0] if flipped[i] else starts[p, 0]
            iy = ends[p, 1] if flipped[i] else starts[p, 1]
            j_end = min(n, i + window)
            for j in range(i + 1, j_end):
                if not movable[j] or group[order[j]] != gi:
                    break
                r = order[j]
                # entry and exit of j before reversal
                jx_out = starts[r, 0] if flipped[j] else ends[r, 0]
                jy_out = starts[r, 1] if flipped[j] else ends[r, 1]
                before = _gap(px, py, ix, iy)
                after = _gap(px, py, jx_out, jy_out)
                if j + 1 < n:
                    s = order[j + 1]
                    nx = ends[s, 0] if flipped[j + 1] else starts[s, 0]
                    ny = ends[s, 1] if flipped[j + 1] else starts[s, 1]
                    before += _gap(jx_out, jy_out, nx, ny)
                    after += _gap(ix, iy, nx, ny)
                if after < before - 1e-9:
                    lo = i
                    hi = j
                    while lo < hi:
                        t = order[lo]
                        order[lo] = order[hi]
                        order[hi] = t
                        f = flipped[lo]
                        flipped[lo] = flipped[hi]
                        flipped[hi] = f
                        lo += 1
                        hi -= 1
                    for k in range(i, j + 1):
                        pk = order[k]
                        if reversible[pk]:
                            flipped[k] = not flipped[k]
                    changed = True
                    p = order[i]
                    ix = ends[p, 0] if flipped[i] else starts[p, 0]
                    iy = ends[p, 1] if flipped[i] else starts[p, 1]
        if not changed:
            break
    return order, flipped
