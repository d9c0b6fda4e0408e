"""Numba kernels of rectilinear fill (``slice.infill.hatch``), in the order it calls them:
clip horizontal scan lines by them (even-odd) in the
frame rotated so the fill direction is +x, find the full piece around each inner piece, chain
the pieces into zig-zags, test straight connectors against the region's rings and assemble
the polylines, rotated back. The walks along the rings (connectors around corners, anchors of
free ends) are in ``ring_walk``. Coordinates are micrometres (float64).
"""

from __future__ import annotations

import math

import numpy as np

from fabthread.kernels.jit import helper, kernel


@helper
def _first_at_or_above(ys: np.ndarray, value: float) -> int:
    """``searchsorted(ys, value, 'left')``: first index with ``ys[i] >= value``."""
    lo = 0
    hi = ys.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if ys[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@helper
def _insertion_sort(a: np.ndarray) -> None:
    """Sort ``a`` in place. A scan line crosses few edges, so this beats a general sort and
    compiles in a fraction of the time ``np.sort`` takes."""
    for i in range(1, a.shape[0]):
        v = a[i]
        j = i - 1
        while j >= 0 and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


@kernel(
    "f8[:, :], i8[:], f8[:]",
    returns="f8[:, :]",
)
def scanline_segments(points: np.ndarray, ring_start: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``_scanlines`` as a kernel (see there)."""
    return _scanlines(points, ring_start, ys)


@kernel(
    "f8[:, :], i8[:], f8, f8, f8",
    returns="Tuple((f8[:, :], i8[:], f8[:, :]))",
)
def rotated_scanlines(
    xy: np.ndarray, ring_start: np.ndarray, c: float, s: float, spacing_um: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The scan lines of a region in the frame rotated by -angle (c, s: its cos and sin).

    xy: float64 (P, 2) ring vertices (µm, no repeated last point), P > 0; ring_start: int64
    (R + 1,). Lines lie at y = (k + 1/2)·spacing_um in the rotated frame, every k from below
    the region to above it. Returns ``seg`` float64 (S, 4) as ``_scanlines`` gives them,
    ``line`` int64 (S,) their k, and ``rot`` float64 (P, 2) the rotated vertices.
    """
    n = xy.shape[0]
    rot = np.empty((n, 2), dtype=np.float64)
    y_min = np.inf
    y_max = -np.inf
    for i in range(n):
        rot[i, 0] = c * xy[i, 0] + s * xy[i, 1]
        rot[i, 1] = -s * xy[i, 0] + c * xy[i, 1]
        y_min = min(y_min, rot[i, 1])
        y_max = max(y_max, rot[i, 1])
    k0 = math.floor(y_min / spacing_um - 0.5)
    k1 = math.ceil(y_max / spacing_um - 0.5)
    ys = np.empty(k1 - k0 + 1, dtype=np.float64)
    for k in range(k0, k1 + 1):
        ys[k - k0] = (float(k) + 0.5) * spacing_um
    seg = _scanlines(rot, ring_start, ys)
    line = np.empty(seg.shape[0], dtype=np.int64)
    for i in range(seg.shape[0]):
        line[i] = int(np.rint(seg[i, 1] / spacing_um - 0.5))
    return seg, line, rot


@helper
def _scanlines(points: np.ndarray, ring_start: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Inside parts of the lines y = ys[k] for a region bounded by closed rings.

    points: float64 (P, 2) ring vertices (no repeated last point); ring_start: int64 (R + 1,);
    ys: float64 (K,) ascending. An edge (a, b) crosses line y when min(ya, yb) <= y <
    max(ya, yb) (half-open, so a vertex on a line is counted once). Crossings of one line are
    sorted by x and paired even-odd. Returns float64 (S, 4): x0, y, x1, y with x0 < x1, ordered
    by line then x; zero-length pieces are dropped.
    """
    n_lines = ys.shape[0]
    counts = np.zeros(n_lines + 1, dtype=np.int64)
    n_rings = ring_start.shape[0] - 1
    for r in range(n_rings):
        r0 = ring_start[r]
        r1 = ring_start[r + 1]
        for i in range(r0, r1):
            j = i + 1 if i + 1 < r1 else r0
            ya = points[i, 1]
            yb = points[j, 1]
            if ya == yb:
                continue
            lo = min(ya, yb)
            hi = max(ya, yb)
            k0 = _first_at_or_above(ys, lo)
            k1 = _first_at_or_above(ys, hi)
            for k in range(k0, k1):
                counts[k + 1] += 1
    start = np.cumsum(counts)
    fill = start[:-1].copy()
    xs = np.empty(start[-1], dtype=np.float64)
    for r in range(n_rings):
        r0 = ring_start[r]
        r1 = ring_start[r + 1]
        for i in range(r0, r1):
            j = i + 1 if i + 1 < r1 else r0
            xa = points[i, 0]
            ya = points[i, 1]
            xb = points[j, 0]
            yb = points[j, 1]
            if ya == yb:
                continue
            lo = min(ya, yb)
            hi = max(ya, yb)
            k0 = _first_at_or_above(ys, lo)
            k1 = _first_at_or_above(ys, hi)
            for k in range(k0, k1):
                t = (ys[k] - ya) / (yb - ya)
                xs[fill[k]] = xa + t * (xb - xa)
                fill[k] += 1
    out = np.empty((start[-1] // 2 + 1, 4), dtype=np.float64)
    n_out = 0
    for k in range(n_lines):
        seg = xs[start[k] : start[k + 1]]
        _insertion_sort(seg)
        for p in range(0, seg.shape[0] - 1, 2):
            if seg[p + 1] > seg[p]:
                out[n_out, 0] = seg[p]
                out[n_out, 1] = ys[k]
                out[n_out, 2] = seg[p + 1]
                out[n_out, 3] = ys[k]
                n_out += 1
    return out[:n_out].copy()


@kernel(
    "f8[:, :], i8[:], f8",
    returns="Tuple((i8[:], b1[:], i8[:]))",
)
def link_scanlines(
    seg: np.ndarray, line: np.ndarray, max_gap: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chain scan-line segments into zig-zags (serpentines), greedily.

    seg: float64 (S, 4) x0, y, x1, y with x0 < x1, in the rotated frame (fill direction +x);
    line: int64 (S,) scan-line index of each segment, ascending, and segments of one line
    ascending in x (the order ``scanline_segments`` returns). A chain starts at the first
    unused segment, runs it left to right, then steps to the unused segment of the next line
    whose end on the same side is nearest, if it is within ``max_gap`` along x, and runs that
    one right to left, and so on.

    Returns ``order`` int64 (S,) segments in chain order, ``flipped`` bool (S,) per position
    (run right to left) and ``chain_start`` int64 (C + 1,) into ``order``.
    """
    n = seg.shape[0]
    order = np.empty(n, dtype=np.int64)
    flipped = np.zeros(n, dtype=np.bool_)
    chain_start = np.empty(n + 1, dtype=np.int64)
    used = np.zeros(n, dtype=np.bool_)
    if n == 0:
        chain_start[0] = 0
        return order, flipped, chain_start[:1].copy()
    n_lines = line[n - 1] - line[0] + 1
    base = line[0]
    line_start = np.zeros(n_lines + 1, dtype=np.int64)
    for i in range(n):
        line_start[line[i] - base + 1] += 1
    for k in range(n_lines):
        line_start[k + 1] += line_start[k]
    pos = 0
    n_chains = 0
    for s in range(n):
        if used[s]:
            continue
        chain_start[n_chains] = pos
        n_chains += 1
        used[s] = True
        order[pos] = s
        flipped[pos] = False
        pos += 1
        cur = s
        right = True  # the chain's current end is the right end of ``cur``
        while True:
            k = line[cur] - base + 1
            if k >= n_lines:
                break
            x = seg[cur, 2] if right else seg[cur, 0]
            best = -1
            best_d = max_gap
            for j in range(line_start[k], line_start[k + 1]):
                if used[j]:
                    continue
                xe = seg[j, 2] if right else seg[j, 0]
                d = abs(xe - x)
                if d <= best_d:
                    best = j
                    best_d = d
            if best < 0:
                break
            used[best] = True
            order[pos] = best
            flipped[pos] = right  # entered at its right end: run right to left
            pos += 1
            cur = best
            right = not right
    chain_start[n_chains] = pos
    return order, flipped, chain_start[: n_chains + 1].copy()


# --- pieces and straight connectors --------------------------------------------------------


@kernel(
    "f8[:, :], i8[:], f8[:, :], i8[:]",
    returns="Tuple((f8[:, :], b1[:]))",
)
def host_extents(
    seg: np.ndarray, line: np.ndarray, inner: np.ndarray, iline: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The full pieces (scan lines of a region) that hold the inner pieces (scan lines of the
    region shrunk), in the rotated frame (µm).

    seg: float64 (S, 4), line int64 (S,) and inner (I, 4), iline (I,) as ``rotated_scanlines``
    gives them (S > 0). Each inner piece lies in one full piece of its scan line, found by a
    sorted key (line · width + x). The first inner piece of a full piece reaches back to the
    full piece's left end and the last to its right end (where a free end runs to).
    Returns ``full`` float64 (I, 4) x0, y, x1, y per inner piece and ``orphan`` bool (S,):
    full pieces that hold no inner piece (too near the boundary).
    """
    n = seg.shape[0]
    n_in = inner.shape[0]
    x_min = np.inf
    x_max = -np.inf
    for i in range(n):
        x_min = min(x_min, seg[i, 0])
        x_max = max(x_max, seg[i, 2])
    width = x_max - x_min + 1.0
    key = np.empty(n, dtype=np.float64)
    for i in range(n):
        key[i] = float(line[i]) * width + (seg[i, 0] - x_min)
    host = np.empty(n_in, dtype=np.int64)
    for j in range(n_in):
        q = float(iline[j]) * width + (inner[j, 0] - x_min) + 1e-3
        lo = 0
        hi = n
        while lo < hi:  # searchsorted(key, q, "right")
            mid = (lo + hi) // 2
            if key[mid] <= q:
                lo = mid + 1
            else:
                hi = mid
        host[j] = lo - 1 if lo > 0 else n - 1  # (-1 indexes the last, as numpy would)
    full = np.empty((n_in, 4), dtype=np.float64)
    orphan = np.ones(n, dtype=np.bool_)
    for j in range(n_in):
        h = host[j]
        orphan[h] = False
        first = j == 0 or host[j - 1] != h
        last = j == n_in - 1 or host[j + 1] != h
        full[j, 0] = seg[h, 0] if first else inner[j, 0]
        full[j, 1] = inner[j, 1]
        full[j, 2] = seg[h, 2] if last else inner[j, 2]
        full[j, 3] = inner[j, 3]
    return full, orphan


@helper
def _point_segment_gap(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    """Distance from (px, py) to the segment a-b (µm)."""
    dx = bx - ax
    dy = by - ay
    len2 = dx * dx + dy * dy
    t = 0.0
    if len2 > 0.0:
        t = min(max(((px - ax) * dx + (py - ay) * dy) / len2, 0.0), 1.0)
    gx = px - (ax + t * dx)
    gy = py - (ay + t * dy)
    return math.sqrt(gx * gx + gy * gy)


@helper
def _one_side(
    ax: float,
    ay: float,
    bx: float,
    by: float,
    cx: float,
    cy: float,
    dx: float,
    dy: float,
    margin: float,
) -> bool:
    """Whether a and b both lie on one side of the line through c-d, farther than ``margin``
    from it (then segment a-b is farther than that from segment c-d)."""
    ex = dx - cx
    ey = dy - cy
    lim = margin * margin * (ex * ex + ey * ey)
    oa = ex * (ay - cy) - ey * (ax - cx)
    ob = ex * (by - cy) - ey * (bx - cx)
    return oa * ob > 0.0 and oa * oa > lim and ob * ob > lim


@helper
def _segments_apart(
    ax: float,
    ay: float,
    bx: float,
    by: float,
    cx: float,
    cy: float,
    dx: float,
    dy: float,
    margin: float,
) -> bool:
    """Whether segments a-b and c-d are more than ``margin`` apart (µm). Crossing (the ends of
    each on both sides of the other or on it) counts as touching; float error in the
    orientations only matters where an end lies within rounding of the other segment, which
    the end distances catch."""
    if _one_side(ax, ay, bx, by, cx, cy, dx, dy, margin):
        return True
    if _one_side(cx, cy, dx, dy, ax, ay, bx, by, margin):
        return True
    o1 = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
    o2 = (bx - ax) * (dy - ay) - (by - ay) * (dx - ax)
    o3 = (dx - cx) * (ay - cy) - (dy - cy) * (ax - cx)
    o4 = (dx - cx) * (by - cy) - (dy - cy) * (bx - cx)
    if (
        o1 * o2 <= 0.0
        and o3 * o4 <= 0.0
        and min(ax, bx) <= max(cx, dx)
        and min(cx, dx) <= max(ax, bx)
        and min(ay, by) <= max(cy, dy)
        and min(cy, dy) <= max(ay, by)
    ):
        return False
    gap = min(
        _point_segment_gap(ax, ay, cx, cy, dx, dy),
        _point_segment_gap(bx, by, cx, cy, dx, dy),
    )
    gap = min(gap, _point_segment_gap(cx, cy, ax, ay, bx, by))
    gap = min(gap, _point_segment_gap(dx, dy, ax, ay, bx, by))
    return gap > margin


@helper
def _band_range(
    points: np.ndarray, i: int, j: int, margin: float, band: float, b0: int, n_bands: int
) -> tuple[int, int]:
    """The bands (first, last; last < first when none) that edge i-j, widened by ``margin``,
    reaches into, of ``n_bands`` bands ``band`` high from band ``b0`` (y = b0 · band)."""
    lo = min(points[i, 1], points[j, 1]) - margin
    hi = max(points[i, 1], points[j, 1]) + margin
    return max(math.floor(lo / band) - b0, 0), min(math.floor(hi / band) - b0, n_bands - 1)


@helper
def _edge_bands(
    points: np.ndarray,
    ring_start: np.ndarray,
    b0: int,
    n_bands: int,
    band: float,
    margin: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ring edges by horizontal band (CSR): ``band_start`` int64 (n_bands + 1,) into
    ``edge_a``, ``edge_b`` int64, the edges' vertex indices. An edge is listed in every band
    it reaches into, widened by ``margin``."""
    n_rings = ring_start.shape[0] - 1
    band_start = np.zeros(n_bands + 1, dtype=np.int64)
    for r in range(n_rings):
        r1 = ring_start[r + 1]
        for i in range(ring_start[r], r1):
            j = i + 1 if i + 1 < r1 else ring_start[r]
            k0, k1 = _band_range(points, i, j, margin, band, b0, n_bands)
            for k in range(k0, k1 + 1):
                band_start[k + 1] += 1
    for k in range(n_bands):
        band_start[k + 1] += band_start[k]
    at = band_start[:-1].copy()
    edge_a = np.empty(band_start[n_bands], dtype=np.int64)
    edge_b = np.empty(band_start[n_bands], dtype=np.int64)
    for r in range(n_rings):
        r1 = ring_start[r + 1]
        for i in range(ring_start[r], r1):
            j = i + 1 if i + 1 < r1 else ring_start[r]
            k0, k1 = _band_range(points, i, j, margin, band, b0, n_bands)
            for k in range(k0, k1 + 1):
                edge_a[at[k]] = i
                edge_b[at[k]] = j
                at[k] += 1
    return band_start, edge_a, edge_b


@helper
def _connector_clear(
    points: np.ndarray,
    band_start: np.ndarray,
    edge_a: np.ndarray,
    edge_b: np.ndarray,
    b0: int,
    band: float,
    margin: float,
    x0: float,
    y0: float,
    x1: float,
    y1: float,
) -> bool:
    """Whether segment (x0, y0)-(x1, y1) stays more than ``margin`` from every ring edge (those
    of the bands it spans, from ``_edge_bands``) and (x0, y0) is inside the rings (even-odd
    count of the edges crossing y0 right of x0, half-open as the scan lines)."""
    cx_lo = min(x0, x1) - margin
    cx_hi = max(x0, x1) + margin
    for k in range(math.floor(min(y0, y1) / band) - b0, math.floor(max(y0, y1) / band) - b0 + 1):
        for e in range(band_start[k], band_start[k + 1]):
            i = edge_a[e]
            j = edge_b[e]
            if max(points[i, 0], points[j, 0]) < cx_lo or min(points[i, 0], points[j, 0]) > cx_hi:
                continue
            if not _segments_apart(
                x0, y0, x1, y1, points[i, 0], points[i, 1], points[j, 0], points[j, 1], margin
            ):
                return False
    inside = False
    k = math.floor(y0 / band) - b0
    for e in range(band_start[k], band_start[k + 1]):
        i = edge_a[e]
        j = edge_b[e]
        ya = points[i, 1]
        yb = points[j, 1]
        if ya == yb or y0 < min(ya, yb) or y0 >= max(ya, yb):
            continue
        if points[i, 0] + (y0 - ya) / (yb - ya) * (points[j, 0] - points[i, 0]) > x0:
            inside = not inside
    return inside


#: ``straight_links`` states of the step from position p to p + 1.
LINK_BREAK = 0  # the chain ends at p
LINK_CLEAR = 1  # a straight connector, inside the region
LINK_CHECK = 2  # a straight connector near the region's boundary: the caller decides
LINK_FAR = 3  # too long for a straight connector


@kernel(
    "f8[:, :], i8[:], b1[:], i8[:], f8, f8, f8, f8[:, :], i8[:], f8, f8",
    returns="Tuple((f8[:, :], i1[:]))",
)
def straight_links(
    inner: np.ndarray,
    order: np.ndarray,
    flipped: np.ndarray,
    chain_start: np.ndarray,
    c: float,
    s: float,
    link_um: float,
    points: np.ndarray,
    ring_start: np.ndarray,
    band_um: float,
    margin_um: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The steps between consecutive positions of the chains and whether a straight
    connector may make them.

    inner: float64 (I, 4) pieces (rotated frame, µm); order, flipped, chain_start from
    ``link_scanlines``; c, s: cos and sin of the fill angle; points, ring_start: the
    region's rings in the rotated frame. The step from position p leaves at its exit end and
    enters p + 1 at its entry end (a position runs left to right unless flipped). A step of
    at most ``link_um`` (straight, unrotated) is ``LINK_CLEAR`` when the connector starts
    inside the region and stays more than ``margin_um`` from every ring edge (edges bucketed
    into bands ``band_um`` high, the scan-line spacing), else ``LINK_CHECK``; every short
    step is ``LINK_CHECK`` when ``margin_um`` < 0.

    Returns ``ends`` float64 (M - 1, 4): exit end of p and entry end of p + 1, unrotated
    (µm), and ``state`` int8 (M - 1,).
    """
    m = order.shape[0]
    n_steps = max(m - 1, 0)
    ends = np.empty((n_steps, 4), dtype=np.float64)
    state = np.full(n_steps, LINK_FAR, dtype=np.int8)
    rot = np.empty((n_steps, 4), dtype=np.float64)
    for q in range(1, chain_start.shape[0] - 1):
        state[chain_start[q] - 1] = LINK_BREAK
    y_lo = np.inf
    y_hi = -np.inf
    for p in range(n_steps):
        a = order[p]
        b = order[p + 1]
        rot[p, 0] = inner[a, 0] if flipped[p] else inner[a, 2]
        rot[p, 1] = inner[a, 1] if flipped[p] else inner[a, 3]
        rot[p, 2] = inner[b, 2] if flipped[p + 1] else inner[b, 0]
        rot[p, 3] = inner[b, 3] if flipped[p + 1] else inner[b, 1]
        for t in range(0, 4, 2):
            ends[p, t] = c * rot[p, t] - s * rot[p, t + 1]
            ends[p, t + 1] = s * rot[p, t] + c * rot[p, t + 1]
        if state[p] == LINK_BREAK:
            continue
        if np.hypot(ends[p, 0] - ends[p, 2], ends[p, 1] - ends[p, 3]) <= link_um:
            state[p] = LINK_CHECK
            y_lo = min(y_lo, rot[p, 1], rot[p, 3])
            y_hi = max(y_hi, rot[p, 1], rot[p, 3])
    if margin_um < 0.0 or not y_lo <= y_hi or not band_um > 0.0:
        return ends, state
    b0 = math.floor(y_lo / band_um)
    n_bands = math.floor(y_hi / band_um) - b0 + 1
    band_start, edge_a, edge_b = _edge_bands(points, ring_start, b0, n_bands, band_um, margin_um)
    for p in range(n_steps):
        if state[p] == LINK_CHECK and _connector_clear(
            points, band_start, edge_a, edge_b, b0, band_um, margin_um,
            rot[p, 0], rot[p, 1], rot[p, 2], rot[p, 3],
        ):  # fmt: skip
            state[p] = LINK_CLEAR
    return ends, state


@helper
def _emit(out: np.ndarray, k: int, x: float, y: float, c: float, s: float) -> None:
    """out[k] = (x, y) (rotated frame) turned back by the angle whose cos, sin are c, s."""
    out[k, 0] = c * x - s * y
    out[k, 1] = s * x + c * y


@helper
def _copy_run(out: np.ndarray, k: int, src: np.ndarray, a: int, b: int, backwards: bool) -> int:
    """out[k:] = src[a:b] (reversed when ``backwards``); returns k plus b - a."""
    for t in range(b - a):
        q = b - 1 - t if backwards else a + t
        out[k + t, 0] = src[q, 0]
        out[k + t, 1] = src[q, 1]
    return k + b - a


@kernel(
    "f8[:, :], f8[:, :], i8[:], b1[:], b1[:], f8[:, :], f8, f8, f8, "
    "i8[:], f8[:, :], i8[:], f8[:, :], i8[:], f8[:, :]",
    returns="Tuple((f8[:, :], i8[:], i8[:], f8[:], f8[:]))",
)
def assemble_lines(
    inner: np.ndarray,
    full: np.ndarray,
    order: np.ndarray,
    flipped: np.ndarray,
    ok: np.ndarray,
    loose: np.ndarray,
    extend_um: float,
    c: float,
    s: float,
    arc_start: np.ndarray,
    arc_pts: np.ndarray,
    before_start: np.ndarray,
    before_pts: np.ndarray,
    after_start: np.ndarray,
    after_pts: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Polylines from chained scan-line pieces (rotated frame, µm) and the points between them.

    inner, full: float64 (S, 4) each piece's joined-end and free-end extents (x0, y, x1, y);
    order int64 (M,), flipped bool (M,) from ``link_scanlines``; ok bool (M - 1,): position p
    is joined to p + 1; loose float64 (L, 4): single lines after the chains (full extents).
    A position runs from its entry end to its exit end (left to right unless flipped); an end
    that is joined or anchored stops at ``inner``, a free one runs ``extend_um`` past
    ``full``. Points between (unrotated µm, CSR): ``arc`` (offsets (M,) or more) the
    connector from p to p + 1, ``before`` and ``after`` (offsets (M + 1,)) the anchors at p's
    entry and exit end, walking away from the end (so ``before`` is printed reversed).

    Returns ``pts`` float64 (N, 2) unrotated (c, s: cos and sin of the fill angle),
    ``line_start`` int64 (P + 1,) into ``pts`` per polyline, ``first`` int64 (P,) the
    position each polyline starts at, ``widths`` float64 (M + L,) the plain length of each
    position (full x1 - x0) and ``length`` float64 (P,) each polyline's length, as
    differences of one running sum of the steps along all points (``np.cumsum``'s order).
    """
    m = order.shape[0]
    n_pos = m + loose.shape[0]
    n_lines = loose.shape[0]
    for p in range(m):
        if p == m - 1 or not ok[p]:
            n_lines += 1
    n_pts = 2 * n_pos
    if m > 0:
        n_pts += arc_start[m - 1] - arc_start[0] + before_start[m] + after_start[m]
    pts = np.empty((n_pts, 2), dtype=np.float64)
    line_start = np.zeros(n_lines + 1, dtype=np.int64)
    first = np.zeros(n_lines, dtype=np.int64)
    widths = np.empty(n_pos, dtype=np.float64)
    k = 0
    line = 0
    new_line = True
    for p in range(n_pos):
        fl = False
        joined_out = False
        if p < m:
            i = order[p]
            fl = flipped[p]
            joined_out = p < m - 1 and ok[p]
            held_in = (p > 0 and ok[p - 1]) or before_start[p + 1] > before_start[p]
            held_out = joined_out or after_start[p + 1] > after_start[p]
            left_held = held_out if fl else held_in
            right_held = held_in if fl else held_out
            x_left = inner[i, 0] if left_held else full[i, 0] - extend_um
            x_right = inner[i, 2] if right_held else full[i, 2] + extend_um
            y = full[i, 1]
            widths[p] = full[i, 2] - full[i, 0]
        else:
            q = p - m
            x_left = loose[q, 0] - extend_um
            x_right = loose[q, 2] + extend_um
            y = loose[q, 1]
            widths[p] = loose[q, 2] - loose[q, 0]
        if new_line:
            line_start[line] = k
            first[line] = p
        if p < m:
            k = _copy_run(pts, k, before_pts, before_start[p], before_start[p + 1], True)
        _emit(pts, k, x_right if fl else x_left, y, c, s)
        _emit(pts, k + 1, x_left if fl else x_right, y, c, s)
        k += 2
        if p < m:
            k = _copy_run(pts, k, after_pts, after_start[p], after_start[p + 1], False)
        if joined_out:
            k = _copy_run(pts, k, arc_pts, arc_start[p], arc_start[p + 1], False)
        new_line = not joined_out
        if new_line:
            line += 1
            line_start[line] = k
    length = np.empty(n_lines, dtype=np.float64)
    run = 0.0
    run_at_start = 0.0
    line = 0
    for i in range(n_pts):
        if i > 0:
            run += np.hypot(pts[i, 0] - pts[i - 1, 0], pts[i, 1] - pts[i - 1, 1])
        if i == line_start[line]:
            run_at_start = run
        if i == line_start[line + 1] - 1:
            length[line] = run - run_at_start
            line += 1
    return pts, line_start, first, widths, length
