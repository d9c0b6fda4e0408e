"""What each layer prints where: perimeter loops, infill region, solid (top/bottom) skins.

All regions in integer micrometres (shapely); widths and heights in mm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from fabthread.geom import polygons as pg


def cross_section_mm2(width_mm: float, height_mm: float) -> float:
    """Area of an extruded line (a rectangle with semicircular sides): (w - h)·h + π·(h/2)²."""
    return (width_mm - height_mm) * height_mm + math.pi * (height_mm / 2.0) ** 2


def spacing_mm(width_mm: float, height_mm: float) -> float:
    """Centre distance of adjacent lines that leaves no gap and no overlap in volume:
    w - h·(1 - π/4), so that cross_section = spacing · h."""
    return width_mm - height_mm * (1.0 - math.pi / 4.0)


#: Narrowest gap-fill bead, in line widths (0.11 mm for 0.45 mm lines): gap pieces narrower
#: everywhere are left empty (PrusaSlicer's Arachne drops features under a quarter nozzle).
MIN_BEAD = 0.25
#: How much wider than its band a loop is taken when the gaps are cut out (µm). The loops come
#: from four successive offsets, each rounded to the micrometre grid, so a band misses the
#: outline by a micrometre or two along its whole length; cut out exactly, those slivers
#: became thousands of pieces per slice (7,655 on Benchy, 835 of them kept), each dropped
#: again as too narrow for a bead, and the cut itself often fell back to GEOS's snap-rounding
#: overlay. Three micrometres more removes the slivers and leaves every real gap (a tenth of a
#: bead wide at the least) a hair narrower: Benchy's gap step 0.91 -> 0.37 s.
GAP_TOLERANCE_UM = 3.0


@dataclass(frozen=True, slots=True)
class IslandPlan:
    """One connected region of a layer.

    outline: the island (µm). loops: per perimeter level (0 = external), the rings
    (int64 (n, 2) µm) of that level. fill: where infill goes (µm). gaps: the parts of the
    island that no perimeter and no infill reaches because they are narrower than a line
    (thin walls and gaps between loops), to be filled with centre lines of variable width.
    tiny: True when the island is too thin for even the external perimeter (then ``loops`` is
    empty and ``gaps`` is the whole island).
    """

    outline: BaseGeometry
    loops: tuple[tuple[np.ndarray, ...], ...]
    fill: BaseGeometry
    tiny: bool = False
    gaps: BaseGeometry = pg.EMPTY


def plan_island(
    island: BaseGeometry,
    perimeters: int,
    width_mm: float,
    spacing: float,
    *,
    gap_fill: bool = True,
) -> IslandPlan:
    """Perimeter loops, infill region and gaps of one island.

    The external perimeter's centre line is the outline offset inward by half the width, the
    next ones by one spacing each; the infill region is the last loop offset by half a spacing
    (with no perimeters: the outline offset by (w - s)/2), so every line deposits a band one
    spacing wide and 100 % infill fills the part's volume (the infill/perimeter overlap is
    the infill's business: it extends line ends, see ``infill.hatch``).

    A loop only runs where its band fits without overlapping itself: loop k's centre region
    is opened by half a spacing, and what the opening removes (walls too thin for the loop)
    becomes gap. Gaps (when ``gap_fill``): the island minus what the external loop covers,
    and between loops k and k + 1 the inside of loop k minus what loop k + 1 covers (each
    band taken ``GAP_TOLERANCE_UM`` wider); when fewer loops fit than asked, the whole inside
    of the last one. Gap pieces narrower
    everywhere than ``MIN_BEAD`` line widths are dropped: no bead fills them (and a
    centre line along a 0.1 mm sliver would lay a whole bead over the outline).
    """
    w_um = width_mm * pg.UM_PER_MM
    s_um = spacing * pg.UM_PER_MM

    def tiny() -> IslandPlan:  # no loop fits: the whole island is gap
        return IslandPlan(
            island, (), pg.EMPTY, tiny=True, gaps=_printable(island, w_um) if gap_fill else pg.EMPTY
        )

    if perimeters == 0:
        fill = pg.shrink(island, (w_um - s_um) / 2.0)
        return tiny() if fill.is_empty else IslandPlan(island, (), fill)
    centres: list[BaseGeometry] = []
    inners: list[BaseGeometry] = []
    raw = pg.shrink(island, w_um / 2.0)
    for level in range(perimeters):
        if raw.is_empty:
            break
        inner = pg.shrink(raw, s_um / 2.0)
        if inner.is_empty:
            break
        # the loop's centre: ``raw`` opened by half a spacing (where its band fits)
        centres.append(pg.offset_within(inner, s_um / 2.0, raw))
        inners.append(inner)
        if level + 1 < perimeters:
            raw = pg.shrink(inner, s_um / 2.0)
    if not centres:
        return tiny()
    levels = tuple(tuple(r for r, _ in pg.rings(c)) for c in centres)
    full = len(centres) == perimeters
    # when fewer loops fit than asked, what is inside the last one is a gap, not infill
    fill = inners[-1] if full else pg.EMPTY
    gaps = pg.EMPTY
    if gap_fill:
        tol = GAP_TOLERANCE_UM
        pieces = [pg.difference(island, pg.offset(centres[0], w_um / 2.0 + tol))]
        for k in range(len(centres)):
            if k + 1 < len(centres):
                pieces.append(pg.difference(inners[k], pg.offset(centres[k + 1], s_um / 2.0 + tol)))
            elif not full:
                pieces.append(inners[k])
        # the pieces lie at different depths, so they do not overlap: no boolean needed
        gaps = _printable(pg.disjoint_union(pieces), w_um)
    return IslandPlan(island, levels, fill, gaps=gaps)


def _printable(gaps: BaseGeometry, width_um: float) -> BaseGeometry:
    """``gaps`` without the pieces narrower everywhere than ``MIN_BEAD`` line widths: slivers
    that no bead from the nozzle can fill (a gap-fill line there would be a thread of
    plastic smeared over the outline)."""
    if gaps.is_empty:
        return gaps
    pieces = pg.parts(gaps)
    floating = shapely.set_precision(pieces, 0.0)  # see ``polygons.shrink``; small pieces: cheap
    core = shapely.buffer(floating, -MIN_BEAD * width_um / 2.0, join_style="mitre")
    keep = ~shapely.is_empty(core)
    if keep.all():
        return gaps
    return pg.disjoint_union(list(pieces[keep]))
