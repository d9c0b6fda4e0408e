"""Read G-code back: text -> ``GcodeMoves`` -> ``ProgramStats``.

The reader is how the thread verifies what it wrote (every move inside the machine, the
filament it will use, the time it will take), so it interprets the file the way firmware
does rather than trusting the emitter. The byte-level interpreter is the numba kernel
``kernels/parse.py``; see it for the commands understood.
"""

from __future__ import annotations

import math

import numpy as np

from fabthread.errors import GcodeError
from fabthread.gcode.estimate import GENERIC_LIMITS, move_times
from fabthread.gcode.kernels.parse import ERR_ARC, ERR_CHAR, ERR_NUMBER, parse_gcode
from fabthread.gcode.moves import GcodeKind, GcodeMoves
from fabthread.model.profiles import MotionLimits
from fabthread.model.program import ProgramStats

# Comments that mark a new layer, in order of preference: PrusaSlicer/fabthread, Cura.
_LAYER_MARKERS = (b"LAYER_CHANGE", b"LAYER:")

_ERRORS = {
    ERR_NUMBER: "malformed number",
    ERR_CHAR: "unexpected character",
    ERR_ARC: "arc without a valid centre (needs I/J, or R at least half the chord)",
}


def read_gcode(text: str, source: str = "G-code") -> GcodeMoves:
    """Parse ``text`` into moves. Raises GcodeError ("<source> line N: ...") for malformed
    numbers or words in motion commands. ``source`` names the file in messages."""
    data = np.frombuffer(text.encode("utf-8", errors="replace"), dtype=np.uint8)
    marker = np.zeros(0, dtype=np.uint8)
    for m in _LAYER_MARKERS:
        if ";" + m.decode() in text:
            marker = np.frombuffer(m, dtype=np.uint8)
            break
    n = text.count("\n") + 1
    out: dict[str, np.ndarray] = {
        "start_mm": np.empty((n, 3)),
        "xyz_mm": np.empty((n, 3)),
        "e_mm": np.empty(n),
        "feed_mm_min": np.empty(n),
        "length_mm": np.empty(n),
        "kind": np.empty(n, dtype=np.uint8),
        "layer": np.empty(n, dtype=np.int32),
        "line": np.empty(n, dtype=np.int32),
        "dir_start": np.zeros((n, 3)),
        "dir_end": np.zeros((n, 3)),
        "arc_radius_mm": np.zeros(n),
        "accel_mm_s2": np.zeros(n),
        "arc_centre_mm": np.zeros((n, 2)),
    }
    count, dwell, layers, err, err_line = parse_gcode(data, marker, *out.values())
    if err:
        lines = text.split("\n", err_line)
        bad = lines[err_line - 1].strip() if len(lines) >= err_line else ""
        raise GcodeError(f"{source} line {err_line}: {_ERRORS.get(err, 'error')}: {bad[:80]!r}")
    for arr in out.values():
        # Shrink in place (the arrays are ours, unshared) and freeze, so GcodeMoves need not
        # copy them: a copy of a million-row SoA costs more than parsing it.
        arr.resize((count, *arr.shape[1:]), refcheck=False)
        arr.flags.writeable = False
    return GcodeMoves(**out, dwell_s=float(dwell), layer_count=int(layers))


def summarize(
    moves: GcodeMoves,
    *,
    filament_diameter_mm: float,
    density_g_cm3: float,
    limits: MotionLimits | None,
    move_s: np.ndarray | None = None,
) -> ProgramStats:
    """What a program measures: layers, moves, bounds of the extruding moves (all moves when
    nothing extrudes), the highest feed, the net filament it consumes (fed minus retracted,
    mm) and its mass (g), and the estimated time (s: motion planned with ``limits``, or
    ``GENERIC_LIMITS`` when None, plus G4 dwells; heating waits are not known and not
    counted). ``move_s``: the moves' times when already planned with ``limits``
    (``emit.EmittedProgram.move_s``)."""
    box = moves.bounds(extruding_only=True) or moves.bounds() or ((0.0,) * 3, (0.0,) * 3)
    filament_mm = float(moves.e_mm.sum()) if len(moves) else 0.0
    area_mm2 = math.pi * (filament_diameter_mm / 2.0) ** 2
    grams = filament_mm * area_mm2 * density_g_cm3 / 1000.0
    motion = moves.length_mm > 0
    max_feed = float(moves.feed_mm_min[motion].max()) if motion.any() else 0.0
    times = move_times(moves, limits or GENERIC_LIMITS) if move_s is None else move_s
    if len(times) != len(moves):
        raise ValueError(f"move_s has {len(times)} times for {len(moves)} moves")
    return ProgramStats(
        layers=moves.layer_count,
        moves=len(moves),
        min_xyz_mm=box[0],
        max_xyz_mm=box[1],
        max_feed_mm_min=max_feed,
        filament_mm=filament_mm,
        filament_g=grams,
        time_s=float(times.sum()) + moves.dwell_s,
    )


def retraction_count(moves: GcodeMoves) -> int:
    """Number of retractions: runs of consecutive moves that pull filament back (a wipe
    spreads one retraction over several moves)."""
    r = moves.kind == GcodeKind.RETRACT
    return int((r & ~np.r_[False, r[:-1]]).sum())
