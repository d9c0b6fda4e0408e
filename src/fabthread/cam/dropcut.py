"""Drop-cutter queries over a part: binning once, then heights for many points.

``DropSurface(part, radius_mm, cutter)`` bins the triangles; ``heights(xs, ys)`` returns the
tip height (mm) of the tool centred on each point, lines in parallel (numba, see
``fabthread.cam.kernels.dropcutter``).
"""

from __future__ import annotations

import math

import numpy as np

from fabthread.cam.kernels import dropcutter as k
from fabthread.errors import ParamError
from fabthread.model.cam import ToolSpec
from fabthread.model.part import Part

CUTTERS = {"flat": k.FLAT, "ball": k.BALL}


def cutter_code(tool: ToolSpec) -> int:
    if tool.kind not in CUTTERS:
        raise ParamError(
            f"tool {tool.id} is a {tool.kind}; drop-cutter finishing needs a flat or ball end mill"
        )
    return CUTTERS[tool.kind]


class DropSurface:
    """Binned triangles of ``part`` for a cutter of ``radius_mm`` (``cutter`` 0 flat, 1 ball).

    ``floor_z`` is returned where the tool touches nothing (default: the part's lowest z).
    """

    def __init__(
        self, part: Part, radius_mm: float, cutter: int, floor_z: float | None = None
    ) -> None:
        tri = np.ascontiguousarray(part.vertices_mm[part.faces].reshape(-1, 9))
        lo, hi = part.bounds_mm
        self.radius = float(radius_mm)
        self.cutter = int(cutter)
        self.floor_z = float(lo[2] if floor_z is None else floor_z)
        # cells of about the mean triangle size, at least the radius, at most 2048 per axis
        span = hi[:2] - lo[:2] + 2 * self.radius
        edge = float(np.mean(np.abs(tri[:, 0:2] - tri[:, 3:5]).sum(axis=1))) if len(tri) else 1
        cell = max(self.radius * 0.5, edge, float(span.max()) / 2048.0, 1e-3)
        self.x0 = float(lo[0] - self.radius - cell)
        self.y0 = float(lo[1] - self.radius - cell)
        self.cell = cell
        self.nx = int(math.ceil((span[0] + 2 * cell) / cell)) + 1
        self.ny = int(math.ceil((span[1] + 2 * cell) / cell)) + 1
        self.tri = tri
        self.start, self.items = k.build_bins(
            tri, self.radius, self.x0, self.y0, self.cell, self.nx, self.ny
        )

    def heights(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Tip heights float64 with the shape of ``xs`` (1-D or 2-D (lines, points))."""
        x = np.ascontiguousarray(xs, dtype=np.float64)
        y = np.ascontiguousarray(ys, dtype=np.float64)
        shape = x.shape
        x2 = x.reshape(1, -1) if x.ndim == 1 else x
        y2 = y.reshape(1, -1) if y.ndim == 1 else y
        if x.ndim == 1 and len(x) > 4096:  # spread a long flat query over the threads
            n = len(x)
            pad = (-n) % 256
            x2 = np.concatenate([x, np.full(pad, x[-1])]).reshape(-1, 256)
            y2 = np.concatenate([y, np.full(pad, y[-1])]).reshape(-1, 256)
            z = self._run(x2, y2).reshape(-1)[:n]
            return z.reshape(shape)
        return self._run(x2, y2).reshape(shape)

    def _run(self, x2: np.ndarray, y2: np.ndarray) -> np.ndarray:
        return k.drop_lines(
            x2,
            y2,
            self.tri,
            self.start,
            self.items,
            self.x0,
            self.y0,
            self.cell,
            self.nx,
            self.ny,
            self.radius,
            self.cutter,
            self.floor_z,
        )
