"""Several copies of one part on one bed: where they go, and one toolpath that prints them all.

API (mm throughout; a footprint is a shapely Polygon in mm, e.g. ``part_footprint(part)``):

``part_footprint(part) -> Polygon``
    The XY convex hull of the part's vertices.
``max_copies(footprint, bed_x_mm, bed_y_mm, *, spacing_mm, margin_mm=0.0) -> int``
    How many copies fit in the grid packing below.
``arrange_copies(footprint, count, bed_x_mm, bed_y_mm, *, spacing_mm, margin_mm=0.0)
-> list[tuple[float, float]]``
    Translations (dx, dy) to add to the part's coordinates for each copy, row by row from the
    front-left. Raises ``FitError`` naming the maximum when ``count`` copies do not fit.
``merge_copies(one, offsets, names=None, *, retract_min_travel_mm=1.5, keep_shared=False)
-> Toolpath``
    A toolpath for one copy replicated at ``offsets``: each layer prints every copy before
    moving up; copy k's moves carry object_id k and are named ``copy_{k+1}``.
``replicate_layer(xy, feed, kind, mm3, retract, obj, offsets, *, pos, retract_min_travel_mm,
n_objects=1) -> (xy, feed, kind, mm3, retract, obj)``
    The same for one layer's moves, in the slicer's per-layer row arrays.

Packing: a grid of the footprint's bounding box, pitch = box + ``spacing_mm``; among the grids
that hold ``count`` copies the most nearly square one is used (ties: fewer columns), the last
row centred, the whole block centred on the bed. Bounding boxes ``spacing_mm`` apart keep the
footprints at least that far apart. Deterministic: same inputs, same offsets.

How the slicer should use it (slicing is translation-invariant, so slice one copy once):

    offsets = arrange_copies(part_footprint(part), n, bed_x, bed_y, spacing_mm=...)
    # simplest: merge a one-copy toolpath sliced without skirt, then the skirt around all
    tp = merge_copies(slice_part(part, replace(s, skirt_loops=0)), offsets)
    # better, inside slice_part's layer loop (skirt around the union of the translated
    # first-layer outlines, ordered before the copies):
    xy, feed, kind, mm3, retract, obj, layer, z, *_ = _layer_moves(part_paths, pos, ...)
    xy, feed, kind, mm3, retract, obj = replicate_layer(
        xy, feed, kind, mm3, retract, obj, offsets, pos=pos, retract_min_travel_mm=...)
    # and object_names=tuple(copy_names(len(offsets)))

Copies are printed in nearest-neighbour order from where the nozzle is, so consecutive layers
snake across the bed instead of jumping back to the first copy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import Polygon

from fabthread.errors import FitError, ParamError
from fabthread.model.part import Part
from fabthread.model.toolpath import MoveKind, Toolpath

Offset = tuple[float, float]

#: Slack (mm) for round-off when comparing a packing with the bed size.
_EPS_MM = 1e-6


def part_footprint(part: Part) -> Polygon:
    """The XY convex hull (mm) of ``part``'s vertices."""
    hull = shapely.convex_hull(shapely.multipoints(part.vertices_mm[:, :2]))
    if hull.geom_type != "Polygon":  # a degenerate part: a line or a point
        hull = shapely.buffer(hull, 1e-3)
    return hull


def copy_names(count: int) -> list[str]:
    """``copy_1`` .. ``copy_{count}``."""
    return [f"copy_{k + 1}" for k in range(count)]


def _grid_limits(
    footprint: Polygon, bed_x_mm: float, bed_y_mm: float, spacing_mm: float, margin_mm: float
) -> tuple[int, int, float, float]:
    """(columns, rows) that fit and the pitch (x, y) of the grid."""
    if footprint.is_empty:
        raise ParamError("arrange: the part's footprint is empty")
    if spacing_mm < 0 or margin_mm < 0:
        raise ParamError(f"spacing_mm={spacing_mm} and margin_mm={margin_mm} must be >= 0")
    x0, y0, x1, y1 = footprint.bounds
    px, py = (x1 - x0) + spacing_mm, (y1 - y0) + spacing_mm
    usable_x, usable_y = bed_x_mm - 2 * margin_mm, bed_y_mm - 2 * margin_mm

    def fit(usable: float, pitch: float) -> int:
        # n boxes and n - 1 gaps: n·pitch - spacing <= usable
        return max(0, math.floor((usable + spacing_mm + _EPS_MM) / pitch)) if pitch > 0 else 0

    return fit(usable_x, px), fit(usable_y, py), px, py


def max_copies(
    footprint: Polygon,
    bed_x_mm: float,
    bed_y_mm: float,
    *,
    spacing_mm: float,
    margin_mm: float = 0.0,
) -> int:
    """How many copies of ``footprint`` fit the bed in the grid packing of ``arrange_copies``."""
    cols, rows, _, _ = _grid_limits(footprint, bed_x_mm, bed_y_mm, spacing_mm, margin_mm)
    return cols * rows


def arrange_copies(
    footprint: Polygon,
    count: int,
    bed_x_mm: float,
    bed_y_mm: float,
    *,
    spacing_mm: float,
    margin_mm: float = 0.0,
) -> list[Offset]:
    """Translations (dx, dy) mm for ``count`` copies of ``footprint`` on a bed of
    ``bed_x_mm`` x ``bed_y_mm`` (origin front-left), ``spacing_mm`` apart and ``margin_mm``
    from the bed's edges; see the module docstring. Raises FitError when they do not fit."""
    if count < 1:
        raise ParamError(f"copies={count} must be >= 1")
    cols_max, rows_max, px, py = _grid_limits(footprint, bed_x_mm, bed_y_mm, spacing_mm, margin_mm)
    most = cols_max * rows_max
    if count > most:
        x0, y0, x1, y1 = footprint.bounds
        raise FitError(
            f"copies={count} of a {x1 - x0:.1f} x {y1 - y0:.1f} mm part with {spacing_mm:g} mm "
            f"spacing do not fit the {bed_x_mm:g} x {bed_y_mm:g} mm bed; at most {most} fit"
            + (f" ({cols_max} x {rows_max})" if most else "")
        )
    cols, rows = _squarest(count, cols_max, rows_max, px, py)
    x0, y0, x1, y1 = footprint.bounds
    width, depth = cols * px - spacing_mm, rows * py - spacing_mm
    left, front = (bed_x_mm - width) / 2.0, (bed_y_mm - depth) / 2.0
    out: list[Offset] = []
    for k in range(count):
        row, col = divmod(k, cols)
        in_row = min(cols, count - row * cols)
        shift = (cols - in_row) * px / 2.0  # centre a partly filled last row
        out.append((left + shift + col * px - x0, front + row * py - y0))
    return out


def _squarest(count: int, cols_max: int, rows_max: int, px: float, py: float) -> tuple[int, int]:
    """Columns and rows of the most nearly square grid of at least ``count`` cells that fits."""
    best: tuple[float, float, int] | None = None
    pick = (cols_max, rows_max)
    for cols in range(1, cols_max + 1):
        rows = math.ceil(count / cols)
        if rows > rows_max:
            continue
        w, d = cols * px, rows * py
        key = (max(w, d), w * d, cols)
        if best is None or key < best:
            best, pick = key, (cols, rows)
    return pick


def replicate_layer(
    xy: np.ndarray,
    feed: np.ndarray,
    kind: np.ndarray,
    mm3: np.ndarray,
    retract: np.ndarray,
    obj: np.ndarray,
    offsets: Sequence[Offset],
    *,
    pos: tuple[float, float],
    retract_min_travel_mm: float = 1.5,
    n_objects: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One layer's moves of one copy (xy float64 (m, 2) mm, feed, kind, mm3, retract, obj,
    each (m,); the first move a travel to the block's start) printed at every offset.

    Copies go in nearest-neighbour order from ``pos`` (the nozzle before the layer); each
    copy's first travel is re-marked retract when longer than ``retract_min_travel_mm``.
    Copy k's moves get object_id ``k·n_objects + obj``. Shared moves (object_id < 0, the
    skirt) must not be passed: print them separately. Returns the same six arrays.
    """
    m = len(xy)
    k = len(offsets)
    if m == 0 or k == 0:
        return xy[:0], feed[:0], kind[:0], mm3[:0], retract[:0], obj[:0]
    if kind[0] != MoveKind.TRAVEL:
        raise ValueError("replicate_layer: the layer's moves must start with a travel")
    if np.any(np.asarray(obj) < 0):
        raise ValueError("replicate_layer: shared moves (object_id < 0) belong to no copy")
    off = np.asarray(offsets, dtype=np.float64).reshape(k, 2)
    starts = np.ascontiguousarray(xy[0] + off)
    ends = np.ascontiguousarray(xy[-1] + off)
    order = _nearest_order(starts, ends, pos)
    out_xy = (xy[None, :, :] + off[order][:, None, :]).reshape(-1, 2)
    out_retract = np.tile(np.asarray(retract, dtype=bool), k)
    prev = np.vstack([[pos], ends[order][:-1]])
    jump = np.hypot(*(starts[order] - prev).T)
    out_retract[np.arange(k) * m] = jump > retract_min_travel_mm
    out_obj = (order[:, None] * n_objects + np.asarray(obj, dtype=np.int64)[None, :]).reshape(-1)
    return (
        out_xy,
        np.tile(feed, k),
        np.tile(kind, k),
        np.tile(mm3, k),
        out_retract,
        out_obj.astype(np.int16),
    )


def _nearest_order(starts: np.ndarray, ends: np.ndarray, pos: tuple[float, float]) -> np.ndarray:
    """Greedy nearest-neighbour order of k blocks (start/end float64 (k, 2)) from ``pos``;
    ties go to the lower index. O(k²) vectorised: k is a few hundred copies at most."""
    k = len(starts)
    left = np.ones(k, dtype=bool)
    order = np.empty(k, dtype=np.int64)
    cur = np.asarray(pos, dtype=np.float64)
    for i in range(k):
        d = ((starts - cur) ** 2).sum(axis=1)
        d[~left] = np.inf
        j = int(np.argmin(d))
        order[i], left[j], cur = j, False, ends[j]
    return order


def merge_copies(
    one: Toolpath,
    offsets: Sequence[Offset],
    names: Sequence[str] | None = None,
    *,
    retract_min_travel_mm: float = 1.5,
    keep_shared: bool = False,
) -> Toolpath:
    """A toolpath printing ``one`` (an FDM toolpath of one copy) at each of ``offsets``.

    Per layer every copy is printed (nearest-neighbour order from the nozzle) before the next
    layer. Object ids: copy k, object o of ``one`` -> ``k·n + o`` with n =
    ``len(one.object_names)`` (at least 1); names default to ``copy_{k+1}`` (one object) or
    ``{object}_copy_{k+1}``. Moves with object_id < 0 (the skirt) belong to no copy: a skirt
    around one copy is wrong for many, so they are dropped, unless ``keep_shared`` (then they
    are kept once, untranslated, first in their layer: a skirt the caller built around all).
    """
    n_obj = max(1, len(one.object_names))
    k = len(offsets)
    if names is None:
        if n_obj == 1:
            names = copy_names(k)
        else:
            names = [f"{o}_copy_{c + 1}" for c in range(k) for o in one.object_names]
    if len(names) != k * n_obj:
        raise ValueError(f"merge_copies: {len(names)} names for {k} copies x {n_obj} objects")
    if len(one) and np.any(np.diff(one.layer) < 0):
        raise ValueError("merge_copies: the toolpath's moves are not in layer order")
    bounds = np.searchsorted(one.layer, np.arange(one.layer_count + 1), side="left")
    travel_feed = _travel_feed(one)
    parts: list[tuple[np.ndarray, ...]] = []
    pos = (float(one.xyz_mm[0, 0]), float(one.xyz_mm[0, 1])) if len(one) else (0.0, 0.0)
    for li in range(one.layer_count):
        a, b = int(bounds[li]), int(bounds[li + 1])
        if a == b:
            continue
        idx = np.arange(a, b)
        shared = one.object_id[a:b] < 0
        if keep_shared and shared.any():
            s = idx[shared]
            parts.append(_rows(one, s, one.xyz_mm[s, :2], one.object_id[s]))
            pos = (float(one.xyz_mm[s[-1], 0]), float(one.xyz_mm[s[-1], 1]))
        own = idx[~shared]
        if len(own) == 0:
            continue
        xy, zs = one.xyz_mm[own, :2], one.xyz_mm[own, 2]
        feed, kind, tool = one.feed_mm_min[own], one.kind[own], one.tool[own]
        mm3, retract, obj = one.extrude_mm3[own], one.retract[own], one.object_id[own]
        if kind[0] != MoveKind.TRAVEL:  # start the block with a travel to where it began
            start = one.xyz_mm[own[0] - 1, :2] if own[0] > 0 else xy[0]
            xy = np.vstack([start, xy])
            zs = np.concatenate([zs[:1], zs])
            feed = np.concatenate([[travel_feed], feed])
            kind = np.concatenate([[MoveKind.TRAVEL], kind]).astype(np.uint8)
            tool = np.concatenate([tool[:1], tool])
            mm3 = np.concatenate([[0.0], mm3])
            retract = np.concatenate([[False], retract])
            obj = np.concatenate([obj[:1], obj])
        r = replicate_layer(
            xy, feed, kind, mm3, retract, obj, offsets,
            pos=pos, retract_min_travel_mm=retract_min_travel_mm, n_objects=n_obj,
        )  # fmt: skip
        m = len(r[0])
        parts.append(
            (r[0], np.tile(zs, k), r[1], r[2], r[3], r[4], r[5], np.full(m, li, np.int32),
             np.tile(tool, k))
        )  # fmt: skip
        pos = (float(r[0][-1, 0]), float(r[0][-1, 1]))
    cols = list(zip(*parts, strict=True)) if parts else [()] * 9
    xy_all = _cat(cols[0], (0, 2), np.float64)
    return Toolpath(
        process=one.process,
        xyz_mm=np.column_stack([xy_all, _cat(cols[1], (0,), np.float64)]),
        feed_mm_min=_cat(cols[2], (0,), np.float64),
        kind=_cat(cols[3], (0,), np.uint8),
        extrude_mm3=_cat(cols[4], (0,), np.float64),
        power=np.zeros(len(xy_all)),
        layer=_cat(cols[7], (0,), np.int32),
        retract=_cat(cols[5], (0,), bool),
        object_id=_cat(cols[6], (0,), np.int16),
        tool=_cat(cols[8], (0,), np.int8),
        layer_z_mm=one.layer_z_mm,
        layer_height_mm=one.layer_height_mm,
        object_names=tuple(names),
        color_changes=one.color_changes,
    )


def _rows(one: Toolpath, s: np.ndarray, xy: np.ndarray, obj: np.ndarray) -> tuple[np.ndarray, ...]:
    """Rows ``s`` of ``one`` in the column layout merge_copies collects."""
    return (
        xy,
        one.xyz_mm[s, 2],
        one.feed_mm_min[s],
        one.kind[s],
        one.extrude_mm3[s],
        one.retract[s],
        obj,
        one.layer[s],
        one.tool[s],
    )


def _cat(arrays: Sequence[np.ndarray], empty_shape: tuple[int, ...], dtype) -> np.ndarray:
    if not arrays:
        return np.zeros(empty_shape, dtype)
    return np.concatenate(arrays).astype(dtype)


def _travel_feed(tp: Toolpath) -> float:
    """The feed (mm/min) of the toolpath's travels (the fastest), 9000 when it has none."""
    travel = tp.kind == MoveKind.TRAVEL
    return float(tp.feed_mm_min[travel].max()) if travel.any() else 9000.0
