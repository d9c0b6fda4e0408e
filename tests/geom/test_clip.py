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


@pytest.mark.parametrize("seed", range(8))
def test_kernel_conversions_are_the_tree_walk_and_geos_check(seed: int) -> None:
    """``paths`` (the ring_points kernel) gives the rings WKB gives; ``_checked`` (the
    clipper_wkb kernel, the tree and GEOS's check where it declines) the region and the
    verdict of the tree walk with GEOS's validity test, byte for byte."""
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
            assert (got is None) == (want is None)
            if got is not None:
                assert shapely.to_wkb(got) == shapely.to_wkb(want)
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
