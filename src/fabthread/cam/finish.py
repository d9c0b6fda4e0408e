"""3D raster finishing by drop-cutter over the part mesh.

Lines ``stepover`` apart at ``angle_deg`` cover the part's xy box grown by the tool radius
and ``margin_mm``. Each line is sampled every ``sampling_mm``; then, where the straight move
between two samples leaves the true cutter-location surface by more than ``tolerance_mm`` at
its midpoint, the midpoint is inserted (up to 12 rounds). Zigzag links between lines are
dropped too, so no move can gouge.
"""

from __future__ import annotations

import math

import numpy as np

from fabthread.cam.dropcut import DropSurface, cutter_code
from fabthread.cam.moves import MoveBuilder
from fabthread.cam.setup import CutData
from fabthread.errors import ParamError
from fabthread.model.cam import FinishOp, Stock
from fabthread.model.part import Part

MAX_ROUNDS = 12


def raster_lines(part: Part, radius: float, op: FinishOp, stepover: float) -> list[np.ndarray]:
    """xy float64 (n, 2) samples of each raster line, in zigzag order if ``op.zigzag``."""
    lo, hi = part.bounds_mm
    a = math.radians(op.angle_deg)
    u = np.array([math.cos(a), math.sin(a)])
    v = np.array([-math.sin(a), math.cos(a)])
    grow = radius + op.margin_mm
    corners = np.array(
        [
            [lo[0] - grow, lo[1] - grow],
            [hi[0] + grow, lo[1] - grow],
            [hi[0] + grow, hi[1] + grow],
            [lo[0] - grow, hi[1] + grow],
        ]
    )
    tu, tv = corners @ u, corners @ v
    n_lines = max(1, int(math.ceil((tv.max() - tv.min()) / stepover)) + 1)
    offs = np.linspace(tv.min(), tv.max(), n_lines)
    n_pts = max(2, int(math.ceil((tu.max() - tu.min()) / op.sampling_mm)) + 1)
    ts = np.linspace(tu.min(), tu.max(), n_pts)
    lines = []
    for i, s in enumerate(offs):
        t = ts[::-1] if (op.zigzag and i % 2) else ts
        lines.append(s * v + t[:, None] * u)
    return lines


def refine(surf: DropSurface, lines: list[np.ndarray], tol: float, lift: float) -> list[np.ndarray]:
    """Drop every line's samples and refine them; returns xyz float64 (n, 3) per line."""
    pts = [np.column_stack([ln, np.zeros(len(ln))]) for ln in lines]
    flat = np.concatenate(pts)
    z = surf.heights(flat[:, 0], flat[:, 1]) + lift
    cuts = np.cumsum([0] + [len(p) for p in pts])
    for i, p in enumerate(pts):
        p[:, 2] = z[cuts[i] : cuts[i + 1]]
    for _ in range(MAX_ROUNDS):
        mids = [0.5 * (p[1:] + p[:-1]) for p in pts]
        m = np.concatenate(mids)
        if len(m) == 0:
            break
        zt = surf.heights(m[:, 0], m[:, 1]) + lift
        bad = np.abs(zt - m[:, 2]) > tol
        if not bad.any():
            break
        m[:, 2] = zt
        start = 0
        for i, p in enumerate(pts):
            n = len(p) - 1
            idx = np.nonzero(bad[start : start + n])[0]
            if len(idx):
                pts[i] = np.insert(p, idx + 1, m[start : start + n][idx], axis=0)
            start += n
    return pts


def finish(
    part: Part, op: FinishOp, cd: CutData, stock: Stock, clearance_z: float, mb: MoveBuilder
) -> None:
    """Append the finishing moves of ``op`` to ``mb``."""
    tool = cd.tool
    code = cutter_code(tool)
    stepover = op.stepover_mm or cd.stepover_frac * tool.diameter_mm
    if stepover <= 0 or op.sampling_mm <= 0:
        raise ParamError("finish: stepover_mm and sampling_mm must be > 0")
    leave = op.stock_to_leave_mm
    surf = DropSurface(part, tool.radius_mm + leave, code, floor_z=float(part.bounds_mm[0][2]))
    lines = raster_lines(part, tool.radius_mm + leave, op, stepover)
    paths = refine(surf, lines, op.tolerance_mm, leave)
    if op.zigzag:  # links between consecutive line ends, dropped and refined too
        links = [np.array([paths[i][-1, :2], paths[i + 1][0, :2]]) for i in range(len(paths) - 1)]
        linked = refine(surf, links, op.tolerance_mm, leave) if links else []
        joined = [paths[0]]
        for i, lk in enumerate(linked):
            joined += [lk[1:-1], paths[i + 1]]
        paths = [np.concatenate(joined)]
    mb.set(tool=tool.number, power=cd.power, layer=0, layer_z=float(part.bounds_mm[0][2]))
    for p in paths:
        mb.retract_to(p[0, 0], p[0, 1], clearance_z)
        mb.plunge(p[0, 0], p[0, 1], p[0, 2], cd.plunge_mm_min)
        mb.polyline(p[1:], cd.feed_mm_min)
    del stock
