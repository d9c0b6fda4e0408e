"""Numba kernel: draw line segments into a depth-buffered image (for G-code thumbnails)."""

from __future__ import annotations

import math

import numpy as np

from fabthread.kernels.jit import kernel


@kernel(
    "f8[:], f8[:], f8[:], f8[:], f8[:], f8[:], f8[:], i8, i8, i8",
    returns="UniTuple(f8[:, :], 2)",
)
def draw_segments(
    x0: np.ndarray,
    y0: np.ndarray,
    d0: np.ndarray,
    x1: np.ndarray,
    y1: np.ndarray,
    d1: np.ndarray,
    shade: np.ndarray,
    width: int,
    height: int,
    radius: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw segments (pixel coordinates, x right, y down) as lines ``2 * radius + 1`` pixels
    wide, keeping at each pixel the point nearest the viewer (largest depth).

    x0, y0, d0, x1, y1, d1: float64 (n,) end points and their depths; shade: float64 (n,)
    the value to store for each segment; width, height: image size; radius >= 0.
    Returns (depth float64 (height, width), -inf where nothing was drawn; value float64
    (height, width), the shade of the nearest segment, 0 where nothing was drawn). Samples
    every segment at most half a pixel apart, its start only when it is not where the previous
    segment ended (toolpaths are chains of short segments: this halves the work); later
    samples win ties.
    """
    depth = np.full((height, width), -np.inf)
    value = np.zeros((height, width))
    for s in range(x0.shape[0]):
        dx = x1[s] - x0[s]
        dy = y1[s] - y0[s]
        steps = max(int(math.ceil(2.0 * max(abs(dx), abs(dy)))), 1)
        first = 0
        if s > 0 and x0[s] == x1[s - 1] and y0[s] == y1[s - 1] and d0[s] == d1[s - 1]:
            first = 1
        for k in range(first, steps + 1):
            t = k / steps
            px = int(math.floor(x0[s] + t * dx + 0.5))
            py = int(math.floor(y0[s] + t * dy + 0.5))
            d = d0[s] + t * (d1[s] - d0[s])
            for qy in range(py - radius, py + radius + 1):
                if qy < 0 or qy >= height:
                    continue
                for qx in range(px - radius, px + radius + 1):
                    if qx < 0 or qx >= width:
                        continue
                    if d >= depth[qy, qx]:
                        depth[qy, qx] = d
                        value[qy, qx] = shade[s]
    return depth, value
