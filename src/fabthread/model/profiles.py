"""Machine, material and dialect profiles, as loaded from the TOML files under ``profiles/``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fabthread.model.params import ParamValue, Process


@dataclass(frozen=True, slots=True)
class Color:
    """A catalog color: a name an order can use and its sRGB hex (``#RRGGBB``)."""

    name: str
    hex: str


@dataclass(frozen=True, slots=True)
class MotionLimits:
    """Firmware motion limits, per axis. Feeds in mm/s, accelerations in mm/s²."""

    max_feed_x_mm_s: float
    max_feed_y_mm_s: float
    max_feed_z_mm_s: float
    max_feed_e_mm_s: float
    max_accel_x_mm_s2: float
    max_accel_y_mm_s2: float
    max_accel_z_mm_s2: float
    max_accel_e_mm_s2: float
    print_accel_mm_s2: float
    travel_accel_mm_s2: float
    # Junction speed limit as used by Klipper's square_corner_velocity / Marlin's junction
    # deviation model: the speed at which a 90° corner is taken.
    square_corner_velocity_mm_s: float = 5.0


@dataclass(frozen=True, slots=True)
class Retraction:
    length_mm: float = 0.8
    speed_mm_s: float = 35.0
    deretract_speed_mm_s: float = 0.0  # 0: same as speed_mm_s
    min_travel_mm: float = 1.5
    z_hop_mm: float = 0.0


@dataclass(frozen=True, slots=True)
class Compensation:
    """Measured dimensional behaviour of one machine, used to resolve fits per machine."""

    xy_size_offset_mm: float = 0.0  # outer dimensions come out this much larger (per side)
    hole_shrink_mm: float = 0.0  # holes come out this much smaller in diameter


@dataclass(frozen=True, slots=True)
class MachineProfile:
    """One machine at a hub: its process, G-code dialect, limits and templates.

    The bed is the rectangle [0, size_x] x [0, size_y] with Z from 0 to size_z (mm). Start and
    end G-code templates use ``{name}`` fields only (see ``fabthread.profiles.templates``).
    ``defaults`` are process-setting overrides (e.g. slice settings) for this machine.
    ``sha256`` hashes the fully resolved profile for provenance.
    """

    id: str
    name: str
    process: Process
    dialect: str
    size_x_mm: float
    size_y_mm: float
    size_z_mm: float
    limits: MotionLimits
    nozzle_diameter_mm: float = 0.4
    filament_diameter_mm: float = 1.75
    extruder_count: int = 1
    max_hotend_temp_c: float = 300.0
    max_bed_temp_c: float = 120.0
    retraction: Retraction = field(default_factory=Retraction)
    compensation: Compensation = field(default_factory=Compensation)
    start_gcode: str = ""
    end_gcode: str = ""
    defaults: tuple[tuple[str, ParamValue], ...] = ()
    thumbnails: tuple[tuple[int, int], ...] = ()
    sha256: str = ""
    path: str = ""
    # CNC and laser (0 / defaults for FDM). Spindle speeds in rev/min; ``power_scale`` is the
    # S value of full laser power (GRBL's $30); ``work_offset`` the coordinate system word.
    spindle_min_rpm: float = 0.0
    spindle_max_rpm: float = 0.0
    laser_power_w: float = 0.0
    power_scale: float = 0.0
    work_offset: str = "G54"


@dataclass(frozen=True, slots=True)
class MaterialProfile:
    """A material (filament for FDM; stock or sheet for CNC and laser)."""

    id: str
    name: str
    process: Process
    density_g_cm3: float
    colors: tuple[Color, ...]
    filament_diameter_mm: float = 1.75
    nozzle_temp_c: float = 0.0
    first_layer_nozzle_temp_c: float = 0.0
    bed_temp_c: float = 0.0
    first_layer_bed_temp_c: float = 0.0
    fan_min_pct: float = 0.0
    fan_max_pct: float = 100.0
    disable_fan_first_layers: int = 1
    max_volumetric_speed_mm3_s: float = 15.0
    extrusion_multiplier: float = 1.0
    retraction: Retraction | None = None
    sha256: str = ""
    path: str = ""

    def color(self, name: str) -> Color:
        for c in self.colors:
            if c.name == name:
                return c
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class Dialect:
    """A G-code dialect as data: which command does what, and which words exist.

    Command templates take ``{name}`` fields only. An empty template means the dialect has no
    such command; the emitter then refuses (or, where documented, expands) instead of writing
    a word the firmware does not know.
    """

    name: str
    comment: str = ";"
    absolute_xyz: str = "G90"
    relative_extrusion: str = "M83"
    set_hotend_temp: str = "M104 S{temp_c}"
    wait_hotend_temp: str = "M109 S{temp_c}"
    set_bed_temp: str = "M140 S{temp_c}"
    wait_bed_temp: str = "M190 S{temp_c}"
    fan_on: str = "M106 S{pwm}"  # pwm 0..255
    fan_off: str = "M107"
    fan_scale: float = 255.0  # full fan value: 255 (Marlin/Klipper) or 1.0 (RRF)
    set_accel: str = "M204 S{accel_mm_s2}"
    color_change: str = "M600"
    tool_change: str = "T{tool}"
    object_start: str = "M486 S{id}"
    object_end: str = "M486 S-1"
    object_define: str = "M486 S{id} A{name}"
    layer_change: str = ""
    arc_support: bool = True
    extra_words: tuple[str, ...] = ()
    # CNC and laser commands (empty: the dialect has none). Fields: {rpm}, {power} (S value),
    # {x} {y} {z} {r} {q} {feed} for the peck drilling cycle, {tolerance_mm} for blending.
    units_mm: str = "G21"
    plane_xy: str = "G17"
    spindle_cw: str = ""
    spindle_off: str = ""
    laser_on: str = ""
    laser_off: str = ""
    peck_drill: str = ""
    cycle_cancel: str = ""
    path_blending: str = ""
    program_end: str = ""
    max_line_length: int = 0  # characters per line, 0: no limit
