"""The benchmark's fidelity scorer (bench/fidelity.py) on synthetic layers and programs."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh
from shapely.geometry import box

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import fidelity  # noqa: E402

from fabthread.gcode.reader import read_gcode  # noqa: E402
from fabthread.geom.mesh_io import part_from_trimesh  # noqa: E402

W = 0.45
S = 22 * W  # a square side that a dense hatch fills exactly (9.9 mm)


def hatch(x0: float, y0: float, size: float, spacing: float) -> np.ndarray:
    """Horizontal lines filling [x0, x0+size]² with their centres inset by W/2: (k, 2, 2)."""
    ys = np.arange(y0 + W / 2, y0 + size - W / 2 + 1e-9, spacing)
    return np.array([[[x0 + W / 2, y], [x0 + size - W / 2, y]] for y in ys])


def score(segments: np.ndarray, section) -> fidelity.LayerScore:
    return fidelity.layer_score(fidelity.deposit_region(segments, W), section)


def test_dense_hatch_covers_the_square_without_overflow() -> None:
    s = score(hatch(0, 0, S, W), box(0, 0, S, S))
    # Only the square corners of line ends are missing (round caps): 1 % here.
    assert s.covered_mm2 / s.section_mm2 == pytest.approx(1.0, abs=0.015)
    assert s.ring_covered_mm2 / s.ring_mm2 == pytest.approx(1.0, abs=0.03)  # same loss, in the ring
    assert s.overflow_mm2 / s.section_mm2 < 0.005


def test_shifted_fill_overflows_and_loses_coverage() -> None:
    s = score(hatch(1, 0, S, W), box(0, 0, S, S))  # 1 mm too far right
    assert s.overflow_mm2 / s.section_mm2 == pytest.approx(1 / S, abs=0.01)
    assert s.covered_mm2 / s.section_mm2 == pytest.approx(1 - 1 / S, abs=0.01)


def test_sparse_fill_covers_less() -> None:
    s = score(hatch(0, 0, S, 4 * W), box(0, 0, S, S))  # every fourth line
    assert 0.2 < s.covered_mm2 / s.section_mm2 < 0.3
    assert s.overflow_mm2 / s.section_mm2 < 0.005


def test_chained_and_separate_segments_give_the_same_deposit() -> None:
    pts = np.array([[0, 0], [5, 0], [5, 5], [0, 5], [0, 0]], dtype=float)
    chained = np.stack([pts[:-1], pts[1:]], axis=1)
    separate = chained[[0, 2, 1, 3]]  # no shared ends in file order
    a = fidelity.deposit_region(chained, W)
    b = fidelity.deposit_region(separate, W)
    assert a.symmetric_difference(b).area < 1e-6 * a.area


def program(layers: list[np.ndarray], layer_mm: float, shift: tuple[float, float]) -> str:
    """Relative-E G-code for the given XY segments per layer, translated by ``shift``."""
    out = ["G90", "M83"]
    for i, segs in enumerate(layers):
        z = (i + 1) * layer_mm
        out.append(f";LAYER_CHANGE\nG0 Z{z:.3f}")
        for (x0, y0), (x1, y1) in segs:
            out.append(f"G0 X{x0 + shift[0]:.4f} Y{y0 + shift[1]:.4f}")
            out.append(f"G1 X{x1 + shift[0]:.4f} Y{y1 + shift[1]:.4f} E0.1")
    return "\n".join(out) + "\n"


def cube_part(size: float = S):
    mesh = trimesh.creation.box(extents=[size] * 3)
    mesh.apply_translation([size / 2 + 3.0, size / 2 - 7.0, size / 2])  # off-centre on purpose
    return part_from_trimesh(mesh, "cube")


def test_program_is_registered_and_skirt_dropped() -> None:
    part = cube_part()
    fill = hatch(0, 0, S, W)
    corners = np.array([[-3, -3], [13, -3], [13, 13], [-3, 13], [-3, -3]], dtype=float)
    skirt = np.stack([corners[:-1], corners[1:]], axis=1)
    layers = [np.concatenate([skirt, fill])] + [fill] * 48  # tops 0.2 .. 9.8 mm
    moves = read_gcode(program(layers, 0.2, (150.0, 120.0)))
    f = fidelity.score_moves(moves, part, width_mm=W, layer_mm=0.2)
    assert f.skirt_moves == 4
    assert f.offset_xy_mm == pytest.approx((3.0 - 150.0, -7.0 - 120.0), abs=1e-6)
    assert f.coverage == pytest.approx(1.0, abs=0.015)
    assert f.overflow < 0.005
    assert len(f.layers) == 49 and all(s.printed for s in f.layers)


def test_skipped_layers_count_as_uncovered() -> None:
    part = cube_part()
    fill = hatch(0, 0, S, W)
    moves = read_gcode(program([fill] * 40, 0.2, (100.0, 100.0)))  # top 1.9 mm never printed
    f = fidelity.score_moves(moves, part, width_mm=W, layer_mm=0.2)
    # nominal mid-heights 0.1 .. 9.7 mm; printed up to 8.0 mm: 8.1 .. 9.7 are missing
    assert sum(not s.printed for s in f.layers) == 9
    assert f.coverage == pytest.approx(40 / 49, abs=0.015)


def test_extrusion_layers_groups_by_z_with_thickness() -> None:
    fill = hatch(0, 0, S, 2.0)
    layers = fidelity.extrusion_layers(read_gcode(program([fill] * 3, 0.25, (0.0, 0.0))))
    assert [round(layer.z_top_mm, 3) for layer in layers] == [0.25, 0.5, 0.75]
    assert [round(layer.mid_mm, 3) for layer in layers] == [0.125, 0.375, 0.625]
    assert all(len(layer.segments_mm) == len(fill) for layer in layers)


def test_known_placement_is_used_when_the_centring_rule_agrees() -> None:
    """A lopsided deposit (one side printed, the other not) moves the centring rule's guess;
    the placement the slicer was told to use is taken instead when it is close."""
    lo, hi = np.array([0.0, 0.0, 0.0]), np.array([10.0, 10.0, 1.0])
    seg = np.array([[[100.0, 100.2], [110.0, 100.2]], [[110.0, 100.2], [110.0, 109.0]]])
    layers = [fidelity.Layer(0.2, 0.2, seg), fidelity.Layer(0.4, 0.2, seg)]
    section = box(0, 0, 10, 10)
    known = np.array([-100.0, -100.0])
    offset, moved, _ = fidelity.register_xy(layers, lo, hi, section, 2.0, known)
    assert offset.tolist() == known.tolist()
    np.testing.assert_allclose(moved[1].segments_mm, seg + known)
    guessed, _, _ = fidelity.register_xy(layers, lo, hi, section, 2.0)
    assert abs(guessed[1] - known[1]) > 0.3  # the rule alone is off by the lopsidedness
    far = np.array([-50.0, -100.0])  # the program is not where it was told: the rule decides
    offset, _, _ = fidelity.register_xy(layers, lo, hi, section, 2.0, far)
    assert offset.tolist() == guessed.tolist()
