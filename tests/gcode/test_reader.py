"""The reader on hand-written G-code, and summarize()."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fabthread.errors import GcodeError
from fabthread.gcode.moves import GcodeKind
from fabthread.gcode.reader import read_gcode, summarize

K = GcodeKind


def test_absolute_e_with_g92_resets() -> None:
    moves = read_gcode(
        "M82\nG92 E0\nG1 X10 Y0 E1.5 F1200\nG1 X20 E3\nG1 E2.2 F2400\nG1 E3\nG92 E0\nG1 X30 E0.5\n"
    )
    np.testing.assert_allclose(moves.e_mm, [1.5, 1.5, -0.8, 0.8, 0.5])
    assert list(moves.kind) == [K.EXTRUDE, K.EXTRUDE, K.RETRACT, K.UNRETRACT, K.EXTRUDE]
    np.testing.assert_allclose(moves.feed_mm_min, [1200, 1200, 2400, 2400, 2400])
    assert moves.e_mm.sum() == pytest.approx(3.5)


def test_relative_e_and_switching_modes() -> None:
    moves = read_gcode("M83\nG1 X10 E1\nG1 X20 E1\nM82\nG1 X30 E3\n")
    np.testing.assert_allclose(moves.e_mm, [1, 1, 1])  # absolute 3 after a running total of 2


def test_relative_moves_g91() -> None:
    moves = read_gcode("G90\nG1 X5 Y5 Z1\nG91\nG1 X10\nG1 Y-2 Z0.5\nG1 E2\nG90\nG1 X1\n")
    np.testing.assert_allclose(
        moves.xyz_mm, [[5, 5, 1], [15, 5, 1], [15, 3, 1.5], [15, 3, 1.5], [1, 3, 1.5]]
    )
    np.testing.assert_allclose(moves.start_mm[1], [5, 5, 1])
    assert moves.e_mm[3] == 2 and moves.kind[3] == K.UNRETRACT  # G91 makes E relative too
    np.testing.assert_allclose(moves.length_mm[:3], [math.sqrt(51), 10, math.sqrt(4.25)])


def test_g92_xyz_offsets_and_g28_home() -> None:
    moves = read_gcode("G1 X50 Y50\nG92 X0 Y0\nG1 X10 Y10\nG28 X\nG1 Y0\nG28\nG1 Z5\n")
    np.testing.assert_allclose(moves.xyz_mm, [[50, 50, 0], [60, 60, 0], [0, 50, 0], [0, 0, 5]])


def test_inch_units() -> None:
    moves = read_gcode("G20\nG1 X1 F10\nG21\nG1 X30\n")
    np.testing.assert_allclose(moves.xyz_mm[:, 0], [25.4, 30])
    assert moves.feed_mm_min[0] == pytest.approx(254)


@pytest.mark.parametrize(
    ("code", "sweep", "centre"),
    [
        ("G3 X0 Y10 I-10 J0", math.pi / 2, (0, 0)),  # CCW quarter
        ("G2 X0 Y10 I-10 J0", 3 * math.pi / 2, (0, 0)),  # CW the long way round
        ("G3 X0 Y10 R10", math.pi / 2, (0, 0)),  # R: the short arc
        ("G3 X0 Y10 R-10", 3 * math.pi / 2, (10, 10)),  # negative R: the long arc
        ("G2 X0 Y10 R10", math.pi / 2, (10, 10)),
        ("G2 X10 Y0 I-10 J0", 2 * math.pi, (0, 0)),  # full circle
    ],
)
def test_arc_lengths(code: str, sweep: float, centre: tuple[float, float]) -> None:
    moves = read_gcode(f"G1 X10 Y0 Z0.2\n{code} E1\n")
    assert moves.length_mm[1] == pytest.approx(10 * sweep, rel=1e-9)
    assert moves.arc_radius_mm[1] == pytest.approx(10)
    assert moves.kind[1] == K.EXTRUDE
    # tangents are unit vectors perpendicular to the radius, turning the arc's way
    for d, p in ((moves.dir_start[1], moves.start_mm[1]), (moves.dir_end[1], moves.xyz_mm[1])):
        radius = np.array([p[0] - centre[0], p[1] - centre[1], 0.0])
        assert np.linalg.norm(d) == pytest.approx(1)
        assert abs(d @ radius) < 1e-9
        turn = radius[0] * d[1] - radius[1] * d[0]  # z of radius x tangent: > 0 for CCW
        assert (turn > 0) == code.startswith("G3")


def test_helical_arc() -> None:
    moves = read_gcode("G1 X10 Y0\nG3 X-10 Y0 Z3 I-10 J0\n")
    assert moves.length_mm[1] == pytest.approx(math.hypot(10 * math.pi, 3))


def test_comments_line_numbers_checksums_and_case() -> None:
    text = (
        "; a comment G1 X99\n"
        "N10 G1 X10 Y10 F600*45\n"
        "G1 (inline comment X99) X20 ; trailing\n"
        "g1 x30 y20\n"
        "G1X40Y25E0.5\n"
        "\n"
        "PRINT_START BED=60 EXTRUDER=215\n"
        "EXCLUDE_OBJECT_START NAME=part_1\n"
        'M862.3 P "MK4"\n'
        "M117 Printing 1.2.3\n"
        "M84 X Y E\n"
        "T0\n"
    )
    moves = read_gcode(text)
    np.testing.assert_allclose(moves.xyz_mm[:, :2], [[10, 10], [20, 10], [30, 20], [40, 25]])
    assert list(moves.line) == [2, 3, 4, 5]
    assert moves.e_mm.sum() == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("G1 X1\nG1 X1.2.3\n", 2),
        ("G1 X-\n", 1),
        ("G28\nG90\nG1 Xabc\n", 3),
        ("G1 X10\nG1 Y5 E\n", 2),
        ("G1 X10 Y5 #\n", 1),
        ("G1 X10\nG2 X20 Y10\n", 2),  # arc without a centre
    ],
)
def test_malformed_input_names_the_line(text: str, line: int) -> None:
    with pytest.raises(GcodeError, match=rf"line {line}: "):
        read_gcode(text)


def test_layers_from_comments() -> None:
    text = (
        "G1 X5 Y5 Z0.3 E2 ; purge\n"
        ";LAYER_CHANGE\n;Z:0.2\nG1 Z0.2\nG1 X10 E1\n"
        ";LAYER_CHANGE\n;Z:0.4\nG1 Z0.4\nG1 X20 E1\nG1 Z0.6\n"
    )
    moves = read_gcode(text)
    assert moves.layer_count == 2
    assert list(moves.layer) == [-1, 0, 0, 1, 1, 1]


def test_layers_from_cura_comments() -> None:
    moves = read_gcode(";LAYER:0\nG1 X10 Z0.2 E1\n;LAYER:1\nG1 X20 Z0.4 E1\n")
    assert moves.layer_count == 2 and list(moves.layer) == [0, 1]


def test_layers_from_z_without_comments() -> None:
    text = (
        "M83\nG1 Z0.2\nG1 X10 E1\nG1 X20 E1\nG1 Z0.4\nG1 X10 E1\nG1 Z1.4\nG1 X5\n"
        "G1 Z0.6\nG1 X0 E1\n"
    )
    moves = read_gcode(text)
    assert moves.layer_count == 3
    assert list(moves.layer) == [-1, 0, 0, 0, 1, 1, 1, 1, 2]


def test_dwell() -> None:
    assert read_gcode("G4 P500\nG4 S2\nG4\n").dwell_s == pytest.approx(2.5)


def test_summarize_filament_mass_bounds_and_feed() -> None:
    text = (
        "M83\nG1 X5 Y5 Z0.2 F9000\nG1 X105 Y5 E1000 F1800\nG1 E-0.8 F2100\n"
        "G0 X150 Y120 F12000\nG1 E0.8\nG1 X150 Y130 E0.5 F1800\n"
    )
    stats = summarize(read_gcode(text), filament_diameter_mm=1.75, density_g_cm3=1.24, limits=None)
    assert stats.moves == 6
    assert stats.filament_mm == pytest.approx(1000.5)
    assert stats.filament_g == pytest.approx(1000.5 * math.pi * 0.875**2 * 1.24 / 1000)
    assert stats.min_xyz_mm == (5, 5, 0.2) and stats.max_xyz_mm == (150, 130, 0.2)
    assert stats.max_feed_mm_min == 12000
    assert stats.time_s > 100 / 30  # at least the long extrusion at 30 mm/s


def test_empty_program() -> None:
    moves = read_gcode("")
    stats = summarize(moves, filament_diameter_mm=1.75, density_g_cm3=1.24, limits=None)
    assert len(moves) == 0 and stats.moves == 0 and stats.time_s == 0 and stats.layers == 0
