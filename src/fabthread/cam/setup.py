"""What a CNC operation needs to know about its tool on this machine in this material.

``cut_data`` clamps the tool's spindle speed to the machine's range and scales the feeds by
the same factor, so the chip load per tooth stays what the tool chart says.
"""

from __future__ import annotations

from dataclasses import dataclass

from fabthread.errors import ParamError
from fabthread.model.cam import Stock, ToolSpec
from fabthread.model.part import Part
from fabthread.model.profiles import MachineProfile


@dataclass(frozen=True, slots=True)
class CutData:
    tool: ToolSpec
    rpm: float
    power: float  # rpm as a fraction of the machine's maximum
    feed_mm_min: float
    plunge_mm_min: float
    stepdown_mm: float
    stepover_frac: float
    peck_mm: float


def cut_data(tool: ToolSpec, material: str, machine: MachineProfile) -> CutData:
    f = tool.feeds_for(material)
    if machine.spindle_max_rpm <= 0:
        raise ParamError(f"machine {machine.id} has no spindle ([spindle] max_rpm)")
    rpm = min(max(f.spindle_rpm, machine.spindle_min_rpm), machine.spindle_max_rpm)
    scale = rpm / f.spindle_rpm
    max_xy = 60.0 * min(machine.limits.max_feed_x_mm_s, machine.limits.max_feed_y_mm_s)
    max_z = 60.0 * machine.limits.max_feed_z_mm_s
    return CutData(
        tool=tool,
        rpm=rpm,
        power=rpm / machine.spindle_max_rpm,
        feed_mm_min=min(f.feed_mm_min * scale, max_xy),
        plunge_mm_min=min(f.plunge_mm_min * scale, max_z),
        stepdown_mm=min(f.stepdown_mm, tool.flute_length_mm),
        stepover_frac=f.stepover_frac,
        peck_mm=f.peck_mm,
    )


def rapid_mm_min(machine: MachineProfile) -> float:
    lim = machine.limits
    return 60.0 * min(lim.max_feed_x_mm_s, lim.max_feed_y_mm_s)


def default_stock(part: Part, margin_mm: float = 5.0, top_mm: float = 1.0) -> Stock:
    """A block around ``part``: ``margin_mm`` on each side, ``top_mm`` above it, same bottom."""
    lo, hi = part.bounds_mm
    return Stock(
        min_xyz_mm=(float(lo[0] - margin_mm), float(lo[1] - margin_mm), float(lo[2])),
        max_xyz_mm=(float(hi[0] + margin_mm), float(hi[1] + margin_mm), float(hi[2] + top_mm)),
    )


def check_fits(part: Part, stock: Stock, machine: MachineProfile) -> None:
    from fabthread.errors import FitError

    lo, hi = stock.min_xyz_mm, stock.max_xyz_mm
    for axis, size, a, b in zip(
        "xyz", (machine.size_x_mm, machine.size_y_mm, machine.size_z_mm), lo, hi, strict=True
    ):
        if a < -1e-6 or b > size + 1e-6:
            raise FitError(
                f"stock {axis}={a:.1f}..{b:.1f} mm is outside the work area 0..{size:g} mm of "
                f"machine {machine.id}"
            )
    del part
