"""CNC (3-axis milling from above): internal corners and reachability.

``internal_corner``: a rotating cutter leaves its own radius in every inside vertical corner.
In horizontal sections, the empty space around and inside the part (the section's bounding
box, grown, minus the material) is opened with a disk of the smallest tool's radius: what the
opening cannot reach are the corners the tool cannot cut. Their radius is estimated from the
left-over area (a 90° corner of radius rho under a tool of radius r leaves
(r² - rho²)(1 - pi/4)). Error: the part will come out with rounded inside corners.

``undercut``: faces a tool coming from above cannot see. A ray goes straight up from just
outside each face (not the bottom ones); when it hits the part, the face is shadowed.
Shadowed faces a ray going straight down can reach are a warning (a second setup, flipped,
can cut them); shadowed from both sides is an error.

The stock against the work area is ``fabthread.check.volume.check_stock_size``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import box as shapely_box

from fabthread.check._geom import (
    as_trimesh,
    face_normals,
    first_hits,
    region_centroid,
    section_heights,
    section_polygons,
)
from fabthread.check.limits import CheckLimits
from fabthread.model.cam import ToolSpec
from fabthread.model.findings import Finding, Point
from fabthread.model.part import Part
from fabthread.model.profiles import MachineProfile, MaterialProfile

SECTIONS = 8
#: Left-over pieces smaller than this fraction of r² are tessellation noise (a corner whose
#: radius is within ~5 % of the tool's).
RESIDUE_FRACTION = 0.02
#: Fraction of a 90° corner a sharp corner leaves behind, per r².
_CORNER_AREA = 1.0 - math.pi / 4.0
#: Faces tested for reachability at most (the largest first).
MAX_FACES = 20_000
MAX_LOCATIONS = 10


def check_internal_corners(
    part: Part,
    machine: MachineProfile,
    material: MaterialProfile | None = None,
    *,
    tools: Sequence[ToolSpec | float] = (),
    limits: CheckLimits | None = None,
) -> list[Finding]:
    """``internal_corner`` findings: inside vertical corners tighter than the smallest tool."""
    limits = limits or CheckLimits.from_profiles(machine, material, tools=tools)
    r = limits.tool_radius_mm
    mesh = as_trimesh(part)
    lo, hi = part.bounds_mm
    corners: list[tuple[float, Point]] = []
    for z in section_heights(float(lo[2]), float(hi[2]), SECTIONS, 0.0):
        polys = section_polygons(mesh, z)
        if not polys:
            continue
        material_2d = shapely.union_all(polys)
        x0, y0, x1, y1 = material_2d.bounds
        room = shapely_box(x0 - 3 * r, y0 - 3 * r, x1 + 3 * r, y1 + 3 * r)
        empty = room.difference(material_2d)
        reached = empty.buffer(-r, quad_segs=32).buffer(r, quad_segs=32)
        left = empty.difference(reached.buffer(limits.tolerance_mm * 10))
        for piece in getattr(left, "geoms", [left]):
            if piece.is_empty or piece.area < RESIDUE_FRACTION * r * r:
                continue
            if piece.distance(material_2d) > limits.tolerance_mm * 100:
                continue  # a corner of the room around the part, not of the part
            rho = math.sqrt(max(0.0, r * r - piece.area / _CORNER_AREA))
            c = piece.centroid
            corners.append((rho, (c.x, c.y, z)))
    if not corners:
        return []
    merged = _merge_xy(corners, r)
    worst = merged[0][0]
    return [
        Finding(
            "internal_corner",
            "error",
            f"{len(merged)} inside corner(s) are tighter than the {2 * r:g} mm tool can cut "
            f"(radius about {worst:.2f} mm < {r:g} mm): they will come out rounded",
            measured=worst,
            limit=r,
            unit="mm",
            location=tuple(p for _, p in merged[:MAX_LOCATIONS]),
            fix=f"round inside vertical corners to at least {r:g} mm (or add dog-bone "
            "relief), or use a smaller tool",
        )
    ]


def check_undercuts(
    part: Part,
    machine: MachineProfile,
    material: MaterialProfile | None = None,
    *,
    limits: CheckLimits | None = None,
) -> list[Finding]:
    """``undercut`` findings: faces a 3-axis tool from above cannot reach."""
    limits = limits or CheckLimits.from_profiles(machine, material)
    mesh = as_trimesh(part)
    tris = np.asarray(mesh.triangles)
    normals, areas = face_normals(tris)
    lo, hi = part.bounds_mm
    height = float(hi[2] - lo[2])
    centre = tris.mean(axis=1)
    tol = max(limits.tolerance_mm * 10, 1e-3)
    bottom = (tris[:, :, 2].max(axis=1) <= lo[2] + tol) | (areas <= 0)
    ids = np.flatnonzero(~bottom)
    if len(ids) > MAX_FACES:
        ids = np.sort(ids[np.argsort(-areas[ids], kind="stable")[:MAX_FACES]])
    if len(ids) == 0:
        return []
    start = centre[ids] + normals[ids] * tol
    up = np.array([0.0, 0.0, 1.0])
    t_up, _ = first_hits(mesh, start, start + up * (height + 1.0))
    shadowed = np.isfinite(t_up)
    t_dn, _ = first_hits(mesh, start, start - up * (height + 1.0))
    from_below = shadowed & ~np.isfinite(t_dn)
    blind = shadowed & np.isfinite(t_dn)
    out: list[Finding] = []
    for severity, sel, what, fix in (
        (
            "error",
            blind,
            "can be reached neither from above nor from below",
            "remove the undercut (open it to the top) or make the part on a 4/5-axis machine",
        ),
        (
            "warning",
            from_below,
            "cannot be reached from above (3-axis): they need a second setup, flipped",
            "plan a second, flipped setup, or redesign so every face is visible from the top",
        ),
    ):
        faces = ids[sel]
        area = float(areas[faces].sum())
        if len(faces) == 0 or area < limits.tolerance_mm:
            continue
        biggest = faces[np.argsort(-areas[faces], kind="stable")]
        out.append(
            Finding(
                "undercut",
                severity,  # type: ignore[arg-type]
                f"{len(faces)} faces ({area:.0f} mm2) {what}",
                measured=area,
                limit=0.0,
                unit="mm2",
                location=tuple(
                    region_centroid(tris[[f]], areas[[f]]) for f in biggest[:MAX_LOCATIONS]
                ),
                face_ids=tuple(biggest[: 5 * MAX_LOCATIONS]),
                fix=fix,
            )
        )
    return out


def _merge_xy(corners: list[tuple[float, Point]], r: float) -> list[tuple[float, Point]]:
    """One entry per corner position (x, y within the tool radius), the tightest of its
    heights first."""
    corners = sorted(corners, key=lambda c: c[0])
    kept: list[tuple[float, Point]] = []
    for rho, p in corners:
        if all(math.hypot(p[0] - q[0], p[1] - q[1]) > r for _, q in kept):
            kept.append((rho, p))
    return kept
