"""FDM minimum hole and feature size, from horizontal cross-sections.

The part is cut at ``SECTIONS`` heights (plus the middle of the first layer). In each section,
the width of a hole (interior ring) or an island (a separate piece of the section) is the
diameter of the largest circle inside it (shapely's maximum inscribed circle): a round hole's
diameter, a slot's width.

Rules: ``min_hole`` (holes below ``min_hole_error_mm`` close up: error; below
``min_hole_warning_mm`` come out undersized: warning) and ``min_feature`` (islands narrower
than one extrusion vanish: error; narrower than ``min_wall_warning_mm``: warning). Holes
through vertical walls (horizontal axes) do not show in horizontal sections: ``min_wall``
and ``overhang`` cover what matters there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon

from fabthread.check._geom import as_trimesh, section_heights, section_polygons
from fabthread.check.limits import CheckLimits
from fabthread.model.findings import Finding, Point
from fabthread.model.part import Part
from fabthread.model.profiles import MachineProfile, MaterialProfile

SECTIONS = 16
MAX_LOCATIONS = 10


def check_small_features(
    part: Part,
    machine: MachineProfile,
    material: MaterialProfile | None = None,
    *,
    limits: CheckLimits | None = None,
    sections: int = SECTIONS,
) -> list[Finding]:
    """``min_hole`` and ``min_feature`` findings for ``part``."""
    limits = limits or CheckLimits.from_profiles(machine, material)
    mesh = as_trimesh(part)
    lo, hi = part.bounds_mm
    holes: list[_Narrow] = []
    islands: list[_Narrow] = []
    screen_hole = 4 * limits.min_hole_warning_mm
    screen_island = 4 * limits.min_wall_warning_mm
    tol = limits.tolerance_mm
    zs = section_heights(float(lo[2]), float(hi[2]), sections, limits.first_layer_height_mm)
    for k, z in enumerate(zs):
        for poly in section_polygons(mesh, z):
            for ring in poly.interiors:
                hole = Polygon(ring)
                width = _width(hole, screen_hole)
                if width is not None and width < limits.min_hole_warning_mm - tol:
                    holes.append(_Narrow(k, hole, width, z))
            outline = Polygon(poly.exterior)
            width = _width(outline, screen_island)
            if width is not None and width < limits.min_wall_warning_mm - tol:
                islands.append(_Narrow(k, outline, width, z))
    narrow_holes, narrow_islands = _persistent(holes), _persistent(islands)
    out: list[Finding] = []
    out += _report(
        "min_hole",
        narrow_holes,
        limits.min_hole_error_mm,
        limits.min_hole_warning_mm,
        "vertical holes/slots as narrow as {w:.2f} mm ({n} cross-sections) are below {lim:.2f} mm",
        "widen the hole to at least {good:.2f} mm, or drill it after printing",
        tol,
    )
    out += _report(
        "min_feature",
        narrow_islands,
        limits.min_wall_error_mm,
        limits.min_wall_warning_mm,
        "pins/fins as narrow as {w:.2f} mm ({n} cross-sections) are below {lim:.2f} mm",
        "make the feature at least {good:.2f} mm wide",
        tol,
    )
    return out


@dataclass(frozen=True, slots=True)
class _Narrow:
    section: int
    polygon: Polygon
    width: float
    z: float

    @property
    def point(self) -> Point:
        c = self.polygon.centroid
        return (float(c.x), float(c.y), self.z)


def _persistent(found: list[_Narrow]) -> list[tuple[float, Point]]:
    """The narrow shapes that continue into a neighbouring section (overlapping in x/y): a
    pin or a hole has height, the tip of a cone or the bottom of a dimple does not."""
    out = []
    for a in found:
        if any(abs(b.section - a.section) == 1 and a.polygon.intersects(b.polygon) for b in found):
            out.append((a.width, a.point))
    return out


def _width(poly: Polygon, screen: float) -> float | None:
    """Diameter of the largest inscribed circle, or None when the cheap bound 4A/P (an upper
    bound for convex shapes) shows the shape is far wider than ``screen``."""
    if poly.is_empty or poly.length == 0:
        return None
    if 4 * poly.area / poly.length > screen:
        return None
    if not poly.is_valid:
        poly = poly.buffer(0)
        if poly.is_empty:
            return None
    tolerance = max(
        min(poly.bounds[2] - poly.bounds[0], poly.bounds[3] - poly.bounds[1]) / 100, 1e-4
    )
    line = shapely.maximum_inscribed_circle(poly, tolerance)
    return 2.0 * float(line.length)


def _report(
    rule: str,
    found: list[tuple[float, Point]],
    error_mm: float,
    warning_mm: float,
    message: str,
    fix: str,
    tol: float,
) -> list[Finding]:
    if not found:
        return []
    widths = np.array([w for w, _ in found])
    order = np.argsort(widths, kind="stable")
    out = []
    for severity, lim, sel in (
        ("error", error_mm, widths < error_mm - tol),
        ("warning", warning_mm, (widths >= error_mm - tol) & (widths < warning_mm - tol)),
    ):
        idx = [i for i in order if sel[i]]
        if not idx:
            continue
        w = float(widths[idx[0]])
        out.append(
            Finding(
                rule,
                severity,  # type: ignore[arg-type]
                message.format(w=w, n=len(idx), lim=lim),
                measured=w,
                limit=lim,
                unit="mm",
                location=tuple(found[i][1] for i in idx[:MAX_LOCATIONS]),
                fix=fix.format(good=warning_mm),
            )
        )
    return out
