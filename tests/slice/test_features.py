"""Slicer features on small synthetic parts: gap fill, bridges, patterns, seams, cooling,
color changes, brim, monotonic top skins, supports."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import shapely
import trimesh

from fabthread.geom.mesh_io import load_mesh, part_from_trimesh
from fabthread.geom.place import place_on_bed
from fabthread.model.part import Part
from fabthread.model.settings import SliceSettings
from fabthread.model.toolpath import EXTRUDING_KINDS, MoveKind, Toolpath
from fabthread.slice import infill
from fabthread.slice.cooling import layer_time_s
from fabthread.slice.regions import spacing_mm
from fabthread.slice.sections import section_mesh
from fabthread.slice.skins import bridge_angle
from fabthread.slice.slicer import slice_part

SHAPES = Path("/usr/share/PrusaSlicer/shapes")


def _part(mesh: trimesh.Trimesh, name: str = "p") -> Part:
    return place_on_bed(part_from_trimesh(mesh, name), 200.0, 200.0)


def _starts(tp: Toolpath) -> np.ndarray:
    out = np.empty((len(tp), 2))
    out[1:] = tp.xyz_mm[:-1, :2]
    out[0] = tp.xyz_mm[0, :2]
    return out


def _part_mm3(tp: Toolpath) -> float:
    return float(tp.extrude_mm3[tp.object_id == 0].sum())


# --- thin walls and gap fill ----------------------------------------------------------------


@pytest.mark.parametrize("wall_mm", [0.3, 0.6, 0.8, 1.1, 1.5])
def test_thin_walls_keep_their_volume(wall_mm: float) -> None:
    part = _part(trimesh.creation.box(extents=(wall_mm, 20.0, 2.0)))
    s = SliceSettings(infill_density=1.0, skirt_loops=0, min_layer_time_s=0)
    tp = slice_part(part, s)
    # a perimeter bead's rounded sides leave (w - s)/2 empty along each outline (the bead
    # model's own loss); a gap-fill bead fills its region exactly
    w, h = s.extrusion_width_mm, s.layer_height_mm
    void = 2 * 20.0 * (w - spacing_mm(w, h)) / 2 * 2.0
    vol = part.volume_mm3
    assert vol - void - 0.03 * vol <= _part_mm3(tp) <= 1.01 * vol
    if wall_mm < 0.9:  # too thin for two beads side by side: gap fill carries it
        assert np.any(tp.kind == MoveKind.GAP_FILL)


def test_gap_fill_off_loses_thin_walls() -> None:
    part = _part(trimesh.creation.box(extents=(0.6, 20.0, 1.0)))
    on = slice_part(part, SliceSettings(infill_density=1.0, skirt_loops=0))
    off = slice_part(part, SliceSettings(infill_density=1.0, skirt_loops=0, gap_fill=False))
    assert _part_mm3(off) < 0.5 * _part_mm3(on)
    assert not np.any(off.kind == MoveKind.GAP_FILL)


@pytest.mark.parametrize(
    "name", ["PLA_recycling_symbol.stl", "PETG_recycling_symbol.stl", "OTHER_recycling_symbol.stl"]
)
def test_recycling_symbols_keep_their_volume(name: str) -> None:
    """0.4 mm tall strokes, many narrower than two lines: gap fill carries them (without it
    they lose 6-9 %). What remains is the bead model's own void: a bead's rounded sides
    leave h·(w - s)/2 empty along every outline (h²(1 - π/4)/2 per mm), 2.7-3 % here."""
    part = place_on_bed(load_mesh(SHAPES / name), 250.0, 210.0)
    s = SliceSettings(infill_density=1.0)
    tp = slice_part(part, s)
    mids = tp.layer_z_mm - tp.layer_height_mm / 2
    void = 0.0
    for li, region in enumerate(section_mesh(part, mids, resolution_um=0)):
        w = s.first_layer_width_mm if li == 0 else s.extrusion_width_mm
        h = float(tp.layer_height_mm[li])
        void += region.length / 1000 * h * (w - spacing_mm(w, h)) / 2
    assert _part_mm3(tp) == pytest.approx(part.volume_mm3 - void, rel=0.01)
    assert _part_mm3(tp) == pytest.approx(part.volume_mm3, rel=0.035)
    off = slice_part(part, dataclasses.replace(s, gap_fill=False))
    assert _part_mm3(off) < _part_mm3(tp) - 0.02 * part.volume_mm3


# --- bridges ------------------------------------------------------------------------------


def _bridge_part(span_along_x: bool = True) -> Part:
    """Two 8 x 8 x 5 mm pillars 20 mm apart under a 36 x 8 x 1.2 mm deck."""
    left = trimesh.creation.box(extents=(8, 8, 5)).apply_translation([-14, 0, 2.5])
    right = trimesh.creation.box(extents=(8, 8, 5)).apply_translation([14, 0, 2.5])
    deck = trimesh.creation.box(extents=(36, 8, 1.2)).apply_translation([0, 0, 5.6])
    mesh = trimesh.boolean.union([left, right, deck], engine="manifold")
    if not span_along_x:
        mesh.apply_transform(trimesh.transformations.rotation_matrix(math.pi / 2, [0, 0, 1]))
    return _part(mesh, "bridge")


@pytest.mark.parametrize("along_x", [True, False])
def test_bridge_runs_from_pillar_to_pillar(along_x: bool) -> None:
    part = _bridge_part(along_x)
    s = SliceSettings(min_layer_time_s=0)
    tp = slice_part(part, s)
    bridge = (tp.kind == MoveKind.BRIDGE) & (tp.extrude_mm3 > 0)
    assert bridge.any()
    layers = np.unique(tp.layer[bridge])
    assert layers.tolist() == [int(np.searchsorted(tp.layer_z_mm, 5.0 + 1e-6))]
    d = tp.xyz_mm[bridge, :2] - _starts(tp)[bridge]
    length = np.hypot(d[:, 0], d[:, 1])
    ang = np.degrees(np.arctan2(d[:, 1], d[:, 0])) % 180.0
    expect = 0.0 if along_x else 90.0
    along = np.minimum(np.abs(ang - expect), 180 - np.abs(ang - expect)) < 1.0
    assert length[along].sum() > 0.9 * length.sum()
    assert np.all(tp.feed_mm_min[bridge] == s.bridge_mm_s * 60)
    # nothing solid is printed over air except as a bridge
    li = layers[0]
    solid = (tp.layer == li) & (tp.kind == MoveKind.SOLID_INFILL)
    over_gap = np.abs(tp.xyz_mm[:, 0 if along_x else 1] - 100.0) < 8.0
    assert not np.any(solid & over_gap)


def test_bridge_angle_prefers_the_short_anchored_span() -> None:
    # a 20 x 6 mm hole in a plate below: lines across the 6 mm width are anchored at both ends
    below = shapely.difference(
        shapely.box(0, 0, 40000, 20000), shapely.box(10000, 7000, 30000, 13000)
    )
    bridge = shapely.box(10000, 7000, 30000, 13000)
    assert bridge_angle(bridge, below, 420.0) == pytest.approx(90.0)


# --- infill patterns ----------------------------------------------------------------------


@pytest.mark.parametrize("pattern", ["rectilinear", "grid", "triangles", "honeycomb", "gyroid"])
@pytest.mark.parametrize("density", [0.15, 0.3])
def test_patterns_fill_the_expected_fraction(pattern: str, density: float) -> None:
    region = shapely.Polygon(
        [(0, 0), (60000, 0), (60000, 40000), (30000, 55000), (0, 40000)],
        [[(20000, 15000), (35000, 15000), (35000, 25000), (20000, 25000)]],
    )
    sp = 0.42
    fractions = []
    for layer in range(6):
        paths = infill.pattern_paths(region, pattern, density, 45.0, layer, 0.3 + 0.2 * layer, sp)
        covered = sum(float(np.hypot(*np.diff(p, axis=0).T).sum()) for p in paths) * sp
        fractions.append(covered / (region.area / 1e6))
        for p in paths:  # every path inside the region (µm, tolerance for rounding)
            assert shapely.buffer(region, 5).covers(shapely.LineString(p * 1000))
    tol = 0.12 if pattern == "gyroid" else 0.05
    assert np.mean(fractions) == pytest.approx(density, rel=tol)


@pytest.mark.parametrize("pattern", ["grid", "triangles", "honeycomb", "gyroid"])
def test_patterns_slice_a_cube(pattern: str) -> None:
    part = _part(trimesh.creation.box(extents=(15, 15, 4)))
    s = SliceSettings(infill_pattern=pattern, min_layer_time_s=0)
    tp = slice_part(part, s)
    mid = tp.layer == tp.layer_count // 2
    assert np.any(mid & (tp.kind == MoveKind.SPARSE_INFILL))


def test_infill_lines_are_anchored_into_zigzags() -> None:
    part = _part(trimesh.creation.box(extents=(20, 20, 3)))
    tp = slice_part(part, SliceSettings(min_layer_time_s=0))
    mid = tp.layer == tp.layer_count // 2
    sparse = mid & (tp.kind == MoveKind.SPARSE_INFILL)
    travel_into = np.r_[tp.kind[1:] == MoveKind.SPARSE_INFILL, False] & (tp.kind == 0) & mid
    # a 20 mm square at 20 %: ~8 lines joined into one or two zig-zags
    assert travel_into.sum() <= 2 < sparse.sum()


# --- seams ---------------------------------------------------------------------------------


def _seams(tp: Toolpath) -> tuple[np.ndarray, np.ndarray]:
    ext = tp.kind == MoveKind.EXTERNAL_PERIMETER
    is_start = ext & ~np.r_[False, ext[:-1]]
    return _starts(tp)[is_start], tp.layer[is_start]


def test_seam_hides_in_the_concave_corner_of_an_l() -> None:
    a = trimesh.creation.box(extents=(20, 10, 3)).apply_translation([10, 5, 1.5])
    b = trimesh.creation.box(extents=(10, 20, 3)).apply_translation([5, 10, 1.5])
    part = _part(trimesh.boolean.union([a, b], engine="manifold"), "ell")
    lo = part.bounds_mm[0]
    for mode in ("aligned", "nearest"):
        tp = slice_part(part, SliceSettings(seam_position=mode, min_layer_time_s=0))
        seams, _ = _seams(tp)
        corner = lo[:2] + np.array([10.0, 10.0])  # the inner corner
        assert np.all(np.hypot(*(seams - corner).T) < 0.5), mode


def test_rear_seam_is_at_the_back() -> None:
    part = _part(trimesh.creation.cylinder(radius=8, height=2, sections=48))
    tp = slice_part(part, SliceSettings(seam_position="rear", min_layer_time_s=0))
    seams, _ = _seams(tp)
    assert np.all(seams[:, 1] > part.bounds_mm[1, 1] - 0.6)


# --- top skins ----------------------------------------------------------------------------


def test_top_skin_is_monotonic() -> None:
    part = _part(trimesh.creation.box(extents=(15, 10, 2)))
    tp = slice_part(part, SliceSettings(min_layer_time_s=0))
    top = (tp.layer == tp.layer_count - 1) & (tp.kind == MoveKind.TOP_SOLID)
    mid = (tp.xyz_mm[top, :2] + _starts(tp)[top]) / 2
    ang = math.radians(45.0 if (tp.layer_count - 1) % 2 == 0 else 135.0)
    offset = -math.sin(ang) * mid[:, 0] + math.cos(ang) * mid[:, 1]  # across the lines
    steps = np.diff(offset)
    assert np.all(steps >= -1e-6) or np.all(steps <= 1e-6)


# --- cooling, color change, first layer, brim -----------------------------------------------


def test_short_layers_are_slowed_to_the_minimum_time() -> None:
    part = _part(trimesh.creation.box(extents=(5, 5, 3)))
    s = SliceSettings(min_layer_time_s=8.0)
    tp = slice_part(part, s)
    fast = slice_part(part, dataclasses.replace(s, min_layer_time_s=0.0))
    for li in range(2, tp.layer_count):
        m = tp.layer == li
        prev = np.nonzero(tp.layer == li - 1)[0][-1]
        start = (tp.xyz_mm[prev, 0], tp.xyz_mm[prev, 1])
        t = layer_time_s(tp.xyz_mm[m, :2], tp.feed_mm_min[m], start)
        ext = m & (tp.kind != MoveKind.TRAVEL)
        floor = np.all(tp.feed_mm_min[ext] <= s.min_print_mm_s * 60 + 1e-9)
        assert t >= 8.0 - 1e-6 or floor
    assert np.all(tp.feed_mm_min <= fast.feed_mm_min + 1e-9)
    assert np.all(tp.feed_mm_min[tp.kind != MoveKind.TRAVEL] >= s.min_print_mm_s * 60 - 1e-9)
    np.testing.assert_array_equal(tp.feed_mm_min[tp.kind == 0], fast.feed_mm_min[fast.kind == 0])


def test_color_change_at_a_height() -> None:
    part = _part(trimesh.creation.box(extents=(10, 10, 5)))
    s = SliceSettings().with_overrides(
        {"color_change_z_mm": "2.0, 4.0", "color_change_names": "red"}
    )
    tp = slice_part(part, s)
    (l1, c1), (l2, c2) = tp.color_changes
    assert (c1, c2) == ("red", "color 3")
    # the change comes before the first layer printed above the height
    assert tp.layer_z_mm[l1 - 1] == pytest.approx(2.0) and tp.layer_z_mm[l2 - 1] == pytest.approx(
        4.0
    )


def test_brim_surrounds_the_first_layer() -> None:
    part = _part(trimesh.creation.box(extents=(10, 10, 1)))
    s = SliceSettings(brim_width_mm=3.0, min_layer_time_s=0)
    tp = slice_part(part, s)
    brim = (tp.kind == MoveKind.SKIRT) & (tp.object_id == 0)
    skirt = (tp.kind == MoveKind.SKIRT) & (tp.object_id == -1)
    assert brim.any() and np.all(tp.layer[brim] == 0)
    lo, hi = part.bounds_mm[0, :2], part.bounds_mm[1, :2]
    out = np.maximum(np.maximum(lo - tp.xyz_mm[brim, :2], tp.xyz_mm[brim, :2] - hi), 0).max(1)
    assert out.max() == pytest.approx(3.0, abs=0.5)
    sk = np.maximum(np.maximum(lo - tp.xyz_mm[skirt, :2], tp.xyz_mm[skirt, :2] - hi), 0).max(1)
    assert sk.min() > out.max() + s.skirt_distance_mm - 0.6


def test_first_layer_uses_its_height_width_and_speed() -> None:
    part = _part(trimesh.creation.box(extents=(10, 10, 2)))
    s = SliceSettings(first_layer_height_mm=0.3, first_layer_width_mm=0.6, min_layer_time_s=0)
    tp = slice_part(part, s)
    assert tp.layer_height_mm[0] == pytest.approx(0.3)
    first = (tp.layer == 0) & np.isin(tp.kind, list(EXTRUDING_KINDS))
    assert np.all(tp.feed_mm_min[first] == s.first_layer_mm_s * 60)
    ext = first & (tp.kind == MoveKind.EXTERNAL_PERIMETER)
    lo = part.bounds_mm[0, 0]
    assert tp.xyz_mm[ext, 0].min() == pytest.approx(lo + 0.3, abs=0.01)


def test_supports_are_printed_under_the_bridge_deck() -> None:
    part = _bridge_part()
    tp = slice_part(part, SliceSettings(supports=True, min_layer_time_s=0))
    sup = np.isin(tp.kind, [MoveKind.SUPPORT, MoveKind.SUPPORT_INTERFACE]) & (tp.extrude_mm3 > 0)
    assert sup.any()
    assert np.all(np.abs(tp.xyz_mm[sup, 0] - 100.0) < 10.0 + 0.5)


def test_copies_print_every_copy_with_one_skirt() -> None:
    from fabthread.slice.arrange import arrange_copies, part_footprint

    part = _part(trimesh.creation.box(extents=(10, 10, 1)))
    offsets = arrange_copies(part_footprint(part), 3, 200.0, 200.0, spacing_mm=5.0)
    s = SliceSettings(min_layer_time_s=0)
    one = slice_part(part, s)
    tp = slice_part(part, s, copies=offsets)
    assert tp.object_names == ("copy_1", "copy_2", "copy_3")
    for k in range(3):
        mine = tp.extrude_mm3[tp.object_id == k].sum()
        assert mine == pytest.approx(one.extrude_mm3[one.object_id == 0].sum(), rel=1e-9)
        lo = part.bounds_mm[0, :2] + np.array(offsets)[k]
        xy = tp.xyz_mm[(tp.object_id == k) & (tp.kind != 0), :2]
        assert np.all(xy >= lo - 0.01) and np.all(xy <= lo + 10.01)
    skirt = tp.kind == MoveKind.SKIRT
    assert np.all(tp.object_id[skirt] == -1) and np.all(tp.layer[skirt] == 0)


@pytest.mark.parametrize("n_layers", [0, 1, 47, 48, 49, 79, 96, 97, 100, 172, 1778])
def test_layer_chunks_are_even_and_balanced(n_layers: int) -> None:
    from fabthread.slice.slicer import CHUNK_LAYERS, layer_chunks

    chunks = layer_chunks(n_layers)
    covered = [li for a, b in chunks for li in range(a, b)]
    assert covered == list(range(n_layers))  # every layer once, in order
    sizes = [b - a for a, b in chunks]
    assert all(0 < size <= CHUNK_LAYERS for size in sizes)
    if n_layers > CHUNK_LAYERS:  # two workers get the same number of equal chunks
        assert len(chunks) % 2 == 0 and max(sizes) - min(sizes) <= 1


def test_output_does_not_depend_on_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    from fabthread.slice import slicer

    monkeypatch.setattr(slicer, "CHUNK_LAYERS", 8)  # 30 layers: 4 chunks over 2 processes
    part = _part(trimesh.creation.torus(major_radius=8, minor_radius=3))
    s = SliceSettings(infill_pattern="gyroid")
    one = slice_part(part, s, workers=1)
    two = slice_part(part, s, workers=2)
    for name in ("xyz_mm", "feed_mm_min", "kind", "extrude_mm3", "retract", "object_id"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))


@pytest.mark.parametrize("pattern", ["rectilinear", "gyroid"])
def test_repeated_layers_reuse_their_slice_exactly(
    monkeypatch: pytest.MonkeyPatch, pattern: str
) -> None:
    """A prismatic part repeats its layers; reusing an earlier layer's geometry and moves
    (``_GeometryKeys``) gives exactly what slicing every layer afresh gives."""
    from fabthread.slice import slicer

    # a plate with a hole and a step: repeated layers, then the layers around the step
    base = trimesh.creation.box(extents=(20, 14, 4))
    base.apply_translation((0, 0, 2))
    tower = trimesh.creation.box(extents=(8, 8, 4))
    tower.apply_translation((-4, 0, 6))
    hole = trimesh.creation.cylinder(radius=2.5, height=20)
    hole.apply_translation((5, 0, 0))
    part = _part(base.union(tower).difference(hole))
    s = SliceSettings(infill_pattern=pattern, min_layer_time_s=0)
    calls: list[int] = []
    real = slicer._layer_geometry

    def counting(li, *args):  # noqa: ANN001, ANN202
        calls.append(li)
        return real(li, *args)

    monkeypatch.setattr(slicer, "_layer_geometry", counting)
    reused = slice_part(part, s, workers=1)
    n_layers = len(reused.layer_z_mm)
    if pattern == "rectilinear":
        assert len(calls) < n_layers * 0.6  # most layers came from the cache
    else:
        assert len(calls) >= n_layers  # the gyroid changes with z: nothing to reuse

    class Fresh(slicer._GeometryKeys):
        def of(self, li: int) -> tuple:
            return (li,)  # every layer its own key: nothing reused

    monkeypatch.setattr(slicer, "_GeometryKeys", Fresh)
    fresh = slice_part(part, s, workers=1)
    for name in ("xyz_mm", "feed_mm_min", "kind", "extrude_mm3", "retract", "object_id", "layer"):
        np.testing.assert_array_equal(getattr(reused, name), getattr(fresh, name))
