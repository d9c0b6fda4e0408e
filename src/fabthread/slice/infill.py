"""Fill patterns: rectilinear, grid, triangles, honeycomb, gyroid, clipped to a region.

Regions are in integer micrometres; the returned paths are polylines float64 (n, 2) in mm.
Straight-line patterns are hatched by a numba scan-line kernel and, when ``link_um`` > 0,
neighbouring lines are joined along the boundary into zig-zags (so infill is anchored to the
perimeters and needs far fewer travels); curved patterns are clipped by GEOS.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from fabthread.geom import polygons as pg
from fabthread.slice.kernels.hatch import link_scanlines, scanline_segments


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
    pts, ring_start, _ = pg.to_arrays(region)
    if len(pts) == 0:
        return empty
    xy = pts.astype(np.float64)
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
) -> list[tuple[np.ndarray, float]]:
    """Rectilinear lines as (polyline mm, flow factor) pairs.

    With ``link_um`` > 0, lines of neighbouring scan lines whose ends are within ``link_um``
    of each other (along the line direction) are joined by a connector when the connector
    stays inside ``region`` grown by half a spacing. Free ends are extended by ``extend_um``
    (the infill/perimeter overlap). The flow factor (<= 1) spreads the volume of the plain
    scan lines over the whole polyline, so solid fill deposits exactly area × height whatever
    the connectors and extensions add in length.
    """
    seg, line, c, s = _rotated_segments(region, angle_deg, spacing_um)
    if len(seg) == 0:
        return []
    if link_um > 0:
        order, flipped, chain_start = link_scanlines(seg, line, link_um)
    else:
        order = np.arange(len(seg), dtype=np.int64)
        flipped = np.zeros(len(seg), dtype=bool)
        chain_start = np.arange(len(seg) + 1, dtype=np.int64)
    ok = np.zeros(max(len(order) - 1, 0), dtype=bool)
    if link_um > 0 and len(order) > 1:
        # connectors between consecutive members of a chain: check they stay inside
        ok[:] = True
        ok[chain_start[1:-1] - 1] = False
        a, b = order[:-1], order[1:]
        end_a = np.where(flipped[:-1, None], seg[a][:, 0:2], seg[a][:, 2:4])
        start_b = np.where(flipped[1:, None], seg[b][:, 2:4], seg[b][:, 0:2])
        if ok.any():
            grown = pg.offset(region, spacing_um / 2.0)
            shapely.prepare(grown)
            pa = _unrotate(end_a[ok], c, s)
            pb = _unrotate(start_b[ok], c, s)
            conn = shapely.linestrings(np.stack([pa, pb], axis=1))
            ok[ok] = shapely.covered_by(conn, grown)
    # vectorised assembly: each position contributes its entry and exit point
    m = len(order)
    joined_in = np.zeros(m, dtype=bool)
    joined_out = np.zeros(m, dtype=bool)
    joined_in[1:] = ok
    joined_out[:-1] = ok
    sg = seg[order]
    sign = np.where(flipped, -1.0, 1.0)
    xa = np.where(flipped, sg[:, 2], sg[:, 0]) - sign * extend_um * ~joined_in
    xb = np.where(flipped, sg[:, 0], sg[:, 2]) + sign * extend_um * ~joined_out
    pts = np.empty((2 * m, 2))
    pts[0::2, 0] = xa
    pts[1::2, 0] = xb
    pts[0::2, 1] = sg[:, 1]
    pts[1::2, 1] = sg[:, 1]
    ends = np.flatnonzero(~joined_out)  # last position of each polyline
    first = np.r_[0, ends[:-1] + 1]
    plain = np.add.reduceat(sg[:, 2] - sg[:, 0], first)
    step = np.hypot(*np.diff(pts, axis=0).T)
    step = np.r_[step, 0.0]
    # polyline length: the steps from its first point to its last (2·first .. 2·end + 1)
    cum = np.r_[0.0, np.cumsum(step)]
    length = cum[2 * ends + 1] - cum[2 * first]
    factor = plain / np.maximum(length, 1e-9)
    mm = _unrotate(pts, c, s) / pg.UM_PER_MM
    return [(mm[2 * a : 2 * b + 2], float(f)) for a, b, f in zip(first, ends, factor, strict=True)]


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
) -> list[np.ndarray]:
    """Sparse infill of ``region`` (µm) with ``pattern`` at ``density`` (0..1]: polylines in
    mm. Line spacings are chosen so the printed lines (one ``spacing_mm`` wide band each)
    cover ``density`` of the area: rectilinear alternates its angle by 90° per layer; grid
    prints both directions on every layer, triangles three directions 60° apart; honeycomb is
    a hexagon tiling of zig-zag rows; gyroid is the section of the gyroid surface at ``z_mm``.
    """
    if region.is_empty or density <= 0:
        return []
    sp_um = spacing_mm * pg.UM_PER_MM
    if pattern == "rectilinear":
        angle = angle_deg + (90.0 if layer % 2 else 0.0)
        return [p for p, _ in hatch(region, angle, sp_um / density, link_um=link_um)]
    if pattern == "grid":
        return [
            p
            for ang in (angle_deg, angle_deg + 90.0)
            for p, _ in hatch(region, ang, 2.0 * sp_um / density, link_um=link_um)
        ]
    if pattern == "triangles":
        return [
            p
            for ang in (angle_deg, angle_deg + 60.0, angle_deg + 120.0)
            for p, _ in hatch(region, ang, 3.0 * sp_um / density, link_um=link_um)
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
