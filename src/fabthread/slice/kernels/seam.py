"""Numba kernel: the seam vertex of a perimeter loop (see ``slice/seams.py`` for the rules)."""

from __future__ import annotations

import math

import numpy as np

from fabthread.kernels.jit import kernel

#: ``seam_index`` modes.
MODE_NEAREST = 0  # "aligned" and "nearest": near the nearest target
MODE_REAR = 1  # as far back (+y) as possible


@kernel(
    "f8[:, :], f8[:, :], i8, b1, f8",
    returns="i8",
)
def seam_index(
    xy: np.ndarray, targets: np.ndarray, mode: int, fresh: bool, corner_bonus: float
) -> int:
    """Index of the seam vertex of the closed loop ``xy`` (n, 2) mm, material on its left.

    Each vertex scores a cost; the lowest wins (ties: the first). The bonus of a vertex is
    ``corner_bonus`` times its concave turn (radians: -atan2(cross, dot) of the edges before
    and after it, 0 when convex or straight). ``MODE_NEAREST``: cost = distance to the
    nearest of ``targets`` (k, 2) mm - bonus, or with ``fresh`` (nothing to align with yet)
    1e-3 × that distance - bonus, so the most concave corner wins. ``MODE_REAR``: cost =
    (highest y - y) + 0.01 × |x - mean x| - bonus.
    """
    n = xy.shape[0]
    y_max = -np.inf
    x_mean = 0.0
    if mode == MODE_REAR:
        for i in range(n):
            y_max = max(y_max, xy[i, 1])
            x_mean += xy[i, 0]
        x_mean /= n
    best = 0
    best_cost = np.inf
    for i in range(n):
        p = i - 1 if i > 0 else n - 1
        q = i + 1 if i + 1 < n else 0
        ax = xy[i, 0] - xy[p, 0]
        ay = xy[i, 1] - xy[p, 1]
        bx = xy[q, 0] - xy[i, 0]
        by = xy[q, 1] - xy[i, 1]
        turn = -math.atan2(ax * by - ay * bx, ax * bx + ay * by)
        bonus = corner_bonus * max(0.0, turn)
        if mode == MODE_REAR:
            cost = (y_max - xy[i, 1]) + 0.01 * abs(xy[i, 0] - x_mean) - bonus
        else:
            d2 = np.inf
            for k in range(targets.shape[0]):
                dx = xy[i, 0] - targets[k, 0]
                dy = xy[i, 1] - targets[k, 1]
                d2 = min(d2, dx * dx + dy * dy)
            d = math.sqrt(d2)
            cost = (1e-3 * d if fresh else d) - bonus
        if cost < best_cost:
            best_cost = cost
            best = i
    return best
