"""Cooling: estimate each layer's print time and slow short layers down to a minimum time.

The estimate is distance / feed per move (no acceleration), as PrusaSlicer's and Cura's
"minimum layer time" rules use; only extrusion moves are slowed, never below
``min_print_mm_s``, and the slowed feeds are what the toolpath stores.
"""

from __future__ import annotations

import numpy as np

from fabthread.model.settings import SliceSettings
from fabthread.model.toolpath import EXTRUDING


def move_lengths(xy: np.ndarray, start: tuple[float, float]) -> np.ndarray:
    """float64 (n,) length (mm) of each move of a layer that starts at ``start``."""
    if len(xy) == 0:
        return np.zeros(0)
    prev = np.vstack([np.array(start, dtype=np.float64)[None, :], xy[:-1]])
    return np.hypot(*(xy - prev).T)


def layer_time_s(xy: np.ndarray, feed: np.ndarray, start: tuple[float, float]) -> float:
    """Estimated time (s) of a layer's moves (feeds in mm/min)."""
    if len(xy) == 0:
        return 0.0
    return float((move_lengths(xy, start) / feed).sum() * 60.0)


def slow_down(
    xy: np.ndarray,
    feed: np.ndarray,
    kind: np.ndarray,
    start: tuple[float, float],
    s: SliceSettings,
) -> np.ndarray:
    """Feeds (mm/min) of a layer slowed so it lasts at least ``s.min_layer_time_s``."""
    if len(xy) == 0:
        return feed
    length = move_lengths(xy, start)
    ext = EXTRUDING[kind]
    t_travel = float((length[~ext] / feed[~ext]).sum() * 60.0)
    t_ext = float((length[ext] / feed[ext]).sum() * 60.0)
    want = s.min_layer_time_s - t_travel
    if t_ext <= 0 or t_ext >= want:
        return feed
    floor = s.min_print_mm_s * 60.0
    f_ext, l_ext = feed[ext], length[ext]

    def slowed(factor: float) -> np.ndarray:
        return np.minimum(f_ext, np.maximum(f_ext * factor, floor))

    # the time is monotonic in the factor: bisect so that moves held at the floor are made up
    # for by slowing the others a little more
    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2.0
        if float((l_ext / slowed(mid)).sum() * 60.0) >= want:
            lo = mid
        else:
            hi = mid
    out = feed.copy()
    out[ext] = slowed(lo)
    return out
