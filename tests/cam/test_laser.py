"""Laser cutting: kerf on the waste side, holes before outlines, passes and material data."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import trimesh

from fabthread import profiles
from fabthread.cam import cam_part
from fabthread.errors import ParamError
from fabthread.geom.mesh_io import part_from_trimesh
from fabthread.model.cam import LaserCutOp
from fabthread.model.toolpath import MoveKind


@pytest.fixture(scope="module")
def plate():
    box = trimesh.creation.box([60, 40, 3])
    a = trimesh.creation.cylinder(radius=6, height=5)
    a.apply_translation([-15, 0, 0])
    b = trimesh.creation.box([8, 8, 5])
    b.apply_translation([15, 0, 0])
    return part_from_trimesh(box.difference(a).difference(b), "plate")


def _contours(tp):
    """Closed burn loops (xy) in cutting order."""
    loops, cur = [], []
    for k, p in zip(tp.kind, tp.xyz_mm, strict=True):
        if k == MoveKind.RAPID:
            if cur:
                loops.append(np.array(cur))
            cur = [p[:2]]
        else:
            cur.append(p[:2])
    loops.append(np.array(cur))
    return loops


def test_every_contour_cut_with_kerf_on_the_waste_side(plate, tools):
    m = profiles.load_machine("co2_laser_60w")
    mat = profiles.load_stock("plywood_laser")
    tp = cam_part(plate, m, mat, tools, [LaserCutOp()])
    setting = mat.laser_for(3.0, 60.0)
    kerf = setting.kerf_mm
    loops = _contours(tp)
    assert len(loops) == 3
    lo = np.array(tp.xyz_mm[:, :2].min(axis=0))
    # outer outline last, holes first; each loop closed
    areas = [shapely.Polygon(lp).area for lp in loops]
    assert areas[-1] == max(areas)
    for lp in loops:
        assert np.allclose(lp[0], lp[-1], atol=1e-6)
    outer = shapely.Polygon(loops[-1])
    # outline: kerf/2 outside the 60 x 40 plate
    assert outer.bounds[2] - outer.bounds[0] == pytest.approx(60 + kerf, abs=1e-3)
    square = min(loops[:-1], key=lambda lp: len(lp))
    sq = shapely.Polygon(square)
    assert sq.bounds[2] - sq.bounds[0] == pytest.approx(8 - kerf, abs=1e-3)
    circle = max(loops[:-1], key=lambda lp: len(lp))
    c = shapely.Polygon(circle).centroid
    r = np.hypot(circle[:, 0] - c.x, circle[:, 1] - c.y)
    assert r.max() <= 6 - kerf / 2 + 1e-3 and r.min() >= 6 - kerf / 2 - 0.05
    assert np.all(tp.power[tp.kind == MoveKind.LASER_CUT] == setting.power)
    assert np.all(tp.feed_mm_min[tp.kind == MoveKind.LASER_CUT] == setting.speed_mm_min)
    del lo


def test_passes_repeat_each_contour(plate, tools):
    m = profiles.load_machine("diode_laser_10w")
    mat = profiles.load_stock("plywood_laser")
    one = cam_part(plate, m, mat, tools, [LaserCutOp(passes=1)])
    two = cam_part(plate, m, mat, tools, [LaserCutOp()])  # 3 mm on 10 W: 2 passes
    burn = MoveKind.LASER_CUT
    assert (two.kind == burn).sum() == 2 * (one.kind == burn).sum()


def test_acrylic_needs_a_co2_laser(plate, tools):
    m = profiles.load_machine("diode_laser_10w")
    with pytest.raises(ParamError, match="at least 40 W"):
        cam_part(plate, m, profiles.load_stock("acrylic_laser"), tools, [LaserCutOp()])
