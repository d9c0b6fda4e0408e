"""The convex offset kernel against GEOS's mitre buffer on seeded random convex polygons."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from fabthread.geom import polygons as pg
from fabthread.geom.kernels.convex import CHANGED, NOT_CONVEX, OK, convex_offset


def _convex(rng: np.random.Generator) -> shapely.Polygon:
    """The convex hull of random points, whole micrometres, either orientation."""
    pts = np.round(rng.uniform(-20_000, 20_000, (int(rng.integers(3, 25)), 2)))
    hull = shapely.convex_hull(shapely.multipoints(pts))
    return hull if rng.random() < 0.5 else shapely.reverse(hull)


@pytest.mark.parametrize("seed", range(5))
def test_convex_offset_is_geos_mitre_buffer(seed: int) -> None:
    rng = np.random.default_rng(900 + seed)
    fast = same = 0
    for _ in range(200):
        poly = _convex(rng)
        if poly.geom_type != "Polygon":
            continue
        d = float(rng.choice([-1, 1]) * rng.uniform(50, 3_000))
        ours = pg._convex_offset(poly, d)
        geos = pg._snap(shapely.buffer(poly, d, join_style="mitre", mitre_limit=pg.MITRE_LIMIT))
        if ours is None:  # deferred to GEOS: offset() gives GEOS's answer itself
            assert shapely.equals_exact(pg.offset(poly, d), geos, 0)
            continue
        fast += 1
        # the same polygon, in GEOS's layout (clockwise, from the moved first vertex) ...
        same += bool(shapely.equals_exact(ours, geos, 0))
        # ... or, where a coordinate rounds the other way, within a micrometre of it
        assert shapely.hausdorff_distance(ours, geos) <= 1.5
        assert shapely.is_valid(ours) and not shapely.is_ccw(ours.exterior)
        xy = shapely.get_coordinates(ours)
        assert np.array_equal(xy, np.round(xy))
    assert fast > 100 and same >= 0.98 * fast


def _closed(xy: list[list[float]]) -> np.ndarray:
    return np.array([*xy, xy[0]], dtype=np.float64)


def test_convex_offset_statuses() -> None:
    square = _closed([[0, 0], [10, 0], [10, 10], [0, 10]])
    status, out = convex_offset(square, -2.0, 3.0)
    # clockwise from the moved first vertex, closed
    assert status == OK and out.tolist() == [[2, 2], [2, 8], [8, 8], [8, 2], [2, 2]]
    assert convex_offset(square[::-1].copy(), -2.0, 3.0)[1].tolist() == out.tolist()
    assert convex_offset(square, -6.0, 3.0)[0] == CHANGED  # every edge would turn round
    ell = _closed([[0, 0], [10, 0], [10, 5], [5, 5], [5, 10], [0, 10]])
    assert convex_offset(ell, 1.0, 3.0)[0] == NOT_CONVEX
    spike = _closed([[0, 0], [100, 0], [0, 10]])  # a 5.7° corner: its mitre is cut
    assert convex_offset(spike, 1.0, 3.0)[0] == CHANGED
    assert convex_offset(spike, -1.0, 3.0)[0] == OK  # a shrink has no mitres to cut


def test_rounded_slivers_stay_valid_or_defer() -> None:
    # thin triangles shrunk by fractions of a unit: rounding may flatten them, and then the
    # kernel defers to GEOS rather than return an invalid polygon
    rng = np.random.default_rng(5)
    for _ in range(500):
        h = float(rng.uniform(0.5, 4.0))
        tri = _closed([[0, 0], [float(rng.integers(50, 2000)), 0], [0, h]])
        status, out = convex_offset(tri, -float(rng.uniform(0.05, 1.0)), 3.0)
        if status == OK:
            poly = shapely.polygons(out)
            assert shapely.is_valid(poly) and shapely.area(poly) > 0
