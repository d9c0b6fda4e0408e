from __future__ import annotations

import trimesh
from checkkit import box, part, union

from fabthread.check.limits import CheckLimits
from fabthread.check.overhang import check_overhangs


def _t_shape() -> trimesh.Trimesh:
    return union(box((15, 0, 0), (25, 10, 20)), box((0, 0, 20), (40, 10, 25)))


def _bridge(gap: float) -> trimesh.Trimesh:
    return union(
        box((0, 0, 0), (10, 10, 20)),
        box((10 + gap, 0, 0), (20 + gap, 10, 20)),
        box((0, 0, 20), (20 + gap, 10, 25)),
    )


def test_box_on_the_bed_has_no_overhang(fdm) -> None:
    assert check_overhangs(part(box((0, 0, 0), (20, 20, 20))), fdm) == []


def test_t_shape_arms_need_support(fdm) -> None:
    (f,) = check_overhangs(part(_t_shape()), fdm)
    assert f.rule == "overhang" and f.severity == "warning"
    assert abs(f.measured - 300) < 1e-6  # two 15 x 10 arm undersides
    xs = sorted(p[0] for p in f.location)
    assert abs(xs[0] - 7.5) < 1e-6 and abs(xs[1] - 32.5) < 1e-6
    assert all(abs(p[2] - 20) < 1e-6 for p in f.location)


def test_long_bridge_is_a_warning_with_its_span(fdm) -> None:
    (f,) = check_overhangs(part(_bridge(20)), fdm)
    assert f.rule == "bridge" and f.severity == "warning"
    assert abs(f.measured - 20) < 0.6 and f.limit == 10  # 25 x 0.4 mm nozzle
    assert 10 < f.location[0][0] < 30


def test_short_bridge_is_fine_and_not_an_overhang(fdm) -> None:
    assert check_overhangs(part(_bridge(8)), fdm) == []


def test_bridge_limit_comes_from_the_limits(fdm) -> None:
    limits = CheckLimits.from_profiles(fdm, overrides={"max_bridge_mm": 25})
    assert check_overhangs(part(_bridge(20)), fdm, limits=limits) == []


def test_45_degree_slope_needs_no_support_but_a_30_degree_one_does(fdm) -> None:
    def ramp(deg: float) -> trimesh.Trimesh:
        # a wedge standing on its thin edge strip: underside tilted `deg` from horizontal
        import math

        run = 10 / math.tan(math.radians(deg))
        prism = trimesh.creation.extrude_triangle = None  # noqa: F841 - keep namespace clean
        from shapely.geometry import Polygon

        profile = Polygon([(0, 0), (2, 0), (2 + run, 10), (0, 10)])
        wedge = trimesh.creation.extrude_polygon(profile, 10)  # profile in XY, extruded in Z
        wedge.apply_transform(trimesh.transformations.rotation_matrix(1.5707963, (1, 0, 0)))
        wedge.apply_translation(-wedge.bounds[0])
        return wedge

    assert "overhang" not in {f.rule for f in check_overhangs(part(ramp(45)), fdm)}
    assert "overhang" in {f.rule for f in check_overhangs(part(ramp(30)), fdm)}
