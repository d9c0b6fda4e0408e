"""Rectilinear fill: parallel lines at a spacing and angle, clipped to a region."""

from __future__ import annotations

import math

import numpy as np
from shapely.geometry.base import BaseGeometry

from fabthread.geom import polygons as pg
from fabthread.slice.kernels.hatch import scanline_segments


def rectilinear(region: BaseGeometry, angle_deg: float, spacing_um: float) -> np.ndarray:
    """Lines at ``angle_deg`` (from +x, counter-clockwise) ``spacing_um`` apart inside
    ``region`` (µm). Lines sit on a global grid (offsets (k + 1/2)·spacing from the origin in
    the rotated frame), so layers with the same angle line up. Returns float64 (S, 4) in mm:
    x0, y0, x1, y1 per line."""
    if region.is_empty or spacing_um <= 0:
        return np.zeros((0, 4))
    pts, ring_start, _ = pg.to_arrays(region)
    if len(pts) == 0:
        return np.zeros((0, 4))
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    xy = pts.astype(np.float64)
    # rotate by -a: the fill direction becomes +x
    rot = np.empty_like(xy)
    rot[:, 0] = c * xy[:, 0] + s * xy[:, 1]
    rot[:, 1] = -s * xy[:, 0] + c * xy[:, 1]
    y_lo, y_hi = rot[:, 1].min(), rot[:, 1].max()
    k0 = math.floor(y_lo / spacing_um - 0.5)
    k1 = math.ceil(y_hi / spacing_um - 0.5)
    ys = (np.arange(k0, k1 + 1, dtype=np.float64) + 0.5) * spacing_um
    seg = scanline_segments(np.ascontiguousarray(rot), ring_start, ys)
    out = np.empty_like(seg)
    out[:, 0] = c * seg[:, 0] - s * seg[:, 1]
    out[:, 1] = s * seg[:, 0] + c * seg[:, 1]
    out[:, 2] = c * seg[:, 2] - s * seg[:, 3]
    out[:, 3] = s * seg[:, 2] + c * seg[:, 3]
    return out / pg.UM_PER_MM
