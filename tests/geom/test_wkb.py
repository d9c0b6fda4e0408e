"""geom.wkb.read / write against shapely's from_wkb / to_wkb, and polygons.parts against
shapely.get_parts: the same bytes and the same geometries, options converted once."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from fabthread.geom import polygons as pg
from fabthread.geom import wkb


def _random_regions(seed: int, count: int) -> list[shapely.Geometry]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        blobs = [
            shapely.Point(rng.integers(-50_000, 50_000, 2)).buffer(
                float(rng.integers(1_000, 20_000)), quad_segs=int(rng.integers(1, 6))
            )
            for _ in range(int(rng.integers(1, 5)))
        ]
        region = shapely.union_all(blobs)
        if rng.random() < 0.5:  # a hole through part of it
            region = region.difference(
                shapely.box(*(rng.integers(-20_000, 20_000, 2)), 30_000, 30_000)
            )
        out.append(shapely.set_precision(region, 1.0))
    return out


@pytest.mark.parametrize("little_endian", [False, True])
def test_write_and_read_match_shapely(little_endian: bool) -> None:
    order = 1 if little_endian else -1
    regions = _random_regions(7, 60)
    # the last coordinate 0.0: eight null bytes at the end, which a fixed-length numpy
    # string would drop
    regions.append(shapely.Polygon([(1, 1), (5, 1), (0, 0)]))
    regions += [shapely.MultiPolygon(), shapely.Polygon(), shapely.LineString([(0, 0), (2, 0)])]
    for region in regions:
        blob = wkb.write(region, little_endian=little_endian)
        assert blob == shapely.to_wkb(region, byte_order=order)
        back = wkb.read(blob)
        assert back.geom_type == region.geom_type
        assert shapely.equals_exact(back, shapely.from_wkb(blob), tolerance=0.0)
        assert wkb.write(back, little_endian=little_endian) == blob


def test_read_refuses_malformed_wkb() -> None:
    blob = wkb.write(shapely.box(0, 0, 1, 1))
    with pytest.raises(shapely.errors.GEOSException):
        wkb.read(blob[:-9])


def test_parts_match_get_parts() -> None:
    cases = [
        *_random_regions(11, 40),
        shapely.Polygon(),
        shapely.MultiPolygon(),
        shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.LineString([(0, 0), (1, 1)])]),
    ]
    for geom in cases:
        got, want = pg.parts(geom), shapely.get_parts(geom)
        assert got.dtype == object and got.shape == want.shape
        assert all(
            shapely.equals_exact(a, b, tolerance=0.0) for a, b in zip(got, want, strict=True)
        )
    polygon = shapely.box(0, 0, 3, 3)
    assert pg.parts(polygon)[0] is polygon  # the fast path hands the polygon itself back


def test_falls_back_to_the_public_functions_when_shapely_internals_differ(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert wkb._ufuncs()[1] is not wkb._public_write  # shapely 2.1/2.2: the fast path

    def other_signature(*args: object) -> bytes:
        raise TypeError("to_wkb() takes 5 arguments")

    monkeypatch.setattr(shapely.lib, "to_wkb", other_signature)
    assert wkb._ufuncs() == (wkb._public_read, wkb._public_write)
    monkeypatch.undo()
    region = shapely.box(0, 0, 2, 1)
    assert wkb._public_write(region, True) == shapely.to_wkb(region, byte_order=1)
    assert shapely.equals_exact(wkb._public_read(wkb.write(region)), region, tolerance=0.0)
