"""Paths -> moves: order one layer's paths (nearest neighbour + 2-opt kernels), build the
moves, keep only the retractions that are needed, and assemble the Toolpath arrays.

A layer's moves travel as a tuple (xy, feed, kind, mm3, retract, obj, layer, z, path): the
structure-of-arrays rows of ``Toolpath`` for one layer plus the index of the path each move
belongs to.
"""

from __future__ import annotations

import numpy as np
import shapely

from fabthread.geom import polygons as pg
from fabthread.model.settings import SliceSettings
from fabthread.model.toolpath import MoveKind, Toolpath
from fabthread.slice.kernels.order import build_moves, improve_order, order_paths
from fabthread.slice.paths import LayerPaths
from fabthread.slice.regions import IslandPlan


def layer_moves(
    paths: LayerPaths,
    pos: tuple[float, float],
    layer: int,
    z: float,
    s: SliceSettings,
    retract_min: float,
) -> tuple:
    """(xy, feed, kind, mm3, retract, obj, layer, z, path) of one layer's moves; ``path`` is
    the index (into ``paths``) of the path each move belongs to."""
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
    return xy, feed, kind, mm3, retract, obj, layer, z, perm[path]


def keep_needed_retractions(
    moves: tuple, paths: LayerPaths, plans: list[IslandPlan], sp: float
) -> tuple:
    """Clear the retract flag of travels that start and end in the same island and stay
    inside its infill region (grown to reach the innermost loop): oozing there is hidden."""
    xy, retract, path = moves[0], moves[4], moves[8]
    kind = moves[2]
    cand = np.nonzero(retract & (kind == MoveKind.TRAVEL))[0]
    cand = cand[cand > 0]
    if len(cand) == 0:
        return moves
    island = np.array(paths.island, dtype=np.int64)
    src = island[path[cand - 1]]
    dst = island[path[cand]]
    same = (src == dst) & (src >= 0)
    if not same.any():
        return moves
    retract = retract.copy()
    for ii in np.unique(src[same]):
        rows = cand[same & (src == ii)]
        region = plans[ii].fill
        if region.is_empty:
            continue
        inside = pg.offset(region, 0.75 * sp * pg.UM_PER_MM)
        shapely.prepare(inside)
        seg = np.stack([xy[rows - 1], xy[rows]], axis=1) * pg.UM_PER_MM
        ok = shapely.covered_by(shapely.linestrings(seg), inside)
        retract[rows[ok]] = False
    return (*moves[:4], retract, *moves[5:])


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
        return np.concatenate([r[k] for r in rows]).astype(dtype) if rows else np.zeros(0, dtype)

    return Toolpath(
        process="fdm",
        xyz_mm=xyz,
        feed_mm_min=cat(1, np.float64),
        kind=cat(2, np.uint8),
        extrude_mm3=cat(3, np.float64),
        power=np.zeros(n),
        layer=layer,
        retract=cat(4, bool),
        object_id=cat(5, np.int16),
        tool=np.zeros(n, np.int8),
        layer_z_mm=z_mm,
        layer_height_mm=h_mm,
        object_names=names,
        color_changes=color_changes,
    )
