"""Narrow internal solid infill filled along its length (``slice.strips``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
import shapely.affinity
import trimesh

from fabthread.errors import ParamError
from fabthread.geom.mesh_io import part_from_trimesh
from fabthread.geom.place import place_on_bed
from fabthread.model.settings import SliceSettings
from fabthread.model.toolpath import MoveKind
from fabthread.slice.regions import spacing_mm
from fabthread.slice.slicer import slice_part
from fabthread.slice.strips import narrow_strips, strip_hatch

SP_UM = spacing_mm(0.45, 0.2) * 1000.0
LINK = 3.0 * SP_UM


def _box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """A rectangle given in mm, as a region in µm."""
    return shapely.box(x0 * 1000, y0 * 1000, x1 * 1000, y1 * 1000)


def _rotated(geom: shapely.Geometry, deg: float) -> shapely.Geometry:
    """Rotated about the origin, on the micrometre grid (as sections are)."""
    return shapely.set_precision(shapely.affinity.rotate(geom, deg, origin=(0, 0)), 1.0)


def _length(p: np.ndarray) -> float:
    return float(np.hypot(*np.diff(p, axis=0).T).sum())


def test_strips_are_told_from_wide_bent_and_thin_pieces() -> None:
    strip = _box(0, 0, 60, 2)
    square = _box(0, 10, 20, 30)
    ell = shapely.union(_box(30, 10, 32, 30), _box(30, 10, 50, 12))  # arms 2 mm wide
    ring = shapely.difference(_box(60, 10, 70, 20), _box(62, 12, 68, 18))
    thin = _box(0, 40, 60, 40.6)  # under two line spacings: an edge, not a strip
    region = shapely.MultiPolygon([strip, square, ell, ring, thin])
    strips, rest = narrow_strips(region, 3000.0, 2.0 * SP_UM)
    assert [shapely.equals(piece, strip) for piece, _ in strips] == [True]
    assert min(strips[0][1], 180.0 - strips[0][1]) < 1e-9  # along x
    assert shapely.equals(rest, shapely.MultiPolygon([square, ell, ring, thin]))
    # nothing narrow: the region itself, untouched
    assert narrow_strips(square, 3000.0, 2.0 * SP_UM) == ([], square)
    assert narrow_strips(region, 0.0, 2.0 * SP_UM) == ([], region)


@pytest.mark.parametrize("deg", [0.0, 30.0, 90.0, 157.0])
def test_a_strip_runs_along_its_length_whatever_its_direction(deg: float) -> None:
    strip = _rotated(_box(0, 0, 50, 2.2), deg)
    (piece, angle), = narrow_strips(strip, 3000.0, 2.0 * SP_UM)[0]
    assert math.isclose(angle, deg % 180.0, abs_tol=0.05)
    lines = strip_hatch(piece, angle, SP_UM, link_um=LINK, extend_um=45.0)
    direction = np.array([math.cos(math.radians(deg)), math.sin(math.radians(deg))])
    steps = np.vstack([np.diff(p, axis=0) for p, _ in lines])
    long_steps = steps[np.hypot(*steps.T) > 5.0]  # the lines, not the connectors
    assert len(long_steps) >= 5
    cos = np.abs(long_steps @ direction) / np.hypot(*long_steps.T)
    assert cos.min() > 0.9999


def test_strip_lines_are_spread_evenly_across_it_and_fill_it_exactly() -> None:
    strip = _box(0, 0, 50, 2.2)
    lines = strip_hatch(strip, 0.0, SP_UM, link_um=LINK, extend_um=45.0)
    count = round(2200.0 / SP_UM)  # 2.2 mm at a 0.407 mm spacing: 5 lines, 0.44 mm apart
    ys = np.unique(np.round(np.vstack([p for p, _ in lines])[:, 1], 3))
    np.testing.assert_allclose(ys, (np.arange(count) + 0.5) * 2.2 / count, atol=0.002)
    assert len(lines) == 1  # one path: the lines joined at the ends
    # the flow is scaled so that the lines deposit the strip's area (× the layer height)
    deposited = sum(f * _length(p) for p, f in lines) * SP_UM / 1000.0
    assert deposited == pytest.approx(50 * 2.2, rel=0.01)


def test_a_thin_plate_prints_its_solid_layers_along_the_plate() -> None:
    """A 60 × 4 × 3 mm plate is solid through (3 bottom and 3 top layers of 15): along
    the plate its solid layers are a few long lines where across they are a zig-zag of
    hundreds, for the same volume; the first layer keeps the layer's angle."""
    plate = trimesh.creation.box(extents=(60.0, 4.0, 3.0))
    part = place_on_bed(part_from_trimesh(plate, "plate"), 100.0, 100.0)
    base = SliceSettings(min_layer_time_s=0, skirt_loops=0)
    along = slice_part(part, base, workers=1)
    across = slice_part(part, SliceSettings(min_layer_time_s=0, skirt_loops=0,
                                            narrow_solid_mm=0.0), workers=1)  # fmt: skip
    for tp in (along, across):
        assert tp.layer_count == 15

    def solid_rows(tp, layer):  # type: ignore[no-untyped-def]
        return (tp.layer == layer) & (tp.kind == MoveKind.SOLID_INFILL)

    assert solid_rows(along, 1).sum() * 10 < solid_rows(across, 1).sum()
    np.testing.assert_array_equal(along.xyz_mm[along.layer == 0], across.xyz_mm[across.layer == 0])
    xy = along.xyz_mm[solid_rows(along, 1), :2]
    steps = np.diff(xy, axis=0)
    long = np.hypot(*steps.T) > 10.0
    assert np.abs(steps[long, 1]).max() < 1e-6  # the lines run along x
    for layer in range(1, along.layer_count):
        a = along.extrude_mm3[solid_rows(along, layer)].sum()
        b = across.extrude_mm3[solid_rows(across, layer)].sum()
        assert a == pytest.approx(b, rel=0.02), layer


def test_narrow_solid_mm_below_zero_is_refused() -> None:
    with pytest.raises(ParamError, match="narrow_solid_mm"):
        SliceSettings().with_overrides({"narrow_solid_mm": "-1"})
