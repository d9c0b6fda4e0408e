"""Every G-code kernel against a slow, obviously-correct Python twin on seeded random input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fabthread.gcode.estimate import DEFAULT_FEED_MM_MIN, GENERIC_LIMITS, planner_inputs
from fabthread.gcode.kernels.format import (
    ARC_CCW,
    ARC_CW,
    ARC_NONE,
    ARC_SKIP,
    MODE_EXTRUDE,
    MODE_MOVE,
    MODE_TRAVEL,
    format_moves,
)
from fabthread.gcode.kernels.planner import plan_times
from fabthread.gcode.kernels.stats import masked_bounds
from fabthread.gcode.reader import read_gcode

# --- format_moves ---------------------------------------------------------------------------


def _num(q: int, ndec: int) -> str:
    text = f"{abs(q) / 10**ndec:.{ndec}f}".rstrip("0").rstrip(".")
    return ("-" if q < 0 else "") + text


def format_twin(
    q_xyz,
    q_feed,
    q_e,
    mode,
    retract,
    q_ret,
    ret_len,
    ret_f,
    unret_f,
    hop,
    zmax,
    arc,
    q_ij,
    pre,
    lines,
) -> str:
    out = []
    f_cur, z_cur = None, None
    for i in range(len(q_xyz)):
        if arc[i] == ARC_SKIP:
            continue
        if pre[i] >= 0:
            out.append(lines[pre[i]])
        x, y, z = (int(v) for v in q_xyz[i])
        f, m = int(q_feed[i]), int(mode[i])
        is_arc = arc[i] in (ARC_CW, ARC_CCW) and m == MODE_EXTRUDE
        ret = bool(retract[i]) and m == MODE_TRAVEL
        tz = z
        if q_ret[i] > 0:  # retraction in place (all of it, or what a wipe leaves)
            out.append(f"G1 E{_num(-int(q_ret[i]), 5)} F{_num(ret_f, 3)}")
            f_cur = ret_f
        if ret:
            if hop > 0:
                zh = min(max(z, z_cur if z_cur is not None else z) + hop, zmax)
                zh = max(zh, max(z, z_cur if z_cur is not None else z))
                if zh != z_cur:
                    words = f"G0 Z{_num(zh, 3)}"
                    if f != f_cur:
                        words += f" F{_num(f, 3)}"
                        f_cur = f
                    out.append(words)
                    z_cur = zh
                tz = zh
        g = int(arc[i]) if is_arc else 0 if m == MODE_TRAVEL else 1
        words = f"G{g} X{_num(x, 3)} Y{_num(y, 3)}"
        if tz != z_cur:
            words += f" Z{_num(tz, 3)}"
            z_cur = tz
        if is_arc:
            words += f" I{_num(int(q_ij[i, 0]), 3)} J{_num(int(q_ij[i, 1]), 3)}"
        if m == MODE_EXTRUDE or (m == MODE_MOVE and q_e[i] != 0):  # a wipe retracts as it moves
            words += f" E{_num(int(q_e[i]), 5)}"
        if f != f_cur:
            words += f" F{_num(f, 3)}"
            f_cur = f
        out.append(words)
        if ret:
            if z_cur != z:
                out.append(f"G0 Z{_num(z, 3)}")
                z_cur = z
            out.append(f"G1 E{_num(ret_len, 5)} F{_num(unret_f, 3)}")
            f_cur = unret_f
    return "".join(line + "\n" for line in out)


@pytest.mark.parametrize("seed", range(6))
def test_format_moves_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    q_xyz = rng.integers(0, 300_000, (n, 3))
    q_xyz[:, 2] = rng.choice([200, 400, 600, 149_900], n)  # repeated Z values
    q_xyz[rng.random(n) < 0.1, 0] = 0
    q_feed = rng.choice([1_200_000, 2_400_500, 9_000_000, 7], n)
    q_e = rng.integers(-5, 300_000, n)
    mode = rng.integers(0, 3, n).astype(np.uint8)
    retract = rng.random(n) < 0.3
    q_ret = np.where(rng.random(n) < 0.3, rng.integers(0, 90_000, n), 0)
    q_e[(mode == MODE_MOVE) & (rng.random(n) < 0.5)] = 0
    hop = int(rng.choice([0, 200, 1000]))
    args = (80_000, 2_100_000, 1_050_500, hop, 150_000)
    arc = rng.choice([ARC_NONE, ARC_NONE, ARC_SKIP, ARC_CW, ARC_CCW], n).astype(np.uint8)
    arc[0] = ARC_NONE
    q_ij = rng.integers(-50_000, 50_000, (n, 2))
    lines = ["M204 S2500", "SET_VELOCITY_LIMIT ACCEL=4000"]
    pre = rng.choice([-1, -1, -1, 0, 1], n).astype(np.int64)
    pre_text = np.frombuffer("".join(ln + "\n" for ln in lines).encode(), dtype=np.uint8)
    pre_start = np.array([0, 11, 41], dtype=np.int64)
    buf, row_start = format_moves(
        q_xyz, q_feed, q_e, mode, retract, q_ret, *args, arc, q_ij, pre, pre_text, pre_start
    )
    text = buf.tobytes().decode("ascii")
    assert text == format_twin(
        q_xyz, q_feed, q_e, mode, retract, q_ret, *args, arc, q_ij, pre, [ln for ln in lines]
    )
    assert row_start[0] == 0 and row_start[-1] == len(buf)
    assert ((np.diff(row_start) > 0) | (arc == ARC_SKIP)).all()
    assert (np.diff(row_start)[arc == ARC_SKIP] == 0).all()


# --- parse_gcode ------------------------------------------------------------------------------


def parse_twin(text: str) -> dict[str, list]:
    """Motion subset interpreter written the obvious way (regex words, dict state)."""
    marker = "LAYER_CHANGE" if ";LAYER_CHANGE" in text else None
    pos, off = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
    e_pos, feed, abs_xyz, abs_e, layer, layer_z = 0.0, 0.0, True, True, -1, None
    acc_p = acc_t = 0.0
    out: dict[str, list] = {
        "end": [],
        "e": [],
        "length": [],
        "kind": [],
        "layer": [],
        "f": [],
        "acc": [],
    }
    for raw in text.split("\n"):
        code, _, comment = raw.partition(";")
        if marker and comment.startswith(marker):
            layer += 1
        cmd = code.split()[0] if code.split() else ""
        if cmd.upper() == "SET_VELOCITY_LIMIT":
            params = dict(w.upper().split("=", 1) for w in code.split()[1:])
            if "ACCEL" in params:
                acc_p = acc_t = float(params["ACCEL"])
            continue
        words = dict((w[0], float(w[1:])) for w in code.split()[1:])
        if cmd == "M204":
            if "S" in words:
                acc_p = acc_t = words["S"]
            acc_p, acc_t = words.get("P", acc_p), words.get("T", acc_t)
        elif cmd == "G90":
            abs_xyz = True
        elif cmd == "G91":
            abs_xyz = False
        elif cmd == "M82":
            abs_e = True
        elif cmd == "M83":
            abs_e = False
        elif cmd == "G92":
            for k, ax in enumerate("XYZ"):
                if ax in words:
                    off[k] = pos[k] - words[ax]
            if "E" in words:
                e_pos = words["E"]
        elif cmd in ("G0", "G1", "G2", "G3"):
            feed = words.get("F", feed)
            tgt = list(pos)
            for k, ax in enumerate("XYZ"):
                if ax in words:
                    tgt[k] = words[ax] + off[k] if abs_xyz else pos[k] + words[ax]
            de = 0.0
            if "E" in words:
                if abs_e and abs_xyz:
                    de, e_pos = words["E"] - e_pos, words["E"]
                else:
                    de = words["E"]
                    e_pos += de
            dz = tgt[2] - pos[2]
            if cmd in ("G2", "G3"):
                cx, cy = pos[0] + words.get("I", 0.0), pos[1] + words.get("J", 0.0)
                r = math.hypot(pos[0] - cx, pos[1] - cy)
                a0 = math.atan2(pos[1] - cy, pos[0] - cx)
                a1 = math.atan2(tgt[1] - cy, tgt[0] - cx)
                sweep = (a1 - a0) if cmd == "G3" else (a0 - a1)
                while sweep <= 1e-12:
                    sweep += 2 * math.pi
                length = math.hypot(r * sweep, dz)
            else:
                length = math.dist(pos, tgt)
            if length == 0 and de == 0:
                continue
            if length > 0:
                kind = 1 if de > 0 else 2 if de < 0 else 0
                if (
                    kind == 1
                    and marker is None
                    and (layer_z is None or abs(tgt[2] - layer_z) > 1e-6)
                ):
                    layer, layer_z = layer + 1, tgt[2]
            else:
                kind = 2 if de < 0 else 3
            pos = tgt
            for key, v in (
                ("end", tgt),
                ("e", de),
                ("length", length),
                ("kind", kind),
                ("layer", layer),
                ("f", feed),
                ("acc", 0.0 if length == 0 else acc_p if de != 0 else acc_t),
            ):
                out[key].append(v)
    return out


def _random_program(rng: np.random.Generator, n: int, markers: bool) -> str:
    lines = []
    for _ in range(n):
        r = rng.random()
        if r < 0.05:
            lines.append(str(rng.choice(["G90", "G91", "M82", "M83"])))
        elif r < 0.08:
            lines.append(f"G92 E{rng.uniform(-5, 5):.3f}")
        elif r < 0.10:
            lines.append(f"G92 X{rng.uniform(0, 50):.3f} Z{rng.uniform(0, 5):.3f}")
        elif r < 0.13 and markers:
            lines.append(";LAYER_CHANGE")
        elif r < 0.16:
            lines.append("; just a comment G1 X5")
        elif r < 0.18:
            lines.append(
                str(rng.choice(["M204 S", "M204 P", "M204 T"])) + str(rng.integers(1, 9000))
            )
        elif r < 0.19:
            lines.append(
                f"SET_VELOCITY_LIMIT VELOCITY=300 ACCEL_TO_DECEL=10 ACCEL={rng.uniform(1, 9e3):.1f}"
            )
        elif r < 0.195:
            lines.append("M204 P1500 T3000 ; both")
        elif r < 0.25:
            i, j = rng.uniform(-20, 20, 2)
            lines.append(
                f"G{rng.choice([2, 3])} X{rng.uniform(0, 200):.3f} Y{rng.uniform(0, 200):.3f} "
                f"I{i:.3f} J{j + 30:.3f} E{rng.uniform(0, 2):.5f}"
            )
        else:
            words = [f"G{rng.choice([0, 1])}"]
            for ax, lo, hi in (("X", -50, 200), ("Y", -50, 200), ("Z", 0, 10), ("E", -2, 5)):
                if rng.random() < 0.6:
                    words.append(f"{ax}{rng.uniform(lo, hi):.3f}")
            if rng.random() < 0.3:
                words.append(f"F{rng.integers(100, 12000)}")
            lines.append(" ".join(words))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(8))
def test_parse_gcode_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    text = _random_program(rng, 300, markers=seed % 2 == 0)
    moves = read_gcode(text)
    twin = parse_twin(text)
    assert len(moves) == len(twin["end"])
    np.testing.assert_allclose(moves.xyz_mm, np.array(twin["end"]).reshape(-1, 3), atol=1e-9)
    np.testing.assert_allclose(moves.e_mm, twin["e"], atol=1e-9)
    np.testing.assert_allclose(moves.length_mm, twin["length"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(moves.feed_mm_min, twin["f"])
    assert list(moves.kind) == twin["kind"]
    assert list(moves.layer) == twin["layer"]
    np.testing.assert_allclose(moves.accel_mm_s2, twin["acc"])


# --- plan_times -------------------------------------------------------------------------------


def planner_twin(length, v_max, accel, d0, d1, scv):
    """Entry speeds from the closed form (every speed limit propagated by distance: v² grows
    by 2·a·L per move), then a trapezoid per move."""
    n = len(length)
    lim = [0.0]  # speed² limit at each junction; the start and the end are at rest
    for i in range(1, n):
        a, b = d1[i - 1], d0[i]
        if np.linalg.norm(a) < 0.5 or np.linalg.norm(b) < 0.5:
            j2 = 0.0
        else:
            turn = math.acos(max(-1.0, min(1.0, float(a @ b))))  # direction change
            theta = math.pi - turn  # angle inside the corner
            if turn < 1e-6:
                j2 = math.inf
            elif theta < 1e-6:
                j2 = 0.0
            else:
                s = math.sin(theta / 2)
                j2 = scv**2 * (math.sqrt(2) - 1) * s / (1 - s)
                j2 = min(j2, accel[i - 1] * length[i - 1] / 2 * math.tan(theta / 2))
                j2 = min(j2, accel[i] * length[i] / 2 * math.tan(theta / 2))
        lim.append(min(j2, v_max[i] ** 2, v_max[i - 1] ** 2))
    lim.append(0.0)
    dist = np.concatenate([[0.0], np.cumsum(2 * np.asarray(accel) * np.asarray(length))])
    v2 = [min(lim[k] + abs(dist[i] - dist[k]) for k in range(n + 1)) for i in range(n + 1)]
    times = []
    for i in range(n):
        a, L = accel[i], length[i]
        v0, v1, vm = math.sqrt(v2[i]), math.sqrt(v2[i + 1]), v_max[i]
        if (2 * vm**2 - v0**2 - v1**2) / (2 * a) <= L:  # reaches cruise
            cruise = L - (2 * vm**2 - v0**2 - v1**2) / (2 * a)
            times.append((vm - v0) / a + (vm - v1) / a + cruise / vm)
        else:
            vp = math.sqrt((2 * a * L + v0**2 + v1**2) / 2)
            times.append((2 * vp - v0 - v1) / a)
    return np.array(times), np.sqrt(v2[:-1]), np.sqrt(v2[1:])


def _random_moves(rng: np.random.Generator, n: int):
    pts = np.cumsum(rng.normal(0, 5, (n + 1, 3)) * [1, 1, 0.05], axis=0)
    straight = rng.random(n) < 0.3  # runs of collinear moves
    for i in np.flatnonzero(straight):
        if i >= 1:
            pts[i + 1] = pts[i] + (pts[i] - pts[i - 1]) * rng.uniform(0.2, 2)
    d = np.diff(pts, axis=0)
    length = np.linalg.norm(d, axis=1)
    u = d / length[:, None]
    e_only = rng.random(n) < 0.1
    u[e_only] = 0.0
    v_max = rng.uniform(5, 300, n)
    accel = rng.choice([500.0, 2500.0, 4000.0], n)
    return length, v_max, accel, u.copy(), u.copy()


@pytest.mark.parametrize("seed", range(8))
def test_plan_times_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    args = _random_moves(rng, int(rng.integers(1, 120)))
    scv = float(rng.uniform(1, 20))
    t, v_in, v_out = plan_times(*args, scv)
    t2, v_in2, v_out2 = planner_twin(*args, scv)
    np.testing.assert_allclose(v_in, v_in2, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(v_out, v_out2, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(t, t2, rtol=1e-9)
    # entry/exit speeds never exceed the moves' cruise limits
    assert (v_in <= args[1] * (1 + 1e-12)).all() and (v_out <= args[1] * (1 + 1e-12)).all()


# --- masked_bounds ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_masked_bounds_matches_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 50))
    start, end = rng.normal(0, 10, (n, 3)), rng.normal(0, 10, (n, 3))
    mask = rng.random(n) < 0.5
    for with_start in (False, True):
        no_arcs = (np.zeros((n, 2)), np.zeros(n), np.zeros((n, 3)))
        found, lo, hi = masked_bounds(start, end, mask, with_start, *no_arcs)
        assert found == mask.any()
        if found:
            pts = np.concatenate([end[mask]] + ([start[mask]] if with_start else []))
            np.testing.assert_array_equal(lo, pts.min(axis=0))
            np.testing.assert_array_equal(hi, pts.max(axis=0))


def arc_points_twin(text: str, moves) -> np.ndarray:
    """Every move's end points, and for arcs 20001 points along them, from the G-code words
    (G2/G3, I, J) rather than the kernel's tangents."""
    lines = text.split("\n")
    pts = []
    for k in range(len(moves)):
        s, e = moves.start_mm[k], moves.xyz_mm[k]
        pts += [s, e]
        words = lines[moves.line[k] - 1].split()
        if words[0] not in ("G2", "G3"):
            continue
        w = {x[0]: float(x[1:]) for x in words[1:]}
        c = s[:2] + [w.get("I", 0.0), w.get("J", 0.0)]
        r = math.hypot(*(s[:2] - c))
        a0 = math.atan2(s[1] - c[1], s[0] - c[0])
        a1 = math.atan2(e[1] - c[1], e[0] - c[0])
        sweep = (a1 - a0) if words[0] == "G3" else (a0 - a1)
        while sweep <= 1e-12:
            sweep += 2 * math.pi
        t = a0 + np.linspace(0, 1, 20001) * sweep * (1 if words[0] == "G3" else -1)
        pts += list(np.c_[c[0] + r * np.cos(t), c[1] + r * np.sin(t), np.full(len(t), e[2])])
    return np.array(pts)


@pytest.mark.parametrize("seed", range(4))
def test_bounds_of_arcs_match_sampled_arcs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    lines = ["G1 X100 Y100 Z1 F3000"]
    x, y = 100.0, 100.0
    for _ in range(int(rng.integers(1, 12))):
        i, j = np.round(rng.uniform(-30, 30, 2), 3)
        cx, cy, r = x + i, y + j, math.hypot(i, j)
        end = rng.uniform(-math.pi, math.pi)  # valid arcs: the end on the circle
        x, y = round(cx + r * math.cos(end), 3), round(cy + r * math.sin(end), 3)
        lines.append(f"G{rng.choice([2, 3])} X{x:.3f} Y{y:.3f} I{i:.3f} J{j:.3f}")
    text = "\n".join(lines) + "\n"
    moves = read_gcode(text)
    box = moves.bounds(extruding_only=False)
    pts = arc_points_twin(text, moves)[1:]  # not the machine's position before the first move
    # the end points are rounded to the µm, off the circle by up to that much
    np.testing.assert_allclose(box[0], pts.min(axis=0), atol=2e-3)
    np.testing.assert_allclose(box[1], pts.max(axis=0), atol=2e-3)


# --- planner_rows -------------------------------------------------------------------------------


def planner_inputs_twin(moves, lim):
    """The per-move speed and acceleration limits, with whole-array numpy operations."""
    length, e = moves.length_mm, moves.e_mm
    idx = np.flatnonzero((length > 0) | (e != 0))
    length, e = length[idx], e[idx]
    feed = moves.feed_mm_min[idx]
    feed = np.where(feed > 0, feed, DEFAULT_FEED_MM_MIN)
    v = feed / 60.0
    has_xyz = length > 0
    d0, d1 = moves.dir_start[idx], moves.dir_end[idx]
    u = np.maximum(np.abs(d0), np.abs(d1))
    max_feed = [lim.max_feed_x_mm_s, lim.max_feed_y_mm_s, lim.max_feed_z_mm_s]
    max_acc = [lim.max_accel_x_mm_s2, lim.max_accel_y_mm_s2, lim.max_accel_z_mm_s2]
    extrude = moves.kind[idx] == 1
    accel = np.where(extrude, lim.print_accel_mm_s2, lim.travel_accel_mm_s2).astype(float)
    accel = np.where(moves.accel_mm_s2[idx] > 0, moves.accel_mm_s2[idx], accel)
    with np.errstate(divide="ignore", invalid="ignore"):
        for ax in range(3):
            v = np.minimum(v, np.where(u[:, ax] > 0, max_feed[ax] / u[:, ax], np.inf))
            accel = np.minimum(accel, np.where(u[:, ax] > 0, max_acc[ax] / u[:, ax], np.inf))
        share = np.where(has_xyz, np.abs(e) / np.where(has_xyz, length, 1.0), 0.0)
        v = np.minimum(v, np.where(share > 0, lim.max_feed_e_mm_s / share, np.inf))
        accel = np.minimum(accel, np.where(share > 0, lim.max_accel_e_mm_s2 / share, np.inf))
        radius = moves.arc_radius_mm[idx]
        v = np.minimum(v, np.where(radius > 0, np.sqrt(accel * radius), np.inf))
    e_only = ~has_xyz
    length = np.where(e_only, np.abs(e), length)
    v = np.where(e_only, np.minimum(feed / 60.0, lim.max_feed_e_mm_s), v)
    accel = np.where(e_only, lim.max_accel_e_mm_s2, accel)
    d0 = np.where(e_only[:, None], 0.0, d0)
    d1 = np.where(e_only[:, None], 0.0, d1)
    return idx, length, v, accel, d0, d1


@pytest.mark.parametrize("seed", range(6))
def test_planner_rows_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    moves = read_gcode(_random_program(rng, 300, markers=False))
    lim = GENERIC_LIMITS
    for got, want in zip(planner_inputs(moves, lim), planner_inputs_twin(moves, lim), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)
