"""Numba kernels: travels that stay inside an island (avoid crossing perimeters) and wipes.

Polygons arrive as rings: ``pts`` float64 (P, 2) mm, ring r is ``pts[start[r]:start[r+1]]``
without a repeated last point, ``box`` float64 (R, 4) its bounding box (xmin, ymin, xmax,
ymax). Outer rings run counter-clockwise and holes clockwise (``polygons.rings``), so the
region is on the left of every edge; inside tests use the even-odd rule over all rings.
"""

from __future__ import annotations

import numpy as np

from fabthread.kernels.jit import helper, kernel

#: ``plan_travels`` results per travel.
STRAIGHT = 0  # the straight line stays inside: no retraction
ROUTED = 1  # a route inside was found (via points): no retraction
BLOCKED = 2  # no route within the detour limit: travel straight and retract

#: How far (mm) a point snapped onto a route ring is moved into the region, so that it is
#: strictly inside and the ring crossings of the route's legs are well defined.
_NUDGE_MM = 1e-3


@helper
def _inside(px: float, py: float, pts: np.ndarray, start: np.ndarray, box: np.ndarray) -> bool:
    """Even-odd point in region over all rings."""
    c = False
    for r in range(start.shape[0] - 1):
        if py < box[r, 1] or py > box[r, 3] or px > box[r, 2]:
            continue  # a ray to +x cannot cross this ring
        a = start[r]
        b = start[r + 1]
        j = b - 1
        for i in range(a, b):
            yi = pts[i, 1]
            yj = pts[j, 1]
            if (yi > py) != (yj > py):
                x = pts[j, 0] + (py - yj) * (pts[i, 0] - pts[j, 0]) / (yi - yj)
                if px < x:
                    c = not c
            j = i
    return c


@helper
def _orient(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> float:
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)


@helper
def _seg_dist2(px: float, py: float, cx: float, cy: float, dx: float, dy: float) -> float:
    """Squared distance from point p to segment c-d."""
    fx = dx - cx
    fy = dy - cy
    ll = fx * fx + fy * fy
    u = 0.0
    if ll > 0.0:
        u = min(max(((px - cx) * fx + (py - cy) * fy) / ll, 0.0), 1.0)
    return (px - cx - u * fx) ** 2 + (py - cy - u * fy) ** 2


@helper
def _hits(
    ax: float,
    ay: float,
    bx: float,
    by: float,
    pts: np.ndarray,
    start: np.ndarray,
    box: np.ndarray,
    clearance: float,
) -> bool:
    """Whether segment a-b touches or crosses a ring edge, or comes closer than
    ``clearance`` to one."""
    x0 = min(ax, bx) - clearance
    x1 = max(ax, bx) + clearance
    y0 = min(ay, by) - clearance
    y1 = max(ay, by) + clearance
    c2 = clearance * clearance
    for r in range(start.shape[0] - 1):
        if x1 < box[r, 0] or x0 > box[r, 2] or y1 < box[r, 1] or y0 > box[r, 3]:
            continue
        a = start[r]
        b = start[r + 1]
        j = b - 1
        for i in range(a, b):
            cx = pts[j, 0]
            cy = pts[j, 1]
            dx = pts[i, 0]
            dy = pts[i, 1]
            j = i
            if (cx < x0 and dx < x0) or (cx > x1 and dx > x1):
                continue
            if (cy < y0 and dy < y0) or (cy > y1 and dy > y1):
                continue
            d1 = _orient(cx, cy, dx, dy, ax, ay)
            d2 = _orient(cx, cy, dx, dy, bx, by)
            d3 = _orient(ax, ay, bx, by, cx, cy)
            d4 = _orient(ax, ay, bx, by, dx, dy)
            apart = (d1 > 0 and d2 > 0) or (d1 < 0 and d2 < 0)
            apart = apart or (d3 > 0 and d4 > 0) or (d3 < 0 and d4 < 0)
            if not apart:
                return True
            if c2 > 0.0 and (
                _seg_dist2(ax, ay, cx, cy, dx, dy) < c2
                or _seg_dist2(bx, by, cx, cy, dx, dy) < c2
                or _seg_dist2(cx, cy, ax, ay, bx, by) < c2
                or _seg_dist2(dx, dy, ax, ay, bx, by) < c2
            ):
                return True
    return False


@helper
def _crossings(
    ax: float,
    ay: float,
    bx: float,
    by: float,
    pts: np.ndarray,
    start: np.ndarray,
    box: np.ndarray,
    out_t: np.ndarray,
    out_ring: np.ndarray,
    out_edge: np.ndarray,
    out_u: np.ndarray,
) -> int:
    """Proper crossings of segment a-b with ring edges, sorted by t along a-b (edge k runs
    from vertex k to vertex k+1 of its ring, u in [0, 1) along it). Returns the count, or -1
    when there are more than the buffers hold or a crossing is degenerate (parallel)."""
    x0 = min(ax, bx)
    x1 = max(ax, bx)
    y0 = min(ay, by)
    y1 = max(ay, by)
    ex = bx - ax
    ey = by - ay
    n = 0
    for r in range(start.shape[0] - 1):
        if x1 < box[r, 0] or x0 > box[r, 2] or y1 < box[r, 1] or y0 > box[r, 3]:
            continue
        a = start[r]
        b = start[r + 1]
        for k in range(a, b):
            i = k + 1 if k + 1 < b else a
            cx = pts[k, 0]
            cy = pts[k, 1]
            fx = pts[i, 0] - cx
            fy = pts[i, 1] - cy
            if (cx < x0 and cx + fx < x0) or (cx > x1 and cx + fx > x1):
                continue
            if (cy < y0 and cy + fy < y0) or (cy > y1 and cy + fy > y1):
                continue
            den = ex * fy - ey * fx
            t_num = (cx - ax) * fy - (cy - ay) * fx
            u_num = (cx - ax) * ey - (cy - ay) * ex
            if den == 0.0:
                if t_num == 0.0:
                    return -1  # collinear overlap: leave it to the caller to give up
                continue
            t = t_num / den
            u = u_num / den
            if t < 0.0 or t > 1.0 or u < 0.0 or u >= 1.0:
                continue
            if n >= out_t.shape[0]:
                return -1
            # insertion sort by t (a handful of crossings)
            p = n
            while p > 0 and out_t[p - 1] > t:
                out_t[p] = out_t[p - 1]
                out_ring[p] = out_ring[p - 1]
                out_edge[p] = out_edge[p - 1]
                out_u[p] = out_u[p - 1]
                p -= 1
            out_t[p] = t
            out_ring[p] = r
            out_edge[p] = k
            out_u[p] = u
            n += 1
    return n


@helper
def _snap_inside(
    px: float, py: float, pts: np.ndarray, start: np.ndarray
) -> tuple[float, float, bool]:
    """The point of the rings nearest to p, moved ``_NUDGE_MM`` to the left of its edge (into
    the region); False when there are no rings."""
    best = np.inf
    qx = 0.0
    qy = 0.0
    nx = 0.0
    ny = 0.0
    for r in range(start.shape[0] - 1):
        a = start[r]
        b = start[r + 1]
        for k in range(a, b):
            i = k + 1 if k + 1 < b else a
            cx = pts[k, 0]
            cy = pts[k, 1]
            fx = pts[i, 0] - cx
            fy = pts[i, 1] - cy
            ll = fx * fx + fy * fy
            if ll == 0.0:
                continue
            u = ((px - cx) * fx + (py - cy) * fy) / ll
            u = min(max(u, 0.0), 1.0)
            sx = cx + u * fx
            sy = cy + u * fy
            d = (px - sx) ** 2 + (py - sy) ** 2
            if d < best:
                best = d
                qx = sx
                qy = sy
                s = np.sqrt(ll)
                nx = -fy / s
                ny = fx / s
    if best == np.inf:
        return px, py, False
    return qx + _NUDGE_MM * nx, qy + _NUDGE_MM * ny, True


@helper
def _push(buf: np.ndarray, n: int, x: float, y: float) -> tuple[np.ndarray, int]:
    if n >= buf.shape[0]:
        bigger = np.empty((buf.shape[0] * 2, 2), dtype=np.float64)
        bigger[:n] = buf[:n]
        buf = bigger
    buf[n, 0] = x
    buf[n, 1] = y
    return buf, n + 1


@helper
def _loose(
    ax: float,
    ay: float,
    bx: float,
    by: float,
    skip_a: float,
    skip_b: float,
    pts: np.ndarray,
    start: np.ndarray,
    box: np.ndarray,
) -> bool:
    """Whether segment a-b, without its first ``skip_a`` and last ``skip_b`` mm, is inside
    the rings and touches none of their edges (a leg from or to a line printed on the
    outline, e.g. gap fill in a thin wall: leaving it may not keep any clearance)."""
    dx = bx - ax
    dy = by - ay
    length = np.sqrt(dx * dx + dy * dy)
    if length <= skip_a + skip_b:
        return _inside(ax + 0.5 * dx, ay + 0.5 * dy, pts, start, box)
    f0 = skip_a / length
    f1 = 1.0 - skip_b / length
    px = ax + f0 * dx
    py = ay + f0 * dy
    qx = ax + f1 * dx
    qy = ay + f1 * dy
    if not _inside(px, py, pts, start, box):
        return False
    return not _hits(px, py, qx, qy, pts, start, box, 0.0)


@helper
def _leg_ok(
    ax: float,
    ay: float,
    bx: float,
    by: float,
    loose_a: bool,
    loose_b: bool,
    pts: np.ndarray,
    start: np.ndarray,
    box: np.ndarray,
    clearance: float,
    skip: float,
) -> bool:
    if loose_a or loose_b:
        return _loose(
            ax, ay, bx, by, skip if loose_a else 0.0, skip if loose_b else 0.0, pts, start, box
        )
    return not _hits(ax, ay, bx, by, pts, start, box, clearance)


@kernel(
    "f8[:, :], f8[:, :], f8[:, :], i8[:], f8[:, :], f8, f8, f8[:, :], i8[:], f8[:, :], f8",
    returns="Tuple((i1[:], f8[:, :], i8[:]))",
)
def plan_travels(
    a: np.ndarray,
    b: np.ndarray,
    wall_pts: np.ndarray,
    wall_start: np.ndarray,
    wall_box: np.ndarray,
    clearance: float,
    skip: float,
    route_pts: np.ndarray,
    route_start: np.ndarray,
    route_box: np.ndarray,
    max_detour: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Travels a[k] -> b[k] (float64 (m, 2) mm) inside one island.

    ``wall``: rings of the island; a travel without retraction stays inside them and at least
    ``clearance`` (mm) away from them, so the nozzle stays off the visible surface. An end
    that is itself closer than that (the tip of gap fill in a thin wall) is "shallow": the
    leg from or to it only has to stay inside the wall beyond ``skip`` mm from it.
    ``route``: rings inside the wall that detours follow (e.g. a perimeter loop); the region
    is on the left of their edges (outer rings counter-clockwise, holes clockwise).

    A travel whose straight line passes those tests is STRAIGHT. Otherwise it is routed: its
    ends are joined to the route region (to the nearest point of a route ring when they are
    outside it), the line between is cut where it crosses the route rings, and each piece
    outside the route region is replaced by the shorter way along the ring it left and
    re-entered by. The polyline is then pulled tight (a vertex is dropped while the line past
    it keeps the clearance). The route is ROUTED when every leg passes and its length is at
    most ``max_detour`` times the straight line, else BLOCKED.

    Returns ``status`` int8 (m,), ``via`` float64 (K, 2) the inner vertices of the ROUTED
    travels (not a, not b) and ``via_start`` int64 (m + 1,): travel k's are
    ``via[via_start[k]:via_start[k+1]]`` (empty unless ROUTED).
    """
    m = a.shape[0]
    status = np.full(m, BLOCKED, dtype=np.int8)
    via_start = np.zeros(m + 1, dtype=np.int64)
    via = np.empty((max(16, 8 * m), 2), dtype=np.float64)
    nv = 0
    cap = 64
    c_t = np.empty(cap, dtype=np.float64)
    c_ring = np.empty(cap, dtype=np.int64)
    c_edge = np.empty(cap, dtype=np.int64)
    c_u = np.empty(cap, dtype=np.float64)
    n_route = route_start.shape[0] - 1
    ring_len = np.zeros(max(n_route, 1), dtype=np.float64)
    for r in range(n_route):
        s0 = route_start[r]
        s1 = route_start[r + 1]
        for k in range(s0, s1):
            i = k + 1 if k + 1 < s1 else s0
            ring_len[r] += np.sqrt(
                (route_pts[i, 0] - route_pts[k, 0]) ** 2 + (route_pts[i, 1] - route_pts[k, 1]) ** 2
            )
    path = np.empty((64, 2), dtype=np.float64)
    for t in range(m):
        via_start[t] = nv
        ax = a[t, 0]
        ay = a[t, 1]
        bx = b[t, 0]
        by = b[t, 1]
        deep_a = _inside(ax, ay, wall_pts, wall_start, wall_box) and not _hits(
            ax, ay, ax, ay, wall_pts, wall_start, wall_box, clearance
        )
        deep_b = _inside(bx, by, wall_pts, wall_start, wall_box) and not _hits(
            bx, by, bx, by, wall_pts, wall_start, wall_box, clearance
        )
        if _leg_ok(
            ax, ay, bx, by, not deep_a, not deep_b,
            wall_pts, wall_start, wall_box, clearance, skip,
        ):  # fmt: skip
            status[t] = STRAIGHT
            continue
        if n_route == 0:
            continue
        straight = np.sqrt((bx - ax) ** 2 + (by - ay) ** 2)
        # ends inside the route region (snapped onto its rings when they are not)
        sx = ax
        sy = ay
        if not _inside(ax, ay, route_pts, route_start, route_box):
            sx, sy, ok = _snap_inside(ax, ay, route_pts, route_start)
            if not ok or not _inside(sx, sy, route_pts, route_start, route_box):
                continue
        elif not deep_a:
            continue
        ex = bx
        ey = by
        if not _inside(bx, by, route_pts, route_start, route_box):
            ex, ey, ok = _snap_inside(bx, by, route_pts, route_start)
            if not ok or not _inside(ex, ey, route_pts, route_start, route_box):
                continue
        elif not deep_b:
            continue
        n = _crossings(sx, sy, ex, ey, route_pts, route_start, route_box, c_t, c_ring, c_edge, c_u)
        if n < 0 or n % 2 == 1:
            continue
        np_ = 0
        path, np_ = _push(path, np_, ax, ay)
        if sx != ax or sy != ay:
            path, np_ = _push(path, np_, sx, sy)
        ok = True
        for c in range(0, n, 2):
            r = c_ring[c]
            if c_ring[c + 1] != r:
                ok = False  # left through one ring, back through another: not connected
                break
            s0 = route_start[r]
            s1 = route_start[r + 1]
            cnt = s1 - s0
            e1 = c_edge[c]
            e2 = c_edge[c + 1]
            p1x = sx + c_t[c] * (ex - sx)
            p1y = sy + c_t[c] * (ey - sy)
            p2x = sx + c_t[c + 1] * (ex - sx)
            p2y = sy + c_t[c + 1] * (ey - sy)
            # forward: p1 -> vertex e1+1 -> ... -> vertex e2 -> p2 (indices within the ring)
            same_edge_ahead = e1 == e2 and c_u[c + 1] >= c_u[c]
            if same_edge_ahead:
                fwd = np.sqrt((p2x - p1x) ** 2 + (p2y - p1y) ** 2)
            else:
                k = e1 + 1 if e1 + 1 < s1 else s0
                fwd = np.sqrt((route_pts[k, 0] - p1x) ** 2 + (route_pts[k, 1] - p1y) ** 2)
                while k != e2:
                    q = k + 1 if k + 1 < s1 else s0
                    fwd += np.sqrt(
                        (route_pts[q, 0] - route_pts[k, 0]) ** 2
                        + (route_pts[q, 1] - route_pts[k, 1]) ** 2
                    )
                    k = q
                fwd += np.sqrt((p2x - route_pts[e2, 0]) ** 2 + (p2y - route_pts[e2, 1]) ** 2)
            path, np_ = _push(path, np_, p1x, p1y)
            if fwd <= ring_len[r] - fwd:
                if not same_edge_ahead:
                    k = e1 + 1 if e1 + 1 < s1 else s0
                    for _ in range(cnt):
                        path, np_ = _push(path, np_, route_pts[k, 0], route_pts[k, 1])
                        if k == e2:
                            break
                        k = k + 1 if k + 1 < s1 else s0
            elif not (e1 == e2 and c_u[c + 1] < c_u[c]):
                # backward: p1 -> vertex e1 -> e1-1 -> ... -> vertex e2+1 -> p2
                stop = e2 + 1 if e2 + 1 < s1 else s0
                k = e1
                for _ in range(cnt):
                    path, np_ = _push(path, np_, route_pts[k, 0], route_pts[k, 1])
                    if k == stop:
                        break
                    k = k - 1 if k > s0 else s1 - 1
            path, np_ = _push(path, np_, p2x, p2y)
        if not ok:
            continue
        if ex != bx or ey != by:
            path, np_ = _push(path, np_, ex, ey)
        path, np_ = _push(path, np_, bx, by)
        # a shallow end keeps its leg to the route region; the rest is pulled tight: from
        # each kept vertex, go as far along the polyline as keeps the clearance
        first = nv
        lo = 0 if deep_a else 1
        hi = np_ - 1 if deep_b else np_ - 2
        length = 0.0
        if lo == 1:
            ok = _leg_ok(
                ax, ay, path[1, 0], path[1, 1], True, False,
                wall_pts, wall_start, wall_box, clearance, skip,
            )  # fmt: skip
            length += np.sqrt((path[1, 0] - ax) ** 2 + (path[1, 1] - ay) ** 2)
            via, nv = _push(via, nv, path[1, 0], path[1, 1])
        anchor = lo
        j = lo + 1
        while ok and j <= hi:
            while j + 1 <= hi and not _hits(
                path[anchor, 0], path[anchor, 1], path[j + 1, 0], path[j + 1, 1],
                wall_pts, wall_start, wall_box, clearance,
            ):  # fmt: skip
                j += 1
            if _hits(
                path[anchor, 0], path[anchor, 1], path[j, 0], path[j, 1],
                wall_pts, wall_start, wall_box, clearance,
            ):  # fmt: skip
                ok = False
                break
            length += np.sqrt(
                (path[j, 0] - path[anchor, 0]) ** 2 + (path[j, 1] - path[anchor, 1]) ** 2
            )
            if j < np_ - 1:
                via, nv = _push(via, nv, path[j, 0], path[j, 1])
            anchor = j
            j += 1
        if ok and hi == np_ - 2:
            ok = _leg_ok(
                path[hi, 0], path[hi, 1], bx, by, False, True,
                wall_pts, wall_start, wall_box, clearance, skip,
            )  # fmt: skip
            length += np.sqrt((bx - path[hi, 0]) ** 2 + (by - path[hi, 1]) ** 2)
        if not ok or length > max_detour * straight:
            nv = first
            continue
        status[t] = ROUTED
    via_start[m] = nv
    return status, via[:nv].copy(), via_start


@kernel(
    "f8[:, :], u1[:], i8[:], b1[:], f8, f8, f8, b1",
    returns="Tuple((f8[:, :], i8[:], b1[:]))",
)
def add_wipes(
    xy: np.ndarray,
    kind: np.ndarray,
    path: np.ndarray,
    retract: np.ndarray,
    wipe_mm: float,
    x0: float,
    y0: float,
    at_end: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wipe moves before retracting travels: back along the path just printed.

    xy: float64 (n, 2) end points of a layer's moves (mm), starting from (x0, y0); kind:
    uint8 (n,) MoveKind (extrusions are 1..10); path: int64 (n,) the path of each move;
    retract: bool (n,). Before each retracting travel whose previous move is an extrusion,
    and after the last move when ``at_end``, the moves of that path are walked back from its
    end for ``wipe_mm`` (less when the path is shorter), each wipe row ending at a point of
    the path (the last one cut at the distance).

    Returns the new ``xy`` (N, 2), ``src`` int64 (N,) the input row each output row comes
    from (for a wipe row: the extrusion it wipes back from) and ``wipe`` bool (N,).
    """
    n = xy.shape[0]
    out = np.empty((n + 16, 2), dtype=np.float64)
    src = np.empty(n + 16, dtype=np.int64)
    wipe = np.zeros(n + 16, dtype=np.bool_)
    m = 0
    for i in range(n + 1):
        want = at_end if i == n else (retract[i] and kind[i] == 0)
        if want and i > 0 and 1 <= kind[i - 1] <= 10 and wipe_mm > 0.0:
            j = i - 1
            p = path[j]
            cx = xy[j, 0]
            cy = xy[j, 1]
            left = wipe_mm
            k = j
            while left > 0.0 and k >= 0 and 1 <= kind[k] <= 10 and path[k] == p:
                qx = xy[k - 1, 0] if k > 0 else x0
                qy = xy[k - 1, 1] if k > 0 else y0
                seg = np.sqrt((qx - cx) ** 2 + (qy - cy) ** 2)
                if seg > 0.0:
                    if m + 1 >= out.shape[0]:
                        size = 2 * out.shape[0]
                        o2 = np.empty((size, 2), dtype=np.float64)
                        o2[:m] = out[:m]
                        out = o2
                        s2 = np.empty(size, dtype=np.int64)
                        s2[:m] = src[:m]
                        src = s2
                        w2 = np.zeros(size, dtype=np.bool_)
                        w2[:m] = wipe[:m]
                        wipe = w2
                    if seg >= left:
                        f = left / seg
                        out[m, 0] = cx + (qx - cx) * f
                        out[m, 1] = cy + (qy - cy) * f
                        left = 0.0
                    else:
                        out[m, 0] = qx
                        out[m, 1] = qy
                        left -= seg
                    src[m] = j
                    wipe[m] = True
                    m += 1
                cx = qx
                cy = qy
                k -= 1
        if i == n:
            break
        if m + 1 >= out.shape[0]:
            size = 2 * out.shape[0]
            o2 = np.empty((size, 2), dtype=np.float64)
            o2[:m] = out[:m]
            out = o2
            s2 = np.empty(size, dtype=np.int64)
            s2[:m] = src[:m]
            src = s2
            w2 = np.zeros(size, dtype=np.bool_)
            w2[:m] = wipe[:m]
            wipe = w2
        out[m, 0] = xy[i, 0]
        out[m, 1] = xy[i, 1]
        src[m] = i
        wipe[m] = False
        m += 1
    return out[:m].copy(), src[:m].copy(), wipe[:m].copy()
