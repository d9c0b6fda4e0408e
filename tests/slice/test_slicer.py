"""Properties of real toolpaths from real meshes."""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np
import pytest
import shapely
import shapely.ops
import trimesh

from fabthread.geom import polygons as pg
from fabthread.geom.mesh_io import load_mesh, part_from_trimesh
from fabthread.geom.place import place_on_bed
from fabthread.model.part import Part
from fabthread.model.settings import SliceSettings
from fabthread.model.toolpath import EXTRUDING_KINDS, MoveKind, Toolpath
from fabthread.slice.regions import cross_section_mm2, spacing_mm
from fabthread.slice.sections import layer_heights, section_mesh
from fabthread.slice.slicer import slice_part

MESHES = Path("/work/shared/meshes")
CUBE = MESHES / "20mm-xyz-cube.stl"
UNITS = {
    "featuretype.stl": "inch",
    "idler_riser.stl": "inch",
    "angle_block.stl": "inch",
    "octagonal_pocket.stl": "m",
}


def _placed(path: Path, units: str = "mm") -> Part:
    return place_on_bed(load_mesh(path, units=units), 250.0, 210.0)


def _extruding(tp: Toolpath) -> np.ndarray:
    return np.isin(tp.kind, list(EXTRUDING_KINDS)) & (tp.extrude_mm3 > 0)


def _segment_starts(tp: Toolpath) -> np.ndarray:
    """(n, 2) start point of every move (the previous move's end; the first move: itself)."""
    starts = np.empty((len(tp), 2))
    starts[1:] = tp.xyz_mm[:-1, :2]
    starts[0] = tp.xyz_mm[0, :2]
    return starts


@pytest.fixture(scope="module")
def cube() -> Part:
    return _placed(CUBE)


@pytest.fixture(scope="module")
def cube_full(cube: Part) -> Toolpath:
    return slice_part(cube, SliceSettings(infill_density=1.0))


def test_cross_section_and_spacing_fill_the_volume() -> None:
    w, h = 0.45, 0.2
    assert cross_section_mm2(w, h) == pytest.approx(spacing_mm(w, h) * h)
    assert spacing_mm(w, h) < w


def test_full_infill_cube_extrudes_its_volume(cube: Part, cube_full: Toolpath) -> None:
    part_mm3 = cube_full.extrude_mm3[cube_full.object_id == 0].sum()
    assert part_mm3 == pytest.approx(cube.volume_mm3, rel=0.03)
    assert part_mm3 == pytest.approx(8000.0, rel=0.03)


def _along(tp: Toolpath, angles: tuple[float, ...]) -> np.ndarray:
    """bool (n,): moves running at one of ``angles`` (degrees mod 180), not connectors."""
    d = tp.xyz_mm[:, :2] - _segment_starts(tp)
    ang = np.degrees(np.arctan2(d[:, 1], d[:, 0])) % 180.0
    return np.any([np.isclose(ang, a, atol=0.5) for a in angles], axis=0)


def test_sparse_infill_extrudes_less_than_full(cube: Part, cube_full: Toolpath) -> None:
    sparse = slice_part(cube, SliceSettings(infill_density=0.2))
    lines = _along(cube_full, (45.0, 135.0))
    full_sparse = cube_full.extrude_mm3[(cube_full.kind == MoveKind.SPARSE_INFILL) & lines].sum()
    lines = _along(sparse, (45.0, 135.0))
    part_sparse = sparse.extrude_mm3[(sparse.kind == MoveKind.SPARSE_INFILL) & lines].sum()
    # the lines themselves have the density; anchors along the boundary add a little more
    assert part_sparse == pytest.approx(0.2 * full_sparse, rel=0.05)
    all_sparse = sparse.extrude_mm3[sparse.kind == MoveKind.SPARSE_INFILL].sum()
    assert part_sparse < all_sparse < 1.3 * part_sparse
    # solid skins and perimeters do not depend on the density
    for kind in (MoveKind.EXTERNAL_PERIMETER, MoveKind.TOP_SOLID):
        a = sparse.extrude_mm3[sparse.kind == kind].sum()
        b = cube_full.extrude_mm3[cube_full.kind == kind].sum()
        assert a == pytest.approx(b, rel=0.01)


def test_layer_count_and_heights(cube_full: Toolpath) -> None:
    s = SliceSettings()
    assert cube_full.layer_count == 1 + round((20.0 - s.first_layer_height_mm) / s.layer_height_mm)
    tops, heights = layer_heights(20.0, 0.3, 0.15)
    assert len(tops) == 1 + 132  # 19.7 / 0.15 = 131.3 -> 132 layers after the first
    assert heights[0] == 0.3 and tops[-1] >= 20.0 - 1e-9
    # moves sit at the top of their layer
    np.testing.assert_allclose(cube_full.xyz_mm[:, 2], cube_full.layer_z_mm[cube_full.layer])


def _check_inside_sections(part: Part, tp: Toolpath, settings: SliceSettings) -> None:
    """Every extrusion endpoint (start and end) of the part lies in the layer's section grown
    by half a line width; every layer with area has extrusion."""
    mids = tp.layer_z_mm - tp.layer_height_mm / 2
    regions = section_mesh(part, mids, resolution_um=0)
    ext = _extruding(tp) & (tp.object_id == 0)
    starts = _segment_starts(tp)
    for li, region in enumerate(regions):
        mine = ext & (tp.layer == li)
        if pg.area_mm2(region) > 0.01:
            assert mine.any(), f"layer {li} has area {pg.area_mm2(region):.3f} mm² but no extrusion"
        if not mine.any():
            continue
        w = settings.first_layer_width_mm if li == 0 else settings.extrusion_width_mm
        grown = shapely.buffer(region, w / 2 * 1000 + 2.0)  # +2 µm for rounding
        shapely.prepare(grown)
        for pts in (tp.xyz_mm[mine, :2], starts[mine]):
            inside = shapely.contains_xy(grown, pts[:, 0] * 1000, pts[:, 1] * 1000)
            assert inside.all(), f"layer {li}: {np.count_nonzero(~inside)} endpoints outside"


def test_cube_extrusion_stays_in_the_sections(cube: Part, cube_full: Toolpath) -> None:
    _check_inside_sections(cube, cube_full, SliceSettings(infill_density=1.0))


def _inside_off_surface(region, a: np.ndarray, b: np.ndarray, w: float) -> bool:
    """Whether a travel a -> b (mm) stays inside ``region`` (µm) off its visible surface: 0.4
    line widths in (the external perimeter's seams, half a width in, are inside). An end
    closer than that (gap fill in a thin wall, letters engraved in a side) only needs the
    travel inside beyond half a width from it."""
    clear = 0.4 * w * 1000
    ends = [a * 1000, b * 1000]
    deep = [
        region.covers(shapely.Point(p)) and region.boundary.distance(shapely.Point(p)) >= clear - 1
        for p in ends
    ]
    seg = shapely.LineString(ends)
    if all(deep):
        return shapely.buffer(region, -clear + 1.0).covers(seg)
    lo = 0.0 if deep[0] else 0.5 * w * 1000
    hi = seg.length - (0.0 if deep[1] else 0.5 * w * 1000)
    if hi <= lo:
        return region.covers(seg.interpolate(0.5, normalized=True))
    return region.covers(shapely.ops.substring(seg, lo, hi))


def test_toolpath_structure(cube: Part) -> None:
    s = SliceSettings(infill_density=0.2)
    calls: list[tuple[int, int]] = []
    tp = slice_part(
        cube, s, retract_min_travel_mm=2.0, progress=lambda i, n: calls.append((i, n)), workers=1
    )
    assert tp.process == "fdm" and tp.object_names == (cube.name,)
    assert calls == [(i + 1, tp.layer_count) for i in range(tp.layer_count)]
    # in worker processes: once per chunk of layers, up to all of them
    calls.clear()
    slice_part(cube, s, retract_min_travel_mm=2.0, progress=lambda i, n: calls.append((i, n)))
    done = [i for i, _ in calls]
    assert done == sorted(done) and done[-1] == tp.layer_count
    assert np.all(tp.power == 0) and np.all(tp.tool == 0)
    travel = tp.kind == MoveKind.TRAVEL
    assert np.all(tp.extrude_mm3[travel] == 0) and np.all(tp.extrude_mm3[~travel] > 0)
    length = np.hypot(*(tp.xyz_mm[:, :2] - _segment_starts(tp)).T)
    # retract only on travels longer than the threshold; long travels that stay inside the
    # island, off its outline (routed along the perimeters when the straight line is not),
    # do not retract
    same_layer = np.r_[False, tp.layer[1:] == tp.layer[:-1]]
    long = travel & same_layer & (length > 2.0)
    assert not tp.retract[travel & same_layer & (length <= 2.0)].any()
    assert not tp.retract[~travel].any()
    assert tp.retract[long].any() and not tp.retract[long].all()
    mids = tp.layer_z_mm - tp.layer_height_mm / 2
    regions = section_mesh(cube, mids, resolution_um=0)
    starts = _segment_starts(tp)
    for i in np.nonzero(long & ~tp.retract)[0]:
        w = s.first_layer_width_mm if tp.layer[i] == 0 else s.extrusion_width_mm
        ok = _inside_off_surface(regions[tp.layer[i]], starts[i], tp.xyz_mm[i, :2], w)
        assert ok, f"travel {i} crosses a perimeter without retracting"
    # feeds: mm/min from the settings, first layer slow
    first = tp.layer == 0
    assert np.all(tp.feed_mm_min[travel] == s.travel_mm_s * 60)
    assert np.all(tp.feed_mm_min[~travel & first] == s.first_layer_mm_s * 60)
    ext = ~travel & ~first & (tp.kind == MoveKind.EXTERNAL_PERIMETER)
    assert np.all(tp.feed_mm_min[ext] == s.external_perimeter_mm_s * 60)
    sparse = tp.kind == MoveKind.SPARSE_INFILL
    assert np.all(tp.feed_mm_min[sparse & ~first] == s.infill_mm_s * 60)
    # skirt: first layer only, object -1, outside the part by the skirt distance
    skirt = tp.kind == MoveKind.SKIRT
    assert skirt.any() and np.all(tp.layer[skirt] == 0) and np.all(tp.object_id[skirt] == -1)
    assert np.all(tp.object_id[~skirt & ~travel] == 0)
    (section,) = section_mesh(cube, tp.layer_z_mm[:1] / 2, resolution_um=0)
    xy = tp.xyz_mm[skirt, :2] * 1000
    gap_um = shapely.distance(section, shapely.points(xy)) - s.first_layer_width_mm / 2 * 1000
    assert np.all(np.abs(gap_um - s.skirt_distance_mm * 1000) < 5.0)
    # every layer starts with a travel (the layer change)
    first_rows = np.r_[0, np.nonzero(np.diff(tp.layer))[0] + 1]
    assert np.all(tp.kind[first_rows] == MoveKind.TRAVEL)
    # top and bottom layers are solid, the middle is sparse
    assert np.any(tp.kind[tp.layer == tp.layer_count - 1] == MoveKind.TOP_SOLID)
    mid = tp.layer == tp.layer_count // 2
    assert np.any(tp.kind[mid] == MoveKind.SPARSE_INFILL)
    assert not np.any(np.isin(tp.kind[mid], [MoveKind.SOLID_INFILL, MoveKind.TOP_SOLID]))
    for li in range(s.bottom_layers):
        kinds = tp.kind[tp.layer == li]
        assert np.any(kinds == MoveKind.SOLID_INFILL) and not np.any(
            kinds == MoveKind.SPARSE_INFILL
        )


def test_solid_lines_alternate_45_135(cube: Part, cube_full: Toolpath) -> None:
    tp = cube_full
    d = tp.xyz_mm[:, :2] - _segment_starts(tp)
    length = np.hypot(d[:, 0], d[:, 1])
    for li, expect in ((0, 45.0), (1, 135.0)):
        m = (tp.layer == li) & (tp.kind == MoveKind.SOLID_INFILL)
        ang = np.degrees(np.arctan2(d[m, 1], d[m, 0])) % 180.0
        along = np.isclose(ang, expect, atol=0.5)
        # lines at the angle; the rest are short connectors joining them along the boundary
        assert length[m][along].sum() > 0.9 * length[m].sum()
        assert np.all(length[m][~along] < 3.5 * 0.45)


def test_seams_are_aligned(cube_full: Toolpath) -> None:
    tp = cube_full
    ext = tp.kind == MoveKind.EXTERNAL_PERIMETER
    is_start = ext & ~np.r_[False, ext[:-1]]  # first move of each external loop
    seams = _segment_starts(tp)[is_start]
    layers = tp.layer[is_start]
    outer = [seams[layers == li][0] for li in range(5, tp.layer_count - 5)]
    spread = np.ptp(np.array(outer), axis=0)
    assert np.all(spread < 1.0), f"seam wanders {spread} mm"


def test_paths_are_ordered_not_random(cube: Part) -> None:
    tp = slice_part(cube, SliceSettings(infill_density=0.2))
    travel = tp.kind == MoveKind.TRAVEL
    length = np.hypot(*(tp.xyz_mm[:, :2] - _segment_starts(tp)).T)
    same_layer = np.r_[False, tp.layer[1:] == tp.layer[:-1]]
    per_layer = length[travel & same_layer].sum() / tp.layer_count
    extruded = length[~travel].sum() / tp.layer_count
    assert per_layer < 0.1 * extruded, f"{per_layer:.1f} mm of travel per layer: not ordered"


def _tube(r_out: float, r_in: float, height: float) -> Part:
    outer = trimesh.creation.cylinder(radius=r_out, height=height, sections=64)
    inner = trimesh.creation.cylinder(radius=r_in, height=height * 2, sections=64)
    tube = outer.difference(inner, engine="manifold")
    return place_on_bed(part_from_trimesh(tube, "tube"), 200.0, 200.0)


def test_hollow_part_keeps_its_hole() -> None:
    part = _tube(10.0, 5.0, 6.0)
    s = SliceSettings(infill_density=1.0)
    tp = slice_part(part, s)
    ext = _extruding(tp) & (tp.object_id == 0)
    centre = np.array([100.0, 100.0])
    a = _segment_starts(tp)[ext] - centre
    b = tp.xyz_mm[ext, :2] - centre
    # distance from the axis to each extruded segment
    ab = b - a
    t = np.clip(-(a * ab).sum(1) / np.maximum((ab * ab).sum(1), 1e-12), 0, 1)
    dist = np.hypot(*(a + t[:, None] * ab).T)
    r_in_poly = 5.0 * np.cos(np.pi / 64)  # the 64-gon's inner radius
    assert dist.min() >= r_in_poly - 1e-3, "an extrusion crosses the hole"
    vol = tp.extrude_mm3[tp.object_id == 0].sum()
    assert vol == pytest.approx(part.volume_mm3, rel=0.03)
    _check_inside_sections(part, tp, s)


def test_multiple_islands_each_get_printed() -> None:
    a = trimesh.creation.box(extents=(10, 10, 4))
    b = trimesh.creation.box(extents=(6, 6, 2)).apply_translation([20, 0, -1])
    part = place_on_bed(part_from_trimesh(trimesh.util.concatenate([a, b]), "two"), 200, 200)
    s = SliceSettings(infill_density=1.0)
    tp = slice_part(part, s)
    ext = _extruding(tp) & (tp.object_id == 0)
    xs = tp.xyz_mm[:, 0]
    left = ext & (xs < 100)
    right = ext & (xs > 105)
    for li in range(tp.layer_count):
        assert np.any(left & (tp.layer == li))
        assert np.any(right & (tp.layer == li)) == (tp.layer_z_mm[li] <= 2.0 + 1e-9)
    assert tp.extrude_mm3[tp.object_id == 0].sum() == pytest.approx(part.volume_mm3, rel=0.03)
    _check_inside_sections(part, tp, s)


def test_thin_tip_layers_still_extrude() -> None:
    part = _placed(Path("/usr/share/PrusaSlicer/shapes/cone.stl"))
    s = SliceSettings()
    tp = slice_part(part, s)
    _check_inside_sections(part, tp, s)


def _all_meshes() -> list[tuple[Path, str]]:
    found = sorted(MESHES.glob("*.stl")) + sorted(MESHES.glob("*.3mf"))
    found += [Path(p) for p in sorted(glob.glob("/usr/share/PrusaSlicer/shapes/*.stl"))]
    return [(p, UNITS.get(p.name, "mm")) for p in found]


@pytest.mark.slow
@pytest.mark.parametrize("path,units", _all_meshes(), ids=lambda v: getattr(v, "name", v))
def test_every_mesh_slices(path: Path, units: str) -> None:
    part = load_mesh(path, units=units)
    part = place_on_bed(part, 400.0, 400.0)
    s = SliceSettings()
    tp = slice_part(part, s)
    assert tp.layer_count == len(layer_heights(float(part.bounds_mm[1, 2]), 0.2, 0.2)[0])
    assert tp.extruded_mm3 > 0.1 * part.volume_mm3
    full = slice_part(part, SliceSettings(infill_density=1.0))
    part_mm3 = full.extrude_mm3[full.object_id == 0].sum()
    # 3.5 %: with gap fill only the bead model's rounded-edge void is missing, which is
    # 2.7-3 % for the 0.4 mm tall recycling symbols (see test_features) and < 1.5 % elsewhere
    assert part_mm3 == pytest.approx(part.volume_mm3, rel=0.035)
    _check_inside_sections(part, tp, s)
