"""Fill patterns: rectilinear, grid, triangles, honeycomb, gyroid, clipped to a region.

Regions are in integer micrometres; the returned paths are polylines float64 (n, 2) in mm.
Straight-line patterns are hatched by a numba scan-line kernel and, when ``link_um`` > 0,
neighbouring lines are joined along the boundary into zig-zags (so infill is anchored to the
perimeters and needs far fewer travels); curved patterns are clipped by GEOS.

A connector runs half a line spacing inside the region's boundary, like one more perimeter
segment: its bead lies next to the last perimeter instead of half on top of it (the region
ends where the perimeters' beads end). Sparse lines whose ends are too far apart for a
straight connector, around a corner or along a hole, are joined along that inner boundary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from fabthread.geom import polygons as pg
from fabthread.geom import wkb
from fabthread.slice.kernels.hatch import link_scanlines, scanline_segments

#: Sparse lines are joined along the boundary up to this far apart (mm): each line is then
#: anchored to the perimeters at both ends and the nozzle need not travel (PrusaSlicer's
#: ``infill_anchor_max`` is 50 mm).
FOLLOW_MAX_MM = 50.0


def _rotated_segments(
    region: BaseGeometry, angle_deg: float, spacing_um: float
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Scan-line segments of ``region`` in the frame rotated by -angle (µm), their line
    indices, and cos/sin of the angle."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    empty = (np.zeros((0, 4)), np.zeros(0, np.int64), c, s)
    if region.is_empty or spacing_um <= 0:
        return empty
    xy, ring_start = wkb.ring_arrays(region)  # the scan lines count crossings even-odd
    if len(xy) == 0:
        return empty
    rot = np.empty_like(xy)
    rot[:, 0] = c * xy[:, 0] + s * xy[:, 1]
    rot[:, 1] = -s * xy[:, 0] + c * xy[:, 1]
    k0 = math.floor(rot[:, 1].min() / spacing_um - 0.5)
    k1 = math.ceil(rot[:, 1].max() / spacing_um - 0.5)
    ys = (np.arange(k0, k1 + 1, dtype=np.float64) + 0.5) * spacing_um
    seg = scanline_segments(np.ascontiguousarray(rot), ring_start, ys)
    line = np.round(seg[:, 1] / spacing_um - 0.5).astype(np.int64)
    return seg, line, c, s


def _unrotate(xy: np.ndarray, c: float, s: float) -> np.ndarray:
    out = np.empty_like(xy)
    out[:, 0] = c * xy[:, 0] - s * xy[:, 1]
    out[:, 1] = s * xy[:, 0] + c * xy[:, 1]
    return out


def rectilinear(region: BaseGeometry, angle_deg: float, spacing_um: float) -> np.ndarray:
    """Lines at ``angle_deg`` (from +x, counter-clockwise) ``spacing_um`` apart inside
    ``region`` (µm). Lines sit on a global grid (offsets (k + 1/2)·spacing from the origin in
    the rotated frame), so layers with the same angle line up. Returns float64 (S, 4) in mm:
    x0, y0, x1, y1 per line."""
    seg, _, c, s = _rotated_segments(region, angle_deg, spacing_um)
    if len(seg) == 0:
        return np.zeros((0, 4))
    out = np.empty_like(seg)
    out[:, :2] = _unrotate(seg[:, :2], c, s)
    out[:, 2:] = _unrotate(seg[:, 2:], c, s)
    return out / pg.UM_PER_MM


def hatch(
    region: BaseGeometry,
    angle_deg: float,
    spacing_um: float,
    *,
    link_um: float = 0.0,
    extend_um: float = 0.0,
    inset_um: float | None = None,
    follow_um: float = 0.0,
) -> list[tuple[np.ndarray, float]]:
    """Rectilinear lines as (polyline mm, flow factor) pairs.

    With ``link_um`` > 0, neighbouring scan lines are joined into zig-zags along the
    boundary. A line's end that is joined stops on ``region`` shrunk by ``inset_um`` (half
    the line's own spacing; default half of ``spacing_um``, right for solid fill), so the
    connector's band lies next to the perimeters instead of on top of them, where the last
    perimeter already put material. Two ends are joined by a straight connector when it is
    at most ``link_um`` long and stays inside ``region`` grown by ``inset_um``; otherwise, when
    ``follow_um`` > 0, by the stretch of the shrunk boundary between them if that is at most
    ``follow_um`` long (around corners, along holes: the line is anchored on both sides and
    the nozzle does not travel). Free ends reach the boundary and are extended by
    ``extend_um`` (the infill/perimeter overlap). The flow factor spreads the volume of the
    plain scan lines (boundary to boundary) over the whole polyline, so solid fill deposits
    area × height whatever the connectors and extensions change in length.
    """
    seg, line, c, s = _rotated_segments(region, angle_deg, spacing_um)
    if len(seg) == 0:
        return []
    n = len(seg)
    if link_um <= 0:
        return _assemble(seg, seg, np.arange(n), np.zeros(n, bool), np.zeros(n - 1, bool), {},
                         seg[:0], extend_um, c, s)  # fmt: skip
    inset = spacing_um / 2.0 if inset_um is None else inset_um
    shrunk = pg.shrink(region, inset)
    inner, iline, _, _ = _rotated_segments(shrunk, angle_deg, spacing_um)
    # each inner piece lies in one full piece of the same scan line: find it by a sorted key
    x_min = float(seg[:, 0].min())
    width = float(seg[:, 2].max()) - x_min + 1.0
    key = line * width + (seg[:, 0] - x_min)
    host = np.searchsorted(key, iline * width + (inner[:, 0] - x_min) + 1e-3, "right") - 1
    # the outermost inner pieces of a full piece reach its ends when their end is free
    lo_end = inner[:, 0].copy()
    hi_end = inner[:, 2].copy()
    if len(inner):
        first_in = np.r_[True, host[1:] != host[:-1]]
        last_in = np.r_[host[1:] != host[:-1], True]
        lo_end[first_in] = seg[host[first_in], 0]
        hi_end[last_in] = seg[host[last_in], 2]
    full = np.stack([lo_end, inner[:, 1], hi_end, inner[:, 3]], axis=1)
    orphan = np.ones(n, dtype=bool)  # full pieces too near the boundary for an inner piece
    orphan[host] = False
    if len(inner) == 0:
        return _assemble(seg, seg, np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0, bool),
                         {}, seg, extend_um, c, s)  # fmt: skip
    order, flipped, chain_start = link_scanlines(inner, iline, max(link_um, follow_um))
    ok = np.ones(len(order) - 1, dtype=bool)
    ok[chain_start[1:-1] - 1] = False
    arcs: dict[int, np.ndarray] = {}
    boundary = _Boundary.of(shrunk) if follow_um > 0 else None
    if ok.any():
        a, b = order[:-1], order[1:]
        end_a = _unrotate(np.where(flipped[:-1, None], inner[a][:, 0:2], inner[a][:, 2:4]), c, s)
        start_b = _unrotate(np.where(flipped[1:, None], inner[b][:, 2:4], inner[b][:, 0:2]), c, s)
        short = ok & (np.hypot(*(end_a - start_b).T) <= link_um)
        if short.any():
            grown = pg.offset(region, inset)
            shapely.prepare(grown)
            conn = shapely.linestrings(np.stack([end_a[short], start_b[short]], axis=1))
            short[short] = shapely.covered_by(conn, grown)
        rest = ok & ~short
        if boundary is not None and rest.any():
            arcs = boundary.paths(end_a, start_b, np.flatnonzero(rest), follow_um)
        ok = short
        ok[list(arcs)] = True
    anchors: tuple[dict[int, np.ndarray], dict[int, np.ndarray]] = ({}, {})
    if boundary is not None:
        anchors = _anchors(inner, order, flipped, ok, boundary, c, s, link_um, 2.0 * inset)
    return _assemble(inner, full, order, flipped, ok, arcs, seg[orphan], extend_um, c, s, anchors)


@dataclass(frozen=True, slots=True)
class _Boundary:
    """The rings of a region (µm) for walking along them: closed float64 (n + 1, 2) rings,
    their cumulative lengths, and a tree to find the ring a point lies on."""

    rings: list[np.ndarray]
    cums: list[np.ndarray]
    lines: np.ndarray
    tree: shapely.STRtree

    @classmethod
    def of(cls, region: BaseGeometry) -> _Boundary:
        rings = [np.vstack([loop, loop[:1]]).astype(np.float64) for loop, _ in pg.rings(region)]
        cums = [np.r_[0.0, np.cumsum(np.hypot(*np.diff(r, axis=0).T))] for r in rings]
        lines = np.array([shapely.LineString(r) for r in rings], dtype=object)
        return cls(rings, cums, lines, shapely.STRtree(lines))

    def locate(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ring index and distance along it (µm) of each point (n, 2)."""
        pts = shapely.points(xy)
        ring_of = np.asarray(self.tree.query_nearest(pts, all_matches=False)[1], dtype=np.int64)
        return ring_of, shapely.line_locate_point(self.lines[ring_of], pts)

    def walk(self, r: int, start: float, length: float) -> np.ndarray:
        """The ring's vertices strictly between ``start`` and ``start + length`` (backwards
        when ``length`` < 0), in walking order, µm (k, 2)."""
        cum = self.cums[r]
        total = cum[-1]
        ahead = ((cum[:-1] - start) if length >= 0 else (start - cum[:-1])) % total
        sel = np.flatnonzero((ahead > 0) & (ahead < abs(length)))
        return self.rings[r][:-1][sel[np.argsort(ahead[sel])]]

    def point(self, r: int, at: float) -> np.ndarray:
        """The point ``at`` µm along ring ``r`` (1, 2)."""
        total = self.cums[r][-1]
        g = shapely.line_interpolate_point(self.lines[r], at % total)
        return shapely.get_coordinates(g)

    def paths(
        self, pa: np.ndarray, pb: np.ndarray, which: np.ndarray, max_um: float
    ) -> dict[int, np.ndarray]:
        """For each index i in ``which``: the vertices strictly between ``pa[i]`` and ``pb[i]``
        (both on one ring) the shorter way round, when that way is at most ``max_um`` long.
        Returns {i: float64 (k, 2)}; pairs on different rings or too far apart are left out."""
        if not self.rings:
            return {}
        ring_of, at = self.locate(np.concatenate([pa[which], pb[which]]))
        k = len(which)
        out: dict[int, np.ndarray] = {}
        for j in range(k):
            r = ring_of[j]
            if ring_of[k + j] != r:
                continue
            total = self.cums[r][-1]
            fwd = (at[k + j] - at[j]) % total
            if min(fwd, total - fwd) > max_um:
                continue
            out[int(which[j])] = self.walk(r, at[j], fwd if fwd <= total - fwd else fwd - total)
        return out


def _anchors(
    inner: np.ndarray,
    order: np.ndarray,
    flipped: np.ndarray,
    ok: np.ndarray,
    boundary: _Boundary,
    c: float,
    s: float,
    max_um: float,
    keep_off_um: float,
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Anchors for the free ends of the chains (PrusaSlicer's ``infill_anchor``): from the end,
    along ``boundary`` (the connectors' path), up to ``max_um`` long and no closer than
    ``keep_off_um`` to the next line end, whichever way leaves more room.

    Returns ({position: points before its entry end}, {position: points after its exit end}),
    µm unrotated, in print order."""
    m = len(order)
    if m == 0 or max_um <= 0:
        return {}, {}
    starts = np.flatnonzero(np.r_[True, ~ok])  # a chain starts here (its entry is free)
    stops = np.flatnonzero(np.r_[~ok, True])  # a chain stops here (its exit is free)
    pieces = inner[order]
    # entry end: the left end unless the position runs right to left
    entry = np.where(flipped[:, None], pieces[:, 2:4], pieces[:, 0:2])
    exit_ = np.where(flipped[:, None], pieces[:, 0:2], pieces[:, 2:4])
    free = _unrotate(np.concatenate([entry[starts], exit_[stops]]), c, s)
    ends = _unrotate(np.concatenate([inner[:, 0:2], inner[:, 2:4]]), c, s)
    if not boundary.rings:
        return {}, {}
    # only line ends near a free end can limit its anchor (along the ring is never shorter)
    near = np.hypot(*(ends[None, :, :] - free[:, None, :]).transpose(2, 0, 1)).min(axis=0)
    ends = ends[near <= max_um + keep_off_um + 1.0]
    ring_f, at_f = boundary.locate(free)
    ring_e, at_e = boundary.locate(ends)
    made: list[np.ndarray | None] = []
    for r, at in zip(ring_f, at_f, strict=True):
        total = boundary.cums[r][-1]
        others = at_e[ring_e == r]
        ahead = (others - at) % total
        ahead = ahead[(ahead > 1.0) & (ahead < total - 1.0)]  # not the end itself
        room_fwd = (ahead.min() if len(ahead) else total) - keep_off_um
        room_back = (total - ahead.max() if len(ahead) else total) - keep_off_um
        length = min(max_um, max(room_fwd, room_back))
        if length < keep_off_um:
            made.append(None)
            continue
        step = length if room_fwd >= room_back else -length
        made.append(np.vstack([boundary.walk(r, at, step), boundary.point(r, at + step)]))
    n_in = len(starts)
    before = {int(p): a[::-1] for p, a in zip(starts, made[:n_in], strict=True) if a is not None}
    after = {int(p): a for p, a in zip(stops, made[n_in:], strict=True) if a is not None}
    return before, after


def _assemble(
    inner: np.ndarray,
    full: np.ndarray,
    order: np.ndarray,
    flipped: np.ndarray,
    ok: np.ndarray,
    arcs: dict[int, np.ndarray],
    loose: np.ndarray,
    extend_um: float,
    c: float,
    s: float,
    anchors: tuple[dict[int, np.ndarray], dict[int, np.ndarray]] = ({}, {}),
) -> list[tuple[np.ndarray, float]]:
    """Polylines (mm) and flow factors from chained pieces (rotated frame, µm).

    ``inner``/``full``: (S, 4) each piece's joined-end and free-end extents; ``order``,
    ``flipped`` from ``link_scanlines``; ``ok`` (len(order) - 1,) whether position p is
    joined to p + 1, through the points ``arcs[p]`` (µm, unrotated) when given;
    ``loose`` (L, 4): extra single lines (full extents); ``anchors`` from ``_anchors``
    (an anchored end stops where a joined one does and runs on along the anchor)."""
    m = len(order)
    before, after = anchors
    joined_in = np.zeros(m, dtype=bool)
    joined_out = np.zeros(m, dtype=bool)
    joined_in[1:] = ok
    joined_out[:-1] = ok
    inn = inner[order]
    ful = full[order]
    held_in = joined_in.copy()
    held_in[list(before)] = True
    held_out = joined_out.copy()
    held_out[list(after)] = True
    # a position runs from its entry end to its exit end; left end = x0 unless flipped
    left_joined = np.where(flipped, held_out, held_in)
    right_joined = np.where(flipped, held_in, held_out)
    x_left = np.where(left_joined, inn[:, 0], ful[:, 0] - extend_um)
    x_right = np.where(right_joined, inn[:, 2], ful[:, 2] + extend_um)
    if len(loose):
        x_left = np.r_[x_left, loose[:, 0] - extend_um]
        x_right = np.r_[x_right, loose[:, 2] + extend_um]
        flipped = np.r_[flipped, np.zeros(len(loose), bool)]
        joined_out = np.r_[joined_out, np.zeros(len(loose), bool)]
        ful = np.concatenate([ful, loose])
        m += len(loose)
    pts = np.empty((2 * m, 2))
    pts[0::2, 0] = np.where(flipped, x_right, x_left)
    pts[1::2, 0] = np.where(flipped, x_left, x_right)
    pts[0::2, 1] = ful[:, 1]
    pts[1::2, 1] = ful[:, 1]
    pts = _unrotate(pts, c, s)
    ends = np.flatnonzero(~joined_out)  # last position of each polyline
    first = np.r_[0, ends[:-1] + 1]
    plain = np.add.reduceat(ful[:, 2] - ful[:, 0], first)
    # points to insert before point i: connectors, and a chain's exit anchor followed by the
    # next chain's entry anchor
    extra: dict[int, list[np.ndarray]] = {}
    for p, pts_p in arcs.items():
        extra.setdefault(2 * p + 2, []).append(pts_p)
    for p, pts_p in after.items():
        extra.setdefault(2 * p + 2, []).insert(0, pts_p)
    for p, pts_p in before.items():
        extra.setdefault(2 * p, []).append(pts_p)
    grow = np.zeros(2 * m + 1, dtype=np.int64)
    if extra:
        at = np.array(sorted(extra), dtype=np.int64)
        grow[at] = [sum(len(x) for x in extra[int(i)]) for i in at]
        pieces = np.split(pts, at)
        chunks = [pieces[0]]
        for i, rest in zip(at, pieces[1:], strict=True):
            chunks += [*extra[int(i)], rest]
        pts = np.concatenate(chunks)
    # index of point i after the insertions; a polyline includes its own anchors
    new_at = np.arange(2 * m + 1) + np.cumsum(grow)
    a_idx = new_at[2 * first] - np.array([len(before.get(int(p), ())) for p in first], np.int64)
    b_idx = new_at[2 * ends + 1] + np.array([len(after.get(int(p), ())) for p in ends], np.int64)
    step = np.r_[np.hypot(*np.diff(pts, axis=0).T), 0.0]
    cum = np.r_[0.0, np.cumsum(step)]
    length = cum[b_idx] - cum[a_idx]
    factor = plain / np.maximum(length, 1e-9)
    mm = pts / pg.UM_PER_MM
    return [(mm[a : b + 1], float(f)) for a, b, f in zip(a_idx, b_idx, factor, strict=True)]


def pattern_paths(
    region: BaseGeometry,
    pattern: str,
    density: float,
    angle_deg: float,
    layer: int,
    z_mm: float,
    spacing_mm: float,
    *,
    link_um: float = 0.0,
    overlap_um: float = 0.0,
) -> list[np.ndarray]:
    """Sparse infill of ``region`` (µm) with ``pattern`` at ``density`` (0..1]: polylines in
    mm. Line spacings are chosen so the printed lines (one ``spacing_mm`` wide band each)
    cover ``density`` of the area: rectilinear alternates its angle by 90° per layer; grid
    prints both directions on every layer, triangles three directions 60° apart; honeycomb is
    a hexagon tiling of zig-zag rows; gyroid is the section of the gyroid surface at ``z_mm``.

    Straight-line patterns are joined into zig-zags (``hatch``): by straight connectors up to
    ``link_um`` long, else along the boundary up to ``FOLLOW_MAX_MM``, one band's half-width
    inside it less ``overlap_um`` (how far infill reaches into the perimeters; free line ends
    reach that far past the boundary).
    """
    if region.is_empty or density <= 0:
        return []
    sp_um = spacing_mm * pg.UM_PER_MM
    lines = {
        "link_um": link_um,
        "extend_um": overlap_um,
        "inset_um": max(sp_um / 2.0 - overlap_um, 0.0),
        "follow_um": FOLLOW_MAX_MM * pg.UM_PER_MM if link_um > 0 else 0.0,
    }
    if pattern == "rectilinear":
        angle = angle_deg + (90.0 if layer % 2 else 0.0)
        return [p for p, _ in hatch(region, angle, sp_um / density, **lines)]
    if pattern == "grid":
        return [
            p
            for ang in (angle_deg, angle_deg + 90.0)
            for p, _ in hatch(region, ang, 2.0 * sp_um / density, **lines)
        ]
    if pattern == "triangles":
        return [
            p
            for ang in (angle_deg, angle_deg + 60.0, angle_deg + 120.0)
            for p, _ in hatch(region, ang, 3.0 * sp_um / density, **lines)
        ]
    if pattern == "honeycomb":
        side = 8.0 * sp_um / (3.0 * math.sqrt(3.0) * density)
        bounds, _, _ = _frame(region, angle_deg)
        return _clip(region, _honeycomb(bounds, side), angle_deg)
    if pattern == "gyroid":
        return _clip(region, _gyroid(region, sp_um, density, z_mm), 0.0)
    raise ValueError(f"unknown infill pattern {pattern!r}")


def _frame(region: BaseGeometry, angle_deg: float) -> tuple[np.ndarray, float, float]:
    """Bounds (x0, y0, x1, y1) of ``region`` in the frame rotated by -angle, and cos, sin."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    xy = shapely.get_coordinates(region)
    rx = c * xy[:, 0] + s * xy[:, 1]
    ry = -s * xy[:, 0] + c * xy[:, 1]
    return np.array([rx.min(), ry.min(), rx.max(), ry.max()]), c, s


def _clip(region: BaseGeometry, rows: list[np.ndarray], angle_deg: float) -> list[np.ndarray]:
    """Rotate polylines (µm, in the frame of ``angle_deg``) back and clip them to region."""
    if not rows:
        return []
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    lines = np.array([shapely.LineString(_unrotate(r, c, s)) for r in rows], dtype=object)
    shapely.prepare(region)
    clipped = shapely.intersection(lines, region)
    out: list[np.ndarray] = []
    for g in shapely.get_parts(clipped):
        for part in shapely.get_parts(g) if g.geom_type.startswith("Multi") else [g]:
            if part.geom_type == "LineString" and not part.is_empty and part.length > 0:
                out.append(shapely.get_coordinates(part) / pg.UM_PER_MM)
    return out


def _honeycomb(bounds: np.ndarray, side: float) -> list[np.ndarray]:
    """Zig-zag rows of a flat-topped hexagon tiling with side ``side`` (µm) covering
    ``bounds`` (x0, y0, x1, y1, rotated frame), on a global grid so layers line up. Row j
    runs at y = j·h and (j + 1)·h alternately (h = √3/2 · side); neighbouring rows share the
    flat edges, which are printed twice (as every honeycomb infill does)."""
    h = math.sqrt(3.0) / 2.0 * side
    period = 3.0 * side
    i0 = math.floor(bounds[0] / period) - 1
    i1 = math.ceil(bounds[2] / period) + 1
    j0 = math.floor(bounds[1] / h) - 1
    j1 = math.ceil(bounds[3] / h) + 1
    xs = np.arange(i0, i1 + 1, dtype=np.float64) * period
    rows: list[np.ndarray] = []
    for j in range(j0, j1 + 1):
        lo, hi = (j * h, (j + 1) * h) if j % 2 == 0 else ((j + 1) * h, j * h)
        pts = np.empty((4 * len(xs), 2))
        pts[0::4, 0] = xs
        pts[1::4, 0] = xs + side
        pts[2::4, 0] = xs + 1.5 * side
        pts[3::4, 0] = xs + 2.5 * side
        pts[0::4, 1] = lo
        pts[1::4, 1] = lo
        pts[2::4, 1] = hi
        pts[3::4, 1] = hi
        rows.append(pts)
    return rows


def _gyroid(region: BaseGeometry, sp_um: float, density: float, z_mm: float) -> list[np.ndarray]:
    """Curves of sin x cos y + sin y cos z + sin z cos x = 0 at height ``z_mm``, scaled so
    their length per area times the line spacing equals ``density``."""
    # the section's length per area is about C·2π/P (C measured numerically, averaged over z,
    # for the curves kept below), so sp · C · 2π / P = density gives the period P (µm)
    period = 2.0 * math.pi * sp_um * _GYROID_LENGTH_PER_AREA / density
    k = 2.0 * math.pi / period
    zz = z_mm * pg.UM_PER_MM * k
    xy = shapely.get_coordinates(region)
    (x_lo, y_lo), (x_hi, y_hi) = xy.min(0), xy.max(0)
    step = period / 32.0
    xs = np.arange(x_lo - period, x_hi + period + step, step)
    u = xs * k
    a = np.sin(u)
    b = np.full_like(u, math.cos(zz))
    cterm = -math.sin(zz) * np.cos(u)
    radius = np.hypot(a, b)
    raw = cterm / np.maximum(radius, 1e-12)
    valid = np.abs(raw) <= 1.0  # elsewhere this vertical line does not meet the curve
    ratio = np.clip(raw, -1.0, 1.0)
    phi = np.arctan2(b, a)
    acos = np.arccos(ratio)
    rows: list[np.ndarray] = []
    n0 = math.floor(y_lo * k / (2 * math.pi)) - 1
    n1 = math.ceil(y_hi * k / (2 * math.pi)) + 1
    for branch in (phi + acos, phi - acos):
        # unwrap so each branch is continuous along x
        v = np.unwrap(branch)
        for n in range(n0 - 2, n1 + 3):
            ys = (v + 2.0 * math.pi * n) / k
            keep = valid & (ys > y_lo - period) & (ys < y_hi + period)
            # split where points are dropped so no row jumps across a gap
            idx = np.nonzero(keep)[0]
            for run in np.split(idx, np.nonzero(np.diff(idx) > 1)[0] + 1):
                if len(run) >= 2:
                    rows.append(np.stack([xs[run], ys[run]], axis=1))
    return rows


#: Length per area of the kept gyroid section for period 2π, averaged over z (see _gyroid).
_GYROID_LENGTH_PER_AREA = 0.355
