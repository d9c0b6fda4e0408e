"""Integer-micrometre polygon helpers."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import shapely.affinity

from fabthread.geom import polygons as pg


def _square(x0: int, y0: int, size: int, ccw: bool = True) -> np.ndarray:
    sq = np.array([[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size]], np.int64)
    return sq if ccw else sq[::-1]


@pytest.mark.parametrize("outer_ccw,hole_ccw", [(True, True), (True, False), (False, False)])
def test_from_loops_even_odd_whatever_the_orientation(outer_ccw: bool, hole_ccw: bool) -> None:
    loops = [
        _square(0, 0, 10_000, outer_ccw),
        _square(2_000, 2_000, 6_000, hole_ccw),  # hole
        _square(4_000, 4_000, 2_000, outer_ccw),  # island in the hole
        _square(20_000, 0, 1_000, hole_ccw),  # second island
    ]
    region = pg.from_loops(loops)
    assert pg.area_mm2(region) == pytest.approx(100 - 36 + 4 + 1)
    assert len(pg.islands(region)) == 3
    rings = pg.rings(region)
    assert sum(hole for _, hole in rings) == 1
    for ring, hole in rings:
        x, y = ring[:, 0].astype(float), ring[:, 1].astype(float)
        signed = 0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)
        assert (signed < 0) == hole  # outlines counter-clockwise, holes clockwise
        assert ring.dtype == np.int64


def test_offset_mitre_and_booleans() -> None:
    sq = pg.from_loops([_square(0, 0, 10_000)])
    grown = pg.offset(sq, 500)
    assert pg.area_mm2(grown) == pytest.approx(11.0**2)  # mitre keeps square corners
    shrunk = pg.offset(sq, -500)
    assert pg.area_mm2(shrunk) == pytest.approx(9.0**2)
    assert pg.offset(sq, -5_001).is_empty
    other = pg.from_loops([_square(5_000, 0, 10_000)])
    assert pg.area_mm2(pg.union(sq, other)) == pytest.approx(150.0)
    assert pg.area_mm2(pg.intersection(sq, other)) == pytest.approx(50.0)
    assert pg.area_mm2(pg.difference(sq, other)) == pytest.approx(50.0)
    assert pg.intersection_all([sq, other, pg.EMPTY]).is_empty
    # results stay on the micrometre grid
    tilted = pg.offset(pg.from_loops([np.array([[0, 0], [7_001, 3_333], [1_234, 9_876]])]), -333)
    pts, _, _ = pg.to_arrays(tilted)
    coords = np.asarray(tilted.exterior.coords)
    np.testing.assert_array_equal(coords, np.round(coords))
    assert len(pts) >= 3


def test_arrays_round_trip() -> None:
    region = pg.from_loops(
        [_square(0, 0, 10_000), _square(2_000, 2_000, 3_000), _square(20_000, 0, 1_000)]
    )
    pts, start, hole = pg.to_arrays(region)
    back = pg.from_arrays(pts, start, hole)
    assert back.symmetric_difference(region).area == 0
    assert hole.tolist().count(True) == 1 and start[-1] == len(pts)


def test_simplify_drops_noise_not_shape() -> None:
    t = np.linspace(0, 2 * np.pi, 2000, endpoint=False)
    circle = np.stack([10_000 * np.cos(t), 10_000 * np.sin(t)], axis=1).round().astype(np.int64)
    region = pg.from_loops([circle])
    simple = pg.simplify(region, 5.0)
    assert len(simple.exterior.coords) < 500
    assert pg.area_mm2(simple) == pytest.approx(pg.area_mm2(region), rel=1e-3)


def test_opening_stays_inside_and_drops_what_is_too_narrow() -> None:
    # a 0.5 mm step beside a 45° chamfer: the mitre grow-back reaches past the step unless
    # it is kept within the region
    step = shapely.Polygon(
        [(0, 0), (20_000, 0), (20_000, 20_000), (3_000, 20_000), (3_000, 3_508), (0, 508)]
    )
    opened = pg.opening(step, 400.0)
    assert shapely.buffer(step, 1.0).covers(opened)
    assert pg.area_mm2(opened) > 0.95 * pg.area_mm2(step)
    # a 10 x 10 mm square with a 0.5 mm wide, 5 mm long tab: the tab goes, the square stays
    tabbed = pg.from_loops(
        [np.array([[0, 0], [10_000, 0], [10_000, 4_750], [15_000, 4_750], [15_000, 5_250],
                   [10_000, 5_250], [10_000, 10_000], [0, 10_000]])]  # fmt: skip
    )
    opened = pg.opening(tabbed, 400.0)
    assert pg.area_mm2(opened) == pytest.approx(100.0, abs=0.5)
    assert opened.bounds[2] <= 10_000
    assert pg.opening(tabbed, 0.0) is tabbed
    assert pg.opening(pg.EMPTY, 400.0).is_empty


def test_opening_of_random_regions_stays_within_them() -> None:
    rng = np.random.default_rng(11)
    for _ in range(40):
        n = int(rng.integers(5, 16))
        ang = np.sort(rng.uniform(0, 2 * np.pi, n))
        rad = rng.uniform(2_000, 10_000, n)
        loop = np.round(np.stack([rad * np.cos(ang), rad * np.sin(ang)], 1)).astype(np.int64)
        region = pg.from_loops([loop])
        opened = pg.opening(region, float(rng.uniform(100, 1_500)))
        # within the region but for the rounding to the grid (offset_within leaves that)
        assert shapely.buffer(region, pg.GRID_SLACK_UM).covers(opened)


@pytest.mark.parametrize("seed", range(4))
def test_small_booleans_match_snap_rounding(seed: int) -> None:
    # below clip.MIN_VERTICES, differences and intersections run on GEOS's floating overlay
    # and are rounded afterwards: the same regions as snap-rounding, on the grid, valid
    from fabthread.geom import clip

    rng = np.random.default_rng(300 + seed)
    for _ in range(60):
        regions = []
        for _ in range(2):
            n = int(rng.integers(3, 9))
            ang = np.sort(rng.uniform(0, 2 * np.pi, n))
            rad = rng.uniform(1_000, 8_000, n)
            centre = rng.uniform(-3_000, 3_000, 2)
            xy = np.stack([rad * np.cos(ang), rad * np.sin(ang)], 1) + centre
            regions.append(pg.from_loops([np.round(xy).astype(np.int64)]))
        a, b = regions
        assert not clip.worth_it(a, b)
        for ours, geos in (
            (pg.difference(a, b), shapely.difference(a, b, grid_size=1.0)),
            (pg.intersection(a, b), shapely.intersection(a, b, grid_size=1.0)),
        ):
            xy = shapely.get_coordinates(ours)
            assert np.array_equal(xy, np.round(xy)) and shapely.is_valid(ours)
            assert ours.geom_type in ("Polygon", "MultiPolygon")
            # one micrometre of rounding along the boundary at most
            assert abs(ours.area - geos.area) <= max(ours.length, geos.length) * 1.0 + 1.0
            assert shapely.symmetric_difference(ours, geos).area <= geos.length * 1.0 + 1.0


def test_offset_within_clips_an_edge_across_a_notch_but_not_rounding() -> None:
    # a 10 mm square with a 1 mm wide notch cut 3 mm into its top; grown back from a square
    # that ignores the notch, every vertex lies inside, yet the top edge crosses the notch
    bound = pg.from_loops([np.array([[0, 0], [10_000, 0], [10_000, 10_000], [5_500, 10_000],
                                     [5_500, 7_000], [4_500, 7_000], [4_500, 10_000],
                                     [0, 10_000]])])  # fmt: skip
    inner = pg.from_loops([np.array([[1_000, 1_000], [9_000, 1_000], [9_000, 9_000],
                                     [1_000, 9_000]])])  # fmt: skip
    got = pg.offset_within(inner, 1_000.0, bound)
    assert shapely.buffer(bound, pg.GRID_SLACK_UM).covers(got)
    assert pg.area_mm2(got) == pytest.approx(100.0 - 3.0)
    # a region a micrometre outside its bound (rounding) comes back as grown, unclipped
    nudged = shapely.affinity.translate(inner, 1.0, 0.0)
    assert pg.same(pg.offset_within(nudged, 1_000.0, pg.offset(inner, 1_000.0)),
                   pg.offset(nudged, 1_000.0))  # fmt: skip
