"""Numba kernels for centre lines (``geom.medial``): the Voronoi edges of a Delaunay
triangulation, where segments lie relative to polygon pieces, clipping to them, widths
from distances to their boundaries, axes of rectangles, and joining edges into polylines.

Pieces are given by their rings: ``xy`` float64 (V, 2) vertices of closed rings (last vertex
repeats the first), ``ring_start`` int64 (R + 1,) with ring r at
``xy[ring_start[r]:ring_start[r + 1]]``, and ``piece_ring`` int64 (P + 1,) with the rings of
piece p (outline and holes) at ``piece_ring[p]:piece_ring[p + 1]``. Queries name their piece
and only that piece's edges are looked at: gap pieces have a few to a few hundred edges.
"""

from __future__ import annotations

import numpy as np

from fabthread.kernels.jit import helper, kernel

OUTSIDE = 0  # some part of the segment is outside the piece
INSIDE = 1  # wholly inside, not meeting the boundary
CONTACT = 2  # meets the boundary without crossing it: left to an exact predicate


@helper
def _orient(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> float:
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)


@helper
def _boxes_meet(
    ax: float, ay: float, bx: float, by: float, cx: float, cy: float, dx: float, dy: float
) -> bool:
    """Whether the bounding boxes of segments ab and cd overlap (for collinear segments:
    whether they share a point)."""
    return (
        min(ax, bx) <= max(cx, dx)
        and min(cx, dx) <= max(ax, bx)
        and min(ay, by) <= max(cy, dy)
        and min(cy, dy) <= max(ay, by)
    )


@kernel("f8[:, :], i8[:], f8[:, :], i8[:], i8[:]", returns="i1[:]")
def segment_states(
    q: np.ndarray,
    q_piece: np.ndarray,
    xy: np.ndarray,
    ring_start: np.ndarray,
    piece_ring: np.ndarray,
) -> np.ndarray:
    """Where each query segment lies relative to its piece.

    q: float64 (Q, 4) ``x0, y0, x1, y1``; q_piece: int64 (Q,). Returns int8 (Q,): OUTSIDE if
    the segment properly crosses the piece's boundary or lies outside it, INSIDE if it lies
    inside without meeting the boundary, CONTACT if it touches the boundary (an end or a
    vertex on it, or collinear overlap) without properly crossing it.
    """
    n = q.shape[0]
    out = np.zeros(n, dtype=np.int8)
    for i in range(n):
        ax = q[i, 0]
        ay = q[i, 1]
        bx = q[i, 2]
        by = q[i, 3]
        mx = 0.5 * (ax + bx)
        my = 0.5 * (ay + by)
        p = q_piece[i]
        inside = False
        touch = False
        cross = False
        for r in range(piece_ring[p], piece_ring[p + 1]):
            for k in range(ring_start[r], ring_start[r + 1] - 1):
                cx = xy[k, 0]
                cy = xy[k, 1]
                dx = xy[k + 1, 0]
                dy = xy[k + 1, 1]
                # even-odd at the midpoint, ray towards +x; half-open in y: a vertex counts once
                if (cy > my) != (dy > my):
                    if mx < cx + (my - cy) * (dx - cx) / (dy - cy):
                        inside = not inside
                o1 = _orient(ax, ay, bx, by, cx, cy)
                o2 = _orient(ax, ay, bx, by, dx, dy)
                if (o1 > 0.0 and o2 > 0.0) or (o1 < 0.0 and o2 < 0.0):
                    continue
                o3 = _orient(cx, cy, dx, dy, ax, ay)
                o4 = _orient(cx, cy, dx, dy, bx, by)
                if (o3 > 0.0 and o4 > 0.0) or (o3 < 0.0 and o4 < 0.0):
                    continue
                if o1 != 0.0 and o2 != 0.0 and o3 != 0.0 and o4 != 0.0:
                    cross = True
                    break
                if o1 == 0.0 and o2 == 0.0:  # collinear: touching if the boxes overlap
                    touch = touch or _boxes_meet(ax, ay, bx, by, cx, cy, dx, dy)
                else:
                    touch = True
            if cross:
                break
        if cross:
            out[i] = OUTSIDE
        elif touch:
            out[i] = CONTACT
        elif inside:
            out[i] = INSIDE
        else:
            out[i] = OUTSIDE
    return out


@helper
def _insertion_sort(a: np.ndarray, n: int) -> None:
    """Sort ``a[:n]`` in place (a segment crosses few boundary edges)."""
    for i in range(1, n):
        v = a[i]
        j = i - 1
        while j >= 0 and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


@kernel("f8[:, :], i8[:], f8[:, :], i8[:], i8[:]", returns="Tuple((f8[:, :], i1[:]))")
def clip_longest(
    q: np.ndarray,
    q_piece: np.ndarray,
    xy: np.ndarray,
    ring_start: np.ndarray,
    piece_ring: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The longest part of each query segment inside its piece.

    q: float64 (Q, 4) ``x0, y0, x1, y1``; q_piece: int64 (Q,). Returns float64 (Q, 4), the
    part (same direction; the first of equally long parts), and int8 (Q,) status: 1 found,
    0 nothing inside, 2 the segment touches the boundary (a vertex or an end on it,
    collinear overlap), which is left to an exact overlay.
    """
    n = q.shape[0]
    out = np.zeros((n, 4), dtype=np.float64)
    status = np.zeros(n, dtype=np.int8)
    most = 0
    for p in range(piece_ring.shape[0] - 1):
        most = max(most, ring_start[piece_ring[p + 1]] - ring_start[piece_ring[p]])
    ts = np.empty(most + 1, dtype=np.float64)
    for i in range(n):
        ax = q[i, 0]
        ay = q[i, 1]
        bx = q[i, 2]
        by = q[i, 3]
        p = q_piece[i]
        inside_a = False
        degenerate = False
        nt = 0
        for r in range(piece_ring[p], piece_ring[p + 1]):
            for k in range(ring_start[r], ring_start[r + 1] - 1):
                cx = xy[k, 0]
                cy = xy[k, 1]
                dx = xy[k + 1, 0]
                dy = xy[k + 1, 1]
                if (cy > ay) != (dy > ay):  # even-odd at a, ray towards +x
                    if ax < cx + (ay - cy) * (dx - cx) / (dy - cy):
                        inside_a = not inside_a
                o1 = _orient(ax, ay, bx, by, cx, cy)
                o2 = _orient(ax, ay, bx, by, dx, dy)
                if (o1 > 0.0 and o2 > 0.0) or (o1 < 0.0 and o2 < 0.0):
                    continue
                o3 = _orient(cx, cy, dx, dy, ax, ay)
                o4 = _orient(cx, cy, dx, dy, bx, by)
                if (o3 > 0.0 and o4 > 0.0) or (o3 < 0.0 and o4 < 0.0):
                    continue
                if o1 == 0.0 and o2 == 0.0 and not _boxes_meet(ax, ay, bx, by, cx, cy, dx, dy):
                    continue  # collinear but apart
                if o1 == 0.0 or o2 == 0.0 or o3 == 0.0 or o4 == 0.0:
                    degenerate = True
                    break
                ts[nt] = o3 / (o3 - o4)  # where ab crosses the line through cd
                nt += 1
            if degenerate:
                break
        if degenerate:
            status[i] = 2
            continue
        _insertion_sort(ts, nt)
        best = 0.0
        lo = 0.0
        inside = inside_a
        for j in range(nt + 1):
            hi = ts[j] if j < nt else 1.0
            if inside and hi - lo > best:
                best = hi - lo
                out[i, 0] = ax + lo * (bx - ax)
                out[i, 1] = ay + lo * (by - ay)
                out[i, 2] = ax + hi * (bx - ax)
                out[i, 3] = ay + hi * (by - ay)
            inside = not inside
            lo = hi
        status[i] = 1 if best > 0.0 and (ax != bx or ay != by) else 0
    return out, status


@helper
def _distance(
    px: float, py: float, p: int, xy: np.ndarray, ring_start: np.ndarray, piece_ring: np.ndarray
) -> float:
    """Distance from (px, py) to the boundary of piece p."""
    best = np.inf  # squared
    for r in range(piece_ring[p], piece_ring[p + 1]):
        for k in range(ring_start[r], ring_start[r + 1] - 1):
            cx = xy[k, 0]
            cy = xy[k, 1]
            ux = xy[k + 1, 0] - cx
            uy = xy[k + 1, 1] - cy
            wx = px - cx
            wy = py - cy
            uu = ux * ux + uy * uy
            t = 0.0
            if uu > 0.0:
                t = (wx * ux + wy * uy) / uu
                if t < 0.0:
                    t = 0.0
                elif t > 1.0:
                    t = 1.0
            ex = wx - t * ux
            ey = wy - t * uy
            d = ex * ex + ey * ey
            if d < best:
                best = d
    return np.sqrt(best)


@kernel("f8[:, :], i8[:], i8[:], f8[:, :], i8[:], i8[:]", returns="Tuple((f8[:], f8[:]))")
def line_widths(
    pts: np.ndarray,
    line_start: np.ndarray,
    line_piece: np.ndarray,
    xy: np.ndarray,
    ring_start: np.ndarray,
    piece_ring: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Width of every segment of polylines inside pieces: twice the distance from its
    midpoint to the piece's boundary, but at least 1 µm; and ∫ width dl of every polyline.

    pts: float64 (N, 2) the polylines' points one after the other; line_start: int64 (L + 1,)
    offsets; line_piece: int64 (L,). Returns float64 (N - L,) widths, line by line, and
    float64 (L,) weights (µm²).
    """
    n_lines = line_start.shape[0] - 1
    width = np.empty(pts.shape[0] - n_lines, dtype=np.float64)
    weight = np.zeros(n_lines, dtype=np.float64)
    j = 0
    for ln in range(n_lines):
        p = line_piece[ln]
        for i in range(line_start[ln], line_start[ln + 1] - 1):
            mx = 0.5 * (pts[i, 0] + pts[i + 1, 0])
            my = 0.5 * (pts[i, 1] + pts[i + 1, 1])
            w = max(2.0 * _distance(mx, my, p, xy, ring_start, piece_ring), 1.0)
            width[j] = w
            weight[ln] += np.hypot(pts[i + 1, 0] - pts[i, 0], pts[i + 1, 1] - pts[i, 1]) * w
            j += 1
    return width, weight


@kernel("f8[:, :, :]", returns="f8[:, :]")
def rect_axes(rect: np.ndarray) -> np.ndarray:
    """The long axis of each rectangle, shortened at both ends by half the short side (so
    that it ends inside a piece the rectangle bounds), but never below 1 µm.

    rect: float64 (n, 4, 2) corners in order around. Returns float64 (n, 4) ``x0, y0, x1, y1``
    from the middle of one short side towards the middle of the other.
    """
    n = rect.shape[0]
    out = np.empty((n, 4), dtype=np.float64)
    for i in range(n):
        # middles of sides 0-1 and 2-3, and of sides 1-2 and 3-0
        e1ax = 0.5 * (rect[i, 0, 0] + rect[i, 1, 0])
        e1ay = 0.5 * (rect[i, 0, 1] + rect[i, 1, 1])
        e1bx = 0.5 * (rect[i, 2, 0] + rect[i, 3, 0])
        e1by = 0.5 * (rect[i, 2, 1] + rect[i, 3, 1])
        e2ax = 0.5 * (rect[i, 1, 0] + rect[i, 2, 0])
        e2ay = 0.5 * (rect[i, 1, 1] + rect[i, 2, 1])
        e2bx = 0.5 * (rect[i, 3, 0] + rect[i, 0, 0])
        e2by = 0.5 * (rect[i, 3, 1] + rect[i, 0, 1])
        d1 = np.hypot(e1bx - e1ax, e1by - e1ay)
        d2 = np.hypot(e2bx - e2ax, e2by - e2ay)
        if d1 >= d2:
            ax, ay, bx, by, short = e1ax, e1ay, e1bx, e1by, d2
        else:
            ax, ay, bx, by, short = e2ax, e2ay, e2bx, e2by, d1
        vx = bx - ax
        vy = by - ay
        length = max(np.hypot(vx, vy), 1e-9)
        cut = min(short / 2.0, length / 2.0 - 0.5)
        sx = vx / length * cut
        sy = vy / length * cut
        out[i, 0] = ax + sx
        out[i, 1] = ay + sy
        out[i, 2] = bx - sx
        out[i, 3] = by - sy
    return out


@helper
def _root(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@helper
def merge_labels(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Classes of the items 0..n-1 joined by the pairs (a[k], b[k]) (union-find).

    a, b: int64 (K,). Returns int64 (n,): the smallest item of each item's class.
    """
    parent = np.arange(n)
    for k in range(a.shape[0]):
        ra = _root(parent, a[k])
        rb = _root(parent, b[k])
        if ra < rb:
            parent[rb] = ra
        elif rb < ra:
            parent[ra] = rb
    for i in range(n):
        parent[i] = _root(parent, i)
    return parent


@kernel("f8[:, :], i8[:, :], i8[:], f8", returns="Tuple((f8[:, :], i8[:], i8[:], i8[:]))")
def voronoi_edges(
    pts: np.ndarray, tri: np.ndarray, pt_piece: np.ndarray, same_um: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The finite Voronoi edges of a Delaunay triangulation, between samples of one piece.

    pts: float64 (N, 2) samples; tri: int64 (T, 3) triangles; pt_piece: int64 (N,) the
    piece of each sample. The Voronoi edge dual to a Delaunay edge shared by two triangles
    joins their circumcentres; only edges whose two samples are of one piece are kept (no
    other can lie inside a piece). Circumcentres closer than ``same_um`` (cocircular
    samples) are merged into one vertex, the one of the lowest triangle, so that lines stay
    connected through it. Returns float64 (T, 2) circumcentres (nan for a degenerate
    triangle), and int64 (E,) each edge's two vertices (triangle indices, never equal, never
    nan) and piece.
    """
    n_tri = tri.shape[0]
    centre = np.empty((n_tri, 2), dtype=np.float64)
    for t in range(n_tri):
        ax = pts[tri[t, 0], 0]
        ay = pts[tri[t, 0], 1]
        bx = pts[tri[t, 1], 0] - ax
        by = pts[tri[t, 1], 1] - ay
        cx = pts[tri[t, 2], 0] - ax
        cy = pts[tri[t, 2], 1] - ay
        d = 2.0 * (bx * cy - by * cx)
        if d == 0.0:
            centre[t, 0] = np.nan
            centre[t, 1] = np.nan
            continue
        bb = bx * bx + by * by
        cc = cx * cx + cy * cy
        # relative to the first vertex, which keeps the digits that matter
        centre[t, 0] = ax + (cy * bb - by * cc) / d
        centre[t, 1] = ay + (bx * cc - cx * bb) / d
    n_pts = pts.shape[0]
    key = np.empty(3 * n_tri, dtype=np.int64)
    for t in range(n_tri):
        for k in range(3):
            a = tri[t, k]
            b = tri[t, (k + 1) % 3]
            key[3 * t + k] = min(a, b) * n_pts + max(a, b)
    order = np.argsort(key)  # the two triangles of an inner edge side by side
    t1 = np.empty(3 * n_tri // 2 + 1, dtype=np.int64)
    t2 = np.empty_like(t1)
    piece = np.empty_like(t1)
    ta = np.empty_like(t1)  # pairs of triangles with one circumcentre
    tb = np.empty_like(t1)
    n = 0
    n_same = 0
    for i in range(3 * n_tri - 1):
        if key[order[i]] != key[order[i + 1]]:
            continue
        lo = key[order[i]] // n_pts
        hi = key[order[i]] % n_pts
        if pt_piece[lo] != pt_piece[hi]:
            continue
        u = order[i] // 3
        v = order[i + 1] // 3
        if np.hypot(centre[u, 0] - centre[v, 0], centre[u, 1] - centre[v, 1]) <= same_um:
            ta[n_same] = u
            tb[n_same] = v
            n_same += 1
        else:
            t1[n] = u
            t2[n] = v
            piece[n] = pt_piece[lo]
            n += 1
    label = merge_labels(n_tri, ta[:n_same], tb[:n_same])
    m = 0
    for i in range(n):
        u = label[t1[i]]
        v = label[t2[i]]
        if u == v or np.isnan(centre[u, 0]) or np.isnan(centre[v, 0]):
            continue
        t1[m] = u
        t2[m] = v
        piece[m] = piece[i]
        m += 1
    return centre, t1[:m], t2[:m], piece[:m]


@kernel("i8, i8[:], i8[:]", returns="Tuple((i8[:], i8[:]))")
def chain_edges(n_nodes: int, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Join edges into polylines that end where the graph branches or stops (nodes of
    degree other than 2), like GEOS ``line_merge``; a cycle comes back to its first node.

    a, b: int64 (E,) end nodes of each edge, in 0..n_nodes-1, a != b. Returns int64 (L,) the
    nodes of every polyline one after the other, and int64 (K + 1,) offsets; polylines come
    in the order of their first edge in the input, and every edge is used once.
    """
    n_edges = a.shape[0]
    deg = np.zeros(n_nodes + 1, dtype=np.int64)
    for k in range(n_edges):
        deg[a[k] + 1] += 1
        deg[b[k] + 1] += 1
    start = np.cumsum(deg)  # edges at node v: inc[start[v]:start[v + 1]]
    fill = start[:-1].copy()
    inc = np.empty(2 * n_edges, dtype=np.int64)
    for k in range(n_edges):
        inc[fill[a[k]]] = k
        fill[a[k]] += 1
        inc[fill[b[k]]] = k
        fill[b[k]] += 1
    used = np.zeros(n_edges, dtype=np.bool_)
    nodes = np.empty(2 * n_edges, dtype=np.int64)
    offsets = np.zeros(n_edges + 1, dtype=np.int64)
    back = np.empty(n_edges + 1, dtype=np.int64)
    n_out = 0
    n_lines = 0
    for k in range(n_edges):
        if used[k]:
            continue
        used[k] = True
        # backwards from a[k] while the path runs through nodes of degree 2
        nb = 0
        v = a[k]
        while start[v + 1] - start[v] == 2:
            e = inc[start[v]]
            if used[e]:
                e = inc[start[v] + 1]
            if used[e]:
                break
            used[e] = True
            v = b[e] if a[e] == v else a[e]
            back[nb] = v
            nb += 1
        for j in range(nb - 1, -1, -1):
            nodes[n_out] = back[j]
            n_out += 1
        nodes[n_out] = a[k]
        nodes[n_out + 1] = b[k]
        n_out += 2
        # then forwards from b[k]
        v = b[k]
        while start[v + 1] - start[v] == 2:
            e = inc[start[v]]
            if used[e]:
                e = inc[start[v] + 1]
            if used[e]:
                break
            used[e] = True
            v = b[e] if a[e] == v else a[e]
            nodes[n_out] = v
            n_out += 1
        n_lines += 1
        offsets[n_lines] = n_out
    return nodes[:n_out], offsets[: n_lines + 1]
