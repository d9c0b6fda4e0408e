"""Numba helpers and kernels for polygon rings in whole units: orientation, crossings,
containment, writing WKB, and the two conversions around Clipper2's booleans (``clip``).

Shared by ``offset`` (its kernels compile these helpers in: ``jit.KERNEL_GROUPS`` keeps the
two modules' builds fresh together). Coordinates are whole micrometres held as float64, so
orientations and crossings of input or rounded points are exact.
"""

from __future__ import annotations

import math

import numpy as np

from fabthread.kernels.jit import helper, kernel


@helper
def orientation(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> int:
    """+1 when c lies left of a->b (counter-clockwise turn a, b, c), -1 right, 0 on the line."""
    det = (bx - ax) * (cy - by) - (by - ay) * (cx - bx)
    if det > 0.0:
        return 1
    if det < 0.0:
        return -1
    return 0


@helper
def dist(ax: float, ay: float, bx: float, by: float) -> float:
    """Distance of two points, computed as GEOS computes it."""
    dx = ax - bx
    dy = ay - by
    return math.sqrt(dx * dx + dy * dy)


@helper
def point_segment(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    """Distance of p from the segment a-b (GEOS's ``Distance::pointToSegment``)."""
    if ax == bx and ay == by:
        return dist(px, py, ax, ay)
    len2 = (bx - ax) * (bx - ax) + (by - ay) * (by - ay)
    r = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / len2
    if r <= 0.0:
        return dist(px, py, ax, ay)
    if r >= 1.0:
        return dist(px, py, bx, by)
    s = ((ay - py) * (bx - ax) - (ax - px) * (by - ay)) / len2
    return abs(s) * math.sqrt(len2)


@helper
def segments_cross(
    p1x: float, p1y: float, p2x: float, p2y: float,
    q1x: float, q1y: float, q2x: float, q2y: float,
) -> bool:  # fmt: skip
    """Whether the closed segments p1-p2 and q1-q2 have a point in common."""
    if max(p1x, p2x) < min(q1x, q2x) or max(q1x, q2x) < min(p1x, p2x):
        return False
    if max(p1y, p2y) < min(q1y, q2y) or max(q1y, q2y) < min(p1y, p2y):
        return False
    o1 = orientation(p1x, p1y, p2x, p2y, q1x, q1y)
    o2 = orientation(p1x, p1y, p2x, p2y, q2x, q2y)
    o3 = orientation(q1x, q1y, q2x, q2y, p1x, p1y)
    o4 = orientation(q1x, q1y, q2x, q2y, p2x, p2y)
    if o1 * o2 < 0 and o3 * o4 < 0:
        return True
    # touching or collinear: an end point on the other segment (boxes overlap already)
    if o1 == 0 and within_box(q1x, q1y, p1x, p1y, p2x, p2y):
        return True
    if o2 == 0 and within_box(q2x, q2y, p1x, p1y, p2x, p2y):
        return True
    if o3 == 0 and within_box(p1x, p1y, q1x, q1y, q2x, q2y):
        return True
    return o4 == 0 and within_box(p2x, p2y, q1x, q1y, q2x, q2y)


@helper
def within_box(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> bool:
    return min(ax, bx) <= px <= max(ax, bx) and min(ay, by) <= py <= max(ay, by)


@helper
def signed_area2(xy: np.ndarray, a: int, b: int) -> float:
    """Twice the signed area of the ring ``xy[a:b]`` (open), > 0 counter-clockwise."""
    s = 0.0
    for i in range(a, b):
        j = i + 1 if i + 1 < b else a
        s += xy[i, 0] * xy[j, 1] - xy[j, 0] * xy[i, 1]
    return s


@helper
def inside(px: float, py: float, xy: np.ndarray, a: int, b: int) -> bool:
    """Whether p lies inside the ring ``xy[a:b]`` (open; p is not on it)."""
    odd = False
    j = b - 1
    for i in range(a, b):
        yi, yj = xy[i, 1], xy[j, 1]
        if (yi > py) != (yj > py):
            x = xy[i, 0] + (py - yi) * (xy[j, 0] - xy[i, 0]) / (yj - yi)
            if x > px:
                odd = not odd
        j = i
    return odd


#: Grid cells per side per square root of the edge count (a cell holds a few edges).
_CELLS_PER_ROOT_EDGE = 1.0


@helper
def _cell(v: float, v0: float, per_unit: float, g: int) -> int:
    c = int((v - v0) * per_unit)
    return min(max(c, 0), g - 1)


@helper
def rings_apart(xy: np.ndarray, start: np.ndarray) -> bool:
    """Whether no two edges of the (open) rings ``xy[start[r]:start[r + 1]]`` meet, but
    neighbours in a ring at their shared vertex. The edges are binned by their boxes on a
    grid of about one cell per edge; each pair whose boxes overlap is tested once, in the
    cell holding the lower left corner of their boxes' overlap."""
    n_rings = start.shape[0] - 1
    e = start[n_rings]
    if e == 0:
        return True
    nxt = np.empty(e, dtype=np.int64)
    first = np.empty(e, dtype=np.int64)
    for r in range(n_rings):
        for i in range(start[r], start[r + 1]):
            nxt[i] = i + 1 if i + 1 < start[r + 1] else start[r]
            first[i] = start[r]
    lo = np.empty((e, 2))
    hi = np.empty((e, 2))
    for i in range(e):
        for k in range(2):
            lo[i, k] = min(xy[i, k], xy[nxt[i], k])
            hi[i, k] = max(xy[i, k], xy[nxt[i], k])
    x0, y0 = lo[:, 0].min(), lo[:, 1].min()
    g = max(1, int(math.sqrt(e) * _CELLS_PER_ROOT_EDGE))
    sx = 1.0 / max((hi[:, 0].max() - x0) / g, 1.0)  # cells per unit
    sy = 1.0 / max((hi[:, 1].max() - y0) / g, 1.0)
    span = np.empty((e, 4), dtype=np.int64)  # cell columns and rows of each edge's box
    count = np.zeros(g * g + 1, dtype=np.int64)
    for i in range(e):
        c0, c1 = _cell(lo[i, 0], x0, sx, g), _cell(hi[i, 0], x0, sx, g)
        r0, r1 = _cell(lo[i, 1], y0, sy, g), _cell(hi[i, 1], y0, sy, g)
        span[i, 0], span[i, 1], span[i, 2], span[i, 3] = c0, c1, r0, r1
        for cy in range(r0, r1 + 1):
            for cx in range(c0, c1 + 1):
                count[cy * g + cx + 1] += 1
    for c in range(g * g):
        count[c + 1] += count[c]
    fill = count[:-1].copy()
    items = np.empty(count[-1], dtype=np.int64)
    for i in range(e):
        for cy in range(span[i, 2], span[i, 3] + 1):
            for cx in range(span[i, 0], span[i, 1] + 1):
                items[fill[cy * g + cx]] = i
                fill[cy * g + cx] += 1
    for c in range(g * g):
        for a in range(count[c], count[c + 1]):
            i = items[a]
            for b in range(a + 1, count[c + 1]):
                j = items[b]
                if lo[i, 0] > hi[j, 0] or lo[j, 0] > hi[i, 0]:
                    continue
                if lo[i, 1] > hi[j, 1] or lo[j, 1] > hi[i, 1]:
                    continue
                cx = max(span[i, 0], span[j, 0])
                cy = max(span[i, 2], span[j, 2])
                if cy * g + cx != c:
                    continue  # tested in another cell
                if not _apart(xy, nxt, first, i, j):
                    return False
    return True


@helper
def _apart(xy: np.ndarray, nxt: np.ndarray, first: np.ndarray, i: int, j: int) -> bool:
    """Whether edges ``i`` and ``j`` (from each point to ``nxt``) do not meet, but
    neighbours at their shared vertex without folding back."""
    ax, ay = xy[i, 0], xy[i, 1]
    bx, by = xy[nxt[i], 0], xy[nxt[i], 1]
    cx, cy = xy[j, 0], xy[j, 1]
    ex, ey = xy[nxt[j], 0], xy[nxt[j], 1]
    if first[i] == first[j] and (nxt[i] == j or nxt[j] == i):
        if nxt[nxt[i]] == i:  # a two-edge ring
            return False
        # neighbours share a vertex; they may not fold back onto each other
        if nxt[i] == j:
            ux, uy, vx, vy = bx - ax, by - ay, ex - cx, ey - cy
        else:
            ux, uy, vx, vy = ex - cx, ey - cy, bx - ax, by - ay
        return not (ux * vy - uy * vx == 0.0 and ux * vx + uy * vy < 0.0)
    return not segments_cross(ax, ay, bx, by, cx, cy, ex, ey)


@helper
def put_u32(buf: np.ndarray, at: int, value: int) -> int:
    for i in range(4):
        buf[at + i] = (value >> (8 * i)) & 255
    return at + 4


@helper
def put_head(buf: np.ndarray, at: int, kind: int, count: int) -> int:
    buf[at] = 1  # little endian
    at = put_u32(buf, at + 1, kind)
    return put_u32(buf, at, count)


@helper
def polygons_wkb(
    xy: np.ndarray, starts: np.ndarray, hole: np.ndarray, seq: np.ndarray
) -> np.ndarray:
    """Little-endian WKB of the open rings ``xy[starts[r]:starts[r + 1]]`` taken in the order
    ``seq`` (each shell followed by its holes, ``hole`` per ring), every ring closed: a
    Polygon for one shell, a MultiPolygon otherwise (empty for none)."""
    n_polys = 0
    size = 0
    for r in seq:
        if not hole[r]:
            n_polys += 1
            size += 9
        size += 4 + 16 * (starts[r + 1] - starts[r] + 1)
    if n_polys != 1:
        size += 9
    out = np.empty(size, dtype=np.uint8)
    flat = np.empty(2 * (starts[-1] + starts.shape[0]))
    raw = flat.view(np.uint8)
    at = 0
    if n_polys != 1:
        at = put_head(out, 0, 6, n_polys)  # MultiPolygon
    w = 0
    for k in range(seq.shape[0]):
        r = seq[k]
        if not hole[r]:
            n_ring = 1
            while k + n_ring < seq.shape[0] and hole[seq[k + n_ring]]:
                n_ring += 1
            at = put_head(out, at, 3, n_ring)  # Polygon
        n = starts[r + 1] - starts[r]
        at = put_u32(out, at, n + 1)
        w0 = w
        for i in range(starts[r], starts[r + 1]):
            flat[2 * w] = xy[i, 0]
            flat[2 * w + 1] = xy[i, 1]
            w += 1
        flat[2 * w] = xy[starts[r], 0]
        flat[2 * w + 1] = xy[starts[r], 1]
        w += 1
        nb = 16 * (w - w0)
        out[at : at + nb] = raw[16 * w0 : 16 * w]
        at += nb
    return out


@helper
def split_closed(coords: np.ndarray, first: np.ndarray) -> int:
    """The closed rings of ``coords`` (one after the other, as ``shapely.get_coordinates``
    gives them): ring r's first point is ``coords[first[r]]``, its closing point
    ``coords[first[r + 1] - 1]``. ``first`` needs room for P // 4 + 2 entries (a ring has
    four coordinates at least). Returns the ring count, or -1 when a ring does not close
    or has fewer than three distinct points. A ring closes at the next point equal to its
    first: a valid ring passes its first point only there."""
    p = coords.shape[0]
    r = 0
    i = 0
    first[0] = 0
    while i < p:
        j = i + 1
        while j < p and not (coords[j, 0] == coords[i, 0] and coords[j, 1] == coords[i, 1]):
            j += 1
        if j == p or j - i < 3:
            return -1
        r += 1
        i = j + 1
        first[r] = i
    return r


#: ``ring_points`` and ``clipper_wkb`` statuses.
OK = 0
NOT_SIMPLE = 1  # rings that touch, nest deeper than holes, or do not close: the slow path


@kernel("f8[:, :]", returns="Tuple((i8, i8[:, :], i8[:]))")
def ring_points(coords: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """A region's rings as Clipper2 paths: ``coords`` float64 (P, 2) whole units as
    ``shapely.get_coordinates`` gives them (closed rings, WKB order). Returns (``OK``, int64
    (Q, 2) points without the closing points (truncated, like ``astype``), ring starts
    int64 (R + 1,)), or (``NOT_SIMPLE``, empty) for a ring that does not close."""
    p = coords.shape[0]
    first = np.empty(p // 4 + 2, dtype=np.int64)
    n = split_closed(coords, first)
    if n < 0:
        return NOT_SIMPLE, np.empty((0, 2), dtype=np.int64), np.zeros(1, dtype=np.int64)
    pts = np.empty((p - n, 2), dtype=np.int64)
    starts = np.zeros(n + 1, dtype=np.int64)
    q = 0
    for r in range(n):
        for k in range(first[r], first[r + 1] - 1):
            pts[q, 0] = np.int64(coords[k, 0])
            pts[q, 1] = np.int64(coords[k, 1])
            q += 1
        starts[r + 1] = q
    return OK, pts, starts


@kernel("i8[:, :], i8[:]", returns="Tuple((i8, u1[:]))")
def clipper_wkb(points: np.ndarray, starts: np.ndarray) -> tuple[int, np.ndarray]:
    """Clipper2's result paths as WKB where they are certainly a valid region.

    points int64 (Q, 2): the paths one after the other (``poly_tree_to_paths64`` of the
    PolyTree: each outer, positive area, followed by its holes, negative), starts int64
    (R + 1,). Returns (``OK``, WKB: one polygon per outer with its holes, in path order,
    the region ``clip.region`` builds from the tree) when no two edges meet (but ring
    neighbours), every hole lies in the outer before it and in none of its other holes, and
    no outer lies in another; otherwise (``NOT_SIMPLE``, empty), for the tree and GEOS's
    validity test to decide (rings touching at a point, an island in a hole, a sliver
    oriented the wrong way)."""
    n_rings = starts.shape[0] - 1
    none = np.empty(0, dtype=np.uint8)
    xy = np.empty((points.shape[0], 2))
    for i in range(points.shape[0]):
        xy[i, 0] = points[i, 0]
        xy[i, 1] = points[i, 1]
    hole = np.empty(n_rings, dtype=np.bool_)
    current = -1
    for r in range(n_rings):
        a, b = starts[r], starts[r + 1]
        if b - a < 3:
            return NOT_SIMPLE, none
        area2 = signed_area2(xy, a, b)
        if area2 == 0.0:
            return NOT_SIMPLE, none
        px, py = xy[a, 0], xy[a, 1]
        if area2 > 0.0:
            for s in range(r):
                if hole[s]:
                    continue
                qx, qy = xy[starts[s], 0], xy[starts[s], 1]
                if inside(px, py, xy, starts[s], starts[s + 1]) or inside(qx, qy, xy, a, b):
                    return NOT_SIMPLE, none
            hole[r] = False
            current = r
        else:
            if current < 0 or not inside(px, py, xy, starts[current], starts[current + 1]):
                return NOT_SIMPLE, none
            for h in range(current + 1, r):
                if inside(px, py, xy, starts[h], starts[h + 1]):
                    return NOT_SIMPLE, none
                qx, qy = xy[starts[h], 0], xy[starts[h], 1]
                if inside(qx, qy, xy, a, b):
                    return NOT_SIMPLE, none
            hole[r] = True
    if not rings_apart(xy, starts):
        return NOT_SIMPLE, none
    return OK, polygons_wkb(xy, starts, hole, np.arange(n_rings))


@helper
def repeated_points(xy: np.ndarray) -> np.ndarray:
    """Whether each point of ``xy`` (P, 2) has the same coordinates as another one."""
    p = xy.shape[0]
    order = np.argsort(xy[:, 1], kind="mergesort")
    order = order[np.argsort(xy[order, 0], kind="mergesort")]  # by x, then y
    dup = np.zeros(p, dtype=np.bool_)
    for k in range(1, p):
        i, j = order[k - 1], order[k]
        if xy[i, 0] == xy[j, 0] and xy[i, 1] == xy[j, 1]:
            dup[i] = True
            dup[j] = True
    return dup


@kernel("i8[:, :], i8[:], b1[:]", returns="Tuple((i8, u1[:]))")
def split_touching(
    points: np.ndarray, starts: np.ndarray, is_hole: np.ndarray
) -> tuple[int, np.ndarray]:
    """Clipper2's result rings with every ring that passes one of its points twice split
    there into simple rings, as WKB polygons that GEOS can call valid.

    points int64 (Q, 2) and starts int64 (R + 1,): the rings of the PolyTree one after the
    other (open); ``is_hole`` (R,): each ring's part in the tree. A ring touching itself is
    one GEOS rejects ("Ring Self-intersection") although the region is right: an outer
    with a loop of the other orientation is an outer around an inverted hole, one with two
    loops of its own orientation two outers meeting at a point (and likewise for a hole).
    After the split a loop keeps its ring's part when it turns the same way and takes the
    other part when it turns the other way (no area: a spike out and back, dropped); each
    hole goes to the smallest outer around one of its points that no other ring passes.
    Returns (``OK``, WKB: the outers in ring order, each followed by its holes) or
    (``NOT_SIMPLE``, empty) when a hole finds no outer or no outer is left; other faults
    (edges that cross or overlap) are left for GEOS's validity test to find."""
    none = np.empty(0, dtype=np.uint8)
    n_in = starts.shape[0] - 1
    p = points.shape[0]
    xy = np.empty((p, 2))
    for i in range(p):
        xy[i, 0] = points[i, 0]
        xy[i, 1] = points[i, 1]
    dup = repeated_points(xy)
    # split: walk each ring with a stack of point indices; meeting a point already on the
    # stack closes the loop from there (at most one ring per point)
    out_xy = np.empty((p, 2))
    out_start = np.zeros(p + 1, dtype=np.int64)
    out_dup = np.zeros(p, dtype=np.bool_)
    out_hole = np.zeros(p, dtype=np.bool_)
    stack = np.empty(p, dtype=np.int64)
    n_out = 0
    w = 0
    for r in range(n_in):
        turn = signed_area2(xy, starts[r], starts[r + 1]) > 0.0
        top = 0
        for i in range(starts[r], starts[r + 1] + 1):
            k = i if i < starts[r + 1] else starts[r]  # the ring's first point closes it
            at = -1
            if dup[k] or i == starts[r + 1]:
                for s in range(top - 1, -1, -1):
                    q = stack[s]
                    if xy[q, 0] == xy[k, 0] and xy[q, 1] == xy[k, 1]:
                        at = s
                        break
            if at < 0:
                stack[top] = k
                top += 1
                continue
            if top - at >= 3:  # the loop stack[at:top] (fewer points: a spike)
                w0 = w
                for s in range(at, top):
                    out_xy[w, 0] = xy[stack[s], 0]
                    out_xy[w, 1] = xy[stack[s], 1]
                    out_dup[w] = dup[stack[s]]
                    w += 1
                a2 = signed_area2(out_xy, w0, w)
                if a2 != 0.0:
                    out_hole[n_out] = is_hole[r] != ((a2 > 0.0) != turn)
                    n_out += 1
                    out_start[n_out] = w
                else:
                    w = w0
            top = at + 1
    starts2 = out_start[: n_out + 1]
    hole = out_hole[:n_out]
    size = np.empty(n_out)
    for r in range(n_out):
        size[r] = abs(signed_area2(out_xy, starts2[r], starts2[r + 1]))
    # each hole's outer: the smallest one around a point of the hole that is no other's
    owner = np.full(n_out, -1, dtype=np.int64)
    n_outer = 0
    for r in range(n_out):
        if not hole[r]:
            n_outer += 1
            continue
        t = -1
        for i in range(starts2[r], starts2[r + 1]):
            if not out_dup[i]:
                t = i
                break
        if t < 0:
            return NOT_SIMPLE, none
        best = -1
        for o in range(n_out):
            if not hole[o] and (best < 0 or size[o] < size[best]):
                if inside(out_xy[t, 0], out_xy[t, 1], out_xy, starts2[o], starts2[o + 1]):
                    best = o
        if best < 0:
            return NOT_SIMPLE, none
        owner[r] = best
    if n_outer == 0:
        return NOT_SIMPLE, none
    seq = np.empty(n_out, dtype=np.int64)
    m = 0
    for o in range(n_out):
        if not hole[o]:
            seq[m] = o
            m += 1
            for h in range(n_out):
                if owner[h] == o:
                    seq[m] = h
                    m += 1
    return OK, polygons_wkb(out_xy, starts2, hole, seq[:m])


@kernel("f8[:, :], f8", returns="Tuple((i8, f8[:, :], i8[:], f8[:, :]))")
def ring_boxes(coords: np.ndarray, scale: float) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """A region's rings for the travel kernels: ``coords`` as ``shapely.get_coordinates``
    gives them (closed rings), times ``scale``. Returns (``OK``, float64 (Q, 2) points
    without the closing points, ring starts int64 (R + 1,), each ring's box float64 (R, 4)
    xmin, ymin, xmax, ymax), or (``NOT_SIMPLE``, empty) for a ring that does not close."""
    p = coords.shape[0]
    first = np.empty(p // 4 + 2, dtype=np.int64)
    n = split_closed(coords, first)
    if n < 0:
        return NOT_SIMPLE, np.empty((0, 2)), np.zeros(1, dtype=np.int64), np.empty((0, 4))
    pts = np.empty((p - n, 2))
    starts = np.zeros(n + 1, dtype=np.int64)
    box = np.empty((n, 4))
    q = 0
    for r in range(n):
        x0 = y0 = math.inf
        x1 = y1 = -math.inf
        for k in range(first[r], first[r + 1] - 1):
            x, y = coords[k, 0] * scale, coords[k, 1] * scale
            pts[q, 0] = x
            pts[q, 1] = y
            x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
            q += 1
        box[r, 0], box[r, 1], box[r, 2], box[r, 3] = x0, y0, x1, y1
        starts[r + 1] = q
    return OK, pts, starts, box
