"""Layer times for the emitter: progress lines (``M73``) and cooling by layer time.

The times are the reader's: the emitter's first draft of the program is read back and timed
with the machine's limits by ``estimate.move_times``, the same computation
``reader.summarize`` does (it is handed these times), so the remaining time an ``M73``
shows at a layer change plus the time already spent is the program's estimated time.

Cooling by layer time (what PrusaSlicer calls "fan below layer time" and Cura "minimum layer
time"): a short layer has little time to cool before the next one lands on it, so it gets
more fan. A layer that takes ``full_below_s`` or less gets ``fan_max_pct``; one that takes
``min_above_s`` or more gets ``fan_min_pct``; in between the fan falls linearly. The slicer
already slows layers down to its minimum layer time, so ``full_below_s`` is best set to that
time (``SliceSettings.min_layer_time_s``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fabthread.gcode.moves import GcodeMoves
from fabthread.model._frozen import readonly
from fabthread.model.profiles import MaterialProfile


@dataclass(frozen=True, slots=True)
class LayerTimes:
    """layer_s: float64 (L,) time of each layer of the program, in program order (s);
    elapsed_s: float64 (L,) time from the start of the program to the layer's start (s);
    total_s: the whole program's estimated time (s, with G4 dwells)."""

    layer_s: np.ndarray
    elapsed_s: np.ndarray
    total_s: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "layer_s", readonly(self.layer_s, np.float64))
        object.__setattr__(self, "elapsed_s", readonly(self.elapsed_s, np.float64))


def layer_times(
    moves: GcodeMoves, move_s: np.ndarray, layer_count: int, body_end_line: int
) -> LayerTimes:
    """Times of the ``layer_count`` layers of a program read back as ``moves``, whose moves
    take ``move_s`` (s, ``estimate.move_times``). Layers start at ``;LAYER_CHANGE`` comments;
    lines after ``body_end_line``, the end program, belong to no layer. Dwells count in the
    total only (the emitter writes none in the body)."""
    t = move_s
    lay = moves.layer
    body = (moves.line <= body_end_line) & (lay >= 0) & (lay < layer_count)
    layer_s = np.bincount(lay[body], weights=t[body], minlength=layer_count)[:layer_count]
    before = float(t[lay < 0].sum())
    elapsed = before + np.concatenate([[0.0], np.cumsum(layer_s)[:-1]])
    return LayerTimes(layer_s, elapsed, float(t.sum()) + moves.dwell_s)


def progress_command(elapsed_s: float, total_s: float) -> str:
    """``M73 P<percent done> R<minutes left>`` (Marlin, RRF, Klipper's display_status)."""
    pct = int(100.0 * elapsed_s / total_s) if total_s > 0 else 100
    left_min = max(int(round((total_s - elapsed_s) / 60.0)), 0)
    return f"M73 P{min(max(pct, 0), 100)} R{left_min}"


@dataclass(frozen=True, slots=True)
class Cooling:
    """Fan percentage as a function of layer time (see the module docstring)."""

    min_pct: float
    max_pct: float
    full_below_s: float
    min_above_s: float

    @classmethod
    def of(cls, material: MaterialProfile, full_below_s: float, min_above_s: float) -> Cooling:
        return cls(material.fan_min_pct, material.fan_max_pct, full_below_s, min_above_s)

    @property
    def varies(self) -> bool:
        """Whether the fan depends on the layer time at all."""
        return self.min_pct != self.max_pct

    def pct(self, layer_s: float | None) -> float:
        """Fan % for a layer that takes ``layer_s`` seconds (None: not known, the maximum)."""
        if layer_s is None or not self.varies or layer_s <= self.full_below_s:
            return self.max_pct
        if layer_s >= self.min_above_s:
            return self.min_pct
        f = (layer_s - self.full_below_s) / (self.min_above_s - self.full_below_s)
        return self.max_pct + f * (self.min_pct - self.max_pct)
