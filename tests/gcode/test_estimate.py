"""Time estimates on programs whose timing is known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gcodekit import DIALECTS, cube, machine, material

from fabthread.gcode.emit import emit_gcode
from fabthread.gcode.estimate import move_times
from fabthread.gcode.reader import read_gcode, summarize
from fabthread.model import MotionLimits

BIG = 1e9


def limits(accel: float = 1000.0, scv: float = 5.0, **kw) -> MotionLimits:
    base = dict(
        max_feed_x_mm_s=BIG,
        max_feed_y_mm_s=BIG,
        max_feed_z_mm_s=BIG,
        max_feed_e_mm_s=BIG,
        max_accel_x_mm_s2=BIG,
        max_accel_y_mm_s2=BIG,
        max_accel_z_mm_s2=BIG,
        max_accel_e_mm_s2=BIG,
        print_accel_mm_s2=accel,
        travel_accel_mm_s2=accel,
        square_corner_velocity_mm_s=scv,
    )
    base.update(kw)
    return MotionLimits(**base)


def trapezoid(length: float, v: float, a: float) -> float:
    """Rest to rest: accelerate to v (or as far as the length allows), decelerate."""
    d_acc = v * v / (2 * a)
    if 2 * d_acc <= length:
        return 2 * v / a + (length - 2 * d_acc) / v
    return 2 * math.sqrt(length / a)


def total(text: str, lim: MotionLimits) -> float:
    return float(move_times(read_gcode(text), lim).sum())


def test_single_move_takes_its_trapezoid() -> None:
    # 100 mm at 100 mm/s, 1000 mm/s²: 0.1 s and 5 mm to speed up, 90 mm cruise, 0.1 s down
    assert total("G1 X100 F6000\n", limits()) == pytest.approx(1.1, rel=1e-12)
    assert trapezoid(100, 100, 1000) == pytest.approx(1.1)
    # too short to reach the feed: a triangle
    assert total("G1 X4 F6000\n", limits()) == pytest.approx(2 * math.sqrt(4 / 1000))


def test_collinear_pieces_take_as_long_as_the_whole_line() -> None:
    pieces = "".join(f"G1 X{k} F6000\n" for k in range(1, 101))
    assert total(pieces, limits()) == pytest.approx(1.1, rel=1e-9)
    diag = "".join(f"G1 X{k * 0.6:.3f} Y{k * 0.8:.3f} F6000\n" for k in range(1, 101))
    assert total(diag, limits()) == pytest.approx(1.1, rel=1e-6)


def test_square_corner_is_taken_at_square_corner_velocity() -> None:
    lim = limits(accel=1000.0, scv=5.0)
    t = total("G1 X100 F6000\nG1 Y100\n", lim)
    # each leg: from rest (or from 5 mm/s) to 100 mm/s and back down to 5 mm/s (or rest)
    d = (100**2 - 5**2) / 2000
    leg = 0.1 + (100 - 5) / 1000 + (100 - 5 - d) / 100
    assert t == pytest.approx(2 * leg, rel=1e-12)
    reverse = total("G1 X100 F6000\nG1 X0\n", lim)  # a reversal stops
    assert reverse == pytest.approx(2.2, rel=1e-12)


def test_per_axis_limits_cap_speed_and_acceleration() -> None:
    lim = limits(accel=1000.0, max_feed_z_mm_s=10.0, max_accel_z_mm_s2=100.0)
    assert total("G1 Z20 F6000\n", lim) == pytest.approx(trapezoid(20, 10, 100))
    # a diagonal in X/Z: Z's share of the speed and acceleration is 1/sqrt(2)
    t = total("G1 X20 Z20 F6000\n", lim)
    s = math.sqrt(2)
    assert t == pytest.approx(trapezoid(20 * s, 10 * s, 100 * s))


def test_e_only_moves_use_their_own_feed_and_e_limits() -> None:
    lim = limits(max_feed_e_mm_s=30.0, max_accel_e_mm_s2=2500.0)
    assert total("M83\nG1 E-0.8 F2100\n", lim) == pytest.approx(trapezoid(0.8, 30, 2500))
    assert total("M83\nG1 E-5 F1200\n", lim) == pytest.approx(trapezoid(5, 20, 2500))


@pytest.mark.parametrize(
    ("command", "print_s", "travel_s"),
    [
        ("M204 S250", 250, 250),  # Marlin legacy / Klipper: both
        ("M204 P250 T4000", 250, 4000),  # Marlin, RRF: printing (with E) and travel moves
        ("SET_VELOCITY_LIMIT VELOCITY=500 ACCEL_TO_DECEL=50 ACCEL=250", 250, 250),  # Klipper
        ("M204 T250", 1000, 250),
    ],
)
def test_commanded_accelerations_are_honoured(command: str, print_s, travel_s) -> None:
    lim = limits(accel=1000.0, travel_accel_mm_s2=2000.0, max_accel_x_mm_s2=3000.0)
    text = f"M83\n{command}\nG1 X100 E1 F6000\nG1 X0 F6000\n"
    times = move_times(read_gcode(text), lim)
    # commanded values win over the profile's print/travel accelerations; the axis max caps
    assert times[0] == pytest.approx(trapezoid(100, 100, min(print_s, 3000)))
    assert times[1] == pytest.approx(trapezoid(100, 100, min(travel_s, 3000)))
    # without a command: the profile's values
    plain = move_times(read_gcode("M83\nG1 X100 E1 F6000\nG1 X0 F6000\n"), lim)
    assert plain[0] == pytest.approx(trapezoid(100, 100, 1000))
    assert plain[1] == pytest.approx(trapezoid(100, 100, 2000))


def test_arc_speed_is_capped_by_centripetal_acceleration() -> None:
    lim = limits(accel=1000.0)
    moves = read_gcode("G1 X10 F12000\nG2 X10 Y0 I-10 J0\n")
    t_circle = move_times(moves, lim)[1]
    # the full circle (r = 10 mm) may not run faster than sqrt(a r) = 100 mm/s, not 200
    assert 2 * math.pi * 10 / 100 < t_circle < 2 * math.pi * 10 / 100 + 0.2


def test_program_time_is_plausible() -> None:
    tp = cube(layers=5, objects=2)
    # without M204 commands in the program, so the limits' accelerations apply
    text = emit_gcode(
        tp, machine(start="", end=""), material(), DIALECTS["marlin"], accelerations=False
    )
    lim = machine().limits
    stats = summarize(read_gcode(text), filament_diameter_mm=1.75, density_g_cm3=1.24, limits=lim)
    moves = read_gcode(text)
    at_feed = float((moves.length_mm / (moves.feed_mm_min / 60.0)).sum())
    assert at_feed < stats.time_s < 3 * at_feed
    slower = summarize(
        moves, filament_diameter_mm=1.75, density_g_cm3=1.24, limits=limits(accel=100.0)
    )
    assert slower.time_s > stats.time_s
    assert np.isfinite(stats.time_s)


@pytest.mark.parametrize("dialect", ["marlin", "klipper", "rrf"])
def test_emitted_moves_are_the_programs_motion(dialect: str) -> None:
    # the pipeline summarizes the moves the emitter read back from its draft (without the
    # M73 and fan lines): they must measure exactly what reading the final program measures
    from fabthread.gcode.emit import emit_program

    tp = cube(layers=6, objects=2)
    m = machine()
    out = emit_program(tp, m, material(), DIALECTS[dialect], arc_tolerance_mm=0.02)
    assert "M73 P" in out.text and "M106" in out.text  # the lines the draft lacks
    kw = dict(filament_diameter_mm=1.75, density_g_cm3=1.24, limits=m.limits)
    again = read_gcode(out.text)
    assert summarize(out.moves, move_s=out.move_s, **kw) == summarize(again, **kw)
    for name in ("xyz_mm", "e_mm", "feed_mm_min", "kind", "layer"):
        assert np.array_equal(getattr(out.moves, name), getattr(again, name)), name
    with pytest.raises(ValueError, match="move_s has"):
        summarize(out.moves, move_s=out.move_s[:-1], **kw)
