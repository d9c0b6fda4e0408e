"""Numba kernel: the mitre offset of a polygonal region (shells with holes) where the raw
offset curve is already the answer, which is most offsets a slice makes.

GEOS's buffer (``shapely.buffer``, mitre joins) builds a raw offset curve for every ring,
then nodes all curves and rebuilds polygons from the pieces. When the raw curves are simple,
cross no other curve and keep every edge's direction, that rebuild returns the curves
themselves: this kernel computes the raw curves the way GEOS does (its input simplification,
joins and vertex order), rounds them to whole units and checks exactly that, deferring to
GEOS for everything else (a curve that crosses itself or another, a turned edge, an inside
corner GEOS closes through the vertex, a hole swallowed or escaping its shell). Coordinates
are whole micrometres, so every check on the rounded curves is exact in float64.

The rules followed, from GEOS's documentation of its buffer (``BufferParameters``,
``OffsetCurveBuilder``) and tested against it on real layer sections
(``tests/geom/test_polygon_offset.py``):

- a ring is offset to the side away from the polygon for a grow and into it for a shrink;
- shallow inside corners are first dropped from the input (deviation below 1 % of the
  distance, ``BufferInputLineSimplifier``; never the first two vertices);
- an outside corner becomes the meeting point of the two moved edges (the mitre) unless the
  moved edges end almost at the same point (then that end point); a mitre reaching further
  than the limit is cut by a bevel across the corner's bisector at the limit (two points);
  an inside corner becomes the crossing of the two moved edge segments; exactly collinear
  vertices add nothing;
- a shell narrower than twice the distance (its bounding box) is dropped by a shrink, a hole
  likewise by a grow, a triangle when its inscribed circle is smaller than the distance;
- results come out with shells clockwise and holes counter-clockwise, each from the point
  made at its first vertex.
"""

from __future__ import annotations

import math

import numpy as np

from fabthread.geom.kernels.rings import (
    dist,
    inside,
    orientation,
    point_segment,
    polygons_wkb,
    rings_apart,
    segments_cross,
    signed_area2,
    split_closed,
)
from fabthread.kernels.jit import helper, kernel

#: ``polygon_offset`` status codes: OK, or why GEOS has to decide.
OK = 0
CORNER = 1  # an inside corner whose moved edges do not cross (GEOS closes it through the vertex)
TURNED = 2  # an edge turned round or vanished, a ring turned inside out or is degenerate
CROSSING = 3  # two edges of the curves meet
NESTING = 4  # a hole left its shell or entered another hole, a grown shell entered another

_LEFT = 1
_RIGHT = 2
#: GEOS's buffer constants (``BufferParameters``, ``OffsetSegmentGenerator``).
_SIMPLIFY_FACTOR = 0.01
_SEPARATION_FACTOR = 1.0e-3
_VERTEX_SNAP_FACTOR = 1.0e-6
_SAMPLES = 10


@helper
def _next_kept(keep: np.ndarray, i: int, n: int) -> int:
    j = i + 1
    while j < n and not keep[j]:
        j += 1
    return j


@helper
def _deletable(c: np.ndarray, i0: int, i1: int, i2: int, tol: float, turn: int) -> bool:
    """Whether vertex ``i1`` of the closed line ``c`` is a shallow inside corner between the
    kept vertices ``i0`` and ``i2``, as GEOS's input simplifier tests it (including its
    sampling of the vertices in between against the segment from ``i0`` to ``i1``)."""
    x0, y0 = c[i0, 0], c[i0, 1]
    x1, y1 = c[i1, 0], c[i1, 1]
    x2, y2 = c[i2, 0], c[i2, 1]
    if orientation(x0, y0, x1, y1, x2, y2) != turn:
        return False
    if not point_segment(x1, y1, x0, y0, x2, y2) < tol:
        return False
    inc = (i2 - i0) // _SAMPLES
    if inc <= 0:
        inc = 1
    for i in range(i0, i2, inc):
        if not point_segment(x1, y1, x0, y0, c[i, 0], c[i, 1]) < tol:
            return False
    return True


@helper
def _simplify(
    c: np.ndarray, m1: int, tol: float, turn: int, keep: np.ndarray, out: np.ndarray
) -> int:
    """The closed line ``c[:m1]`` without its shallow inside corners (``turn`` is the
    orientation of an inside corner), GEOS's ``BufferInputLineSimplifier``: the kept points
    go to ``out``, their count is returned (``keep`` is work space)."""
    keep[:m1] = True
    changed = True
    while changed:
        changed = False
        index = 1
        mid = _next_kept(keep, index, m1)
        last = _next_kept(keep, mid, m1)
        while last < m1:
            if _deletable(c, index, mid, last, tol, turn):
                keep[mid] = False
                changed = True
                index = last
            else:
                index = mid
            mid = _next_kept(keep, index, m1)
            last = _next_kept(keep, mid, m1)
    n = 0
    for i in range(m1):
        if keep[i]:
            out[n, 0] = c[i, 0]
            out[n, 1] = c[i, 1]
            n += 1
    return n


@helper
def _offset_point(ax: float, ay: float, bx: float, by: float, side: int, d: float) -> tuple:
    """The segment a-b moved by ``d`` to ``side``: (x0, y0, x1, y1)."""
    sign = 1.0 if side == _LEFT else -1.0
    dx = bx - ax
    dy = by - ay
    length = math.sqrt(dx * dx + dy * dy)
    ux = sign * d * dx / length
    uy = sign * d * dy / length
    return ax - uy, ay + ux, bx - uy, by + ux


@helper
def _line_meet(
    p1x: float, p1y: float, p2x: float, p2y: float,
    q1x: float, q1y: float, q2x: float, q2y: float,
) -> tuple:  # fmt: skip
    """Where the lines p1-p2 and q1-q2 meet (conditioned on the middle of their boxes), and
    whether they do (not parallel)."""
    midx = (min(max(p1x, p2x), max(q1x, q2x)) + max(min(p1x, p2x), min(q1x, q2x))) / 2.0
    midy = (min(max(p1y, p2y), max(q1y, q2y)) + max(min(p1y, p2y), min(q1y, q2y))) / 2.0
    ax, ay, bx, by = p1x - midx, p1y - midy, p2x - midx, p2y - midy
    cx, cy, ex, ey = q1x - midx, q1y - midy, q2x - midx, q2y - midy
    px = ay - by
    py = bx - ax
    pw = ax * by - bx * ay
    qx = cy - ey
    qy = ex - cx
    qw = cx * ey - ex * cy
    w = px * qy - qx * py
    if w == 0.0:
        return 0.0, 0.0, False
    x = (py * qw - qy * pw) / w
    y = (qx * pw - px * qw) / w
    if not (math.isfinite(x) and math.isfinite(y)):
        return 0.0, 0.0, False
    return x + midx, y + midy, True


@helper
def _ring_curve(
    c: np.ndarray, n1: int, side: int, d: float, mitre_limit: float, out: np.ndarray,
    src: np.ndarray,
) -> int:  # fmt: skip
    """GEOS's raw offset curve of the simplified closed line ``c[:n1]`` moved by ``d``
    to ``side``: a point per corner (two where a mitre is cut) into ``out`` (from the corner
    at ``c[0]``), the index in ``c`` of the corner that made it into ``src``. Returns the
    point count, or -1 where the raw curve is not a plain ring of moved edges (an inside
    corner whose moved edges do not cross, a reversal)."""
    n = n1 - 1
    count = 0
    min_gap = d * _VERTEX_SNAP_FACTOR
    s1x, s1y = c[n - 1, 0], c[n - 1, 1]
    s2x, s2y = c[0, 0], c[0, 1]
    b0x, b0y, b1x, b1y = _offset_point(s1x, s1y, s2x, s2y, side, d)
    at2 = 0  # index of s2 in c
    for i in range(1, n + 1):
        px, py = c[i, 0], c[i, 1]
        if px == s2x and py == s2y:
            continue
        s0x, s0y = s1x, s1y
        s1x, s1y = s2x, s2y
        s2x, s2y = px, py
        corner = at2
        at2 = i
        # the moved edge s0-s1 is the one computed for s1-s2 a step before
        a0x, a0y, a1x, a1y = b0x, b0y, b1x, b1y
        b0x, b0y, b1x, b1y = _offset_point(s1x, s1y, s2x, s2y, side, d)
        turn = orientation(s0x, s0y, s1x, s1y, s2x, s2y)
        if turn == 0:
            # collinear: nothing to add if the line goes on, a reversal GEOS caps
            if (s1x - s0x) * (s2x - s1x) + (s1y - s0y) * (s2y - s1y) < 0.0:
                return -1
            continue
        outside = (turn == -1 and side == _LEFT) or (turn == 1 and side == _RIGHT)
        near = dist(a1x, a1y, b0x, b0y) < d * _SEPARATION_FACTOR
        if outside and near:  # almost parallel: the end of the first moved edge
            qx, qy = a1x, a1y
        elif outside:
            qx, qy, ok = _line_meet(a0x, a0y, a1x, a1y, b0x, b0y, b1x, b1y)
            if not ok or dist(qx, qy, s1x, s1y) > mitre_limit * d:
                # GEOS cuts the mitre: two points, where the bevel meets the moved edges
                ux, uy, vx, vy = _cut_mitre(
                    s0x, s0y, s1x, s1y, s2x, s2y, a0x, a0y, a1x, a1y, b0x, b0y, b1x, b1y,
                    d, mitre_limit * d,
                )  # fmt: skip
                count = _add_point(out, src, count, ux, uy, corner, min_gap)
                count = _add_point(out, src, count, vx, vy, corner, min_gap)
                continue
        elif segments_cross(a0x, a0y, a1x, a1y, b0x, b0y, b1x, b1y):
            qx, qy, ok = _line_meet(a0x, a0y, a1x, a1y, b0x, b0y, b1x, b1y)
            if not ok:
                return -1
        elif near:
            qx, qy = a1x, a1y
        else:
            return -1  # GEOS closes the corner through the vertex
        count = _add_point(out, src, count, qx, qy, corner, min_gap)
    return count


@helper
def _add_point(
    out: np.ndarray, src: np.ndarray, count: int, x: float, y: float, corner: int,
    min_gap: float,
) -> int:  # fmt: skip
    """Append a curve point made at ``corner`` unless it repeats the last one (within
    ``min_gap``, as GEOS's offset curve drops it); the new count."""
    if count > 0 and dist(x, y, out[count - 1, 0], out[count - 1, 1]) < min_gap:
        return count
    out[count, 0] = x
    out[count, 1] = y
    src[count] = corner
    return count + 1


@helper
def _angle(ax: float, ay: float, bx: float, by: float) -> float:
    """Direction of a->b (radians), GEOS's ``Angle::angle``."""
    return math.atan2(by - ay, bx - ax)


@helper
def _normalize(angle: float) -> float:
    """``angle`` in (-pi, pi], GEOS's ``Angle::normalize``."""
    while angle > math.pi:
        angle -= 2.0 * math.pi
    while angle <= -math.pi:
        angle += 2.0 * math.pi
    return angle


@helper
def _cut_mitre(
    s0x: float, s0y: float, s1x: float, s1y: float, s2x: float, s2y: float,
    a0x: float, a0y: float, a1x: float, a1y: float,
    b0x: float, b0y: float, b1x: float, b1y: float,
    d: float, limit: float,
) -> tuple:  # fmt: skip
    """The two points of GEOS's mitre cut at ``limit`` from the corner s1 (between the edges
    s0-s1 and s1-s2 moved to a0-a1 and b0-b1 by ``d``): a bevel across the corner's outer
    bisector, ``limit`` from s1, meeting the moved edges extended (``addMitreJoin`` and
    ``addLimitedMitreJoin``); a plain bevel (a1, b0) where it does not meet them."""
    if point_segment(s1x, s1y, a1x, a1y, b0x, b0y) >= limit:
        return a1x, a1y, b0x, b0y
    # the oriented interior angle at s1, from s1->s0 to s1->s2
    ang = _angle(s1x, s1y, s2x, s2y) - _angle(s1x, s1y, s0x, s0y)
    if ang <= -math.pi:
        ang += 2.0 * math.pi
    elif ang > math.pi:
        ang -= 2.0 * math.pi
    bisector = _normalize(_angle(s1x, s1y, s0x, s0y) + ang / 2.0)
    out_dir = _normalize(bisector + math.pi)
    mx = s1x + limit * math.cos(out_dir)
    my = s1y + limit * math.sin(out_dir)
    bevel_dir = _normalize(out_dir + math.pi / 2.0)
    c0x = mx + d * math.cos(bevel_dir)
    c0y = my + d * math.sin(bevel_dir)
    c1x = mx + d * math.cos(bevel_dir + math.pi)
    c1y = my + d * math.sin(bevel_dir + math.pi)
    reach = 2.0 * max(limit, d)
    # a0-a1 extended beyond a1, b0-b1 before b0, by ``reach``
    la = dist(a0x, a0y, a1x, a1y)
    ex = a0x + (1.0 + reach / la) * (a1x - a0x)
    ey = a0y + (1.0 + reach / la) * (a1y - a0y)
    lb = dist(b0x, b0y, b1x, b1y)
    fx = b0x + (-reach / lb) * (b1x - b0x)
    fy = b0y + (-reach / lb) * (b1y - b0y)
    if not (
        segments_cross(c0x, c0y, c1x, c1y, a0x, a0y, ex, ey)
        and segments_cross(c0x, c0y, c1x, c1y, fx, fy, b1x, b1y)
    ):
        return a1x, a1y, b0x, b0y
    ux, uy, ok0 = _line_meet(c0x, c0y, c1x, c1y, a0x, a0y, ex, ey)
    vx, vy, ok1 = _line_meet(c0x, c0y, c1x, c1y, fx, fy, b1x, b1y)
    if not (ok0 and ok1):
        return a1x, a1y, b0x, b0y
    return ux, uy, vx, vy


@helper
def _eroded(xy: np.ndarray, a: int, b: int, d: float) -> bool:
    """Whether GEOS drops the ring ``xy[a:b]`` (open) unoffset, where the offset eats into
    it (a shell shrunk, a hole grown): fewer than three points, a triangle whose inscribed
    circle is smaller than ``d``, or a bounding box narrower than ``2 d``."""
    m = b - a
    if m < 3:
        return True
    if m == 3:
        ax, ay = xy[a, 0], xy[a, 1]
        bx, by = xy[a + 1, 0], xy[a + 1, 1]
        cx, cy = xy[a + 2, 0], xy[a + 2, 1]
        la = dist(bx, by, cx, cy)
        lb = dist(ax, ay, cx, cy)
        lc = dist(ax, ay, bx, by)
        per = la + lb + lc
        ix = (la * ax + lb * bx + lc * cx) / per
        iy = (la * ay + lb * by + lc * cy) / per
        return point_segment(ix, iy, ax, ay, bx, by) < d
    w = xy[a:b, 0].max() - xy[a:b, 0].min()
    h = xy[a:b, 1].max() - xy[a:b, 1].min()
    return 2.0 * d > min(w, h)


@helper
def _after(a: int, b: int, right: np.ndarray, x0: np.ndarray, y0: np.ndarray) -> bool:
    """Whether ring ``a`` sorts after ring ``b``: smaller largest x, or the same and a later
    first point."""
    if right[a] != right[b]:
        return right[a] < right[b]
    if x0[a] != x0[b]:
        return x0[a] > x0[b]
    return y0[a] > y0[b]


@helper
def _holes(coords: np.ndarray, multi: bool, start: np.ndarray, n: int, hole: np.ndarray) -> None:
    """Whether each of the ``n`` closed rings ``split_closed`` found is a hole, into
    ``hole``: in a Polygon every ring after the first; in a MultiPolygon a ring whose first
    point lies inside the last shell and outside that shell's holes (the polygons do not
    overlap)."""
    shell = 0
    hole[0] = False
    for r in range(1, n):
        is_hole = True
        if multi:
            x, y = coords[start[r], 0], coords[start[r], 1]
            is_hole = inside(x, y, coords, start[shell], start[shell] + _ring_len(start, shell))
            for h in range(shell + 1, r):
                if is_hole and inside(x, y, coords, start[h], start[h] + _ring_len(start, h)):
                    is_hole = False
        hole[r] = is_hole
        if not is_hole:
            shell = r


@helper
def _ring_len(start: np.ndarray, r: int) -> int:
    """Points of ring ``r`` without its closing point (rings sit closing point apart)."""
    return start[r + 1] - start[r] - 1


@kernel("f8[:, :], b1, f8, f8", returns="Tuple((i8, u1[:]))")
def polygon_offset(
    coords: np.ndarray, multi: bool, delta: float, mitre_limit: float
) -> tuple[int, np.ndarray]:
    """The mitre offset of a region, grown (``delta`` > 0) or shrunk (< 0) by ``|delta|``,
    rounded to whole units, where GEOS's buffer would return its raw offset curves.

    coords: float64 (P, 2) the region's whole-unit coordinates as
    ``shapely.get_coordinates`` gives them (closed rings, each polygon's shell followed by
    its holes); multi: whether the region is a MultiPolygon. Returns (``OK``, the result as
    little-endian WKB): shells clockwise and holes counter-clockwise, each starting from the
    point its first vertex moved to, in GEOS's order (an empty MultiPolygon when every ring
    was eroded away); or (a status naming why GEOS has to decide, empty; see the module doc).
    """
    none = np.empty(0, dtype=np.uint8)
    p = coords.shape[0]
    d = abs(delta)
    if d == 0.0 or p < 4:
        return TURNED, none
    ring_start = np.empty(p // 4 + 2, dtype=np.int64)
    n_rings = split_closed(coords, ring_start)
    if n_rings < 1:
        return TURNED, none
    is_hole = np.empty(n_rings, dtype=np.bool_)
    _holes(coords, multi, ring_start, n_rings, is_hole)
    tol = d * _SIMPLIFY_FACTOR
    grow = delta > 0.0
    # the open output rings, at most two points per input vertex (a cut mitre)
    out = np.empty((2 * p, 2))
    out_start = np.zeros(n_rings + 1, dtype=np.int64)
    out_hole = np.empty(n_rings, dtype=np.bool_)
    out_shell = np.empty(n_rings, dtype=np.int64)  # output ring of each ring's shell
    simp = np.empty((p, 2))
    keep = np.empty(p, dtype=np.bool_)
    buf = np.empty((2 * p, 2))
    src = np.empty(2 * p, dtype=np.int64)
    raw_right = np.empty(n_rings)
    raw_x0 = np.empty(n_rings)
    raw_y0 = np.empty(n_rings)
    k = 0  # output rings
    q = 0  # output points
    shell_kept = False
    shell_at = -1
    for r in range(n_rings):
        a = ring_start[r]
        m = _ring_len(ring_start, r)
        b = a + m
        hole = is_hole[r]
        if not hole:
            shell_kept = False
            if not grow and _eroded(coords, a, b, d):
                continue
            shell_kept = True
        else:
            if not shell_kept:
                continue
            if grow and _eroded(coords, a, b, d):
                continue
        if m < 3:
            return TURNED, none
        area2 = signed_area2(coords, a, b)
        if area2 == 0.0:
            return TURNED, none
        ccw = area2 > 0.0
        # the side away from the polygon (grow) or into it (shrink), as GEOS picks it
        side = _LEFT if grow else _RIGHT
        if hole:
            side = _RIGHT if side == _LEFT else _LEFT
        if ccw:
            side = _RIGHT if side == _LEFT else _LEFT
        # coords[a : a + m + 1] is the ring with its closing point
        n1 = _simplify(coords[a : a + m + 1], m + 1, tol, -1 if side == _RIGHT else 1, keep, simp)
        if n1 < 4:
            return TURNED, none
        count = _ring_curve(simp, n1, side, d, mitre_limit, buf, src)
        if count < 0:
            return CORNER, none
        if count < 3:
            return TURNED, none
        # GEOS orders its rings by their raw curves: the largest x, then the first point
        raw_right[k] = buf[:count, 0].max()
        raw_x0[k] = buf[0, 0]
        raw_y0[k] = buf[0, 1]
        # rounded, every edge still running the way its corners' edge ran
        for i in range(count):
            buf[i, 0] = np.rint(buf[i, 0])
            buf[i, 1] = np.rint(buf[i, 1])
        for i in range(count):
            j = i + 1 if i + 1 < count else 0
            ex = buf[j, 0] - buf[i, 0]
            ey = buf[j, 1] - buf[i, 1]
            if ex == 0.0 and ey == 0.0:
                return TURNED, none
            if src[j] == src[i]:
                continue  # across a cut mitre: not along an edge
            fx = simp[src[j], 0] - simp[src[i], 0]
            fy = simp[src[j], 1] - simp[src[i], 1]
            if ex * fx + ey * fy <= 0.0:
                return TURNED, none
        if (signed_area2(buf, 0, count) > 0.0) != ccw:
            return TURNED, none
        # GEOS's layout: shells clockwise, holes counter-clockwise, from the first point
        flip = ccw != hole
        for i in range(count):
            s = (count - i) % count if flip else i
            out[q + i, 0] = buf[s, 0]
            out[q + i, 1] = buf[s, 1]
        if not hole:
            shell_at = k
        out_hole[k] = hole
        out_shell[k] = shell_at
        q += count
        k += 1
        out_start[k] = q
    starts = out_start[: k + 1]
    if k > 0 and not rings_apart(out, starts):
        return CROSSING, none
    # every hole inside its own shell and no other hole of it; a grown shell in no other
    # polygon (a shrunk one stays inside its own, apart from the others)
    for r in range(k):
        px, py = out[starts[r], 0], out[starts[r], 1]
        if out_hole[r]:
            s = out_shell[r]
            if not inside(px, py, out, starts[s], starts[s + 1]):
                return NESTING, none
            for h in range(s + 1, k):
                if h != r and out_hole[h] and out_shell[h] == s:
                    if inside(px, py, out, starts[h], starts[h + 1]):
                        return NESTING, none
        elif grow:
            for s in range(k):
                if s == r or out_hole[s] or not inside(px, py, out, starts[s], starts[s + 1]):
                    continue
                in_hole = False
                for h in range(s + 1, k):
                    if out_hole[h] and out_shell[h] == s:
                        if inside(px, py, out, starts[h], starts[h + 1]):
                            in_hole = True
                if not in_hole:
                    return NESTING, none
    # GEOS's order: shells, and the holes of each shell, by their raw curves' largest x,
    # largest first, ties by the first point (GEOS sorts its rings so, stably when they are
    # few, and builds the polygons in that order)
    order = np.arange(k)
    for i in range(1, k):
        r = order[i]
        j = i - 1
        while j >= 0 and _after(order[j], r, raw_right, raw_x0, raw_y0):
            order[j + 1] = order[j]
            j -= 1
        order[j + 1] = r
    seq = np.empty(k, dtype=np.int64)
    n = 0
    for oi in range(k):
        s = order[oi]
        if out_hole[s]:
            continue
        for oj in range(oi, k):
            r = order[oj]
            if r == s or (out_hole[r] and out_shell[r] == s):
                seq[n] = r
                n += 1
    return OK, polygons_wkb(out, starts, out_hole[:k], seq)
