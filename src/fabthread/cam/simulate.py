"""Verify a CNC toolpath by cutting a heightmap of the stock (see ``kernels/stocksim``).

``simulate_stock`` returns the final heightmap and the rapid collisions; ``part_heights``
samples the part's top surface on the same grid, so ``gouge = part - stock`` and ``left =
stock - part`` are plain array differences.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fabthread.cam.dropcut import DropSurface
from fabthread.cam.kernels import stocksim
from fabthread.model.cam import Stock, ToolLibrary
from fabthread.model.part import Part
from fabthread.model.toolpath import Toolpath


@dataclass(frozen=True, slots=True)
class SimResult:
    heights: np.ndarray  # float64 (ny, nx) stock top after the job
    x0: float
    y0: float
    cell: float
    rapid_hits: int
    rapid_depth_mm: float
    first_hit: int

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        ny, nx = self.heights.shape
        xs = self.x0 + (np.arange(nx) + 0.5) * self.cell
        ys = self.y0 + (np.arange(ny) + 0.5) * self.cell
        return np.meshgrid(xs, ys)


def simulate_stock(
    toolpath: Toolpath,
    stock: Stock,
    tools: ToolLibrary,
    cell_mm: float = 0.25,
    tol_mm: float = 1e-3,
) -> SimResult:
    lo, hi = stock.min_xyz_mm, stock.max_xyz_mm
    nx = int(np.ceil((hi[0] - lo[0]) / cell_mm))
    ny = int(np.ceil((hi[1] - lo[1]) / cell_mm))
    hm = np.full((ny, nx), hi[2], dtype=np.float64)
    radius = np.zeros(len(toolpath))
    cutter = np.zeros(len(toolpath), dtype=np.int64)
    for number in np.unique(toolpath.tool):
        t = tools.by_number(int(number))
        sel = toolpath.tool == number
        radius[sel] = t.radius_mm
        cutter[sel] = 1 if t.kind == "ball" else 0
    hits, depth, first = stocksim.simulate(
        hm,
        float(lo[0]),
        float(lo[1]),
        float(cell_mm),
        np.ascontiguousarray(toolpath.xyz_mm),
        np.ascontiguousarray(toolpath.kind),
        radius,
        cutter,
        tol_mm,
    )
    return SimResult(
        hm, float(lo[0]), float(lo[1]), float(cell_mm), int(hits), float(depth), int(first)
    )


def part_heights(part: Part, sim: SimResult, floor_z: float) -> np.ndarray:
    """The part's top surface at the centre of each cell of ``sim`` (``floor_z`` off the
    part)."""
    xs, ys = sim.centres()
    surf = DropSurface(part, 1e-6, 0, floor_z=floor_z)
    return surf.heights(xs, ys)
