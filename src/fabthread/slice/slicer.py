"""The FDM slicer: Part -> LayerStack -> walls, gap fill, skins, bridges, infill -> Toolpath.

Per layer: plan each island (perimeter loops, gaps, infill region), split the infill into top
surface, solid, bridges and sparse by comparing with the layers above and below, fill each
with its pattern, place seams, order islands and paths (nearest neighbour + 2-opt), turn them
into moves, drop retractions that stay inside an island's infill, and slow down short layers.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
import shapely
import shapely.affinity
from shapely.geometry.base import BaseGeometry

from fabthread.geom import polygons as pg
from fabthread.geom import wkb
from fabthread.geom.medial import Centreline, centrelines
from fabthread.model.part import Part
from fabthread.model.settings import SliceSettings
from fabthread.model.toolpath import MoveKind, Toolpath
from fabthread.slice.arrange import copy_names, replicate_layer
from fabthread.slice.cooling import slow_down
from fabthread.slice.infill import hatch, pattern_paths
from fabthread.slice.kernels.order import order_paths
from fabthread.slice.moves import (
    assemble_toolpath,
    color_changes,
    keep_needed_retractions,
    layer_moves,
)
from fabthread.slice.paths import LayerPaths
from fabthread.slice.regions import (
    MIN_BEAD,
    IslandPlan,
    cross_section_mm2,
    plan_island,
    spacing_mm,
)
from fabthread.slice.seams import seam_loop
from fabthread.slice.sections import layer_planes, section_loops, section_region
from fabthread.slice.skins import Skins, Windows, classify_skins
from fabthread.slice.strips import narrow_strips, strip_hatch
from fabthread.slice.supports import plan_supports, support_lines_mm
from fabthread.slice.workers import can_fork, fork_map

Progress = Callable[[int, int], None]

#: Most layers per chunk. Each chunk is sliced on its own (in a worker process when there are
#: several), starting from the state (nozzle position, seams) that ``WARMUP_LAYERS`` layers
#: sliced just before it leave. The chunks depend on the layer count only (``layer_chunks``),
#: so the output does not depend on the number of workers.
CHUNK_LAYERS = 48
WARMUP_LAYERS = 2
#: Section vertices, or layers, from which worker processes pay for their start-up (fork,
#: results back): a layer costs a few ms even when it is a plain ring. Measured with 2
#: workers against 1: the 100-layer 20 mm cube (1400 vertices) 0.39 vs 0.53 s, the 79-layer
#: idler_riser (15 000 vertices) 1.26 vs 2.05 s.
_POINTS_FOR_WORKERS = 5_000
_LAYERS_FOR_WORKERS = 64
MAX_WORKERS = 8

#: Sub-groups of an island, printed in this order (perimeter levels come first).
_GAP, _SOLID, _SPARSE, _BRIDGE, _TOP = range(5)


@dataclass(frozen=True, slots=True)
class _Job:
    """Everything a chunk of layers needs (shared with forked workers, never pickled).

    z_mm, height_mm: layer tops and thicknesses (L,); outlines: the region of each layer,
    or None when each worker makes the regions its chunk reads from ``loops`` (the section
    loops of every layer) itself."""

    z_mm: np.ndarray
    height_mm: np.ndarray
    outlines: list[BaseGeometry] | None
    supports: list | None
    settings: SliceSettings
    corner: np.ndarray
    copies: tuple[tuple[float, float], ...]
    retract_min_travel_mm: float
    loops: list | None = None


@dataclass(frozen=True, slots=True)
class _Layers:
    """The regions one chunk reads, indexed by layer: outlines[i] (None where the chunk does
    not look), above[j] = outlines[j : j + top] intersected, below[j] likewise with
    ``bottom`` layers (``skins.Windows``)."""

    outlines: list[BaseGeometry]
    above: Windows
    below: Windows


#: What forked workers read (the section loops, then the job), set before they are forked.
_SHARED: object = None


def slice_part(
    part: Part,
    settings: SliceSettings,
    *,
    retract_min_travel_mm: float = 1.5,
    progress: Progress | None = None,
    copies: Sequence[tuple[float, float]] = (),
    workers: int | None = None,
) -> Toolpath:
    """Slice a part that already sits on the bed (z-min = 0) into an FDM toolpath.

    Coordinates are machine mm; feeds mm/min; ``extrude_mm3`` = line cross-section × length.
    object_id 0 is the part, -1 the skirt. A travel retracts when it is longer than
    ``retract_min_travel_mm`` and cannot stay inside its island off the outline (a move to
    another island, or one whose route inside would be longer than
    ``avoid_crossing_max_detour`` times the straight line); before it, the nozzle wipes back
    along the path it just printed for ``wipe_mm``. ``progress(done, total)`` is called as
    layers complete.

    ``copies``: (dx, dy) mm offsets, e.g. from ``arrange.arrange_copies``: the part is sliced
    once and every layer prints each copy (object_id k, named ``copy_{k+1}``) in
    nearest-neighbour order, one skirt around them all. ``workers``: processes for the
    layers (default: the CPU count, at most 8, when the part is complex enough to gain from
    it; 1 slices in this process); the output does not depend on it.
    """
    s = settings
    s.validate("slice settings")
    tops, heights = layer_planes(part, s)
    n_layers = len(tops)
    loops = section_loops(part, tops - heights / 2.0)
    chunks = layer_chunks(n_layers)
    if workers is None:
        points = sum(len(lp) for closed, open_ in loops for lp in closed + open_)
        heavy = points >= _POINTS_FOR_WORKERS or n_layers >= _LAYERS_FOR_WORKERS
        workers = (os.cpu_count() or 1) if heavy else 1
    workers = max(1, min(workers, MAX_WORKERS, len(chunks)))
    lo, hi = part.bounds_mm
    corner = np.array([[lo[0], hi[1]]])  # rear-left: where aligned seams start
    fork = workers > 1 and can_fork()
    if fork and not s.supports:
        # one round of workers: each makes the regions its chunk reads (a few layers around
        # it are made twice) instead of a first round making every region and sending them
        # back (idler_riser: 60 of 710 ms between the two rounds)
        job = _Job(
            tops, heights, None, None, s, corner, tuple(copies), retract_min_travel_mm, loops
        )
    else:
        # 1. the region of every layer (they travel back pickled: small next to the work)
        outlines = [
            g for out in _map_chunks(_regions_in_worker, chunks, workers, loops) for g in out
        ]
        # 2. supports (they need every layer), then the layers chunk by chunk
        supports = None
        if s.supports:
            supports = plan_supports(
                outlines, tops, heights, angle_deg=s.support_angle_deg,
                line_width_mm=s.extrusion_width_mm,
            )  # fmt: skip
        job = _Job(
            tops, heights, outlines, supports, s, corner, tuple(copies), retract_min_travel_mm
        )
    rows: list[tuple] = []
    if fork:
        for out in _map_chunks(_chunk_in_worker, chunks, workers, job):
            rows.extend(out)
            if progress is not None:
                progress(len(rows), n_layers)
    else:
        for a, b in chunks:
            rows.extend(_slice_chunk(job, a, b, progress))
    names = tuple(copy_names(len(copies))) if copies else (part.name,)
    return assemble_toolpath(rows, tops, heights, names, color_changes(tops, s))


def layer_chunks(n_layers: int) -> list[tuple[int, int]]:
    """(first, end) layers of each chunk: one chunk up to ``CHUNK_LAYERS`` layers, otherwise
    an even number of chunks of at most ``CHUNK_LAYERS`` layers, their sizes within one of
    each other, so that two workers get the same share. Fixed 32-layer chunks left the
    79-layer idler_riser 32 + 32 + 15 (one worker idle for a sixth of the slice); now 40 + 39.
    Paired in-process runs against fixed 32-layer chunks: idler_riser 0.89, the 20 mm cube
    0.87, angle_block 0.97."""
    if n_layers <= CHUNK_LAYERS:
        return [(0, n_layers)] if n_layers else []
    count = 2 * math.ceil(n_layers / (2 * CHUNK_LAYERS))
    edges = [round(k * n_layers / count) for k in range(count + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def _map_chunks(
    fn: Callable[[tuple[int, int]], list], chunks: list[tuple[int, int]], workers: int,
    shared: object,
) -> Iterator[list]:  # fmt: skip
    """``fn(chunk)`` for every chunk, in order, in ``workers`` forked processes that see
    ``shared`` as ``_SHARED`` (or here, when one worker or no fork)."""
    global _SHARED
    _SHARED = shared
    try:
        yield from fork_map(fn, chunks, workers)
    finally:
        _SHARED = None


def _regions_in_worker(chunk: tuple[int, int]) -> list[BaseGeometry]:
    loops = _SHARED
    assert isinstance(loops, list), "worker started without the section loops"
    return [section_region(*loops[i]) for i in range(*chunk)]


def _chunk_in_worker(chunk: tuple[int, int]) -> list[tuple]:
    job = _SHARED
    assert isinstance(job, _Job), "worker started without a job"
    if job.outlines is None:
        job = replace(job, outlines=_chunk_outlines(job, *chunk))
    return _slice_chunk(job, *chunk)


def _chunk_outlines(job: _Job, a: int, b: int) -> list[BaseGeometry]:
    """The regions of every layer that the chunk of layers ``a`` to ``b - 1`` reads (its
    warm-up layers, and the windows of skin layers on either side), None elsewhere so that
    reading further fails loudly."""
    assert job.loops is not None, "a job without regions needs the section loops"
    s = job.settings
    margin = max(s.top_layers, s.bottom_layers) + 2
    first = max(0, a - WARMUP_LAYERS - margin)
    end = min(len(job.loops), b + margin)
    out: list[BaseGeometry] = [None] * len(job.loops)  # type: ignore[list-item]
    for i in range(first, end):
        out[i] = section_region(*job.loops[i])
    return out


def _chunk_layers(job: _Job) -> _Layers:
    """The regions the chunk's layers read: the outlines, and the windows of ``top_layers``
    above and ``bottom_layers`` below them (``skins.Windows``: each computed when skin
    detection first needs it)."""
    s = job.settings
    outlines = job.outlines
    assert outlines is not None, "the chunk's regions are made before its layers"
    above = Windows(outlines, s.top_layers)
    # one set of windows serves both tests when they are as deep
    below = above if s.bottom_layers == s.top_layers else Windows(outlines, s.bottom_layers)
    return _Layers(outlines, above, below)


class _GeometryKeys:
    """Keys that are equal for two layers of a chunk exactly when ``_layer_geometry`` gives
    them the same result: the same section and the same sections of the layers that skin
    detection reads (``bottom_layers`` below to ``top_layers`` above), the same parity
    (infill angles alternate), height and first-layer width (and the same height for the
    gyroid, the one pattern that depends on it). Tall prismatic parts repeat most of their
    layers."""

    def __init__(self, job: _Job, view: _Layers) -> None:
        self._job = job
        self._outlines = view.outlines
        self._wkb: dict[int, bytes] = {}

    def _bytes(self, j: int) -> bytes | None:
        if j < 0 or j >= len(self._outlines):
            return None
        got = self._wkb.get(j)
        if got is None:
            got = self._wkb[j] = wkb.write(self._outlines[j])
        return got

    def of(self, li: int) -> tuple:
        job = self._job
        s = job.settings
        z = float(job.z_mm[li]) if s.infill_pattern == "gyroid" else 0.0
        # the layers read: the windows below and above, and the neighbours (bridges, tops)
        read = range(li - max(s.bottom_layers, 1), li + max(s.top_layers, 1) + 1)
        return (li == 0, li % 2, float(job.height_mm[li]), z, *[self._bytes(j) for j in read])


def _slice_chunk(job: _Job, a: int, b: int, progress: Progress | None = None) -> list[tuple]:
    """The move tuples of layers ``a`` to ``b - 1``, after ``WARMUP_LAYERS`` unsaved layers
    that set the nozzle position and the seams to align with. ``progress(layer + 1, total)``
    after each saved layer."""
    cache: dict[bytes, tuple[IslandPlan, list[Centreline]]] = {}
    corner = job.corner
    pos = (float(corner[0, 0]), float(corner[0, 1]))
    prev_seams = corner
    first = max(0, a - WARMUP_LAYERS)
    view = _chunk_layers(job)
    # the first layer picks its seams freely (most concave corner); a warm-up starts aligned
    # to the rear-left corner, as a layer before it would most likely have left them
    fresh = first == 0
    out: list[tuple] = []
    keys = _GeometryKeys(job, view)
    geometries: dict[tuple, tuple] = {}
    printed: dict[tuple, tuple] = {}
    for li in range(first, b):
        gkey = keys.of(li)
        geometry = geometries.get(gkey)
        if geometry is None:
            geometry = geometries[gkey] = _layer_geometry(li, job, view, cache)
        # a layer like an earlier one of the chunk, started from the same place with the same
        # seams to align with, prints the same moves (only its number and height differ)
        mkey = None if job.supports is not None else (gkey, pos, prev_seams.tobytes(), fresh)
        hit = printed.get(mkey) if mkey is not None else None
        if hit is not None:
            same, pos, prev_seams, fresh = hit
            moves = (*same[:6], li, float(job.z_mm[li]), *same[8:])
        else:
            moves, pos, prev_seams, fresh = _print_layer(
                li, pos, prev_seams, fresh, geometry, job, view.outlines
            )
            if mkey is not None:
                printed[mkey] = (moves, pos, prev_seams, fresh)
        if li >= a:
            out.append(moves)
            if progress is not None:
                progress(li + 1, len(job.z_mm))
    return out


def _print_layer(
    li: int,
    pos: tuple[float, float],
    prev_seams: np.ndarray,
    fresh: bool,
    geometry: tuple,
    job: _Job,
    outlines: list[BaseGeometry],
) -> tuple[tuple, tuple[float, float], np.ndarray, bool]:
    """Seams, order and moves of layer ``li`` from its geometry: the layer's move tuple, the
    new nozzle position, the layer's seams and whether seams are still to be chosen fresh."""
    s, supports, copies, corner = job.settings, job.supports, job.copies, job.corner
    retract_min_travel_mm = job.retract_min_travel_mm
    first = li == 0
    h = float(job.height_mm[li])
    w = s.first_layer_width_mm if first else s.extrusion_width_mm
    sp = spacing_mm(w, h)
    area = cross_section_mm2(w, h)

    def speed(v: float, first: bool = first) -> float:
        return (s.first_layer_mm_s if first else v) * 60.0

    paths = LayerPaths()
    shared = LayerPaths() if copies else paths
    if first:
        base = outlines[0]
        if supports is not None and not supports[0].is_empty:
            base = pg.union(base, supports[0].footprint)
        _skirt_and_brim(
            paths, shared, base, s, w, sp, area, speed(s.perimeter_mm_s), corner, copies
        )
    if supports is not None:
        # support is printed before the part on each layer (group 0, with the brim)
        for kind, seg, v in support_lines_mm(
            supports[li], support_mm_s=s.infill_mm_s, interface_mm_s=s.solid_infill_mm_s
        ):
            for row in seg:
                paths.add(row.reshape(2, 2), kind, area, speed(v), True, 0)
    plans, gap_lines, infill, owner = geometry
    rank = _island_order(plans, pos)
    seams: list[np.ndarray] = []
    n_sub = s.perimeters + 5
    target = prev_seams
    for r, ii in enumerate(rank):
        plan = plans[ii]
        base = 1 + r * n_sub
        for k, level in enumerate(plan.loops):
            sub = k if s.external_perimeter_first else len(plan.loops) - 1 - k
            loop_kind = MoveKind.EXTERNAL_PERIMETER if k == 0 else MoveKind.PERIMETER
            v = s.external_perimeter_mm_s if k == 0 else s.perimeter_mm_s
            for loop in level:
                if s.seam_position == "nearest" and seams:
                    target = np.array(seams[-1:])
                pts = seam_loop(loop, s.seam_position, target, fresh=fresh)
                seams.append(pts[0])
                paths.add(pts, loop_kind, area, speed(v), False, base + sub, island=ii)
        _gap_fill(paths, gap_lines[ii], h, w, speed(s.gap_fill_mm_s), base + s.perimeters, ii)
        for (kind, line, v, sub, flow), who in zip(infill, owner, strict=True):
            if who == ii:
                paths.add(
                    line,
                    kind,
                    flow * area,
                    speed(v),
                    True,
                    base + s.perimeters + 1 + sub,
                    island=ii,
                    fixed=sub == _TOP - 1 and s.monotonic_top,
                )
    if seams:
        prev_seams = np.array(seams)
        fresh = False
    z = float(job.z_mm[li])
    if copies:
        moves = _copies_moves(paths, shared, pos, li, z, s, retract_min_travel_mm, plans, sp,
                              copies)  # fmt: skip
    else:
        moves = layer_moves(paths, pos, li, z, s, retract_min_travel_mm)
        moves = keep_needed_retractions(moves, paths, plans, sp)
    if s.min_layer_time_s > 0:
        moves = (moves[0], slow_down(moves[0], moves[1], moves[2], pos, s), *moves[2:])
    if len(moves[0]):
        pos = (float(moves[0][-1, 0]), float(moves[0][-1, 1]))
    return moves, pos, prev_seams, fresh


def _layer_geometry(
    li: int,
    job: _Job,
    view: _Layers,
    cache: dict[bytes, tuple[IslandPlan, list[Centreline]]],
) -> tuple:
    """(plans, gap centre lines per island, infill paths, owner island of each infill path)
    of layer ``li``: everything that depends on the sections only. ``cache`` shares the plans
    of identical islands (prismatic parts repeat them layer after layer)."""
    s = job.settings
    outlines = view.outlines
    h = float(job.height_mm[li])
    w = s.first_layer_width_mm if li == 0 else s.extrusion_width_mm
    sp = spacing_mm(w, h)
    plans: list[IslandPlan] = []
    gap_lines: list[list[Centreline]] = []
    for isl in pg.islands(outlines[li]):
        key = wkb.write(isl) + np.array([w, sp]).tobytes()
        hit = cache.get(key)
        if hit is None:
            plan = plan_island(isl, s.perimeters, w, sp, gap_fill=s.gap_fill)
            hit = (plan, _gap_centrelines(plan, w))
            cache[key] = hit
        plans.append(hit[0])
        gap_lines.append(hit[1])
    fill = pg.disjoint_union([p.fill for p in plans])
    skins = classify_skins(
        fill, outlines, li, view.above, view.below, s.top_layers, s.bottom_layers,
        spacing_um=sp * pg.UM_PER_MM,
        # no sparse infill: nothing for skins to reach into or to turn solid
        margin_um=s.skin_margin_mm * pg.UM_PER_MM if s.infill_density > 0 else 0.0,
        solid_below_um2=(
            s.solid_infill_below_area_mm2 * pg.UM_PER_MM**2 if s.infill_density > 0 else 0.0
        ),
    )  # fmt: skip
    infill = _infill_paths(skins, li, float(job.z_mm[li]), s, sp, w)
    owner = _owners(plans, [p[1][0] for p in infill])
    return plans, gap_lines, infill, owner


def _copies_moves(
    paths: LayerPaths,
    shared: LayerPaths,
    pos: tuple[float, float],
    layer: int,
    z: float,
    s: SliceSettings,
    retract_min: float,
    plans: list[IslandPlan],
    sp: float,
    copies: Sequence[tuple[float, float]],
) -> tuple:
    """One layer of several copies: the shared paths (skirt) first, then the copy's moves
    replicated at every offset by ``arrange.replicate_layer``."""
    first = layer_moves(shared, pos, layer, z, s, retract_min)
    at = (float(first[0][-1, 0]), float(first[0][-1, 1])) if len(first[0]) else pos
    dx, dy = copies[0]
    one = layer_moves(paths, (at[0] - dx, at[1] - dy), layer, z, s, retract_min)
    one = keep_needed_retractions(one, paths, plans, sp)
    xy, feed, kind, mm3, retract, obj = one[:6]
    rep = replicate_layer(
        xy, feed, kind, mm3, retract, obj, copies, pos=at, retract_min_travel_mm=retract_min
    )
    cat = [np.concatenate([first[k], rep[k]]) for k in range(6)]
    return (*cat, layer, z, np.zeros(len(cat[0]), np.int64))


def _skirt_and_brim(
    paths: LayerPaths,
    shared: LayerPaths,
    outline: BaseGeometry,
    s: SliceSettings,
    w: float,
    sp: float,
    area: float,
    feed: float,
    corner: np.ndarray,
    copies: Sequence[tuple[float, float]] = (),
) -> None:
    """Brim loops around the outer contours (object 0, kind SKIRT, from the part outward)
    and skirt loops (object -1) around the first layer and its brim."""
    if outline.is_empty:
        return
    outer = pg.union(*[shapely.Polygon(p.exterior) for p in pg.islands(outline)])
    n_brim = int(round(s.brim_width_mm / sp)) if s.brim_width_mm > 0 else 0
    for k in range(n_brim):
        ring = pg.offset(outer, (w / 2 + k * sp) * pg.UM_PER_MM)
        for loop, hole in pg.rings(ring):
            if not hole:
                paths.add(
                    seam_loop(loop, "aligned", corner), MoveKind.SKIRT, area, feed, False, 0, obj=0
                )
    reach = outer if n_brim == 0 else pg.offset(outer, n_brim * sp * pg.UM_PER_MM)
    if copies:
        reach = pg.union(
            *[shapely.affinity.translate(reach, dx * pg.UM_PER_MM, dy * pg.UM_PER_MM)
              for dx, dy in copies]
        )  # fmt: skip
    if s.skirt_loops > 0:
        hull = shapely.convex_hull(reach)
        for k in range(s.skirt_loops):
            ring = pg.offset_round(hull, (s.skirt_distance_mm + w / 2 + k * sp) * pg.UM_PER_MM)
            for loop, _ in pg.rings(ring):
                shared.add(
                    seam_loop(loop, "aligned", corner),
                    MoveKind.SKIRT,
                    area,
                    feed,
                    False,
                    -1 - k,
                    obj=-1,
                )


def _gap_centrelines(plan: IslandPlan, w: float) -> list[Centreline]:
    if plan.gaps.is_empty:
        return []
    w_um = w * pg.UM_PER_MM
    return centrelines(
        plan.gaps, sample_um=w_um / 3.0, min_area_um2=(0.05 * w_um) ** 2, small_area_um2=w_um**2
    )


def _gap_fill(
    paths: LayerPaths,
    lines: list[Centreline],
    h: float,
    width_mm: float,
    feed: float,
    group: int,
    island: int,
) -> None:
    """Centre lines of the island's gaps, each segment extruding its local width, scaled so
    every gap piece gets exactly its own volume (area × layer height). Segments narrower than
    ``MIN_BEAD`` line widths are left out (a bead that thin cannot come out of the nozzle:
    the sliver along a sloped face's top edge) and their volume goes to the rest of their
    centre line; a centre line that thin all along is left out, as whole pieces that narrow
    are (``regions``)."""
    min_um = MIN_BEAD * width_mm * pg.UM_PER_MM
    for cl in lines:
        xy = cl.points_um / pg.UM_PER_MM
        keep = cl.width_um >= min_um
        seg_len = np.hypot(*np.diff(xy, axis=0).T)
        weight = float((seg_len * cl.width_um)[keep].sum())
        if weight <= 0:
            continue
        rate = cl.share_um2 / pg.UM_PER_MM**2 * h * cl.width_um / weight  # mm³ per mm
        # runs of kept segments: segments a..b-1 use points a..b
        edges = np.diff(np.r_[0, keep.astype(np.int8), 0])
        for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
            paths.add(xy[a : b + 1], MoveKind.GAP_FILL, rate[a:b], feed, True, group, island=island)


def _infill_paths(
    skins: Skins, layer: int, z: float, s: SliceSettings, sp: float, width_mm: float
) -> list[tuple[int, np.ndarray, float, int, float]]:
    """(kind, polyline mm, speed mm/s, sub-group - 1, flow factor) of every infill path."""
    sp_um = sp * pg.UM_PER_MM
    solid_angle = 45.0 if layer % 2 == 0 else 135.0
    out: list[tuple[int, np.ndarray, float, int, float]] = []
    link = 3.0 * sp_um
    ext = s.infill_overlap * width_mm * pg.UM_PER_MM
    # narrow strips of internal solid infill along their length (``slice.strips``)
    narrow_um = s.narrow_solid_mm * pg.UM_PER_MM if layer > 0 else 0.0
    strips, wide = narrow_strips(skins.solid, narrow_um, 2.0 * sp_um)
    solid = hatch(wide, solid_angle, sp_um, link_um=link, extend_um=ext)
    for region, angle in strips:
        solid += strip_hatch(region, angle, sp_um, link_um=link, extend_um=ext)
    for line, f in solid:
        out.append((MoveKind.SOLID_INFILL, line, s.solid_infill_mm_s, _SOLID - 1, f))
    if s.infill_density > 0 and not skins.sparse.is_empty:
        if s.infill_density >= 0.999 and s.infill_pattern == "rectilinear":
            sparse = hatch(skins.sparse, solid_angle, sp_um, link_um=link, extend_um=ext)
        else:
            sparse = [
                (p, 1.0)
                for p in pattern_paths(
                    skins.sparse,
                    s.infill_pattern,
                    s.infill_density,
                    s.infill_angle_deg,
                    layer,
                    z,
                    sp,
                    link_um=s.infill_anchor_mm * pg.UM_PER_MM,
                    overlap_um=ext,
                )
            ]
        for line, f in sparse:
            out.append((MoveKind.SPARSE_INFILL, line, s.infill_mm_s, _SPARSE - 1, f))
    for region, angle in skins.bridges:
        for line, f in hatch(region, angle, sp_um, link_um=link, extend_um=ext):
            bflow = f * s.bridge_flow_ratio
            out.append((MoveKind.BRIDGE, line, s.bridge_mm_s, _BRIDGE - 1, bflow))
    top_link = 0.0 if s.monotonic_top else link
    for line, f in hatch(skins.top, solid_angle, sp_um, link_um=top_link, extend_um=ext):
        out.append((MoveKind.TOP_SOLID, line, s.top_solid_mm_s, _TOP - 1, f))
    return out


def _owners(plans: list[IslandPlan], first_points: list[np.ndarray]) -> np.ndarray:
    """int (n,): index of the island each point (mm) lies in (nearest island if none)."""
    if not first_points:
        return np.zeros(0, dtype=np.int64)
    if len(plans) == 1:
        return np.zeros(len(first_points), dtype=np.int64)
    xy = np.array(first_points) * pg.UM_PER_MM
    pts = shapely.points(xy)
    tree = shapely.STRtree([p.outline for p in plans])
    return np.asarray(tree.query_nearest(pts, all_matches=False)[1], dtype=np.int64)


def _island_order(plans: list[IslandPlan], pos: tuple[float, float]) -> list[int]:
    """Islands in greedy nearest-neighbour order from ``pos`` (by a point of each outline)."""
    if len(plans) <= 1:
        return list(range(len(plans)))
    ref = (
        np.array([shapely.get_coordinates(shapely.get_exterior_ring(p.outline))[0] for p in plans])
        / pg.UM_PER_MM
    )
    n = len(plans)
    order, _ = order_paths(
        ref, ref, np.zeros(n, bool), np.zeros(n, np.int64), np.zeros(n, bool), pos[0], pos[1]
    )
    return [int(i) for i in order]


# the move helpers under their former private names (supports.py and arrange.py docs)
_layer_moves = layer_moves
