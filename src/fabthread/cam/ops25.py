"""2.5D milling: facing, profiles with tabs and ramp entry, pockets with islands, drilling.

Tool radius compensation is done here (the G-code carries tool-centre paths). Offsets use
round joins drawn *outside* the true arc (radius / cos(half segment angle)), so the polygonal
centre path never comes closer to the part than the tool radius; flat walls get at most
``_ARC_EXCESS`` of extra stock. Every move between features goes up to the clearance height
first, and features are visited nearest-first.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from fabthread.cam.features import Slabs, circle_fit, filled, holes
from fabthread.cam.moves import MoveBuilder
from fabthread.cam.setup import CutData
from fabthread.errors import ParamError
from fabthread.geom import polygons as pg
from fabthread.model.cam import DrillOp, FaceOp, PocketOp, ProfileOp, Stock, peck_steps

_QUAD = 16
_ARC_EXCESS = 1.0 / math.cos(math.pi / (4 * _QUAD))  # circumscribed polygon factor
UM = pg.UM_PER_MM


def grow(region: BaseGeometry, mm: float) -> BaseGeometry:
    """``region`` offset by ``mm`` (negative shrinks), never closer than ``|mm|`` to it."""
    if region.is_empty:
        return pg.EMPTY
    d = mm * UM * (_ARC_EXCESS if mm > 0 else 1.0)
    out = shapely.buffer(region, d, quad_segs=_QUAD, join_style="round")
    if mm < 0:  # erosion: grow the complement's arcs outward too
        out = shapely.buffer(region, d * _ARC_EXCESS, quad_segs=_QUAD, join_style="round")
    return pg.polygonal(shapely.set_precision(out, 1.0))


def _rings(region: BaseGeometry, climb_outside: bool = True) -> list[np.ndarray]:
    """Closed rings (mm, (n + 1, 2), first point repeated) of ``region``: exteriors clockwise
    (climb milling around material outside them), holes counter-clockwise."""
    out = []
    for poly in pg.islands(region):
        o = shapely.orient_polygons(poly, exterior_cw=climb_outside)
        out.append(shapely.get_coordinates(o.exterior) / UM)
        out += [shapely.get_coordinates(h) / UM for h in o.interiors]
    return out


def _nearest_order(starts: list[np.ndarray], pos: np.ndarray) -> list[int]:
    left = list(range(len(starts)))
    order = []
    while left:
        d = [float(np.hypot(*(starts[i][:2] - pos[:2]))) for i in left]
        k = left.pop(int(np.argmin(d)))
        order.append(k)
        pos = starts[k]
    return order


def _ring_at(ring: np.ndarray, start: int) -> np.ndarray:
    """Closed ring re-started at vertex ``start``."""
    body = ring[:-1]
    body = np.roll(body, -start, axis=0)
    return np.vstack([body, body[:1]])


def _z_profile(
    ring: np.ndarray,
    z_top: float,
    z_bot: float,
    stepdown: float,
    ramp_slope: float,
    tabs: list[tuple[float, float]],
    tab_top: float,
) -> list[tuple[np.ndarray, int]]:
    """Points (x, y, z) of a continuous ramp down along the closed ``ring``: at most
    ``stepdown`` per lap and ``ramp_slope`` (dz/ds), then a full lap at ``z_bot``. Inside the
    arc-length intervals ``tabs`` z stays at or above ``tab_top``. Returns (points, lap)."""
    seg = np.hypot(*np.diff(ring, axis=0).T)
    per = float(seg.sum())
    if per <= 0:
        return []
    slope = min(ramp_slope, stepdown / per)
    depth = z_top - z_bot
    laps = int(math.ceil(depth / (slope * per) - 1e-9)) + 1
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    # sample: ring vertices of every lap plus tab boundaries, all in total arc length
    s_all = [cum + k * per for k in range(laps)]
    for k in range(laps):
        for a, b in tabs:
            s_all.append(np.array([a, b]) + k * per)
    s = np.unique(np.concatenate(s_all))
    s = s[s <= laps * per + 1e-9]
    z = np.maximum(z_top - slope * s, z_bot)
    local = np.mod(s, per)
    xy = np.column_stack([np.interp(local, cum, ring[:, 0]), np.interp(local, cum, ring[:, 1])])
    out: list[tuple[np.ndarray, int]] = []
    for i in range(len(s)):
        zi = z[i]
        in_tab = any(a - 1e-9 <= local[i] <= b + 1e-9 for a, b in tabs)
        if in_tab and zi < tab_top:
            # vertical step at the tab's edges: come in at the low z, then rise
            a_edge = any(abs(local[i] - a) < 1e-9 for a, _ in tabs)
            b_edge = any(abs(local[i] - b) < 1e-9 for _, b in tabs)
            if a_edge:
                out.append((np.array([xy[i, 0], xy[i, 1], zi]), int(s[i] // per)))
                out.append((np.array([xy[i, 0], xy[i, 1], tab_top]), int(s[i] // per)))
            elif b_edge:
                out.append((np.array([xy[i, 0], xy[i, 1], tab_top]), int(s[i] // per)))
                out.append((np.array([xy[i, 0], xy[i, 1], zi]), int(s[i] // per)))
            else:
                out.append((np.array([xy[i, 0], xy[i, 1], tab_top]), int(s[i] // per)))
        else:
            out.append((np.array([xy[i, 0], xy[i, 1], zi]), int(s[i] // per)))
    return out


def _tabs(per: float, count: int, width: float, diameter: float) -> list[tuple[float, float]]:
    if count <= 0 or per < count * (width + diameter) * 2:
        return []
    span = width + diameter
    return [
        (per * (k + 0.5) / count - span / 2, per * (k + 0.5) / count + span / 2)
        for k in range(count)
    ]


def profile(
    sl: Slabs, op: ProfileOp, cd: CutData, stock: Stock, clearance_z: float, mb: MoveBuilder
) -> None:
    """Outside: around the part's outline; inside: around its through holes."""
    r = cd.tool.radius_mm + op.stock_to_leave_mm
    sil = sl.silhouette()
    if op.side == "outside":
        rings = _rings(grow(filled(sil), r))
        tab_list = True
    else:
        rings = []
        for h in holes(sil):
            inner = grow(h, -r)
            if inner.is_empty:
                continue  # the tool does not fit: left for the drill op
            rings += _rings(inner, climb_outside=False)
        tab_list = False
    z_bot = sl.bottom - op.through_mm if op.bottom_z_mm is None else op.bottom_z_mm
    z_top = stock.top_z_mm
    if z_top - z_bot > cd.tool.flute_length_mm:
        raise ParamError(
            f"profile depth {z_top - z_bot:.2f} mm is more than the flute length "
            f"{cd.tool.flute_length_mm:g} mm of tool {cd.tool.id}"
        )
    stepdown = op.stepdown_mm or cd.stepdown_mm
    slope = math.tan(math.radians(op.ramp_angle_deg)) if op.entry != "plunge" else 1e9
    tab_top = sl.bottom + op.tab_height_mm
    mb.set(tool=cd.tool.number, power=cd.power)
    pos = np.array(mb.pos if mb.pos is not None else (0.0, 0.0, clearance_z))
    for k in _nearest_order([rg[0] for rg in rings], pos):
        ring = rings[k]
        start = int(np.argmin(np.hypot(*(ring[:-1] - pos[:2]).T)))
        ring = _ring_at(ring, start)
        per = float(np.hypot(*np.diff(ring, axis=0).T).sum())
        tabs = _tabs(per, op.tab_count, op.tab_width_mm, cd.tool.diameter_mm) if tab_list else []
        pts = _z_profile(
            ring, z_top, z_bot, stepdown, slope, tabs, tab_top if tab_top > z_bot else z_bot
        )
        if not pts:
            continue
        first = pts[0][0]
        lead = _lead_point(ring, op.lead_in_mm, outward=op.side == "outside")
        mb.retract_to(lead[0], lead[1], clearance_z)
        mb.rapid(lead[0], lead[1], z_top + 1.0)
        mb.plunge(lead[0], lead[1], first[2], cd.plunge_mm_min)
        mb.cut(first[0], first[1], first[2], cd.feed_mm_min)
        for p, lap in pts[1:]:
            mb.set(layer=lap, layer_z=max(z_bot, z_top - (lap + 1) * stepdown))
            here = mb.here()
            down = p[2] < here[2] - 1e-9 and _horiz(p, here) < 1e-6
            mb.cut(p[0], p[1], p[2], cd.plunge_mm_min if down else cd.feed_mm_min)
        here = mb.here()
        mb.rapid(here[0], here[1], clearance_z)
        pos = np.array(mb.here())


def _horiz(p: np.ndarray, q: tuple[float, float, float]) -> float:
    return float(math.hypot(p[0] - q[0], p[1] - q[1]))


def _lead_point(ring: np.ndarray, dist: float, outward: bool) -> np.ndarray:
    """A point ``dist`` from the ring's start, perpendicular to its first segment, on the
    side away from the part. Outside rings run clockwise and hole rings counter-clockwise
    (both climb milling), so the part is always on the right and the lead on the left;
    ``outward`` only documents the caller's side."""
    d = ring[1] - ring[0]
    n = np.hypot(*d)
    if n == 0 or dist <= 0:
        return ring[0]
    d = d / n
    del outward
    left = np.array([-d[1], d[0]])
    return ring[0] + dist * left


def pocket(
    sl: Slabs, op: PocketOp, cd: CutData, stock: Stock, clearance_z: float, mb: MoveBuilder
) -> None:
    """Clear the part's pockets and steps level by level, islands kept."""
    r = cd.tool.radius_mm
    leave = op.stock_to_leave_mm
    stepover = (op.stepover_frac or cd.stepover_frac) * cd.tool.diameter_mm
    stepdown = op.stepdown_mm or cd.stepdown_mm
    sil_f = filled(sl.silhouette())
    reach = grow(sil_f, r)
    floors = [z for z in sl.floors() if z < stock.top_z_mm]
    if not floors:
        return
    levels: list[float] = []
    z = stock.top_z_mm
    for f in sorted(floors, reverse=True):
        while z - stepdown > f + 1e-6:
            z -= stepdown
            levels.append(z)
        z = f
        levels.append(f)
    mb.set(tool=cd.tool.number, power=cd.power)
    prev_z = stock.top_z_mm
    prev_allowed = pg.EMPTY
    for li, zl in enumerate(levels):
        allowed = pg.difference(reach, grow(sl.above(zl), r + leave))
        # opening by 10 µm: drops the slivers two nearly equal offsets leave between them
        allowed = pg.polygonal(
            shapely.set_precision(
                shapely.buffer(
                    shapely.buffer(allowed, -10.0, join_style="mitre"), 10.0, join_style="mitre"
                ),
                1.0,
            )
        )
        mb.set(layer=li, layer_z=zl)
        comps = pg.islands(allowed)
        pos = np.array(mb.pos if mb.pos is not None else (0.0, 0.0, clearance_z))
        for k in _nearest_order([_start_of(c) for c in comps], pos):
            comp = comps[k]
            if op.pattern == "zigzag":
                paths = _zigzag(comp, stepover, op.zigzag_angle_deg) + _rings(comp)
            else:
                paths = _offset_rings(comp, stepover)
            # enter from the previous level only where that level was cleared
            inside = shapely.buffer(prev_allowed, 2.0).contains(comp)
            top = prev_z if inside else stock.top_z_mm
            _cut_paths(paths, comp, zl, top, cd, op, clearance_z, mb)
        prev_z = zl
        prev_allowed = allowed
    if mb.pos is not None:
        mb.rapid(mb.pos[0], mb.pos[1], clearance_z)


def _start_of(region: BaseGeometry) -> np.ndarray:
    p = region.representative_point()
    return np.array([p.x / UM, p.y / UM, 0.0])


def _offset_rings(comp: BaseGeometry, stepover: float) -> list[np.ndarray]:
    """Rings from the innermost to the boundary of ``comp``, ``stepover`` apart."""
    out: list[list[np.ndarray]] = []
    cur = comp
    while not cur.is_empty:
        out.append(_rings(cur))
        cur = pg.polygonal(
            shapely.set_precision(shapely.buffer(cur, -stepover * UM, quad_segs=_QUAD), 1.0)
        )
    return [rg for level in reversed(out) for rg in level]


def _zigzag(comp: BaseGeometry, stepover: float, angle_deg: float) -> list[np.ndarray]:
    a = math.radians(angle_deg)
    rot = shapely.affinity.rotate(comp, -angle_deg, origin=(0, 0), use_radians=False)
    x0, y0, x1, y1 = rot.bounds
    ys = np.arange(y0 + stepover * UM / 2, y1, stepover * UM)
    lines = shapely.linestrings([[[x0 - 1, y], [x1 + 1, y]] for y in ys]) if len(ys) else []
    out = []
    for i, ln in enumerate(lines):
        for part in shapely.get_parts(shapely.intersection(ln, rot)):
            if part.geom_type != "LineString" or part.length <= 0:
                continue
            xy = shapely.get_coordinates(part)
            xy = xy[::-1] if i % 2 else xy
            c, s = math.cos(a), math.sin(a)
            back = np.column_stack([xy[:, 0] * c - xy[:, 1] * s, xy[:, 0] * s + xy[:, 1] * c])
            out.append(back / UM)
    return out


def _cut_paths(
    paths: list[np.ndarray],
    comp: BaseGeometry,
    z: float,
    prev_z: float,
    cd: CutData,
    op: PocketOp,
    clearance_z: float,
    mb: MoveBuilder,
) -> None:
    """Cut ``paths`` (xy polylines inside ``comp``) at height ``z``; the first entry ramps or
    spirals down from ``prev_z``; links stay at depth when they lie inside ``comp``."""
    safe = shapely.buffer(comp, 2.0)  # 2 µm slack for the rounding of coordinates
    shapely.prepare(safe)
    at_depth = False
    for path in paths:
        if len(path) < 2:
            continue
        if at_depth and mb.pos is not None:
            link = shapely.LineString(
                [(mb.pos[0] * UM, mb.pos[1] * UM), (path[0, 0] * UM, path[0, 1] * UM)]
            )
            if safe.contains(link):
                mb.cut(path[0, 0], path[0, 1], z, cd.feed_mm_min)
            else:
                at_depth = False
        if not at_depth:
            mb.retract_to(path[0, 0], path[0, 1], clearance_z)
            mb.rapid(path[0, 0], path[0, 1], prev_z + 1.0)
            _entry(path, z, prev_z, cd, op, safe, mb)
            at_depth = True
        for p in path[1:]:
            mb.cut(p[0], p[1], z, cd.feed_mm_min)


def _entry(
    path: np.ndarray,
    z: float,
    prev_z: float,
    cd: CutData,
    op: PocketOp,
    safe: BaseGeometry,
    mb: MoveBuilder,
) -> None:
    """Get down to ``z`` at ``path[0]``: a helix around it if it fits inside ``safe``,
    else a ramp back and forth along the path's first segment, else a plunge."""
    x, y = path[0]
    slope = math.tan(math.radians(op.ramp_angle_deg))
    hr = 0.4 * cd.tool.radius_mm
    if op.entry == "helix" and safe.contains(shapely.Point(x * UM, y * UM).buffer(hr * UM)):
        per = 2 * math.pi * hr
        turns = max(1, int(math.ceil((prev_z - z) / (slope * per))))
        n = 24 * turns
        cx, cy = x - hr, y
        for i in range(1, n + 1):
            ang = 2 * math.pi * i / 24
            mb.cut(
                cx + hr * math.cos(ang),
                cy + hr * math.sin(ang),
                prev_z - (prev_z - z) * i / n,
                cd.plunge_mm_min,
            )
        return
    if op.entry in ("ramp", "helix"):
        seg = path[1] - path[0]
        length = float(np.hypot(*seg))
        if length > 1e-3:
            zc = prev_z
            fwd = True
            while zc > z + 1e-9:
                zc = max(z, zc - slope * length)
                p = path[1] if fwd else path[0]
                mb.cut(p[0], p[1], zc, cd.plunge_mm_min)
                fwd = not fwd
            if not fwd:
                mb.cut(x, y, z, cd.feed_mm_min)
            else:
                mb.cut(path[0][0], path[0][1], z, cd.feed_mm_min)
            return
    mb.plunge(x, y, z, cd.plunge_mm_min)


def face(
    op: FaceOp, cd: CutData, stock: Stock, part_top: float, clearance_z: float, mb: MoveBuilder
) -> None:
    """Zigzag over the whole stock (tool fully outside it at both ends) down to
    ``stock top - depth`` (not below ``part_top``)."""
    r = cd.tool.radius_mm
    z_end = max(stock.top_z_mm - op.depth_mm, part_top)
    if z_end >= stock.top_z_mm - 1e-9:
        return
    stepover = (op.stepover_frac or min(0.7, cd.stepover_frac * 1.5)) * cd.tool.diameter_mm
    stepdown = cd.stepdown_mm
    (x0, y0, _), (x1, y1, _) = stock.min_xyz_mm, stock.max_xyz_mm
    ys = np.arange(y0, y1 + stepover, stepover)
    levels = []
    z = stock.top_z_mm
    while z - stepdown > z_end + 1e-9:
        z -= stepdown
        levels.append(z)
    levels.append(z_end)
    mb.set(tool=cd.tool.number, power=cd.power)
    for li, zl in enumerate(levels):
        mb.set(layer=li, layer_z=zl)
        xa, xb = x0 - r - 1.0, x1 + r + 1.0
        mb.retract_to(xa, ys[0], clearance_z)
        mb.plunge(xa, ys[0], zl, cd.plunge_mm_min)
        for i, y in enumerate(ys):
            a, b = (xa, xb) if i % 2 == 0 else (xb, xa)
            mb.cut(a, y, zl, cd.feed_mm_min)
            mb.cut(b, y, zl, cd.feed_mm_min)
        here = mb.here()
        mb.rapid(here[0], here[1], clearance_z)


def drill(
    sl: Slabs, op: DrillOp, cd: CutData, stock: Stock, clearance_z: float, mb: MoveBuilder
) -> int:
    """Peck-drill the holes of ``op`` (or the part's round through holes that match the
    drill); returns how many. Moves follow ``fabthread.model.cam.peck_steps``."""
    if cd.tool.kind != "drill":
        raise ParamError(f"drill op needs a drill, tool {cd.tool.id} is a {cd.tool.kind}")
    targets: list[tuple[float, float, float]] = []
    if op.holes:
        targets = [(x, y, stock.top_z_mm - d) for x, y, d in op.holes]
    else:
        for h in holes(sl.silhouette()):
            cx, cy, dia, dev = circle_fit(h)
            if dev < 0.1 and abs(dia - cd.tool.diameter_mm) <= op.match_mm:
                targets.append((cx, cy, sl.bottom - op.through_mm))
    peck = op.peck_mm or cd.peck_mm
    r_z = stock.top_z_mm + op.retract_mm
    mb.set(tool=cd.tool.number, power=cd.power, layer=0, layer_z=r_z)
    pos = np.array(mb.pos if mb.pos is not None else (0.0, 0.0, clearance_z))
    starts = [np.array(t) for t in targets]
    for k in _nearest_order(starts, pos):
        x, y, zb = targets[k]
        mb.retract_to(x, y, clearance_z)
        mb.rapid(x, y, r_z)
        for is_feed, z in peck_steps(r_z, zb, peck):
            if is_feed:
                mb.plunge(x, y, z, cd.plunge_mm_min)
            else:
                mb.rapid(x, y, z)
        mb.rapid(x, y, clearance_z)
    return len(targets)
