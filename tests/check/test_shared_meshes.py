"""The checks on real meshes made outside this project (/work/shared/meshes, PrusaSlicer's
shapes): known facts about each file must come out, and every run must stay bounded."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from checkkit import machine

from fabthread.check import check_part
from fabthread.cli.check_cmd import _load_part

MESHES = Path("/work/shared/meshes")
SHAPES = Path("/usr/share/PrusaSlicer/shapes")
MK4 = machine("fdm", size=(250.0, 210.0, 220.0))
VORON = machine("fdm", size=(350.0, 350.0, 340.0))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not MESHES.is_dir(), reason="shared meshes not present"),
]


def _check(name: str, units: str = "mm", m=MK4):
    path = MESHES / name if (MESHES / name).exists() else SHAPES / name
    t0 = time.perf_counter()
    found = check_part(_load_part(path, units, False), m)
    return found, time.perf_counter() - t0


def test_benchy_is_open_and_says_so_in_bounded_time() -> None:
    found, seconds = _check("3DBenchy.3mf")
    assert "open_edges" in {f.rule for f in found.errors}
    assert seconds < 60


def test_cube_is_clean() -> None:
    found, _ = _check("20mm-xyz-cube.stl")
    assert not found.has_errors and not found.warnings


def test_tray_is_too_big_for_the_mk4_and_the_voron() -> None:
    for m in (MK4, VORON):
        found, _ = _check("1002_tray_bottom.stl", m=m)
        (f,) = found.by_rule("build_volume")
        assert f.severity == "error" and "any orientation" in f.message


def test_inch_parts_fit_and_are_closed() -> None:
    for name in ("featuretype.stl", "idler_riser.stl", "angle_block.stl"):
        found, _ = _check(name, "inch")
        assert not {"open_edges", "build_volume", "inside_out"} & {f.rule for f in found}


@pytest.mark.skipif(not SHAPES.is_dir(), reason="PrusaSlicer shapes not installed")
def test_prusaslicer_shapes() -> None:
    sphere, _ = _check("sphere.stl")
    assert {f.rule for f in sphere.warnings} == {"overhang"}
    box, _ = _check("box.stl")
    assert len(box) == 0
    disk, _ = _check("helper_disk.stl")  # a 0.2 mm mouse-ear disk: thinner than a nozzle
    assert "min_wall" in {f.rule for f in disk.errors}
