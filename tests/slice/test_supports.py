"""Support planning on hand-built layer regions (exact geometry) and on a real mesh section."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
import trimesh

from fabthread.geom import polygons as pg
from fabthread.geom.mesh_io import part_from_trimesh
from fabthread.model.toolpath import MoveKind
from fabthread.slice.sections import layer_heights, section_mesh
from fabthread.slice.supports import SupportLayer, overhangs, plan_supports, support_lines_mm

H = 0.2  # layer height, mm
W = 0.45  # line width, mm
GAP = 0.6  # xy gap, mm


def box(x0: float, y0: float, x1: float, y1: float):
    """An axis-aligned rectangle in µm from mm corners."""
    return shapely.box(x0 * 1000, y0 * 1000, x1 * 1000, y1 * 1000)


def stack(layers: list) -> tuple[list, np.ndarray, np.ndarray]:
    n = len(layers)
    heights = np.full(n, H)
    return layers, np.cumsum(heights), heights


def plan(layers: list, **kw) -> list[SupportLayer]:
    regions, z, h = stack(layers)
    args = dict(
        angle_deg=50.0,
        xy_gap_mm=GAP,
        z_gap_layers=1,
        interface_layers=2,
        density=0.2,
        line_width_mm=W,
    )
    args.update(kw)
    return plan_supports(regions, z, h, **args)


def length(seg: np.ndarray) -> float:
    """Total length (µm) of (n, 2, 2) segments."""
    return float(np.hypot(*(seg[:, 1] - seg[:, 0]).T.astype(float)).sum())


def t_shape() -> list:
    """Stem 10 x 10 mm, 10 mm tall (layers 0..49), bar 30 x 10 mm on top (layers 50..69)."""
    return [box(-5, -5, 5, 5)] * 50 + [box(-15, -5, 15, 5)] * 20


def support_layers(sup: list[SupportLayer]) -> list[int]:
    return [j for j, s in enumerate(sup) if not s.is_empty]


def assert_clear_of_part(layers: list, sup: list[SupportLayer], gap_mm: float = GAP) -> None:
    """Neither the support area nor the deposited lines come within the xy gap of the part."""
    for j, (region, s) in enumerate(zip(layers, sup, strict=True)):
        if s.is_empty:
            continue
        keep_out = pg.offset(region, gap_mm * 1000 - 2)  # 2 µm: grid snapping
        assert pg.intersection(s.footprint, keep_out).area == 0, f"layer {j}"
        segs = np.concatenate([s.lines, s.interface_lines]).astype(float)
        lines = shapely.linestrings(segs)
        assert not shapely.intersects(shapely.buffer(lines, W * 500 - 2), keep_out).any(), j


def test_t_shape_supported_under_both_arms_only() -> None:
    layers = t_shape()
    sup = plan(layers)
    assert support_layers(sup) == list(range(0, 49))
    for j in (0, 20, 48):
        fp = sup[j].footprint
        left = pg.intersection(fp, box(-15, -5, -5, 5))
        right = pg.intersection(fp, box(5, -5, 15, 5))
        # each arm is 10 x 10 mm; the xy gap takes 0.6 mm off the side next to the stem
        assert pg.area_mm2(left) == pytest.approx(10 * (10 - GAP), rel=0.01)
        assert pg.area_mm2(right) == pytest.approx(10 * (10 - GAP), rel=0.01)
        assert pg.intersection(fp, box(-5, -5, 5, 5)).is_empty  # none under/in the stem
        assert len(sup[j].lines) + len(sup[j].interface_lines) > 0
    # the sparse support has one wall around it: its lines are longer than the grid alone
    grid = plan(layers, outline=False)
    walls = pg.offset(sup[20].support, -W * 500)
    extra = length(sup[20].lines) - length(grid[20].lines)
    assert extra == pytest.approx(walls.length, rel=0.02)
    assert_clear_of_part(layers, sup)


def test_support_covers_the_overhang_from_below() -> None:
    sup = plan(t_shape())
    over = overhangs(t_shape(), np.full(70, H), angle_deg=50.0)
    assert [j for j, o in enumerate(over) if not o.is_empty] == [50]
    # the overhang starts h·tan(50°) out from the stem; the top support layer holds up all of
    # the arms except the xy gap to the stem
    allowance = H * math.tan(math.radians(50.0))
    assert pg.area_mm2(over[50]) == pytest.approx(2 * 10 * (10 - allowance), rel=0.01)
    arms = pg.difference(box(-15, -5, 15, 5), box(-5, -5, 5, 5))
    uncovered = pg.difference(arms, sup[48].footprint)
    assert pg.area_mm2(uncovered) == pytest.approx(2 * 10 * GAP, rel=0.01)


@pytest.mark.parametrize("z_gap", [0, 1, 2])
def test_top_support_layer_is_z_gap_below_the_overhang(z_gap: int) -> None:
    sup = plan(t_shape(), z_gap_layers=z_gap)
    assert max(support_layers(sup)) == 50 - 1 - z_gap


def test_interface_layers_right_below_the_surface() -> None:
    sup = plan(t_shape(), interface_layers=2)
    for j in (48, 47):
        assert pg.area_mm2(sup[j].interface) == pytest.approx(2 * 10 * (10 - GAP), rel=0.01)
        assert sup[j].support.is_empty
    assert sup[46].interface.is_empty and not sup[46].support.is_empty

    # interface is dense, the grid sparse: compare deposited length per area
    grid = plan(t_shape(), interface_layers=2, outline=False)
    assert length(sup[48].interface_lines) > 2 * length(grid[46].lines)
    # interface directions alternate per layer
    d48 = sup[48].interface_lines[:, 1] - sup[48].interface_lines[:, 0]
    d47 = sup[47].interface_lines[:, 1] - sup[47].interface_lines[:, 0]
    assert (d48[:, 0] == 0).all() != (d47[:, 0] == 0).all()


def chamfer(angle_deg: float, n: int = 40) -> list:
    """A block that leans out by ``angle_deg`` from the vertical on its +x side."""
    step = H * math.tan(math.radians(angle_deg))
    return [box(0, 0, 10 + i * step, 10) for i in range(n)]


def test_45_degree_chamfer_needs_no_support() -> None:
    assert support_layers(plan(chamfer(45.0))) == []


def test_60_degree_chamfer_gets_support_and_it_clears_the_part() -> None:
    layers = chamfer(60.0)
    sup = plan(layers)
    assert support_layers(sup)
    assert not sup[0].is_empty  # a wedge down to the bed
    assert_clear_of_part(layers, sup)


def test_overhang_above_the_part_stops_on_the_part() -> None:
    """A pillar (x 20..25) carries an arm (layers 50..59) that reaches over a low block
    (x 0..10, layers 0..19): the support under the arm rests on the block, not on the bed."""
    block, pillar = box(0, 0, 10, 10), box(20, 0, 25, 10)
    layers = [pg.union(block, pillar)] * 20 + [pillar] * 30 + [box(0, 0, 25, 10)] * 10
    sup = plan(layers)
    over_block = box(0, 0, 10, 10)
    between = box(10 + GAP, 0, 20 - GAP, 10)
    # between block and pillar: down to the bed
    for j in (0, 10, 30, 48):
        assert (
            pg.area_mm2(pg.intersection(sup[j].footprint, between))
            > 0.9 * 10 * (10 - 2 * GAP) - 1e-6
        ), j
    # over the block: from the top support layer down to one gap layer above the block's top
    assert pg.area_mm2(pg.intersection(sup[21].footprint, over_block)) > 90
    assert pg.intersection(sup[20].footprint, over_block).is_empty  # the z gap over the top
    for j in range(0, 20):
        assert pg.intersection(sup[j].footprint, pg.offset(block, GAP * 1000 - 2)).is_empty
    assert_clear_of_part(layers, sup)


def test_no_support_starts_in_mid_air() -> None:
    """Every support layer above the bed stands on support, the part, or the z gap over it."""
    block, pillar = box(0, 0, 10, 10), box(20, 0, 25, 10)
    layers = [pg.union(block, pillar)] * 20 + [pillar] * 30 + [box(0, 0, 25, 10)] * 10
    sup = plan(layers)
    for j in range(1, len(layers)):
        fp = sup[j].footprint
        if fp.is_empty:
            continue
        held = pg.union(sup[j - 1].footprint, layers[j - 1], layers[max(0, j - 2)])
        loose = pg.difference(fp, pg.offset(held, 1000 * GAP + 10))
        assert pg.area_mm2(loose) < 0.05, j


def test_support_lines_mm_turn_into_support_moves() -> None:
    sup = plan(t_shape())
    triples = support_lines_mm(sup[47], support_mm_s=50.0, interface_mm_s=40.0)
    assert [k for k, _, _ in triples] == [MoveKind.SUPPORT_INTERFACE]
    triples = support_lines_mm(sup[10], support_mm_s=50.0, interface_mm_s=40.0)
    assert [k for k, _, _ in triples] == [MoveKind.SUPPORT]
    kind, seg, v = triples[0]
    assert seg.shape == (len(sup[10].lines), 4) and seg.dtype == np.float64 and v == 50.0
    assert np.allclose(seg * 1000, sup[10].lines.reshape(-1, 4))
    # every line lies inside the support area (µm, 1 µm for round-off)
    lines = shapely.linestrings(seg.reshape(-1, 2, 2) * 1000)
    assert shapely.covers(pg.offset(sup[10].support, 1.0), lines).all()


def t_part():
    """A real T mesh: stem 10 x 10 x 10 mm, bar 30 x 10 x 4 mm on top."""
    stem = trimesh.creation.box((10, 10, 10))
    stem.apply_translation((0, 0, 5))
    bar = trimesh.creation.box((30, 10, 4))
    bar.apply_translation((0, 0, 12))
    return part_from_trimesh(trimesh.util.concatenate([stem, bar]), "tee")


def test_real_mesh_tee() -> None:
    part = t_part()
    tops, heights = layer_heights(14.0, 0.2, 0.2)
    regions = section_mesh(part, tops - heights / 2)
    sup = plan_supports(
        regions,
        tops,
        heights,
        angle_deg=50.0,
        xy_gap_mm=GAP,
        z_gap_layers=1,
        interface_layers=2,
        density=0.2,
        line_width_mm=W,
    )
    assert support_layers(sup) == list(range(0, 49))  # bar from layer 50 (z 10.0..10.2)
    assert pg.area_mm2(sup[0].footprint) == pytest.approx(2 * 10 * (10 - GAP), rel=0.02)
    assert_clear_of_part(regions, sup)
