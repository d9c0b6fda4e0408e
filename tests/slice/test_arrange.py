"""Copies on one bed: the packing, the fit error, and the merged toolpath."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
import shapely
import trimesh
from shapely import affinity

from fabthread.errors import FitError, ParamError
from fabthread.geom.mesh_io import part_from_trimesh
from fabthread.model.toolpath import MoveKind, Toolpath
from fabthread.slice.arrange import (
    arrange_copies,
    max_copies,
    merge_copies,
    part_footprint,
    replicate_layer,
)

BED = (250.0, 210.0)


def placed(footprint: shapely.Polygon, offsets: list[tuple[float, float]]) -> list:
    return [affinity.translate(footprint, dx, dy) for dx, dy in offsets]


def assert_packed(copies: list, spacing: float, bed: tuple[float, float] = BED) -> None:
    """Inside the bed, and every pair at least ``spacing`` apart (footprints grown by half the
    spacing do not overlap)."""
    bed_box = shapely.box(0, 0, *bed).buffer(1e-6)
    for c in copies:
        assert bed_box.contains(c)
    for a, b in itertools.combinations(copies, 2):
        assert a.distance(b) >= spacing - 1e-6
        assert a.buffer(spacing / 2 - 1e-6).intersection(b.buffer(spacing / 2 - 1e-6)).area == 0


def test_ten_cubes_fit_without_overlap_centred() -> None:
    cube = shapely.box(115, 95, 135, 115)  # a 20 mm cube centred on the bed
    offsets = arrange_copies(cube, 10, *BED, spacing_mm=5.0)
    assert len(offsets) == 10
    copies = placed(cube, offsets)
    assert_packed(copies, 5.0)
    x0, y0, x1, y1 = shapely.union_all(copies).bounds
    assert (x0 + x1) / 2 == pytest.approx(125.0) and (y0 + y1) / 2 == pytest.approx(105.0)
    assert offsets == arrange_copies(cube, 10, *BED, spacing_mm=5.0)  # deterministic


def test_one_copy_stays_centred() -> None:
    cube = shapely.box(115, 95, 135, 115)
    assert arrange_copies(cube, 1, *BED, spacing_mm=5.0) == [(0.0, 0.0)]


def test_max_copies_and_fit_error_names_it() -> None:
    cube = shapely.box(0, 0, 20, 20)
    # (250 + 5) // 25 = 10 columns, (210 + 5) // 25 = 8 rows
    assert max_copies(cube, *BED, spacing_mm=5.0) == 80
    offsets = arrange_copies(cube, 80, *BED, spacing_mm=5.0)
    assert_packed(placed(cube, offsets), 5.0)
    with pytest.raises(FitError, match=r"copies=1000 .* at most 80 fit"):
        arrange_copies(cube, 1000, *BED, spacing_mm=5.0)
    with pytest.raises(FitError, match="at most 0 fit"):
        arrange_copies(shapely.box(0, 0, 300, 20), 1, *BED, spacing_mm=5.0)
    with pytest.raises(ParamError):
        arrange_copies(cube, 0, *BED, spacing_mm=5.0)


def test_margin_keeps_copies_off_the_edges() -> None:
    cube = shapely.box(0, 0, 20, 20)
    assert max_copies(cube, *BED, spacing_mm=5.0, margin_mm=10.0) == 9 * 7
    offsets = arrange_copies(cube, 63, *BED, spacing_mm=5.0, margin_mm=10.0)
    assert_packed(placed(cube, offsets), 5.0, bed=BED)
    x0, y0, x1, y1 = shapely.union_all(placed(cube, offsets)).bounds
    assert min(x0, y0, BED[0] - x1, BED[1] - y1) >= 10.0 - 1e-6


@pytest.mark.parametrize("count", [2, 3, 7, 12, 25])
def test_odd_shapes_and_counts_pack(count: int) -> None:
    tri = shapely.Polygon([(0, 0), (40, 0), (10, 25)])
    offsets = arrange_copies(tri, count, *BED, spacing_mm=3.0)
    assert_packed(placed(tri, offsets), 3.0)


def test_part_footprint_is_the_xy_hull() -> None:
    part = part_from_trimesh(trimesh.creation.cylinder(radius=10, height=5, sections=64), "cyl")
    fp = part_footprint(part)
    assert fp.area == pytest.approx(np.pi * 100, rel=0.01)


# --- merging --------------------------------------------------------------------------------


def one_copy_toolpath(layers: int = 3, skirt: bool = False) -> Toolpath:
    """A hand-built one-copy FDM toolpath of an 8 x 6 mm block at the bed centre: per layer a
    travel, a perimeter loop and two infill lines; layer 0 optionally starts with a skirt
    (object_id -1) around it. (Hand-built so these tests do not depend on the slicer.)"""
    rows: list[tuple] = []  # x, y, kind, mm3, obj, layer

    def loop(x0, y0, x1, y1, kind, obj, li):
        rows.append((x0, y0, MoveKind.TRAVEL, 0.0, obj, li))
        for x, y in ((x1, y0), (x1, y1), (x0, y1), (x0, y0)):
            rows.append((x, y, kind, 0.05, obj, li))

    for li in range(layers):
        if skirt and li == 0:
            loop(118.0, 99.0, 132.0, 111.0, MoveKind.SKIRT, -1, li)
        loop(121.0, 102.0, 129.0, 108.0, MoveKind.EXTERNAL_PERIMETER, 0, li)
        for y in (104.0, 106.0):
            rows.append((121.5, y, MoveKind.TRAVEL, 0.0, 0, li))
            rows.append((128.5, y, MoveKind.SPARSE_INFILL, 0.3, 0, li))
    arr = np.array([(x, y, k, e, o, li) for x, y, k, e, o, li in rows])
    n = len(arr)
    z = (arr[:, 5] + 1) * 0.2
    kind = arr[:, 2].astype(np.uint8)
    return Toolpath(
        process="fdm",
        xyz_mm=np.column_stack([arr[:, 0], arr[:, 1], z]),
        feed_mm_min=np.where(kind == MoveKind.TRAVEL, 9000.0, 1800.0),
        kind=kind,
        extrude_mm3=arr[:, 3],
        power=np.zeros(n),
        layer=arr[:, 5].astype(np.int32),
        retract=np.zeros(n, bool),
        object_id=arr[:, 4].astype(np.int16),
        tool=np.zeros(n, np.int8),
        layer_z_mm=(np.arange(layers) + 1) * 0.2,
        layer_height_mm=np.full(layers, 0.2),
        object_names=("block",),
    )


@pytest.fixture(scope="module")
def one() -> Toolpath:
    return one_copy_toolpath()


def copy_blocks(tp: Toolpath, layer: int) -> list[int]:
    """Object ids of the layer's moves, run-length collapsed."""
    ids = tp.object_id[tp.layer == layer]
    return [int(k) for k, _ in itertools.groupby(ids)]


def test_merged_toolpath_prints_every_copy_on_every_layer(one: Toolpath) -> None:
    fp = shapely.box(121.0, 102.0, 129.0, 108.0)
    offsets = arrange_copies(fp, 4, *BED, spacing_mm=5.0)
    tp = merge_copies(one, offsets)
    assert tp.object_names == ("copy_1", "copy_2", "copy_3", "copy_4")
    assert len(tp) == 4 * len(one)
    assert tp.extruded_mm3 == pytest.approx(4 * one.extruded_mm3)
    assert np.all(np.diff(tp.layer) >= 0)  # layer by layer
    off = np.asarray(offsets)
    for li in range(one.layer_count):
        blocks = copy_blocks(tp, li)
        assert sorted(blocks) == [0, 1, 2, 3]  # each copy once per layer, contiguous
        ref = one.xyz_mm[one.layer == li]
        for k in range(4):
            mine = (tp.layer == li) & (tp.object_id == k)
            got = tp.xyz_mm[mine]
            assert np.allclose(got[:, :2] - off[k], ref[:, :2])
            assert np.allclose(got[:, 2], ref[:, 2])
            assert np.array_equal(tp.kind[mine], one.kind[one.layer == li])
        # the first move of each copy block is a retracting travel (copies are 5 mm apart)
        firsts = np.flatnonzero(np.diff(tp.object_id[tp.layer == li], prepend=-9) != 0)
        assert (tp.kind[tp.layer == li][firsts] == MoveKind.TRAVEL).all()
        assert tp.retract[tp.layer == li][firsts[1:]].all()
    # nearest-neighbour order: each copy block starts at the nearest start left on its layer
    for li in range(one.layer_count):
        at = np.flatnonzero(tp.layer == li)
        pos = tp.xyz_mm[at[0] - 1, :2] if at[0] > 0 else tp.xyz_mm[0, :2]
        left = set(range(4))
        start0 = one.xyz_mm[one.layer == li][0, :2]
        for k in copy_blocks(tp, li):
            dist = {j: np.hypot(*(start0 + off[j] - pos)) for j in left}
            assert dist[k] == pytest.approx(min(dist.values()))
            left.remove(k)
            pos = tp.xyz_mm[at[tp.object_id[at] == k][-1], :2]


def test_skirt_is_dropped_or_kept_once() -> None:
    one = one_copy_toolpath(skirt=True)
    assert (one.object_id == -1).any()
    offsets = [(-20.0, 0.0), (20.0, 0.0)]
    dropped = merge_copies(one, offsets)
    assert (dropped.object_id >= 0).all()
    kept = merge_copies(one, offsets, keep_shared=True)
    skirt = kept.object_id == -1
    assert skirt.sum() == (one.object_id == -1).sum()
    assert np.allclose(kept.xyz_mm[skirt], one.xyz_mm[one.object_id == -1])
    skirt_mm3 = one.extrude_mm3[one.object_id == -1].sum()
    assert dropped.extruded_mm3 == pytest.approx(2 * (one.extruded_mm3 - skirt_mm3))
    assert kept.extruded_mm3 == pytest.approx(dropped.extruded_mm3 + skirt_mm3)
    assert kept.object_id[0] == -1  # the skirt first on its layer


def test_names_and_multi_object_ids(one: Toolpath) -> None:
    tp = merge_copies(one, [(0.0, 0.0), (30.0, 0.0)], names=["left", "right"])
    assert tp.object_names == ("left", "right")
    two = dataclasses.replace(one, object_names=("a", "b"))
    tp2 = merge_copies(two, [(0.0, 0.0), (30.0, 0.0)])
    assert tp2.object_names == ("a_copy_1", "b_copy_1", "a_copy_2", "b_copy_2")
    assert set(np.unique(tp2.object_id).tolist()) == {0, 2}  # object a of each copy
    with pytest.raises(ValueError):
        merge_copies(one, [(0.0, 0.0)], names=["x", "y"])


def test_replicate_layer_orders_copies_from_the_nozzle() -> None:
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    kind = np.array([MoveKind.TRAVEL, MoveKind.PERIMETER, MoveKind.PERIMETER], np.uint8)
    offsets = [(0.0, 0.0), (100.0, 0.0), (50.0, 0.0)]
    out = replicate_layer(
        xy, np.full(3, 1000.0), kind, np.array([0, 0.1, 0.1]), np.zeros(3, bool),
        np.zeros(3, np.int16), offsets, pos=(120.0, 0.0), retract_min_travel_mm=1.5,
    )  # fmt: skip
    assert out[5].tolist() == [1] * 3 + [2] * 3 + [0] * 3  # nearest first: 100, 50, 0
    assert out[4].tolist() == [True, False, False] * 3
    assert np.allclose(out[0][3], [50.0, 0.0])
