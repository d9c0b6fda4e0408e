"""Travels: avoid crossing perimeters (routing inside the island) and wipes.

The kernels against slow, obviously-correct twins (shapely for the geometry, plain loops for
the wipes) on seeded random input; then real slices: fewer retractions, and every travel
that does not retract stays inside the part, read back from the G-code the emitter wrote.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
import shapely.ops
import trimesh
from gcodekit import machine, material

from fabthread.errors import ParamError
from fabthread.gcode.emit import emit_gcode
from fabthread.gcode.moves import GcodeKind
from fabthread.gcode.reader import read_gcode
from fabthread.geom import polygons as pg
from fabthread.geom.mesh_io import load_mesh, part_from_trimesh
from fabthread.geom.place import place_on_bed
from fabthread.model import Dialect
from fabthread.model.part import Part
from fabthread.model.settings import SliceSettings
from fabthread.model.toolpath import MoveKind, Toolpath
from fabthread.slice.kernels.travel import BLOCKED, ROUTED, STRAIGHT, add_wipes, plan_travels
from fabthread.slice.moves import _loop_rings, _region_rings
from fabthread.slice.sections import section_mesh

MESHES = Path("/work/shared/meshes")

# --- plan_travels against shapely ----------------------------------------------------------


def _region(rng: np.random.Generator) -> tuple[shapely.Geometry, int]:
    """A 40 mm square (µm) with up to four round or square holes, possibly touching each
    other or the outline; and the number of holes."""
    outer = shapely.box(0, 0, 40_000, 40_000)
    holes = []
    for _ in range(int(rng.integers(0, 5))):
        c = rng.uniform(6_000, 34_000, 2)
        r = rng.uniform(1_500, 7_000)
        if rng.random() < 0.5:
            holes.append(shapely.Point(c).buffer(r, quad_segs=int(rng.integers(2, 12))))
        else:
            holes.append(shapely.box(c[0] - r, c[1] - r, c[0] + r, c[1] + r))
    region = outer.difference(shapely.union_all(holes)) if holes else outer
    return shapely.normalize(pg.polygonal(region)), len(holes)


class Twin:
    """The rules of ``plan_travels`` written with shapely (mm in, µm geometry)."""

    def __init__(self, region: shapely.Geometry, clearance: float, skip: float) -> None:
        self.region = region
        self.edge = region.boundary
        self.clear = clearance * 1000
        self.skip = skip * 1000

    def deep(self, p: np.ndarray) -> bool:
        pt = shapely.Point(p * 1000)
        return self.region.covers(pt) and self.edge.distance(pt) >= self.clear

    def leg(self, a: np.ndarray, b: np.ndarray, loose_a: bool, loose_b: bool) -> bool:
        seg = shapely.LineString([a * 1000, b * 1000])
        if not (loose_a or loose_b):
            return self.region.covers(seg) and self.edge.distance(seg) >= self.clear
        lo = self.skip if loose_a else 0.0
        hi = seg.length - (self.skip if loose_b else 0.0)
        if hi <= lo:
            return self.region.covers(seg.interpolate(0.5, normalized=True))
        return self.region.contains_properly(shapely.ops.substring(seg, lo, hi))

    def margin(self, a: np.ndarray, b: np.ndarray) -> float:
        """How far (µm) the straight travel is from a decision boundary."""
        seg = shapely.LineString([a * 1000, b * 1000])
        d = [abs(self.edge.distance(shapely.Point(p * 1000)) - self.clear) for p in (a, b)]
        return min(*d, abs(self.edge.distance(seg) - self.clear))


def _plan(region: shapely.Geometry, a, b, clearance=0.2, skip=0.25, route_depth=0.6, detour=2.0):
    route = pg.offset(region, -route_depth * 1000)
    loops = tuple(loop for loop, _ in pg.rings(route)) if not route.is_empty else ()
    return plan_travels(
        np.ascontiguousarray(a, dtype=np.float64),
        np.ascontiguousarray(b, dtype=np.float64),
        *_region_rings(region),
        clearance,
        skip,
        *_loop_rings(loops),
        detour,
    )


@pytest.mark.parametrize("seed", range(8))
def test_plan_travels_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    region, holes = _region(rng)
    twin = Twin(region, 0.2, 0.25)
    # ends anywhere in the square: inside, near the outline, in holes
    a = rng.uniform(-0.5, 40.5, (300, 2))
    b = rng.uniform(-0.5, 40.5, (300, 2))
    status, via, via_start = _plan(region, a, b)
    assert status.shape == (300,) and via_start[0] == 0 and via_start[-1] == len(via)
    routed = 0
    for k in range(300):
        if twin.margin(a[k], b[k]) < 1e-3:
            continue  # on a decision boundary: either answer is right
        da, db = twin.deep(a[k]), twin.deep(b[k])
        straight_ok = twin.leg(a[k], b[k], not da, not db)
        assert (status[k] == STRAIGHT) == straight_ok, k
        pts = via[via_start[k] : via_start[k + 1]]
        if status[k] != ROUTED:
            assert len(pts) == 0
            continue
        routed += 1
        poly = np.vstack([a[k], pts, b[k]])
        legs = len(poly) - 1
        for j in range(legs):
            loose_a, loose_b = j == 0 and not da, j == legs - 1 and not db
            assert twin.leg(poly[j], poly[j + 1], loose_a, loose_b), (k, j)
        length = np.hypot(*np.diff(poly, axis=0).T).sum()
        assert length <= 2.0 * np.hypot(*(b[k] - a[k])) + 1e-9
    if holes:
        assert routed > 0


def test_a_travel_across_a_hole_goes_around_it() -> None:
    region = shapely.box(0, 0, 40_000, 20_000).difference(
        shapely.box(15_000, 5_000, 25_000, 15_000)
    )
    a, b = np.array([[5.0, 10.0]]), np.array([[35.0, 10.0]])
    status, via, _ = _plan(region, a, b)
    assert status[0] == ROUTED
    poly = np.vstack([a, via, b])
    assert Twin(region, 0.2, 0.25).leg(a[0], via[0], False, False)
    length = np.hypot(*np.diff(poly, axis=0).T).sum()
    # around the 10 mm hole, 0.6 mm off it: not much longer than the straight 30 mm
    assert 30.0 < length < 30.0 + 2 * (np.hypot(10.0, 5.6) - 10.0) + 1.0
    # the long way round is blocked by the detour limit
    status, via, _ = _plan(region, a, b, detour=1.01)
    assert status[0] == BLOCKED and len(via) == 0


def test_travels_between_disconnected_parts_are_blocked() -> None:
    region = shapely.union(
        shapely.box(0, 0, 10_000, 10_000), shapely.box(20_000, 0, 30_000, 10_000)
    )
    status, via, _ = _plan(region, np.array([[5.0, 5.0]]), np.array([[25.0, 5.0]]))
    assert status[0] == BLOCKED and len(via) == 0


# --- add_wipes against a loop ---------------------------------------------------------------


def wipes_twin(xy, kind, path, retract, wipe_mm, at_end):
    rows, src, wipe = [], [], []
    n = len(xy)
    for i in range(n + 1):
        want = at_end if i == n else bool(retract[i] and kind[i] == 0)
        if want and i > 0 and 1 <= kind[i - 1] <= 10 and wipe_mm > 0:
            # the points of the path just printed, from its end backwards
            k = i - 1
            pts = [xy[k]]
            while k >= 0 and 1 <= kind[k] <= 10 and path[k] == path[i - 1]:
                pts.append(xy[k - 1])
                k -= 1
            left = wipe_mm
            for p, q in zip(pts[:-1], pts[1:], strict=True):
                seg = float(np.hypot(*(q - p)))
                if left <= 0 or seg == 0:
                    continue
                end = p + (q - p) * (left / seg) if seg >= left else q
                rows.append(end)
                src.append(i - 1)
                wipe.append(True)
                left -= min(seg, left)
        if i < n:
            rows.append(xy[i])
            src.append(i)
            wipe.append(False)
    return np.array(rows).reshape(-1, 2), np.array(src), np.array(wipe, dtype=bool)


@pytest.mark.parametrize("seed", range(6))
def test_add_wipes_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    kind = rng.choice([0, 1, 2, 5, 5, 7, 11], n).astype(np.uint8)
    kind[0] = 0
    path = np.cumsum(kind == 0).astype(np.int64)  # a travel starts each path
    path[rng.random(n) < 0.05] += 1  # and some paths change without one
    xy = rng.uniform(0, 50, (n, 2))
    dup = np.flatnonzero(rng.random(n) < 0.1)
    xy[dup[dup > 0]] = xy[dup[dup > 0] - 1]  # zero-length moves
    retract = rng.random(n) < 0.5
    wipe_mm = float(rng.choice([0.0, 0.5, 4.0, 40.0]))
    at_end = bool(rng.random() < 0.5)
    got = add_wipes(xy, kind, path, retract, wipe_mm, xy[0, 0], xy[0, 1], at_end)
    want = wipes_twin(xy, kind, path, retract, wipe_mm, at_end)
    np.testing.assert_allclose(got[0], want[0], atol=1e-12)
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[2], want[2])


# --- settings ------------------------------------------------------------------------------


def test_travel_settings_are_validated() -> None:
    s = SliceSettings().with_overrides({"wipe_mm": "2", "avoid_crossing_perimeters": "off"})
    assert s.wipe_mm == 2.0 and s.avoid_crossing_perimeters is False
    with pytest.raises(ParamError, match="wipe_mm=-1"):
        SliceSettings().with_overrides({"wipe_mm": -1})
    with pytest.raises(ParamError, match="avoid_crossing_max_detour=0.5"):
        SliceSettings().with_overrides({"avoid_crossing_max_detour": 0.5})


# --- real slices -----------------------------------------------------------------------------


def _plate_with_holes() -> Part:
    """A 40 x 30 x 2 mm plate with three round holes and a slot: most travels across it
    would cross a hole."""
    plate = trimesh.creation.box(extents=(40, 30, 2))
    for x, y in ((-10, 0), (10, 5), (0, -8)):
        hole = trimesh.creation.cylinder(radius=3.5, height=5, sections=48)
        hole.apply_translation((x, y, 0))
        plate = plate.difference(hole, engine="manifold")
    slot = trimesh.creation.box(extents=(2, 14, 5))
    slot.apply_translation((2, 4, 0))
    plate = plate.difference(slot, engine="manifold")
    return place_on_bed(part_from_trimesh(plate, "plate"), 200.0, 200.0)


def _two_blocks() -> Part:
    a = trimesh.creation.box(extents=(10, 10, 1))
    b = trimesh.creation.box(extents=(10, 10, 1))
    b.apply_translation((20, 0, 0))
    return place_on_bed(part_from_trimesh(trimesh.util.concatenate([a, b]), "two"), 200.0, 200.0)


def _gcode(tp: Toolpath) -> str:
    box = machine(size=(250.0, 210.0, 150.0))
    return emit_gcode(tp, box, material(), Dialect(name="marlin"), thumbnails=False)


def free_travels_outside(text: str, part: Part, tp: Toolpath, s: SliceSettings) -> list[int]:
    """Lines of the G-code travels that move without retraction and leave the layer's section
    grown by half a line width (a string on the visible surface). The travel to the first
    extrusion starts wherever the start program left the nozzle: not counted."""
    mids = tp.layer_z_mm - tp.layer_height_mm / 2
    sections = section_mesh(part, mids, resolution_um=0)
    m = read_gcode(text)
    grown: dict[int, shapely.Geometry] = {}
    bad: list[int] = []
    retracted = False
    first = np.flatnonzero((m.kind == GcodeKind.EXTRUDE) & (m.layer >= 0))
    for i in range(int(first[0]) if len(first) else len(m), len(m)):
        k = m.kind[i]
        if k == GcodeKind.RETRACT:
            retracted = True
        elif k in (GcodeKind.UNRETRACT, GcodeKind.EXTRUDE):
            retracted = False
        elif k == GcodeKind.TRAVEL and not retracted and 0 <= m.layer[i] < len(sections):
            a, b = m.start_mm[i, :2], m.xyz_mm[i, :2]
            if np.hypot(*(b - a)) < 1e-9:
                continue  # a z-hop
            li = int(m.layer[i])
            if li not in grown:
                w = s.first_layer_width_mm if li == 0 else s.extrusion_width_mm
                grown[li] = shapely.buffer(sections[li], w / 2 * 1000)
                shapely.prepare(grown[li])
            if not grown[li].covers(shapely.LineString([a * 1000, b * 1000])):
                bad.append(int(m.line[i]))
    return bad


def _retractions(text: str) -> int:
    """Retraction events: runs of moves that pull filament back (a wipe splits one)."""
    r = read_gcode(text).kind == GcodeKind.RETRACT
    return int((r & ~np.r_[False, r[:-1]]).sum())


def test_plate_travels_stay_inside_without_retracting() -> None:
    from fabthread.slice.slicer import slice_part

    part = _plate_with_holes()
    off = SliceSettings(avoid_crossing_perimeters=False, skirt_loops=0)
    on = SliceSettings(skirt_loops=0)
    tp_off, tp_on = slice_part(part, off, workers=1), slice_part(part, on, workers=1)
    text_off, text_on = _gcode(tp_off), _gcode(tp_on)
    # one island per layer: almost every retraction was for a travel across a hole
    assert _retractions(text_on) < 0.25 * _retractions(text_off)
    assert free_travels_outside(text_on, part, tp_on, on) == []
    # the same material goes where it went: routing only adds travels
    assert tp_on.extruded_mm3 == pytest.approx(tp_off.extruded_mm3, rel=1e-12)
    ext = tp_on.kind != MoveKind.TRAVEL
    assert ext.sum() == (tp_off.kind != MoveKind.TRAVEL).sum()
    # detours stay short: the layer's travel grows a little, never beyond the limit
    travel_len = {}
    for name, tp in (("off", tp_off), ("on", tp_on)):
        starts = np.vstack([tp.xyz_mm[:1, :2], tp.xyz_mm[:-1, :2]])
        length = np.hypot(*(tp.xyz_mm[:, :2] - starts).T)
        travel_len[name] = length[tp.kind == MoveKind.TRAVEL].sum()
    assert travel_len["on"] < 1.5 * travel_len["off"]


def test_travels_between_islands_still_retract() -> None:
    from fabthread.slice.slicer import slice_part

    part = _two_blocks()
    s = SliceSettings(skirt_loops=0, min_layer_time_s=0)
    tp = slice_part(part, s, workers=1)
    xy = tp.xyz_mm[:, :2]
    starts = np.vstack([xy[:1], xy[:-1]])
    same_layer = np.r_[False, tp.layer[1:] == tp.layer[:-1]]
    travel = (tp.kind == MoveKind.TRAVEL) & same_layer
    # a travel from one block to the other (x changes side of the 10 mm gap)
    lo, hi = part.bounds_mm
    mid = (float(lo[0]) + float(hi[0])) / 2.0
    across = travel & ((starts[:, 0] - mid) * (xy[:, 0] - mid) < 0)
    assert across.any() and tp.retract[across].all()
    assert free_travels_outside(_gcode(tp), part, tp, s) == []


@pytest.mark.parametrize(("name", "units"), [("octagonal_pocket.stl", "m")])
def test_real_mesh_free_travels_stay_inside(name: str, units: str) -> None:
    from fabthread.slice.slicer import slice_part

    part = place_on_bed(load_mesh(MESHES / name, units=units), 250.0, 210.0)
    s = SliceSettings()
    tp = slice_part(part, s, workers=1)
    text = _gcode(tp)
    # travels shorter than the minimum never retract; they may hop a narrow gap
    bad = free_travels_outside(text, part, tp, s)
    m = read_gcode(text)
    lengths = {int(m.line[i]): float(m.length_mm[i]) for i in range(len(m))}
    assert all(lengths[line] <= 1.5 for line in bad), bad


@pytest.mark.slow
def test_benchy_free_travels_stay_inside() -> None:
    from fabthread.slice.slicer import slice_part

    part = place_on_bed(load_mesh(MESHES / "3DBenchy.3mf"), 250.0, 210.0)
    s = SliceSettings()
    tp = slice_part(part, s)
    off = slice_part(part, SliceSettings(avoid_crossing_perimeters=False))
    assert tp.retract.sum() < 0.5 * off.retract.sum()
    text = _gcode(tp)
    bad = free_travels_outside(text, part, tp, s)
    m = read_gcode(text)
    lengths = {int(m.line[i]): float(m.length_mm[i]) for i in range(len(m))}
    assert all(lengths[line] <= 1.5 for line in bad), bad
