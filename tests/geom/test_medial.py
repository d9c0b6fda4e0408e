"""Centre lines of thin regions, and their kernels against slow twins on seeded random input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from shapely.geometry.base import BaseGeometry

from fabthread.geom.kernels.medial import (
    CONTACT,
    INSIDE,
    OUTSIDE,
    chain_edges,
    clip_longest,
    line_widths,
    merge_labels,
    rect_axes,
    segment_states,
    voronoi_edges,
)
from fabthread.geom.medial import _long_axes, _Rings, centrelines

# --- random pieces ------------------------------------------------------------------------


def _star(rng: np.random.Generator, cx: float, cy: float, r0: float, r1: float, n: int):
    ang = np.sort(rng.uniform(0, 2 * math.pi, n))
    rad = rng.uniform(r0, r1, n)
    return np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], axis=1)


def _pieces(rng: np.random.Generator, grid: bool) -> np.ndarray:
    """A few disjoint star-shaped polygons, some with a hole; on an integer grid (so that
    vertices on segments and collinear edges happen) or anywhere."""
    out = []
    for k in range(4):
        cx, cy = 30.0 * k, rng.uniform(-5, 5)
        outer = _star(rng, cx, cy, 6.0, 12.0, int(rng.integers(3, 12)))
        holes = [_star(rng, cx, cy, 1.0, 3.0, int(rng.integers(3, 7)))] if k % 2 else []
        if grid:
            outer = np.round(outer)
            holes = [np.round(h) for h in holes]
        poly = shapely.Polygon(outer, holes)
        if poly.is_valid and poly.area > 0:
            out.append(poly)
    return np.array(out, dtype=object)


def _rings(pieces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r = _Rings.of(pieces)
    return r.xy, r.ring_start, r.piece_ring


def _queries(rng: np.random.Generator, pieces: np.ndarray, n: int, grid: bool):
    piece = rng.integers(0, len(pieces), n)
    lo = shapely.bounds(pieces)[piece]
    a = rng.uniform(lo[:, :2] - 2, lo[:, 2:] + 2)
    b = rng.uniform(lo[:, :2] - 2, lo[:, 2:] + 2)
    q = np.hstack([a, b])
    if grid:
        q = np.round(q)
        # and some segments from a boundary vertex, or along a boundary edge
        for i in range(0, n, 5):
            ring = shapely.get_coordinates(pieces[piece[i]].exterior)
            j = int(rng.integers(0, len(ring) - 1))
            q[i, :2] = ring[j]
            if i % 10 == 0:
                q[i, 2:] = ring[j] + (ring[j + 1] - ring[j]) * rng.choice([0.5, 1.0, 2.0])
    return q, piece.astype(np.int64)


# --- segment_states -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("grid", [False, True])
def test_segment_states_agree_with_geos(seed: int, grid: bool) -> None:
    rng = np.random.default_rng(seed)
    pieces = _pieces(rng, grid)
    q, piece = _queries(rng, pieces, 300, grid)
    state = segment_states(q, piece, *_rings(pieces))
    lines = shapely.linestrings(q.reshape(-1, 2, 2))
    within = shapely.within(lines, pieces[piece])
    meets = shapely.intersects(lines, shapely.boundary(pieces[piece]))
    crosses = shapely.crosses(lines, pieces[piece])
    # INSIDE and OUTSIDE are exact answers; CONTACT only where the segment meets the
    # boundary, and then the caller asks GEOS
    assert np.all(within[state == INSIDE]) and not np.any(meets[state == INSIDE])
    assert not np.any(within[state == OUTSIDE])
    assert np.all(meets[state == CONTACT]) and not np.any(crosses[(state == CONTACT) & ~meets])
    if not grid:  # generic positions never touch
        assert not np.any(state == CONTACT)
        assert np.array_equal(state == INSIDE, within)
    else:
        assert np.any(state == CONTACT) and np.any(state == INSIDE)


# --- clip_longest ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("grid", [False, True])
def test_clip_longest_matches_geos_overlay(seed: int, grid: bool) -> None:
    rng = np.random.default_rng(seed)
    pieces = _pieces(rng, grid)
    q, piece = _queries(rng, pieces, 300, grid)
    part, status = clip_longest(q, piece, *_rings(pieces))
    for i in range(len(q)):
        clipped = shapely.intersection(shapely.LineString(q[i].reshape(2, 2)), pieces[piece[i]])
        parts = [g for g in shapely.get_parts(clipped) if g.geom_type == "LineString"]
        longest = max((g.length for g in parts), default=0.0)
        if status[i] == 2:
            assert shapely.intersects(
                shapely.LineString(q[i].reshape(2, 2)), pieces[piece[i]].boundary
            )
            continue
        if status[i] == 0:
            assert longest == pytest.approx(0.0, abs=1e-9)
            continue
        got = shapely.LineString(part[i].reshape(2, 2))
        assert got.length == pytest.approx(longest, rel=1e-9, abs=1e-9)
        assert shapely.distance(got, clipped) < 1e-9
        assert shapely.hausdorff_distance(got, max(parts, key=lambda g: g.length)) < 1e-6 or any(
            abs(g.length - longest) < 1e-9 and shapely.hausdorff_distance(got, g) < 1e-6
            for g in parts
        )
        # same direction as the query
        d = q[i, 2:] - q[i, :2]
        assert np.dot(part[i, 2:] - part[i, :2], d) > 0
    if grid:
        assert np.any(status == 2)
    assert np.any(status == 1) and np.any(status == 0)


# --- boundary_distance ----------------------------------------------------------------------


def _distance_twin(p: np.ndarray, rings: list[np.ndarray]) -> float:
    best = math.inf
    for ring in rings:
        for (cx, cy), (dx, dy) in zip(ring[:-1], ring[1:], strict=True):
            ux, uy = dx - cx, dy - cy
            uu = ux * ux + uy * uy
            t = 0.0 if uu == 0 else min(1.0, max(0.0, ((p[0] - cx) * ux + (p[1] - cy) * uy) / uu))
            best = min(best, math.hypot(p[0] - cx - t * ux, p[1] - cy - t * uy))
    return best


@pytest.mark.parametrize("seed", range(5))
def test_line_widths_match_twin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pieces = _pieces(rng, grid=False)
    n_lines = 40
    line_piece = rng.integers(0, len(pieces), n_lines)
    n_pts = rng.integers(2, 7, n_lines)
    lo = shapely.bounds(pieces)[np.repeat(line_piece, n_pts)]
    pts = rng.uniform(lo[:, :2], lo[:, 2:])
    pts[:3] = pts[0]  # zero-length segments too
    line_start = np.concatenate([[0], np.cumsum(n_pts)])
    width, weight = line_widths(pts, line_start, line_piece, *_rings(pieces))
    assert width.shape == (len(pts) - n_lines,)
    j = 0
    for ln in range(n_lines):
        rings = [shapely.get_coordinates(r) for r in shapely.get_rings(pieces[line_piece[ln]])]
        xy = pts[line_start[ln] : line_start[ln + 1]]
        want = 0.0
        for a, b in zip(xy[:-1], xy[1:], strict=True):
            w = max(2 * _distance_twin((a + b) / 2, rings), 1.0)
            assert width[j] == pytest.approx(w, rel=1e-12)
            want += w * math.hypot(*(b - a))
            j += 1
        assert weight[ln] == pytest.approx(want, rel=1e-12)
    # and GEOS measures the same distances
    mids = (pts[1:] + pts[:-1])[
        np.ones(len(pts) - 1, bool) & ~np.isin(np.arange(1, len(pts)), line_start)
    ] / 2
    geos = shapely.distance(
        shapely.boundary(pieces[np.repeat(line_piece, n_pts - 1)]), shapely.points(mids)
    )
    assert np.allclose(width, np.maximum(2 * geos, 1.0), rtol=1e-9)


# --- rect_axes ------------------------------------------------------------------------------


def _axis_twin(rect: np.ndarray) -> np.ndarray:
    """The long axis through the middles of the short sides, half a short side in at each
    end (but at least 1 µm long)."""
    mids = [(rect[k] + rect[(k + 1) % 4]) / 2 for k in range(4)]
    side = [float(np.hypot(*(rect[(k + 1) % 4] - rect[k]))) for k in range(4)]
    # the axis joining the middles of sides 0 and 2 runs along sides 1 and 3
    along02 = float(np.hypot(*(mids[2] - mids[0])))
    along13 = float(np.hypot(*(mids[3] - mids[1])))
    if along02 >= along13:
        a, b, short = mids[0], mids[2], along13
    else:
        a, b, short = mids[1], mids[3], along02
    assert short == pytest.approx(min(side), rel=1e-9, abs=1e-9)
    n = max(float(np.hypot(*(b - a))), 1e-9)
    cut = min(short / 2, n / 2 - 0.5)
    u = (b - a) / n
    return np.concatenate([a + u * cut, b - u * cut])


@pytest.mark.parametrize("seed", range(3))
def test_rect_axes_match_twin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pieces = np.array(
        [shapely.Polygon(_star(rng, 0, 0, 0.5, 30.0, int(rng.integers(3, 9)))) for _ in range(50)]
    )
    pieces = pieces[shapely.is_valid(pieces)]
    rects = shapely.minimum_rotated_rectangle(pieces)
    corners = shapely.get_coordinates(rects).reshape(-1, 5, 2)[:, :4]
    got = rect_axes(np.ascontiguousarray(corners))
    for i in range(len(corners)):
        assert np.allclose(got[i], _axis_twin(corners[i]), rtol=0, atol=1e-9)
    # the axis of a rectangle ends inside it, and a piece that fills its rectangle holds it
    assert np.all(shapely.covers(rects, shapely.linestrings(got.reshape(-1, 2, 2))))


# --- merge_labels and chain_edges -----------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_merge_labels_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    a = rng.integers(0, n, 40)
    b = rng.integers(0, n, 40)
    got = merge_labels(n, a, b)
    # twin: grow every class by repeated relaxation to its smallest member
    label = list(range(n))
    changed = True
    while changed:
        changed = False
        for x, y in zip(a, b, strict=True):
            m = min(label[x], label[y])
            if label[x] != m or label[y] != m:
                label[x] = label[y] = m
                changed = True
    assert got.tolist() == label


def _random_graph(rng: np.random.Generator) -> tuple[int, np.ndarray, np.ndarray]:
    """Paths, branches and loops: a random forest plus a few extra edges and a cycle."""
    n = 80
    a, b = [], []
    for v in range(1, n - 10):
        if rng.random() < 0.9:
            a.append(v)
            b.append(int(rng.integers(max(0, v - 3), v)))
    for _ in range(5):
        x, y = rng.integers(0, n - 10, 2)
        if x != y:
            a.append(int(x))
            b.append(int(y))
    ring = list(range(n - 10, n))
    for x, y in zip(ring, ring[1:] + ring[:1], strict=True):
        a.append(x)
        b.append(y)
    order = rng.permutation(len(a))
    return n, np.array(a)[order], np.array(b)[order]


@pytest.mark.parametrize("seed", range(5))
def test_chain_edges_is_a_line_merge(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, a, b = _random_graph(rng)
    nodes, offsets = chain_edges(n, a, b)
    deg = np.bincount(np.concatenate([a, b]), minlength=n)
    edges = sorted(tuple(sorted(e)) for e in zip(a.tolist(), b.tolist(), strict=True))
    walked = []
    for k in range(len(offsets) - 1):
        path = nodes[offsets[k] : offsets[k + 1]].tolist()
        assert len(path) >= 2
        walked += [tuple(sorted(e)) for e in zip(path[:-1], path[1:], strict=True)]
        assert all(deg[v] == 2 for v in path[1:-1])  # runs only through degree-2 nodes
        closed = path[0] == path[-1]
        if not closed:
            assert deg[path[0]] != 2 and deg[path[-1]] != 2  # and stops where it branches
    assert sorted(walked) == edges  # every edge once
    # the same polylines as GEOS's line_merge of the edges as segments
    xy = rng.uniform(0, 1000, (n, 2))
    geos = shapely.line_merge(shapely.multilinestrings(list(xy[np.stack([a, b], axis=1)])))
    mine = shapely.multilinestrings(
        shapely.linestrings(
            xy[nodes], indices=np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        )
    )
    assert shapely.get_num_geometries(geos) == len(offsets) - 1
    assert shapely.equals(geos, mine)


# --- voronoi_edges --------------------------------------------------------------------------


def _voronoi_edges_twin(pts, tri, pt_piece, same_um):
    """Every pair of triangles sharing a side of two samples of one piece, found by brute
    force, with circumcentres from the textbook linear system; vertices closer than
    ``same_um`` merged (smallest triangle index), and edges that collapse or touch a
    degenerate triangle dropped. Returns the set of (vertex, vertex, piece), vertex-sorted,
    the circumcentres and how many pairs were merged."""
    centre = []
    for t in tri:
        a, b, c = pts[t]
        m = np.array([b - a, c - a]) * 2
        if abs(np.linalg.det(m)) < 1e-12:
            centre.append(np.array([np.nan, np.nan]))
        else:
            rhs = np.array([b @ b - a @ a, c @ c - a @ a])
            centre.append(np.linalg.solve(m, rhs))
    pairs, close = [], []
    for i in range(len(tri)):
        for j in range(i + 1, len(tri)):
            side = set(tri[i].tolist()) & set(tri[j].tolist())
            if len(side) != 2:
                continue
            u, v = sorted(side)
            if pt_piece[u] != pt_piece[v]:
                continue
            if np.hypot(*(centre[i] - centre[j])) <= same_um:
                close.append((i, j))
            else:
                pairs.append((i, j, int(pt_piece[u])))
    label = list(range(len(tri)))
    for _ in range(len(tri)):
        for i, j in close:
            label[i] = label[j] = min(label[i], label[j])
    out = set()
    for i, j, p in pairs:
        u, v = label[i], label[j]
        if u != v and not np.isnan(centre[u]).any() and not np.isnan(centre[v]).any():
            out.add((min(u, v), max(u, v), p))
    return out, np.array(centre), len(close)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("grid", [False, True])
def test_voronoi_edges_match_twin(seed: int, grid: bool) -> None:
    rng = np.random.default_rng(seed)
    if grid:  # cocircular samples everywhere: merged vertices
        xs, ys = np.meshgrid(np.arange(8) * 150.0, np.arange(5) * 100.0)
        pts = np.stack([xs.ravel(), ys.ravel()], axis=1) + rng.integers(0, 2, (40, 2)) * 0.5
    else:
        pts = rng.uniform(0, 1000, (40, 2))
    pts = np.unique(pts, axis=0)
    pt_piece = (pts[:, 0] > 500).astype(np.int64)
    tri_xy = shapely.get_coordinates(shapely.delaunay_triangles(shapely.multipoints(pts)))
    tri_xy = tri_xy.reshape(-1, 4, 2)[:, :3]
    tri = np.array([[np.flatnonzero((pts == v).all(axis=1))[0] for v in t] for t in tri_xy])
    centre, t1, t2, piece = voronoi_edges(pts, tri, pt_piece, 1e-3)
    want, want_centre, n_close = _voronoi_edges_twin(pts, tri, pt_piece, 1e-3)
    assert (n_close > 0) == grid
    edges = zip(t1.tolist(), t2.tolist(), piece.tolist(), strict=True)
    got = {(min(u, v), max(u, v), p) for u, v, p in edges}
    assert len(got) == len(t1) and got == want
    ok = ~np.isnan(want_centre[:, 0])
    assert np.allclose(centre[ok], want_centre[ok], rtol=1e-9, atol=1e-6)
    assert np.isnan(centre[~ok]).all()


# --- centrelines ----------------------------------------------------------------------------


def _voronoi_twin(piece: BaseGeometry, sample_um: float) -> BaseGeometry:
    """The medial lines straight from GEOS's Voronoi diagram of the boundary samples."""
    pts = np.unique(shapely.get_coordinates(shapely.segmentize(piece.boundary, sample_um)), axis=0)
    edges = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), only_edges=True))
    return shapely.line_merge(shapely.multilinestrings(edges[shapely.within(edges, piece)]))


def _check(region: BaseGeometry, lines: list, min_area: float = 0.0) -> None:
    """Every piece's area goes to its lines; lines inside; widths twice the distance to the
    boundary at the middle of each segment."""
    pieces = [p for p in shapely.get_parts(region) if p.area > min_area]
    got = np.zeros(len(pieces))
    for cl in lines:
        assert cl.points_um.shape[0] >= 2 and cl.width_um.shape == (len(cl.points_um) - 1,)
        mid = (cl.points_um[1:] + cl.points_um[:-1]) / 2
        k = [i for i, p in enumerate(pieces) if p.distance(shapely.points(mid[0])) < 1e-6]
        assert len(k) == 1
        piece = pieces[k[0]]
        assert shapely.distance(piece, shapely.multipoints(cl.points_um)) < 1e-6
        d = shapely.distance(piece.boundary, shapely.points(mid))
        assert np.allclose(cl.width_um, np.maximum(2 * d, 1.0), rtol=1e-9)
        got[k[0]] += cl.share_um2
    for i, p in enumerate(pieces):
        if got[i] > 0:
            assert got[i] == pytest.approx(p.area, rel=1e-9)


def test_a_straight_strip_gets_one_line_along_its_middle() -> None:
    strip = shapely.box(0, 0, 20_000, 400)
    (cl,) = centrelines(strip, sample_um=150, small_area_um2=450**2)
    assert np.allclose(cl.points_um[:, 1], 200.0)
    assert np.allclose(cl.width_um, 400.0)
    assert cl.share_um2 == pytest.approx(strip.area)
    assert np.ptp(cl.points_um[:, 0]) == pytest.approx(20_000 - 400)
    _check(strip, [cl])


@pytest.mark.parametrize("seed", range(4))
def test_bent_slivers_follow_the_voronoi_medial_axis(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pieces = []
    for k in range(5):
        path = np.cumsum(rng.uniform(-3000, 3000, (4, 2)), axis=0) + [k * 20_000, 0]
        pieces.append(shapely.LineString(path).buffer(rng.uniform(150, 400), cap_style="flat"))
    region = shapely.union_all(pieces)
    lines = centrelines(region, sample_um=150, min_area_um2=500, small_area_um2=450**2)
    _check(region, lines, 500)
    for piece in shapely.get_parts(region):
        twin = _voronoi_twin(piece, 150)
        mine = [
            shapely.LineString(c.points_um)
            for c in lines
            if piece.distance(shapely.points(c.points_um[0])) < 1e-6
        ]
        if shapely.is_empty(twin) or piece.area >= 0.9 * piece.minimum_rotated_rectangle.area:
            continue  # no Voronoi lines, or a straight piece: the long axis instead
        assert sum(g.length for g in mine) == pytest.approx(twin.length, rel=1e-9)
        assert shapely.hausdorff_distance(shapely.multilinestrings(mine), twin) < 1e-6


def test_small_and_round_pieces_get_their_clipped_long_axis() -> None:
    wedge = shapely.Polygon([(0, 0), (1500, 0), (1500, 200)])  # small: the axis leaves it
    disc = shapely.Point(10_000, 0).buffer(2000)  # round: no interior Voronoi edge
    crescent = shapely.Point(20_000, 0).buffer(2000) - shapely.Point(20_700, 0).buffer(1800)
    region = shapely.MultiPolygon([wedge, disc, *shapely.get_parts(crescent)])
    lines = centrelines(region, sample_um=150, small_area_um2=450**2)
    _check(region, lines)
    assert len(lines) >= 3
    wl = [c for c in lines if c.points_um[:, 0].max() < 5000]  # the wedge's
    assert len(wl) == 1 and len(wl[0].points_um) == 2
    assert wl[0].share_um2 == pytest.approx(wedge.area)


def test_a_small_bent_piece_its_axis_misses_gets_voronoi_lines() -> None:
    ell = shapely.Polygon([(0, 0), (500, 0), (500, 200), (200, 200), (200, 500), (0, 500)])
    assert ell.area < 450**2  # small: it would get its rectangle's axis, which misses it
    lines = centrelines(ell, sample_um=150, small_area_um2=450**2)
    _check(ell, lines)
    assert lines and sum(c.share_um2 for c in lines) == pytest.approx(ell.area)


def test_degenerate_regions() -> None:
    assert centrelines(shapely.Polygon(), sample_um=150) == []
    tiny = shapely.box(0, 0, 10, 10)
    assert centrelines(tiny, sample_um=150, min_area_um2=200) == []
    strips = shapely.MultiPolygon([shapely.box(0, 0, 5000, 300), shapely.box(0, 1000, 5000, 1200)])
    mixed = shapely.GeometryCollection(
        [strips, shapely.Point(0, 0), shapely.LineString([(0, 0), (1, 1)])]
    )
    lines = centrelines(mixed, sample_um=150)
    assert sorted(cl.share_um2 for cl in lines) == pytest.approx([5000 * 200, 5000 * 300])
    # a degenerate rectangle (a line): a 1 µm stub at the piece's centroid
    piece = np.array([shapely.box(0, 0, 5000, 300)])
    stub = _long_axes(
        piece, np.array([shapely.LineString([(0, 0), (5000, 0)])]), np.array([0]), _Rings.of(piece)
    )
    assert np.allclose(stub.xy, [[2500, 150], [2501, 151]]) and stub.piece.tolist() == [0]


@pytest.mark.parametrize("seed", range(3))
def test_random_gap_regions_conserve_area_and_stay_inside(seed: int) -> None:
    """Gaps as a slicer makes them: what two offset rings of a random outline leave."""
    rng = np.random.default_rng(seed)
    outline = shapely.Polygon(_star(rng, 0, 0, 8000, 15_000, 40))
    outline = shapely.make_valid(outline)
    inner = outline.buffer(-900, join_style="mitre")
    gaps = outline.buffer(-350, join_style="mitre") - inner.buffer(550, join_style="mitre")
    gaps = shapely.union_all([gaps, inner.buffer(-400) - inner.buffer(-700)])
    lines = centrelines(gaps, sample_um=150, min_area_um2=500, small_area_um2=450**2)
    _check(gaps, lines, 500)
    assert lines
