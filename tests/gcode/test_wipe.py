"""Wipe: the emitter retracts while the nozzle moves back over what it just printed.

Properties of the G-code read back: each retraction keeps its length (split between an
in-place part and the wipe moves), the extruder never outruns the retraction speed during a
wipe, the filament total is what it was without wipes, and wipes stay on the printed path.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from gcodekit import MARLIN, body_mask, machine, material, toolpath_from_rows

from fabthread.gcode.emit import emit_gcode
from fabthread.gcode.moves import GcodeKind
from fabthread.gcode.reader import read_gcode, summarize
from fabthread.geom.mesh_io import load_mesh
from fabthread.geom.place import place_on_bed
from fabthread.model import MoveKind, Retraction
from fabthread.model.settings import SliceSettings

W, T, P = MoveKind.WIPE, MoveKind.TRAVEL, MoveKind.PERIMETER
R = Retraction(length_mm=0.8, speed_mm_s=35, deretract_speed_mm_s=20, min_travel_mm=1.5)


def _runs(kind: np.ndarray, which: int) -> list[np.ndarray]:
    """Index arrays of the runs of consecutive moves of one kind."""
    idx = np.flatnonzero(kind == which)
    return np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1) if len(idx) else []


def _line(x0: float, x1: float, wipe: list[float], feed: float = 12000.0) -> list[tuple]:
    """A travel, an extrusion along y = 10 from x0 to x1, wipe rows back to the x values in
    ``wipe``, a retracting travel away and one more extrusion."""
    rows = [(x0, 10, 0.2, 9000, T, 0, False, 0, -1), (x1, 10, 0.2, 1800, P, 1.0, False, 0, -1)]
    rows += [(x, 10, 0.2, feed, W, 0, False, 0, -1) for x in wipe]
    rows += [(60, 60, 0.2, 9000, T, 0, True, 0, -1), (70, 60, 0.2, 1800, P, 0.5, False, 0, -1)]
    return rows


def _emit(rows: list[tuple], r: Retraction = R) -> tuple[str, object]:
    text = emit_gcode(toolpath_from_rows(rows, [0.2]), machine(retraction=r), material(), MARLIN)
    return text, read_gcode(text)


def test_retraction_is_split_between_place_and_wipe() -> None:
    # 4 mm of wipe at 200 mm/s take 0.02 s: 0.7 mm at 35 mm/s; the other 0.1 mm in place
    text, m = _emit(_line(10, 30, [28, 26]))
    body = body_mask(text, m)
    ret = np.flatnonzero(body & (m.kind == GcodeKind.RETRACT))
    assert len(_runs(body & (m.kind == GcodeKind.RETRACT), True)) == 1
    in_place = ret[m.length_mm[ret] == 0]
    moving = ret[m.length_mm[ret] > 0]
    assert m.e_mm[in_place] == pytest.approx([-0.1])
    assert m.e_mm[moving] == pytest.approx([-0.35, -0.35])
    assert m.e_mm[ret].sum() == pytest.approx(-0.8, abs=1e-9)
    np.testing.assert_allclose(m.xyz_mm[moving, :2], [[28, 10], [26, 10]])
    np.testing.assert_allclose(m.feed_mm_min[moving], 12000)
    # in place first, then the wipe, then the travel, then the whole length back
    assert in_place[0] < moving[0] and moving[-1] + 1 < len(m)
    assert m.kind[moving[-1] + 1] == GcodeKind.TRAVEL
    unret = np.flatnonzero(body & (m.kind == GcodeKind.UNRETRACT))
    assert m.e_mm[unret] == pytest.approx([0.8])
    assert m.e_mm.sum() == pytest.approx(m.e_mm[m.kind == GcodeKind.EXTRUDE].sum())


def test_a_long_slow_wipe_takes_the_whole_retraction() -> None:
    text, m = _emit(_line(10, 30, [25, 20, 15], feed=3000.0))
    ret = np.flatnonzero(body_mask(text, m) & (m.kind == GcodeKind.RETRACT))
    assert (m.length_mm[ret] > 0).all()  # nothing in place
    # shares in proportion to time (equal 5 mm rows at one feed)
    assert m.e_mm[ret] == pytest.approx([-0.8 / 3] * 3, abs=2e-5)
    assert m.e_mm[ret].sum() == pytest.approx(-0.8, abs=1e-9)


@pytest.mark.parametrize("feed", [600.0, 3000.0, 12000.0, 30000.0])
def test_wipe_never_outruns_the_retraction_speed(feed: float) -> None:
    text, m = _emit(_line(10, 40, [36, 33, 31, 30.5], feed=feed))
    moving = np.flatnonzero((m.kind == GcodeKind.RETRACT) & (m.length_mm > 0))
    seconds = m.length_mm[moving] / m.feed_mm_min[moving] * 60.0
    assert (-m.e_mm[moving] <= R.speed_mm_s * seconds + 2e-5).all()
    ret = body_mask(text, m) & (m.kind == GcodeKind.RETRACT)
    assert m.e_mm[ret].sum() == pytest.approx(-0.8, abs=1e-9)


def test_wipe_without_retraction_is_a_plain_move() -> None:
    rows = _line(10, 30, [27])
    rows[3] = (*rows[3][:6], False, *rows[3][7:])  # the travel does not retract
    text, m = _emit(rows)
    assert not (body_mask(text, m) & (m.kind == GcodeKind.RETRACT)).any()
    assert "G1 X27 Y10 F12000\n" in text
    # and with no retraction length, a retracting travel's wipe moves without E either
    text, m = _emit(_line(10, 30, [27]), Retraction(length_mm=0.0, speed_mm_s=35))
    assert "G1 X27 Y10 F12000\n" in text


def test_wipe_with_z_hop_hops_after_the_wipe() -> None:
    r = Retraction(length_mm=0.8, speed_mm_s=35, z_hop_mm=0.4)
    text, m = _emit(_line(10, 30, [26]), r)
    moving = np.flatnonzero((m.kind == GcodeKind.RETRACT) & (m.length_mm > 0))
    (k,) = moving
    assert m.xyz_mm[k, 2] == pytest.approx(0.2)  # wiping at the layer's height
    (unret,) = np.flatnonzero(body_mask(text, m) & (m.kind == GcodeKind.UNRETRACT))
    assert m.xyz_mm[k + 1 : unret, 2].max() == pytest.approx(0.6)
    assert m.kind[k + 1] == GcodeKind.TRAVEL and m.length_mm[k + 1] == pytest.approx(0.4)


@pytest.fixture(scope="module")
def cube_slices():
    from fabthread.slice.slicer import slice_part

    part = place_on_bed(load_mesh(Path("/work/shared/meshes/20mm-xyz-cube.stl")), 200.0, 180.0)
    # many retractions to wipe before; no cooling slow-down (it would slow the wipes too)
    base = SliceSettings(avoid_crossing_perimeters=False, min_layer_time_s=0)
    plain = slice_part(part, base, workers=1)
    wiped = slice_part(part, replace(base, wipe_mm=2.0), workers=1)
    return plain, wiped


def test_sliced_wipes_keep_the_filament_and_the_retractions(cube_slices) -> None:
    plain, wiped = cube_slices
    assert (wiped.kind == MoveKind.WIPE).any() and not (plain.kind == MoveKind.WIPE).any()
    # wipes only add rows: same extrusions, same retracting travels
    ext = wiped.kind != MoveKind.WIPE
    np.testing.assert_array_equal(wiped.extrude_mm3[ext], plain.extrude_mm3)
    assert wiped.retract.sum() == plain.retract.sum()
    assert (wiped.extrude_mm3[~ext] == 0).all() and not wiped.retract[~ext].any()
    stats = []
    for tp in (plain, wiped):
        text = emit_gcode(tp, machine(retraction=R), material(), MARLIN, thumbnails=False)
        m = read_gcode(text)
        body = body_mask(text, m)
        runs = _runs(body & (m.kind == GcodeKind.RETRACT), True)
        assert len(runs) == tp.retract.sum()
        for run in runs:
            assert m.e_mm[run].sum() == pytest.approx(-0.8, abs=1e-9)
        unret = body & (m.kind == GcodeKind.UNRETRACT) & (np.abs(m.e_mm - 0.8) < 1e-9)
        assert unret.sum() == tp.retract.sum()
        stats.append(summarize(m, filament_diameter_mm=1.75, density_g_cm3=1.24, limits=None))
    assert stats[1].filament_mm == pytest.approx(stats[0].filament_mm, abs=1e-4)
    assert stats[1].max_xyz_mm == stats[0].max_xyz_mm and stats[1].min_xyz_mm == stats[0].min_xyz_mm


def test_sliced_wipes_run_back_over_the_last_path(cube_slices) -> None:
    _, tp = cube_slices
    wipe = np.flatnonzero(tp.kind == MoveKind.WIPE)
    xy = tp.xyz_mm[:, :2]
    starts = np.vstack([xy[:1], xy[:-1]])
    first = wipe[np.r_[True, np.diff(wipe) > 1]]
    for i in wipe:
        # the extrusion the wipe run follows, and the path it belongs to: the rows before
        k = first[np.searchsorted(first, i, side="right") - 1] - 1
        assert tp.kind[k] in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
        lo = max(0, k - 40)
        seg_a, seg_b = starts[lo : k + 1], xy[lo : k + 1]
        ext = np.isin(tp.kind[lo : k + 1], list(range(1, 11)))
        d = _point_segment_distance(xy[i], seg_a[ext], seg_b[ext])
        assert d.min() < 1e-6, f"wipe row {i} leaves the path it wipes"
        assert tp.feed_mm_min[i] == pytest.approx(0.8 * 150.0 * 60.0)
    # no longer than asked: a run covers at most wipe_mm
    for run in _runs(tp.kind, MoveKind.WIPE):
        length = np.hypot(*(xy[run] - starts[run]).T).sum()
        assert length <= 2.0 + 1e-9


def _point_segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    t = np.clip(((p - a) * ab).sum(1) / np.maximum((ab * ab).sum(1), 1e-18), 0.0, 1.0)
    return np.hypot(*(a + t[:, None] * ab - p).T)
