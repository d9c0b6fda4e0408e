"""M73 progress, acceleration commands and cooling by layer time, checked against the
program's own estimate (read back and timed independently)."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from gcodekit import DIALECTS, KLIPPER, MARLIN, RRF, cube, cylinder, machine, material

from fabthread.errors import GcodeError
from fabthread.gcode.emit import emit_gcode
from fabthread.gcode.estimate import move_times
from fabthread.gcode.reader import read_gcode, summarize
from fabthread.gcode.timing import Cooling
from fabthread.model import Dialect, Toolpath


def _stats(text: str, m):
    return summarize(read_gcode(text), filament_diameter_mm=1.75, density_g_cm3=1.24,
                     limits=m.limits)  # fmt: skip


def _elapsed_before_lines(text: str, m) -> tuple[np.ndarray, float]:
    """(seconds spent before each line (1-based, index 0 unused), total) from the reader."""
    moves = read_gcode(text)
    t = move_times(moves, m.limits)
    per_line = np.bincount(moves.line, weights=t, minlength=text.count("\n") + 2)
    before = np.concatenate([[0.0], np.cumsum(per_line)[:-1]])
    return before, float(t.sum()) + moves.dwell_s


def _slowed(tp: Toolpath, factors: list[float]) -> Toolpath:
    """tp with layer k's feeds multiplied by factors[k]."""
    feed = tp.feed_mm_min * np.asarray(factors)[tp.layer]
    return dataclasses.replace(tp, feed_mm_min=feed)


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_progress_at_every_layer_matches_the_estimate(name: str) -> None:
    m = machine()
    tp = _slowed(cube(layers=8, objects=2), [1, 0.2, 0.2, 1, 0.1, 1, 1, 0.3])
    text = emit_gcode(tp, m, material(), DIALECTS[name])
    lines = text.split("\n")
    m73 = [(no, line) for no, line in enumerate(lines, start=1) if line.startswith("M73 ")]
    assert len(m73) == tp.layer_count + 1
    before, total = _elapsed_before_lines(text, m)
    assert total == pytest.approx(_stats(text, m).time_s, rel=1e-12)
    assert total > 5 * 60  # long enough for minutes to mean something
    layer_lines = [no for no, line in enumerate(lines, start=1) if line == ";LAYER_CHANGE"]
    prev_p = -1
    for k, (no, line) in enumerate(m73):
        p, r = (int(v) for v in re.fullmatch(r"M73 P(\d+) R(\d+)", line).groups())
        if k < tp.layer_count:
            assert layer_lines[k] < no < (layer_lines + [10**9])[k + 1]
        assert p >= prev_p
        prev_p = p
        done = before[no]
        assert abs(p - 100 * done / total) <= 1
        assert abs(r * 60 - (total - done)) <= 30
    assert m73[-1][1] == "M73 P100 R0" and lines[m73[-1][0]] == "; end program"


def test_no_progress_when_asked() -> None:
    text = emit_gcode(cube(layers=3), machine(), material(), MARLIN, progress=False)
    assert "M73" not in text


def _accel_of_moves(text: str) -> list[tuple[str, float | None]]:
    """('travel' | 'print', the last commanded acceleration) for every XY move of the body."""
    out, acc = [], None
    body = text.split(";LAYER_CHANGE", 1)[1].split("; end program")[0]
    for line in body.split("\n"):
        if line.startswith("M204 "):
            values = {float(v) for v in re.findall(r"[PST](\d+(?:\.\d+)?)", line)}
            assert len(values) == 1  # the dialects write the same value to every word
            acc = values.pop()
        elif line.startswith(("G0 X", "G1 X", "G2 ", "G3 ")):
            out.append(("print" if " E" in line else "travel", acc))
    return out


@pytest.mark.parametrize("dialect", [MARLIN, KLIPPER, RRF], ids=lambda d: d.name)
def test_acceleration_commands_follow_print_and_travel(dialect: Dialect) -> None:
    m = machine()  # print 2500, travel 4000 mm/s²
    text = emit_gcode(cube(layers=3, objects=2), m, material(), dialect)
    for kind, acc in _accel_of_moves(text):
        assert acc == (2500 if kind == "print" else 4000)
    commands = [ln for ln in text.split("\n") if ln.startswith("M204 ")]
    assert all(a != b for a, b in zip(commands, commands[1:], strict=False))  # only on change
    assert len(commands) < 0.5 * text.count("\n")
    # the reader honours them: the same estimate as with the profile's values alone
    plain = emit_gcode(cube(layers=3, objects=2), m, material(), dialect, accelerations=False)
    assert "M204" not in plain.split(";LAYER_CHANGE", 1)[1]
    assert _stats(text, m).time_s == pytest.approx(_stats(plain, m).time_s, rel=1e-9)


def test_no_acceleration_commands_when_print_equals_travel() -> None:
    m = machine()
    m = dataclasses.replace(m, limits=dataclasses.replace(m.limits, travel_accel_mm_s2=2500))
    text = emit_gcode(cube(layers=2), m, material(), MARLIN)
    assert "M204" not in text
    no_cmd = Dialect(name="plain", set_accel="")
    assert "M204" not in emit_gcode(cube(layers=2), machine(), material(), no_cmd)


def _fan_by_layer(text: str, scale: float) -> list[float]:
    """Fan % in effect during each layer."""
    out, fan = [], 0.0
    for block in text.split(";LAYER_CHANGE")[1:]:
        for line in block.split("\n"):
            if line.startswith("G"):
                break
            if m := re.fullmatch(r"M106 S([\d.]+)", line):
                fan = float(m.group(1)) / scale * 100
            elif line in ("M107",):
                fan = 0.0
        out.append(fan)
    return out


def _layer_times(text: str, m) -> np.ndarray:
    before, _ = _elapsed_before_lines(text, m)
    lines = text.split("\n")
    marks = [no for no, line in enumerate(lines, start=1) if line == ";LAYER_CHANGE"]
    marks.append(lines.index("; end program") + 1)
    return np.array([before[b] - before[a] for a, b in zip(marks, marks[1:], strict=False)])


@pytest.mark.parametrize("dialect", [MARLIN, RRF], ids=lambda d: d.name)
def test_fan_follows_layer_time(dialect: Dialect) -> None:
    m = machine()
    mat = material(fan_min_pct=20, fan_max_pct=90, disable_fan_first_layers=1)
    tp = _slowed(cylinder(layers=7), [1, 1, 0.05, 0.2, 0.5, 0.02, 1])
    text = emit_gcode(tp, m, mat, dialect, fan_full_below_s=8.0, fan_min_above_s=40.0)
    fans = _fan_by_layer(text, dialect.fan_scale)
    times = _layer_times(text, m)
    assert times.min() < 8.0 < 40.0 < times.max()  # the toolpath spans the whole range
    cooling = Cooling(20, 90, 8.0, 40.0)
    assert fans[0] == 0  # the first layer stays without fan
    for fan, t in zip(fans[1:], times[1:], strict=True):
        assert fan == pytest.approx(cooling.pct(float(t)), abs=0.5)  # pwm rounding
    # monotone: a longer layer never gets more fan
    order = np.argsort(times[1:])
    assert (np.diff(np.array(fans[1:])[order]) <= 1e-9).all()


def test_constant_fan_needs_no_timing_and_stays_set_once() -> None:
    text = emit_gcode(cube(layers=4), machine(), material(), MARLIN, progress=False)
    assert sum(line.startswith("M106") for line in text.split("\n")) == 1


def test_cooling_curve_and_bad_times() -> None:
    c = Cooling(min_pct=30, max_pct=50, full_below_s=10, min_above_s=30)
    assert [c.pct(t) for t in (None, 5, 10, 20, 30, 100)] == [50, 50, 50, 40, 30, 30]
    with pytest.raises(GcodeError, match="fan_full_below_s=9 and fan_min_above_s=5"):
        emit_gcode(cube(layers=1), machine(), material(), MARLIN, fan_full_below_s=9,
                   fan_min_above_s=5)  # fmt: skip
