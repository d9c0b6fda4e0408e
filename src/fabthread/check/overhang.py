"""FDM overhangs and bridges: downward-facing surfaces that are not on the bed.

``bridge``: a horizontal downward region (within ``HORIZONTAL_DEG`` of flat) held by material
that goes down to the bed on two or more separate sides (or all around, like the ceiling of a
cavity). Its span is twice the largest distance from any point of the region to the nearest
holding edge: the length the extrusion hangs free. Warning above ``max_bridge_mm``.

``overhang``: every other connected region of faces tilted further from the vertical than the
support angle (cantilevers, ceilings held on one side, steep slopes), not resting on the bed.
Warning with its area when a region is at least ``min_overhang_area_mm2``; smaller regions
(the top of a horizontal screw hole, a chamfer's lip) are one info finding.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
import trimesh
from shapely.geometry import MultiLineString, Polygon

from fabthread.check._geom import as_trimesh, face_normals, face_regions, region_centroid
from fabthread.check.limits import CheckLimits
from fabthread.model.findings import Finding, Point
from fabthread.model.part import Part
from fabthread.model.profiles import MachineProfile, MaterialProfile

#: Faces within this many degrees of horizontal count as flat (bridge candidates).
HORIZONTAL_DEG = 5.0
#: Points per side of the grid that samples a bridge region for its span.
SPAN_GRID = 41
MAX_LOCATIONS = 10


def check_overhangs(
    part: Part,
    machine: MachineProfile,
    material: MaterialProfile | None = None,
    *,
    limits: CheckLimits | None = None,
) -> list[Finding]:
    """``overhang`` and ``bridge`` findings for ``part`` (see the module docstring)."""
    limits = limits or CheckLimits.from_profiles(machine, material)
    mesh = as_trimesh(part)
    tris = np.asarray(mesh.triangles)
    normals, areas = face_normals(tris)
    z_bed = float(part.bounds_mm[0, 2])
    above = tris[:, :, 2].mean(axis=1) > z_bed + limits.bed_contact_mm
    flat = above & (normals[:, 2] < -math.cos(math.radians(HORIZONTAL_DEG)))
    steep = above & (normals[:, 2] < -math.sin(math.radians(limits.support_angle_deg)))

    out: list[Finding] = []
    bridged = np.zeros(len(tris), dtype=bool)
    long_bridges: list[tuple[float, Point, np.ndarray]] = []
    for region in face_regions(mesh, flat):
        anchors = _anchor_edges(mesh, region, limits.tolerance_mm * 10)
        if not _held_on_two_sides(anchors):
            continue
        bridged[region] = True
        span, where = _span(tris[region], mesh.vertices, anchors)
        if span > limits.max_bridge_mm:
            long_bridges.append((span, where, region))
    if long_bridges:
        long_bridges.sort(key=lambda b: -b[0])
        span, _, _ = long_bridges[0]
        out.append(
            Finding(
                "bridge",
                "warning",
                f"{len(long_bridges)} bridge(s) span up to {span:.1f} mm, above "
                f"{limits.max_bridge_mm:g} mm: they will sag",
                measured=span,
                limit=limits.max_bridge_mm,
                unit="mm",
                location=tuple(b[1] for b in long_bridges[:MAX_LOCATIONS]),
                fix="add a pillar or support under the bridge, or shorten the span",
            )
        )

    big: list[tuple[float, Point]] = []
    small_area = 0.0
    small_n = 0
    for region in face_regions(mesh, steep & ~bridged):
        area = float(areas[region].sum())
        if area >= limits.min_overhang_area_mm2:
            big.append((area, region_centroid(tris[region], areas[region])))
        else:
            small_area += area
            small_n += 1
    if big:
        big.sort(key=lambda r: -r[0])
        total = sum(a for a, _ in big)
        out.append(
            Finding(
                "overhang",
                "warning",
                f"{len(big)} overhang region(s), {total:.0f} mm2 in all (largest "
                f"{big[0][0]:.0f} mm2), are more than {limits.support_angle_deg:g}° from "
                "vertical and not on the bed: they need support",
                measured=total,
                limit=limits.min_overhang_area_mm2,
                unit="mm2",
                location=tuple(p for _, p in big[:MAX_LOCATIONS]),
                fix="enable supports, reorient the part, or chamfer the overhang to "
                f"{90 - limits.support_angle_deg:g}° or steeper from horizontal",
            )
        )
    if small_n:
        out.append(
            Finding(
                "overhang",
                "info",
                f"{small_n} small overhang region(s), {small_area:.1f} mm2 in all, each below "
                f"{limits.min_overhang_area_mm2:.1f} mm2: usually print without support",
                measured=small_area,
                limit=limits.min_overhang_area_mm2,
                unit="mm2",
            )
        )
    return out


def _anchor_edges(mesh: trimesh.Trimesh, region: np.ndarray, tol: float) -> np.ndarray:
    """Boundary edges (k, 2) vertex ids of a flat downward region whose neighbouring face goes
    down from the edge: the material that holds the region up."""
    inside = np.zeros(len(mesh.faces), dtype=bool)
    inside[region] = True
    adj = mesh.face_adjacency
    edges = mesh.face_adjacency_edges
    unshared = mesh.face_adjacency_unshared
    a_in, b_in = inside[adj[:, 0]], inside[adj[:, 1]]
    border = a_in ^ b_in
    other_vertex = np.where(a_in[border], unshared[border, 1], unshared[border, 0])
    z_region = float(mesh.vertices[mesh.faces[region]][:, :, 2].mean())
    down = mesh.vertices[other_vertex, 2] < z_region - tol
    return np.asarray(edges[border][down], dtype=np.int64)


def _held_on_two_sides(anchors: np.ndarray) -> bool:
    """True when the anchor edges form two or more separate chains, or a closed loop."""
    if len(anchors) == 0:
        return False
    groups = trimesh.graph.connected_components(anchors, min_len=1)
    if len(groups) >= 2:
        return True
    return len(anchors) >= len(np.unique(anchors))  # one chain that closes on itself


def _span(tris: np.ndarray, vertices: np.ndarray, anchors: np.ndarray) -> tuple[float, Point]:
    """Twice the largest distance from the region to its anchors, and where that is."""
    region = shapely.union_all([Polygon(t[:, :2]) for t in tris if Polygon(t[:, :2]).area > 0])
    held = MultiLineString([vertices[e][:, :2] for e in anchors])
    x0, y0, x1, y1 = region.bounds
    xs = np.linspace(x0, x1, SPAN_GRID)
    ys = np.linspace(y0, y1, SPAN_GRID)
    gx, gy = (g.ravel() for g in np.meshgrid(xs, ys))
    inside = shapely.contains_xy(region, gx, gy) | shapely.intersects_xy(region, gx, gy)
    gx, gy = gx[inside], gy[inside]
    z = float(tris[:, :, 2].mean())
    if len(gx) == 0:
        c = region.centroid
        return 2 * float(held.distance(c)), (c.x, c.y, z)
    d = shapely.distance(shapely.points(gx, gy), held)
    i = int(np.argmax(d))
    return 2 * float(d[i]), (float(gx[i]), float(gy[i]), z)
