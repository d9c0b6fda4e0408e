"""Print time estimate: moves read from G-code + firmware limits -> seconds per move.

Per move this module works out what the planner kernel (``kernels/planner.py``) needs:

- the cruise speed: the feed (F, mm/min) capped so no axis (X, Y, Z and E) exceeds its max
  feed, and arcs so the centripetal acceleration stays within the acceleration;
- the acceleration: print acceleration for extruding moves, travel acceleration otherwise,
  capped so no axis exceeds its max acceleration along the move's direction;
- E-only moves (retract, unretract) run at their own feed and E limits, from rest to rest.
"""

from __future__ import annotations

import numpy as np

from fabthread.gcode.kernels.planner import plan_times
from fabthread.gcode.moves import GcodeKind, GcodeMoves
from fabthread.model.profiles import MotionLimits

#: Limits used when the machine is not known: a typical 2020s bed-slinger.
GENERIC_LIMITS = MotionLimits(
    max_feed_x_mm_s=300.0,
    max_feed_y_mm_s=300.0,
    max_feed_z_mm_s=12.0,
    max_feed_e_mm_s=80.0,
    max_accel_x_mm_s2=3000.0,
    max_accel_y_mm_s2=3000.0,
    max_accel_z_mm_s2=200.0,
    max_accel_e_mm_s2=3000.0,
    print_accel_mm_s2=1500.0,
    travel_accel_mm_s2=2500.0,
    square_corner_velocity_mm_s=5.0,
)

#: Feed assumed before the file sets one (Marlin's power-on default), mm/min.
DEFAULT_FEED_MM_MIN = 1500.0


def planner_inputs(
    moves: GcodeMoves, limits: MotionLimits
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(index (m,), length (m,), v_max (m,), accel (m,), dir_start (m,3), dir_end (m,3)) of
    the m moves that take time; ``index`` maps them back to rows of ``moves``."""
    lim = limits
    length = moves.length_mm
    e = moves.e_mm
    keep = (length > 0) | (e != 0)
    idx = np.flatnonzero(keep)
    length, e = length[idx], e[idx]
    feed = moves.feed_mm_min[idx]
    v = feed_or_default(feed) / 60.0
    has_xyz = length > 0
    d0 = moves.dir_start[idx]
    d1 = moves.dir_end[idx]
    u = np.maximum(np.abs(d0), np.abs(d1))  # per-axis share (conservative on arcs)
    max_feed = np.array([lim.max_feed_x_mm_s, lim.max_feed_y_mm_s, lim.max_feed_z_mm_s])
    max_acc = np.array([lim.max_accel_x_mm_s2, lim.max_accel_y_mm_s2, lim.max_accel_z_mm_s2])
    extrude = moves.kind[idx] == GcodeKind.EXTRUDE
    accel = np.where(extrude, lim.print_accel_mm_s2, lim.travel_accel_mm_s2).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        for ax in range(3):
            v = np.minimum(v, np.where(u[:, ax] > 0, max_feed[ax] / u[:, ax], np.inf))
            accel = np.minimum(accel, np.where(u[:, ax] > 0, max_acc[ax] / u[:, ax], np.inf))
        # E rides along: its share of the motion is |e| / length
        e_share = np.where(has_xyz, np.abs(e) / np.where(has_xyz, length, 1.0), 0.0)
        v = np.minimum(v, np.where(e_share > 0, lim.max_feed_e_mm_s / e_share, np.inf))
        accel = np.minimum(accel, np.where(e_share > 0, lim.max_accel_e_mm_s2 / e_share, np.inf))
        radius = moves.arc_radius_mm[idx]
        v = np.minimum(v, np.where(radius > 0, np.sqrt(accel * radius), np.inf))
    # E-only moves: length is the filament moved, E limits apply
    e_only = ~has_xyz
    length = np.where(e_only, np.abs(e), length)
    v = np.where(e_only, np.minimum(feed_or_default(feed) / 60.0, lim.max_feed_e_mm_s), v)
    accel = np.where(e_only, lim.max_accel_e_mm_s2, accel)
    d0 = np.where(e_only[:, None], 0.0, d0)
    d1 = np.where(e_only[:, None], 0.0, d1)
    return idx, length, v, accel, np.ascontiguousarray(d0), np.ascontiguousarray(d1)


def feed_or_default(feed: np.ndarray) -> np.ndarray:
    return np.where(feed > 0, feed, DEFAULT_FEED_MM_MIN)


def move_times(moves: GcodeMoves, limits: MotionLimits) -> np.ndarray:
    """float64 (n,) seconds each move takes (0 for moves that move nothing)."""
    out = np.zeros(len(moves))
    if len(moves) == 0:
        return out
    idx, length, v, accel, d0, d1 = planner_inputs(moves, limits)
    if len(idx):
        times, _, _ = plan_times(length, v, accel, d0, d1, limits.square_corner_velocity_mm_s)
        out[idx] = times
    return out
