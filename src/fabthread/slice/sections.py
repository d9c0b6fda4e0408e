"""Cut a part into layer cross-sections: mesh -> loops (numba kernels) -> regions (µm).

The mesh is cut at the middle of each layer. Chaining goes through shared mesh edges, so
loops of a closed mesh close exactly; open chains (a mesh with a few open edges) are stitched
end to nearest end. Regions follow the even-odd rule, so flipped normals do not matter.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from fabthread.errors import MeshError
from fabthread.geom import polygons as pg
from fabthread.geom import wkb
from fabthread.geom.kernels.components import sorted_edges
from fabthread.model.layers import LayerStack
from fabthread.model.part import Part
from fabthread.model.settings import SliceSettings
from fabthread.slice.kernels.section import chain_loops, plane_crossings


def layer_heights(
    height_mm: float, first_layer_height_mm: float, layer_height_mm: float
) -> tuple[np.ndarray, np.ndarray]:
    """Tops and thicknesses of the layers of a part ``height_mm`` tall: (L,) float64 each.

    The first layer is ``first_layer_height_mm``, then ``layer_height_mm`` until the top of the
    last layer reaches the part's top (within 1 µm).
    """
    if height_mm <= 0:
        return np.zeros(0), np.zeros(0)
    rest = max(0.0, height_mm - first_layer_height_mm)
    n_rest = math.ceil(rest / layer_height_mm - 1e-3 / layer_height_mm) if rest > 0 else 0
    heights = np.full(1 + n_rest, layer_height_mm)
    heights[0] = first_layer_height_mm
    tops = np.cumsum(heights)
    return tops, heights


def edge_table(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique undirected edges of a triangle mesh.

    faces: int64 (m, 3). Returns ``face_edges`` int64 (m, 3), the id of edge
    (faces[f, k], faces[f, (k+1) % 3]), and ``edge_vertices`` int64 (E, 2), lower index first.
    """
    pairs = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    n = int(faces.max()) + 1 if faces.size else 1
    edge_id, edge_vertices = sorted_edges(
        np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1]), n
    )
    return edge_id.reshape(-1, 3), edge_vertices


#: Relative tolerance (sine of the angle) for a vertical face, a vertical edge and two
#: coplanar faces in ``flat_wall_edges``.
FLAT_TOL = 1e-5


def flat_wall_edges(
    vertices: np.ndarray, faces: np.ndarray, face_edges: np.ndarray, edge_vertices: np.ndarray
) -> np.ndarray:
    """bool (E,): the edges whose crossing points sections leave out. Such an edge is not
    vertical and joins two vertical faces of one plane (the diagonal of a wall's quad): its
    crossing point lies on the straight line through the crossing points before and after it,
    and it slides along the wall from layer to layer. Without it, a section of a straight or
    faceted wall has the same points at every height (the crossings of vertical edges), so
    the layers of a prismatic part come out identical and are sliced once (the slicer reuses
    a repeated layer's work); with it, rounding to the micrometre and the simplification made
    nearly every layer differ (octagonal_pocket: 0 of 80 sections repeated)."""
    n_edges = len(edge_vertices)
    out = np.zeros(n_edges, dtype=bool)
    # normals by components (np.cross on every face cost Benchy 80 ms), then only the
    # vertical faces go on: few on curved parts, and the only ones that matter
    v0, v1, v2 = vertices[faces[:, 0]], vertices[faces[:, 1]], vertices[faces[:, 2]]
    a, b = v1 - v0, v2 - v0
    nz = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    nx = a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1]
    ny = a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2]
    size = np.sqrt(nx * nx + ny * ny + nz * nz)
    vertical = np.flatnonzero((np.abs(nz) <= FLAT_TOL * size) & (size > 0))
    if len(vertical) < 2:
        return out
    # edges with exactly two faces (manifold), both of them vertical
    count = np.bincount(face_edges.ravel(), minlength=n_edges)
    edge = face_edges[vertical].ravel()
    face = np.repeat(vertical, 3)
    count_vertical = np.bincount(edge, minlength=n_edges)
    pick = (count == 2)[edge] & (count_vertical == 2)[edge]
    edge, face = edge[pick], face[pick]
    order = np.argsort(edge, kind="stable")
    edge, face = edge[order], face[order]
    e, f1, f2 = edge[0::2], face[0::2], face[1::2]
    n = np.stack([nx, ny, nz], axis=1)
    c = np.cross(n[f1], n[f2])
    coplanar = np.sqrt((c * c).sum(axis=1)) <= FLAT_TOL * size[f1] * size[f2]
    # vertical edges keep their crossing point: it is the same at every height
    d = vertices[edge_vertices[e, 1]] - vertices[edge_vertices[e, 0]]
    slanted = np.hypot(d[:, 0], d[:, 1]) > FLAT_TOL * np.sqrt((d * d).sum(axis=1))
    out[e] = coplanar & slanted
    return out


def section_loops(part: Part, z_mm: np.ndarray) -> list[tuple[list[np.ndarray], list[np.ndarray]]]:
    """Per plane, (closed loops, open chains) as int64 (n, 2) µm arrays."""
    z = np.ascontiguousarray(z_mm, dtype=np.float64)
    if len(z) and np.any(np.diff(z) < 0):
        raise ValueError("section planes must be ascending")
    faces = np.ascontiguousarray(part.faces, dtype=np.int64)
    verts = np.ascontiguousarray(part.vertices_mm, dtype=np.float64)
    face_edges, edge_vertices = edge_table(faces)
    seg_edges, layer_start = plane_crossings(verts[:, 2].copy(), faces, face_edges, z)
    skip = flat_wall_edges(verts, faces, face_edges, edge_vertices)
    points, loop_start, loop_layer, loop_closed = chain_loops(
        seg_edges, layer_start, edge_vertices, verts, z, pg.UM_PER_MM, skip
    )
    out: list[tuple[list[np.ndarray], list[np.ndarray]]] = [([], []) for _ in range(len(z))]
    for i in range(len(loop_layer)):
        loop = points[loop_start[i] : loop_start[i + 1]]
        closed, open_ = out[loop_layer[i]]
        (closed if loop_closed[i] else open_).append(loop)
    return out


def stitch_chains(chains: list[np.ndarray]) -> list[np.ndarray]:
    """Close open chains into loops, joining each chain's end to the nearest chain start (or
    end, reversed), or to its own start when that is nearest."""
    remaining = [c for c in chains if len(c) > 0]
    loops: list[np.ndarray] = []
    while remaining:
        cur = remaining.pop(0)
        while True:
            end = cur[-1].astype(np.float64)
            best, best_d, best_rev = -1, float(np.hypot(*(cur[0] - end))), False
            for j, c in enumerate(remaining):
                for rev, p in ((False, c[0]), (True, c[-1])):
                    d = float(np.hypot(*(p - end)))
                    if d < best_d:
                        best, best_d, best_rev = j, d, rev
            if best < 0:
                break
            nxt = remaining.pop(best)
            cur = np.vstack([cur, nxt[::-1] if best_rev else nxt])
        loops.append(cur)
    return loops


#: Default tolerance for simplifying sections (µm): far below a line width, far above noise.
RESOLUTION_UM = 5.0


def section_mesh(
    part: Part, z_mm: np.ndarray, *, resolution_um: float = RESOLUTION_UM
) -> list[BaseGeometry]:
    """The cross-section region (shapely, integer µm) of ``part`` at each height in ``z_mm``
    (ascending, mm), simplified to ``resolution_um`` (0 keeps every crossing point)."""
    return [
        section_region(closed, open_, resolution_um=resolution_um)
        for closed, open_ in section_loops(part, z_mm)
    ]


def section_region(
    closed: list[np.ndarray], open_: list[np.ndarray], *, resolution_um: float = RESOLUTION_UM
) -> BaseGeometry:
    """The region of one plane's loops and open chains (from ``section_loops``)."""
    loops = closed + (stitch_chains(open_) if open_ else [])
    # normalized (canonical ring starts and order) so equal sections compare equal exactly
    region = shapely.normalize(pg.simplify(pg.from_loops(loops), resolution_um))
    if shapely.get_precision(region) != 0.0:
        # a region that a snap-rounding repair left with GEOS's fixed precision model:
        # GEOS erodes such a one differently, and a region sent to another process (as
        # WKB) arrives without it, so the output depended on the number of workers (one
        # Benchy layer). Same coordinates, floating precision:
        region = wkb.read(wkb.write(region))
    return region


def layer_planes(part: Part, settings: SliceSettings) -> tuple[np.ndarray, np.ndarray]:
    """Layer tops and thicknesses (float64 (L,) mm each) for a part on the bed; MeshError
    when it has no triangles or does not sit at z = 0."""
    if len(part.faces) == 0:
        raise MeshError(f"part {part.name}: no triangles to slice")
    lo, hi = part.bounds_mm
    if abs(lo[2]) > 1e-6:
        raise MeshError(f"part {part.name}: lowest point z={lo[2]:.4f} mm; place it on the bed")
    return layer_heights(float(hi[2]), settings.first_layer_height_mm, settings.layer_height_mm)


def slice_layers(part: Part, settings: SliceSettings) -> tuple[LayerStack, list[BaseGeometry]]:
    """Layer tops/heights for ``settings`` and the region of each layer, cut at mid-layer.

    The part must sit on the bed (z-min = 0). Returns the frozen stack and the same regions as
    shapely geometries (µm) for the stages that follow.
    """
    tops, heights = layer_planes(part, settings)
    mids = tops - heights / 2.0
    regions = section_mesh(part, mids)
    pts, ring_start, is_hole, layer_ring_start = [], [0], [], [0]
    n_pts = 0
    for region in regions:
        p, rs, h = pg.to_arrays(region)
        pts.append(p)
        ring_start.extend((rs[1:] + n_pts).tolist())
        is_hole.extend(h.tolist())
        n_pts += len(p)
        layer_ring_start.append(len(is_hole))
    stack = LayerStack(
        z_mm=tops,
        slice_z_mm=mids,
        height_mm=heights,
        points_um=np.concatenate(pts) if pts else np.zeros((0, 2), np.int64),
        ring_start=np.array(ring_start, dtype=np.int64),
        ring_is_hole=np.array(is_hole, dtype=bool),
        layer_ring_start=np.array(layer_ring_start, dtype=np.int64),
    )
    return stack, regions
