from __future__ import annotations

from checkkit import box, machine, part

from fabthread.check.limits import CheckLimits
from fabthread.check.volume import check_build_volume, check_stock_size

NO_SKIRT = {"bed_margin_mm": 0.0}


def _limits(m, **kw) -> CheckLimits:
    return CheckLimits.from_profiles(m, overrides={**NO_SKIRT, **kw})


def test_box_that_fits_has_no_finding(fdm) -> None:
    assert check_build_volume(part(box((0, 0, 0), (100, 100, 100))), fdm) == []


def test_box_too_long_that_fits_turned_about_z(fdm) -> None:
    # 240 x 220 x 10 on a 250 x 210 bed: Y too long, turned 90° it is 220 x 240: no; but
    # 200 x 240 turned is 240 x 200: yes.
    (f,) = check_build_volume(part(box((0, 0, 0), (200, 240, 10))), fdm, limits=_limits(fdm))
    # a warning for FDM: `fabthread make` turns the part about Z itself
    assert f.severity == "warning" and f.rule == "build_volume"
    assert f.measured == 240 and f.limit == 210
    assert "turned 90° about Z" in f.message and "turned 90° about Z" in f.fix


def test_box_too_tall_that_fits_lying_down(fdm) -> None:
    (f,) = check_build_volume(part(box((0, 0, 0), (20, 30, 240))), fdm, limits=_limits(fdm))
    assert f.severity == "error"  # lying it down changes overhangs: a person decides
    assert f.measured == 240 and f.limit == 220
    assert "about Y" in f.fix or "about X" in f.fix


def test_box_too_large_in_every_orientation(fdm) -> None:
    (f,) = check_build_volume(part(box((0, 0, 0), (400, 10, 10))), fdm, limits=_limits(fdm))
    assert "any orientation" in f.message
    assert f.measured == 400 and f.limit == 250


def test_long_bar_fits_diagonally(fdm) -> None:
    # 300 mm does not fit along any axis of 250 x 210 x 220, but does across the diagonal.
    (f,) = check_build_volume(part(box((0, 0, 0), (300, 10, 10))), fdm, limits=_limits(fdm))
    assert "about Z" in f.fix and "no axis-aligned" in f.message


def test_skirt_margin_is_a_warning_when_the_part_itself_fits(fdm) -> None:
    (f,) = check_build_volume(part(box((0, 0, 0), (248, 100, 10))), fdm)
    assert f.severity == "warning" and "skirt" in f.message


def test_cnc_stock_adds_a_tool_diameter_per_side() -> None:
    cnc = machine("cnc", size=(300, 200, 50))
    assert check_stock_size(part(box((0, 0, 0), (296, 195, 40))), cnc) != []  # 296+2*3.175 > 300
    (f,) = check_stock_size(part(box((0, 0, 0), (296, 150, 40))), cnc)
    assert f.severity == "error" and abs(f.measured - (296 + 2 * 3.175)) < 1e-9
    assert check_stock_size(part(box((0, 0, 0), (290, 150, 40))), cnc) == []
