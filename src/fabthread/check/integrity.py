"""Mesh integrity: is the part a closed, manifold, consistently wound, outward solid?

Rules: ``open_edges``, ``non_manifold_edges``, ``inconsistent_winding``, ``degenerate_faces``,
``self_intersection``, ``inside_out``. All are errors except degenerate faces (slicers drop
them: warning). Topology is computed on vertices merged by position, so a triangle soup from
an STL file is judged like the solid it describes.
"""

from __future__ import annotations

import numpy as np

from fabthread.check._geom import BATCH, as_trimesh, face_normals, segment_triangle
from fabthread.check.limits import CheckLimits
from fabthread.model.findings import Finding, Point
from fabthread.model.part import Part
from fabthread.model.profiles import MachineProfile, MaterialProfile

#: Points reported per finding.
MAX_LOCATIONS = 10
#: Triangle pairs tested for self-intersection at most (bounds time: ~1 s per million pairs).
#: Past it the rule reports how much it covered.
MAX_PAIRS = 3_000_000

RULES = (
    "open_edges",
    "non_manifold_edges",
    "inconsistent_winding",
    "degenerate_faces",
    "self_intersection",
    "inside_out",
)


def check_integrity(
    part: Part,
    machine: MachineProfile,
    material: MaterialProfile | None = None,
    *,
    limits: CheckLimits | None = None,
) -> list[Finding]:
    """Findings of the integrity rules for ``part`` (see the module docstring)."""
    limits = limits or CheckLimits.from_profiles(machine, material)
    mesh = as_trimesh(part)
    faces = np.asarray(mesh.faces, dtype=np.int64)
    verts = np.asarray(mesh.vertices)
    out: list[Finding] = []
    if len(faces) == 0:
        return [Finding("empty", "error", "the part has no triangles", fix="export it again")]

    tris = verts[faces]
    _, areas = face_normals(tris)
    repeated = (
        (faces[:, 0] == faces[:, 1]) | (faces[:, 1] == faces[:, 2]) | (faces[:, 0] == faces[:, 2])
    )
    degenerate = repeated | (areas <= limits.tolerance_mm**2)
    if degenerate.any():
        ids = np.flatnonzero(degenerate)
        out.append(
            Finding(
                "degenerate_faces",
                "warning",
                f"{len(ids)} triangles have no area (collapsed to a line or point)",
                measured=len(ids),
                limit=0,
                unit="count",
                location=_points(tris[ids].mean(axis=1)),
                face_ids=tuple(ids[:MAX_LOCATIONS]),
                fix="remove degenerate triangles in the CAD export or a mesh repair tool",
            )
        )

    good = faces[~degenerate]
    directed = good[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    undirected = np.sort(directed, axis=1)
    uniq, inverse, counts = np.unique(undirected, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    open_edges = uniq[counts == 1]
    if len(open_edges):
        out.append(
            Finding(
                "open_edges",
                "error",
                f"the mesh is open: {len(open_edges)} edges border a hole (not watertight)",
                measured=len(open_edges),
                limit=0,
                unit="count",
                location=_points(verts[open_edges].mean(axis=1)),
                fix="close the holes (export a solid, or repair the mesh) before slicing",
            )
        )
    nonmanifold = uniq[counts > 2]
    if len(nonmanifold):
        out.append(
            Finding(
                "non_manifold_edges",
                "error",
                f"{len(nonmanifold)} edges are shared by more than two triangles",
                measured=len(nonmanifold),
                limit=0,
                unit="count",
                location=_points(verts[nonmanifold].mean(axis=1)),
                fix="separate bodies that touch along an edge, or union them into one solid",
            )
        )
    # A consistently wound manifold edge is used once in each direction: a directed edge
    # that occurs twice means its two triangles disagree about which side is outside.
    two = counts[inverse] == 2
    dir_uniq, dir_counts = np.unique(directed[two], axis=0, return_counts=True)
    flipped = dir_uniq[dir_counts > 1]
    if len(flipped):
        out.append(
            Finding(
                "inconsistent_winding",
                "error",
                f"{len(flipped)} edges join triangles wound in opposite directions "
                "(some normals point inwards)",
                measured=len(flipped),
                limit=0,
                unit="count",
                location=_points(verts[flipped].mean(axis=1)),
                fix="make the winding consistent (e.g. recalculate normals in the mesh tool)",
            )
        )

    out.extend(_self_intersections(mesh, ~degenerate))

    if not len(open_edges) and not len(nonmanifold) and not len(flipped):
        volume = float(mesh.volume)
        if volume < 0:
            out.append(
                Finding(
                    "inside_out",
                    "error",
                    f"the mesh is inside out: signed volume {volume:.1f} mm3 is negative",
                    measured=volume,
                    limit=0,
                    unit="mm3",
                    fix="flip all normals (reverse the triangle winding)",
                )
            )
    return out


def _self_intersections(mesh, usable: np.ndarray) -> list[Finding]:  # type: ignore[no-untyped-def]
    """Triangles that cross each other (not merely touch at shared vertices or edges)."""
    faces = np.asarray(mesh.faces, dtype=np.int64)
    tris = np.asarray(mesh.triangles)
    ids = np.flatnonzero(usable)
    if len(ids) < 2:
        return []
    lo, hi = tris.min(axis=1), tris.max(axis=1)
    tree = mesh.triangles_tree
    a_parts: list[np.ndarray] = []
    b_parts: list[np.ndarray] = []
    total = 0
    covered = len(ids)
    for start in range(0, len(ids), BATCH // 10):
        chunk = ids[start : start + BATCH // 10]
        cand, counts = tree.intersection_v(lo[chunk], hi[chunk])
        a = np.repeat(chunk, np.asarray(counts, dtype=np.int64))
        b = np.asarray(cand, dtype=np.int64)
        keep = (a < b) & usable[b]
        a, b = a[keep], b[keep]
        # Triangles sharing a vertex are neighbours on the surface: they touch by design.
        shared = (faces[a][:, :, None] == faces[b][:, None, :]).any(axis=(1, 2))
        a, b = a[~shared], b[~shared]
        a_parts.append(a)
        b_parts.append(b)
        total += len(a)
        if total > MAX_PAIRS:
            covered = min(len(ids), start + len(chunk))
            break
    a = np.concatenate(a_parts) if a_parts else np.zeros(0, np.int64)
    b = np.concatenate(b_parts) if b_parts else np.zeros(0, np.int64)
    hits_a: list[np.ndarray] = []
    points: list[np.ndarray] = []
    for start in range(0, len(a), BATCH // 6):
        pa, pb = a[start : start + BATCH // 6], b[start : start + BATCH // 6]
        crossed = np.zeros(len(pa), dtype=bool)
        where = np.zeros((len(pa), 3))
        for first, second in ((pa, pb), (pb, pa)):
            for i, j in ((0, 1), (1, 2), (2, 0)):
                p0, p1 = tris[first, i], tris[first, j]
                hit, t = segment_triangle(p0, p1, tris[second])
                new = hit & ~crossed
                where[new] = p0[new] + t[new, None] * (p1[new] - p0[new])
                crossed |= hit
        hits_a.append(np.stack([pa[crossed], pb[crossed]], axis=1))
        points.append(where[crossed])
    pairs = np.concatenate(hits_a) if hits_a else np.zeros((0, 2), np.int64)
    pts = np.concatenate(points) if points else np.zeros((0, 3))
    out: list[Finding] = []
    if len(pairs):
        out.append(
            Finding(
                "self_intersection",
                "error",
                f"{len(pairs)} pairs of triangles cross each other (overlapping or "
                "self-intersecting bodies)",
                measured=len(pairs),
                limit=0,
                unit="count",
                location=_points(pts),
                face_ids=tuple(np.unique(pairs)[: 2 * MAX_LOCATIONS]),
                fix="union the overlapping bodies into one solid (a boolean union in CAD)",
            )
        )
    if covered < len(ids):
        out.append(
            Finding(
                "self_intersection",
                "info",
                f"self-intersection test stopped after {MAX_PAIRS} triangle pairs: "
                f"{covered} of {len(ids)} triangles checked",
                measured=covered,
                limit=len(ids),
                unit="count",
            )
        )
    return out


def _points(pts: np.ndarray) -> tuple[Point, ...]:
    """Up to MAX_LOCATIONS points, spread over the list (not just its start)."""
    if len(pts) <= MAX_LOCATIONS:
        pick = np.arange(len(pts))
    else:
        pick = np.linspace(0, len(pts) - 1, MAX_LOCATIONS).round().astype(int)
    return tuple((float(p[0]), float(p[1]), float(p[2])) for p in pts[pick])
