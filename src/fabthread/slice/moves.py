"""Paths -> moves: order one layer's paths (nearest neighbour + 2-opt kernels), build the
moves, keep only the retractions that are needed (routing travels inside their island when
the straight line would cross its perimeters), add wipes before the retractions that stay,
and assemble the Toolpath arrays.

A layer's moves travel as a tuple (xy, feed, kind, mm3, retract, obj, layer, z, path, opts):
the structure-of-arrays rows of ``Toolpath`` for one layer, the index of the path each move
belongs to, and the ``TravelOptions`` the later steps need (tuples of 9 have none: no
routing, no wipes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from fabthread.errors import InternalError
from fabthread.geom import polygons as pg
from fabthread.geom.kernels.rings import OK, ring_boxes
from fabthread.model._frozen import handed_over
from fabthread.model.settings import SliceSettings
from fabthread.model.toolpath import EXTRUDING_KINDS, MoveKind, Toolpath
from fabthread.slice.kernels.order import build_moves, improve_order, order_paths
from fabthread.slice.kernels.travel import BLOCKED, add_wipes, plan_travels
from fabthread.slice.paths import LayerPaths
from fabthread.slice.regions import IslandPlan

#: Wipe feed as a fraction of the travel feed (PrusaSlicer wipes at 80 % of travel speed).
WIPE_FEED_RATIO = 0.8
#: Travels without retraction stay this fraction of the line width inside the island's
#: outline: the external perimeter's centre line (at half a width) is inside, so are seams.
WALL_DEPTH_WIDTHS = 0.4
#: A travel from or to a line printed on the outline itself (gap fill in a thin wall) may
#: not keep that clearance; it must still stay inside the island beyond this fraction of a
#: line width from its end.
SHALLOW_SKIP_WIDTHS = 0.5


@dataclass(frozen=True, slots=True)
class TravelOptions:
    """The settings behind travel routing and wipes, for one layer.

    wipe_mm: wipe length before a retraction (0: none); wipe_feed_mm_min: its feed;
    avoid_crossing: route same-island travels inside the island; max_detour: longest route
    as a multiple of the straight travel; width_mm: the layer's line width; retract_min_mm:
    travels up to this long never retract.
    """

    wipe_mm: float
    wipe_feed_mm_min: float
    avoid_crossing: bool
    max_detour: float
    width_mm: float
    retract_min_mm: float = 0.0

    @classmethod
    def of(cls, s: SliceSettings, layer: int, retract_min_mm: float = 0.0) -> TravelOptions:
        return cls(
            wipe_mm=s.wipe_mm,
            wipe_feed_mm_min=WIPE_FEED_RATIO * s.travel_mm_s * 60.0,
            avoid_crossing=s.avoid_crossing_perimeters,
            max_detour=s.avoid_crossing_max_detour,
            width_mm=s.first_layer_width_mm if layer == 0 else s.extrusion_width_mm,
            retract_min_mm=retract_min_mm,
        )


def layer_moves(
    paths: LayerPaths,
    pos: tuple[float, float],
    layer: int,
    z: float,
    s: SliceSettings,
    retract_min: float,
) -> tuple:
    """(xy, feed, kind, mm3, retract, obj, layer, z, path, opts) of one layer's moves;
    ``path`` is the index (into ``paths``) of the path each move belongs to, ``opts`` the
    layer's ``TravelOptions``."""
    opts = TravelOptions.of(s, layer, retract_min)
    n = len(paths.pts)
    if n == 0:
        e = np.zeros(0)
        return (
            np.zeros((0, 2)),
            e,
            np.zeros(0, np.uint8),
            e,
            np.zeros(0, bool),
            np.zeros(0, np.int16),
            layer,
            z,
            np.zeros(0, np.int64),
            opts,
        )
    group = np.array(paths.group, dtype=np.int64)
    perm = np.argsort(group, kind="stable")  # contiguous groups for the kernel
    pts = [paths.pts[i] for i in perm]
    lengths = np.array([len(p) for p in pts], dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    allpts = np.ascontiguousarray(np.concatenate(pts), dtype=np.float64)
    rates = np.ascontiguousarray(np.concatenate([paths.rate[i] for i in perm]))
    firsts = allpts[start[:-1]]
    lasts = allpts[start[1:] - 1]
    rev = np.array(paths.reversible, dtype=bool)[perm]
    fixed = np.array(paths.fixed, dtype=bool)[perm]
    order, flipped = order_paths(firsts, lasts, rev, group[perm], fixed, pos[0], pos[1])
    order, flipped = improve_order(
        firsts, lasts, rev, group[perm], fixed, order, flipped, pos[0], pos[1], 24, 3
    )
    xy, feed, kind, mm3, retract, path = build_moves(
        allpts,
        start,
        order,
        flipped,
        np.array(paths.kind, dtype=np.uint8)[perm],
        rates,
        np.array(paths.feed, dtype=np.float64)[perm],
        pos[0],
        pos[1],
        s.travel_mm_s * 60.0,
        retract_min,
        True,
    )
    obj = np.array(paths.obj, dtype=np.int16)[perm][path]
    return xy, feed, kind, mm3, retract, obj, layer, z, perm[path], opts


def keep_needed_retractions(
    moves: tuple, paths: LayerPaths, plans: list[IslandPlan], sp: float
) -> tuple:
    """Clear the retract flag of travels that start and end in the same island and need not
    leave it, then add wipes before the retractions that stay.

    Without travel options (or with ``avoid_crossing`` off), a travel keeps its retraction
    unless its straight line stays inside the island's infill region (grown to reach the
    innermost loop): oozing there is hidden. With ``avoid_crossing`` (see
    ``route_travels``) the straight line may cross the inner perimeters as long as it stays
    off the outline, and a travel whose straight line would cross the outline or a hole is
    routed inside the island instead (extra travel rows). Travels between islands, to or
    from the skirt and supports, and the layer's first travel keep their retraction.
    """
    opts: TravelOptions | None = moves[9] if len(moves) > 9 else None
    xy, retract, path = moves[0], moves[4], moves[8]
    kind = moves[2]
    cand = np.nonzero(retract & (kind == MoveKind.TRAVEL))[0]
    cand = cand[cand > 0]
    island = np.array(paths.island, dtype=np.int64)
    src = island[path[cand - 1]]
    dst = island[path[cand]]
    same = (src == dst) & (src >= 0)
    if opts is not None and opts.avoid_crossing:
        moves = route_travels(moves, cand[same], src[same], plans, sp, opts)
    elif same.any():
        retract = retract.copy()
        for ii in sorted(set(src[same].tolist())):  # (np.unique would import numpy.ma)
            rows = cand[same & (src == ii)]
            region = plans[ii].fill
            if region.is_empty:
                continue
            inside = pg.offset(region, 0.75 * sp * pg.UM_PER_MM)
            shapely.prepare(inside)
            seg = np.stack([xy[rows - 1], xy[rows]], axis=1) * pg.UM_PER_MM
            ok = shapely.covered_by(shapely.linestrings(seg), inside)
            retract[rows[ok]] = False
        moves = (*moves[:4], retract, *moves[5:])
    if opts is not None and opts.wipe_mm > 0:
        moves = wipe_before_retractions(moves, opts)
    return moves


def route_travels(
    moves: tuple,
    rows: np.ndarray,
    owner: np.ndarray,
    plans: list[IslandPlan],
    sp: float,
    opts: TravelOptions,
) -> tuple:
    """Avoid crossing perimeters: travels ``rows`` (retracting, each inside island
    ``owner[k]``) that can stay inside their island lose their retraction.

    A travel needs no retraction when it stays inside the island's outline and at least
    ``WALL_DEPTH_WIDTHS`` line widths away from it: the nozzle stays off the visible surface
    and ooze lands on the part (a leg from or to an end closer than that, the tip of gap fill
    in a thin wall, only has to stay inside, see ``SHALLOW_SKIP_WIDTHS``). A travel whose
    straight line does not is routed along the island's second perimeter loop (the external
    one when there is one level) and pulled tight (``kernels.travel.plan_travels``); the
    route's corners become extra travel rows. Routes longer than ``max_detour`` times the
    straight line, and travels between parts the loop does not connect, keep the straight
    line and its retraction.
    """
    if len(rows) == 0:
        return moves
    xy, retract = moves[0], moves[4].copy()
    clearance = WALL_DEPTH_WIDTHS * opts.width_mm
    vias: dict[int, np.ndarray] = {}
    for ii in sorted(set(owner.tolist())):
        sel = rows[owner == ii]
        plan = plans[ii]
        loops = plan.loops[min(1, len(plan.loops) - 1)] if plan.loops else ()
        status, via, via_start = plan_travels(
            np.ascontiguousarray(xy[sel - 1]),
            np.ascontiguousarray(xy[sel]),
            *_region_rings(plan.outline),
            clearance,
            SHALLOW_SKIP_WIDTHS * opts.width_mm,
            *_loop_rings(loops),
            float(opts.max_detour),
        )
        free = status != BLOCKED
        retract[sel[free]] = False
        for k in np.flatnonzero(via_start[1:] > via_start[:-1]):
            vias[int(sel[k])] = via[via_start[k] : via_start[k + 1]]
    moves = (*moves[:4], retract, *moves[5:])
    return _insert_travels(moves, vias) if vias else moves


def _region_rings(region: BaseGeometry) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pts float64 (P, 2) mm, start int64 (R + 1,), box float64 (R, 4)) of every ring of a
    region (µm), in any orientation, without repeated last points: the travel kernels' form."""
    status, pts, start, box = ring_boxes(shapely.get_coordinates(region), 1.0 / pg.UM_PER_MM)
    if status != OK:
        raise InternalError(f"a region's ring does not close ({region.geom_type})")
    return pts, start, box


def _loop_rings(loops: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same for perimeter loops (int64 (n, 2) µm each, as ``IslandPlan.loops`` holds
    them: outer rings counter-clockwise, holes clockwise, no repeated point)."""
    if not loops:
        return np.zeros((0, 2)), np.zeros(1, np.int64), np.zeros((0, 4))
    pts = np.concatenate(loops).astype(np.float64) / pg.UM_PER_MM
    return _pack(pts, np.array([len(lp) for lp in loops]))


def _pack(pts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    start = np.r_[0, np.cumsum(counts)].astype(np.int64)
    box = np.column_stack(
        [
            np.minimum.reduceat(pts[:, 0], start[:-1]),
            np.minimum.reduceat(pts[:, 1], start[:-1]),
            np.maximum.reduceat(pts[:, 0], start[:-1]),
            np.maximum.reduceat(pts[:, 1], start[:-1]),
        ]
    )
    return np.ascontiguousarray(pts), start, box


def _insert_travels(moves: tuple, vias: dict[int, np.ndarray]) -> tuple:
    """The moves with travel rows to ``vias[i]`` (float64 (k, 2) mm) inserted before row i
    (a travel); the new rows copy row i (feed, object, path, no retraction)."""
    n = len(moves[0])
    extra = np.zeros(n, dtype=np.int64)
    keys = np.array(sorted(vias), dtype=np.int64)
    extra[keys] = [len(vias[int(k)]) for k in keys]
    src = np.repeat(np.arange(n), extra + 1)
    first = np.cumsum(extra + 1) - (extra + 1)  # output row of each input row's first copy
    xy = moves[0][src]
    pos = np.concatenate([first[k] + np.arange(extra[k]) for k in keys])
    xy[pos] = np.concatenate([vias[int(k)] for k in keys])
    cols = [xy] + [moves[c][src] for c in range(1, 6)]
    return (*cols, moves[6], moves[7], moves[8][src], *moves[9:])


def wipe_before_retractions(moves: tuple, opts: TravelOptions, *, at_end: bool = False) -> tuple:
    """Wipe rows (kind WIPE, no extrusion, at the wipe feed) before every retracting travel
    that follows an extrusion: back along that path for ``opts.wipe_mm`` (``at_end``: also
    after the layer's last move, for the travel of the next layer change). The emitter
    retracts while wiping (see ``gcode.emit``)."""
    xy, kind, retract, path = moves[0], moves[2], moves[4], moves[8]
    if len(xy) == 0:
        return moves
    if not at_end and not (retract & (kind == MoveKind.TRAVEL)).any():
        return moves
    new_xy, src, wipe = add_wipes(
        np.ascontiguousarray(xy, dtype=np.float64),
        np.ascontiguousarray(kind, dtype=np.uint8),
        np.ascontiguousarray(path, dtype=np.int64),
        np.ascontiguousarray(retract, dtype=bool) if not at_end else np.zeros(len(xy), bool),
        float(opts.wipe_mm),
        float(xy[0, 0]),
        float(xy[0, 1]),
        at_end,
    )
    if not wipe.any():
        return moves
    feed = np.where(wipe, opts.wipe_feed_mm_min, moves[1][src])
    kinds = np.where(wipe, np.uint8(MoveKind.WIPE), kind[src]).astype(np.uint8)
    mm3 = np.where(wipe, 0.0, moves[3][src])
    ret = np.where(wipe, False, retract[src])
    return (new_xy, feed, kinds, mm3, ret, moves[5][src], moves[6], moves[7], path[src],
            *moves[9:])  # fmt: skip


def color_changes(z_mm: np.ndarray, s: SliceSettings) -> tuple[tuple[int, str], ...]:
    """(layer index, color) for each ``color_change_z_mm``: the change comes before the first
    layer that prints above that height."""
    out: list[tuple[int, str]] = []
    for i, z in enumerate(s.color_change_z_mm):
        bottoms = np.r_[0.0, z_mm[:-1]]
        layer = int(np.searchsorted(bottoms, z - 1e-6, side="left"))
        if 0 < layer < len(z_mm):
            name = s.color_change_names[i] if i < len(s.color_change_names) else f"color {i + 2}"
            if not out or out[-1][0] != layer:
                out.append((layer, name))
    return tuple(out)


def assemble_toolpath(
    rows: list[tuple],
    z_mm: np.ndarray,
    h_mm: np.ndarray,
    names: tuple[str, ...],
    color_changes: tuple[tuple[int, str], ...],
) -> Toolpath:
    """The Toolpath of all layers' move tuples. A layer that ends with an extrusion before
    the retracting travel of the next layer change gets its wipe here (with its options)."""
    rows = _layer_change_wipes(rows)
    n = sum(len(r[0]) for r in rows)
    xyz = np.zeros((n, 3))
    layer = np.zeros(n, np.int32)
    i = 0
    for r in rows:
        m = len(r[0])
        xyz[i : i + m, :2] = r[0]
        xyz[i : i + m, 2] = r[7]
        layer[i : i + m] = r[6]
        i += m

    def cat(k: int, dtype) -> np.ndarray:
        if not rows:
            return np.zeros(0, dtype)
        return handed_over(np.concatenate([r[k] for r in rows]).astype(dtype, copy=False))

    return Toolpath(
        process="fdm",
        xyz_mm=handed_over(xyz),
        feed_mm_min=cat(1, np.float64),
        kind=cat(2, np.uint8),
        extrude_mm3=cat(3, np.float64),
        power=handed_over(np.zeros(n)),
        layer=handed_over(layer),
        retract=cat(4, bool),
        object_id=cat(5, np.int16),
        tool=handed_over(np.zeros(n, np.int8)),
        layer_z_mm=z_mm,
        layer_height_mm=h_mm,
        object_names=names,
        color_changes=color_changes,
    )


def _layer_change_wipes(rows: list[tuple]) -> list[tuple]:
    """Each layer's first travel (the layer change) retracts when it is longer than the
    minimum from where the layer before really ended (layers sliced apart in chunks planned it
    from where a warm-up layer ended), and the layer before gets a wipe when it does."""
    out = list(rows)
    prev = -1  # the last layer with moves
    for li, r in enumerate(rows):
        if not r or len(r[0]) == 0:
            continue
        opts = r[9] if len(r) > 9 else None
        if prev >= 0 and r[2][0] == MoveKind.TRAVEL and opts is not None:
            (x0, y0), (x1, y1) = r[0][0].tolist(), out[prev][0][-1].tolist()
            gap = math.hypot(x0 - x1, y0 - y1)
            if bool(r[4][0]) != (gap > opts.retract_min_mm):
                retract = r[4].copy()
                retract[0] = gap > opts.retract_min_mm
                r = out[li] = (*r[:4], retract, *r[5:])
        if prev >= 0 and r[2][0] == MoveKind.TRAVEL and r[4][0]:
            last = out[prev]
            popts = last[9] if len(last) > 9 else None
            if popts is not None and popts.wipe_mm > 0 and int(last[2][-1]) in EXTRUDING_KINDS:
                out[prev] = wipe_before_retractions(last, popts, at_end=True)
        prev = li
    return out
