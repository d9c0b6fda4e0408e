"""Solid skins by comparing layers: top surfaces, bottom surfaces, bridges over air, sparse.

All regions in integer micrometres (shapely). The expensive part of skin detection is the
intersection of the ``k`` layers above (or below) a layer. Most layers of a part need none:
their infill region lies inside each of those layers, which prepared ``covers`` tests tell
at a sixth of the cost of the two booleans of a three-layer window (idler_riser: 49 against
283 us a layer), and then inside their intersection too. The others read the intersection
from ``Windows``, which computes each once, when first asked, for the top test of the layer
below it and the bottom test of the layer above it alike.

Skins are then grown into the sparse infill by a margin (a skin edge must rest on sparse
lines, which are 2 mm apart at 20 %; a bridge must reach the solid ground on both sides), and
what that leaves of the sparse region in slivers or small pieces is printed solid too, as
PrusaSlicer does (3 mm margin, ``solid_infill_below_area`` 70 mm²).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from fabthread.geom import polygons as pg
from fabthread.model.settings import SliceSettings
from fabthread.slice.kernels.hatch import scanline_segments


@dataclass(frozen=True, slots=True)
class Skins:
    """Infill regions of one layer (µm): the top surface, other solid infill, sparse infill,
    and bridges (solid area with nothing below) as (region, angle in degrees) pairs."""

    top: BaseGeometry
    solid: BaseGeometry
    sparse: BaseGeometry
    bridges: tuple[tuple[BaseGeometry, float], ...] = ()


class Windows:
    """``windows[j]`` = the intersection of ``outlines[j : j + k]`` (empty when the window
    leaves the stack or ``k`` <= 0), computed when first asked for and kept."""

    def __init__(self, outlines: Sequence[BaseGeometry], k: int) -> None:
        self.outlines = outlines
        self.k = k
        self._done: dict[int, BaseGeometry] = {}

    def __len__(self) -> int:
        return len(self.outlines)

    def __getitem__(self, j: int) -> BaseGeometry:
        got = self._done.get(j)
        if got is None:
            got = self._done[j] = self._window(j)
        return got

    def _window(self, j: int) -> BaseGeometry:
        k, outlines = self.k, self.outlines
        if k <= 0 or j < 0 or j + k > len(outlines):
            return pg.EMPTY
        region = outlines[j]
        for i in range(j + 1, j + k):
            region = pg.intersection(region, outlines[i])
            if region.is_empty:
                break
        return region


def window_intersections(outlines: Sequence[BaseGeometry], k: int) -> list[BaseGeometry]:
    """``[Windows(outlines, k)[j] for j in 0..L-1]``: every window at once."""
    windows = Windows(outlines, k)
    return [windows[j] for j in range(len(outlines))] if k > 0 else []


def _inside_each(fill: BaseGeometry, outlines: Sequence[BaseGeometry], j: int, k: int) -> bool:
    """Whether ``fill`` lies inside each of ``outlines[j : j + k]`` (all in the stack), and
    so inside their intersection: a window that need not be computed."""
    if j < 0 or j + k > len(outlines):
        return False
    for region in outlines[j : j + k]:
        shapely.prepare(region)
        if not shapely.covers(region, fill):
            return False
    return True


_DEFAULTS = SliceSettings()


def classify_skins(
    fill: BaseGeometry,
    outlines: Sequence[BaseGeometry],
    layer: int,
    above: Windows | Sequence[BaseGeometry],
    below: Windows | Sequence[BaseGeometry],
    top_layers: int,
    bottom_layers: int,
    *,
    spacing_um: float,
    detect_bridges: bool = True,
    margin_um: float = _DEFAULTS.skin_margin_mm * pg.UM_PER_MM,
    solid_below_um2: float = _DEFAULTS.solid_infill_below_area_mm2 * pg.UM_PER_MM**2,
) -> Skins:
    """Split the infill region ``fill`` of ``layer`` into top, solid, bridges and sparse.

    ``above``/``below`` are the ``Windows`` (or ``window_intersections``) of ``top_layers``
    and ``bottom_layers``, read only where ``fill`` does not lie inside each layer of the
    window. Solid is what is not covered by all of the ``top_layers`` layers above or
    not supported by all of the ``bottom_layers`` below (outside the stack counts as empty),
    grown by ``margin_um`` into the rest of ``fill`` (``skin_margin_mm``: the skin's edges
    rest on sparse lines); what is then left of the sparse region in strips narrower than two
    line spacings or in pieces smaller than ``solid_below_um2``
    (``solid_infill_below_area_mm2``) is solid too: sparse lines there would be a few short
    stubs. The top surface is the solid part not covered by the very next layer; a bridge is
    the part (above the first layer) with nothing in the layer right below, grown by the
    margin over the solid part around it, so its lines land on the layer below at both ends.
    The defaults are those of ``SliceSettings``; pass 0 for both with 0 % infill (there is no
    sparse infill to anchor on or to replace).
    """
    if fill.is_empty:
        return Skins(pg.EMPTY, pg.EMPTY, pg.EMPTY)
    n = len(outlines)
    need: list[BaseGeometry] = []
    top = pg.EMPTY
    here = outlines[layer]
    if top_layers > 0 and _inside_each(fill, outlines, layer + 1, top_layers):
        need.append(pg.EMPTY)
    elif top_layers > 0:
        cover = above[layer + 1] if layer + 1 < n else pg.EMPTY
        # fill lies inside this layer: a cover equal to it leaves nothing solid
        need.append(pg.EMPTY if pg.same(cover, here) else pg.difference(fill, cover))
        if not need[-1].is_empty:
            nxt = outlines[layer + 1] if layer + 1 < n else pg.EMPTY
            top = pg.EMPTY if pg.same(nxt, here) else pg.difference(need[-1], nxt)
    air = pg.EMPTY
    if bottom_layers > 0 and _inside_each(fill, outlines, layer - bottom_layers, bottom_layers):
        need.append(pg.EMPTY)
    elif bottom_layers > 0:
        j = layer - bottom_layers
        support = below[j] if j >= 0 else pg.EMPTY
        need.append(pg.EMPTY if pg.same(support, here) else pg.difference(fill, support))
        if detect_bridges and layer > 0 and not need[-1].is_empty:
            air = pg.difference(pg.difference(need[-1], outlines[layer - 1]), top)
            air = _drop_slivers(air, spacing_um)
    solid_all = pg.union(*need)
    if margin_um > 0 and not solid_all.is_empty:
        solid_all = pg.intersection(pg.offset(solid_all, margin_um), fill)
    sparse = _solidify_small(pg.difference(fill, solid_all), solid_below_um2, 2 * spacing_um)
    if pg.same(sparse, fill):
        return Skins(pg.EMPTY, pg.EMPTY, fill)
    solid_all = pg.difference(fill, sparse)
    bridges: list[tuple[BaseGeometry, float]] = []
    if not air.is_empty:
        lower = outlines[layer - 1]
        room = pg.difference(solid_all, top)
        taken = pg.EMPTY
        for piece in pg.islands(air):
            angle = bridge_angle(piece, lower, spacing_um)
            if margin_um > 0:
                piece = pg.intersection(pg.offset(piece, margin_um), room)
            piece = pg.difference(piece, taken)
            if piece.is_empty:
                continue
            taken = pg.union(taken, piece)
            bridges.append((piece, angle))
    bridge_all = pg.union(*[b for b, _ in bridges]) if bridges else pg.EMPTY
    solid = pg.difference(pg.difference(solid_all, top), bridge_all)
    return Skins(top, solid, sparse, tuple(bridges))


def _solidify_small(sparse: BaseGeometry, min_area_um2: float, min_width_um: float) -> BaseGeometry:
    """``sparse`` without the strips narrower than ``min_width_um`` and the pieces smaller
    than ``min_area_um2`` (they become solid)."""
    if sparse.is_empty:
        return sparse
    opened = pg.opening(sparse, min_width_um / 2.0)
    pieces = pg.parts(opened)
    keep = shapely.area(pieces) >= min_area_um2
    if keep.all() and pg.same(opened, sparse):
        return sparse
    return pg.disjoint_union(list(pieces[keep]))


def _drop_slivers(region: BaseGeometry, width_um: float) -> BaseGeometry:
    """Pieces narrower than a line are not bridges (the overhang next to a wall)."""
    if region.is_empty:
        return region
    return pg.opening(region, width_um)


#: Candidate bridge directions (degrees) besides the directions of the bridge's own edges.
_CANDIDATE_ANGLES = tuple(range(0, 180, 15))


def bridge_angle(bridge: BaseGeometry, below: BaseGeometry, spacing_um: float) -> float:
    """The direction (degrees, 0..180) to lay bridge lines over ``bridge`` (µm).

    Each candidate direction is hatched; a line is anchored when both its ends land on the
    layer below (within two line spacings). The best direction anchors the largest share of
    the bridge's line length at both ends; ties go to the shortest longest anchored span.
    Candidates: every 15° and the directions of the bridge's longest edges.
    """
    anchors = pg.intersection(pg.offset(bridge, 3.0 * spacing_um), below)
    if anchors.is_empty:
        return 0.0
    shapely.prepare(anchors)
    cands = list(_CANDIDATE_ANGLES) + _edge_angles(bridge)
    pts, ring_start, _ = pg.to_arrays(bridge)
    xy = pts.astype(np.float64)
    step = max(spacing_um, math.sqrt(max(bridge.area, 1.0)) / 12.0)
    best = (-1.0, 0.0, 0.0)  # (anchored share, -longest span, angle)
    for ang in cands:
        a = math.radians(ang)
        c, s = math.cos(a), math.sin(a)
        rx = c * xy[:, 0] + s * xy[:, 1]
        ry = -s * xy[:, 0] + c * xy[:, 1]
        ys = np.arange(ry.min() + step / 2, ry.max(), step)
        if len(ys) == 0:
            continue
        seg = scanline_segments(np.ascontiguousarray(np.stack([rx, ry], 1)), ring_start, ys)
        if len(seg) == 0:
            continue
        length = seg[:, 2] - seg[:, 0]
        ends = []
        for xs in (seg[:, 0] - spacing_um, seg[:, 2] + spacing_um):
            ex = c * xs - s * seg[:, 1]
            ey = s * xs + c * seg[:, 1]
            ends.append(shapely.intersects_xy(anchors, ex, ey))
        both = ends[0] & ends[1]
        share = float(length[both].sum() / max(length.sum(), 1e-9))
        longest = float(length[both].max()) if both.any() else float(length.max())
        key = (round(share, 3), -longest, -ang)
        if key > best:
            best = key
    return float(-best[2]) % 180.0


def _edge_angles(region: BaseGeometry, count: int = 4) -> list[float]:
    """Directions (degrees) of the ``count`` longest edges of ``region``, and their normals."""
    out: list[float] = []
    for loop, _ in pg.rings(region):
        d = np.diff(np.vstack([loop, loop[:1]]).astype(np.float64), axis=0)
        length = np.hypot(d[:, 0], d[:, 1])
        for i in np.argsort(length)[::-1][:count]:
            ang = math.degrees(math.atan2(d[i, 1], d[i, 0])) % 180.0
            out += [round(ang, 1), round((ang + 90.0) % 180.0, 1)]
    return out[: 2 * count]
