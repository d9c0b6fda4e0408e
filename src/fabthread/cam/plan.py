"""Plan a CNC or laser job: ``cam_part(part, machine, material, tools, ops) -> Toolpath``.

The part is placed in the machine's work coordinates: stock corner at (``origin_mm``,
``origin_mm``) so the tool can go around the stock, the part ``margin_mm`` inside it, Z zero
at the stock bottom (through cuts go slightly below). The
stock is the part's box plus the margin and ``top_mm`` above the part (CNC), or the sheet
(laser). Operations run in the order given; tools come from the library by id.
"""

from __future__ import annotations

import numpy as np

from fabthread.cam import ops25
from fabthread.cam.engrave import engrave_part
from fabthread.cam.features import slabs
from fabthread.cam.finish import finish
from fabthread.cam.laser import laser_cut
from fabthread.cam.moves import MoveBuilder
from fabthread.cam.setup import check_fits, cut_data, rapid_mm_min
from fabthread.errors import ParamError
from fabthread.model.cam import (
    CamSettings,
    DrillOp,
    EngraveOp,
    FaceOp,
    FinishOp,
    LaserCutOp,
    Operation,
    PocketOp,
    ProfileOp,
    Stock,
    StockMaterial,
    ToolLibrary,
)
from fabthread.model.part import Part
from fabthread.model.profiles import MachineProfile
from fabthread.model.toolpath import Toolpath


def place(part: Part, margin_mm: float) -> Part:
    """``part`` moved so its box starts at (margin, margin, 0)."""
    lo = part.bounds_mm[0]
    v = part.vertices_mm - lo + np.array([margin_mm, margin_mm, 0.0])
    return Part(part.name, v, part.faces, part.source_sha256, part.color_hex, part.meta)


def stock_for(part: Part, margin_mm: float, top_mm: float) -> Stock:
    lo, hi = part.bounds_mm
    return Stock(
        (float(lo[0] - margin_mm), float(lo[1] - margin_mm), float(lo[2])),
        (float(hi[0] + margin_mm), float(hi[1] + margin_mm), float(hi[2] + top_mm)),
    )


def cam_part(
    part: Part,
    machine: MachineProfile,
    material: StockMaterial,
    tools: ToolLibrary,
    ops: tuple[Operation, ...] | list[Operation],
    settings: CamSettings | None = None,
    *,
    margin_mm: float = 10.0,
    top_mm: float = 1.0,
    origin_mm: float = 15.0,
    placed: bool = False,
) -> Toolpath:
    """The toolpath of ``ops`` on ``part`` (placed in work coordinates unless ``placed``)."""
    if not ops:
        raise ParamError(
            "no operations given; allowed: face, profile, pocket, drill, finish, laser-cut, engrave"
        )
    if material.process != machine.process:
        raise ParamError(
            f"material {material.id} is for {material.process}, machine {machine.id} is "
            f"{machine.process}"
        )
    settings = settings or CamSettings()
    p = part if placed else place(part, margin_mm + origin_mm)
    if machine.process == "laser":
        stock = stock_for(p, margin_mm, 0.0)
        check_fits(p, stock, machine)
        thickness = float(p.bounds_mm[1][2] - p.bounds_mm[0][2])
        setting = material.laser_for(thickness, machine.laser_power_w)
        mb = MoveBuilder("laser", rapid_mm_min(machine))
        for op in ops:
            if isinstance(op, EngraveOp):
                engrave_part(p, op, setting, mb, machine)
            elif isinstance(op, LaserCutOp):
                laser_cut(p, op, setting, mb)
            else:
                raise ParamError(f"{type(op).__name__} is not a laser operation")
        return mb.build((p.name,))
    stock = stock_for(p, margin_mm, top_mm)
    check_fits(p, stock, machine)
    clearance = stock.top_z_mm + settings.clearance_mm
    mb = MoveBuilder("cnc", min(settings.rapid_mm_min, rapid_mm_min(machine)))
    sl = None
    for op in ops:
        if isinstance(op, LaserCutOp):
            raise ParamError("laser-cut is not a cnc operation")
        if isinstance(op, EngraveOp):
            raise ParamError("engrave is not a cnc operation (laser only)")
        cd = cut_data(tools.get(op.tool), material.id, machine)
        if isinstance(op, FinishOp):
            finish(p, op, cd, stock, clearance, mb)
            continue
        if isinstance(op, FaceOp):
            ops25.face(op, cd, stock, float(p.bounds_mm[1][2]), clearance, mb)
            continue
        sl = sl or slabs(p)
        if isinstance(op, ProfileOp):
            ops25.profile(sl, op, cd, stock, clearance, mb)
        elif isinstance(op, PocketOp):
            ops25.pocket(sl, op, cd, stock, clearance, mb)
        elif isinstance(op, DrillOp):
            ops25.drill(sl, op, cd, stock, clearance, mb)
    return mb.build((p.name,))
