"""Build volume / work area: does the part (or its stock) fit the machine?

``build_volume`` (FDM, laser): the part's bounding box against the machine's size_x/y/z.
``stock_size`` (CNC): the stock (part + a margin per side, see ``CheckLimits``) against the
work area, and its height against the thickest stocked sheet of the material (warning). When
the part as placed does not fit, the six axis-aligned orientations are tried (in the order:
as is, turned about Z, then lying on each side), then turns about Z in whole
degrees for each side down; the finding says which one fits, or that none does, with the
measured size against the limit.
"""

from __future__ import annotations

import math

import numpy as np

from fabthread.check.limits import CheckLimits
from fabthread.model.findings import Finding, Severity
from fabthread.model.part import Part
from fabthread.model.profiles import MachineProfile, MaterialProfile

#: The six axis-aligned orientations: which original axis ends up as the new x, y, z, and how
#: to say it.
ORIENTATIONS: tuple[tuple[tuple[int, int, int], str], ...] = (
    ((0, 1, 2), "as placed"),
    ((1, 0, 2), "turned 90° about Z"),
    ((0, 2, 1), "rotated 90° about X (its Y axis vertical)"),
    ((2, 0, 1), "rotated 90° about X, then 90° about Z (its Y axis vertical)"),
    ((2, 1, 0), "rotated 90° about Y (its X axis vertical)"),
    ((1, 2, 0), "rotated 90° about Y, then 90° about Z (its X axis vertical)"),
)
_AXIS = "XYZ"


def check_build_volume(
    part: Part,
    machine: MachineProfile,
    material: MaterialProfile | None = None,
    *,
    limits: CheckLimits | None = None,
) -> list[Finding]:
    """``build_volume``: the part against the build volume (FDM: plus the skirt/brim margin
    on the bed, as a warning)."""
    limits = limits or CheckLimits.from_profiles(machine, material)
    return _fit(part, limits, "build_volume", "build volume", limits.bed_margin_mm, 0.0)


def check_stock_size(
    part: Part,
    machine: MachineProfile,
    material: MaterialProfile | None = None,
    *,
    limits: CheckLimits | None = None,
) -> list[Finding]:
    """``stock_size``: the CNC stock (part + one tool diameter per side in X/Y + facing on
    top) against the work area."""
    limits = limits or CheckLimits.from_profiles(machine, material)
    out: list[Finding] = []
    sheets = limits.sheet_thicknesses_mm
    need = float(np.ptp(part.vertices_mm[:, 2])) + limits.stock_margin_z_mm
    if sheets and max(sheets) < need - limits.tolerance_mm:
        out.append(
            Finding(
                "stock_size",
                "warning",
                f"the stock must be {need:.1f} mm thick (part + facing); the material comes "
                f"at most {max(sheets):g} mm thick",
                measured=need,
                limit=max(sheets),
                unit="mm",
                fix="lay the part on its side, glue up stock, or pick a thicker material",
            )
        )
    return out + _fit(
        part,
        limits,
        "stock_size",
        "work area",
        limits.stock_margin_xy_mm,
        limits.stock_margin_z_mm,
        hard_margin=True,
    )


def _fit(
    part: Part,
    limits: CheckLimits,
    rule: str,
    what: str,
    margin_xy: float,
    margin_z: float,
    *,
    hard_margin: bool = False,
) -> list[Finding]:
    size = np.array([limits.size_x_mm, limits.size_y_mm, limits.size_z_mm])
    ext = np.ptp(part.vertices_mm, axis=0)
    pad = np.array([2 * margin_xy, 2 * margin_xy, margin_z])
    tol = limits.tolerance_mm
    need = ext + pad if hard_margin else ext
    limit_txt = " x ".join(f"{v:g}" for v in size)
    if np.all(need <= size + tol):
        if not hard_margin and margin_xy > 0 and not np.all(ext + pad <= size + tol):
            over = float(np.max(ext[:2] + pad[:2] - size[:2]))
            return [
                Finding(
                    rule,
                    "warning",
                    f"the part fits the {what} ({_dims(ext)} in {limit_txt} mm) but not with "
                    f"its skirt/brim margin of {margin_xy:g} mm per side",
                    measured=float(np.max(ext[:2] + pad[:2])),
                    limit=float(np.min(size[:2])),
                    unit="mm",
                    fix=f"turn off the skirt/brim or shrink the part by {over:.1f} mm",
                )
            ]
        return []
    label = "stock" if hard_margin else "part"
    worst = int(np.argmax(need - size))
    measured, limit = float(need[worst]), float(size[worst])
    for perm, how in ORIENTATIONS[1:]:
        dims = ext[list(perm)] + (pad if hard_margin else 0.0)
        if np.all(dims <= size + tol):
            return [
                Finding(
                    rule,
                    _severity(how, hard_margin),
                    f"the {label} ({_dims(need)} mm) does not fit the {what} ({limit_txt} mm) "
                    f"as placed: {_AXIS[worst]} is {measured:.1f} mm > {limit:g} mm; it fits "
                    f"{how} ({_dims(dims)} mm)",
                    measured=measured,
                    limit=limit,
                    unit="mm",
                    fix=f"reorient the part: {how}",
                )
            ]
    turned = _turned_fit(part.vertices_mm, size, pad if hard_margin else np.zeros(3), tol)
    if turned is not None:
        how, dims = turned
        return [
            Finding(
                rule,
                _severity(how, hard_margin),
                f"the {label} ({_dims(need)} mm) fits the {what} ({limit_txt} mm) in no "
                f"axis-aligned orientation, but it fits {how} ({_dims(dims)} mm)",
                measured=measured,
                limit=limit,
                unit="mm",
                fix=f"place it {how}",
            )
        ]
    return [
        Finding(
            rule,
            "error",
            f"the {label} ({_dims(need)} mm) does not fit the {what} ({limit_txt} mm) in any "
            f"orientation: {_AXIS[worst]} is {measured:.1f} mm > {limit:g} mm",
            measured=measured,
            limit=limit,
            unit="mm",
            fix="scale the part down, split it into pieces, or route it to a larger machine",
        )
    ]


def _severity(how: str, hard_margin: bool) -> Severity:
    """A part that fits only turned about Z is a warning for FDM: ``fabthread make`` turns it
    (the face on the bed and every overhang stay as designed). Lying it on a side, or any
    change for stock, needs a person: an error."""
    return "warning" if not hard_margin and how.endswith("about Z") else "error"


def _turned_fit(
    verts: np.ndarray, size: np.ndarray, pad: np.ndarray, tol: float
) -> tuple[str, np.ndarray] | None:
    """A turn about Z (whole degrees, 1..89) that makes the footprint fit, for each of the
    three axes as the vertical one; None when there is none."""
    from shapely import MultiPoint

    for up, side in ((2, ""), (1, " with its Y axis vertical"), (0, " with its X axis vertical")):
        height = float(np.ptp(verts[:, up])) + pad[2]
        if height > size[2] + tol:
            continue
        flat = [i for i in range(3) if i != up]
        hull = MultiPoint(verts[:, flat]).convex_hull
        pts = np.asarray(hull.exterior.coords) if hasattr(hull, "exterior") else verts[:, flat]
        for deg in range(1, 90):
            a = math.radians(deg)
            rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
            xy = pts @ rot.T
            dims = np.append(np.ptp(xy, axis=0) + pad[:2], height)
            if np.all(dims <= size + tol):
                return f"turned {deg}° about Z{side}", dims
    return None


def _dims(v: np.ndarray) -> str:
    return " x ".join(f"{x:.1f}" for x in v)
