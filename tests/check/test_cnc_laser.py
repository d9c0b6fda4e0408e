from __future__ import annotations

import trimesh
from checkkit import box, difference, machine, part, rules, union
from shapely.geometry import Point
from shapely.geometry import box as rect

from fabthread.check.cnc import check_internal_corners, check_undercuts
from fabthread.check.laser import check_laser, check_sheet
from fabthread.check.limits import CheckLimits
from fabthread.model.cam import LaserSetting, StockMaterial

CNC = machine("cnc", size=(300, 300, 80))
LASER = machine("laser", size=(600, 400, 20))


def _pocket(corner_radius: float = 0.0) -> trimesh.Trimesh:
    outline = rect(10, 10, 50, 30)
    if corner_radius:
        outline = outline.buffer(-corner_radius).buffer(corner_radius, quad_segs=16)
    cutter = trimesh.creation.extrude_polygon(outline, 20)
    cutter.apply_translation((0, 0, 5))
    return difference(box((0, 0, 0), (60, 40, 15)), cutter)


def test_sharp_pocket_corners_are_found_at_the_four_corners() -> None:
    (f,) = check_internal_corners(part(_pocket()), CNC)
    assert f.rule == "internal_corner" and f.severity == "error"
    assert f.limit == 3.175 / 2 and f.measured < 0.2  # a sharp corner (estimate ~0)
    assert len(f.location) == 4
    for x, y, _ in f.location:  # within a tool radius of a pocket corner (10|50, 10|30)
        assert min(abs(x - 10), abs(x - 50)) < 1 and min(abs(y - 10), abs(y - 30)) < 1
    assert all(5 < z < 15 for _, _, z in f.location)


def test_pocket_rounded_wider_than_the_tool_is_fine_and_a_smaller_tool_helps() -> None:
    assert check_internal_corners(part(_pocket(3.0)), CNC) == []
    # 1 mm corners: too tight for the 3.175 mm default cutter, fine for a 1.5 mm one
    assert check_internal_corners(part(_pocket(1.0)), CNC) != []
    assert check_internal_corners(part(_pocket(1.0)), CNC, tools=[1.5]) == []


def test_outer_corners_of_a_block_need_no_radius() -> None:
    assert check_internal_corners(part(box((0, 0, 0), (60, 40, 15))), CNC) == []


def test_open_pocket_is_reachable_but_an_undercut_is_not() -> None:
    assert check_undercuts(part(_pocket(3.0)), CNC) == []
    t_shape = union(box((15, 0, 0), (25, 10, 20)), box((0, 0, 20), (40, 10, 25)))
    (f,) = check_undercuts(part(t_shape), CNC)
    assert f.severity == "warning"  # reachable from below in a second setup
    assert abs(f.measured - 2 * 15 * 10 - 2 * 20 * 10) < 1e-6  # arm undersides + stem sides
    cavity = difference(box((0, 0, 0), (30, 30, 20)), box((5, 5, 5), (25, 25, 15)))
    assert "error" in {f.severity for f in check_undercuts(part(cavity), CNC)}


def _plate(holes: list[tuple[float, float, float]], thickness: float = 3.0) -> trimesh.Trimesh:
    shape = rect(0, 0, 100, 60)
    for x, y, r in holes:
        shape = shape.difference(Point(x, y).buffer(r))
    return trimesh.creation.extrude_polygon(shape, thickness)


def test_laser_plate_with_enough_web_passes() -> None:
    assert check_laser(part(_plate([(20, 30, 5), (40, 30, 5)])), LASER) == []


def test_laser_web_between_two_holes_too_narrow() -> None:
    (f,) = check_laser(part(_plate([(20, 30, 5), (31.5, 30, 5)])), LASER)
    assert f.rule == "min_web" and f.severity == "error"
    assert abs(f.measured - 1.5) < 0.01 and f.limit == 3.0  # one sheet thickness
    assert abs(f.location[0][0] - 25.75) < 0.01


def test_laser_rejects_thick_and_sloped_parts() -> None:
    assert rules(check_laser(part(box((0, 0, 0), (100, 60, 20))), LASER)) == {"sheet_thickness"}
    (f,) = check_sheet(part(box((0, 0, 0), (100, 3, 60))), LASER)
    assert "Y axis" in f.fix  # lay it flat
    ball = trimesh.creation.icosphere(3, radius=2.5)
    assert "not_a_plate" in rules(check_laser(part(ball), LASER), "error")


def test_laser_sheet_limit_and_thicknesses_come_from_the_stock() -> None:
    plywood = StockMaterial(
        id="plywood",
        name="plywood",
        process="laser",
        density_g_cm3=0.6,
        thicknesses_mm=(3.0, 4.0, 6.0),
        laser=(LaserSetting(3, 10, 1, 300), LaserSetting(6, 40, 1, 300)),
    )
    weak = machine("laser", size=(600, 400, 20), laser_power_w=10)
    limits = CheckLimits.from_profiles(weak, stock=plywood)
    assert limits.max_sheet_mm == 3 and limits.sheet_thicknesses_mm == (3, 4, 6)
    (f,) = check_sheet(part(_plate([], 6.0)), weak, limits=limits)
    assert f.severity == "error" and f.limit == 3
    (f,) = check_sheet(part(_plate([], 2.5)), weak, limits=limits)
    assert f.severity == "warning" and f.limit == 3  # nearest stocked sheet
