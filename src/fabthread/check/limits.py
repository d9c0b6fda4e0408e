"""The limits every rule checks against, built from the machine and material profiles.

Rules never carry numbers of their own: they read a ``CheckLimits``. Where a profile has the
field, the limit comes from it (nozzle, build volume, slice defaults). Where profiles have no
field yet, the limit is derived from fields they do have, with the factor named here as a
module-level default; ``overrides`` (e.g. from a future ``[check]`` table in a profile, or a
test) replace any field by name.

Derivations (FDM, with the shipped 0.4 mm nozzle / 0.45 mm extrusion width):

- min wall: below one extrusion (the nozzle diameter, 0.4) the slicer drops the wall: error;
  below ``perimeters`` extrusion widths (2 x 0.45 = 0.9) it prints as a single thin line or
  gap fill: warning.
- min hole: a vertical hole narrower than the nozzle closes up: error; below
  ``HOLE_WARNING_WIDTHS`` extrusion widths (0.9) it comes out badly undersized: warning.
- overhangs: the slice setting ``support_angle_deg`` (machine defaults over SliceSettings),
  measured from the vertical like Cura's "support overhang angle": a face whose downward
  tilt from vertical exceeds it needs support.
- bridges: ``BRIDGE_NOZZLES`` nozzle diameters (25 x 0.4 = 10 mm), a conservative span that
  prints without sagging on an untuned machine.
- bed contact: faces lower than half the first layer rest on the bed.

CNC: the smallest end mill (flat or ball; drills and V-bits cut no corners) of the tool list,
else ``DEFAULT_TOOL_DIAMETER_MM``, bounds internal corner radii; the stock is the part plus
one tool diameter per side (room to cut the outside contour) plus ``STOCK_FACING_MM`` on top.
Laser: the thickest sheet of the material (``StockMaterial``) that has a laser setting for
this machine's power, else ``DEFAULT_MAX_SHEET_MM``; a minimum web of ``WEB_PER_THICKNESS`` x
the sheet thickness, at least ``MIN_WEB_FLOOR_MM``. The stocked sheet thicknesses are carried
for the sheet and stock rules.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fabthread.errors import ParamError, ProfileError
from fabthread.model.cam import StockMaterial, ToolSpec
from fabthread.model.profiles import MachineProfile, MaterialProfile
from fabthread.model.settings import SliceSettings

# --- named defaults (see the module docstring for why each is what it is) -------------------
#: Holes below this many extrusion widths: warning.
HOLE_WARNING_WIDTHS = 2.0
#: Longest bridge, in nozzle diameters.
BRIDGE_NOZZLES = 25.0
#: Overhang regions smaller than (this many extrusion widths)^2 are info, not warnings.
OVERHANG_MIN_SIDE_WIDTHS = 4.0
#: Thin-wall areas smaller than (this many extrusion widths)^2 are ignored (tips, edges).
THIN_MIN_SIDE_WIDTHS = 3.0
#: Cutter used when no tool list is given: a 1/8 inch flat end mill, the common router tool.
DEFAULT_TOOL_DIAMETER_MM = 3.175
#: Material left on top of the part in the stock, to face it flat.
STOCK_FACING_MM = 1.0
#: Thickest sheet a laser is assumed to cut in one pass (a 40-60 W CO2 tube in wood/acrylic).
DEFAULT_MAX_SHEET_MM = 6.0
#: Minimum web between two cuts, in sheet thicknesses, and never below MIN_WEB_FLOOR_MM.
WEB_PER_THICKNESS = 1.0
MIN_WEB_FLOOR_MM = 1.0
#: Points/positions below this are considered the same (mm); meshes from CAD are far coarser.
GEOMETRY_TOLERANCE_MM = 1e-4


@dataclass(frozen=True, slots=True)
class CheckLimits:
    """Every limit the rules use, in mm, mm² or degrees (see the module docstring)."""

    size_x_mm: float
    size_y_mm: float
    size_z_mm: float
    nozzle_mm: float = 0.4
    extrusion_width_mm: float = 0.45
    first_layer_height_mm: float = 0.2
    layer_height_mm: float = 0.2
    min_wall_error_mm: float = 0.4
    min_wall_warning_mm: float = 0.9
    min_hole_error_mm: float = 0.4
    min_hole_warning_mm: float = 0.9
    min_thin_area_mm2: float = 1.8225
    support_angle_deg: float = 50.0
    min_overhang_area_mm2: float = 3.24
    max_bridge_mm: float = 10.0
    bed_contact_mm: float = 0.1
    bed_margin_mm: float = 0.0
    tool_diameter_mm: float = DEFAULT_TOOL_DIAMETER_MM
    stock_margin_xy_mm: float = DEFAULT_TOOL_DIAMETER_MM
    stock_margin_z_mm: float = STOCK_FACING_MM
    max_sheet_mm: float = DEFAULT_MAX_SHEET_MM
    web_per_thickness: float = WEB_PER_THICKNESS
    min_web_floor_mm: float = MIN_WEB_FLOOR_MM
    tolerance_mm: float = GEOMETRY_TOLERANCE_MM
    sheet_thicknesses_mm: tuple[float, ...] = ()

    @property
    def tool_radius_mm(self) -> float:
        return self.tool_diameter_mm / 2.0

    def min_web_mm(self, sheet_mm: float) -> float:
        """Narrowest web between two laser cuts in a sheet ``sheet_mm`` thick."""
        return max(self.web_per_thickness * sheet_mm, self.min_web_floor_mm)

    @classmethod
    def from_profiles(
        cls,
        machine: MachineProfile,
        material: MaterialProfile | None = None,
        *,
        settings: SliceSettings | None = None,
        tools: Sequence[ToolSpec | float] = (),
        stock: StockMaterial | None = None,
        overrides: Mapping[str, float] | None = None,
    ) -> CheckLimits:
        """Limits for ``machine`` (and ``material``); ``settings`` default to SliceSettings
        with the machine's ``[defaults]`` applied (FDM only); ``tools`` (tool profiles or plain
        diameters in mm) to a single ``DEFAULT_TOOL_DIAMETER_MM`` cutter; ``stock`` is the
        CNC/laser view of the material (sheet thicknesses, laser settings). ``overrides``
        replace fields by name."""
        del material  # materials carry no check limits yet; kept for the signature's sake
        if settings is None:
            settings = _settings_for(machine)
        width = settings.extrusion_width_mm
        nozzle = machine.nozzle_diameter_mm
        tool_d = min(_cutter_diameters(tools), default=DEFAULT_TOOL_DIAMETER_MM)
        max_sheet = DEFAULT_MAX_SHEET_MM
        sheets: tuple[float, ...] = ()
        if stock is not None:
            sheets = tuple(sorted(stock.thicknesses_mm))
            cuttable = [
                s.thickness_mm
                for s in stock.laser
                if machine.laser_power_w <= 0 or s.laser_w <= machine.laser_power_w + 1e-9
            ]
            if cuttable:
                max_sheet = max(cuttable)
        margin = settings.brim_width_mm
        if settings.skirt_loops > 0:
            margin = max(
                margin,
                settings.skirt_distance_mm + settings.skirt_loops * settings.first_layer_width_mm,
            )
        limits = cls(
            size_x_mm=machine.size_x_mm,
            size_y_mm=machine.size_y_mm,
            size_z_mm=machine.size_z_mm,
            nozzle_mm=nozzle,
            extrusion_width_mm=width,
            first_layer_height_mm=settings.first_layer_height_mm,
            layer_height_mm=settings.layer_height_mm,
            min_wall_error_mm=nozzle,
            min_wall_warning_mm=max(nozzle, max(settings.perimeters, 1) * width),
            min_hole_error_mm=nozzle,
            min_hole_warning_mm=HOLE_WARNING_WIDTHS * width,
            min_thin_area_mm2=(THIN_MIN_SIDE_WIDTHS * width) ** 2,
            support_angle_deg=settings.support_angle_deg,
            min_overhang_area_mm2=(OVERHANG_MIN_SIDE_WIDTHS * width) ** 2,
            max_bridge_mm=BRIDGE_NOZZLES * nozzle,
            bed_contact_mm=settings.first_layer_height_mm / 2.0,
            bed_margin_mm=margin if machine.process == "fdm" else 0.0,
            tool_diameter_mm=tool_d,
            stock_margin_xy_mm=tool_d,
            stock_margin_z_mm=STOCK_FACING_MM,
            max_sheet_mm=max_sheet,
            sheet_thicknesses_mm=sheets,
        )
        if overrides:
            limits = limits.with_overrides(overrides)
        return limits

    def with_overrides(self, overrides: Mapping[str, float], source: str = "limits") -> CheckLimits:
        """A copy with fields replaced by name; unknown names and non-positive values are
        ParamErrors naming the allowed fields."""
        names = {f.name for f in dataclasses.fields(self)}
        changes: dict[str, float] = {}
        for key, raw in overrides.items():
            if key not in names:
                raise ParamError(
                    f"unknown check limit '{key}' in {source}; allowed: {', '.join(sorted(names))}"
                )
            try:
                value = float(raw)
            except (TypeError, ValueError):
                raise ParamError(f"{key}={raw!r} in {source} is not a number") from None
            if not value >= 0:
                raise ParamError(f"{key}={raw!r} in {source} must be >= 0")
            changes[key] = value
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def _cutter_diameters(tools: Sequence[ToolSpec | float]) -> list[float]:
    """Diameters of the tools that can cut an inside corner (end mills; plain numbers are
    taken as end mills)."""
    out = []
    for t in tools:
        if isinstance(t, int | float):
            out.append(float(t))
        elif t.kind in ("flat", "ball"):
            out.append(t.diameter_mm)
    return out


def _settings_for(machine: MachineProfile) -> SliceSettings:
    """SliceSettings with the machine's ``[defaults]`` applied (only FDM machines have them)."""
    if machine.process != "fdm" or not machine.defaults:
        return SliceSettings()
    try:
        return SliceSettings().with_overrides(
            dict(machine.defaults), source=machine.path or machine.id
        )
    except ParamError as exc:
        raise ProfileError(str(exc)) from None
