"""Laser vector cutting: contours of a part section, kerf-compensated, holes before outlines.

Each contour is offset by half the kerf away from the part (outlines grow, holes shrink), so
the finished edge lands on the drawn one. Contours inside others are cut first (a piece that
falls out must not carry uncut holes), then nearest-first within the same depth.
"""

from __future__ import annotations

import numpy as np
import shapely
import trimesh

from fabthread.cam.features import section
from fabthread.cam.moves import MoveBuilder
from fabthread.errors import MeshError
from fabthread.geom import polygons as pg
from fabthread.model.cam import LaserCutOp, LaserSetting
from fabthread.model.part import Part

UM = pg.UM_PER_MM


def cut_contours(part: Part, op: LaserCutOp) -> list[tuple[np.ndarray, bool, int]]:
    """(ring xy mm (n + 1, 2) closed, is_hole, nesting depth) of the part's section before
    kerf offset."""
    lo, hi = part.bounds_mm
    z = op.section_z_mm if op.section_z_mm is not None else 0.5 * (lo[2] + hi[2])
    region = section(trimesh.Trimesh(part.vertices_mm, part.faces, process=False), z)
    if region.is_empty:
        raise MeshError(f"{part.name}: no section at z={z:.3f} mm to cut")
    out = []
    polys = pg.islands(region)
    for poly in polys:
        depth = 2 * sum(1 for q in polys if q is not poly and q.contains(poly))
        out.append((shapely.get_coordinates(poly.exterior) / UM, False, depth))
        out += [(shapely.get_coordinates(h) / UM, True, depth + 1) for h in poly.interiors]
    return out


def laser_cut(part: Part, op: LaserCutOp, setting: LaserSetting, mb: MoveBuilder) -> int:
    """Append the cut to ``mb``; returns the number of contours. Z stays at the part top."""
    kerf = setting.kerf_mm if op.kerf_mm < 0 else op.kerf_mm
    passes = op.passes or setting.passes
    power = setting.power if op.power < 0 else op.power
    speed = setting.speed_mm_min if op.speed_mm_min < 0 else op.speed_mm_min
    z = float(part.bounds_mm[1][2])
    rings: list[tuple[np.ndarray, bool, int]] = []
    for ring, is_hole, depth in cut_contours(part, op):
        poly = shapely.Polygon(ring * UM)
        grown = shapely.buffer(poly, (-1 if is_hole else 1) * kerf / 2 * UM, quad_segs=16)
        if grown.is_empty:
            continue  # a hole narrower than the kerf: it burns out anyway
        for g in shapely.get_parts(grown):
            oriented = shapely.orient_polygons(g, exterior_cw=not is_hole)
            rings.append((shapely.get_coordinates(oriented.exterior) / UM, is_hole, depth))
    rings.sort(key=lambda r: -r[2])  # deepest (innermost) first
    pos = np.zeros(2)
    ordered: list[tuple[np.ndarray, bool, int]] = []
    for d in sorted({r[2] for r in rings}, reverse=True):
        group = [r for r in rings if r[2] == d]
        while group:
            k = int(np.argmin([np.hypot(*(g[0][0] - pos)) for g in group]))
            item = group.pop(k)
            ordered.append(item)
            pos = item[0][-1]
    mb.set(power=power, layer=0, layer_z=z)
    for ring, _, _ in ordered:
        mb.rapid(ring[0, 0], ring[0, 1], z)
        for _ in range(passes):
            for p in ring[1:]:
                mb.laser(p[0], p[1], z, speed)
    return len(ordered)
