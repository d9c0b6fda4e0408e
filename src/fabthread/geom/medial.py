"""Centre lines of thin regions (an approximate medial axis), for gap fill and thin walls.

The boundary is sampled every ``sample_um``; the Voronoi diagram of the samples (GEOS) has
edges that lie inside the region only between samples of *opposite* sides, and those edges
run along the medial axis. Twice the distance from a centre-line point to the boundary is the
local width of the region there, which is the width of the line to extrude.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from fabthread.geom import polygons as pg


@dataclass(frozen=True, slots=True)
class Centreline:
    """A polyline along the middle of a thin region.

    points_um: float64 (n, 2); width_um: float64 (n - 1,) local width of each segment (twice
    the distance from its midpoint to the region's boundary); share: this polyline's part of
    the piece's area (µm²), split between the piece's polylines by ∫ width dl, so extruding
    ``share · layer height`` along it conserves the piece's volume exactly.
    """

    points_um: np.ndarray
    width_um: np.ndarray
    share_um2: float


def centrelines(
    region: BaseGeometry,
    *,
    sample_um: float,
    min_area_um2: float = 0.0,
    small_area_um2: float = 0.0,
) -> list[Centreline]:
    """Centre lines of every polygon of ``region`` (µm). Pieces smaller than
    ``min_area_um2`` are dropped; pieces smaller than ``small_area_um2``, and pieces without
    interior Voronoi edges (very round), get the long axis of their minimum rotated
    rectangle (much cheaper than a Voronoi diagram, and as good for a sliver)."""
    out: list[Centreline] = []
    pieces = [p for p in pg.islands(region) if float(p.area) > max(min_area_um2, 0.0)]
    # straight gaps (nearly their own minimum rectangle) need no Voronoi diagram either
    rects = shapely.minimum_rotated_rectangle(np.array(pieces, dtype=object))
    straight = shapely.area(np.array(pieces, dtype=object)) >= 0.9 * shapely.area(rects)
    big = [
        p
        for p, st in zip(pieces, straight, strict=True)
        if float(p.area) >= small_area_um2 and not st
    ]
    medial = _medial_lines_all(big, sample_um)
    for piece in pieces:
        area = float(piece.area)
        lines = medial.get(id(piece), [])
        if not lines:
            lines = _long_axis(piece)
        boundary = piece.boundary
        parts: list[tuple[np.ndarray, np.ndarray]] = []
        for xy in lines:
            if len(xy) < 2:
                continue
            mid = (xy[1:] + xy[:-1]) / 2.0
            width = 2.0 * shapely.distance(boundary, shapely.points(mid))
            parts.append((xy, np.maximum(width, 1.0)))
        weights = [float((np.hypot(*np.diff(xy, axis=0).T) * w).sum()) for xy, w in parts]
        total = sum(weights)
        if total <= 0:
            continue
        for (xy, w), wt in zip(parts, weights, strict=True):
            if wt > 0:
                out.append(Centreline(xy, w, area * wt / total))
    return out


def _medial_lines_all(pieces: list[BaseGeometry], sample_um: float) -> dict[int, list[np.ndarray]]:
    """Medial polylines of each piece (by ``id``), from one Voronoi diagram of all of them
    (one GEOS call instead of one per piece; the pieces are disjoint)."""
    if not pieces:
        return {}
    rings = shapely.segmentize(shapely.boundary(np.array(pieces, dtype=object)), sample_um)
    pts = np.unique(shapely.get_coordinates(rings), axis=0)
    if len(pts) < 4:
        return {}
    edges = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), only_edges=True))
    if len(edges) == 0:
        return {}
    tree = shapely.STRtree(pieces)
    e_idx, p_idx = tree.query(edges, predicate="within")  # edge e lies inside piece p
    out: dict[int, list[np.ndarray]] = {}
    for k in np.unique(p_idx):
        inside = edges[e_idx[p_idx == k]]
        merged = shapely.line_merge(shapely.multilinestrings(inside))
        out[id(pieces[k])] = [
            shapely.get_coordinates(g) for g in shapely.get_parts(merged) if not g.is_empty
        ]
    return out


def _long_axis(piece: BaseGeometry) -> list[np.ndarray]:
    """The long axis of the piece's minimum rotated rectangle, clipped to the piece (a bent
    sliver's axis may leave it): the longest inside part, or nothing."""
    axis = shapely.LineString(_rect_axis(piece))
    inside = [g for g in shapely.get_parts(shapely.intersection(axis, piece)) if g.length > 0]
    inside = [g for g in inside if g.geom_type == "LineString"]
    if not inside:
        return []
    return [shapely.get_coordinates(max(inside, key=lambda g: g.length))]


def _rect_axis(piece: BaseGeometry) -> np.ndarray:
    rect = shapely.get_coordinates(shapely.minimum_rotated_rectangle(piece))[:4]
    if len(rect) < 4:
        c = shapely.get_coordinates(shapely.centroid(piece))[0]
        return np.array([c, c + 1.0])
    e1 = (rect[0] + rect[1]) / 2.0, (rect[2] + rect[3]) / 2.0
    e2 = (rect[1] + rect[2]) / 2.0, (rect[3] + rect[0]) / 2.0
    d1 = np.hypot(*(e1[1] - e1[0]))
    d2 = np.hypot(*(e2[1] - e2[0]))
    a, b = e1 if d1 >= d2 else e2
    # shorten by half the short side so the line ends inside the piece
    short = min(d1, d2)
    v = b - a
    n = max(np.hypot(*v), 1e-9)
    cut = min(short / 2.0, n / 2.0 - 0.5)
    return np.array([a + v / n * cut, b - v / n * cut])
