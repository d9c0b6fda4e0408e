"""GcodeMoves: the moves of a G-code program as read back (structure of arrays)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from fabthread.model._frozen import readonly


class GcodeKind(IntEnum):
    """What a move read from G-code does with the filament."""

    TRAVEL = 0  # XYZ motion, no E
    EXTRUDE = 1  # XYZ motion with E > 0
    RETRACT = 2  # E < 0 (with or without XYZ motion, e.g. retract while wiping)
    UNRETRACT = 3  # E > 0 without XYZ motion (unretract, prime)


@dataclass(frozen=True, slots=True)
class GcodeMoves:
    """Every G0/G1/G2/G3 that moves something, in file order.

    start_mm, xyz_mm: float64 (n, 3) start and end point (machine coordinates, mm).
    e_mm: float64 (n,) filament fed by the move (mm; negative for retractions).
    feed_mm_min: float64 (n,) the modal F in effect (0 when the file never set one).
    length_mm: float64 (n,) XYZ path length (arc length for G2/G3; 0 for E-only moves).
    kind: uint8 (n,) a ``GcodeKind``.
    layer: int32 (n,) 0-based layer (-1 before the first layer: start program, purge).
    line: int32 (n,) 1-based line number in the file.
    dir_start, dir_end: float64 (n, 3) unit XYZ direction at the start/end of the move (equal
    for lines, tangents for arcs; zero for E-only moves).
    arc_radius_mm: float64 (n,) radius of arcs, 0 for lines.
    accel_mm_s2: float64 (n,) acceleration the program commanded for the move (M204,
    SET_VELOCITY_LIMIT), 0 where it commanded none (the machine's limits apply).
    arc_centre_mm: float64 (n, 2) XY centre of arcs (0 for lines).
    dwell_s: total G4 dwell; layer_count: number of layers seen.
    """

    start_mm: np.ndarray
    xyz_mm: np.ndarray
    e_mm: np.ndarray
    feed_mm_min: np.ndarray
    length_mm: np.ndarray
    kind: np.ndarray
    layer: np.ndarray
    line: np.ndarray
    dir_start: np.ndarray
    dir_end: np.ndarray
    arc_radius_mm: np.ndarray
    accel_mm_s2: np.ndarray
    arc_centre_mm: np.ndarray
    dwell_s: float = 0.0
    layer_count: int = 0

    def __post_init__(self) -> None:
        n = len(self.xyz_mm)
        for name, dtype, tail in (
            ("start_mm", np.float64, (3,)),
            ("xyz_mm", np.float64, (3,)),
            ("e_mm", np.float64, ()),
            ("feed_mm_min", np.float64, ()),
            ("length_mm", np.float64, ()),
            ("kind", np.uint8, ()),
            ("layer", np.int32, ()),
            ("line", np.int32, ()),
            ("dir_start", np.float64, (3,)),
            ("dir_end", np.float64, (3,)),
            ("arc_radius_mm", np.float64, ()),
            ("accel_mm_s2", np.float64, ()),
            ("arc_centre_mm", np.float64, (2,)),
        ):
            arr = readonly(getattr(self, name), dtype, tail)
            if len(arr) != n:
                raise ValueError(f"GcodeMoves.{name} has {len(arr)} rows, xyz_mm has {n}")
            object.__setattr__(self, name, arr)

    def __len__(self) -> int:
        return len(self.xyz_mm)

    @property
    def extruding(self) -> np.ndarray:
        """bool (n,): moves that deposit material."""
        return self.kind == GcodeKind.EXTRUDE

    def bounds(
        self, extruding_only: bool = False
    ) -> tuple[tuple[float, float, float], tuple[float, float, float]] | None:
        """(min, max) corner of where the moves went, or of the extruding moves only; None when
        there are none. All moves count by their end points (the start of the first move is
        wherever the machine was, not a commanded position); extruding moves by both ends.
        Arcs count by their end points and the points where they are furthest along X and Y."""
        from fabthread.gcode.kernels.stats import masked_bounds

        mask = self.extruding if extruding_only else np.ones(len(self), dtype=bool)
        found, lo, hi = masked_bounds(
            self.start_mm,
            self.xyz_mm,
            mask,
            extruding_only,
            self.arc_centre_mm,
            self.arc_radius_mm,
            self.dir_start,
        )
        if not found:
            return None
        return (
            (float(lo[0]), float(lo[1]), float(lo[2])),
            (float(hi[0]), float(hi[1]), float(hi[2])),
        )
