"""FDM support material: overhangs -> support columns -> grid lines and dense interface lines.

API (all regions are shapely geometries in integer micrometres, as ``slice_layers`` and
``section_mesh`` return them; lengths in mm):

``plan_supports(regions, z_mm, heights_mm, *, angle_deg=50, xy_gap_mm=0.6, z_gap_layers=1,
interface_layers=2, density=0.2, interface_density=0.7, line_width_mm=0.45,
min_area_mm2=0.1, outline=True) -> list[SupportLayer]``
    One ``SupportLayer`` per layer (same indexing as ``regions``).

``overhangs(regions, heights_mm, *, angle_deg, min_area_mm2=0.1) -> list[BaseGeometry]``
    The part of each layer that its layer below does not hold up.

``support_lines_mm(layer, *, support_mm_s, interface_mm_s) -> list[(kind, lines, mm_s)]``
    The layer's lines as ``(MoveKind, float64 (S, 4) mm x0 y0 x1 y1, speed mm/s)``, like the
    slicer's infill lines; the slicer turns them into moves with its own ``LayerPaths`` and
    ``_layer_moves`` (ordering, travels, retracts), each line a reversible 2-point path:

        supports = plan_supports(outlines, stack.z_mm, stack.height_mm,
                                 angle_deg=s.support_angle_deg, ...) if s.supports else None
        ...  # per layer li, after the skirt, before the islands:
        if supports is not None:
            for kind, seg, v in support_lines_mm(supports[li], support_mm_s=...,
                                                 interface_mm_s=...):
                for row in seg:
                    paths.add(row.reshape(2, 2), kind, area, speed(v), True, 0)

    Group 0 is the skirt's group: support is printed before the part on each layer. The skirt
    of layer 0 should enclose ``supports[0].footprint`` as well as the part.

The model, in the spirit of the classic layer-based support generators (own implementation):

1. Overhang of layer i: ``regions[i]`` minus ``regions[i-1]`` grown by ``h_i·tan(angle)``.
   ``angle_deg`` is measured from the vertical: a wall leaning less than ``angle_deg`` holds
   itself up (so a 45° chamfer needs no support with the default 50°). The contact area to
   hold up is the overhang grown back over that band (up to the edge of layer i-1), so the
   contacts of a gradual overhang join into one area instead of rings with gaps.
2. Columns grow downwards from each overhang and only from overhangs (support never starts in
   mid-air). An overhang of layer i first enters support layer ``i - 1 - z_gap_layers``, leaving
   ``z_gap_layers`` empty layers below the supported surface. A column stops where it meets the
   part (it rests on it) or reaches the bed.
3. Printed support at layer j = column minus the part grown by ``xy_gap_mm``, minus the part of
   the ``z_gap_layers`` layers below (an empty gap over a part top that support rests on).
4. Interface: the printed support that lies under the part within ``interface_layers`` layers
   above the z gap; it is hatched densely (``interface_density``), alternating 0°/90° per
   layer. The rest is hatched as a grid (lines at 0° and 90° on every layer, on a global
   grid, so walls stack into columns) at ``density``, inside one outline wall.

Lines are hatched inside the support area shrunk by half a line width, so the deposited
material (not only the centre lines) keeps the xy gap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from shapely.geometry.base import BaseGeometry

from fabthread.geom import polygons as pg
from fabthread.model._frozen import readonly
from fabthread.model.toolpath import MoveKind
from fabthread.slice.infill import rectilinear
from fabthread.slice.regions import spacing_mm

#: Tolerance (µm) for simplifying the carried column region: far below any gap.
_CARRY_TOLERANCE_UM = 5.0
#: Tolerance (µm) of the support wall outline.
_WALL_TOLERANCE_UM = 25.0
#: Extra reach (µm) of the contact area back toward the layer below, to close round-off gaps.
_REACH_SLACK_UM = 10.0


@dataclass(frozen=True, slots=True)
class SupportLayer:
    """Support of one layer.

    support: the sparse (grid) support area (µm region). interface: the dense interface area
    right below the supported surface (µm region, disjoint from ``support``).
    lines, interface_lines: int64 (n, 2, 2) µm line segments ((x0, y0), (x1, y1)) to print in
    each area.
    """

    support: BaseGeometry
    interface: BaseGeometry
    lines: np.ndarray
    interface_lines: np.ndarray

    def __post_init__(self) -> None:
        for name in ("lines", "interface_lines"):
            arr = np.asarray(getattr(self, name), dtype=np.int64).reshape(-1, 2, 2)
            object.__setattr__(self, name, readonly(arr, np.int64, (2, 2)))

    @property
    def is_empty(self) -> bool:
        return self.support.is_empty and self.interface.is_empty

    @property
    def footprint(self) -> BaseGeometry:
        """Support and interface together (µm)."""
        return pg.union(self.support, self.interface)


EMPTY_LAYER = SupportLayer(pg.EMPTY, pg.EMPTY, np.zeros((0, 2, 2)), np.zeros((0, 2, 2)))


def overhangs(
    regions: Sequence[BaseGeometry],
    heights_mm: np.ndarray,
    *,
    angle_deg: float,
    min_area_mm2: float = 0.1,
) -> list[BaseGeometry]:
    """Per layer, the area (µm) not held up by the layer below: ``regions[i]`` minus
    ``regions[i-1]`` grown by ``heights_mm[i]·tan(angle_deg)`` (angle from the vertical).
    Layer 0 sits on the bed. Pieces smaller than ``min_area_mm2`` (facet noise) are dropped."""
    if not 0.0 <= angle_deg < 90.0:
        raise ValueError(f"angle_deg={angle_deg} must be in [0, 90)")
    tan = math.tan(math.radians(angle_deg))
    min_area_um2 = min_area_mm2 * pg.UM_PER_MM**2
    out: list[BaseGeometry] = [pg.EMPTY] * len(regions)
    for i in range(1, len(regions)):
        if regions[i].is_empty:
            continue
        below = pg.offset(regions[i - 1], float(heights_mm[i]) * tan * pg.UM_PER_MM)
        over = pg.difference(regions[i], below)
        if not over.is_empty:
            out[i] = pg.union(*[p for p in pg.islands(over) if p.area >= min_area_um2])
    return out


def plan_supports(
    regions: Sequence[BaseGeometry],
    z_mm: np.ndarray,
    heights_mm: np.ndarray,
    *,
    angle_deg: float = 50.0,
    xy_gap_mm: float = 0.6,
    z_gap_layers: int = 1,
    interface_layers: int = 2,
    density: float = 0.2,
    interface_density: float = 0.7,
    line_width_mm: float = 0.45,
    min_area_mm2: float = 0.1,
    outline: bool = True,
) -> list[SupportLayer]:
    """Support for a part given as per-layer regions (see the module docstring).

    regions: L shapely regions (µm), bottom layer first; z_mm, heights_mm: float64 (L,) layer
    tops and thicknesses (mm). density: sparse support fraction 0..1 (a grid of two directions,
    so each direction is spaced 2·w/density); interface_density: 0..1 of the dense interface;
    outline: one wall around the sparse support (holds the grid together and gives support
    bands narrower than the grid spacing something to print).
    Returns L ``SupportLayer``; layers without support hold empty regions and (0, 2, 2) lines.
    """
    n = len(regions)
    z_mm = np.asarray(z_mm, dtype=np.float64)
    heights_mm = np.asarray(heights_mm, dtype=np.float64)
    if len(z_mm) != n or len(heights_mm) != n:
        raise ValueError(
            f"plan_supports: {n} regions but {len(z_mm)} z_mm and {len(heights_mm)} heights_mm"
        )
    for name, val, lo, hi in (
        ("density", density, 0.0, 1.0),
        ("interface_density", interface_density, 0.0, 1.0),
    ):
        if not lo < val <= hi:
            raise ValueError(f"{name}={val} must be in (0, 1]")
    if z_gap_layers < 0 or interface_layers < 0 or xy_gap_mm < 0 or line_width_mm <= 0:
        raise ValueError("z_gap_layers, interface_layers, xy_gap_mm >= 0 and line_width_mm > 0")
    over = overhangs(regions, heights_mm, angle_deg=angle_deg, min_area_mm2=min_area_mm2)
    # Support reaches back under the self-supported band along the edge of the layer below:
    # otherwise a gradual overhang (a sphere's underside) leaves concentric slivers with gaps.
    tan = math.tan(math.radians(angle_deg))
    contact = [
        o
        if o.is_empty
        else pg.intersection(
            pg.offset(o, float(h) * tan * pg.UM_PER_MM + _REACH_SLACK_UM), regions[i]
        )
        for i, (o, h) in enumerate(zip(over, heights_mm, strict=True))
    ]
    areas = _support_areas(regions, contact, xy_gap_mm, z_gap_layers)
    out: list[SupportLayer] = []
    w_um = line_width_mm * pg.UM_PER_MM
    for j, area in enumerate(areas):
        if area.is_empty:
            out.append(EMPTY_LAYER)
            continue
        lo, hi = j + 1 + z_gap_layers, min(n, j + 1 + z_gap_layers + interface_layers)
        above = pg.union(*regions[lo:hi]) if hi > lo else pg.EMPTY
        iface = pg.intersection(area, above)
        base = pg.difference(area, iface)
        out.append(
            SupportLayer(
                support=base,
                interface=iface,
                lines=_grid_lines(base, w_um, density, heights_mm[j], outline),
                interface_lines=_interface_lines(iface, w_um, interface_density, heights_mm[j], j),
            )
        )
    return out


def _support_areas(
    regions: Sequence[BaseGeometry],
    over: Sequence[BaseGeometry],
    xy_gap_mm: float,
    z_gap_layers: int,
) -> list[BaseGeometry]:
    """Printed support area (µm) per layer: columns carried down from the overhangs, stopped
    by the part, kept ``xy_gap_mm`` from the part and ``z_gap_layers`` above part tops."""
    n = len(regions)
    gap_um = xy_gap_mm * pg.UM_PER_MM
    areas: list[BaseGeometry] = [pg.EMPTY] * n
    carry = pg.EMPTY
    for j in range(n - 1, -1, -1):
        src = j + 1 + z_gap_layers
        if src < n and not over[src].is_empty:
            carry = pg.union(carry, over[src])
        if carry.is_empty:
            continue
        # the column rests on the part: nothing below the part's cross-section continues
        carry = pg.simplify(pg.difference(carry, regions[j]), _CARRY_TOLERANCE_UM)
        if carry.is_empty:
            continue
        area = pg.difference(carry, pg.offset(regions[j], gap_um))
        below = [regions[k] for k in range(max(0, j - z_gap_layers), j)]
        if below:
            area = pg.difference(area, pg.union(*below))
        areas[j] = area
    return areas


def _grid_lines(
    area: BaseGeometry, w_um: float, density: float, h_mm: float, outline: bool
) -> np.ndarray:
    """Grid (0° and 90°) lines in ``area`` shrunk by half a line width, after its outline
    (one wall, as consecutive segments) when ``outline``: int64 (n, 2, 2) µm."""
    inner = pg.offset(area, -w_um / 2.0)
    if inner.is_empty:
        return np.zeros((0, 2, 2), np.int64)
    sp = 2.0 * _spacing_um(w_um, h_mm) / density
    seg = _to_um(np.concatenate([rectilinear(inner, 0.0, sp), rectilinear(inner, 90.0, sp)]))
    if not outline:
        return seg
    # support needs no 5 µm detail: fewer, longer wall segments (shrunk first, so the
    # simplified wall never comes closer to the part)
    wall = pg.simplify(pg.offset(inner, -_WALL_TOLERANCE_UM), _WALL_TOLERANCE_UM)
    rings = [ring for ring, _ in pg.rings(wall)]
    walls = [np.stack([ring, np.roll(ring, -1, axis=0)], axis=1) for ring in rings]
    return np.concatenate([*walls, seg])


def _interface_lines(
    area: BaseGeometry, w_um: float, density: float, h_mm: float, layer: int
) -> np.ndarray:
    """Dense lines in ``area`` shrunk by half a line width, 0° on even and 90° on odd layers."""
    inner = pg.offset(area, -w_um / 2.0)
    if inner.is_empty:
        return np.zeros((0, 2, 2), np.int64)
    angle = 90.0 if layer % 2 else 0.0
    return _to_um(rectilinear(inner, angle, _spacing_um(w_um, h_mm) / density))


def _spacing_um(w_um: float, h_mm: float) -> float:
    """Centre distance of touching lines (the slicer's spacing), in µm."""
    return spacing_mm(w_um / pg.UM_PER_MM, float(h_mm)) * pg.UM_PER_MM


def _to_um(seg_mm: np.ndarray) -> np.ndarray:
    """float64 (S, 4) mm -> int64 (S, 2, 2) µm."""
    return pg.to_um(seg_mm.reshape(-1, 2)).reshape(-1, 2, 2)


def support_lines_mm(
    layer: SupportLayer, *, support_mm_s: float, interface_mm_s: float
) -> list[tuple[int, np.ndarray, float]]:
    """(kind, lines float64 (S, 4) mm x0 y0 x1 y1, speed mm/s) of one support layer, in the
    shape of the slicer's infill lines; kinds are ``MoveKind.SUPPORT`` and
    ``MoveKind.SUPPORT_INTERFACE``. Empty groups are left out."""
    out = [
        (int(MoveKind.SUPPORT), layer.lines, support_mm_s),
        (int(MoveKind.SUPPORT_INTERFACE), layer.interface_lines, interface_mm_s),
    ]
    return [
        (kind, seg.reshape(-1, 4).astype(np.float64) / pg.UM_PER_MM, v)
        for kind, seg, v in out
        if len(seg)
    ]
