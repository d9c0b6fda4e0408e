"""Arc fitting: the kernel against a Python twin, and fitted programs read back."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gcodekit import (
    KLIPPER,
    MARLIN,
    RRF,
    body_mask,
    cube,
    cylinder,
    filament_area,
    machine,
    material,
)

from fabthread.errors import GcodeError
from fabthread.gcode.emit import emit_gcode
from fabthread.gcode.kernels.arcs import FLOW_SPREAD, MAX_SWEEP_RAD, MIN_SWEEP_RAD, fit_arcs
from fabthread.gcode.kernels.format import (
    ARC_CCW,
    ARC_CW,
    ARC_NONE,
    ARC_SKIP,
    MODE_EXTRUDE,
    MODE_TRAVEL,
)
from fabthread.gcode.moves import GcodeKind
from fabthread.gcode.reader import read_gcode, summarize

# --- the kernel against its twin ------------------------------------------------------------


def fits_twin(q_xyz, i, j, tol, r_min, r_max):
    """Rows i..j on one arc through P0 = end of row i-1, the middle point and the end."""
    pts = [(q_xyz[k, 0] * 1e-3, q_xyz[k, 1] * 1e-3) for k in range(i - 1, j + 1)]
    (x0, y0), (xm, ym), (x1, y1) = pts[0], pts[(i + j) // 2 - (i - 1)], pts[-1]
    ax, ay, bx, by = xm - x0, ym - y0, x1 - x0, y1 - y0
    d = 2.0 * (ax * by - ay * bx)
    if abs(d) < 1e-12:
        return ARC_NONE, 0, 0
    a2, b2 = ax * ax + ay * ay, bx * bx + by * by
    qi = round((by * a2 - ay * b2) / d * 1000.0)
    qj = round((ax * b2 - bx * a2) / d * 1000.0)
    cx, cy = x0 + qi * 1e-3, y0 + qj * 1e-3
    r = math.sqrt((x0 - cx) ** 2 + (y0 - cy) ** 2)
    if not r_min <= r <= r_max:
        return ARC_NONE, 0, 0
    sense = 1.0 if d > 0 else -1.0
    sweep = 0.0
    for (px, py), (qx, qy) in zip(pts, pts[1:], strict=False):
        px, py, qx, qy = px - cx, py - cy, qx - cx, qy - cy
        cr, dt = (px * qy - py * qx) * sense, px * qx + py * qy
        if cr <= 0 or dt <= 0:
            return ARC_NONE, 0, 0
        half = 0.5 * math.sqrt((qx - px) ** 2 + (qy - py) ** 2)
        sag = r - math.sqrt(max(r * r - half * half, 0.0))
        if abs(math.sqrt(qx * qx + qy * qy) - r) + sag > tol:
            return ARC_NONE, 0, 0
        sweep += math.atan2(cr, dt)
    if not MIN_SWEEP_RAD <= sweep < MAX_SWEEP_RAD:
        return ARC_NONE, 0, 0
    return (ARC_CCW if sense > 0 else ARC_CW), qi, qj


def fit_twin(q_xyz, q_feed, q_e, mode, brk, tol, min_rows, r_min, r_max):
    n = len(q_xyz)
    arc, q_ij = np.zeros(n, np.uint8), np.zeros((n, 2), np.int64)
    xyz, e = q_xyz.copy(), q_e.copy()
    min_rows = max(min_rows, 2)

    def length(k):
        return math.hypot(*((q_xyz[k, :2] - q_xyz[k - 1, :2]) * 1e-3))

    def joins(k, i, flow0):
        same = mode[k] == MODE_EXTRUDE and not brk[k] and q_feed[k] == q_feed[i]
        if not same or q_xyz[k, 2] != q_xyz[i, 2] or length(k) <= 0:
            return False
        return abs(q_e[k] / length(k) - flow0) <= FLOW_SPREAD * abs(flow0)

    i = 1
    while i < n:
        if mode[i] != MODE_EXTRUDE or q_xyz[i, 2] != q_xyz[i - 1, 2] or length(i) <= 0:
            i += 1
            continue
        flow0 = q_e[i] / length(i)
        end = i
        while end + 1 < n and joins(end + 1, i, flow0):
            end += 1
        if end - i + 1 < min_rows:
            i = end + 1
            continue
        lo = i + min_rows - 1
        best = fits_twin(q_xyz, i, lo, tol, r_min, r_max)
        if best[0] == ARC_NONE:
            i += 1
            continue
        step, hi = min_rows, None
        while lo < end:
            cand = min(lo + step, end)
            got = fits_twin(q_xyz, i, cand, tol, r_min, r_max)
            if got[0] == ARC_NONE:
                hi = cand
                break
            lo, best, step = cand, got, step * 2
        while hi is not None and hi - lo > 1:
            mid = (lo + hi) // 2
            got = fits_twin(q_xyz, i, mid, tol, r_min, r_max)
            if got[0] == ARC_NONE:
                hi = mid
            else:
                lo, best = mid, got
        arc[i], q_ij[i] = best[0], best[1:]
        e[i] = q_e[i : lo + 1].sum()
        xyz[i] = q_xyz[lo]
        arc[i + 1 : lo + 1] = ARC_SKIP
        i = lo + 1
    return arc, q_ij, xyz, e


def _random_rows(rng: np.random.Generator, n_runs: int):
    """Circle pieces (some noisy, some coarse), straight runs and travels, in µm."""
    pts, e, mode, feed = [(100_000, 100_000, 200)], [0], [MODE_TRAVEL], [9_000_000]
    for _ in range(n_runs):
        kind = rng.integers(0, 4)
        k = int(rng.integers(1, 60))
        x, y = pts[-1][:2]
        if kind <= 1:  # an arc through the current point
            r = rng.uniform(1, 60)
            a0 = rng.uniform(0, 2 * math.pi)
            cx, cy = x * 1e-3 - r * math.cos(a0), y * 1e-3 - r * math.sin(a0)
            step = rng.choice([-1, 1]) * rng.uniform(0.01, 0.6) * (2.0 if kind == 1 else 1.0)
            noise = rng.choice([0.0, 0.002, 0.02])
            ang = a0 + step * np.arange(1, k + 1)
            xs = (cx + r * np.cos(ang)) * 1e3 + rng.normal(0, noise * 1e3, k)
            ys = (cy + r * np.sin(ang)) * 1e3 + rng.normal(0, noise * 1e3, k)
            new = np.c_[np.rint(xs), np.rint(ys)].astype(np.int64)
        elif kind == 2:  # a straight run
            d = rng.normal(0, 1, 2)
            d = d / np.linalg.norm(d) * rng.uniform(100, 2000)
            new = np.rint(np.array([x, y]) + np.outer(np.arange(1, k + 1), d)).astype(np.int64)
        else:  # a travel
            new = rng.integers(0, 200_000, (1, 2))
        for p in new:
            pts.append((int(p[0]), int(p[1]), 200))
            seg = math.hypot(p[0] - pts[-2][0], p[1] - pts[-2][1]) * 1e-3
            travel = kind == 3
            flow = 3326 * rng.choice([1.0, 1.0, 1.0, 1.2])  # 1e-5 mm of filament per mm
            e.append(0 if travel else int(round(seg * flow)))
            mode.append(MODE_TRAVEL if travel else MODE_EXTRUDE)
            feed.append(9_000_000 if travel else int(rng.choice([1_800_000, 1_800_000, 2_400_000])))
    q_xyz = np.array(pts, dtype=np.int64)
    n = len(q_xyz)
    return (
        q_xyz,
        np.array(feed, dtype=np.int64),
        np.array(e, dtype=np.int64),
        np.array(mode, dtype=np.uint8),
        rng.random(n) < 0.02,
    )


@pytest.mark.parametrize("seed", range(10))
def test_fit_arcs_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    q_xyz, q_feed, q_e, mode, brk = _random_rows(rng, int(rng.integers(1, 40)))
    tol = float(rng.choice([0.005, 0.02, 0.05]))
    args = (tol, int(rng.integers(2, 5)), 0.5, 1000.0)
    got = fit_arcs(q_xyz, q_feed, q_e, mode, brk, *args)
    want = fit_twin(q_xyz, q_feed, q_e, mode, brk, *args)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)
    arc, _, _, e = got
    assert e[arc != ARC_SKIP].sum() == q_e.sum()  # filament is only regrouped
    if seed == 0:
        assert (arc == ARC_CCW).any() or (arc == ARC_CW).any()


# --- fitted programs read back ----------------------------------------------------------------


def _sample_path(moves, rows: np.ndarray, per_mm: float = 20.0) -> np.ndarray:
    """Points along the XY path of the given moves (lines and arcs), at least per_mm per mm."""
    out = []
    for k in rows:
        s, e, r = moves.start_mm[k, :2], moves.xyz_mm[k, :2], moves.arc_radius_mm[k]
        m = max(int(moves.length_mm[k] * per_mm), 2)
        t = np.linspace(0.0, 1.0, m)
        if r > 0:
            c = moves.arc_centre_mm[k]
            a0 = math.atan2(*(s - c)[::-1])
            a1 = math.atan2(*(e - c)[::-1])
            d0 = moves.dir_start[k]
            ccw = (s - c)[0] * d0[1] - (s - c)[1] * d0[0] > 0
            sweep = (a1 - a0) if ccw else (a0 - a1)
            sweep = sweep % (2 * math.pi) or 2 * math.pi
            ang = a0 + t * sweep * (1 if ccw else -1)
            out.append(np.c_[c[0] + r * np.cos(ang), c[1] + r * np.sin(ang)])
        else:
            out.append(s + np.outer(t, e - s))
    return np.concatenate(out)


def _dist_to_polyline(points: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Distance of each point (m, 2) to the polyline through poly (k, 2)."""
    a, b = poly[:-1], poly[1:]
    ab = b - a
    t = ((points[:, None, :] - a) * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-18)
    near = a + np.clip(t, 0, 1)[..., None] * ab
    return np.linalg.norm(points[:, None, :] - near, axis=-1).min(axis=1)


@pytest.mark.parametrize("dialect", [MARLIN, RRF], ids=lambda d: d.name)
@pytest.mark.parametrize("tol", [0.01, 0.05])
def test_fitted_cylinder_reads_back_within_tolerance(dialect, tol: float) -> None:
    tp = cylinder(layers=3, segments=180)
    m, mat = machine(), material()
    plain = emit_gcode(tp, m, mat, dialect)
    text = emit_gcode(tp, m, mat, dialect, arc_tolerance_mm=tol)
    assert text.count("\n") < plain.count("\n") / 3  # far fewer lines
    moves = read_gcode(text)
    arcs = np.flatnonzero(moves.arc_radius_mm > 0)
    assert len(arcs) >= 6 and (moves.kind[arcs] == GcodeKind.EXTRUDE).all()
    # same filament, to 1e-4 relative
    expected = tp.extruded_mm3 / filament_area()
    body = body_mask(text, moves)
    assert abs(moves.e_mm[body].sum() - expected) <= 1e-4 * expected
    # every arc stays within the tolerance of the polyline it replaced (its layer's loops)
    for layer in range(tp.layer_count):
        for loop in range(2):
            sel = np.flatnonzero((tp.layer == layer) & (tp.kind == loop + 1))
            poly = tp.xyz_mm[np.r_[sel[0] - 1, sel], :2]
            mine = arcs[(moves.layer[arcs] == layer)]
            mine = mine[_dist_to_polyline(moves.xyz_mm[mine, :2], poly) < 1e-3]
            path = _sample_path(moves, mine)
            assert _dist_to_polyline(path, poly).max() <= tol + 2e-3  # + µm rounding
            # and every original point lies on the fitted path
            fitted = np.flatnonzero(body & (moves.layer == layer) & moves.extruding)
            on = _sample_path(moves, fitted, per_mm=100.0)
            gap = np.linalg.norm(on[None, :, :] - poly[:, None, :], axis=-1).min(axis=1)
            assert gap.max() <= tol + 6e-3  # + µm rounding + half the sample spacing

    # the program is as long, and its bounds are the same, to the tolerance
    def stats(t):
        return summarize(read_gcode(t), filament_diameter_mm=1.75, density_g_cm3=1.24,
                         limits=m.limits)  # fmt: skip

    a, b = stats(plain), stats(text)
    assert b.time_s == pytest.approx(a.time_s, rel=0.03)
    np.testing.assert_allclose(b.min_xyz_mm, a.min_xyz_mm, atol=tol + 2e-3)
    np.testing.assert_allclose(b.max_xyz_mm, a.max_xyz_mm, atol=tol + 2e-3)


def test_no_arcs_without_dialect_support_or_round_paths() -> None:
    tp = cylinder(layers=2)
    text = emit_gcode(tp, machine(), material(), KLIPPER, arc_tolerance_mm=0.05)
    assert not any(line.startswith(("G2 ", "G3 ")) for line in text.split("\n"))
    # a cube's square loops: their corners lie on a circle, but the sides do not
    text = emit_gcode(cube(layers=2), machine(), material(), MARLIN, arc_tolerance_mm=0.05)
    assert not any(line.startswith(("G2 ", "G3 ")) for line in text.split("\n"))
    # a coarse polygon (12 sides, r = 10 mm: the sides bulge 0.34 mm from the circle)
    tp = cylinder(layers=1, segments=12)
    text = emit_gcode(tp, machine(), material(), MARLIN, arc_tolerance_mm=0.05)
    assert not any(line.startswith(("G2 ", "G3 ")) for line in text.split("\n"))


def test_arcs_do_not_swallow_type_changes_or_labels() -> None:
    tp = cylinder(layers=2)
    text = emit_gcode(tp, machine(), material(), MARLIN, arc_tolerance_mm=0.05)
    lines = text.split("\n")
    # each ;TYPE: is followed (after an acceleration command) by a move of that type
    for k, line in enumerate(lines):
        if line.startswith(";TYPE:"):
            nxt = next(x for x in lines[k + 1 :] if x.startswith("G"))
            assert nxt.startswith(("G1 X", "G2 ", "G3 ")), nxt


def test_bad_tolerance_is_refused() -> None:
    with pytest.raises(GcodeError, match="arc_tolerance_mm=-0.1 is outside 0..1 mm"):
        emit_gcode(cylinder(layers=1), machine(), material(), MARLIN, arc_tolerance_mm=-0.1)
