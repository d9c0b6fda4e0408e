"""Every slicing kernel against a slow, obviously-correct Python twin on seeded random input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import trimesh

from fabthread.slice.kernels.hatch import scanline_segments
from fabthread.slice.kernels.order import build_moves, order_paths
from fabthread.slice.kernels.section import chain_loops, plane_crossings
from fabthread.slice.sections import edge_table

# --- plane_crossings ----------------------------------------------------------------------


def crossings_twin(vz, faces, face_edges, z):
    """Per plane, the set of (sorted) crossed edge pairs of every triangle that crosses it."""
    out = []
    for zp in z:
        segs = []
        for f in range(len(faces)):
            if len(set(faces[f])) < 3:
                continue
            crossed = []
            for k in range(3):
                below_a = vz[faces[f][k]] < zp
                below_b = vz[faces[f][(k + 1) % 3]] < zp
                if below_a != below_b:
                    crossed.append(int(face_edges[f][k]))
            if crossed:
                assert len(crossed) == 2
                segs.append(tuple(crossed))
        out.append(sorted(segs))
    return out


def _random_mesh(rng: np.random.Generator) -> trimesh.Trimesh:
    mesh = trimesh.creation.icosphere(subdivisions=2, radius=5.0)
    mesh.vertices = mesh.vertices + rng.normal(0, 0.4, mesh.vertices.shape)
    # snap some vertices to the planes to exercise the on-plane rule
    return mesh


@pytest.mark.parametrize("seed", range(5))
def test_plane_crossings_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    mesh = _random_mesh(rng)
    faces = np.asarray(mesh.faces, dtype=np.int64)
    verts = np.asarray(mesh.vertices, dtype=np.float64)
    z = np.sort(rng.uniform(-6, 6, 12))
    verts[rng.integers(0, len(verts), 10), 2] = z[rng.integers(0, len(z), 10)]  # on-plane
    face_edges, _ = edge_table(faces)
    seg, start = plane_crossings(verts[:, 2].copy(), faces, face_edges, z)
    twin = crossings_twin(verts[:, 2], faces, face_edges, z)
    assert len(start) == len(z) + 1
    for ll in range(len(z)):
        got = sorted(tuple(int(e) for e in row) for row in seg[start[ll] : start[ll + 1]])
        assert got == twin[ll]


# --- chain_loops --------------------------------------------------------------------------


def chain_twin(seg_edges, layer_start, edge_vertices, vertices, z):
    """Per layer, the loops as lists of crossing points (µm), by walking an edge->segments map."""
    out = []
    for ll in range(len(z)):
        segs = [tuple(s) for s in seg_edges[layer_start[ll] : layer_start[ll + 1]]]
        by_edge: dict[int, list[int]] = {}
        for i, (a, b) in enumerate(segs):
            by_edge.setdefault(a, []).append(i)
            by_edge.setdefault(b, []).append(i)

        def point(e, zp=z[ll]):
            va, vb = edge_vertices[e]
            pa, pb = vertices[va], vertices[vb]
            t = (zp - pa[2]) / (pb[2] - pa[2])
            return (
                round((pa[0] + t * (pb[0] - pa[0])) * 1000),
                round((pa[1] + t * (pb[1] - pa[1])) * 1000),
            )

        used = [False] * len(segs)
        loops = []
        for s in range(len(segs)):
            if used[s]:
                continue
            used[s] = True
            start_edge, cur = segs[s][0], s
            edge = start_edge
            pts = []
            while True:
                pts.append(point(edge))
                nxt_edge = segs[cur][1] if segs[cur][0] == edge else segs[cur][0]
                if nxt_edge == start_edge:
                    break
                (other,) = [j for j in by_edge[nxt_edge] if j != cur]
                used[other] = True
                cur, edge = other, nxt_edge
            dedup = [p for i, p in enumerate(pts) if i == 0 or p != pts[i - 1]]
            while len(dedup) > 1 and dedup[-1] == dedup[0]:
                dedup.pop()
            loops.append(dedup)
        out.append(loops)
    return out


def _canonical(loop: list[tuple[int, int]]) -> tuple:
    """A loop up to rotation and direction."""
    best = None
    for seq in (loop, loop[::-1]):
        i = seq.index(min(seq))
        rot = tuple(seq[i:] + seq[:i])
        best = rot if best is None or rot < best else best
    return best


@pytest.mark.parametrize("seed", range(5))
def test_chain_loops_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    mesh = trimesh.util.concatenate(
        [_random_mesh(rng), _random_mesh(rng).apply_translation([20, 0, 1])]
    )
    faces = np.asarray(mesh.faces, dtype=np.int64)
    verts = np.asarray(mesh.vertices, dtype=np.float64)
    z = np.sort(rng.uniform(-4, 4, 9))
    face_edges, edge_vertices = edge_table(faces)
    seg, start = plane_crossings(verts[:, 2].copy(), faces, face_edges, z)
    pts, loop_start, loop_layer, closed = chain_loops(seg, start, edge_vertices, verts, z, 1000.0)
    assert closed.all(), "a closed mesh gives closed loops only"
    twin = chain_twin(seg, start, edge_vertices, verts, z)
    for ll in range(len(z)):
        got = sorted(
            _canonical([tuple(map(int, p)) for p in pts[loop_start[i] : loop_start[i + 1]]])
            for i in np.nonzero(loop_layer == ll)[0]
        )
        assert got == sorted(_canonical(lp) for lp in twin[ll])
        assert len(got) >= 1 if -3 < z[ll] < 3 else True


def test_chain_loops_reports_open_chains_of_an_open_mesh() -> None:
    mesh = trimesh.creation.box(extents=(10, 10, 10))
    faces = np.asarray(mesh.faces, dtype=np.int64)
    normals = mesh.face_normals
    faces = faces[~np.isclose(normals[:, 0], 1.0)]  # remove the +x side: an open box
    verts = np.asarray(mesh.vertices, dtype=np.float64)
    z = np.array([0.0, 2.5])
    face_edges, edge_vertices = edge_table(faces)
    seg, start = plane_crossings(verts[:, 2].copy(), faces, face_edges, z)
    pts, loop_start, loop_layer, closed = chain_loops(seg, start, edge_vertices, verts, z, 1000.0)
    assert len(closed) == 2 and not closed.any()
    for i in range(2):
        chain = pts[loop_start[i] : loop_start[i + 1]]
        assert np.all(chain[[0, -1], 0] == 5000)  # both ends on the missing side


# --- scanline_segments --------------------------------------------------------------------


def _star(rng, cx, cy, r, n):
    ang = np.sort(rng.uniform(0, 2 * math.pi, n))
    rad = rng.uniform(0.3 * r, r, n)
    return np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], axis=1)


def scanline_twin(rings, ys):
    out = []
    for y in ys:
        xs = []
        for ring in rings:
            for i in range(len(ring)):
                (xa, ya), (xb, yb) = ring[i], ring[(i + 1) % len(ring)]
                if ya != yb and min(ya, yb) <= y < max(ya, yb):
                    xs.append(xa + (y - ya) / (yb - ya) * (xb - xa))
        xs.sort()
        for a, b in zip(xs[0::2], xs[1::2], strict=True):
            if b > a:
                out.append((a, y, b, y))
    return out


@pytest.mark.parametrize("seed", range(8))
def test_scanline_segments_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    outer = _star(rng, 0, 0, 100, 40)
    hole = _star(rng, 0, 0, 20, 12)[::-1]
    other = _star(rng, 300, 0, 50, 9)
    # integer vertices so some lie exactly on scan lines
    rings = [np.round(r) for r in (outer, hole, other)]
    pts = np.concatenate(rings)
    start = np.cumsum([0] + [len(r) for r in rings]).astype(np.int64)
    ys = np.sort(np.concatenate([rng.uniform(-110, 110, 30), rings[0][:5, 1]]))
    got = scanline_segments(pts, start, ys)
    twin = np.array(scanline_twin(rings, ys)).reshape(-1, 4)
    assert got.shape == twin.shape
    np.testing.assert_allclose(got, twin, rtol=0, atol=1e-9)


# --- order_paths and build_moves ----------------------------------------------------------


def order_twin(starts, ends, reversible, group, x0, y0):
    n = len(starts)
    order, flipped, used = [], [], [False] * n
    cx, cy = x0, y0
    for g in sorted(set(group.tolist())):
        idx = [i for i in range(n) if group[i] == g]
        for _ in idx:
            cands = []
            for i in idx:
                if used[i]:
                    continue
                cands.append(((starts[i][0] - cx) ** 2 + (starts[i][1] - cy) ** 2, i, 0))
                if reversible[i]:
                    cands.append(((ends[i][0] - cx) ** 2 + (ends[i][1] - cy) ** 2, i, 1))
            _, i, flip = min(cands)
            used[i] = True
            order.append(i)
            flipped.append(bool(flip))
            cx, cy = starts[i] if flip else ends[i]
    return order, flipped


@pytest.mark.parametrize("seed", range(6))
def test_order_paths_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(300 + seed)
    n = 60
    starts = rng.uniform(0, 100, (n, 2))
    ends = rng.uniform(0, 100, (n, 2))
    reversible = rng.random(n) < 0.6
    group = np.sort(rng.integers(0, 4, n)).astype(np.int64)
    order, flipped = order_paths(starts, ends, reversible, group, 5.0, 7.0)
    t_order, t_flipped = order_twin(starts, ends, reversible, group, 5.0, 7.0)
    assert order.tolist() == t_order
    assert flipped.tolist() == t_flipped
    assert sorted(order.tolist()) == list(range(n))


def build_twin(points, start, order, flipped, kind, mm3, feed, x0, y0, tfeed, rmin, force):
    rows = []
    cx, cy = x0, y0
    for i, p in enumerate(order):
        pts = points[start[p] : start[p + 1]]
        if len(pts) < 2:
            continue
        if flipped[i]:
            pts = pts[::-1]
        for j, (px, py) in enumerate(pts):
            d = math.hypot(px - cx, py - cy)
            if j == 0:
                if d > 0 or (not rows and force):
                    rows.append((px, py, tfeed, 0, 0.0, d > rmin, p))
            elif d > 0:
                rows.append((px, py, feed[p], kind[p], d * mm3[p], False, p))
            else:
                continue
            cx, cy = px, py
    return rows


@pytest.mark.parametrize("seed", range(6))
def test_build_moves_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(400 + seed)
    n = 25
    lengths = rng.integers(1, 7, n)
    start = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    points = np.round(rng.uniform(0, 20, (start[-1], 2)), 1)  # rounding makes repeats likely
    points[3] = points[2]
    order = rng.permutation(n).astype(np.int64)
    flipped = rng.random(n) < 0.5
    kind = rng.integers(1, 9, n).astype(np.uint8)
    mm3 = rng.uniform(0.01, 0.2, n)
    feed = rng.uniform(600, 3000, n)
    got = build_moves(points, start, order, flipped, kind, mm3, feed, 0.0, 0.0, 9000.0, 1.5, True)
    twin = build_twin(points, start, order, flipped, kind, mm3, feed, 0.0, 0.0, 9000.0, 1.5, True)
    xy, f, k, e, r, path = got
    assert len(xy) == len(twin)
    for i, row in enumerate(twin):
        assert (xy[i, 0], xy[i, 1]) == (row[0], row[1])
        assert f[i] == pytest.approx(row[2]) and k[i] == row[3] and r[i] == row[5]
        assert e[i] == pytest.approx(row[4]) and path[i] == row[6]
