"""Narrow internal solid infill: strips filled along their length.

Solid infill is hatched at the layer's angle (45° or 135°). Across a strip a few millimetres
wide that is a zig-zag of lines as short as the strip is wide: the nozzle stops and turns
every millimetre or so, which shakes the machine, lumps the extrusion and takes longer than
the distance suggests (PrusaSlicer issues #1531, #2137 and #5803 ask for this to change;
PrusaSlicer 2.6 and later, OrcaSlicer and Bambu Studio fill such regions along their length,
OrcaSlicer's "detect narrow internal solid infill" below about 3 mm). Here a piece of the
internal solid region that is a strip (its minimum rotated rectangle at most
``narrow_solid_mm`` across, and filling most of that rectangle) is hatched along the
rectangle's long side, with as many lines as fit its width spread evenly across it and
their flow scaled so that they fill it exactly: a few long lines joined at the ends.

Top surfaces, bridges and the first layer keep the layer's angle (they are seen, or rest on
air or the bed); so do bent or ring-shaped pieces (their rectangle is wide) and pieces under
two line spacings wide (the edges of wider regions, where one aligned line would be a
perimeter's twin).
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from fabthread.geom import polygons as pg
from fabthread.slice.infill import hatch

#: Least share of its minimum rotated rectangle a strip fills: below it the piece bends or
#: tapers (a curved hull wall) and lines along the rectangle would leave part of it bare.
MIN_FULLNESS = 0.8


def narrow_strips(
    region: BaseGeometry, max_width_um: float, min_width_um: float
) -> tuple[list[tuple[BaseGeometry, float]], BaseGeometry]:
    """The pieces of ``region`` (µm) that are strips from ``min_width_um`` to
    ``max_width_um`` wide, each with the direction of its length (degrees from +x, in
    [0, 180)), and the rest of ``region`` (``region`` itself when no piece is a strip)."""
    if max_width_um <= 0 or region.is_empty:
        return [], region
    pieces = pg.parts(region)
    boxes = shapely.oriented_envelope(pieces)
    strips: list[tuple[BaseGeometry, float]] = []
    rest: list[BaseGeometry] = []
    for piece, box in zip(pieces.tolist(), boxes.tolist(), strict=True):
        corners = shapely.get_coordinates(box)
        if len(corners) < 4:  # the envelope of a degenerate piece: a line or a point
            rest.append(piece)
            continue
        side_a, side_b = corners[1] - corners[0], corners[2] - corners[1]
        len_a, len_b = math.hypot(*side_a), math.hypot(*side_b)
        width = min(len_a, len_b)
        full = piece.area >= MIN_FULLNESS * len_a * len_b
        if not (min_width_um <= width <= max_width_um and full):
            rest.append(piece)
            continue
        dx, dy = side_a if len_a >= len_b else side_b
        strips.append((piece, math.degrees(math.atan2(dy, dx)) % 180.0))
    if not strips:
        return [], region
    return strips, pg.disjoint_union(rest)


def strip_hatch(
    strip: BaseGeometry, angle_deg: float, spacing_um: float, *, link_um: float,
    extend_um: float,
) -> list[tuple[np.ndarray, float]]:  # fmt: skip
    """Solid lines along a strip (µm, direction ``angle_deg``) as ``infill.hatch`` gives
    them, (polyline mm, flow factor) pairs: n = round(width / ``spacing_um``) lines (at
    least one) at width / n apart, the first half that from the strip's edge, each with its
    flow scaled by (width / n) / ``spacing_um`` so that they deposit the strip's area.

    ``hatch`` lays lines on a grid fixed in the rotated frame; the strip is moved across its
    length by whole micrometres so that its edge sits on that grid, and the lines moved back.
    """
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    xy = shapely.get_coordinates(strip)
    across = -s * xy[:, 0] + c * xy[:, 1]  # the coordinate across the strip
    v0, v1 = float(across.min()), float(across.max())
    count = max(1, round((v1 - v0) / spacing_um))
    pitch = (v1 - v0) / count
    shift = math.floor(v0 / pitch) * pitch - v0
    move = np.array([round(-s * shift), round(c * shift)], dtype=np.float64)
    moved = shapely.transform(strip, lambda p: p + move)
    back = move / pg.UM_PER_MM
    scale = pitch / spacing_um
    # joined ends stop on the strip shrunk by half a pitch, where the outermost lines lie:
    # a micrometre less keeps them inside it (a line on the boundary is not scanned)
    inset = max(pitch / 2.0 - 1.0, 0.0)
    lines = hatch(moved, angle_deg, pitch, link_um=link_um, extend_um=extend_um, inset_um=inset)
    return [(line - back, flow * scale) for line, flow in lines]
