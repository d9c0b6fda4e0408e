"""LayerStack: the cross-sections of a part, one region per layer, in integer micrometres."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fabthread.model._frozen import readonly


@dataclass(frozen=True, slots=True)
class LayerStack:
    """The sliced outline of a part.

    z_mm: float64 (L,) top of each layer (where the nozzle is); slice_z_mm: float64 (L,) the
    plane the mesh was cut at (middle of the layer); height_mm: float64 (L,) layer thickness.
    points_um: int64 (P, 2) ring vertices in micrometres (no repeated last point).
    ring_start: int64 (R + 1,) ring r is ``points_um[ring_start[r]:ring_start[r + 1]]``.
    ring_is_hole: bool (R,) outlines are counter-clockwise, each followed by its clockwise holes.
    layer_ring_start: int64 (L + 1,) rings of layer l are
    ``layer_ring_start[l]:layer_ring_start[l + 1]``.
    """

    z_mm: np.ndarray
    slice_z_mm: np.ndarray
    height_mm: np.ndarray
    points_um: np.ndarray
    ring_start: np.ndarray
    ring_is_hole: np.ndarray
    layer_ring_start: np.ndarray

    def __post_init__(self) -> None:
        for name, dtype, tail in (
            ("z_mm", np.float64, ()),
            ("slice_z_mm", np.float64, ()),
            ("height_mm", np.float64, ()),
            ("points_um", np.int64, (2,)),
            ("ring_start", np.int64, ()),
            ("ring_is_hole", np.bool_, ()),
            ("layer_ring_start", np.int64, ()),
        ):
            object.__setattr__(self, name, readonly(getattr(self, name), dtype, tail))
        n = len(self.z_mm)
        if len(self.slice_z_mm) != n or len(self.height_mm) != n:
            raise ValueError("LayerStack: z_mm, slice_z_mm and height_mm differ in length")
        if len(self.layer_ring_start) != n + 1:
            raise ValueError("LayerStack: layer_ring_start must have one more entry than layers")
        if len(self.ring_start) != len(self.ring_is_hole) + 1:
            raise ValueError("LayerStack: ring_start must have one more entry than rings")

    def __len__(self) -> int:
        return len(self.z_mm)

    def layer_rings(self, layer: int) -> list[tuple[np.ndarray, bool]]:
        """(loop int64 (n, 2) µm, is_hole) of every ring of ``layer``."""
        out = []
        for r in range(self.layer_ring_start[layer], self.layer_ring_start[layer + 1]):
            out.append(
                (
                    self.points_um[self.ring_start[r] : self.ring_start[r + 1]],
                    bool(self.ring_is_hole[r]),
                )
            )
        return out
