"""Read triangle meshes (STL ascii/binary, 3MF, OBJ) into a ``Part`` in millimetres.

trimesh does the parsing; here we scale to mm, merge vertices, drop degenerate and duplicate
triangles, make the winding consistent and outward, fill small holes, and refuse meshes that
stay badly open (they cannot be sliced into closed layers).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import trimesh

from fabthread.errors import MeshError
from fabthread.model.part import Part

#: Millimetres per unit.
UNIT_SCALE: dict[str, float] = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "inch": 25.4}

#: A mesh is "badly open" when more than this fraction of its edges (after hole filling)
#: belongs to a single triangle. 3DBenchy has a handful of open edges among 337k.
MAX_OPEN_EDGE_FRACTION = 0.002
#: A mesh is refused when more than this fraction of its edges is shared by more than two
#: triangles (non-manifold: sections through them are ambiguous).
MAX_NONMANIFOLD_EDGE_FRACTION = 0.002
#: Overlapping bodies are merged only for meshes with at most this many bodies.
MAX_BODIES_TO_MERGE = 64


def load_mesh(path: Path, *, units: str = "mm") -> Part:
    """Load the mesh at ``path``; ``units`` says what one file unit is ("mm", "cm", "m", "inch").

    Raises MeshError naming the file when it is missing, unreadable, empty or badly open.
    """
    path = Path(path)
    if units not in UNIT_SCALE:
        raise MeshError(f"{path}: units='{units}'; allowed: {', '.join(UNIT_SCALE)}")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MeshError(f"mesh file not found: {path}") from None
    except OSError as exc:
        raise MeshError(f"cannot read mesh file {path}: {exc}") from None
    file_type = path.suffix.lower().lstrip(".")
    if file_type not in ("stl", "3mf", "obj"):
        raise MeshError(f"{path}: unknown mesh format '.{file_type}'; allowed: .stl, .3mf, .obj")
    try:
        import io

        mesh = trimesh.load(io.BytesIO(data), file_type=file_type, force="mesh", process=True)
    except Exception as exc:  # trimesh raises many types on bad input
        raise MeshError(f"{path}: cannot read as {file_type.upper()}: {exc}") from None
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise MeshError(f"{path}: the mesh has no triangles")
    mesh.apply_scale(UNIT_SCALE[units])
    part = part_from_trimesh(mesh, path.stem, source=str(path))
    digest = hashlib.sha256(data).hexdigest()
    return Part(
        name=part.name,
        vertices_mm=part.vertices_mm,
        faces=part.faces,
        source_sha256=digest,
        meta=(("units", units), ("source", path.name)),
    )


def part_from_trimesh(mesh: trimesh.Trimesh, name: str, *, source: str = "") -> Part:
    """A cleaned ``Part`` from a trimesh (already in mm). Does not modify ``mesh``.

    Merges vertices, removes degenerate and duplicate triangles, fixes winding and outward
    normals, fills small holes. Raises MeshError when the mesh is empty, not finite or badly
    open.
    """
    where = source or name
    mesh = mesh.copy()
    if len(mesh.faces) == 0:
        raise MeshError(f"{where}: the mesh has no triangles")
    if not np.all(np.isfinite(mesh.vertices)):
        raise MeshError(f"{where}: the mesh has non-finite vertex coordinates")
    mesh.merge_vertices()
    mesh.update_faces(mesh.nondegenerate_faces())
    mesh.update_faces(mesh.unique_faces())
    mesh.remove_unreferenced_vertices()
    if len(mesh.faces) == 0:
        raise MeshError(f"{where}: the mesh has only degenerate triangles")
    if not mesh.is_watertight:
        trimesh.repair.fill_holes(mesh)
    trimesh.repair.fix_winding(mesh)
    trimesh.repair.fix_inversion(mesh, multibody=True)
    uses = edge_use_counts(np.asarray(mesh.faces))
    n_edges = max(1, len(uses))
    n_bad = int(np.count_nonzero(uses > 2))
    if n_bad > MAX_NONMANIFOLD_EDGE_FRACTION * n_edges:
        raise MeshError(
            f"{where}: the mesh is not manifold: {n_bad} of {n_edges} edges are shared by "
            "more than two triangles; repair it (merge or separate the touching bodies) "
            "before slicing"
        )
    n_open = int(np.count_nonzero(uses == 1))
    if n_open > MAX_OPEN_EDGE_FRACTION * n_edges:
        raise MeshError(
            f"{where}: the mesh is open: {n_open} of {n_edges} edges border a hole; "
            "repair it (close the holes) before slicing"
        )
    mesh = merge_overlapping_bodies(mesh, where)
    return Part(name=name, vertices_mm=mesh.vertices, faces=mesh.faces)


def nonmanifold_edge_count(faces: np.ndarray) -> int:
    """Number of undirected edges used by more than two triangles. faces: int (m, 3)."""
    return int(np.count_nonzero(edge_use_counts(faces) > 2))


def edge_use_counts(faces: np.ndarray) -> np.ndarray:
    """int64 (E,): how many triangles use each distinct undirected edge. faces: int (m, 3).

    Edges are keyed as one int64 (lower index · n + higher index) and counted after a 1-D
    sort, several times faster than ``np.unique(..., axis=0)`` on 337k edge pairs."""
    faces = np.asarray(faces, dtype=np.int64)
    if faces.size == 0:
        return np.zeros(0, dtype=np.int64)
    pairs = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    n = int(faces.max()) + 1
    keys = np.sort(np.minimum(pairs[:, 0], pairs[:, 1]) * n + np.maximum(pairs[:, 0], pairs[:, 1]))
    bounds = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1], True])
    return np.diff(bounds)


def merge_overlapping_bodies(mesh: trimesh.Trimesh, where: str) -> trimesh.Trimesh:
    """Union the closed bodies of ``mesh`` whose bounding boxes overlap without one holding
    the other (self-intersecting input, e.g. parts exported as separate shells that
    interpenetrate). Sections use the even-odd rule, which would make such an overlap a hole.
    Nested bodies (one box inside another: a hollow and its inner shell, a part in a cavity)
    are left to the even-odd rule, which is right for them. Raises MeshError when the union
    fails."""
    if mesh.body_count <= 1 or mesh.body_count > MAX_BODIES_TO_MERGE:
        return mesh
    bodies = mesh.split(only_watertight=False)
    lo = np.array([b.bounds[0] for b in bodies])
    hi = np.array([b.bounds[1] for b in bodies])
    n = len(bodies)
    touch = np.all((lo[:, None, :] < hi[None, :, :]) & (lo[None, :, :] < hi[:, None, :]), axis=2)
    inside = np.all((lo[:, None, :] >= lo[None, :, :]) & (hi[:, None, :] <= hi[None, :, :]), axis=2)
    overlap = touch & ~inside & ~inside.T
    np.fill_diagonal(overlap, False)
    if not overlap.any():
        return mesh
    # clusters of bodies that overlap each other, merged one cluster at a time
    label = np.arange(n)
    for i, j in zip(*np.nonzero(overlap), strict=True):
        a, b = label[i], label[j]
        if a != b:
            label[label == b] = a
    parts: list[trimesh.Trimesh] = []
    for lab in np.unique(label):
        group = [bodies[k] for k in np.nonzero(label == lab)[0]]
        if len(group) == 1:
            parts.append(group[0])
            continue
        if not all(b.is_watertight for b in group):
            raise MeshError(
                f"{where}: {len(group)} bodies intersect each other and are not all closed; "
                "merge them into one closed body before slicing"
            )
        try:
            merged = trimesh.boolean.union(group, engine="manifold")
        except Exception as exc:  # the boolean backend raises its own types
            raise MeshError(
                f"{where}: {len(group)} bodies intersect each other and could not be merged "
                f"({exc}); merge them into one closed body before slicing"
            ) from None
        parts.append(merged)
    out = trimesh.util.concatenate(parts)
    assert isinstance(out, trimesh.Trimesh)
    return out


def open_edge_count(faces: np.ndarray) -> int:
    """Number of undirected edges used by exactly one triangle. faces: int (m, 3)."""
    return int(np.count_nonzero(edge_use_counts(faces) == 1))
