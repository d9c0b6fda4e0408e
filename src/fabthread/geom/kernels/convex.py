"""Numba kernel: mitre offset of a convex polygon, the common case of small layer islands
(a tray's walls are rectangles) where GEOS's general buffer costs most per call."""

from __future__ import annotations

import math

import numpy as np

from fabthread.kernels.jit import helper, kernel

#: ``convex_offset`` status codes.
OK = 0
NOT_CONVEX = 1  # a turn is not strictly one way (or the ring is too short)
CHANGED = 2  # an edge vanishes, a mitre exceeds the limit or rounding breaks convexity


@helper
def _turns_one_way(xy: np.ndarray, n: int, sign: float) -> bool:
    """Whether every turn of the ring ``xy[:n]`` (no repeated point) is strictly of ``sign``."""
    for i in range(n):
        h = i - 1 if i > 0 else n - 1
        j = i + 1 if i + 1 < n else 0
        cross = (xy[i, 0] - xy[h, 0]) * (xy[j, 1] - xy[i, 1]) - (xy[i, 1] - xy[h, 1]) * (
            xy[j, 0] - xy[i, 0]
        )
        if cross * sign <= 0.0:
            return False
    return True


@kernel(
    "f8[:, :], f8, f8",
    returns="Tuple((i8, f8[:, :]))",
)
def convex_offset(ring: np.ndarray, delta: float, mitre_limit: float) -> tuple[int, np.ndarray]:
    """The mitre offset of a strictly convex polygon, grown (``delta`` > 0) or shrunk (< 0)
    by ``|delta|``, rounded to whole units, in GEOS's layout.

    ring: float64 (n + 1, 2), the polygon's closed exterior in either orientation (what
    ``shapely.get_coordinates`` gives). Every edge moves out (in) by ``|delta|`` along its
    normal and each vertex becomes the intersection of its two edges' moved lines: the offset
    GEOS's buffer makes with mitre joins, as long as no edge vanishes or turns round (a shrink
    past a short edge) and no grown corner's mitre is longer than ``mitre_limit`` times
    ``delta`` (GEOS bevels it). Returns (``OK``, float64 (n + 1, 2)): the closed ring,
    clockwise from the moved first vertex (GEOS's order), coordinates rounded, still strictly
    convex (hence a valid polygon); (``CHANGED``, empty) when an edge vanishes, a mitre is cut
    or rounding leaves it not strictly convex; (``NOT_CONVEX``, empty) when a turn of the
    input is not strictly one way.
    """
    n = ring.shape[0] - 1
    none = np.empty((0, 2), dtype=np.float64)
    if n < 3:
        return NOT_CONVEX, none
    area2 = 0.0
    for i in range(n):
        area2 += ring[i, 0] * ring[i + 1, 1] - ring[i + 1, 0] * ring[i, 1]
    # counter-clockwise from the same first vertex
    xy = np.empty((n, 2), dtype=np.float64)
    for i in range(n):
        src = i if area2 > 0.0 else (n - i) % n
        xy[i, 0] = ring[src, 0]
        xy[i, 1] = ring[src, 1]
    if not _turns_one_way(xy, n, 1.0):
        return NOT_CONVEX, none
    # unit normals pointing out of the polygon (right of each counter-clockwise edge)
    nx = np.empty(n)
    ny = np.empty(n)
    for i in range(n):
        j = i + 1 if i + 1 < n else 0
        ex = xy[j, 0] - xy[i, 0]
        ey = xy[j, 1] - xy[i, 1]
        length = math.sqrt(ex * ex + ey * ey)
        nx[i] = ey / length
        ny[i] = -ex / length
    moved = np.empty((n, 2), dtype=np.float64)
    for i in range(n):
        h = i - 1 if i > 0 else n - 1
        # the moved lines of edges h and i meet at p + delta (n_h + n_i) / (1 + n_h . n_i)
        c = nx[h] * nx[i] + ny[h] * ny[i]
        if delta > 0.0 and 2.0 / (1.0 + c) > mitre_limit * mitre_limit:
            return CHANGED, none
        f = delta / (1.0 + c)
        moved[i, 0] = np.rint(xy[i, 0] + f * (nx[h] + nx[i]))
        moved[i, 1] = np.rint(xy[i, 1] + f * (ny[h] + ny[i]))
    for i in range(n):
        j = i + 1 if i + 1 < n else 0
        # each edge keeps its direction (a shrink may not pass an edge's collapse)
        dot = (moved[j, 0] - moved[i, 0]) * (xy[j, 0] - xy[i, 0]) + (
            moved[j, 1] - moved[i, 1]
        ) * (xy[j, 1] - xy[i, 1])
        if dot <= 0.0:
            return CHANGED, none
    if not _turns_one_way(moved, n, 1.0):
        return CHANGED, none
    out = np.empty((n + 1, 2), dtype=np.float64)
    for k in range(n + 1):
        src = (n - k) % n  # clockwise from vertex 0
        out[k, 0] = moved[src, 0]
        out[k, 1] = moved[src, 1]
    return OK, out
