"""Numba kernels: walking along the rings of a region (µm), for rectilinear fill
(``slice.infill``): connectors that follow the boundary around corners and anchors of free
line ends.

The walks measure and locate as the shapely code they replace did, to the last bit:
``ring_table`` rolls and orients rings like ``polygons.rings`` (``normalize`` then
``orient_polygons``), walk lengths add ``np.hypot`` steps like ``np.cumsum``, and locating a
point or a distance on a ring follows GEOS's linear referencing (``line_locate_point``,
``line_interpolate_point``: segment lengths as sqrt(dx² + dy²), the first nearest segment).
"""

from __future__ import annotations

import math

import numpy as np

from fabthread.kernels.jit import helper, kernel


@kernel(
    "f8[:, :], i8[:], b1[:]",
    returns="Tuple((f8[:, :], i8[:], f8[:], f8[:], f8[:, :]))",
)
def ring_table(
    points: np.ndarray, ring_start: np.ndarray, is_hole: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rings to walk along, as ``polygons.rings`` gives them: each starts at its lowest vertex
    (least x, then least y; the first such), outlines run counter-clockwise and holes
    clockwise (GEOS ``normalize`` then ``orient_polygons``).

    points: float64 (P, 2) ring vertices (µm, no repeated last point); ring_start: int64
    (R + 1,); is_hole: bool (R,). Returns ``xy`` float64 (N, 2), the rings closed (first
    vertex repeated at the end) and concatenated; ``start`` int64 (R + 1,) into ``xy``;
    ``cum`` float64 (N,) distance along the ring from its first vertex in ``np.hypot`` steps
    (what the walks measure); ``cum_s`` (N,) the same in sqrt(dx² + dy²) steps (what GEOS's
    linear referencing measures); ``box`` float64 (R, 4) x0, y0, x1, y1 of each ring.
    """
    n_rings = ring_start.shape[0] - 1
    start = np.zeros(n_rings + 1, dtype=np.int64)
    for r in range(n_rings):
        n = ring_start[r + 1] - ring_start[r]
        start[r + 1] = start[r] + (n + 1 if n > 0 else 0)
    xy = np.empty((start[n_rings], 2), dtype=np.float64)
    cum = np.zeros(start[n_rings], dtype=np.float64)
    cum_s = np.zeros(start[n_rings], dtype=np.float64)
    box = np.empty((n_rings, 4), dtype=np.float64)
    for r in range(n_rings):
        r0 = ring_start[r]
        n = ring_start[r + 1] - r0
        box[r, 0] = np.inf
        box[r, 1] = np.inf
        box[r, 2] = -np.inf
        box[r, 3] = -np.inf
        if n == 0:
            continue
        low = r0
        for i in range(r0 + 1, r0 + n):
            if points[i, 0] < points[low, 0] or (
                points[i, 0] == points[low, 0] and points[i, 1] < points[low, 1]
            ):
                low = i
        # twice the signed area, about the lowest vertex (exact for whole micrometres)
        area2 = 0.0
        for t in range(n):
            i = r0 + t
            j = r0 + (t + 1) % n
            area2 += (points[i, 0] - points[low, 0]) * (points[j, 1] - points[low, 1]) - (
                points[j, 0] - points[low, 0]
            ) * (points[i, 1] - points[low, 1])
        backwards = (area2 > 0.0) == is_hole[r]
        o = start[r]
        for t in range(n + 1):
            step = (n - t) % n if backwards else t
            src = r0 + (low - r0 + step) % n
            xy[o + t, 0] = points[src, 0]
            xy[o + t, 1] = points[src, 1]
            box[r, 0] = min(box[r, 0], points[src, 0])
            box[r, 1] = min(box[r, 1], points[src, 1])
            box[r, 2] = max(box[r, 2], points[src, 0])
            box[r, 3] = max(box[r, 3], points[src, 1])
        for t in range(1, n + 1):
            dx = xy[o + t, 0] - xy[o + t - 1, 0]
            dy = xy[o + t, 1] - xy[o + t - 1, 1]
            cum[o + t] = cum[o + t - 1] + np.hypot(dx, dy)
            cum_s[o + t] = cum_s[o + t - 1] + math.sqrt(dx * dx + dy * dy)
    return xy, start, cum, cum_s, box


@helper
def _geos_point_segment(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    """Distance from p to segment a-b as GEOS computes it (``Distance::pointToSegment``)."""
    if ax == bx and ay == by:
        return math.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay))
    len2 = (bx - ax) * (bx - ax) + (by - ay) * (by - ay)
    r = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / len2
    if r <= 0.0:
        return math.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay))
    if r >= 1.0:
        return math.sqrt((px - bx) * (px - bx) + (py - by) * (py - by))
    s = ((ay - py) * (bx - ax) - (ax - px) * (by - ay)) / len2
    return abs(s) * math.sqrt(len2)


@helper
def _locate(
    xy: np.ndarray, start: np.ndarray, cum_s: np.ndarray, box: np.ndarray, px: float, py: float
) -> tuple[int, float]:
    """The ring nearest to (px, py) and the distance along it (µm) of the point nearest to
    (px, py), as shapely's ``line_locate_point`` measures it: on the first segment of least
    distance, by its projection clamped to the segment. Ties between rings go to the first
    ring. (-1, 0.0) when there is no ring."""
    best = np.inf
    best_ring = -1
    best_seg = -1
    # a ring or segment whose box is farther than ``best`` (by more than rounding) cannot
    # win nor tie: skip it without the exact distance
    reach2 = np.inf
    for r in range(start.shape[0] - 1):
        r0 = start[r]
        r1 = start[r + 1]
        if r1 - r0 < 2:
            continue
        gx = max(box[r, 0] - px, px - box[r, 2], 0.0)
        gy = max(box[r, 1] - py, py - box[r, 3], 0.0)
        if gx * gx + gy * gy > reach2:
            continue
        for i in range(r0, r1 - 1):
            ax = xy[i, 0]
            ay = xy[i, 1]
            bx = xy[i + 1, 0]
            by = xy[i + 1, 1]
            gx = max(min(ax, bx) - px, px - max(ax, bx), 0.0)
            gy = max(min(ay, by) - py, py - max(ay, by), 0.0)
            if gx * gx + gy * gy > reach2:
                continue
            d = _geos_point_segment(px, py, ax, ay, bx, by)
            if d < best:
                best = d
                best_ring = r
                best_seg = i
                reach = best + 1e-6 + 1e-9 * best
                reach2 = reach * reach
    if best_ring < 0:
        return -1, 0.0
    i = best_seg
    ax = xy[i, 0]
    ay = xy[i, 1]
    bx = xy[i + 1, 0]
    by = xy[i + 1, 1]
    seg_len = math.sqrt((ax - bx) * (ax - bx) + (ay - by) * (ay - by))
    if px == ax and py == ay:
        return best_ring, cum_s[i]
    if px == bx and py == by:
        return best_ring, cum_s[i] + seg_len
    len2 = (bx - ax) * (bx - ax) + (by - ay) * (by - ay)
    if len2 == 0.0:
        return best_ring, cum_s[i] + seg_len
    f = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / len2
    if f <= 0.0:
        return best_ring, cum_s[i]
    if f <= 1.0:
        return best_ring, cum_s[i] + f * seg_len
    return best_ring, cum_s[i] + seg_len


@helper
def _point_at(xy: np.ndarray, cum_s: np.ndarray, r0: int, r1: int, d: float) -> tuple[float, float]:
    """The point ``d`` µm along the closed ring xy[r0:r1], as shapely's
    ``line_interpolate_point`` finds it (on the first segment whose end lies beyond ``d``)."""
    if d <= 0.0:
        return xy[r0, 0], xy[r0, 1]
    lo = r0
    hi = r1 - 1
    while lo < hi:  # first i with cum_s[i + 1] > d
        mid = (lo + hi) // 2
        if cum_s[mid + 1] > d:
            hi = mid
        else:
            lo = mid + 1
    if lo >= r1 - 1:
        return xy[r1 - 1, 0], xy[r1 - 1, 1]
    ax = xy[lo, 0]
    ay = xy[lo, 1]
    bx = xy[lo + 1, 0]
    by = xy[lo + 1, 1]
    frac = (d - cum_s[lo]) / math.sqrt((bx - ax) * (bx - ax) + (by - ay) * (by - ay))
    if frac <= 0.0:
        return ax, ay
    if frac >= 1.0:
        return bx, by
    return (bx - ax) * frac + ax, (by - ay) * frac + ay


@helper
def _walk(
    xy: np.ndarray,
    cum: np.ndarray,
    r0: int,
    r1: int,
    at: float,
    length: float,
    out: np.ndarray,
    k: int,
    write: bool,
) -> int:
    """The vertices of the closed ring xy[r0:r1] strictly between ``at`` and ``at + length``
    µm along it (backwards when ``length`` < 0), in walking order (by the distance ahead,
    ``(cum - at) % total``): written to out[k:] when ``write``. Returns k plus their number."""
    n = r1 - 1 - r0
    total = cum[r1 - 1]
    lim = abs(length)
    fwd = length >= 0
    # visit the ring in walking order from ``at``: the distances ahead then ascend, so the
    # insertion sort below (by distance, as the argsort it replaces) has little to do
    first = -1
    if fwd:
        for j in range(n):
            if cum[r0 + j] - at >= 0:
                first = j
                break
        first = max(first, 0)
    else:
        for j in range(n - 1, -1, -1):
            if at - cum[r0 + j] >= 0:
                first = j
                break
        first = first % n
    keys = np.empty(n if write else 0, dtype=np.float64)
    m = 0
    for t in range(n):
        j = (first + t) % n if fwd else (first - t) % n
        key = ((cum[r0 + j] - at) if fwd else (at - cum[r0 + j])) % total
        if key > 0.0 and key < lim:
            if write:
                p = m
                while p > 0 and keys[p - 1] > key:
                    keys[p] = keys[p - 1]
                    out[k + p, 0] = out[k + p - 1, 0]
                    out[k + p, 1] = out[k + p - 1, 1]
                    p -= 1
                keys[p] = key
                out[k + p, 0] = xy[r0 + j, 0]
                out[k + p, 1] = xy[r0 + j, 1]
            m += 1
    return k + m


@kernel(
    "f8[:, :], i8[:], f8[:], f8[:], f8[:, :], f8[:, :], b1[:], f8",
    returns="Tuple((b1[:], i8[:], f8[:, :]))",
)
def boundary_paths(
    xy: np.ndarray,
    start: np.ndarray,
    cum: np.ndarray,
    cum_s: np.ndarray,
    box: np.ndarray,
    ends: np.ndarray,
    want: np.ndarray,
    max_um: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Connectors along the rings: for each pair ends[i] = (xa, ya, xb, yb) (float64 (K, 4)
    µm) with ``want[i]``, the way along the ring from a to b the shorter way round, when both
    lie on one ring (the nearest to each) and that way is at most ``max_um`` long.

    xy, start, cum, cum_s, box: from ``ring_table``. Returns ``found`` bool (K,) and CSR
    ``offsets`` int64 (K + 1,) into ``pts`` float64 (Q, 2): the ring vertices strictly
    between a and b in walking order (none for pairs not found).
    """
    n = ends.shape[0]
    found = np.zeros(n, dtype=np.bool_)
    offsets = np.zeros(n + 1, dtype=np.int64)
    ring = np.empty(n, dtype=np.int64)
    at = np.empty(n, dtype=np.float64)
    step = np.empty(n, dtype=np.float64)
    dummy = np.empty((0, 2), dtype=np.float64)
    for i in range(n):
        offsets[i + 1] = offsets[i]
        if not want[i]:
            continue
        ra, at_a = _locate(xy, start, cum_s, box, ends[i, 0], ends[i, 1])
        rb, at_b = _locate(xy, start, cum_s, box, ends[i, 2], ends[i, 3])
        if ra < 0 or rb != ra:
            continue
        total = cum[start[ra + 1] - 1]
        fwd = (at_b - at_a) % total
        if min(fwd, total - fwd) > max_um:
            continue
        found[i] = True
        ring[i] = ra
        at[i] = at_a
        step[i] = fwd if fwd <= total - fwd else fwd - total
        offsets[i + 1] = _walk(
            xy, cum, start[ra], start[ra + 1], at_a, step[i], dummy, offsets[i], False
        )
    pts = np.empty((offsets[n], 2), dtype=np.float64)
    for i in range(n):
        if found[i]:
            r = ring[i]
            _walk(xy, cum, start[r], start[r + 1], at[i], step[i], pts, offsets[i], True)
    return found, offsets, pts


@kernel(
    "f8[:, :], i8[:], f8[:], f8[:], f8[:, :], f8[:, :], i8[:], b1[:], b1[:], f8, f8, f8, f8",
    returns="Tuple((i8[:], f8[:, :], i8[:], f8[:, :]))",
)
def anchor_walks(
    xy: np.ndarray,
    start: np.ndarray,
    cum: np.ndarray,
    cum_s: np.ndarray,
    box: np.ndarray,
    inner: np.ndarray,
    order: np.ndarray,
    flipped: np.ndarray,
    ok: np.ndarray,
    c: float,
    s: float,
    max_um: float,
    keep_off_um: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Anchors for the free ends of the chains along the rings (PrusaSlicer's
    ``infill_anchor``).

    xy, start, cum, cum_s, box: from ``ring_table``; inner float64 (I, 4) pieces (rotated
    frame, µm), order, flipped from ``link_scanlines``, ok bool (M - 1,) whether position p is
    joined to p + 1; c, s: cos and sin of the fill angle. A chain's entry end (its first
    position's) and exit end (its last position's) are free. From a free end, along its ring,
    an anchor runs up to ``max_um`` and no closer than ``keep_off_um`` to the next line end on
    that ring, whichever way leaves more room (forward on a tie); none when that is shorter
    than ``keep_off_um``. Line ends within 1 µm along the ring are the end itself; only line
    ends within ``max_um + keep_off_um + 1`` (straight) of some free end count (along the ring
    is never shorter).

    Returns CSR per position (M + 1,) offsets into float64 (Q, 2) points, unrotated µm: the
    anchor at the entry end (``before_start``, ``before_pts``) and at the exit end
    (``after_start``, ``after_pts``), each its ring vertices walking away from the end, then
    its last point.
    """
    m = order.shape[0]
    n_in = inner.shape[0]
    is_start = np.zeros(m, dtype=np.bool_)
    is_stop = np.zeros(m, dtype=np.bool_)
    for p in range(m):
        is_start[p] = p == 0 or not ok[p - 1]
        is_stop[p] = p == m - 1 or not ok[p]
    # the free ends: every chain's entry end, then every exit end, unrotated
    n_free = 0
    for p in range(m):
        n_free += is_start[p] + is_stop[p]
    free = np.empty((n_free, 2), dtype=np.float64)
    free_pos = np.empty(n_free, dtype=np.int64)
    f = 0
    for entry in (True, False):
        for p in range(m):
            if is_start[p] if entry else is_stop[p]:
                i = order[p]
                left = flipped[p] != entry  # entry end: the left end unless flipped
                x = inner[i, 0] if left else inner[i, 2]
                y = inner[i, 1] if left else inner[i, 3]
                free[f, 0] = c * x - s * y
                free[f, 1] = s * x + c * y
                free_pos[f] = p
                f += 1
    n_starts = 0
    for p in range(m):
        n_starts += is_start[p]
    # every line end near a free end, located on the rings
    reach = max_um + keep_off_um + 1.0
    reach2 = reach * reach * (1.0 + 1e-9)
    end_ring = np.full(2 * n_in, -1, dtype=np.int64)
    end_at = np.zeros(2 * n_in, dtype=np.float64)
    for e in range(2 * n_in):
        i = e % n_in
        t = 0 if e < n_in else 2
        ex = c * inner[i, t] - s * inner[i, t + 1]
        ey = s * inner[i, t] + c * inner[i, t + 1]
        for f in range(n_free):
            dx = ex - free[f, 0]
            dy = ey - free[f, 1]
            if dx * dx + dy * dy > reach2:
                continue  # farther than reach, whatever the rounding of hypot
            if np.hypot(dx, dy) <= reach:
                r, at_e = _locate(xy, start, cum_s, box, ex, ey)
                end_ring[e] = r
                end_at[e] = at_e
                break
    ring = np.full(n_free, -1, dtype=np.int64)
    at = np.empty(n_free, dtype=np.float64)
    step = np.empty(n_free, dtype=np.float64)
    count = np.zeros(n_free, dtype=np.int64)
    dummy = np.empty((0, 2), dtype=np.float64)
    for f in range(n_free):
        r, at_f = _locate(xy, start, cum_s, box, free[f, 0], free[f, 1])
        if r < 0:
            continue
        total = cum[start[r + 1] - 1]
        near = np.inf
        far = -np.inf
        for e in range(2 * n_in):
            if end_ring[e] == r:
                ahead = (end_at[e] - at_f) % total
                if ahead > 1.0 and ahead < total - 1.0:  # not the end itself
                    near = min(near, ahead)
                    far = max(far, ahead)
        room_fwd = (near if near < np.inf else total) - keep_off_um
        room_back = (total - far if far > -np.inf else total) - keep_off_um
        length = min(max_um, max(room_fwd, room_back))
        if length < keep_off_um:
            continue
        ring[f] = r
        at[f] = at_f
        step[f] = length if room_fwd >= room_back else -length
        count[f] = _walk(xy, cum, start[r], start[r + 1], at_f, step[f], dummy, 0, False) + 1
    before_start = np.zeros(m + 1, dtype=np.int64)
    after_start = np.zeros(m + 1, dtype=np.int64)
    for f in range(n_free):
        if f < n_starts:
            before_start[free_pos[f] + 1] = count[f]
        else:
            after_start[free_pos[f] + 1] = count[f]
    for p in range(m):
        before_start[p + 1] += before_start[p]
        after_start[p + 1] += after_start[p]
    before_pts = np.empty((before_start[m], 2), dtype=np.float64)
    after_pts = np.empty((after_start[m], 2), dtype=np.float64)
    for f in range(n_free):
        r = ring[f]
        if r < 0:
            continue
        r0 = start[r]
        r1 = start[r + 1]
        out = before_pts if f < n_starts else after_pts
        k = before_start[free_pos[f]] if f < n_starts else after_start[free_pos[f]]
        k = _walk(xy, cum, r0, r1, at[f], step[f], out, k, True)
        x, y = _point_at(xy, cum_s, r0, r1, (at[f] + step[f]) % cum[r1 - 1])
        out[k, 0] = x
        out[k, 1] = y
    return before_start, before_pts, after_start, after_pts


# --- polylines -----------------------------------------------------------------------------
