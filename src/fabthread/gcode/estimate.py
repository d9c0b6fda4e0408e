"""Print time estimate: moves read from G-code + firmware limits -> seconds per move.

Per move this module works out what the planner kernel (``kernels/planner.py``) needs:

- the cruise speed: the feed (F, mm/min) capped so no axis (X, Y, Z and E) exceeds its max
  feed, and arcs so the centripetal acceleration stays within the acceleration;
- the acceleration: the one the program commanded for the move (M204, SET_VELOCITY_LIMIT;
  see ``GcodeMoves.accel_mm_s2``), else the machine's print acceleration for extruding moves
  and travel acceleration otherwise; capped so no axis exceeds its max acceleration along the
  move's direction;
- E-only moves (retract, unretract) run at their own feed and E limits, from rest to rest.
"""

from __future__ import annotations

import numpy as np

from fabthread.gcode.kernels.planner import plan_times, planner_rows
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
    the m moves that take time; ``index`` maps them back to rows of ``moves``. The rules are
    in the module docstring; the numba kernel ``planner_rows`` applies them."""
    lim = limits
    return planner_rows(
        moves.length_mm,
        moves.e_mm,
        moves.feed_mm_min,
        moves.kind == GcodeKind.EXTRUDE,
        moves.dir_start,
        moves.dir_end,
        moves.arc_radius_mm,
        moves.accel_mm_s2,
        np.array(
            [lim.max_feed_x_mm_s, lim.max_feed_y_mm_s, lim.max_feed_z_mm_s, lim.max_feed_e_mm_s]
        ),
        np.array(
            [
                lim.max_accel_x_mm_s2,
                lim.max_accel_y_mm_s2,
                lim.max_accel_z_mm_s2,
                lim.max_accel_e_mm_s2,
            ]
        ),
        float(lim.print_accel_mm_s2),
        float(lim.travel_accel_mm_s2),
        DEFAULT_FEED_MM_MIN,
    )


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
