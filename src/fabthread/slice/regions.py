"""What each layer prints where: perimeter loops, infill region, solid (top/bottom) skins.

All regions in integer micrometres (shapely); widths and heights in mm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from shapely.geometry.base import BaseGeometry

from fabthread.geom import polygons as pg


def cross_section_mm2(width_mm: float, height_mm: float) -> float:
    """Area of an extruded line (a rectangle with semicircular sides): (w - h)·h + π·(h/2)²."""
    return (width_mm - height_mm) * height_mm + math.pi * (height_mm / 2.0) ** 2


def spacing_mm(width_mm: float, height_mm: float) -> float:
    """Centre distance of adjacent lines that leaves no gap and no overlap in volume:
    w - h·(1 - π/4), so that cross_section = spacing · h."""
    return width_mm - height_mm * (1.0 - math.pi / 4.0)


@dataclass(frozen=True, slots=True)
class IslandPlan:
    """One connected region of a layer.

    outline: the island (µm). loops: per perimeter level (0 = external), the rings
    (int64 (n, 2) µm) of that level. fill: where infill goes (µm). tiny: True when the island
    is too thin for even the external perimeter; then ``loops[0]`` holds its outline and the
    whole island's volume is extruded along it.
    """

    outline: BaseGeometry
    loops: tuple[tuple[np.ndarray, ...], ...]
    fill: BaseGeometry
    tiny: bool = False


def plan_island(
    island: BaseGeometry, perimeters: int, width_mm: float, spacing: float
) -> IslandPlan:
    """Perimeter loops and infill region of one island.

    The external perimeter's centre line is the outline offset inward by half the width, the
    next ones by one spacing each; the infill region is the last loop offset by half a spacing
    (with no perimeters: the outline offset by (w - s)/2), so every line deposits a band one
    spacing wide and 100 % infill fills the part's volume.
    """
    w_um = width_mm * pg.UM_PER_MM
    s_um = spacing * pg.UM_PER_MM
    levels: list[tuple[np.ndarray, ...]] = []
    for k in range(perimeters):
        level = pg.offset(island, -(w_um / 2.0 + k * s_um))
        if level.is_empty:
            break
        levels.append(tuple(r for r, _ in pg.rings(level)))
    if perimeters > 0 and not levels:
        outline = tuple(r for r, hole in pg.rings(island) if not hole)
        return IslandPlan(island, (outline,), pg.EMPTY, tiny=True)
    if perimeters == 0:
        fill = pg.offset(island, -(w_um - s_um) / 2.0)
        if fill.is_empty:
            outline = tuple(r for r, hole in pg.rings(island) if not hole)
            return IslandPlan(island, (outline,), pg.EMPTY, tiny=True)
    else:
        fill = pg.offset(island, -(w_um / 2.0 + (perimeters - 1) * s_um + s_um / 2.0))
    return IslandPlan(island, tuple(levels), fill)


@dataclass(frozen=True, slots=True)
class Skins:
    """Infill regions of one layer (µm): the top surface, other solid infill, sparse infill."""

    top: BaseGeometry
    solid: BaseGeometry
    sparse: BaseGeometry


def layer_skins(
    fill: BaseGeometry,
    outlines: list[BaseGeometry],
    layer: int,
    top_layers: int,
    bottom_layers: int,
) -> Skins:
    """Split the infill region ``fill`` of ``layer`` into top surface, solid and sparse.

    Solid is what is not covered by all of the ``top_layers`` layers above, or not supported
    by all of the ``bottom_layers`` below (outside the stack counts as empty). The top surface
    is the solid part not covered by the very next layer.
    """
    if fill.is_empty:
        return Skins(pg.EMPTY, pg.EMPTY, pg.EMPTY)
    n = len(outlines)
    solid_parts: list[BaseGeometry] = []
    top = pg.EMPTY
    if top_layers > 0:
        above_idx = range(layer + 1, layer + 1 + top_layers)
        above = pg.intersection_all([outlines[j] if j < n else pg.EMPTY for j in above_idx])
        solid_parts.append(pg.difference(fill, above))
        nxt = outlines[layer + 1] if layer + 1 < n else pg.EMPTY
        top = pg.difference(fill, nxt)
    if bottom_layers > 0:
        below_idx = range(layer - bottom_layers, layer)
        below = pg.intersection_all([outlines[j] if j >= 0 else pg.EMPTY for j in below_idx])
        solid_parts.append(pg.difference(fill, below))
    solid_all = pg.union(*solid_parts)
    solid = pg.difference(solid_all, top)
    sparse = pg.difference(fill, solid_all)
    return Skins(top, solid, sparse)
