"""2.5D and 3D milling verified by cutting a heightmap of the stock with the toolpath."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from fabthread import profiles
from fabthread.cam import cam_part, part_heights, simulate_stock, stock_for
from fabthread.cam.features import slabs
from fabthread.geom.mesh_io import part_from_trimesh
from fabthread.model.cam import DrillOp, FaceOp, FinishOp, PocketOp, ProfileOp
from fabthread.model.toolpath import MoveKind

SHAPEOKO = "shapeoko4_xl"


def _run(part, ops, tools, material="hdpe", machine=SHAPEOKO, cell=0.5):
    m = profiles.load_machine(machine)
    tp = cam_part(part, m, profiles.load_stock(material), tools, ops, placed=True)
    stock = stock_for(part, 10.0, 1.0)
    sim = simulate_stock(tp, stock, tools, cell)
    ph = part_heights(part, sim, stock.min_xyz_mm[2] - 5.0)
    return tp, stock, sim, ph


@pytest.fixture(scope="module")
def oct_placed(octagonal):
    from fabthread.cam import place

    return place(octagonal, 25.0)


@pytest.mark.slow
@pytest.mark.parametrize("pattern", ["offset", "zigzag"])
def test_pocket_and_profile_never_gouge_and_rapids_stay_clear(oct_placed, tools, pattern):
    ops = [PocketOp("flat_6mm", pattern=pattern), ProfileOp("flat_6mm", tab_count=0)]
    tp, stock, sim, ph = _run(oct_placed, ops, tools)
    on_part = ph > stock.min_xyz_mm[2] - 1
    assert (ph - sim.heights)[on_part].max() <= 0.01  # no gouge
    assert sim.rapid_hits == 0, (sim.rapid_depth_mm, sim.first_hit)
    # pocket floors: every cell 3.5 mm (radius + a cell) from any wall is at the floor
    sl = slabs(oct_placed)
    xs, ys = sim.centres()
    import shapely

    for z in sl.floors():
        floor = shapely.difference(sl.above(z - 1e-3), sl.above(z))
        deep = shapely.buffer(floor, -3500.0)
        if deep.is_empty:
            continue
        inside = shapely.contains_xy(deep, xs * 1000, ys * 1000)
        if inside.any():
            assert np.abs(sim.heights[inside] - z).max() <= 0.01
    # outside the part beyond the tool, everything is cut to the through depth
    assert sim.heights.min() == pytest.approx(sl.bottom - 0.3, abs=1e-6)


@pytest.mark.slow
def test_tabs_hold_the_part(oct_placed, tools):
    tp, stock, sim, ph = _run(oct_placed, [ProfileOp("flat_6mm", tab_count=4)], tools)
    z = tp.xyz_mm[:, 2]
    cut = tp.kind == MoveKind.CUT
    bottom = z[cut].min()
    tab_top = slabs(oct_placed).bottom + 1.5
    # some cutting moves run at the tab top while the pass below them is at the bottom
    assert np.isclose(z[cut], tab_top).sum() >= 8 and bottom < tab_top
    assert sim.rapid_hits == 0


def test_ramp_entry_never_plunges_vertically_into_stock(oct_placed, tools):
    m = profiles.load_machine(SHAPEOKO)
    tp = cam_part(
        oct_placed,
        m,
        profiles.load_stock("hdpe"),
        tools,
        [ProfileOp("flat_6mm", tab_count=0)],
        placed=True,
    )
    top = stock_for(oct_placed, 10.0, 1.0).top_z_mm
    xyz = tp.xyz_mm
    d = np.diff(xyz, axis=0)
    vertical_down = (np.hypot(d[:, 0], d[:, 1]) < 1e-9) & (d[:, 2] < -1e-9)
    below_top = xyz[1:, 2] < top - 1e-6
    assert not np.any(vertical_down & below_top & (tp.kind[1:] != MoveKind.RAPID))
    slope = -d[:, 2] / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-12)
    assert slope[(d[:, 2] < 0) & below_top].max() <= np.tan(np.radians(3.0)) + 1e-6


def test_drill_pecks_and_orders_nearest_first(oct_placed, tools):
    holes = ((60.0, 60.0, 8.0), (200.0, 60.0, 8.0), (70.0, 62.0, 8.0))
    m = profiles.load_machine(SHAPEOKO)
    tp = cam_part(
        oct_placed,
        m,
        profiles.load_stock("hdpe"),
        tools,
        [DrillOp("drill_5mm", holes=holes, peck_mm=2.0)],
        placed=True,
    )
    plunges = tp.xyz_mm[tp.kind == MoveKind.PLUNGE]
    xy_order = list(dict.fromkeys(map(tuple, plunges[:, :2].round(3))))
    assert xy_order == [(60.0, 60.0), (70.0, 62.0), (200.0, 60.0)]
    top = stock_for(oct_placed, 10.0, 1.0).top_z_mm
    assert plunges[:, 2].min() == pytest.approx(top - 8.0)
    assert len(plunges) == 3 * 5  # 9 mm from the R plane in 2 mm pecks


@pytest.mark.slow
def test_ball_finish_over_a_dome(tools):
    mesh = trimesh.creation.icosphere(subdivisions=3, radius=15.0)
    mesh.apply_translation([40, 40, 15])
    dome = part_from_trimesh(mesh, "dome")
    op = FinishOp("ball_6mm", stepover_mm=0.5, sampling_mm=0.5, tolerance_mm=0.004)
    tp, stock, sim, ph = _run(dome, [op], tools, cell=0.25)
    xs, ys = sim.centres()
    on = ph > 0
    assert (ph - sim.heights)[on].max() <= 0.01  # no gouge
    cap = np.hypot(xs - 40, ys - 40) < 15 * np.sin(np.radians(45))
    # material left on the cap: scallops of a 0.5 mm stepover on slopes up to 45 degrees
    assert (sim.heights - ph)[cap].max() <= 0.03
    assert sim.rapid_hits == 0


def test_facing_leaves_a_flat_top(oct_placed, tools):
    tp, stock, sim, ph = _run(oct_placed, [FaceOp("flat_6mm", depth_mm=1.0)], tools, cell=1.0)
    top = float(oct_placed.bounds_mm[1][2])
    assert np.abs(sim.heights - top).max() <= 1e-6
    assert sim.rapid_hits == 0
