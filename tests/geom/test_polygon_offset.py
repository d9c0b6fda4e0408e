"""The offset kernel against GEOS's mitre buffer (the reference it follows) on seeded random
regions: convex, star-shaped, with holes, several islands; and its statuses."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from fabthread.geom import polygons as pg
from fabthread.geom.kernels import offset as kernel


def _star(rng: np.random.Generator, cx: float, cy: float, r: float) -> shapely.Polygon:
    """A star-shaped polygon (whole micrometres) with concave and convex corners."""
    n = int(rng.integers(3, 40))
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = r * rng.uniform(0.4, 1.0, n)
    xy = np.round(np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1))
    poly = shapely.Polygon(xy)
    return poly if poly.is_valid else shapely.convex_hull(shapely.multipoints(xy))


def _region(rng: np.random.Generator) -> shapely.Geometry:
    kind = rng.integers(4)
    if kind == 0:  # convex
        pts = np.round(rng.uniform(-20_000, 20_000, (int(rng.integers(3, 30)), 2)))
        region = shapely.convex_hull(shapely.multipoints(pts))
    elif kind == 1:  # star-shaped
        region = _star(rng, 0, 0, 20_000)
    elif kind == 2:  # a square with a few star-shaped holes
        holes = [
            _star(rng, x, y, 4_000) for x, y in ((-10_000, -10_000), (10_000, 0), (-5_000, 12_000))
        ]
        region = shapely.Polygon(
            [(-20_000, -20_000), (20_000, -20_000), (20_000, 20_000), (-20_000, 20_000)]
        )
        region = shapely.difference(region, shapely.union_all(holes[: int(rng.integers(1, 4))]))
        region = shapely.set_precision(region, 1.0)
    else:  # islands
        parts = [_star(rng, x, 0, 6_000) for x in (-20_000, 0, 20_000)[: int(rng.integers(2, 4))]]
        region = shapely.MultiPolygon(parts)
    if rng.random() < 0.5:
        region = shapely.reverse(region)
    return region


@pytest.mark.parametrize("seed", range(6))
def test_offset_kernel_is_geos_mitre_buffer(seed: int) -> None:
    rng = np.random.default_rng(1300 + seed)
    fast = same = 0
    for _ in range(250):
        region = _region(rng)
        if region.is_empty or not region.is_valid:
            continue
        d = float(rng.choice([-1, 1]) * rng.uniform(50, 3_000))
        ours = pg._raw_offset(region, d)
        geos = pg._snap(shapely.buffer(region, d, join_style="mitre", mitre_limit=pg.MITRE_LIMIT))
        if ours is None:  # deferred: offset() gives GEOS's answer itself
            assert shapely.equals_exact(pg.offset(region, d), geos, 0)
            continue
        fast += 1
        if geos.is_empty:  # eroded away
            assert ours.is_empty
            same += 1
            continue
        # GEOS's polygon, ring for ring and vertex for vertex
        same += bool(shapely.equals_exact(ours, geos, 0))
        assert shapely.equals_exact(shapely.normalize(ours), shapely.normalize(geos), 0)
        assert shapely.is_valid(ours)
        xy = shapely.get_coordinates(ours)
        assert np.array_equal(xy, np.round(xy))
        for poly in shapely.get_parts(ours):
            assert not shapely.is_ccw(poly.exterior)
            assert all(shapely.is_ccw(h) for h in poly.interiors)
    # sharp random stars defer often (cut mitres); the rest is GEOS's polygon
    assert fast > 60 and same >= 0.98 * fast


def _closed(*rings: list[tuple[float, float]]) -> np.ndarray:
    return np.concatenate([np.array([*r, r[0]], dtype=np.float64) for r in rings])


def _status(coords: np.ndarray, delta: float, multi: bool = False) -> int:
    return int(kernel.polygon_offset(coords, multi, delta, 3.0)[0])


def test_offset_kernel_statuses() -> None:
    square = [(0, 0), (10, 0), (10, 10), (0, 10)]
    status, blob = kernel.polygon_offset(_closed(square), False, -2.0, 3.0)
    assert status == kernel.OK
    # clockwise from the point the first vertex moved to
    assert shapely.from_wkb(blob.tobytes()).equals_exact(
        shapely.Polygon([(2, 2), (2, 8), (8, 8), (8, 2)]), 0
    )
    # eroded away (narrower than twice the distance): GEOS drops it, so does the kernel
    status, blob = kernel.polygon_offset(_closed(square), False, -6.0, 3.0)
    assert status == kernel.OK and shapely.from_wkb(blob.tobytes()).is_empty
    spike = [(0, 0), (100, 0), (0, 10)]  # a 5.7° corner: a grow cuts its mitre, as GEOS does
    status, blob = kernel.polygon_offset(_closed(spike) * 100, False, 100.0, 3.0)
    assert status == kernel.OK
    poly = shapely.Polygon(np.array(spike) * 100)
    geos = pg._snap(shapely.buffer(poly, 100.0, join_style="mitre", mitre_limit=3.0))
    assert shapely.from_wkb(blob.tobytes()).equals_exact(geos, 0)
    assert len(geos.exterior.coords) == 5  # the spike's corner is two points
    assert _status(_closed(spike), -1.0) == kernel.OK
    # a chamfer shorter than the shrink: the moved edges beside it do not cross
    chamfer = [(2, 0), (100, 0), (100, 100), (0, 100), (0, 2)]
    assert _status(_closed(chamfer), -10.0) == kernel.CORNER
    # a notch narrower than the shrink: its sides, moved, cross each other
    notch = [(0, 0), (100, 0), (100, 100), (52, 100), (50, 40), (48, 100), (0, 100)]
    assert _status(_closed(notch), -10.0) == kernel.CROSSING
    # a C whose narrow mouth grows shut
    c = [(0, 0), (100, 0), (100, 100), (55, 100), (55, 90), (90, 90), (90, 10), (10, 10),
         (10, 90), (45, 90), (45, 100), (0, 100)]  # fmt: skip
    assert _status(_closed(c), 8.0) == kernel.CROSSING
    # a hole grown past its shell by a shrink, without crossing it
    ring = _closed(
        [(0, 0), (100, 0), (100, 100), (0, 100)], [(10, 10), (10, 90), (90, 90), (90, 10)]
    )
    assert _status(ring, -30.0) == kernel.NESTING
