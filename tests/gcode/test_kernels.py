"""Every G-code kernel against a slow, obviously-correct Python twin on seeded random input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fabthread.gcode.kernels.format import MODE_EXTRUDE, MODE_TRAVEL, format_moves
from fabthread.gcode.kernels.planner import plan_times
from fabthread.gcode.kernels.stats import masked_bounds
from fabthread.gcode.reader import read_gcode

# --- format_moves ---------------------------------------------------------------------------


def _num(q: int, ndec: int) -> str:
    text = f"{abs(q) / 10**ndec:.{ndec}f}".rstrip("0").rstrip(".")
    return ("-" if q < 0 else "") + text


def format_twin(q_xyz, q_feed, q_e, mode, retract, ret_len, ret_f, unret_f, hop, zmax) -> str:
    out = []
    f_cur, z_cur = None, None
    for i in range(len(q_xyz)):
        x, y, z = (int(v) for v in q_xyz[i])
        f, m = int(q_feed[i]), int(mode[i])
        ret = bool(retract[i]) and m == MODE_TRAVEL
        tz = z
        if ret:
            out.append(f"G1 E{_num(-ret_len, 5)} F{_num(ret_f, 3)}")
            f_cur = ret_f
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
        words = f"G{0 if m == MODE_TRAVEL else 1} X{_num(x, 3)} Y{_num(y, 3)}"
        if tz != z_cur:
            words += f" Z{_num(tz, 3)}"
            z_cur = tz
        if m == MODE_EXTRUDE:
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
    hop = int(rng.choice([0, 200, 1000]))
    args = (80_000, 2_100_000, 1_050_500, hop, 150_000)
    buf, row_start = format_moves(q_xyz, q_feed, q_e, mode, retract, *args)
    text = buf.tobytes().decode("ascii")
    assert text == format_twin(q_xyz, q_feed, q_e, mode, retract, *args)
    assert row_start[0] == 0 and row_start[-1] == len(buf)
    assert (np.diff(row_start) > 0).all()


# --- parse_gcode ------------------------------------------------------------------------------


def parse_twin(text: str) -> dict[str, list]:
    """Motion subset interpreter written the obvious way (regex words, dict state)."""
    marker = "LAYER_CHANGE" if ";LAYER_CHANGE" in text else None
    pos, off = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
    e_pos, feed, abs_xyz, abs_e, layer, layer_z = 0.0, 0.0, True, True, -1, None
    out: dict[str, list] = {"end": [], "e": [], "length": [], "kind": [], "layer": [], "f": []}
    for raw in text.split("\n"):
        code, _, comment = raw.partition(";")
        if marker and comment.startswith(marker):
            layer += 1
        words = dict((w[0], float(w[1:])) for w in code.split()[1:])
        cmd = code.split()[0] if code.split() else ""
        if cmd == "G90":
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
        found, lo, hi = masked_bounds(start, end, mask, with_start)
        assert found == mask.any()
        if found:
            pts = np.concatenate([end[mask]] + ([start[mask]] if with_start else []))
            np.testing.assert_array_equal(lo, pts.min(axis=0))
            np.testing.assert_array_equal(hi, pts.max(axis=0))
