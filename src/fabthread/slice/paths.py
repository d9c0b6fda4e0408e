"""LayerPaths: the paths of one layer, collected before ordering (mutable scratch that never
leaves the slicer; what leaves is the Toolpath)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class LayerPaths:
    """Parallel lists, one entry per path.

    pts: float64 (n, 2) mm (a loop repeats its first point); kind: a MoveKind; rate: float64
    (n,) mm³ per mm of the segment starting at each point (variable for gap fill); feed:
    mm/min; reversible: may run end to start; group: print-order group (ascending); obj:
    object id; island: island index in the layer (-1: none); fixed: keep the group's order.
    """

    pts: list[np.ndarray] = field(default_factory=list)
    kind: list[int] = field(default_factory=list)
    rate: list[np.ndarray] = field(default_factory=list)
    feed: list[float] = field(default_factory=list)
    reversible: list[bool] = field(default_factory=list)
    group: list[int] = field(default_factory=list)
    obj: list[int] = field(default_factory=list)
    island: list[int] = field(default_factory=list)
    fixed: list[bool] = field(default_factory=list)

    def add(
        self,
        pts: np.ndarray,
        kind: int,
        mm3_per_mm: float | np.ndarray,
        feed: float,
        reversible: bool,
        group: int,
        *,
        obj: int = 0,
        island: int = -1,
        fixed: bool = False,
    ) -> None:
        """Add a path; ``mm3_per_mm`` is one rate or one per segment ((n - 1,))."""
        n = len(pts)
        rate = np.zeros(n)
        rate[: n - 1] = mm3_per_mm
        self.pts.append(pts)
        self.kind.append(int(kind))
        self.rate.append(rate)
        self.feed.append(feed)
        self.reversible.append(reversible)
        self.group.append(group)
        self.obj.append(obj)
        self.island.append(island)
        self.fixed.append(fixed)
