"""Program: machine-specific G-code text and what the reader measured in it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProgramStats:
    """Measured by reading the G-code back (``fabthread.gcode.reader``), not by trust."""

    layers: int
    moves: int
    min_xyz_mm: tuple[float, float, float]
    max_xyz_mm: tuple[float, float, float]
    max_feed_mm_min: float
    filament_mm: float
    filament_g: float
    time_s: float


@dataclass(frozen=True, slots=True)
class Program:
    """G-code for one machine. ``text`` ends with a newline; ``filename`` e.g. "job.gcode"."""

    text: str
    dialect: str
    machine: str
    stats: ProgramStats
    filename: str = "job.gcode"
