"""Geometry shared by the rule families: mesh views, segment casting, face regions.

Everything works on plain numpy arrays; trimesh supplies the triangle R-tree and adjacency,
shapely the 2D work in the rule modules.
"""

from __future__ import annotations

import numpy as np
import trimesh

from fabthread.model.part import Part

#: Segments (or triangle pairs) tested per vectorised batch: bounds memory on big meshes.
BATCH = 200_000


def as_trimesh(part: Part) -> trimesh.Trimesh:
    """The part as a trimesh, vertices merged by position, nothing else changed."""
    mesh = trimesh.Trimesh(
        vertices=np.array(part.vertices_mm), faces=np.array(part.faces), process=False
    )
    mesh.merge_vertices(merge_tex=True, merge_norm=True)
    return mesh


def face_normals(tris: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit normals (m, 3) and areas (m,) of triangles tris (m, 3, 3); degenerate -> 0."""
    cross = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    norm = np.linalg.norm(cross, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        normals = np.where(norm[:, None] > 0, cross / norm[:, None], 0.0)
    return normals, norm / 2.0


def segment_triangle(
    p0: np.ndarray, p1: np.ndarray, tris: np.ndarray, eps: float = 1e-12
) -> tuple[np.ndarray, np.ndarray]:
    """Möller-Trumbore for segments p0 -> p1 (n, 3) against triangles tris (n, 3, 3), pairwise.

    Returns (hit bool (n,), t float (n,)) with t in [0, 1] along the segment; hits exactly on a
    triangle's edge or a segment's end point count (eps on the barycentric coordinates is
    relative), coplanar segments never do.
    """
    d = p1 - p0
    e1 = tris[:, 1] - tris[:, 0]
    e2 = tris[:, 2] - tris[:, 0]
    h = np.cross(d, e2)
    a = np.einsum("ij,ij->i", e1, h)
    scale = np.linalg.norm(d, axis=1) * np.linalg.norm(e1, axis=1) * np.linalg.norm(e2, axis=1)
    ok = np.abs(a) > eps * np.maximum(scale, 1e-300)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(ok, 1.0 / np.where(ok, a, 1.0), 0.0)
    s = p0 - tris[:, 0]
    u = f * np.einsum("ij,ij->i", s, h)
    q = np.cross(s, e1)
    v = f * np.einsum("ij,ij->i", d, q)
    t = f * np.einsum("ij,ij->i", e2, q)
    tol = 1e-9
    hit = ok & (u >= -tol) & (v >= -tol) & (u + v <= 1 + tol) & (t >= 0) & (t <= 1)
    return hit, t


def first_hits(
    mesh: trimesh.Trimesh, origins: np.ndarray, ends: np.ndarray, skip: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """First triangle hit by each segment origins[i] -> ends[i] (n, 3).

    Candidates come from the R-tree of triangle bounds (``mesh.triangles_tree``), so short
    segments cost little however big the mesh. ``skip`` (n,) int: a face id each segment must
    ignore (its own face), or -1. Returns (t (n,) in [0, 1] or inf, face id (n,) or -1).
    """
    n = len(origins)
    best_t = np.full(n, np.inf)
    best_f = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return best_t, best_f
    lo = np.minimum(origins, ends)
    hi = np.maximum(origins, ends)
    seg_ids, counts = mesh.triangles_tree.intersection_v(lo, hi)
    seg = np.repeat(np.arange(n), np.asarray(counts, dtype=np.int64))
    face = np.asarray(seg_ids, dtype=np.int64)
    if skip is not None:
        keep = face != skip[seg]
        seg, face = seg[keep], face[keep]
    tris = mesh.triangles
    for start in range(0, len(seg), BATCH):
        s, fa = seg[start : start + BATCH], face[start : start + BATCH]
        hit, t = segment_triangle(origins[s], ends[s], tris[fa])
        s, fa, t = s[hit], fa[hit], t[hit]
        if len(s) == 0:
            continue
        order = np.lexsort((t, s))
        s, fa, t = s[order], fa[order], t[order]
        first = np.r_[True, s[1:] != s[:-1]]
        s, fa, t = s[first], fa[first], t[first]
        better = t < best_t[s]
        best_t[s[better]] = t[better]
        best_f[s[better]] = fa[better]
    return best_t, best_f


def face_regions(mesh: trimesh.Trimesh, selected: np.ndarray) -> list[np.ndarray]:
    """Connected groups (sharing an edge) of the faces with ``selected`` (m,) True, largest
    first. Each group is an int array of face ids."""
    ids = np.flatnonzero(selected)
    if len(ids) == 0:
        return []
    adj = mesh.face_adjacency
    both = selected[adj[:, 0]] & selected[adj[:, 1]]
    groups = trimesh.graph.connected_components(adj[both], nodes=ids, min_len=1)
    groups = [np.sort(np.asarray(g, dtype=np.int64)) for g in groups]
    groups.sort(key=lambda g: (-len(g), int(g[0])))
    return groups


def sample_surface(
    tris: np.ndarray, areas: np.ndarray, count: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` points spread over the triangles by area (seeded: the same part gives the same
    points), plus every face's centroid for faces too small to be drawn. Returns
    (points (k, 3), face id (k,))."""
    total = float(areas.sum())
    if total <= 0 or count <= 0:
        return np.zeros((0, 3)), np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    faces = rng.choice(len(tris), size=count, p=areas / total)
    r = rng.random((count, 2))
    flip = r.sum(axis=1) > 1
    r[flip] = 1 - r[flip]
    t = tris[faces]
    pts = t[:, 0] + r[:, :1] * (t[:, 1] - t[:, 0]) + r[:, 1:] * (t[:, 2] - t[:, 0])
    return pts, faces.astype(np.int64)


def region_centroid(tris: np.ndarray, areas: np.ndarray) -> tuple[float, float, float]:
    """Area-weighted centroid of triangles (k, 3, 3)."""
    c = tris.mean(axis=1)
    w = areas if areas.sum() > 0 else np.ones(len(areas))
    x, y, z = (c * w[:, None]).sum(axis=0) / w.sum()
    return float(x), float(y), float(z)


def section_polygons(mesh: trimesh.Trimesh, z: float) -> list:  # list[shapely.Polygon]
    """The cross-section of ``mesh`` at height ``z`` as shapely polygons with holes, in the
    part's own x/y (mm). Empty when the plane misses the mesh or the loops do not close."""
    path = mesh.section(plane_origin=[0.0, 0.0, z], plane_normal=[0.0, 0.0, 1.0])
    if path is None:
        return []
    to_2d = np.eye(4)
    to_2d[2, 3] = -z
    try:
        flat, _ = path.to_2D(to_2D=to_2d)
        return [p for p in flat.polygons_full if p is not None and not p.is_empty]
    except (ValueError, IndexError):  # trimesh raises these on loops it cannot close
        return []


def section_heights(z_lo: float, z_hi: float, count: int, first_layer_mm: float) -> list[float]:
    """``count`` heights evenly inside (z_lo, z_hi), plus the middle of the first layer."""
    span = z_hi - z_lo
    if span <= 0 or count <= 0:
        return []
    zs = [z_lo + span * (i + 0.5) / count for i in range(count)]
    if 0 < first_layer_mm / 2 < span:
        zs.insert(0, z_lo + first_layer_mm / 2)
    return zs
