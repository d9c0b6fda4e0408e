"""Place a part on the bed: z-min on the bed, XY bounding box centred."""

from __future__ import annotations

import numpy as np

from fabthread.model.part import Part


def place_on_bed(part: Part, bed_x_mm: float, bed_y_mm: float) -> Part:
    """A copy of ``part`` translated so its lowest point is at z = 0 and its XY bounding box is
    centred on a bed of ``bed_x_mm`` x ``bed_y_mm`` (bed origin at the front-left corner)."""
    lo, hi = part.bounds_mm
    shift = np.array(
        [bed_x_mm / 2.0 - (lo[0] + hi[0]) / 2.0, bed_y_mm / 2.0 - (lo[1] + hi[1]) / 2.0, -lo[2]]
    )
    return Part(
        name=part.name,
        vertices_mm=part.vertices_mm + shift,
        faces=part.faces,
        source_sha256=part.source_sha256,
        color_hex=part.color_hex,
        meta=part.meta,
    )


def fits(part: Part, size_x: float, size_y: float, size_z: float) -> bool:
    """Whether the part's bounding box fits a build volume of the given size (mm), unrotated."""
    lo, hi = part.bounds_mm
    size = hi - lo
    eps = 1e-6
    return bool(size[0] <= size_x + eps and size[1] <= size_y + eps and size[2] <= size_z + eps)


def turn_to_fit(part: Part, size_x: float, size_y: float, step_deg: float = 1.0) -> Part:
    """``part`` turned about Z by the smallest angle (0..179°, ``step_deg`` apart) at which its
    XY bounding box fits ``size_x`` x ``size_y``; unchanged when it fits as it is or never does.

    Turning about Z keeps the face on the bed and every overhang as designed, so it is always
    safe for FDM; the caller still checks the fit and reports the part's size if none works.
    """
    xy = part.vertices_mm[:, :2]
    eps = 1e-6
    for k in range(int(round(180.0 / step_deg))):
        a = np.radians(k * step_deg)
        c, s = np.cos(a), np.sin(a)
        x = xy[:, 0] * c - xy[:, 1] * s
        y = xy[:, 0] * s + xy[:, 1] * c
        if np.ptp(x) <= size_x + eps and np.ptp(y) <= size_y + eps:
            if k == 0:
                return part
            v = part.vertices_mm.copy()
            v[:, 0], v[:, 1] = x, y
            return Part(part.name, v, part.faces, part.source_sha256, part.color_hex, part.meta)
    return part
