"""Seam placement: where each perimeter loop starts (and ends), hidden in concave corners.

A loop's material lies on its left (outlines counter-clockwise, holes clockwise), so a right
turn is a concave corner seen from outside: a seam there is hidden in the corner. Each vertex
scores its distance to the target minus ``CORNER_BONUS_MM`` per radian of concave turn, so a
sharp inner corner a little farther away wins over a point on a straight wall. The scores
are computed by the numba kernel ``kernels/seam.py``.
"""

from __future__ import annotations

import numpy as np

from fabthread.geom import polygons as pg
from fabthread.slice.kernels.seam import MODE_NEAREST, MODE_REAR, seam_index

#: How much farther (mm) the seam may move for each radian of concave corner.
CORNER_BONUS_MM = 1.5


def seam_loop(
    loop_um: np.ndarray, mode: str, targets_mm: np.ndarray, *, fresh: bool = False
) -> np.ndarray:
    """The loop (µm ring) in mm, started at its seam and closed (first point repeated).

    mode "aligned" and "nearest": the seam goes near the nearest of ``targets_mm`` (k, 2)
    (the previous layer's seams, or the nozzle); "rear": as far back (+y) as possible.
    ``fresh``: nothing to align with yet (first layer): take the most concave corner, the
    nearest to the targets among equals.
    """
    xy = loop_um.astype(np.float64) / pg.UM_PER_MM
    mode_id = MODE_REAR if mode == "rear" else MODE_NEAREST
    i = seam_index(xy, np.asarray(targets_mm, dtype=np.float64), mode_id, fresh, CORNER_BONUS_MM)
    return np.concatenate([xy[i:], xy[: i + 1]])
