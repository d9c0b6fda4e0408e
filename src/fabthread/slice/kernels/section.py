"""Numba kernels: triangle-plane intersection for all layers and topological loop chaining.

Conventions shared by both kernels (and by their Python twins in the tests):

- A vertex is *below* plane ``zp`` when ``z < zp``, otherwise *above* (symbolic perturbation:
  a vertex exactly on the plane counts as above). A triangle crosses ``zp`` iff
  ``zmin < zp <= zmax``, and then exactly two of its edges cross. This makes every crossing
  point a property of an *edge*, shared by the two triangles of that edge, so loops close
  exactly on a closed mesh, whatever the vertices that lie on a plane.
- Edge ``k`` of face ``f`` joins ``faces[f, k]`` and ``faces[f, (k + 1) % 3]``; its global id is
  ``face_edges[f, k]`` and ``edge_vertices[id]`` holds its two vertex indices (lower first), so
  both faces of an edge compute the crossing point bit for bit identically.
"""

from __future__ import annotations

import numpy as np

from fabthread.kernels.jit import helper, kernel


@helper
def _first_above(z: np.ndarray, value: float) -> int:
    """Index of the first plane with ``z[i] > value`` (``searchsorted(z, value, 'right')``)."""
    lo = 0
    hi = z.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if z[mid] > value:
            hi = mid
        else:
            lo = mid + 1
    return lo


@kernel(
    "f8[:], i8[:, :], i8[:, :], f8[:]",
    returns="Tuple((i8[:, :], i8[:]))",
)
def plane_crossings(
    vz: np.ndarray, faces: np.ndarray, face_edges: np.ndarray, z: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Crossing segments of all triangles with all planes, grouped by plane.

    vz: float64 (n,) vertex z; faces, face_edges: int64 (m, 3); z: float64 (L,) ascending.
    Returns ``seg_edges`` int64 (S, 2), the two crossed edge ids of each segment, and
    ``layer_start`` int64 (L + 1,): segments of plane ``l`` are ``layer_start[l]:layer_start[l+1]``.
    Each triangle is visited only for the planes its z-range spans.
    """
    m = faces.shape[0]
    n_layers = z.shape[0]
    counts = np.zeros(n_layers + 1, dtype=np.int64)
    lo_l = np.empty(m, dtype=np.int64)
    hi_l = np.empty(m, dtype=np.int64)
    for f in range(m):
        a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
        if a == b or b == c or a == c:
            lo_l[f] = 0
            hi_l[f] = 0
            continue
        za, zb, zc = vz[a], vz[b], vz[c]
        zmin = min(za, min(zb, zc))
        zmax = max(za, max(zb, zc))
        l0 = _first_above(z, zmin)
        l1 = _first_above(z, zmax)
        lo_l[f] = l0
        hi_l[f] = l1
        for ll in range(l0, l1):
            counts[ll + 1] += 1
    layer_start = np.cumsum(counts)
    fill = layer_start[:-1].copy()
    seg_edges = np.empty((layer_start[-1], 2), dtype=np.int64)
    for f in range(m):
        for ll in range(lo_l[f], hi_l[f]):
            zp = z[ll]
            k_out = 0
            s = fill[ll]
            for k in range(3):
                b0 = vz[faces[f, k]] < zp
                b1 = vz[faces[f, (k + 1) % 3]] < zp
                if b0 != b1:
                    seg_edges[s, k_out] = face_edges[f, k]
                    k_out += 1
            fill[ll] += 1
    return seg_edges, layer_start


@kernel(
    "i8[:, :], i8[:], i8[:, :], f8[:, :], f8[:], f8, b1[:]",
    returns="Tuple((i8[:, :], i8[:], i8[:], b1[:]))",
)
def chain_loops(
    seg_edges: np.ndarray,
    layer_start: np.ndarray,
    edge_vertices: np.ndarray,
    vertices: np.ndarray,
    z: np.ndarray,
    scale: float,
    skip: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Chain the segments of every plane into loops through shared edge ids.

    seg_edges, layer_start: from ``plane_crossings``; edge_vertices: int64 (E, 2);
    vertices: float64 (n, 3) in mm; z: float64 (L,) planes in mm; scale: output units per mm
    (1000 for micrometres). Chaining is undirected (robust to flipped or inconsistent normals).
    skip: bool (E,) edges whose crossing point is left out of the loops (it lies on the
    straight line through its neighbours: see ``sections.flat_wall_edges``).

    Returns ``points`` int64 (P, 2) rounded to ``1/scale`` mm, ``loop_start`` int64 (R + 1,),
    ``loop_layer`` int64 (R,), ``loop_closed`` bool (R,). Open chains (from open meshes) come
    first in each layer and start at a dangling edge. Consecutive duplicate points are dropped;
    a closed loop does not repeat its first point.
    """
    n_seg = seg_edges.shape[0]
    n_edges = edge_vertices.shape[0]
    slot0 = np.full(n_edges, -1, dtype=np.int64)
    slot1 = np.full(n_edges, -1, dtype=np.int64)
    used = np.zeros(n_seg, dtype=np.bool_)
    # each segment emits at most one point, each open chain one more at its dangling end
    points = np.empty((2 * n_seg + 16, 2), dtype=np.int64)
    n_pts = 0
    # at most one loop per segment: preallocated arrays (lists compile several times slower)
    loop_start = np.zeros(n_seg + 1, dtype=np.int64)
    loop_layer = np.zeros(n_seg, dtype=np.int64)
    loop_closed = np.zeros(n_seg, dtype=np.bool_)
    n_loops = 0
    n_layers = layer_start.shape[0] - 1
    for ll in range(n_layers):
        s0 = layer_start[ll]
        s1 = layer_start[ll + 1]
        zp = z[ll]
        for s in range(s0, s1):
            for k in range(2):
                e = seg_edges[s, k]
                if slot0[e] == -1:
                    slot0[e] = s
                elif slot1[e] == -1:
                    slot1[e] = s
                # a third segment on an edge (non-manifold) stays unlinked there
        for phase in range(2):
            for s in range(s0, s1):
                if used[s]:
                    continue
                e_start = -1
                if phase == 0:
                    # open chains: start at an edge that only this segment uses
                    for k in range(2):
                        e = seg_edges[s, k]
                        if slot1[e] == -1 or (slot0[e] != s and slot1[e] != s):
                            e_start = e
                            break
                    if e_start == -1:
                        continue
                else:
                    e_start = seg_edges[s, 0]
                used[s] = True
                first_pt = n_pts
                cur_seg = s
                cur_edge = e_start
                closed = False
                while True:
                    # emit the crossing point of cur_edge
                    va = edge_vertices[cur_edge, 0]
                    vb = edge_vertices[cur_edge, 1]
                    za = vertices[va, 2]
                    zb = vertices[vb, 2]
                    t = (zp - za) / (zb - za)
                    x = vertices[va, 0] + t * (vertices[vb, 0] - vertices[va, 0])
                    y = vertices[va, 1] + t * (vertices[vb, 1] - vertices[va, 1])
                    ix = np.int64(np.round(x * scale))
                    iy = np.int64(np.round(y * scale))
                    if not skip[cur_edge] and (
                        n_pts == first_pt
                        or points[n_pts - 1, 0] != ix
                        or points[n_pts - 1, 1] != iy
                    ):
                        points[n_pts, 0] = ix
                        points[n_pts, 1] = iy
                        n_pts += 1
                    # the other edge of the current segment
                    if seg_edges[cur_seg, 0] == cur_edge:
                        nxt_edge = seg_edges[cur_seg, 1]
                    else:
                        nxt_edge = seg_edges[cur_seg, 0]
                    if nxt_edge == e_start and phase == 1:
                        closed = True
                        break
                    # the other segment on nxt_edge
                    other = slot0[nxt_edge]
                    if other == cur_seg:
                        other = slot1[nxt_edge]
                    if other == -1 or used[other]:
                        # dangling end: emit its point and stop
                        va = edge_vertices[nxt_edge, 0]
                        vb = edge_vertices[nxt_edge, 1]
                        za = vertices[va, 2]
                        zb = vertices[vb, 2]
                        t = (zp - za) / (zb - za)
                        x = vertices[va, 0] + t * (vertices[vb, 0] - vertices[va, 0])
                        y = vertices[va, 1] + t * (vertices[vb, 1] - vertices[va, 1])
                        ix = np.int64(np.round(x * scale))
                        iy = np.int64(np.round(y * scale))
                        if (
                            n_pts == first_pt
                            or points[n_pts - 1, 0] != ix
                            or points[n_pts - 1, 1] != iy
                        ):
                            points[n_pts, 0] = ix
                            points[n_pts, 1] = iy
                            n_pts += 1
                        break
                    used[other] = True
                    cur_seg = other
                    cur_edge = nxt_edge
                if closed:
                    # drop a repeated first point at the end
                    while (
                        n_pts - first_pt > 1
                        and points[n_pts - 1, 0] == points[first_pt, 0]
                        and points[n_pts - 1, 1] == points[first_pt, 1]
                    ):
                        n_pts -= 1
                loop_layer[n_loops] = ll
                loop_closed[n_loops] = closed
                n_loops += 1
                loop_start[n_loops] = n_pts
        for s in range(s0, s1):
            for k in range(2):
                e = seg_edges[s, k]
                slot0[e] = -1
                slot1[e] = -1
    return (
        points[:n_pts].copy(),
        loop_start[: n_loops + 1].copy(),
        loop_layer[:n_loops].copy(),
        loop_closed[:n_loops].copy(),
    )
