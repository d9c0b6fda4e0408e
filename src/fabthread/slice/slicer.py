"""The FDM slicer: Part -> LayerStack -> perimeters, skins, infill, skirt -> Toolpath.

Per layer: plan each island (perimeter loops, infill region), split infill into top surface,
solid and sparse by comparing with the layers above and below, hatch with rectilinear lines,
choose seams, order paths greedily by nearest neighbour and turn them into moves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from fabthread.geom import polygons as pg
from fabthread.model.part import Part
from fabthread.model.settings import SliceSettings
from fabthread.model.toolpath import MoveKind, Toolpath
from fabthread.slice.infill import rectilinear
from fabthread.slice.kernels.order import build_moves, order_paths
from fabthread.slice.regions import (
    IslandPlan,
    cross_section_mm2,
    layer_skins,
    plan_island,
    spacing_mm,
)
from fabthread.slice.sections import slice_layers

Progress = Callable[[int, int], None]


@dataclass
class _Paths:
    """Paths of one layer, collected before ordering (mutable scratch, never leaves here)."""

    pts: list[np.ndarray] = field(default_factory=list)  # float64 (n, 2) mm
    kind: list[int] = field(default_factory=list)
    mm3_per_mm: list[float] = field(default_factory=list)
    feed: list[float] = field(default_factory=list)
    reversible: list[bool] = field(default_factory=list)
    group: list[int] = field(default_factory=list)
    obj: list[int] = field(default_factory=list)

    def add(
        self,
        pts: np.ndarray,
        kind: int,
        mm3: float,
        feed: float,
        rev: bool,
        group: int,
        obj: int = 0,
    ) -> None:
        self.pts.append(pts)
        self.kind.append(kind)
        self.mm3_per_mm.append(mm3)
        self.feed.append(feed)
        self.reversible.append(rev)
        self.group.append(group)
        self.obj.append(obj)

    def add_lines(self, seg: np.ndarray, kind: int, mm3: float, feed: float, group: int) -> None:
        for row in seg:
            self.add(row.reshape(2, 2), kind, mm3, feed, True, group)


def _seam_loop(loop_um: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The loop (µm ring) in mm, started at the vertex nearest to any of ``targets`` (k, 2) mm
    and closed (first point repeated)."""
    xy = loop_um.astype(np.float64) / pg.UM_PER_MM
    d = ((xy[:, None, :] - targets[None, :, :]) ** 2).sum(axis=2).min(axis=1)
    i = int(np.argmin(d))
    rolled = np.roll(xy, -i, axis=0)
    return np.vstack([rolled, rolled[:1]])


def slice_part(
    part: Part,
    settings: SliceSettings,
    *,
    retract_min_travel_mm: float = 1.5,
    progress: Progress | None = None,
) -> Toolpath:
    """Slice a part that already sits on the bed (z-min = 0) into an FDM toolpath.

    Coordinates are machine mm; feeds mm/min; ``extrude_mm3`` = line cross-section × length.
    object_id 0 is the part, -1 the skirt. ``progress(done, total)`` is called per layer.
    """
    settings.validate("slice settings")
    stack, outlines = slice_layers(part, settings)
    n_layers = len(stack)
    lo, hi = part.bounds_mm
    corner = np.array([[lo[0], hi[1]]])  # rear-left: where aligned seams start
    s = settings
    rows: list[tuple] = []  # per layer: xy, feed, kind, mm3, retract, obj, layer, z
    pos = (0.0, 0.0)
    prev_seams = corner
    for li in range(n_layers):
        first = li == 0
        h = float(stack.height_mm[li])
        w = s.first_layer_width_mm if first else s.extrusion_width_mm
        sp = spacing_mm(w, h)
        area = cross_section_mm2(w, h)
        speed = (lambda v: s.first_layer_mm_s * 60.0) if first else (lambda v: v * 60.0)
        paths = _Paths()
        if first and s.skirt_loops > 0 and not outlines[0].is_empty:
            hull = shapely.convex_hull(outlines[0])
            for k in range(s.skirt_loops):
                ring = pg.offset_round(hull, (s.skirt_distance_mm + w / 2 + k * sp) * pg.UM_PER_MM)
                for loop, _ in pg.rings(ring):
                    paths.add(
                        _seam_loop(loop, corner),
                        MoveKind.SKIRT,
                        area,
                        speed(s.perimeter_mm_s),
                        False,
                        0,
                        obj=-1,
                    )
        plans = [plan_island(isl, s.perimeters, w, sp) for isl in pg.islands(outlines[li])]
        fill = pg.union(*[p.fill for p in plans])
        skins = layer_skins(fill, outlines, li, s.top_layers, s.bottom_layers)
        lines = _infill_lines(skins, li, s, sp)
        seams: list[np.ndarray] = []
        rank = _island_order(plans, pos)
        for r, ii in enumerate(rank):
            plan = plans[ii]
            base = 1 + r * (s.perimeters + 2)
            if plan.tiny:
                isl_area = pg.area_mm2(plan.outline)
                for loop in plan.loops[0]:
                    pts = _seam_loop(loop, prev_seams)
                    length = float(np.hypot(*np.diff(pts, axis=0).T).sum())
                    if length <= 0:
                        continue
                    seams.append(pts[0])
                    paths.add(
                        pts,
                        MoveKind.EXTERNAL_PERIMETER,
                        isl_area * h / length / len(plan.loops[0]),
                        speed(s.external_perimeter_mm_s),
                        False,
                        base,
                    )
                continue
            for k, level in enumerate(plan.loops):
                sub = k if s.external_perimeter_first else s.perimeters - 1 - k
                loop_kind = MoveKind.EXTERNAL_PERIMETER if k == 0 else MoveKind.PERIMETER
                v = s.external_perimeter_mm_s if k == 0 else s.perimeter_mm_s
                for loop in level:
                    pts = _seam_loop(loop, prev_seams)
                    seams.append(pts[0])
                    paths.add(pts, loop_kind, area, speed(v), False, base + sub)
            for kind, seg, v in lines:
                mine = _lines_in(seg, plan.outline)
                paths.add_lines(seg[mine], kind, area, speed(v), base + s.perimeters)
        if seams:
            prev_seams = np.array(seams)
        rows.append(_layer_moves(paths, pos, li, float(stack.z_mm[li]), s, retract_min_travel_mm))
        if len(rows[-1][0]):
            pos = (float(rows[-1][0][-1, 0]), float(rows[-1][0][-1, 1]))
        if progress is not None:
            progress(li + 1, n_layers)
    return _toolpath(rows, stack.z_mm, stack.height_mm, part.name)


def _infill_lines(
    skins, layer: int, s: SliceSettings, sp: float
) -> list[tuple[int, np.ndarray, float]]:
    """(kind, lines float64 (S, 4) mm, speed mm/s) of the top, solid and sparse regions."""
    sp_um = sp * pg.UM_PER_MM
    solid_angle = 45.0 if layer % 2 == 0 else 135.0
    out = [
        (MoveKind.TOP_SOLID, rectilinear(skins.top, solid_angle, sp_um), s.top_solid_mm_s),
        (MoveKind.SOLID_INFILL, rectilinear(skins.solid, solid_angle, sp_um), s.solid_infill_mm_s),
    ]
    if s.infill_density > 0:
        angle = s.infill_angle_deg + (90.0 if layer % 2 else 0.0)
        sparse = rectilinear(skins.sparse, angle, sp_um / s.infill_density)
        out.append((MoveKind.SPARSE_INFILL, sparse, s.infill_mm_s))
    return [(k, seg, v) for k, seg, v in out if len(seg)]


def _lines_in(seg: np.ndarray, outline: BaseGeometry) -> np.ndarray:
    """bool (S,): lines whose midpoint lies in ``outline`` (µm)."""
    if len(seg) == 0:
        return np.zeros(0, dtype=bool)
    mx = (seg[:, 0] + seg[:, 2]) * (pg.UM_PER_MM / 2.0)
    my = (seg[:, 1] + seg[:, 3]) * (pg.UM_PER_MM / 2.0)
    return shapely.intersects_xy(outline, mx, my)


def _island_order(plans: list[IslandPlan], pos: tuple[float, float]) -> list[int]:
    """Islands in greedy nearest-neighbour order from ``pos`` (by a point of each outline)."""
    if len(plans) <= 1:
        return list(range(len(plans)))
    ref = (
        np.array([shapely.get_coordinates(shapely.get_exterior_ring(p.outline))[0] for p in plans])
        / pg.UM_PER_MM
    )
    order, _ = order_paths(
        ref, ref, np.zeros(len(plans), bool), np.zeros(len(plans), np.int64), pos[0], pos[1]
    )
    return [int(i) for i in order]


def _layer_moves(
    paths: _Paths,
    pos: tuple[float, float],
    layer: int,
    z: float,
    s: SliceSettings,
    retract_min: float,
) -> tuple:
    n = len(paths.pts)
    if n == 0:
        return (
            np.zeros((0, 2)),
            np.zeros(0),
            np.zeros(0, np.uint8),
            np.zeros(0),
            np.zeros(0, bool),
            np.zeros(0, np.int16),
            layer,
            z,
        )
    group = np.array(paths.group, dtype=np.int64)
    # stable sort by group so the kernel sees contiguous groups
    perm = np.argsort(group, kind="stable")
    pts = [paths.pts[i] for i in perm]
    lengths = np.array([len(p) for p in pts], dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    allpts = np.ascontiguousarray(np.concatenate(pts), dtype=np.float64)
    firsts = allpts[start[:-1]]
    lasts = allpts[start[1:] - 1]
    rev = np.array(paths.reversible, dtype=bool)[perm]
    order, flipped = order_paths(firsts, lasts, rev, group[perm], pos[0], pos[1])
    xy, feed, kind, mm3, retract, path = build_moves(
        allpts,
        start,
        order,
        flipped,
        np.array(paths.kind, dtype=np.uint8)[perm],
        np.array(paths.mm3_per_mm, dtype=np.float64)[perm],
        np.array(paths.feed, dtype=np.float64)[perm],
        pos[0],
        pos[1],
        s.travel_mm_s * 60.0,
        retract_min,
        True,
    )
    obj = np.array(paths.obj, dtype=np.int16)[perm][path]
    return xy, feed, kind, mm3, retract, obj, layer, z


def _toolpath(rows: list[tuple], z_mm: np.ndarray, h_mm: np.ndarray, name: str) -> Toolpath:
    n = sum(len(r[0]) for r in rows)
    xyz = np.zeros((n, 3))
    layer = np.zeros(n, np.int32)
    i = 0
    for r in rows:
        m = len(r[0])
        xyz[i : i + m, :2] = r[0]
        xyz[i : i + m, 2] = r[7]
        layer[i : i + m] = r[6]
        i += m

    def cat(k: int, dtype) -> np.ndarray:
        return np.concatenate([r[k] for r in rows]).astype(dtype) if rows else np.zeros(0, dtype)

    return Toolpath(
        process="fdm",
        xyz_mm=xyz,
        feed_mm_min=cat(1, np.float64),
        kind=cat(2, np.uint8),
        extrude_mm3=cat(3, np.float64),
        power=np.zeros(n),
        layer=layer,
        retract=cat(4, bool),
        object_id=cat(5, np.int16),
        tool=np.zeros(n, np.int8),
        layer_z_mm=z_mm,
        layer_height_mm=h_mm,
        object_names=(name,),
    )
