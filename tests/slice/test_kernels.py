"""Every slicing kernel against a slow, obviously-correct Python twin on seeded random input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import trimesh

from fabthread.slice.kernels.hatch import link_scanlines, scanline_segments
from fabthread.slice.kernels.order import build_moves, improve_order, order_paths
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


def chain_twin(seg_edges, layer_start, edge_vertices, vertices, z, skip=frozenset()):
    """Per layer, the loops as lists of crossing points (µm), by walking an edge->segments map;
    no point for the edges in ``skip``."""
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
                if edge not in skip:
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
    skip = rng.random(len(edge_vertices)) < (0.3 if seed % 2 else 0.0)
    pts, loop_start, loop_layer, closed = chain_loops(
        seg, start, edge_vertices, verts, z, 1000.0, skip
    )
    assert closed.all(), "a closed mesh gives closed loops only"
    twin = chain_twin(seg, start, edge_vertices, verts, z, frozenset(np.flatnonzero(skip)))
    for ll in range(len(z)):
        got = sorted(
            _canonical([tuple(map(int, p)) for p in pts[loop_start[i] : loop_start[i + 1]]])
            for i in np.nonzero(loop_layer == ll)[0]
        )
        assert got == sorted(_canonical(lp) for lp in twin[ll])
        assert len(got) >= 1 if -3 < z[ll] < 3 else True


def _prism() -> trimesh.Trimesh:
    """An extruded L with a faceted round hole: flat and faceted vertical walls, triangulated
    with diagonals (the edges sections leave out), 10 mm tall."""
    import shapely

    outline = shapely.Polygon([(0, 0), (30, 0), (30, 12), (12, 12), (12, 25), (0, 25)])
    shape = outline.difference(shapely.Point(6, 6).buffer(3.3, quad_segs=7))
    return trimesh.creation.extrude_polygon(shape, 10.0)


def test_prismatic_sections_repeat_exactly() -> None:
    from fabthread.slice.sections import flat_wall_edges

    mesh = _prism()
    faces = np.asarray(mesh.faces, dtype=np.int64)
    verts = np.asarray(mesh.vertices, dtype=np.float64)
    z = np.array([0.1, 1.37, 4.9, 8.25, 9.9])
    face_edges, edge_vertices = edge_table(faces)
    skip = flat_wall_edges(verts, faces, face_edges, edge_vertices)
    assert skip.any()
    seg, start = plane_crossings(verts[:, 2].copy(), faces, face_edges, z)
    pts, loop_start, loop_layer, _ = chain_loops(seg, start, edge_vertices, verts, z, 1000.0, skip)
    per_layer = [
        sorted(
            _canonical([tuple(map(int, p)) for p in pts[loop_start[i] : loop_start[i + 1]]])
            for i in np.flatnonzero(loop_layer == ll)
        )
        for ll in range(len(z))
    ]
    assert all(layer == per_layer[0] for layer in per_layer)
    # only the points on straight runs went: every remaining point is a corner of the prism
    corners = {(round(x * 1000), round(y * 1000)) for x, y, _ in verts}
    assert {p for loop in per_layer[0] for p in loop} <= corners
    # and without the skip, the same loops plus points on the straight runs between them
    full, full_start, full_layer, _ = chain_loops(
        seg, start, edge_vertices, verts, z, 1000.0, np.zeros_like(skip)
    )
    assert len(full) > len(pts) and len(full_layer) == len(loop_layer)


def test_sloped_walls_keep_their_points() -> None:
    from fabthread.slice.sections import flat_wall_edges

    cone = trimesh.creation.cone(radius=10.0, height=10.0, sections=24)
    faces = np.asarray(cone.faces, dtype=np.int64)
    verts = np.asarray(cone.vertices, dtype=np.float64)
    face_edges, edge_vertices = edge_table(faces)
    assert not flat_wall_edges(verts, faces, face_edges, edge_vertices).any()


def test_chain_loops_reports_open_chains_of_an_open_mesh() -> None:
    mesh = trimesh.creation.box(extents=(10, 10, 10))
    faces = np.asarray(mesh.faces, dtype=np.int64)
    normals = mesh.face_normals
    faces = faces[~np.isclose(normals[:, 0], 1.0)]  # remove the +x side: an open box
    verts = np.asarray(mesh.vertices, dtype=np.float64)
    z = np.array([0.0, 2.5])
    face_edges, edge_vertices = edge_table(faces)
    seg, start = plane_crossings(verts[:, 2].copy(), faces, face_edges, z)
    no_skip = np.zeros(len(edge_vertices), dtype=bool)
    pts, loop_start, loop_layer, closed = chain_loops(
        seg, start, edge_vertices, verts, z, 1000.0, no_skip
    )
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


def order_twin(starts, ends, reversible, group, fixed, x0, y0):
    n = len(starts)
    order, flipped, used = [], [], [False] * n
    cx, cy = x0, y0
    for g in sorted(set(group.tolist())):
        idx = [i for i in range(n) if group[i] == g]
        if fixed[idx[0]]:
            for i in idx:
                d_start = (starts[i][0] - cx) ** 2 + (starts[i][1] - cy) ** 2
                d_end = (ends[i][0] - cx) ** 2 + (ends[i][1] - cy) ** 2
                flip = bool(reversible[i] and d_end < d_start)
                order.append(i)
                flipped.append(flip)
                cx, cy = starts[i] if flip else ends[i]
            continue
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
    fixed = group == 2
    order, flipped = order_paths(starts, ends, reversible, group, fixed, 5.0, 7.0)
    t_order, t_flipped = order_twin(starts, ends, reversible, group, fixed, 5.0, 7.0)
    assert order.tolist() == t_order
    assert flipped.tolist() == t_flipped
    assert sorted(order.tolist()) == list(range(n))


def build_twin(points, start, order, flipped, kind, rate, feed, x0, y0, tfeed, rmin, force):
    rows = []
    cx, cy = x0, y0
    for i, p in enumerate(order):
        pts = points[start[p] : start[p + 1]]
        if len(pts) < 2:
            continue
        seg_rate = rate[start[p] : start[p + 1] - 1]  # rate of segment k -> k + 1
        if flipped[i]:
            pts = pts[::-1]
            seg_rate = seg_rate[::-1]
        for j, (px, py) in enumerate(pts):
            d = math.hypot(px - cx, py - cy)
            if j == 0:
                if d > 0 or (not rows and force):
                    rows.append((px, py, tfeed, 0, 0.0, d > rmin, p))
            elif d > 0:
                rows.append((px, py, feed[p], kind[p], d * seg_rate[j - 1], False, p))
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
    mm3 = rng.uniform(0.01, 0.2, start[-1])  # per segment: variable width
    feed = rng.uniform(600, 3000, n)
    got = build_moves(points, start, order, flipped, kind, mm3, feed, 0.0, 0.0, 9000.0, 1.5, True)
    twin = build_twin(points, start, order, flipped, kind, mm3, feed, 0.0, 0.0, 9000.0, 1.5, True)
    xy, f, k, e, r, path = got
    assert len(xy) == len(twin)
    for i, row in enumerate(twin):
        assert (xy[i, 0], xy[i, 1]) == (row[0], row[1])
        assert f[i] == pytest.approx(row[2]) and k[i] == row[3] and r[i] == row[5]
        assert e[i] == pytest.approx(row[4]) and path[i] == row[6]


# --- improve_order (2-opt) ----------------------------------------------------------------


def _travel(starts, ends, order, flipped, x0, y0):
    cx, cy, total = x0, y0, 0.0
    for p, f in zip(order, flipped, strict=True):
        a, b = (ends[p], starts[p]) if f else (starts[p], ends[p])
        total += math.hypot(a[0] - cx, a[1] - cy)
        cx, cy = b
    return total


def improve_twin(starts, ends, reversible, group, fixed, order, flipped, x0, y0, window, passes):
    """The same 2-opt, written plainly over Python lists."""
    order, flipped = list(order), list(flipped)
    n = len(order)
    closed = [bool(np.all(starts[p] == ends[p])) for p in range(len(starts))]

    def movable(i):
        p = order[i]
        return (reversible[p] or closed[p]) and not fixed[p]

    def entry(i):
        p = order[i]
        return ends[p] if flipped[i] else starts[p]

    def exit_(i):
        p = order[i]
        return starts[p] if flipped[i] else ends[p]

    for _ in range(passes):
        changed = False
        for i in range(n):
            if not movable(i):
                continue
            prev = (x0, y0) if i == 0 else exit_(i - 1)
            for j in range(i + 1, min(n, i + window)):
                if not movable(j) or group[order[j]] != group[order[i]]:
                    break
                before = math.dist(prev, entry(i))
                after = math.dist(prev, exit_(j))
                if j + 1 < n:
                    before += math.dist(exit_(j), entry(j + 1))
                    after += math.dist(entry(i), entry(j + 1))
                if after < before - 1e-9:
                    order[i : j + 1] = order[i : j + 1][::-1]
                    flipped[i : j + 1] = flipped[i : j + 1][::-1]
                    for k in range(i, j + 1):
                        if reversible[order[k]]:
                            flipped[k] = not flipped[k]
                    changed = True
        if not changed:
            break
    return order, flipped


@pytest.mark.parametrize("seed", range(6))
def test_improve_order_matches_twin_and_never_lengthens(seed: int) -> None:
    rng = np.random.default_rng(500 + seed)
    n = 80
    starts = rng.uniform(0, 50, (n, 2))
    ends = starts + rng.normal(0, 3, (n, 2))
    loops = rng.random(n) < 0.2
    ends[loops] = starts[loops]
    reversible = (rng.random(n) < 0.8) & ~loops
    group = np.sort(rng.integers(0, 3, n)).astype(np.int64)
    fixed = group == 1
    order, flipped = order_paths(starts, ends, reversible, group, fixed, 1.0, 2.0)
    got = improve_order(starts, ends, reversible, group, fixed, order, flipped, 1.0, 2.0, 12, 3)
    twin = improve_twin(starts, ends, reversible, group, fixed, order, flipped, 1.0, 2.0, 12, 3)
    assert got[0].tolist() == twin[0] and got[1].tolist() == twin[1]
    assert sorted(got[0].tolist()) == list(range(n))
    # groups stay in order, fixed groups untouched, non-reversible paths never flipped
    assert np.all(np.diff(group[got[0]]) >= 0)
    assert np.all(~got[1] | reversible[got[0]])
    before = _travel(starts, ends, order, flipped, 1.0, 2.0)
    after = _travel(starts, ends, got[0], got[1], 1.0, 2.0)
    assert after <= before + 1e-9


# --- link_scanlines -----------------------------------------------------------------------


def link_twin(seg, line, max_gap):
    n = len(seg)
    used = [False] * n
    order, flipped, chain_start = [], [], []
    for s in range(n):
        if used[s]:
            continue
        chain_start.append(len(order))
        used[s] = True
        order.append(s)
        flipped.append(False)
        cur, right = s, True
        while True:
            x = seg[cur][2] if right else seg[cur][0]
            cands = [
                (abs((seg[j][2] if right else seg[j][0]) - x), -j)
                for j in range(n)
                if not used[j] and line[j] == line[cur] + 1
            ]
            cands = [c for c in cands if c[0] <= max_gap]
            if not cands:
                break
            # the kernel keeps the last of equally near candidates (<=), hence -j
            _, neg = min(cands)
            best = -neg
            used[best] = True
            order.append(best)
            flipped.append(right)
            cur, right = best, not right
    chain_start.append(len(order))
    return order, flipped, chain_start


@pytest.mark.parametrize("seed", range(8))
def test_link_scanlines_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(600 + seed)
    outer = np.round(_star(rng, 0, 0, 100, 30))
    hole = np.round(_star(rng, 10, 0, 25, 10))[::-1]
    pts = np.concatenate([outer, hole])
    start = np.array([0, len(outer), len(pts)], dtype=np.int64)
    ys = (np.arange(-60, 60) + 0.5) * 1.7
    seg = scanline_segments(pts, start, ys)
    line = np.round(seg[:, 1] / 1.7 - 0.5).astype(np.int64)
    got = link_scanlines(seg, line, 6.0)
    twin = link_twin(seg, line, 6.0)
    assert got[0].tolist() == twin[0]
    assert got[1].tolist() == twin[1]
    assert got[2].tolist() == twin[2]


def test_section_regions_carry_no_fixed_precision_model() -> None:
    """A section repaired by snap-rounding (a loop crossing itself) must come out with
    floating precision: GEOS erodes a region with its fixed precision model differently,
    and a region sent to a worker process as WKB loses it, so the slice depended on the
    number of workers (one Benchy layer did)."""
    import pickle

    import shapely

    from fabthread.geom import polygons as pg
    from fabthread.slice.sections import section_region

    # a figure eight: the loop crosses itself, so the region is repaired and snap-rounded
    eight = np.array([[0, 0], [20_000, 10_001], [20_000, 0], [0, 10_000]], dtype=np.int64)
    square = np.array([[40_000, 0], [50_000, 0], [50_000, 7_333], [40_000, 7_333]])
    region = section_region([eight, square.astype(np.int64)], [])
    assert shapely.get_precision(region) == 0.0
    back = pickle.loads(pickle.dumps(region))
    for d in (200.0, 450.0, 1_000.0):
        assert shapely.equals_exact(pg.shrink(region, d), pg.shrink(back, d), 0)
