"""2.5D features of a mesh: sections at Z levels, the silhouette, what lies above a height.

The mesh is cut (trimesh plane intersection) in the middle of every slab between two
distinct vertex heights; between those heights a 2.5D part's section does not change. Regions
are shapely polygons in integer micrometres (``fabthread.geom.polygons``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
import trimesh
from shapely.geometry.base import BaseGeometry

from fabthread.errors import MeshError
from fabthread.geom import polygons as pg
from fabthread.model.part import Part


def section(mesh: trimesh.Trimesh, z: float) -> BaseGeometry:
    """The region (µm) of ``mesh`` cut by the plane at height ``z`` (even-odd rule)."""
    segs = trimesh.intersections.mesh_plane(mesh, [0.0, 0.0, 1.0], [0.0, 0.0, z])
    if len(segs) == 0:
        return pg.EMPTY
    xy = np.round(np.asarray(segs)[:, :, :2] * pg.UM_PER_MM)
    lines = shapely.linestrings(xy)
    polys = shapely.get_parts(shapely.polygonize(lines))
    loops = [shapely.get_coordinates(p.exterior)[:-1] for p in polys if p.area > 0]
    return pg.from_loops(loops)


@dataclass(frozen=True)
class Slabs:
    """Part sections: ``levels`` float64 (S + 1,) sorted heights (mm), ``regions[s]`` the
    section (µm) between levels s and s + 1."""

    levels: np.ndarray
    regions: tuple[BaseGeometry, ...]

    @property
    def bottom(self) -> float:
        return float(self.levels[0])

    @property
    def top(self) -> float:
        return float(self.levels[-1])

    def silhouette(self) -> BaseGeometry:
        return pg.union(*self.regions)

    def above(self, z: float) -> BaseGeometry:
        """Part material at heights above ``z`` (union of the slabs reaching above it)."""
        keep = [r for s, r in enumerate(self.regions) if self.levels[s + 1] > z + 1e-6]
        return pg.union(*keep)

    def floors(self) -> list[float]:
        """Heights (mm) above the bottom where the section changes (pocket floors, steps)."""
        return [float(z) for z in self.levels[1:-1]]


def slabs(part: Part, max_levels: int = 200) -> Slabs:
    """Sections of ``part`` at the middle of each slab between distinct vertex heights."""
    mesh = trimesh.Trimesh(part.vertices_mm, part.faces, process=False)
    zs = np.unique(np.round(part.vertices_mm[:, 2], 4))
    if len(zs) < 2:
        raise MeshError(f"{part.name}: the part is flat (no height to machine)")
    if len(zs) > max_levels + 1:
        raise MeshError(
            f"{part.name}: {len(zs)} distinct vertex heights; 2.5D operations need a part made "
            f"of flat floors and vertical walls (at most {max_levels}); use the finish op"
        )
    regions = tuple(section(mesh, 0.5 * (a + b)) for a, b in zip(zs[:-1], zs[1:], strict=True))
    return Slabs(levels=zs, regions=regions)


def filled(region: BaseGeometry) -> BaseGeometry:
    """``region`` with its holes filled."""
    polys = [shapely.Polygon(p.exterior) for p in pg.islands(region)]
    return pg.union(*polys) if polys else pg.EMPTY


def holes(region: BaseGeometry) -> list[BaseGeometry]:
    """The holes of ``region`` as polygons."""
    return [shapely.Polygon(h) for p in pg.islands(region) for h in p.interiors]


def circle_fit(poly: BaseGeometry) -> tuple[float, float, float, float]:
    """(cx, cy, diameter, max deviation) in mm of a ring fitted as a circle about its
    centroid."""
    xy = shapely.get_coordinates(poly.exterior)[:-1] / pg.UM_PER_MM
    c = np.array([poly.centroid.x, poly.centroid.y]) / pg.UM_PER_MM
    r = np.hypot(xy[:, 0] - c[0], xy[:, 1] - c[1])
    return float(c[0]), float(c[1]), float(2 * r.mean()), float(np.abs(r - r.mean()).max())
