"""The ring-reading kernels (geom/kernels/rings.py) against shapely's own ring accessors."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from fabthread.geom import polygons as pg
from fabthread.geom.kernels import rings


def _blob(rng: np.random.Generator, cx: float, cy: float, r: float, n: int) -> np.ndarray:
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = r * rng.uniform(0.5, 1.0, n)
    return np.round(np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1))


def _reference(region: shapely.Geometry) -> list[np.ndarray]:
    """Every ring without its closing point, by shapely's accessors (WKB order)."""
    return [shapely.get_coordinates(r)[:-1] for r in shapely.get_rings(shapely.get_parts(region))]


@pytest.mark.parametrize("seed", range(5))
def test_ring_points_and_boxes_read_every_ring(seed: int) -> None:
    rng = np.random.default_rng(40 + seed)
    for _ in range(50):
        loops = [_blob(rng, 0, 0, 20_000, int(rng.integers(3, 60)))]
        loops += [_blob(rng, x, 0, 3_000, int(rng.integers(3, 12))) for x in (-6_000, 6_000)]
        loops.append(_blob(rng, 50_000, 0, 9_000, 30))  # an island
        region = pg.from_loops(loops[: int(rng.integers(1, 5))])
        want = _reference(region)
        coords = shapely.get_coordinates(region)
        status, pts, starts = rings.ring_points(coords)
        assert status == rings.OK
        got = [pts[a:b] for a, b in zip(starts[:-1], starts[1:], strict=True)]
        assert len(got) == len(want) and all(map(np.array_equal, got, want))
        status, xy, starts, box = rings.ring_boxes(coords, 0.001)
        assert status == rings.OK
        for k, ring in enumerate(want):
            mm = ring * 0.001
            assert np.array_equal(xy[starts[k] : starts[k + 1]], mm)
            assert box[k].tolist() == [*mm.min(axis=0), *mm.max(axis=0)]


def test_a_ring_that_does_not_close_is_refused() -> None:
    open_line = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    assert rings.ring_points(open_line)[0] == rings.NOT_SIMPLE
    assert rings.ring_boxes(open_line, 1.0)[0] == rings.NOT_SIMPLE
    empty = np.zeros((0, 2))
    assert rings.ring_boxes(empty, 1.0)[0] == rings.OK
