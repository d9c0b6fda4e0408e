"""Polygons in integer micrometres, over shapely 2.x (GEOS OverlayNG).

Every geometry here has integral coordinates in micrometres (stored as float64 by GEOS, exact
below 2**53). Intersections and differences of operands with ``clip.MIN_VERTICES`` or more
vertices run on Clipper2 (``clip``: integer coordinates, 2-5 times faster than GEOS on layer
sections; rings that touch themselves split), and on GEOS with ``grid_size=1``
(snap-rounding to the micrometre grid) when GEOS still calls Clipper2's result invalid
(edges that cross or overlap: 9 of the 107 differences of an idler_riser slice). Smaller
operands run on GEOS's floating-point overlay. Offsets run on a numba kernel where GEOS's
buffer would return its raw offset curves (``kernels/offset.py``: two thirds of a slice's
offsets, the same polygons as GEOS's), on GEOS's buffer otherwise. GEOS's results are
rounded back onto the grid and checked (``_snap``), snap-rounded by ``set_precision`` when
rounding leaves them invalid. Unions snap-round.

Shapes: a "loop" is int64 (n, 2) micrometres without a repeated last point; a "region" is a
shapely Polygon/MultiPolygon (or empty geometry).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from fabthread.geom import clip, wkb
from fabthread.geom.kernels import offset as offset_kernel

UM_PER_MM = 1000.0
#: Mitre limit for offsets (multiples of the offset distance), as slicers use for perimeters.
MITRE_LIMIT = 3.0

EMPTY = shapely.MultiPolygon()


def to_um(xy_mm: np.ndarray) -> np.ndarray:
    """float mm (n, 2) -> int64 micrometres (n, 2), rounded."""
    return np.round(np.asarray(xy_mm, dtype=np.float64) * UM_PER_MM).astype(np.int64)


def from_loops(loops: Sequence[np.ndarray]) -> BaseGeometry:
    """A region from closed loops by the even-odd rule (nesting depth), whatever their
    orientation: a loop inside an even number of other loops is an outline, inside an odd
    number a hole. Self-intersecting loops are repaired by ``make_valid``."""
    loops = [np.asarray(lp, dtype=np.float64) for lp in loops if len(lp) >= 3]
    if not loops:
        return EMPTY
    coords = np.concatenate([np.vstack([lp, lp[:1]]) for lp in loops])
    index = np.repeat(np.arange(len(loops)), [len(lp) + 1 for lp in loops])
    polys = shapely.polygons(shapely.linearrings(coords, indices=index))
    bad = ~shapely.is_valid(polys)
    if bad.any():
        polys[bad] = shapely.make_valid(polys[bad])
    keep = shapely.area(polys) > 0.0
    polys = polys[keep]
    loops = [lp for lp, k in zip(loops, keep, strict=True) if k]
    n = len(polys)
    if n == 0:
        return EMPTY
    if n == 1:
        return _clean_unless_on_grid(polys[0])
    # containment of loop i (by its first vertex) in loop j
    xs = np.array([lp[0, 0] for lp in loops])
    ys = np.array([lp[0, 1] for lp in loops])
    inside = np.zeros((n, n), dtype=bool)  # inside[i, j]: loop i is inside loop j
    shapely.prepare(polys)
    tree = shapely.STRtree(polys)
    pts = shapely.points(xs, ys)
    pair_i, pair_j = tree.query(pts, predicate="within")
    inside[pair_i, pair_j] = True
    inside[np.arange(n), np.arange(n)] = False
    depth = inside.sum(axis=1)
    areas = shapely.area(polys)
    shells: list[BaseGeometry] = []
    holes_of: dict[int, list[int]] = {}
    for i in range(n):
        if depth[i] % 2 == 1:
            parents = np.nonzero(inside[i] & (depth == depth[i] - 1))[0]
            if len(parents):
                parent = int(parents[np.argmin(areas[parents])])
                holes_of.setdefault(parent, []).append(i)
    # loops that neither cross nor touch (a clean section) are the rings of the region as
    # they are: each outline with its holes, the outlines together; booleans only where
    # GEOS calls that invalid (featuretype: a union and a difference per layer, 37 ms)
    direct = [
        shapely.Polygon(loops[i], holes=[loops[h] for h in holes_of.get(i, [])])
        for i in range(n)
        if depth[i] % 2 == 0
    ]
    region = direct[0] if len(direct) == 1 else shapely.MultiPolygon(direct)
    if _on_grid(region) and shapely.is_valid(region):
        return region
    for i in range(n):
        if depth[i] % 2 == 0:
            shell = polys[i]
            holes = holes_of.get(i, [])
            if holes:
                shell = shapely.difference(shell, shapely.union_all(polys[holes]))
            shells.append(shell)
    return _clean_unless_on_grid(shapely.union_all(shells))


def _clean(geom: BaseGeometry) -> BaseGeometry:
    """Snap to the micrometre grid and keep only the polygonal part."""
    geom = shapely.set_precision(geom, 1.0)
    return polygonal(geom)


def _clean_unless_on_grid(geom: BaseGeometry) -> BaseGeometry:
    """``_clean``, skipped for a valid geometry whose coordinates are whole micrometres
    already (loops that do not cross, a simplification: snapping them would change nothing
    and costs a precision-reducing overlay, 170 µs on a 100-vertex section)."""
    if _on_grid(geom) and shapely.is_valid(geom):
        return polygonal(geom)
    return _clean(geom)


def _on_grid(geom: BaseGeometry) -> bool:
    """Whether every coordinate of ``geom`` is a whole micrometre."""
    xy = shapely.get_coordinates(geom)
    return bool(np.array_equal(xy, np.round(xy)))


def polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Only the polygons of ``geom`` (drops lines and points a boolean may leave)."""
    if geom.is_empty:
        return EMPTY
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    polys = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    if not polys:
        return EMPTY
    return shapely.union_all(polys)


def _snap(geom: BaseGeometry) -> BaseGeometry:
    """``_clean`` for the output of a buffer: its coordinates rounded to whole micrometres
    and repeated points dropped, kept when that leaves a valid geometry (nearly always: 5 of
    the 21,600 offsets of a featuretype and a tray slice were not); otherwise snap-rounded by
    ``_clean``.
    Rounding plus the validity check costs a fifth of ``set_precision``'s overlay, which had
    been a tenth of a slice's time."""
    snapped = shapely.remove_repeated_points(shapely.transform(geom, np.rint), 0.0)
    if shapely.is_valid(snapped):
        return polygonal(snapped)
    return _clean(geom)


def offset(region: BaseGeometry, delta_um: float) -> BaseGeometry:
    """Grow (delta > 0) or shrink (delta < 0) ``region`` by ``delta_um``, mitre joins."""
    if region.is_empty:
        return EMPTY
    fast = _raw_offset(region, delta_um)
    if fast is not None:
        return fast
    grown = shapely.buffer(region, delta_um, join_style="mitre", mitre_limit=MITRE_LIMIT)
    return _snap(grown)


def _raw_offset(region: BaseGeometry, delta_um: float) -> BaseGeometry | None:
    """``offset`` by the ``polygon_offset`` kernel where GEOS's buffer would return its raw
    offset curves, in GEOS's layout and already on the grid; None where GEOS has to
    decide."""
    status, blob = offset_kernel.polygon_offset(
        shapely.get_coordinates(region),
        region.geom_type == "MultiPolygon",
        float(delta_um),
        MITRE_LIMIT,
    )
    if status != offset_kernel.OK:
        return None
    return wkb.read(blob.tobytes())


def shrink(region: BaseGeometry, delta_um: float) -> BaseGeometry:
    """``region`` shrunk by ``delta_um`` (µm, >= 0): ``offset(region, -delta_um)``, checked.

    GEOS 3.14 now and then returns an empty or inverted polygon when it erodes a geometry
    that carries the fixed micrometre precision model our booleans leave on it (4 of the 3557
    erosions of a Benchy slice lost a 600 mm² region). An erosion removes about perimeter ×
    distance (a little more around holes), so a result far below that is redone on a
    floating-precision copy (about three times slower, hence not always)."""
    if region.is_empty:
        return EMPTY
    out = offset(region, -delta_um)
    if out.area >= max(region.area - 2.0 * region.length * delta_um, 0.0):
        return out
    return offset(shapely.set_precision(region, 0.0), -delta_um)


#: How far (µm) a grown region may reach outside the region it was shrunk from before
#: ``offset_within`` clips it: the rounding of both offsets to the grid (each vertex up to
#: 0.71 µm off its exact place; 1.08 µm at most on an idler_riser slice).
GRID_SLACK_UM = 2.0


def offset_within(region: BaseGeometry, delta_um: float, bound: BaseGeometry) -> BaseGeometry:
    """``offset(region, delta_um)`` kept inside ``bound``. Growing back what a shrink of
    ``bound`` left stays inside ``bound`` with round joins, but mitre tips can reach past it
    where the shrink dropped a short edge (a 0.5 mm step beside a chamfer on angle_block put
    an external perimeter 0.04 mm from the outline), and an edge can cut across a notch of
    ``bound``: then the result is clipped to ``bound``. The test is a prepared ``covers`` by
    ``bound`` grown by the grid's rounding (``GRID_SLACK_UM``, one kernel offset), so that a
    result that only the rounding puts a micrometre outside is not clipped: on idler_riser
    two thirds of the calls were, for no tip at all, at the cost of a boolean each."""
    grown = offset(region, delta_um)
    loose = offset(bound, GRID_SLACK_UM)
    shapely.prepare(loose)
    if shapely.covers(loose, grown):
        return grown
    return intersection(grown, bound)


def opening(region: BaseGeometry, radius_um: float) -> BaseGeometry:
    """``region`` without the parts narrower than ``2 · radius_um``: shrunk, then grown back
    within itself (morphological opening, mitre joins)."""
    if region.is_empty or radius_um <= 0:
        return region
    return offset_within(shrink(region, radius_um), radius_um, region)


def offset_round(region: BaseGeometry, delta_um: float) -> BaseGeometry:
    """Like ``offset`` with round joins (for tolerance tests and skirts)."""
    if region.is_empty:
        return EMPTY
    return _snap(shapely.buffer(region, delta_um, quad_segs=4))


def simplify(region: BaseGeometry, tolerance_um: float) -> BaseGeometry:
    """Drop vertices that deviate less than ``tolerance_um`` (Douglas-Peucker, topology kept).

    Mesh sections carry one vertex per crossed triangle; a few micrometres of tolerance removes
    most of them and makes every later offset and boolean much faster.

    Plain Douglas-Peucker first: it keeps a subset of the vertices, so its result is already
    on the grid. GEOS repairs a ring that it made cross itself by a zero buffer, which can
    drop a lobe: the result is kept only when it is valid and its area differs from the
    region's by no more than moving every edge by the tolerance can (perimeter ×
    tolerance). Otherwise the topology-preserving simplifier is used, 10-15 times slower
    (Benchy's 240 sections: 0.45 against 0.03 s, all of them kept)."""
    if region.is_empty or tolerance_um <= 0:
        return region
    fast = shapely.simplify(region, tolerance_um, preserve_topology=False)
    moved = abs(fast.area - region.area)
    if not fast.is_empty and moved <= region.length * tolerance_um and shapely.is_valid(fast):
        return polygonal(fast)
    return _clean_unless_on_grid(shapely.simplify(region, tolerance_um, preserve_topology=True))


def difference(a: BaseGeometry, b: BaseGeometry) -> BaseGeometry:
    """``a`` minus ``b``. Empty at once when ``b`` covers ``a``: half the differences of a
    slice are (skins under a layer that covers them, gaps that the loops fill), and the
    prepared ``covers`` test costs a fifth of the boolean with its conversions (idler_riser:
    433 of 782 empty, 419 of them found by the test; paired runs 6 % faster)."""
    if a.is_empty or b.is_empty:
        return a if not a.is_empty else EMPTY
    shapely.prepare(b)
    if shapely.covers(b, a):
        return EMPTY
    if not clip.worth_it(a, b):
        return _small_overlay(shapely.difference, a, b)
    fast = clip.difference(a, b)
    if fast is not None:
        return fast
    try:
        return polygonal(shapely.difference(a, b, grid_size=1.0))
    except shapely.errors.GEOSException:
        return polygonal(shapely.difference(_valid(a), _valid(b), grid_size=1.0))


def intersection(a: BaseGeometry, b: BaseGeometry) -> BaseGeometry:
    if a.is_empty or b.is_empty:
        return EMPTY
    if same(a, b):
        return a
    if not clip.worth_it(a, b):
        return _small_overlay(shapely.intersection, a, b)
    fast = clip.intersection(a, b)
    if fast is not None:
        return fast
    try:
        return polygonal(shapely.intersection(a, b, grid_size=1.0))
    except shapely.errors.GEOSException:
        return polygonal(shapely.intersection(_valid(a), _valid(b), grid_size=1.0))


def _small_overlay(
    op: Callable[[BaseGeometry, BaseGeometry], BaseGeometry], a: BaseGeometry, b: BaseGeometry
) -> BaseGeometry:
    """``op(a, b)`` for operands with few vertices (below ``clip.MIN_VERTICES``): GEOS's
    floating-point overlay, then its result onto the micrometre grid (``_snap``: rounded and
    checked; new vertices are only where edges cross). Snap-rounding the overlay itself
    (``grid_size=1``) costs 3-4 times as much on such operands (tray sections: a difference
    57-84 µs against 16 µs); the results were the same regions on all 9,920 booleans of a
    tray slice. Larger operands go to Clipper2, or to snap-rounding when Clipper2's result is
    not valid: degenerate cases where rounding afterwards would not do."""
    try:
        out = op(a, b)
    except shapely.errors.GEOSException:
        out = op(_valid(a), _valid(b))
    if out.is_empty:
        return EMPTY
    xy = shapely.get_coordinates(out)
    if np.array_equal(xy, np.rint(xy)):
        return polygonal(out)
    return _snap(out)


def union(*regions: BaseGeometry) -> BaseGeometry:
    parts = [r for r in regions if not r.is_empty]
    if not parts:
        return EMPTY
    if len(parts) == 1:
        return parts[0]
    try:
        return polygonal(shapely.union_all(parts, grid_size=1.0))
    except shapely.errors.GEOSException:
        # a snap-rounding corner case: repair the inputs and retry once
        return polygonal(shapely.union_all([_valid(p) for p in parts], grid_size=1.0))


def _valid(region: BaseGeometry) -> BaseGeometry:
    return region if shapely.is_valid(region) else polygonal(shapely.make_valid(region))


def disjoint_union(regions: Sequence[BaseGeometry]) -> BaseGeometry:
    """The union of regions known not to overlap (islands and what lies inside each of them),
    without a boolean: their polygons gathered into one MultiPolygon."""
    polys = [g for r in regions if not r.is_empty for g in parts(r).tolist()]
    if not polys:
        return EMPTY
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def same(a: BaseGeometry, b: BaseGeometry) -> bool:
    """Whether two regions have exactly the same coordinates (cheap; no overlay). Sections of
    a prismatic part repeat from layer to layer, so this short-cuts many booleans."""
    if a.is_empty or b.is_empty:
        return a.is_empty and b.is_empty
    return bool(shapely.equals_exact(a, b, tolerance=0.0))


def intersection_all(regions: Sequence[BaseGeometry]) -> BaseGeometry:
    """Common part of all ``regions`` (empty if any is empty or none is given)."""
    if not regions or any(r.is_empty for r in regions):
        return EMPTY
    out = regions[0]
    for r in regions[1:]:
        out = intersection(out, r)
        if out.is_empty:
            return EMPTY
    return out


def area_mm2(region: BaseGeometry) -> float:
    """Area of a micrometre region in mm²."""
    return float(region.area) / (UM_PER_MM * UM_PER_MM)


def islands(region: BaseGeometry) -> list[BaseGeometry]:
    """The connected polygons of a region."""
    if region.is_empty:
        return []
    return [g for g in parts(region).tolist() if not g.is_empty]


def parts(geom: BaseGeometry) -> np.ndarray:
    """``shapely.get_parts(geom)`` for one geometry: an object array of its parts (a
    Polygon, most regions of a layer, is its own part: 0.7 us instead of 10)."""
    if type(geom) is shapely.Polygon:
        out = np.empty(1, dtype=object)
        out[0] = geom
        return out
    return shapely.get_parts(geom)


def rings(region: BaseGeometry) -> list[tuple[np.ndarray, bool]]:
    """(loop, is_hole) of every ring: outlines counter-clockwise, holes clockwise.

    Loops are int64 (n, 2) micrometres without a repeated last point.
    """
    out: list[tuple[np.ndarray, bool]] = []
    for poly in islands(shapely.normalize(region)):
        oriented = shapely.orient_polygons(poly, exterior_cw=False)
        out.append((_ring_xy(oriented.exterior), False))
        for hole in oriented.interiors:
            out.append((_ring_xy(hole), True))
    return out


def _ring_xy(ring: BaseGeometry) -> np.ndarray:
    xy = shapely.get_coordinates(ring)
    return np.round(xy[:-1]).astype(np.int64)


def to_arrays(region: BaseGeometry) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A region as arrays: points int64 (P, 2) µm, ring_start int64 (R + 1,), ring_is_hole
    bool (R,). Each outline is followed by its holes."""
    rs = rings(region)
    if not rs:
        return np.zeros((0, 2), np.int64), np.zeros(1, np.int64), np.zeros(0, bool)
    lengths = np.array([len(r) for r, _ in rs], dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return (
        np.concatenate([r for r, _ in rs]).astype(np.int64),
        start,
        np.array([h for _, h in rs], dtype=bool),
    )


def from_arrays(
    points: np.ndarray, ring_start: np.ndarray, ring_is_hole: np.ndarray
) -> BaseGeometry:
    """Inverse of ``to_arrays``."""
    polys: list[BaseGeometry] = []
    shell: np.ndarray | None = None
    holes: list[np.ndarray] = []
    for i in range(len(ring_is_hole)):
        ring = np.asarray(points[ring_start[i] : ring_start[i + 1]], dtype=np.float64)
        if ring_is_hole[i]:
            holes.append(ring)
            continue
        if shell is not None:
            polys.append(shapely.Polygon(shell, holes))
        shell, holes = ring, []
    if shell is not None:
        polys.append(shapely.Polygon(shell, holes))
    if not polys:
        return EMPTY
    return shapely.MultiPolygon(polys) if len(polys) > 1 else polys[0]
