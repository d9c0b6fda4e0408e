"""Read triangle meshes (STL ascii/binary, 3MF, OBJ) into a ``Part`` in millimetres.

``mesh_read`` parses the file; here we scale to mm, merge vertices, drop degenerate and
duplicate triangles, make the winding consistent and outward, fill small holes, and refuse
meshes that stay badly open (they cannot be sliced into closed layers).

Two paths give the same ``Part``. The fast one (numpy and two small kernels, no trimesh)
takes every mesh that needs no repair beyond flipping inside-out bodies: each edge used by
at most two triangles, every shared edge run in opposite directions by its two triangles,
holes (if any) that trimesh's hole filling would leave as they are, and no two bodies that
overlap. Everything else goes to trimesh (``part_from_trimesh``), imported only then: it
costs about a second to import and repairs at a few µs per triangle.

The fast path reproduces trimesh's steps exactly (vertices merged on trimesh's 1e-8 grid,
first occurrence first; its degenerate-triangle test; first of duplicate triangles kept;
triangle order kept), so both paths give the same vertices and faces in the same order for
a single-object file; tests compare them on real meshes.
"""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fabthread.errors import MeshError
from fabthread.geom.mesh_read import read_mesh
from fabthread.model.part import Part

if TYPE_CHECKING:
    import trimesh

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

# trimesh's tolerances, which the fast path must share to give the same mesh:
#: vertices are merged when they round to the same point on a grid of 10**-MERGE_DIGITS;
MERGE_DIGITS = 8
#: a triangle is degenerate when one side of its 2-D bounding box is at most this (mm);
MIN_TRIANGLE_HEIGHT_MM = 1e-8
#: a triangle that would fill a hole is dropped when |cross product| is at most this (mm²).
MIN_FILL_CROSS_MM2 = 1e-13


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
    vertices, faces = read_mesh(data, file_type, str(path))
    if len(faces) == 0:
        raise MeshError(f"{path}: the mesh has no triangles")
    scale = UNIT_SCALE[units]
    if not np.all(np.isfinite(vertices)):
        part = _trimesh_part(vertices, faces, path.stem, str(path), scale=scale)
    else:
        if scale != 1.0:
            # trimesh's readers merge in file units, before scaling: do the same so that
            # both paths agree to the last vertex
            vertices, faces = merge_vertices(vertices, faces)
            vertices = vertices * scale
        part = part_from_arrays(vertices, faces, path.stem, source=str(path))
    digest = hashlib.sha256(data).hexdigest()
    return Part(
        name=part.name,
        vertices_mm=part.vertices_mm,
        faces=part.faces,
        source_sha256=digest,
        meta=(("units", units), ("source", path.name)),
    )


def part_from_arrays(
    vertices_mm: np.ndarray, faces: np.ndarray, name: str, *, source: str = ""
) -> Part:
    """A cleaned ``Part`` from raw arrays: vertices_mm float (n, 3), faces int (m, 3).

    The same Part as ``part_from_trimesh(trimesh.Trimesh(vertices_mm, faces))``: merges
    vertices, removes degenerate and duplicate triangles and unused vertices, then, when
    nothing else needs repair, only turns inside-out bodies right (see the module doc) and
    returns without importing trimesh. Otherwise hands the arrays to trimesh. Raises
    MeshError when the mesh is empty, refers to missing vertices or is badly open.
    """
    where = source or name
    vertices = np.asarray(vertices_mm, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    if vertices.ndim != 2 or vertices.shape[1] != 3 or faces.ndim != 2 or faces.shape[1] != 3:
        raise ValueError(f"vertices (n, 3) and faces (m, 3), got {vertices.shape}, {faces.shape}")
    if len(faces) == 0:
        raise MeshError(f"{where}: the mesh has no triangles")
    if faces.min() < 0 or faces.max() >= len(vertices):
        bad = int(faces.min()) if faces.min() < 0 else int(faces.max())
        raise MeshError(
            f"{where}: triangles refer to vertex {bad}, but there are {len(vertices)} vertices "
            f"(0 to {len(vertices) - 1})"
        )
    if not np.all(np.isfinite(vertices)):
        return _trimesh_part(vertices, faces, name, where)
    v, f = merge_vertices(vertices, faces)
    f = f[_nondegenerate(v, f)]
    f = f[_first_of_equal_rows(np.sort(f, axis=1))]
    v, f = _drop_unreferenced(v, f)
    if len(f) == 0:
        raise MeshError(f"{where}: the mesh has only degenerate triangles")
    oriented = _orient_if_clean(v, f)
    if oriented is None:
        return _trimesh_part(vertices, faces, name, where)
    return Part(name=name, vertices_mm=v, faces=oriented)


def merge_vertices(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge vertices that round to the same point on the 1e-8 grid; drop unused ones.

    vertices float64 (n, 3), faces int64 (m, 3). Returns (vertices (k, 3), faces (m, 3)):
    merged vertices in order of first occurrence, each at its first occurrence's exact
    coordinates (what ``trimesh.Trimesh.merge_vertices`` gives)."""
    from fabthread.geom.kernels.components import equal_row_groups

    referenced = np.zeros(len(vertices), dtype=bool)
    referenced[faces] = True
    used = np.flatnonzero(referenced)
    keys = (vertices[used] * 10**MERGE_DIGITS).round().astype(np.int64)
    group = equal_row_groups(keys)
    new_index = np.empty(len(vertices), dtype=np.int64)
    new_index[used] = group
    return vertices[used[_first_rows(group)]], new_index[faces]


def _first_rows(group: np.ndarray) -> np.ndarray:
    """Index of the first row of each group, for groups numbered in order of first row."""
    if len(group) == 0:
        return np.zeros(0, dtype=np.int64)
    top = np.maximum.accumulate(group)
    return np.flatnonzero(np.r_[True, top[1:] != top[:-1]])


def _first_of_equal_rows(rows: np.ndarray) -> np.ndarray:
    """Indices (ascending) of the first of every set of equal rows; rows int64 (m, k)."""
    from fabthread.geom.kernels.components import equal_row_groups

    return _first_rows(equal_row_groups(np.ascontiguousarray(rows)))


def _nondegenerate(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """bool (m,): triangles whose 2-D bounding box is taller than MIN_TRIANGLE_HEIGHT_MM on
    both sides (trimesh's ``nondegenerate_faces``, same arithmetic: the ``nondegenerate``
    kernel)."""
    from fabthread.geom.kernels.components import nondegenerate

    return nondegenerate(vertices, faces, MIN_TRIANGLE_HEIGHT_MM)


def _drop_unreferenced(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    referenced = np.zeros(len(vertices), dtype=bool)
    referenced[faces] = True
    if referenced.all():
        return vertices, faces
    new_index = np.cumsum(referenced) - 1
    return vertices[referenced], new_index[faces]


def _orient_if_clean(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray | None:
    """``faces`` with every closed, inside-out body flipped, when that is all the repair
    ``part_from_trimesh`` would do; None when the mesh needs trimesh.

    vertices float64 (n, 3), faces int64 (m, 3), merged and cleaned. "All the repair" means:
    no edge used by more than two triangles; the two triangles on every shared edge run it
    in opposite directions (fix_winding changes nothing); open edges within the threshold,
    bordering separate loops that hole filling leaves open (longer than four edges, or so
    flat that the filling triangles are dropped as degenerate, like the slivers left where
    degenerate triangles were removed); no body touching another at a vertex; no two
    bodies overlapping (merge_overlapping_bodies changes nothing)."""
    from fabthread.geom.kernels.components import body_volumes, connected_components, edge_uses

    n_vertices, n_faces = len(vertices), len(faces)
    a = faces.ravel()  # directed edge k runs a[k] -> b[k], in triangle k // 3
    b = faces[:, [1, 2, 0]].ravel()
    uses, first, second = edge_uses(a, b, n_vertices)
    if uses.max() > 2:
        return None
    e0, e1 = first[uses == 2], second[uses == 2]
    if np.any(a[e0] == a[e1]):
        return None
    boundary = first[uses == 1]
    if len(boundary):  # the open edges in the order of their (smaller, larger) end pair
        lo, hi = np.minimum(a[boundary], b[boundary]), np.maximum(a[boundary], b[boundary])
        boundary = boundary[np.argsort(lo * n_vertices + hi)]
    if len(boundary) and not _holes_stay_open(vertices, a[boundary], b[boundary], len(uses)):
        return None
    body = connected_components(n_faces, e0 // 3, e1 // 3)
    n_bodies = int(body.max()) + 1
    # inside-out closed bodies (trimesh.repair.fix_inversion with multibody=True: bodies of
    # at least 4 triangles without open edges, volume as trimesh sums it)
    apart, vertex_body, volume = body_volumes(vertices, faces, body, n_bodies)
    if not apart:
        return None  # two bodies share a vertex: trimesh counts them as one
    is_open = np.zeros(n_bodies, dtype=bool)
    is_open[body[boundary // 3]] = True
    flip = (~is_open & (np.bincount(body, minlength=n_bodies) >= 4) & (volume < 0))[body]
    out = faces.copy()
    out[flip] = out[flip][:, ::-1]
    if 2 <= n_bodies <= MAX_BODIES_TO_MERGE:
        lo = np.full((n_bodies, 3), np.inf)
        hi = np.full((n_bodies, 3), -np.inf)
        used = vertex_body >= 0  # all are (unreferenced vertices are gone): kept safe
        np.minimum.at(lo, vertex_body[used], vertices[used])
        np.maximum.at(hi, vertex_body[used], vertices[used])
        if _overlapping(lo, hi).any():
            return None
    return out


def _holes_stay_open(
    vertices: np.ndarray, start: np.ndarray, end: np.ndarray, n_edges: int
) -> bool:
    """Whether trimesh's hole filling would leave the boundary edges (start[i] -> end[i]) as
    they are and the mesh passes the open-edge threshold.

    ``trimesh.repair.fill_holes`` closes loops of 3 and 4 edges and drops the new triangles
    whose cross product is at most MIN_FILL_CROSS_MM2. Which triangles it tries depends on
    where networkx starts each loop, so all ordered corner triples of a short loop are
    checked, with a margin of 2 for rounding."""
    from fabthread.geom.kernels.components import connected_components

    n_open = len(start)
    if n_open > MAX_OPEN_EDGE_FRACTION * n_edges:
        return False
    ids, local = np.unique(np.r_[start, end], return_inverse=True)
    if np.any(np.bincount(local) != 2):
        return False  # loops touching at a vertex: trimesh's cycle basis is not unique
    loop = connected_components(len(ids), local[:n_open], local[n_open:])
    size = np.bincount(loop)  # vertices = edges per loop
    by_loop = ids[np.argsort(loop, kind="stable")]
    first = np.cumsum(size) - size
    for k in (3, 4):
        corners = by_loop[first[size == k][:, None] + np.arange(k)]  # (L, k)
        if len(corners) == 0:
            continue
        triples = np.array(list(itertools.permutations(range(k), 3)))
        tri = vertices[corners[:, triples]]  # (L, P, 3, 3)
        vec = tri[..., 1:, :] - tri[..., :2, :]
        cross = np.cross(vec[..., 0, :], vec[..., 1, :])
        if np.sqrt((cross**2).sum(axis=-1)).max() > MIN_FILL_CROSS_MM2 / 2:
            return False
    return True


def _overlapping(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """bool (n, n): bodies whose bounding boxes (lo, hi float (n, 3)) overlap without one
    holding the other."""
    touch = np.all((lo[:, None, :] < hi[None, :, :]) & (lo[None, :, :] < hi[:, None, :]), axis=2)
    inside = np.all((lo[:, None, :] >= lo[None, :, :]) & (hi[:, None, :] <= hi[None, :, :]), axis=2)
    overlap = touch & ~inside & ~inside.T
    np.fill_diagonal(overlap, False)
    return overlap


def _trimesh_part(
    vertices: np.ndarray, faces: np.ndarray, name: str, where: str, *, scale: float = 1.0
) -> Part:
    """The repair path: what ``trimesh.load`` (which merges and drops non-finite vertices)
    followed by ``part_from_trimesh`` gives."""
    import trimesh

    mesh = trimesh.Trimesh(vertices=vertices, faces=faces, process=True)
    if len(mesh.faces) == 0:
        raise MeshError(f"{where}: the mesh has no triangles")
    if scale != 1.0:
        mesh.apply_scale(scale)
    return part_from_trimesh(mesh, name, source=where)


def part_from_trimesh(mesh: trimesh.Trimesh, name: str, *, source: str = "") -> Part:
    """A cleaned ``Part`` from a trimesh (already in mm). Does not modify ``mesh``.

    Merges vertices, removes degenerate and duplicate triangles, fixes winding and outward
    normals, fills small holes. Raises MeshError when the mesh is empty, not finite or badly
    open.
    """
    import trimesh

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
    import trimesh

    if mesh.body_count <= 1 or mesh.body_count > MAX_BODIES_TO_MERGE:
        return mesh
    bodies = mesh.split(only_watertight=False)
    lo = np.array([b.bounds[0] for b in bodies])
    hi = np.array([b.bounds[1] for b in bodies])
    n = len(bodies)
    overlap = _overlapping(lo, hi)
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
