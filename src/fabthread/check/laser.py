"""Laser cutting: the part must be a flat plate of cuttable thickness with closed outlines and
enough material (web) between neighbouring cuts.

``sheet_thickness``: the Z extent against ``max_sheet_mm`` (if another axis is thin enough,
the fix says to lay it flat); a warning when no stocked sheet has that thickness.
``not_a_plate``: sloped faces a vertical beam cannot make (error) and faces at heights
between top and bottom, i.e. pockets or steps that need engraving (warning).
``outline_open``: the cut contours at mid-thickness do not close. ``min_web``: two contours
(outline/hole, hole/hole, or two pieces) closer than ``limits.min_web_mm(thickness)``.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import LineString

from fabthread.check._geom import as_trimesh, face_normals, section_polygons
from fabthread.check.limits import CheckLimits
from fabthread.model.findings import Finding, Point
from fabthread.model.part import Part
from fabthread.model.profiles import MachineProfile, MaterialProfile

#: Faces within this many degrees of vertical or horizontal count as such.
ANGLE_TOLERANCE_DEG = 1.0
#: A part matches a stocked sheet when within this of its thickness (as StockMaterial does).
SHEET_MATCH_MM = 0.05
MAX_LOCATIONS = 10


def check_laser(
    part: Part,
    machine: MachineProfile,
    material: MaterialProfile | None = None,
    *,
    limits: CheckLimits | None = None,
) -> list[Finding]:
    """All laser findings for ``part`` (see the module docstring)."""
    limits = limits or CheckLimits.from_profiles(machine, material)
    return (
        check_sheet(part, machine, material, limits=limits)
        + check_outline(part, machine, material, limits=limits)
        + check_web(part, machine, material, limits=limits)
    )


def check_sheet(
    part: Part,
    machine: MachineProfile,
    material: MaterialProfile | None = None,
    *,
    limits: CheckLimits | None = None,
) -> list[Finding]:
    """``sheet_thickness`` and ``not_a_plate`` findings."""
    limits = limits or CheckLimits.from_profiles(machine, material)
    lo, hi = part.bounds_mm
    ext = hi - lo
    out: list[Finding] = []
    if ext[2] > limits.max_sheet_mm + limits.tolerance_mm:
        thin = int(np.argmin(ext))
        fix = "use a thinner sheet or another process (CNC, FDM)"
        if ext[thin] <= limits.max_sheet_mm:
            fix = f"lay it flat: turn it so its {'XYZ'[thin]} axis is vertical"
        out.append(
            Finding(
                "sheet_thickness",
                "error",
                f"the part is {ext[2]:.2f} mm thick, more than the {limits.max_sheet_mm:g} mm "
                "sheet the laser can cut",
                measured=float(ext[2]),
                limit=limits.max_sheet_mm,
                unit="mm",
                fix=fix,
            )
        )
        return out  # the plate rules below assume Z is the sheet's thickness
    sheets = limits.sheet_thicknesses_mm
    if sheets and not any(abs(t - ext[2]) <= SHEET_MATCH_MM for t in sheets):
        out.append(
            Finding(
                "sheet_thickness",
                "warning",
                f"the part is {ext[2]:.2f} mm thick; the material comes in "
                f"{', '.join(f'{t:g}' for t in sheets)} mm sheets",
                measured=float(ext[2]),
                limit=min(sheets, key=lambda t: abs(t - ext[2])),
                unit="mm",
                fix="make the part as thick as a stocked sheet",
            )
        )
    tris = part.vertices_mm[part.faces]
    normals, areas = face_normals(tris)
    nz = np.abs(normals[:, 2])
    tol = math.sin(math.radians(ANGLE_TOLERANCE_DEG))
    sloped = (nz > tol) & (nz < math.cos(math.radians(ANGLE_TOLERANCE_DEG))) & (areas > 0)
    zc = tris[:, :, 2].mean(axis=1)
    flat = nz >= math.cos(math.radians(ANGLE_TOLERANCE_DEG))
    z_tol = max(limits.tolerance_mm * 10, 1e-3)
    middle = flat & (zc > lo[2] + z_tol) & (zc < hi[2] - z_tol)
    for severity, sel, what, fix in (
        (
            "error",
            sloped,
            "are sloped: a laser cuts straight through the sheet and cannot make them",
            "make every side face vertical (a 2D outline extruded), or use CNC/FDM",
        ),
        (
            "warning",
            middle,
            "lie between the top and the bottom of the sheet (pockets or steps): they need "
            "engraving, a through-cut cannot make them",
            "engrave these areas, or make the part from stacked sheets",
        ),
    ):
        area = float(areas[sel].sum())
        if area <= limits.tolerance_mm:
            continue
        ids = np.flatnonzero(sel)
        biggest = ids[np.argsort(-areas[ids], kind="stable")]
        out.append(
            Finding(
                "not_a_plate",
                severity,  # type: ignore[arg-type]
                f"{len(ids)} faces ({area:.0f} mm2) {what}",
                measured=area,
                limit=0.0,
                unit="mm2",
                location=_centres(tris[biggest[:MAX_LOCATIONS]]),
                face_ids=tuple(biggest[:50]),
                fix=fix,
            )
        )
    return out


def check_outline(
    part: Part,
    machine: MachineProfile,
    material: MaterialProfile | None = None,
    *,
    limits: CheckLimits | None = None,
) -> list[Finding]:
    """``outline_open``: cut contours at mid-thickness that do not close into loops."""
    limits = limits or CheckLimits.from_profiles(machine, material)
    mesh = as_trimesh(part)
    lo, hi = part.bounds_mm
    z = float(lo[2] + hi[2]) / 2
    path = mesh.section(plane_origin=[0.0, 0.0, z], plane_normal=[0.0, 0.0, 1.0])
    if path is None:
        return [
            Finding(
                "outline_open",
                "error",
                "the part has no outline at mid-thickness",
                fix="export a solid plate",
            )
        ]
    dangling = np.asarray(path.dangling, dtype=np.int64)
    if len(dangling) == 0:
        return []
    pts = [path.entities[i].discrete(path.vertices)[0] for i in dangling[:MAX_LOCATIONS]]
    return [
        Finding(
            "outline_open",
            "error",
            f"{len(dangling)} pieces of the cut outline do not close into loops",
            measured=len(dangling),
            limit=0,
            unit="count",
            location=tuple((float(p[0]), float(p[1]), float(p[2])) for p in pts),
            fix="close the mesh (see open_edges) so every outline is a closed loop",
        )
    ]


def check_web(
    part: Part,
    machine: MachineProfile,
    material: MaterialProfile | None = None,
    *,
    limits: CheckLimits | None = None,
) -> list[Finding]:
    """``min_web``: neighbouring cut contours closer than the minimum web."""
    limits = limits or CheckLimits.from_profiles(machine, material)
    mesh = as_trimesh(part)
    lo, hi = part.bounds_mm
    z = float(lo[2] + hi[2]) / 2
    web = limits.min_web_mm(float(hi[2] - lo[2]))
    rings = []
    for poly in section_polygons(mesh, z):
        rings.append(LineString(poly.exterior.coords))
        rings.extend(LineString(r.coords) for r in poly.interiors)
    if len(rings) < 2:
        return []
    tree = shapely.STRtree(rings)
    a, b = tree.query(rings, predicate="dwithin", distance=web)
    keep = a < b
    a, b = a[keep], b[keep]
    if len(a) == 0:
        return []
    geoms = np.array(rings, dtype=object)
    d = shapely.distance(geoms[a], geoms[b])
    order = np.argsort(d, kind="stable")
    where: list[Point] = []
    for i in order[:MAX_LOCATIONS]:
        (px, py), (qx, qy) = shapely.shortest_line(rings[a[i]], rings[b[i]]).coords
        where.append(((px + qx) / 2, (py + qy) / 2, z))
    return [
        Finding(
            "min_web",
            "error",
            f"{len(a)} pair(s) of cuts leave webs as narrow as {d[order[0]]:.2f} mm, below "
            f"{web:.2f} mm: they burn through or break",
            measured=float(d[order[0]]),
            limit=web,
            unit="mm",
            location=tuple(where),
            fix=f"keep at least {web:.2f} mm of material between neighbouring cuts",
        )
    ]


def _centres(tris: np.ndarray) -> tuple[Point, ...]:
    return tuple((float(x), float(y), float(z)) for x, y, z in tris.mean(axis=1))
