"""Centre lines of thin regions (an approximate medial axis), for gap fill and thin walls.

The boundary is sampled every ``sample_um``; the Voronoi diagram of the samples has edges
that lie inside the region only between samples of *opposite* sides, and those edges run
along the medial axis. Twice the distance from a centre-line point to the boundary is the
local width of the region there, which is the width of the line to extrude.

The Voronoi edges come from the Delaunay triangulation of the samples (GEOS): the edge dual
to a Delaunay edge joins the circumcentres of the two triangles that share it. That is several
times cheaper than asking GEOS for the Voronoi diagram, which builds and clips every cell as
a polygon. All pieces of a region are handled at once, in arrays: one triangulation, then
the kernels of ``geom.kernels.medial`` find the Voronoi edges, keep those inside their
piece, join them into polylines, clip the rectangle axes of small pieces and measure the
widths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from fabthread.geom.kernels.medial import (
    CONTACT,
    INSIDE,
    chain_edges,
    clip_longest,
    line_widths,
    rect_axes,
    segment_states,
    voronoi_edges,
)

# Voronoi vertices closer than this (µm) are one vertex: cocircular samples (two parallel
# walls sampled in step) give triangles whose circumcentres differ only by rounding.
_SAME_VERTEX_UM = 1e-3


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


@dataclass(frozen=True, slots=True)
class _Rings:
    """The rings of the pieces, as the kernels take them: ``xy`` float64 (V, 2) closed
    rings, ``ring_start`` int64 (R + 1,), ``piece_ring`` int64 (P + 1,)."""

    xy: np.ndarray
    ring_start: np.ndarray
    piece_ring: np.ndarray

    @classmethod
    def of(cls, pieces: np.ndarray) -> _Rings:
        rings, ring_piece = shapely.get_rings(pieces, return_index=True)
        ring_start = np.zeros(len(rings) + 1, dtype=np.int64)
        np.cumsum(shapely.get_num_coordinates(rings), out=ring_start[1:])
        piece_ring = np.zeros(len(pieces) + 1, dtype=np.int64)
        np.cumsum(np.bincount(ring_piece, minlength=len(pieces)), out=piece_ring[1:])
        return cls(shapely.get_coordinates(rings), ring_start, piece_ring)


@dataclass(frozen=True, slots=True)
class _Lines:
    """Polylines one after the other: ``xy`` float64 (N, 2), ``start`` int64 (L + 1,)
    offsets, ``piece`` int64 (L,) the piece each one is in."""

    xy: np.ndarray
    start: np.ndarray
    piece: np.ndarray

    @classmethod
    def none(cls) -> _Lines:
        return cls(np.zeros((0, 2)), np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64))

    @classmethod
    def concat(cls, parts: list[_Lines]) -> _Lines:
        starts = [parts[0].start]
        end = int(parts[0].start[-1])
        for part in parts[1:]:
            starts.append(part.start[1:] + end)
            end += int(part.start[-1])
        return cls(
            np.concatenate([p.xy for p in parts]),
            np.concatenate(starts),
            np.concatenate([p.piece for p in parts]),
        )


def centrelines(
    region: BaseGeometry,
    *,
    sample_um: float,
    min_area_um2: float = 0.0,
    small_area_um2: float = 0.0,
) -> list[Centreline]:
    """Centre lines of every polygon of ``region`` (µm). Pieces smaller than
    ``min_area_um2`` are dropped; pieces smaller than ``small_area_um2``, straight pieces
    (nearly their own minimum rotated rectangle) and pieces without interior Voronoi edges
    (very round) get the long axis of their minimum rotated rectangle (much cheaper than a
    Voronoi diagram, and as good for a sliver), clipped to the piece; a small piece that its
    axis misses altogether gets its Voronoi lines."""
    pieces = shapely.get_parts(region)
    while len(pieces) and (shapely.get_type_id(pieces) >= 4).any():  # nested collections
        pieces = shapely.get_parts(pieces)
    if len(pieces) == 0:
        return []
    areas = shapely.area(pieces)
    keep = areas > max(min_area_um2, 0.0)  # also drops lines and points: they have no area
    if not keep.all():
        pieces, areas = pieces[keep], areas[keep]
        if len(pieces) == 0:
            return []
    rects = shapely.minimum_rotated_rectangle(pieces)
    straight = areas >= 0.9 * shapely.area(rects)
    rings = _Rings.of(pieces)

    # small and straight pieces: the axis of their rectangle; a small bent piece (an L) that
    # its axis misses goes with the others to the Voronoi diagram
    voronoi = (areas >= small_area_um2) & ~straight
    axes = _long_axes(pieces, rects, np.flatnonzero(~voronoi), rings)
    missed = ~voronoi
    missed[axes.piece] = False
    medial = _medial_lines(pieces, np.flatnonzero(voronoi | missed), sample_um, rings)
    # and pieces without interior Voronoi edges (round ones) their axis after all
    round_pieces = voronoi.copy()
    round_pieces[medial.piece] = False
    more = _long_axes(pieces, rects, np.flatnonzero(round_pieces), rings)
    lines = _Lines.concat([medial, axes, more])
    n = len(lines.piece)
    if n == 0:
        return []

    # width of every segment: twice the distance from its midpoint to the piece's boundary
    width, weight = line_widths(
        lines.xy, lines.start, lines.piece, rings.xy, rings.ring_start, rings.piece_ring
    )
    total = np.bincount(lines.piece, weight, minlength=len(pieces))[lines.piece]
    share = (areas[lines.piece] * weight / np.where(total > 0, total, 1.0)).tolist()
    a, w = lines.start.tolist(), (lines.start - np.arange(n + 1)).tolist()
    xy = lines.xy
    order = np.argsort(lines.piece, kind="stable")  # piece by piece, as the pieces come
    return [
        Centreline(xy[a[i] : a[i + 1]], width[w[i] : w[i + 1]], share[i])
        for i in order[weight[order] > 0].tolist()
    ]


def _medial_lines(pieces: np.ndarray, big: np.ndarray, sample_um: float, rings: _Rings) -> _Lines:
    """Medial polylines of the pieces ``pieces[big]``, from one triangulation of all of
    their boundary samples (the pieces are disjoint)."""
    none = _Lines.none()
    if len(big) == 0:
        return none
    samples = shapely.segmentize(shapely.boundary(pieces[big]), sample_um)
    xy, xy_piece = shapely.get_coordinates(samples, return_index=True)
    # complex numbers sort by x, then y: unique samples, and exact lookup of GEOS's output
    key, first = np.unique(xy[:, 0] + 1j * xy[:, 1], return_index=True)
    if len(key) < 4:
        return none
    pts = xy[first]
    pt_piece = big[xy_piece[first]]
    # GEOS triangulates the vertices of any geometry: one line is much cheaper to build
    # than a multipoint of as many points
    tri_xy = shapely.get_coordinates(shapely.delaunay_triangles(shapely.linestrings(pts)))
    tri_key = tri_xy.reshape(-1, 4, 2)[:, :3, 0] + 1j * tri_xy.reshape(-1, 4, 2)[:, :3, 1]
    tri = np.minimum(np.searchsorted(key, tri_key), len(key) - 1)
    tri = tri[(key[tri] == tri_key).all(axis=1)]  # GEOS keeps the input coordinates exactly
    if len(tri) < 2:
        return none
    centre, t1, t2, piece = voronoi_edges(pts, tri, pt_piece, _SAME_VERTEX_UM)

    q = np.hstack([centre[t1], centre[t2]])
    state = segment_states(q, piece, rings.xy, rings.ring_start, rings.piece_ring)
    inside = state == INSIDE
    touch = np.flatnonzero(state == CONTACT)
    if len(touch):  # an edge touching the boundary: GEOS decides (within, as before)
        edges = shapely.linestrings(q[touch].reshape(-1, 2, 2))
        inside[touch] = shapely.within(edges, pieces[piece[touch]])
    if not inside.any():
        return none
    srt = np.argsort(piece[inside], kind="stable")  # polylines come piece by piece
    t1, t2, piece = t1[inside][srt], t2[inside][srt], piece[inside][srt]

    node_xy = centre
    node_piece = np.empty(len(centre), dtype=np.int64)
    node_piece[t1] = piece
    node_piece[t2] = piece
    if not ((node_piece[t1] == piece) & (node_piece[t2] == piece)).all():
        # a vertex on the boundary of two touching pieces: one copy of it for each piece,
        # so that no polyline runs from one piece into the other
        n = len(centre)
        nid, inv = np.unique(np.concatenate([piece * n + t1, piece * n + t2]), return_inverse=True)
        t1, t2 = inv[: len(t1)], inv[len(t1) :]
        node_xy, node_piece = centre[nid % n], nid // n
    nodes, offsets = chain_edges(len(node_xy), t1, t2)
    return _Lines(node_xy[nodes], offsets, node_piece[nodes[offsets[:-1]]])


def _long_axes(pieces: np.ndarray, rects: np.ndarray, which: np.ndarray, rings: _Rings) -> _Lines:
    """The long axis of the minimum rotated rectangle of each piece ``pieces[which]``,
    clipped to the piece (a bent sliver's axis may leave it): the longest inside part, or
    nothing."""
    if len(which) == 0:
        return _Lines.none()
    axis = np.empty((len(which), 4))
    poly = shapely.get_num_coordinates(rects[which]) == 5
    if poly.all():
        corners = shapely.get_coordinates(rects[which]).reshape(-1, 5, 2)[:, :4]
        axis[:] = rect_axes(np.ascontiguousarray(corners))
    else:  # a degenerate rectangle: a 1 µm stub at the centroid
        if poly.any():
            corners = shapely.get_coordinates(rects[which[poly]]).reshape(-1, 5, 2)[:, :4]
            axis[poly] = rect_axes(np.ascontiguousarray(corners))
        c = shapely.get_coordinates(shapely.centroid(pieces[which[~poly]]))
        axis[~poly] = np.hstack([c, c + 1.0])
    part, status = clip_longest(axis, which, rings.xy, rings.ring_start, rings.piece_ring)
    found = status == 1
    out = _Lines(
        part[found].reshape(-1, 2),
        np.arange(0, 2 * np.count_nonzero(found) + 1, 2, dtype=np.int64),
        which[found],
    )
    touch = np.flatnonzero(status == 2)
    if len(touch) == 0:
        return out
    # the axis touches the boundary: clip it exactly with GEOS
    lines = shapely.linestrings(axis[touch].reshape(-1, 2, 2))
    parts, part_idx = shapely.get_parts(
        shapely.intersection(lines, pieces[which[touch]]), return_index=True
    )
    good = (shapely.get_type_id(parts) == 1) & (shapely.length(parts) > 0)  # LineString
    parts, part_idx = parts[good], part_idx[good]
    length = shapely.length(parts)
    best = [
        cand[np.argmax(length[cand])]  # the first of equally long parts
        for cand in (np.flatnonzero(part_idx == k) for k in sorted(set(part_idx.tolist())))
    ]
    if not best:
        return out
    xy = shapely.get_coordinates(parts[best])
    start = np.zeros(len(best) + 1, dtype=np.int64)
    np.cumsum(shapely.get_num_coordinates(parts[best]), out=start[1:])
    return _Lines.concat([out, _Lines(xy, start, which[touch[part_idx[best]]])])
