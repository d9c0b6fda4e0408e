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
from fabthread.slice.kernels.hatch import (
    LINK_BREAK,
    LINK_CHECK,
    LINK_CLEAR,
    assemble_lines,
    host_extents,
    link_scanlines,
    rotated_scanlines,
    straight_links,
)
from fabthread.slice.kernels.ring_walk import anchor_walks, boundary_paths, ring_table

#: Sparse lines are joined along the boundary up to this far apart (mm): each line is then
#: anchored to the perimeters at both ends and the nozzle need not travel (PrusaSlicer's
#: ``infill_anchor_max`` is 50 mm).
FOLLOW_MAX_MM = 50.0


#: A straight connector more than this far (µm) from every edge of its region, starting inside
#: it, lies inside it: no GEOS check (far more than the rotation's rounding, about 1e-10 µm).
CLEAR_MARGIN_UM = 1e-3

#: Points per position (CSR): offsets int64 into float64 (Q, 2) µm unrotated.
_Runs = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True, slots=True)
class _Scan:
    """Scan-line segments of a region in the frame rotated by -angle (µm): ``seg`` float64
    (S, 4), ``line`` int64 (S,) their scan-line indices, ``c``, ``s`` cos and sin of the angle,
    and the region's rings (``wkb.ring_arrays``): ``xy`` float64 (P, 2), the same rotated ``rot``,
    ``ring_start`` int64 (R + 1,), ``is_hole`` bool (R,)."""

    seg: np.ndarray
    line: np.ndarray
    c: float
    s: float
    xy: np.ndarray
    rot: np.ndarray
    ring_start: np.ndarray
    is_hole: np.ndarray


def _rotated_segments(region: BaseGeometry, angle_deg: float, spacing_um: float) -> _Scan:
    """Scan-line segments of ``region`` in the frame rotated by -angle, lines ``spacing_um``
    (> 0) apart (µm), and the rings they were cut from (see ``_Scan``); the scan lines count
    crossings even-odd."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    xy, ring_start, is_hole = wkb.ring_arrays(region)
    if len(xy) == 0:
        return _Scan(np.zeros((0, 4)), np.zeros(0, np.int64), c, s, xy, xy, ring_start, is_hole)
    seg, line, rot = rotated_scanlines(xy, ring_start, c, s, spacing_um)
    return _Scan(seg, line, c, s, xy, rot, ring_start, is_hole)


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
    if region.is_empty or spacing_um <= 0:
        return np.zeros((0, 4))
    scan = _rotated_segments(region, angle_deg, spacing_um)
    seg, c, s = scan.seg, scan.c, scan.s
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

    The work is done by the kernels of ``slice.kernels.hatch``; GEOS only shrinks the region
    and checks the straight connectors that come near its boundary.
    """
    if region.is_empty or spacing_um <= 0:
        return []
    scan = _rotated_segments(region, angle_deg, spacing_um)
    seg, line, c, s = scan.seg, scan.line, scan.c, scan.s
    n = len(seg)
    if n == 0:
        return []
    if link_um <= 0:
        return _assemble(seg, seg, np.arange(n), np.zeros(n, bool), np.zeros(n - 1, bool),
                         seg[:0], extend_um, c, s)  # fmt: skip
    inset = spacing_um / 2.0 if inset_um is None else inset_um
    shrunk = pg.shrink(region, inset)
    inner_scan = _rotated_segments(shrunk, angle_deg, spacing_um)
    inner = inner_scan.seg
    if len(inner) == 0:
        return _assemble(seg, seg, np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0, bool),
                         seg, extend_um, c, s)  # fmt: skip
    # each inner piece lies in one full piece of the same scan line; full pieces too near
    # the boundary for an inner piece are printed on their own
    full, orphan = host_extents(seg, line, inner, inner_scan.line)
    order, flipped, chain_start = link_scanlines(inner, inner_scan.line, max(link_um, follow_um))
    # a connector clear of the region's rings lies inside the region, hence inside the region
    # grown by the inset once the inset covers the offset's rounding to whole micrometres;
    # GEOS decides the others (and all of them for an inset under 1 µm)
    margin = CLEAR_MARGIN_UM if inset >= 1.0 else -1.0
    ends, state = straight_links(inner, order, flipped, chain_start, c, s, link_um, scan.rot,
                                 scan.ring_start, spacing_um, margin)  # fmt: skip
    ok = state == LINK_CLEAR
    check = np.flatnonzero(state == LINK_CHECK)
    if len(check):
        ok[check] = _covered(region, ends[check], inset)
    arcs = anchors = None
    if follow_um > 0:
        boundary = _Boundary.of(inner_scan)
        rest = (state != LINK_BREAK) & ~ok
        if rest.any():
            found, offsets, pts = boundary.paths(ends, rest, follow_um)
            ok |= found
            arcs = (offsets, pts)
        anchors = boundary.anchors(inner, order, flipped, ok, c, s, link_um, 2.0 * inset)
    return _assemble(inner, full, order, flipped, ok, seg[orphan], extend_um, c, s, arcs, anchors)


def _covered(region: BaseGeometry, ends: np.ndarray, inset_um: float) -> np.ndarray:
    """Whether the straight connectors ``ends`` (float64 (C, 4) x0, y0, x1, y1 µm) stay
    inside ``region`` grown by ``inset_um`` (GEOS): bool (C,)."""
    grown = pg.offset(region, inset_um)
    shapely.prepare(grown)
    return shapely.covered_by(shapely.linestrings(ends.reshape(-1, 2, 2)), grown)


@dataclass(frozen=True, slots=True)
class _Boundary:
    """The rings of a region (µm) to walk along, as ``ring_table`` makes them (the rings of
    ``polygons.rings``: outlines counter-clockwise, holes clockwise, each from its lowest
    vertex): closed rings concatenated ``xy`` (N, 2), ``start`` (R + 1,), cumulative lengths
    ``cum`` and ``cum_s`` (N,) and bounding boxes ``box`` (R, 4)."""

    xy: np.ndarray
    start: np.ndarray
    cum: np.ndarray
    cum_s: np.ndarray
    box: np.ndarray

    @classmethod
    def of(cls, scan: _Scan) -> _Boundary:
        """From the rings of a scan."""
        return cls(*ring_table(scan.xy, scan.ring_start, scan.is_hole))

    def paths(
        self, ends: np.ndarray, want: np.ndarray, max_um: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each pair ends[i] = (xa, ya, xb, yb) (float64 (K, 4) µm) with ``want[i]``: whether
        a and b lie on one ring and the shorter way round between them is at most ``max_um``
        long (bool (K,)), and the ring vertices strictly between them that way as CSR:
        offsets int64 (K + 1,), points float64 (Q, 2) µm (``boundary_paths``)."""
        b = self
        return boundary_paths(b.xy, b.start, b.cum, b.cum_s, b.box, ends, want, max_um)

    def anchors(
        self,
        inner: np.ndarray,
        order: np.ndarray,
        flipped: np.ndarray,
        ok: np.ndarray,
        c: float,
        s: float,
        max_um: float,
        keep_off_um: float,
    ) -> tuple[_Runs, _Runs]:
        """Anchors for the free ends of the chains (PrusaSlicer's ``infill_anchor``): from the
        end, along these rings (the connectors' path), up to ``max_um`` long and no closer
        than ``keep_off_um`` to the next line end, whichever way leaves more room
        (``anchor_walks``). Returns (points before each position's entry end, points after
        its exit end) as CSR per position, µm unrotated, walking away from the end."""
        b = self
        before_start, before, after_start, after = anchor_walks(
            b.xy, b.start, b.cum, b.cum_s, b.box, inner, order, flipped, ok, c, s,
            max_um, keep_off_um,
        )  # fmt: skip
        return (before_start, before), (after_start, after)


def _assemble(
    inner: np.ndarray,
    full: np.ndarray,
    order: np.ndarray,
    flipped: np.ndarray,
    ok: np.ndarray,
    loose: np.ndarray,
    extend_um: float,
    c: float,
    s: float,
    arcs: _Runs | None = None,
    anchors: tuple[_Runs, _Runs] | None = None,
) -> list[tuple[np.ndarray, float]]:
    """Polylines (mm) and flow factors from chained pieces (rotated frame, µm).

    ``inner``/``full``: (S, 4) each piece's joined-end and free-end extents; ``order``,
    ``flipped`` from ``link_scanlines``; ``ok`` (len(order) - 1,) whether position p is
    joined to p + 1, through the points of ``arcs`` for p (CSR, µm unrotated) when given;
    ``loose`` (L, 4): extra single lines (full extents); ``anchors`` from
    ``_Boundary.anchors`` (an anchored end stops where a joined one does and runs on along
    the anchor). See ``assemble_lines``."""
    none = (np.zeros(len(order) + 1, np.int64), np.zeros((0, 2)))
    arc_start, arc_pts = none if arcs is None else arcs
    (before_start, before), (after_start, after) = (none, none) if anchors is None else anchors
    pts, line_start, first, widths, length = assemble_lines(
        inner, full, order, flipped, ok, loose, extend_um, c, s,
        arc_start, arc_pts, before_start, before, after_start, after,
    )  # fmt: skip
    plain = np.add.reduceat(widths, first)  # numpy's sum, to the last bit
    factor = (plain / np.maximum(length, 1e-9)).tolist()
    mm = pts / pg.UM_PER_MM
    bounds = line_start.tolist()
    return [(mm[a:b], f) for a, b, f in zip(bounds[:-1], bounds[1:], factor, strict=True)]


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
