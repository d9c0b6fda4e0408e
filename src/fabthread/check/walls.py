"""FDM minimum wall thickness, measured by casting rays into the part.

Points are spread over the surface by area (seeded, so the same part gives the same answer);
from each, a short segment goes inward along the face's -normal. Where it first leaves the
material through a face looking back at it (normals more than 60° apart), the distance is
the local wall thickness. Thin spots smaller in area than ``min_thin_area_mm2`` are ignored:
a cone's tip or a chamfer's edge is thin over a sliver no slicer cares about.

Rule ``min_wall``: error below ``min_wall_error_mm`` (one extrusion), warning below
``min_wall_warning_mm`` (two perimeters' worth).
"""

from __future__ import annotations

import numpy as np

from fabthread.check._geom import as_trimesh, face_normals, first_hits, sample_surface
from fabthread.check.limits import CheckLimits
from fabthread.model.findings import Finding
from fabthread.model.part import Part
from fabthread.model.profiles import MachineProfile, MaterialProfile

#: Surface points cast per part at least (cost: one short segment each) ...
SAMPLES = 6000
#: ... and more on big parts, so that one point stands for at most 1/SAMPLES_PER_AREA of the
#: smallest thin area that counts, up to MAX_SAMPLES.
SAMPLES_PER_AREA = 20
MAX_SAMPLES = 60_000
#: Opposite faces: the hit face's normal must be at least this far from the start face's
#: (cosine): -0.866 is 150° apart, i.e. the two surfaces within 30° of parallel. Wedges
#: sharper than that (a chamfer meeting a wall, a letter's acute corner) are tips, not walls.
OPPOSING_COS = -0.866
MAX_LOCATIONS = 10


def check_min_wall(
    part: Part,
    machine: MachineProfile,
    material: MaterialProfile | None = None,
    *,
    limits: CheckLimits | None = None,
    samples: int | None = None,
) -> list[Finding]:
    """``min_wall`` findings for ``part`` (see the module docstring). ``samples`` defaults
    to SAMPLES, more on big parts (see SAMPLES_PER_AREA)."""
    limits = limits or CheckLimits.from_profiles(machine, material)
    mesh_area = float(face_normals(part.vertices_mm[part.faces])[1].sum())
    if samples is None:
        wanted = mesh_area * SAMPLES_PER_AREA / max(limits.min_thin_area_mm2, 1e-9)
        samples = int(min(max(SAMPLES, wanted), MAX_SAMPLES))
    thickness, points, _ = wall_thickness(part, limits.min_wall_warning_mm * 1.5, samples)
    if len(thickness) == 0:
        return []
    per_sample = mesh_area / max(samples, 1)
    for severity, limit in (
        ("error", limits.min_wall_error_mm),
        ("warning", limits.min_wall_warning_mm),
    ):
        thin = thickness < limit - limits.tolerance_mm
        area = float(thin.sum()) * per_sample
        if thin.sum() < 2 or area < limits.min_thin_area_mm2:
            continue
        order = np.argsort(thickness[thin])
        worst = thickness[thin][order]
        where = points[thin][order][:MAX_LOCATIONS]
        what = "one extrusion (the nozzle)" if severity == "error" else "two perimeters"
        return [
            Finding(
                "min_wall",
                severity,  # type: ignore[arg-type]
                f"walls as thin as {worst[0]:.2f} mm over about {area:.0f} mm2 of surface are "
                f"below {limit:.2f} mm, {what}",
                measured=float(worst[0]),
                limit=limit,
                unit="mm",
                location=tuple((float(x), float(y), float(z)) for x, y, z in where),
                fix=f"thicken these walls to at least {limits.min_wall_warning_mm:.2f} mm or use "
                "a smaller nozzle",
            )
        ]
    return []


def wall_thickness(
    part: Part, max_mm: float, samples: int = SAMPLES, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local thickness at surface points, up to ``max_mm``.

    Returns (thickness (k,) mm, midpoint of the wall (k, 3), face id (k,)) for the sampled
    points whose inward segment of length ``max_mm`` leaves the part through an opposing face
    (thicker walls and grazing hits are left out).
    """
    mesh = as_trimesh(part)
    tris = np.asarray(mesh.triangles)
    normals, areas = face_normals(tris)
    pts, fid = sample_surface(tris, areas, samples, seed)
    if len(pts) == 0:
        return np.zeros(0), np.zeros((0, 3)), np.zeros(0, dtype=np.int64)
    n = normals[fid]
    start = 1e-4 * max_mm
    origins = pts - n * start
    ends = pts - n * max_mm
    t, hit = first_hits(mesh, origins, ends, skip=fid)
    ok = hit >= 0
    dist = start + t * (max_mm - start)
    opposing = np.zeros(len(pts), dtype=bool)
    opposing[ok] = np.einsum("ij,ij->i", n[ok], normals[hit[ok]]) < OPPOSING_COS
    keep = ok & opposing
    mid = pts[keep] - n[keep] * dist[keep, None] / 2
    return dist[keep], mid, fid[keep]
