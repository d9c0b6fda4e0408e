"""Slice settings: the FDM process parameters (PrusaSlicer's "print settings").

Defaults are sane for a 0.4 mm nozzle. A machine profile's ``defaults`` and an order's or the
CLI's ``--set key=value`` override them by field name through ``with_overrides``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from fabthread.errors import ParamError

InfillPattern = Literal["rectilinear", "grid", "triangles", "gyroid", "honeycomb"]
SeamPosition = Literal["aligned", "nearest", "rear"]


@dataclass(frozen=True, slots=True)
class SliceSettings:
    layer_height_mm: float = 0.2
    first_layer_height_mm: float = 0.2
    extrusion_width_mm: float = 0.45
    first_layer_width_mm: float = 0.5
    perimeters: int = 2
    top_layers: int = 3
    bottom_layers: int = 3
    infill_density: float = 0.2  # 0..1
    infill_pattern: InfillPattern = "rectilinear"
    infill_angle_deg: float = 45.0
    external_perimeter_first: bool = False
    seam_position: SeamPosition = "aligned"
    perimeter_mm_s: float = 45.0
    external_perimeter_mm_s: float = 25.0
    infill_mm_s: float = 80.0
    solid_infill_mm_s: float = 60.0
    top_solid_mm_s: float = 40.0
    bridge_mm_s: float = 25.0
    travel_mm_s: float = 150.0
    first_layer_mm_s: float = 20.0
    skirt_loops: int = 1
    skirt_distance_mm: float = 3.0
    brim_width_mm: float = 0.0
    supports: bool = False
    support_angle_deg: float = 50.0
    z_hop_mm: float = 0.0
    arc_fitting: bool = False
    min_layer_time_s: float = 6.0
    # -- added with defaults (slicer engine, issue 3) --
    infill_overlap: float = 0.1  # fraction of the line width infill reaches into the perimeters
    gap_fill: bool = True  # thin walls and gaps narrower than a line: centre lines
    gap_fill_mm_s: float = 30.0
    infill_anchor_mm: float = 3.0  # join neighbouring infill lines along the boundary up to this
    bridge_flow_ratio: float = 1.0
    monotonic_top: bool = True  # top skins printed line after line in one direction order
    min_print_mm_s: float = 10.0  # cooling never slows extrusion below this
    color_change_z_mm: tuple[float, ...] = ()  # pause for a filament change at these heights
    color_change_names: tuple[str, ...] = ()  # the colors to load (default "color 2", ...)
    # -- travel and extrusion quality (issue: retraction only when needed, wipe) --
    # Before a retracting travel, move back along the path just printed for this distance
    # while retracting (PrusaSlicer's "wipe while retracting"); 0: no wipe.
    wipe_mm: float = 0.0
    # Route travels between two points of one island inside it (along its perimeters) when
    # the straight line would leave it, so they need no retraction (PrusaSlicer's "avoid
    # crossing perimeters", Cura's "combing").
    avoid_crossing_perimeters: bool = True
    # Longest routed travel, as a multiple of the straight one; longer: travel straight and
    # retract.
    avoid_crossing_max_detour: float = 2.0
    # -- skins and sparse regions (issue 3, fidelity) --
    # Top, bottom and bridge skins reach this far (mm) into the sparse infill around them, so
    # their edges rest on sparse lines (PrusaSlicer expands them by 3 mm); 0: not at all.
    skin_margin_mm: float = 3.0
    # Sparse pieces smaller than this (mm²) are printed solid (PrusaSlicer's
    # solid_infill_below_area, same default); 0: never.
    solid_infill_below_area_mm2: float = 70.0
    # Pieces of internal solid infill that are strips at most this wide (mm) are filled along
    # their length, not by a zig-zag across (``slice.strips``; OrcaSlicer's "detect narrow
    # internal solid infill"); 0: never.
    narrow_solid_mm: float = 3.0

    def with_overrides(self, overrides: dict[str, object], source: str = "--set") -> SliceSettings:
        """A copy with ``overrides`` applied; unknown keys and bad values are ParamErrors."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        changes: dict[str, object] = {}
        for key, raw in overrides.items():
            if key not in fields:
                allowed = ", ".join(sorted(fields))
                raise ParamError(f"unknown slice setting '{key}' in {source}; allowed: {allowed}")
            changes[key] = _coerce(key, raw, getattr(self, key), source)
        new = dataclasses.replace(self, **changes)  # type: ignore[arg-type]
        new.validate(source)
        return new

    def validate(self, source: str = "settings") -> None:
        positive = (
            "layer_height_mm", "first_layer_height_mm", "extrusion_width_mm",
            "first_layer_width_mm", "perimeter_mm_s", "external_perimeter_mm_s", "infill_mm_s",
            "solid_infill_mm_s", "top_solid_mm_s", "bridge_mm_s", "travel_mm_s",
            "first_layer_mm_s", "gap_fill_mm_s", "min_print_mm_s", "bridge_flow_ratio",
        )  # fmt: skip
        for name in positive:
            if getattr(self, name) <= 0:
                raise ParamError(f"{name}={getattr(self, name)} in {source} must be > 0")
        if not 0.0 <= self.infill_density <= 1.0:
            raise ParamError(
                f"infill_density={self.infill_density} in {source} is outside 0..1 "
                "(a fraction: 0.2 is 20 %)"
            )
        for name in ("perimeters", "top_layers", "bottom_layers", "skirt_loops"):
            if getattr(self, name) < 0:
                raise ParamError(f"{name}={getattr(self, name)} in {source} must be >= 0")
        if self.layer_height_mm > self.extrusion_width_mm:
            raise ParamError(
                f"layer_height_mm={self.layer_height_mm} in {source} is above "
                f"extrusion_width_mm={self.extrusion_width_mm}"
            )
        patterns = ("rectilinear", "grid", "triangles", "gyroid", "honeycomb")
        if self.infill_pattern not in patterns:
            raise ParamError(
                f"infill_pattern='{self.infill_pattern}' in {source}; "
                f"allowed: {', '.join(patterns)}"
            )
        if not 0.0 <= self.infill_overlap <= 0.5:
            raise ParamError(f"infill_overlap={self.infill_overlap} in {source} is outside 0..0.5")
        for name in ("skin_margin_mm", "solid_infill_below_area_mm2", "narrow_solid_mm"):
            if getattr(self, name) < 0:
                raise ParamError(f"{name}={getattr(self, name)} in {source} must be >= 0")
        if not 0.0 <= self.wipe_mm <= 20.0:
            raise ParamError(
                f"wipe_mm={self.wipe_mm} in {source} is outside 0..20 mm (0: no wipe; 1 .. 4 "
                "is typical)"
            )
        if not 1.0 <= self.avoid_crossing_max_detour <= 100.0:
            raise ParamError(
                f"avoid_crossing_max_detour={self.avoid_crossing_max_detour} in {source} is "
                "outside 1..100 (a multiple of the straight travel)"
            )
        if self.infill_anchor_mm < 0:
            raise ParamError(f"infill_anchor_mm={self.infill_anchor_mm} in {source} must be >= 0")
        zs = self.color_change_z_mm
        if any(z <= 0 for z in zs) or list(zs) != sorted(zs):
            raise ParamError(
                f"color_change_z_mm={zs} in {source} must be ascending heights above 0 mm"
            )
        if self.seam_position not in ("aligned", "nearest", "rear"):
            raise ParamError(
                f"seam_position='{self.seam_position}' in {source}; allowed: aligned, nearest, rear"
            )


def _coerce(key: str, raw: object, current: object, source: str) -> object:
    """Parse ``raw`` (a CLI string or a JSON/TOML value) to the type of ``current``."""
    try:
        if isinstance(current, bool):
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if isinstance(current, int):
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError
            return int(str(raw)) if not isinstance(raw, int | float) else int(raw)
        if isinstance(current, tuple):
            items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
            items = [i.strip() if isinstance(i, str) else i for i in items]
            items = [i for i in items if i != ""]
            if key.endswith("_mm"):
                return tuple(float(i) for i in items)  # type: ignore[arg-type]
            return tuple(str(i) for i in items)
        if isinstance(current, float):
            if isinstance(raw, str) and raw.strip().endswith("%"):
                return float(raw.strip()[:-1]) / 100.0
            return float(raw)  # type: ignore[arg-type]
        return str(raw)
    except (TypeError, ValueError):
        kind = type(current).__name__
        raise ParamError(f"{key}={raw!r} in {source} is not a valid {kind}") from None
