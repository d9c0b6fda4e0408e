"""Numba kernels against slow, obviously-correct Python twins on seeded random input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fabthread.cam.kernels import dropcutter, stocksim


def _twin_tip(x: float, y: float, t: np.ndarray, r: float, cutter: int, n: int = 160) -> float:
    """Brute force: sample the triangle densely; the tool must clear every sample."""
    a, b, c = t[0:3], t[3:6], t[6:9]
    u, v = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n))
    keep = u + v <= 1
    u, v = u[keep], v[keep]
    p = a + u[:, None] * (b - a) + v[:, None] * (c - a)
    d2 = (p[:, 0] - x) ** 2 + (p[:, 1] - y) ** 2
    sel = d2 <= r * r
    if not sel.any():
        return -math.inf
    z = p[sel, 2]
    if cutter == 1:
        z = z + np.sqrt(r * r - d2[sel]) - r
    return float(z.max())


@pytest.mark.parametrize("cutter", [0, 1])
def test_tri_tip_matches_brute_force(cutter: int) -> None:
    rng = np.random.default_rng(7 + cutter)
    for _ in range(60):
        t = rng.uniform(-4, 4, 9)
        t[2::3] = rng.uniform(0, 3, 3)
        x, y = rng.uniform(-5, 5, 2)
        r = float(rng.uniform(0.5, 3))
        got = dropcutter.tri_tip_z(x, y, t, r, cutter)
        want = _twin_tip(x, y, t, r, cutter)
        if math.isinf(want):
            # the samples miss only a sliver at the edge of the disk
            assert got == -math.inf or got <= t[2::3].max() + 1e-9
            continue
        # sampling can only miss the true maximum, by at most the slope times the spacing
        assert want - 1e-9 <= got <= want + 0.12, (x, y, r, t)


def test_drop_lines_is_max_over_triangles() -> None:
    rng = np.random.default_rng(3)
    tri = rng.uniform(0, 20, (40, 9))
    tri[:, 2::3] = rng.uniform(0, 5, (40, 3))
    r = 1.5
    start, items = dropcutter.build_bins(tri, r, -3.0, -3.0, 2.0, 14, 14)
    xs, ys = rng.uniform(0, 20, (2, 3, 50))
    z = dropcutter.drop_lines(xs, ys, tri, start, items, -3.0, -3.0, 2.0, 14, 14, r, 1, -1.0)
    for i in range(3):
        for j in range(50):
            want = max([-1.0] + [dropcutter.tri_tip_z(xs[i, j], ys[i, j], t, r, 1) for t in tri])
            assert z[i, j] == pytest.approx(want, abs=1e-12)


def _twin_bottom(cx, cy, a, b, r, cutter, n=4000):
    t = np.linspace(0, 1, n)
    p = a[None, :] + t[:, None] * (b - a)[None, :]
    d2 = (p[:, 0] - cx) ** 2 + (p[:, 1] - cy) ** 2
    sel = d2 <= r * r
    if not sel.any():
        return math.inf
    h = p[sel, 2] if cutter == 0 else p[sel, 2] + r - np.sqrt(r * r - d2[sel])
    return float(h.min())


@pytest.mark.parametrize("cutter", [0, 1])
def test_tool_bottom_matches_sampling(cutter: int) -> None:
    rng = np.random.default_rng(11 + cutter)
    for _ in range(200):
        a, b = rng.uniform(0, 10, (2, 3))
        cx, cy = rng.uniform(0, 10, 2)
        r = float(rng.uniform(0.5, 3))
        got = stocksim.tool_bottom(cx, cy, *a, *b, r, cutter)
        want = _twin_bottom(cx, cy, a, b, r, cutter)
        if math.isinf(want):
            assert math.isinf(got) or got >= min(a[2], b[2]) - 1e-9
            continue
        assert got <= want + 1e-9  # exact minimum is never above a sampled one
        assert got >= want - 0.02


def test_simulate_lowers_the_heightmap_like_the_twin() -> None:
    rng = np.random.default_rng(5)
    xyz = np.column_stack([rng.uniform(2, 18, 12), rng.uniform(2, 18, 12), rng.uniform(2, 9, 12)])
    kind = np.full(12, 21, dtype=np.uint8)
    hm = np.full((20, 20), 10.0)
    radius = np.full(12, 1.5)
    cutter = np.ones(12, dtype=np.int64)
    stocksim.simulate(hm, 0.0, 0.0, 1.0, xyz, kind, radius, cutter, 1e-3)
    want = np.full((20, 20), 10.0)
    for m in range(1, 12):
        for j in range(20):
            for i in range(20):
                h = _twin_bottom(i + 0.5, j + 0.5, xyz[m - 1], xyz[m], 1.5, 1, n=600)
                want[j, i] = min(want[j, i], h)
    # the first move starts at its own end point (a single stamp)
    for j in range(20):
        for i in range(20):
            want[j, i] = min(want[j, i], _twin_bottom(i + 0.5, j + 0.5, xyz[0], xyz[0], 1.5, 1))
    assert np.all(hm <= want + 1e-9)
    assert np.all(hm >= want - 0.05)
