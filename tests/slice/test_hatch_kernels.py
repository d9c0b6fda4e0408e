"""The rectilinear-fill kernels (fabthread.slice.kernels.hatch) against slow twins on seeded
random regions: the numpy and shapely code they replaced (STRtree, line_locate_point,
line_interpolate_point, covered_by), which they must match to the last bit."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from fabthread.geom import polygons as pg
from fabthread.geom import wkb
from fabthread.slice import infill
from fabthread.slice.kernels.hatch import (
    LINK_BREAK,
    LINK_CHECK,
    LINK_CLEAR,
    LINK_FAR,
    host_extents,
    link_scanlines,
    rotated_scanlines,
    scanline_segments,
    straight_links,
)
from fabthread.slice.kernels.ring_walk import anchor_walks, boundary_paths, ring_table

SPACING = 1500.0  # µm


def _star(rng: np.random.Generator, cx: float, cy: float, r: float, n: int) -> np.ndarray:
    ang = np.sort(rng.uniform(0, 2 * math.pi, n))
    rad = rng.uniform(0.4 * r, r, n)
    return np.round(np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], axis=1))


def _region(rng: np.random.Generator) -> shapely.Geometry:
    """A star with a hole and a second star beside it (µm, whole micrometres), valid."""
    outer = _star(rng, 0, 0, 30000, 40)
    hole = _star(rng, 2000, 1000, 8000, 12)
    other = _star(rng, 70000, 5000, 20000, 15)
    region = shapely.MultiPolygon([shapely.Polygon(outer, [hole]), shapely.Polygon(other)])
    return shapely.make_valid(region) if not region.is_valid else region


def _scan(region: shapely.Geometry, angle: float) -> tuple[np.ndarray, ...]:
    a = math.radians(angle)
    c, s = math.cos(a), math.sin(a)
    xy, ring_start, is_hole = wkb.ring_arrays(region)
    seg, line, rot = rotated_scanlines(xy, ring_start, c, s, SPACING)
    return seg, line, rot, xy, ring_start, is_hole, c, s


def _unrotate(xy: np.ndarray, c: float, s: float) -> np.ndarray:
    return np.stack([c * xy[:, 0] - s * xy[:, 1], s * xy[:, 0] + c * xy[:, 1]], axis=1)


# --- rotated_scanlines, host_extents ---------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_rotated_scanlines_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(710 + seed)
    region = _region(rng)
    angle = float(rng.uniform(0, 180))
    seg, line, rot, xy, ring_start, _, c, s = _scan(region, angle)
    # the numpy code it replaced
    twin_rot = np.empty_like(xy)
    twin_rot[:, 0] = c * xy[:, 0] + s * xy[:, 1]
    twin_rot[:, 1] = -s * xy[:, 0] + c * xy[:, 1]
    k0 = math.floor(twin_rot[:, 1].min() / SPACING - 0.5)
    k1 = math.ceil(twin_rot[:, 1].max() / SPACING - 0.5)
    ys = (np.arange(k0, k1 + 1, dtype=np.float64) + 0.5) * SPACING
    twin_seg = scanline_segments(twin_rot, ring_start, ys)
    assert np.array_equal(rot, twin_rot) and np.array_equal(seg, twin_seg)
    assert np.array_equal(line, np.round(twin_seg[:, 1] / SPACING - 0.5).astype(np.int64))


def host_twin(seg, line, inner, iline):
    """The numpy code ``host_extents`` replaced."""
    x_min = float(seg[:, 0].min())
    width = float(seg[:, 2].max()) - x_min + 1.0
    key = line * width + (seg[:, 0] - x_min)
    host = np.searchsorted(key, iline * width + (inner[:, 0] - x_min) + 1e-3, "right") - 1
    lo_end = inner[:, 0].copy()
    hi_end = inner[:, 2].copy()
    first_in = np.r_[True, host[1:] != host[:-1]]
    last_in = np.r_[host[1:] != host[:-1], True]
    lo_end[first_in] = seg[host[first_in], 0]
    hi_end[last_in] = seg[host[last_in], 2]
    orphan = np.ones(len(seg), dtype=bool)
    orphan[host] = False
    return np.stack([lo_end, inner[:, 1], hi_end, inner[:, 3]], axis=1), orphan


@pytest.mark.parametrize("seed", range(4))
def test_host_extents_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(720 + seed)
    region = _region(rng)
    angle = float(rng.uniform(0, 180))
    seg, line, *_ = _scan(region, angle)
    inner, iline, *_ = _scan(pg.shrink(region, float(rng.uniform(200, 2000))), angle)
    full, orphan = host_extents(seg, line, inner, iline)
    twin_full, twin_orphan = host_twin(seg, line, inner, iline)
    assert np.array_equal(full, twin_full) and np.array_equal(orphan, twin_orphan)
    assert orphan.any()  # the shrink drops some pieces


# --- straight_links -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_straight_links_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(730 + seed)
    region = _region(rng)
    angle = float(rng.uniform(0, 180))
    _, _, rot, xy, ring_start, _, c, s = _scan(region, angle)
    inner, iline, *_ = _scan(pg.shrink(region, 400.0), angle)
    order, flipped, chain_start = link_scanlines(inner, iline, 4000.0)
    margin = [1e-3, 300.0][seed % 2]
    link = 3500.0
    ends, state = straight_links(inner, order, flipped, chain_start, c, s, link, rot, ring_start,
                                 SPACING, margin)  # fmt: skip
    # the twin: exit end of p, entry end of p + 1; breaks where a chain ends
    a, b = order[:-1], order[1:]
    rot_a = np.where(flipped[:-1, None], inner[a][:, 0:2], inner[a][:, 2:4])
    rot_b = np.where(flipped[1:, None], inner[b][:, 2:4], inner[b][:, 0:2])
    assert np.array_equal(ends, np.concatenate([_unrotate(rot_a, c, s), _unrotate(rot_b, c, s)], 1))
    ok = np.ones(len(order) - 1, bool)
    ok[chain_start[1:-1] - 1] = False
    short = np.hypot(*(ends[:, 0:2] - ends[:, 2:4]).T) <= link
    assert np.array_equal(state == LINK_BREAK, ~ok)
    assert np.array_equal(state == LINK_FAR, ok & ~short)
    # clear: inside the region (in the rotated frame) and farther than the margin from its rings
    rings = [rot[ring_start[r] : ring_start[r + 1]] for r in range(len(ring_start) - 1)]
    edges = shapely.MultiLineString([np.vstack([r, r[:1]]) for r in rings])
    conn = shapely.linestrings(np.stack([rot_a, rot_b], axis=1))
    gap = shapely.distance(conn, edges)
    inside = np.array([sum(_crossings_right(r, x, y) for r in rings) % 2 == 1 for x, y in rot_a])
    decided = ok & short & (np.abs(gap - margin) > 1e-6)
    twin_clear = (gap > margin) & inside
    assert np.array_equal((state == LINK_CLEAR)[decided], twin_clear[decided])
    assert np.all(np.isin(state[ok & short], [LINK_CLEAR, LINK_CHECK]))
    assert (state == LINK_CLEAR).any() and (state == LINK_CHECK).any()
    # what the shortcut stands for: a clear connector is covered by the region
    clear = state == LINK_CLEAR
    lines = shapely.linestrings(ends[clear].reshape(-1, 2, 2))
    assert shapely.covered_by(lines, region).all()


def _crossings_right(ring: np.ndarray, x: float, y: float) -> int:
    """Edges of ``ring`` crossing the line y right of x (half-open, as the scan lines)."""
    n = 0
    for i in range(len(ring)):
        (xa, ya), (xb, yb) = ring[i], ring[(i + 1) % len(ring)]
        if ya != yb and min(ya, yb) <= y < max(ya, yb):
            n += xa + (y - ya) / (yb - ya) * (xb - xa) > x
    return n


def test_straight_links_without_margin_leaves_every_short_link_to_the_caller() -> None:
    region = _region(np.random.default_rng(740))
    _, _, rot, _, ring_start, _, c, s = _scan(region, 30.0)
    inner, iline, *_ = _scan(pg.shrink(region, 400.0), 30.0)
    order, flipped, chain_start = link_scanlines(inner, iline, 4000.0)
    _, state = straight_links(inner, order, flipped, chain_start, c, s, 3500.0, rot, ring_start,
                              SPACING, -1.0)  # fmt: skip
    assert not (state == LINK_CLEAR).any() and (state == LINK_CHECK).any()


# --- the rings: ring_table, boundary_paths, anchor_walks ----------------------------------------


class BoundaryTwin:
    """The shapely code the ring kernels replaced (rings of ``polygons.rings``, an STRtree to
    find the ring of a point, ``line_locate_point`` and ``line_interpolate_point``)."""

    def __init__(self, region: shapely.Geometry) -> None:
        self.rings = [np.vstack([r, r[:1]]).astype(np.float64) for r, _ in pg.rings(region)]
        self.cums = [np.r_[0.0, np.cumsum(np.hypot(*np.diff(r, axis=0).T))] for r in self.rings]
        self.lines = np.array([shapely.LineString(r) for r in self.rings], dtype=object)
        self.tree = shapely.STRtree(self.lines)

    def locate(self, xy):
        pts = shapely.points(xy)
        ring_of = np.asarray(self.tree.query_nearest(pts, all_matches=False)[1], dtype=np.int64)
        return ring_of, shapely.line_locate_point(self.lines[ring_of], pts)

    def walk(self, r, start, length):
        cum = self.cums[r]
        total = cum[-1]
        ahead = ((cum[:-1] - start) if length >= 0 else (start - cum[:-1])) % total
        sel = np.flatnonzero((ahead > 0) & (ahead < abs(length)))
        return self.rings[r][:-1][sel[np.argsort(ahead[sel])]]

    def point(self, r, at):
        total = self.cums[r][-1]
        g = shapely.line_interpolate_point(self.lines[r], at % total)
        return shapely.get_coordinates(g)

    def paths(self, pa, pb, which, max_um):
        ring_of, at = self.locate(np.concatenate([pa[which], pb[which]]))
        k = len(which)
        out = {}
        for j in range(k):
            r = ring_of[j]
            if ring_of[k + j] != r:
                continue
            total = self.cums[r][-1]
            fwd = (at[k + j] - at[j]) % total
            if min(fwd, total - fwd) > max_um:
                continue
            out[int(which[j])] = self.walk(r, at[j], fwd if fwd <= total - fwd else fwd - total)
        return out


def anchors_twin(inner, order, flipped, ok, boundary, c, s, max_um, keep_off_um):
    """The Python loop ``anchor_walks`` replaced: {position: points} at entry and exit ends,
    walking away from the end."""
    starts = np.flatnonzero(np.r_[True, ~ok])
    stops = np.flatnonzero(np.r_[~ok, True])
    pieces = inner[order]
    entry = np.where(flipped[:, None], pieces[:, 2:4], pieces[:, 0:2])
    exit_ = np.where(flipped[:, None], pieces[:, 0:2], pieces[:, 2:4])
    free = _unrotate(np.concatenate([entry[starts], exit_[stops]]), c, s)
    ends = _unrotate(np.concatenate([inner[:, 0:2], inner[:, 2:4]]), c, s)
    near = np.hypot(*(ends[None, :, :] - free[:, None, :]).transpose(2, 0, 1)).min(axis=0)
    ends = ends[near <= max_um + keep_off_um + 1.0]
    ring_f, at_f = boundary.locate(free)
    ring_e, at_e = boundary.locate(ends)
    made = []
    for r, at in zip(ring_f, at_f, strict=True):
        total = boundary.cums[r][-1]
        ahead = (at_e[ring_e == r] - at) % total
        ahead = ahead[(ahead > 1.0) & (ahead < total - 1.0)]
        room_fwd = (ahead.min() if len(ahead) else total) - keep_off_um
        room_back = (total - ahead.max() if len(ahead) else total) - keep_off_um
        length = min(max_um, max(room_fwd, room_back))
        if length < keep_off_um:
            made.append(None)
            continue
        step = length if room_fwd >= room_back else -length
        made.append(np.vstack([boundary.walk(r, at, step), boundary.point(r, at + step)]))
    n_in = len(starts)
    before = {int(p): a for p, a in zip(starts, made[:n_in], strict=True) if a is not None}
    after = {int(p): a for p, a in zip(stops, made[n_in:], strict=True) if a is not None}
    return before, after


def _runs(start: np.ndarray, pts: np.ndarray) -> dict[int, np.ndarray]:
    return {
        p: pts[start[p] : start[p + 1]] for p in range(len(start) - 1) if start[p + 1] > start[p]
    }


def _chains(rng: np.random.Generator, region: shapely.Geometry, angle: float):
    """Pieces of ``region`` (their ends on its rings), chained, with random breaks."""
    inner, iline, _, xy, ring_start, is_hole, c, s = _scan(region, angle)
    order, flipped, chain_start = link_scanlines(inner, iline, 6000.0)
    ok = np.ones(len(order) - 1, bool)
    ok[chain_start[1:-1] - 1] = False
    ok &= rng.random(len(ok)) < 0.7
    table = ring_table(xy, ring_start, is_hole)
    return inner, order, flipped, ok, table, c, s


@pytest.mark.parametrize("seed", range(4))
def test_ring_table_matches_polygons_rings(seed: int) -> None:
    region = _region(np.random.default_rng(750 + seed))
    xy, ring_start, is_hole = wkb.ring_arrays(region)
    closed, start, cum, cum_s, box = ring_table(xy, ring_start, is_hole)
    twin = BoundaryTwin(region)
    got = [closed[start[r] : start[r + 1]] for r in range(len(start) - 1)]
    # the same rings (start vertex, orientation), maybe in another order
    order = [next(i for i, t in enumerate(twin.rings) if np.array_equal(g, t)) for g in got]
    assert sorted(order) == list(range(len(twin.rings)))
    for r, i in enumerate(order):
        assert np.array_equal(cum[start[r] : start[r + 1]], twin.cums[i])
        steps = np.diff(got[r], axis=0)
        assert np.array_equal(np.diff(cum_s[start[r] : start[r + 1]]) > 0, np.any(steps, 1))
        assert cum_s[start[r + 1] - 1] == pytest.approx(twin.lines[i].length, rel=1e-12)
        assert box[r].tolist() == [*got[r].min(0), *got[r].max(0)]


@pytest.mark.parametrize("seed", range(6))
def test_boundary_paths_match_twin(seed: int) -> None:
    rng = np.random.default_rng(760 + seed)
    region = _region(rng)
    inner, order, flipped, ok, table, c, s = _chains(rng, region, float(rng.uniform(0, 180)))
    a, b = order[:-1], order[1:]
    pa = _unrotate(np.where(flipped[:-1, None], inner[a][:, 0:2], inner[a][:, 2:4]), c, s)
    pb = _unrotate(np.where(flipped[1:, None], inner[b][:, 2:4], inner[b][:, 0:2]), c, s)
    want = rng.random(len(pa)) < 0.8
    max_um = float(rng.choice([5000.0, 50000.0]))
    found, offsets, pts = boundary_paths(*table, np.concatenate([pa, pb], 1), want, max_um)
    twin = BoundaryTwin(region).paths(pa, pb, np.flatnonzero(want), max_um)
    assert sorted(twin) == np.flatnonzero(found).tolist()
    for i, path in twin.items():
        assert np.array_equal(pts[offsets[i] : offsets[i + 1]], path)
    assert offsets[-1] == sum(len(p) for p in twin.values()) > 0


@pytest.mark.parametrize("seed", range(6))
def test_anchor_walks_match_twin(seed: int) -> None:
    rng = np.random.default_rng(770 + seed)
    region = _region(rng)
    inner, order, flipped, ok, table, c, s = _chains(rng, region, float(rng.uniform(0, 180)))
    max_um, keep_off = float(rng.choice([3000.0, 20000.0])), float(rng.uniform(200, 1500))
    before_start, before, after_start, after = anchor_walks(
        *table, inner, order, flipped, ok, c, s, max_um, keep_off
    )
    twin_before, twin_after = anchors_twin(
        inner, order, flipped, ok, BoundaryTwin(region), c, s, max_um, keep_off
    )
    for got, twin in (
        (_runs(before_start, before), twin_before),
        (_runs(after_start, after), twin_after),
    ):
        assert sorted(got) == sorted(twin) and twin
        for p, pts in twin.items():
            assert np.array_equal(got[p], pts)


# --- assemble_lines -------------------------------------------------------------------------


def assemble_twin(inner, full, order, flipped, ok, arcs, loose, extend_um, c, s, anchors):
    """The numpy code ``assemble_lines`` replaced (arcs and anchors as {position: points},
    entry anchors printed towards the end)."""
    m = len(order)
    before, after = anchors
    joined_in = np.zeros(m, dtype=bool)
    joined_out = np.zeros(m, dtype=bool)
    joined_in[1:] = ok
    joined_out[:-1] = ok
    inn = inner[order]
    ful = full[order]
    held_in = joined_in.copy()
    held_in[list(before)] = True
    held_out = joined_out.copy()
    held_out[list(after)] = True
    left_joined = np.where(flipped, held_out, held_in)
    right_joined = np.where(flipped, held_in, held_out)
    x_left = np.where(left_joined, inn[:, 0], ful[:, 0] - extend_um)
    x_right = np.where(right_joined, inn[:, 2], ful[:, 2] + extend_um)
    if len(loose):
        x_left = np.r_[x_left, loose[:, 0] - extend_um]
        x_right = np.r_[x_right, loose[:, 2] + extend_um]
        flipped = np.r_[flipped, np.zeros(len(loose), bool)]
        joined_out = np.r_[joined_out, np.zeros(len(loose), bool)]
        ful = np.concatenate([ful, loose])
        m += len(loose)
    pts = np.empty((2 * m, 2))
    pts[0::2, 0] = np.where(flipped, x_right, x_left)
    pts[1::2, 0] = np.where(flipped, x_left, x_right)
    pts[0::2, 1] = ful[:, 1]
    pts[1::2, 1] = ful[:, 1]
    pts = _unrotate(pts, c, s)
    ends = np.flatnonzero(~joined_out)
    first = np.r_[0, ends[:-1] + 1]
    plain = np.add.reduceat(ful[:, 2] - ful[:, 0], first)
    extra: dict[int, list[np.ndarray]] = {}
    for p, pts_p in arcs.items():
        extra.setdefault(2 * p + 2, []).append(pts_p)
    for p, pts_p in after.items():
        extra.setdefault(2 * p + 2, []).insert(0, pts_p)
    for p, pts_p in before.items():
        extra.setdefault(2 * p, []).append(pts_p[::-1])
    grow = np.zeros(2 * m + 1, dtype=np.int64)
    if extra:
        at = np.array(sorted(extra), dtype=np.int64)
        grow[at] = [sum(len(x) for x in extra[int(i)]) for i in at]
        pieces = np.split(pts, at)
        chunks = [pieces[0]]
        for i, rest in zip(at, pieces[1:], strict=True):
            chunks += [*extra[int(i)], rest]
        pts = np.concatenate(chunks)
    new_at = np.arange(2 * m + 1) + np.cumsum(grow)
    a_idx = new_at[2 * first] - np.array([len(before.get(int(p), ())) for p in first], np.int64)
    b_idx = new_at[2 * ends + 1] + np.array([len(after.get(int(p), ())) for p in ends], np.int64)
    step = np.r_[np.hypot(*np.diff(pts, axis=0).T), 0.0]
    cum = np.r_[0.0, np.cumsum(step)]
    factor = plain / np.maximum(cum[b_idx] - cum[a_idx], 1e-9)
    mm = pts / pg.UM_PER_MM
    return [(mm[a : b + 1], float(f)) for a, b, f in zip(a_idx, b_idx, factor, strict=True)]


def _random_runs(rng: np.random.Generator, keys: np.ndarray, m: int) -> tuple[dict, tuple]:
    """Random points at some of ``keys``: as a dict and as CSR over ``m`` positions."""
    picked = {int(p): rng.uniform(-5e4, 5e4, (int(rng.integers(1, 5)), 2)) for p in keys
              if rng.random() < 0.6}  # fmt: skip
    start = np.zeros(m + 1, np.int64)
    for p, pts in picked.items():
        start[p + 1] = len(pts)
    pts = np.concatenate([picked[p] for p in sorted(picked)]) if picked else np.zeros((0, 2))
    return picked, (np.cumsum(start), pts)


@pytest.mark.parametrize("seed", range(6))
def test_assemble_lines_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(780 + seed)
    region = _region(rng)
    angle = float(rng.uniform(0, 180))
    seg, line, *_ = _scan(region, angle)
    inner, iline, _, _, _, _, c, s = _scan(pg.shrink(region, 500.0), angle)
    full, orphan = host_extents(seg, line, inner, iline)
    order, flipped, _ = link_scanlines(inner, iline, 5000.0)
    m = len(order)
    ok = rng.random(m - 1) < 0.7
    arcs, arc_runs = _random_runs(rng, np.flatnonzero(ok), m)
    before, before_runs = _random_runs(rng, np.flatnonzero(np.r_[True, ~ok]), m)
    after, after_runs = _random_runs(rng, np.flatnonzero(np.r_[~ok, True]), m)
    loose = seg[orphan]
    got = infill._assemble(inner, full, order, flipped, ok, loose, 45.0, c, s, arc_runs,
                           (before_runs, after_runs))  # fmt: skip
    twin = assemble_twin(inner, full, order, flipped, ok, arcs, loose, 45.0, c, s,
                         (before, after))  # fmt: skip
    assert len(got) == len(twin) > 1
    for (pts, f), (twin_pts, twin_f) in zip(got, twin, strict=True):
        assert np.array_equal(pts, twin_pts) and f == twin_f
    # plain lines (no chains), and no inner pieces at all
    n = len(seg)
    plain = infill._assemble(seg, seg, np.arange(n), np.zeros(n, bool), np.zeros(n - 1, bool),
                             seg[:0], 45.0, c, s)  # fmt: skip
    twin = assemble_twin(seg, seg, np.arange(n), np.zeros(n, bool), np.zeros(n - 1, bool), {},
                         seg[:0], 45.0, c, s, ({}, {}))  # fmt: skip
    assert all(np.array_equal(a, b) and f == g for (a, f), (b, g) in zip(plain, twin, strict=True))
    alone = infill._assemble(seg, seg, np.zeros(0, np.int64), np.zeros(0, bool),
                             np.zeros(0, bool), seg, 45.0, c, s)  # fmt: skip
    assert all(np.array_equal(a, b) and f == g for (a, f), (b, g) in zip(alone, twin, strict=True))
