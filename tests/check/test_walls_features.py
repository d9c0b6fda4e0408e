from __future__ import annotations

import trimesh
from checkkit import box, difference, part

from fabthread.check.features import check_small_features
from fabthread.check.walls import check_min_wall, wall_thickness


def test_thin_plate_under_the_nozzle_is_an_error_with_its_thickness(fdm) -> None:
    (f,) = check_min_wall(part(box((0, 0, 0), (20, 20, 0.3))), fdm)
    assert f.rule == "min_wall" and f.severity == "error"
    assert abs(f.measured - 0.3) < 1e-6 and f.limit == 0.4
    assert all(0 <= p[2] <= 0.3 for p in f.location)


def test_plate_under_two_perimeters_is_a_warning(fdm) -> None:
    (f,) = check_min_wall(part(box((0, 0, 0), (20, 20, 0.7))), fdm)
    assert f.severity == "warning" and abs(f.measured - 0.7) < 1e-6
    assert abs(f.limit - 0.9) < 1e-9  # 2 perimeters x 0.45 mm extrusion width


def test_thick_box_has_no_thin_walls(fdm) -> None:
    assert check_min_wall(part(box((0, 0, 0), (20, 20, 5))), fdm) == []


def test_thin_fin_on_a_block_is_found_where_it_is(fdm) -> None:
    fin = trimesh.boolean.union(
        [box((0, 0, 0), (30, 30, 5)), box((10, 14.85, 5), (20, 15.15, 15))], engine="manifold"
    )
    (f,) = check_min_wall(part(fin), fdm)
    assert f.severity == "error" and abs(f.measured - 0.3) < 1e-3
    x, y, z = f.location[0]
    assert 10 <= x <= 20 and abs(y - 15) < 0.2 and 5 <= z <= 15


def test_wall_thickness_measures_a_slab_from_both_sides(fdm) -> None:
    th, mid, _ = wall_thickness(part(box((0, 0, 0), (20, 20, 1))), max_mm=2.0, samples=500)
    assert len(th) > 200 and abs(th.min() - 1) < 1e-6 and abs(th.max() - 1) < 1e-6
    assert abs(mid[:, 2] - 0.5).max() < 1e-6  # midpoints in the middle of the slab


def _block_with_hole(d: float) -> trimesh.Trimesh:
    pin = trimesh.creation.cylinder(radius=d / 2, height=30, sections=48)
    pin.apply_translation((10, 10, 0))
    return difference(box((0, 0, 0), (20, 20, 10)), pin)


def test_hole_below_the_nozzle_is_an_error(fdm) -> None:
    (f,) = check_small_features(part(_block_with_hole(0.3)), fdm)
    assert f.rule == "min_hole" and f.severity == "error"
    assert abs(f.measured - 0.3) < 0.02
    assert abs(f.location[0][0] - 10) < 0.01 and abs(f.location[0][1] - 10) < 0.01


def test_small_hole_is_a_warning_and_a_big_one_is_fine(fdm) -> None:
    (f,) = check_small_features(part(_block_with_hole(0.6)), fdm)
    assert f.severity == "warning"
    assert check_small_features(part(_block_with_hole(3.0)), fdm) == []


def test_thin_pin_is_a_small_feature_but_a_cone_tip_is_not(fdm) -> None:
    pin = trimesh.creation.cylinder(radius=0.15, height=10, sections=24)
    pin.apply_translation((5, 5, 5))
    (f,) = check_small_features(part(pin), fdm)
    assert f.rule == "min_feature" and f.severity == "error" and abs(f.measured - 0.3) < 0.02
    cone = trimesh.creation.cone(radius=10, height=20, sections=64)
    assert check_small_features(part(cone), fdm) == []
