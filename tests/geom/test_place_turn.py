"""Turning a part about Z so it fits a bed it does not fit axis-aligned."""

from __future__ import annotations

import numpy as np
import trimesh

from fabthread.geom.mesh_io import part_from_trimesh
from fabthread.geom.place import turn_to_fit


def _box(x: float, y: float, z: float):
    return part_from_trimesh(trimesh.creation.box((x, y, z)), "box")


def test_long_part_is_turned_to_fit_and_keeps_its_shape() -> None:
    part = _box(255.0, 40.0, 10.0)  # too long for 250 mm, fits turned ~25°
    turned = turn_to_fit(part, 250.0, 210.0)
    assert turned is not part
    size = np.ptp(turned.vertices_mm, axis=0)
    assert size[0] <= 250.0 + 1e-6 and size[1] <= 210.0 + 1e-6
    assert np.isclose(size[2], 10.0)
    assert np.isclose(turned.volume_mm3, part.volume_mm3)
    # pairwise distances (the shape) are unchanged by the turn
    d0 = np.linalg.norm(part.vertices_mm[0] - part.vertices_mm[1:], axis=1)
    d1 = np.linalg.norm(turned.vertices_mm[0] - turned.vertices_mm[1:], axis=1)
    assert np.allclose(d0, d1)


def test_part_that_fits_or_never_fits_is_returned_unchanged() -> None:
    small = _box(20.0, 20.0, 20.0)
    assert turn_to_fit(small, 250.0, 210.0) is small
    huge = _box(400.0, 400.0, 5.0)
    assert turn_to_fit(huge, 250.0, 210.0) is huge
