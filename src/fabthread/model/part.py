"""Part: a triangle mesh in millimetres, the output of a design build or a mesh file."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fabthread.model._frozen import readonly
from fabthread.model.arrays import column_bounds


@dataclass(frozen=True, slots=True)
class Part:
    """A closed triangle mesh, in millimetres, Z up, as it will sit on the bed.

    vertices_mm: float64 (n, 3); faces: int64 (m, 3) indices into vertices, counter-clockwise
    seen from outside. ``source_sha256`` is the content hash of what it was made from (design
    source + resolved parameters, or the mesh file), for provenance and caching.
    """

    name: str
    vertices_mm: np.ndarray
    faces: np.ndarray
    source_sha256: str = ""
    color_hex: str = ""
    meta: tuple[tuple[str, str], ...] = field(default=())
    _bounds: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        v = readonly(self.vertices_mm, np.float64, (3,))
        object.__setattr__(self, "vertices_mm", v)
        object.__setattr__(self, "faces", readonly(self.faces, np.int64, (3,)))
        # once: a slice asks for the bounds several times
        bounds = np.array(column_bounds(v)) if len(v) else np.zeros((2, 3))
        bounds.flags.writeable = False
        object.__setattr__(self, "_bounds", bounds)

    @property
    def bounds_mm(self) -> np.ndarray:
        """(2, 3) array (read-only): min corner, max corner."""
        return self._bounds

    @property
    def volume_mm3(self) -> float:
        """Signed volume by the divergence theorem (positive for outward-facing triangles)."""
        v = self.vertices_mm[self.faces]
        return float(np.einsum("ij,ij->i", v[:, 0], np.cross(v[:, 1], v[:, 2])).sum() / 6.0)
