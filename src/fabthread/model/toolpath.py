"""Toolpath: the one intermediate representation every process writes and every emitter reads.

Structure of arrays, one row per move. Row i moves the tool from the end of row i-1 (or, for
row 0, from wherever the start program left it) to ``xyz_mm[i]`` at ``feed_mm_min[i]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np

from fabthread.model._frozen import readonly

if TYPE_CHECKING:
    from fabthread.model.params import Process


class MoveKind(IntEnum):
    """What a move is. FDM kinds < 20, CNC 20..29, laser 30..39."""

    TRAVEL = 0
    EXTERNAL_PERIMETER = 1
    PERIMETER = 2
    SOLID_INFILL = 3
    TOP_SOLID = 4
    SPARSE_INFILL = 5
    BRIDGE = 6
    GAP_FILL = 7
    SKIRT = 8
    SUPPORT = 9
    SUPPORT_INTERFACE = 10
    WIPE = 11
    RAPID = 20  # CNC/laser positioning at rapid feed (G0)
    CUT = 21  # CNC cutting move (G1)
    PLUNGE = 22  # CNC vertical or ramp entry
    LASER_CUT = 30
    LASER_ENGRAVE = 31


EXTRUDING_KINDS = frozenset(range(1, 11))
#: ``EXTRUDING[kind]``: whether moves of that kind extrude (a table: an index per move
#: instead of ``np.isin``, which sorts both arrays every call).
EXTRUDING = np.zeros(256, dtype=bool)
EXTRUDING[sorted(EXTRUDING_KINDS)] = True
EXTRUDING.flags.writeable = False


@dataclass(frozen=True, slots=True)
class Toolpath:
    """Moves of one job, in machine coordinates (mm).

    xyz_mm: float64 (n, 3) end point of each move.
    feed_mm_min: float64 (n,) feed rate of each move.
    kind: uint8 (n,) a ``MoveKind``.
    extrude_mm3: float64 (n,) volume of material deposited by the move (FDM; 0 otherwise).
    power: float64 (n,) spindle or laser power as a fraction 0..1 (CNC/laser; 0 for FDM).
    layer: int32 (n,) index into ``layer_z_mm`` (FDM layers; CNC/laser: step-down index).
    retract: bool (n,) on a travel: retract before it and unretract after it.
    object_id: int16 (n,) which copy/object the move belongs to (-1: none, e.g. skirt).
    tool: int8 (n,) extruder or tool index.
    layer_z_mm, layer_height_mm: float64 (L,) per layer.
    object_names: names of the objects, indexed by ``object_id``.
    color_changes: (layer index, color name) pairs where a color change precedes the layer.
    """

    process: Process
    xyz_mm: np.ndarray
    feed_mm_min: np.ndarray
    kind: np.ndarray
    extrude_mm3: np.ndarray
    power: np.ndarray
    layer: np.ndarray
    retract: np.ndarray
    object_id: np.ndarray
    tool: np.ndarray
    layer_z_mm: np.ndarray
    layer_height_mm: np.ndarray
    object_names: tuple[str, ...] = ()
    color_changes: tuple[tuple[int, str], ...] = ()

    def __post_init__(self) -> None:
        n = len(self.xyz_mm)
        for name, dtype, tail in (
            ("xyz_mm", np.float64, (3,)),
            ("feed_mm_min", np.float64, ()),
            ("kind", np.uint8, ()),
            ("extrude_mm3", np.float64, ()),
            ("power", np.float64, ()),
            ("layer", np.int32, ()),
            ("retract", np.bool_, ()),
            ("object_id", np.int16, ()),
            ("tool", np.int8, ()),
        ):
            arr = readonly(getattr(self, name), dtype, tail)
            if len(arr) != n:
                raise ValueError(f"Toolpath.{name} has {len(arr)} rows, xyz_mm has {n}")
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "layer_z_mm", readonly(self.layer_z_mm, np.float64))
        object.__setattr__(self, "layer_height_mm", readonly(self.layer_height_mm, np.float64))

    def __len__(self) -> int:
        return len(self.xyz_mm)

    @property
    def layer_count(self) -> int:
        return len(self.layer_z_mm)

    @property
    def extruded_mm3(self) -> float:
        return float(self.extrude_mm3.sum())
