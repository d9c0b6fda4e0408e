"""Clipper2 booleans against GEOS: same regions on random and real layer sections."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import shapely.affinity

from fabthread.geom import clip
from fabthread.geom import polygons as pg
from fabthread.geom.kernels import rings as ring_kernels


def _blob(rng: np.random.Generator, cx: float, cy: float, r: float, n: int) -> np.ndarray:
    """A star-shaped random loop (µm) around (cx, cy)."""
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = r * rng.uniform(0.5, 1.0, n)
    return np.round(np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1)).astype(np.int64)


def _region(rng: np.random.Generator) -> shapely.geometry.base.BaseGeometry:
    loops = [_blob(rng, 0, 0, 20_000, 40), _blob(rng, 1_000, -500, 6_000, 12)]  # outline, hole
    loops.append(_blob(rng, 30_000, 5_000, 8_000, 25))  # second island
    return pg.from_loops(loops)


def _geos(op: str, a, b):  # noqa: ANN001, ANN202
    return getattr(shapely, op)(a, b, grid_size=1.0)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("op", ["intersection", "difference"])
def test_clipper_matches_geos_on_random_regions(seed: int, op: str) -> None:
    rng = np.random.default_rng(seed)
    a = _region(rng)
    b = shapely.affinity.translate(_region(rng), *rng.integers(-5_000, 5_000, 2))
    b = shapely.set_precision(b, 1.0)
    got = getattr(clip, op)(a, b)
    want = _geos(op, a, b)
    if got is None:  # Clipper2's result touches itself: GEOS decides (what polygons does)
        got = getattr(pg, op)(a, b)
    assert shapely.is_valid(got)
    # the same region up to the micrometre grid: the outlines differ by rounding only
    assert abs(got.area - want.area) <= 1e-6 * max(want.area, 1.0) + want.length
    assert shapely.symmetric_difference(got, want).area <= want.length + 1.0
    xy = shapely.get_coordinates(got)
    assert np.array_equal(xy, np.round(xy))  # on the micrometre grid


def test_paths_and_region_round_trip_islands_and_holes() -> None:
    outer = np.array([[0, 0], [10_000, 0], [10_000, 10_000], [0, 10_000]])
    hole = np.array([[2_000, 2_000], [8_000, 2_000], [8_000, 8_000], [2_000, 8_000]])
    inner = np.array([[4_000, 4_000], [6_000, 4_000], [6_000, 6_000], [4_000, 6_000]])
    region = pg.from_loops([outer, hole, inner])
    rings = clip.paths(region)
    assert sorted(len(r) for r in rings) == [4, 4, 4]
    assert all(r.dtype == np.int64 for r in rings)
    # an intersection with a big square gives the region back, islands in holes included
    big = pg.from_loops([np.array([[-1, -1], [20_000, -1], [20_000, 20_000], [-1, 20_000]])])
    back = clip.intersection(region, big)
    assert back is not None
    assert back.area == pytest.approx(region.area)
    assert len(pg.islands(back)) == 2
    assert shapely.equals(back, region)


def test_disjoint_and_empty_results() -> None:
    a = pg.from_loops([np.array([[0, 0], [1_000, 0], [1_000, 1_000], [0, 1_000]])])
    b = shapely.affinity.translate(a, 5_000, 0)
    out = clip.intersection(a, b)
    assert out is not None and out.is_empty
    assert pg.intersection(a, b).is_empty
    assert pg.difference(a, a).is_empty
    assert shapely.equals(pg.difference(a, b), a)


def test_touching_result_falls_back_to_geos() -> None:
    # two squares that share a corner: their union minus nothing touches itself at a point,
    # which GEOS calls valid as a MultiPolygon; a square minus a diamond that touches its
    # edges from inside leaves pieces meeting at points
    sq = pg.from_loops([np.array([[0, 0], [4_000, 0], [4_000, 4_000], [0, 4_000]])])
    diamond = pg.from_loops([np.array([[2_000, 0], [4_000, 2_000], [2_000, 4_000], [0, 2_000]])])
    got = pg.difference(sq, diamond)
    assert shapely.is_valid(got)
    assert pg.area_mm2(got) == pytest.approx(16.0 - 8.0)
    assert len(pg.islands(got)) == 4


def test_loading_clipper2_skips_the_package_metadata() -> None:
    """clipper2's ``__init__`` reads its metadata (40 ms at every start-up); the loader goes
    to the compiled module directly."""
    import subprocess
    import sys

    code = "import sys, fabthread.geom.clip as c\nprint('importlib.metadata' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_paths_of_empty_and_non_polygonal_geometry() -> None:
    assert clip.paths(pg.EMPTY) == []
    assert clip.paths(shapely.Polygon()) == []
    with pytest.raises(TypeError, match="not a polygonal region"):
        clip.paths(shapely.LineString([(0, 0), (1, 1)]))


def test_wkb_rings_and_polygons_round_trip() -> None:
    from fabthread.geom import wkb

    outer = np.array([[0, 0], [10_000, 0], [10_000, 10_000], [0, 10_000]])
    hole = np.array([[2_000, 2_000], [8_000, 2_000], [8_000, 8_000], [2_000, 8_000]])
    island = np.array([[20_000, 0], [21_000, 0], [21_000, 1_000]])
    region = pg.from_loops([outer, hole, island])
    # WKB order: each polygon's exterior, then its holes, as GEOS holds them
    want = [
        shapely.get_coordinates(ring)[:-1]
        for poly in shapely.get_parts(region)
        for ring in [poly.exterior, *poly.interiors]
    ]
    rings = wkb.rings(region)
    assert len(rings) == len(want) == 3
    for got, ref in zip(rings, want, strict=True):
        np.testing.assert_array_equal(got, ref)
    counts = [1 + len(poly.interiors) for poly in shapely.get_parts(region)]
    firsts = np.cumsum([0, *counts[:-1]])
    per_polygon = [rings[a : a + n] for a, n in zip(firsts, counts, strict=True)]
    assert shapely.equals(wkb.polygons(per_polygon), region)
    pts, start, is_hole = wkb.ring_arrays(region)
    assert start.tolist() == [0, *np.cumsum([len(r) for r in want]).tolist()]
    np.testing.assert_array_equal(pts, np.concatenate(want))
    holes = [h for p in shapely.get_parts(region) for h in [False] + [True] * len(p.interiors)]
    assert is_hole.tolist() == holes and sorted(holes) == [False, False, True]
    with pytest.raises(TypeError, match="not a polygonal region"):
        wkb.ring_arrays(shapely.LineString([(0, 0), (1, 1)]))
    assert wkb.polygons([]).is_empty


def _reference_paths(region) -> list[np.ndarray]:  # noqa: ANN001
    from fabthread.geom import wkb

    return [ring.astype(np.int64) for ring in wkb.rings(region)]


def _reference_checked(tree) -> shapely.geometry.base.BaseGeometry | None:  # noqa: ANN001
    out = clip.region(tree)
    return out if shapely.is_valid(out) else None


def _same_region(got, want) -> bool:  # noqa: ANN001
    """The same point set (GEOS's own repair of ``want`` as the judge)."""
    fixed = shapely.make_valid(want)
    return shapely.symmetric_difference(got, fixed).area <= 1e-9 * max(fixed.area, 1.0)


@pytest.mark.parametrize("seed", range(8))
def test_kernel_conversions_are_the_tree_walk_and_geos_check(seed: int) -> None:
    """``paths`` (the ring_points kernel) gives the rings WKB gives; ``_checked`` (the
    clipper_wkb kernel, then split_touching, then the tree and GEOS's check) the region of
    the tree walk byte for byte where GEOS calls that valid, and where it does not either
    None or a valid region with the same points (rings touching themselves split)."""
    rng = np.random.default_rng(700 + seed)
    fast = results = 0
    for _ in range(40):
        a, b = _region(rng), _region(rng)
        b = shapely.affinity.translate(b, *rng.integers(-8_000, 8_000, 2).tolist())
        for r in (a, b):
            got, want = clip.paths(r), _reference_paths(r)
            assert len(got) == len(want) and all(map(np.array_equal, got, want))
        for op in (clip._INTERSECTION, clip._DIFFERENCE):
            tree = clip._c2.boolean_op_tree(op, clip._EVEN_ODD, clip.paths(a), clip.paths(b))
            got, want = clip._checked(tree), _reference_checked(tree)
            if want is not None:
                assert got is not None and shapely.to_wkb(got) == shapely.to_wkb(want)
            elif got is not None:
                assert shapely.is_valid(got) and _same_region(got, clip.region(tree))
            flat = clip._c2.poly_tree_to_paths64(tree)
            if flat:
                results += 1
                starts = np.zeros(len(flat) + 1, dtype=np.int64)
                np.cumsum([len(p) for p in flat], out=starts[1:])
                fast += ring_kernels.clipper_wkb(np.concatenate(flat), starts)[0] == 0
    assert fast >= 0.8 * results  # most results take the kernel's way


def test_clipper_wkb_declines_what_it_cannot_vouch_for() -> None:
    def status(*rings: list[tuple[int, int]]) -> int:
        pts = np.concatenate([np.array(r, dtype=np.int64) for r in rings])
        starts = np.cumsum([0] + [len(r) for r in rings]).astype(np.int64)
        return int(ring_kernels.clipper_wkb(pts, starts)[0])

    outer = [(0, 0), (100, 0), (100, 100), (0, 100)]  # counter-clockwise: an outer
    assert status(outer, [(10, 10), (10, 20), (20, 20), (20, 10)]) == ring_kernels.OK
    # a hole touching the outer at a vertex: valid for GEOS, but for GEOS to say
    assert status(outer, [(0, 50), (10, 40), (10, 60)][::-1]) == ring_kernels.NOT_SIMPLE
    # an island inside a hole: the tree's nesting decides
    hole = [(10, 10), (10, 90), (90, 90), (90, 10)]
    island = [(40, 40), (60, 40), (60, 60), (40, 60)]
    assert status(outer, hole, island) == ring_kernels.NOT_SIMPLE
    # a hole outside the outer before it
    assert status(outer, [(200, 0), (200, 10), (210, 10)]) == ring_kernels.NOT_SIMPLE


def _split(*rings: list[tuple[int, int]], holes: tuple[bool, ...] = ()):  # noqa: ANN202
    pts = np.concatenate([np.array(r, dtype=np.int64) for r in rings])
    starts = np.cumsum([0] + [len(r) for r in rings]).astype(np.int64)
    is_hole = np.array(holes or (False,) * len(rings))
    status, blob = ring_kernels.split_touching(pts, starts, is_hole)
    return shapely.from_wkb(blob.tobytes()) if status == ring_kernels.OK else None


def test_split_touching_makes_touching_rings_valid() -> None:
    """Rings that pass a point twice, as Clipper2 returns them, become the simple rings
    GEOS accepts: the same points, each loop an outer or a hole by its turn."""
    square = [(0, 0), (5, 0), (10, 0), (10, 10), (0, 10)]
    # an outer around an inverted hole (a clockwise loop from (5, 0))
    inverted = [(0, 0), (5, 0), (3, 3), (7, 3), (5, 0), (10, 0), (10, 10), (0, 10)]
    got = _split(inverted)
    assert got is not None and shapely.is_valid(got)
    assert got.geom_type == "Polygon" and len(got.interiors) == 1
    assert got.area == pytest.approx(100.0 - 6.0)
    # two outers meeting at a corner, one ring
    eight = [(0, 0), (10, 0), (10, 10), (20, 10), (20, 20), (10, 20), (10, 10), (0, 10)]
    got = _split(eight)
    assert got is not None and got.geom_type == "MultiPolygon" and len(got.geoms) == 2
    assert shapely.is_valid(got) and got.area == pytest.approx(200.0)
    # a hole touching itself: two holes; one with a loop the other way: a hole and an island
    outer = [(-50, -50), (50, -50), (50, 50), (-50, 50)]
    hole8 = [(0, 0), (-20, -10), (-20, 10), (0, 0), (20, 10), (20, -10)]  # clockwise loops
    got = _split(outer, hole8, holes=(False, True))
    assert got is not None and shapely.is_valid(got) and len(got.interiors) == 2
    assert got.area == pytest.approx(10_000.0 - 2 * 200.0)
    hole_island = [(0, 0), (-20, 20), (20, 20), (20, -20), (-20, -20), (0, 0),
                   (-5, -10), (5, -10)]  # fmt: skip
    got = _split(outer, hole_island, holes=(False, True))
    assert got is not None and shapely.is_valid(got)
    assert got.geom_type == "MultiPolygon" and len(got.geoms) == 2
    assert got.area == pytest.approx(10_000.0 - 1_200.0 + 50.0)  # a notched hole, an island
    # a spike out and back is dropped; plain rings come back as they were
    spike = [(0, 0), (5, 0), (5, -4), (5, 0), (10, 0), (10, 10), (0, 10)]
    got = _split(spike)
    assert got is not None and shapely.equals(got, shapely.Polygon(square))
    assert shapely.equals(_split(square), shapely.Polygon(square))


def test_split_touching_declines_a_hole_without_an_outer() -> None:
    outer = [(0, 0), (10, 0), (10, 10), (0, 10)]
    far = [(100, 100), (100, 110), (110, 110), (110, 100)]
    assert _split(outer, far, holes=(False, True)) is None
    assert _split(far[::-1], holes=(True,)) is None


def _grid_region(rng: np.random.Generator) -> shapely.geometry.base.BaseGeometry:
    """A union of a few random polygons with corners on a millimetre grid: their booleans
    meet at shared vertices often, where Clipper2 returns rings that touch themselves."""
    parts = [
        shapely.Polygon(rng.integers(0, 8, (int(rng.integers(3, 6)), 2)) * 1_000).buffer(0)
        for _ in range(int(rng.integers(2, 6)))
    ]
    return pg.polygonal(shapely.set_precision(shapely.union_all(parts), 1.0))


def test_touching_results_split_or_declined_match_geos() -> None:
    """On regions that touch a lot, ``_checked`` gives a valid region where the tree walk
    alone is invalid (split_touching) or declines, and every region it gives is GEOS's
    snap-rounded boolean up to the rounding of crossing points."""
    split = declined = 0
    for seed in range(120):
        rng = np.random.default_rng(seed)
        a, b = _grid_region(rng), _grid_region(rng)
        if a.is_empty or b.is_empty:
            continue
        for op, name in ((clip._INTERSECTION, "intersection"), (clip._DIFFERENCE, "difference")):
            tree = clip._c2.boolean_op_tree(op, clip._EVEN_ODD, clip.paths(a), clip.paths(b))
            got = clip._checked(tree)
            if _reference_checked(tree) is None:
                split += got is not None
                declined += got is None
            if got is None:
                continue
            want = _geos(name, a, b)
            assert shapely.is_valid(got), (seed, name)
            assert shapely.symmetric_difference(got, want).area <= want.length + 1.0, (seed, name)
    assert split >= 20 and declined < split  # the split path is taken, and mostly succeeds
