"""Machine profiles: ``profiles/machines/<id>.toml`` -> ``MachineProfile``.

TOML shape (FDM; sizes in mm, feeds in mm/s, accelerations in mm/s², temperatures in °C)::

    name = "Prusa MK4"
    process = "fdm"                 # fdm | cnc | laser
    dialect = "marlin"              # a file in profiles/dialects/
    inherits = "_fdm_base"          # optional family base
    thumbnails = [[16, 16], [313, 173]]
    [volume]       x_mm, y_mm, z_mm
    [extruder]     nozzle_diameter_mm, filament_diameter_mm, count, max_hotend_temp_c   (fdm)
    [bed]          max_temp_c                                                         (fdm)
    [limits]       the fields of MotionLimits
    [retraction]   the fields of Retraction                                           (fdm)
    [compensation] the fields of Compensation
    [gcode]        start, end  (templates: {field} names only, see fabthread.templates)
    [defaults]     process-setting overrides by field name (fdm: SliceSettings fields)
    [spindle]      min_rpm, max_rpm                                                    (cnc)
    [laser]        power_w, s_max (the S value of full power, GRBL's $30)            (laser)
    [work]         offset = "G54" (work coordinate system word)                (cnc, laser)

Sections marked (fdm) are refused for cnc and laser machines and the other way round;
``SECTIONS`` is the one table to extend when a process gains a section. CNC and laser
machines keep ``limits`` (feeds in mm/s like FDM; the extruder keys do not apply).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from fabthread.errors import ParamError, ProfileError
from fabthread.model.profiles import Compensation, MachineProfile, MotionLimits, Retraction
from fabthread.model.settings import SliceSettings
from fabthread.profiles.schema import (
    FREE,
    INHERITS,
    PROCESS,
    RETRACTION,
    TEXT,
    Value,
    check_shape,
    check_value,
    integer,
    num,
    pos,
)
from fabthread.profiles.tree import Resolved, check_process_keys
from fabthread.templates import template_fields

_FEED = pos(5000.0)  # mm/s
_ACCEL = pos(200000.0)  # mm/s²

LIMITS: dict[str, Any] = {
    "max_feed_x_mm_s": _FEED,
    "max_feed_y_mm_s": _FEED,
    "max_feed_z_mm_s": _FEED,
    "max_feed_e_mm_s": num(0.0, 5000.0),
    "max_accel_x_mm_s2": _ACCEL,
    "max_accel_y_mm_s2": _ACCEL,
    "max_accel_z_mm_s2": _ACCEL,
    "max_accel_e_mm_s2": num(0.0, 200000.0),
    "print_accel_mm_s2": _ACCEL,
    "travel_accel_mm_s2": _ACCEL,
    "square_corner_velocity_mm_s": num(0.0, 100.0),
}

SCHEMA: dict[str, Any] = {
    "name": TEXT,
    "process": PROCESS,
    "dialect": Value("str", pattern=r"[a-z0-9][a-z0-9_]{0,63}"),
    "inherits": INHERITS,
    "thumbnails": Value("int_pairs", lo=1, hi=2048),
    "volume": {"x_mm": pos(10000.0), "y_mm": pos(10000.0), "z_mm": pos(10000.0)},
    "extruder": {
        "nozzle_diameter_mm": pos(3.0),
        "filament_diameter_mm": pos(5.0),
        "count": integer(1, 16),
        "max_hotend_temp_c": pos(500.0),
    },
    "bed": {"max_temp_c": num(0.0, 200.0)},
    "limits": LIMITS,
    "retraction": RETRACTION,
    "compensation": {"xy_size_offset_mm": num(-2.0, 2.0), "hole_shrink_mm": num(-2.0, 2.0)},
    "gcode": {"start": TEXT, "end": TEXT},
    "defaults": FREE,
    "spindle": {"min_rpm": num(0.0, 100000.0), "max_rpm": pos(100000.0)},
    "laser": {"power_w": pos(10000.0), "s_max": pos(100000.0)},
    "work": {"offset": Value("str", choices=("G54", "G55", "G56", "G57", "G58", "G59"))},
}

#: Top-level keys each process may use.
_COMMON = frozenset(
    {
        "name",
        "process",
        "dialect",
        "inherits",
        "thumbnails",
        "volume",
        "limits",
        "compensation",
        "gcode",
        "defaults",
    }
)
SECTIONS: dict[str, frozenset[str]] = {
    "fdm": _COMMON | {"extruder", "bed", "retraction"},
    "cnc": _COMMON | {"spindle", "work"},
    "laser": _COMMON | {"laser", "work"},
}

#: Required dotted keys per process (after inherits).
REQUIRED: dict[str, tuple[str, ...]] = {
    "fdm": (
        "name",
        "process",
        "dialect",
        "volume.x_mm",
        "volume.y_mm",
        "volume.z_mm",
        *(f"limits.{k}" for k in LIMITS if k != "square_corner_velocity_mm_s"),
    ),
    "cnc": (
        "name",
        "process",
        "dialect",
        "volume.x_mm",
        "volume.y_mm",
        "volume.z_mm",
        *(f"limits.{k}" for k in LIMITS if "_e_" not in k and "corner" not in k),
    ),
}
REQUIRED["laser"] = (*REQUIRED["cnc"], "laser.power_w", "laser.s_max")
REQUIRED["cnc"] = (*REQUIRED["cnc"], "spindle.max_rpm")

#: The settings dataclass whose fields ``[defaults]`` may override, per process.
DEFAULTS_SCHEMA: dict[str, type] = {"fdm": SliceSettings}

# Temperatures written literally in start/end G-code: word -> which machine maximum applies.
_LITERAL_TEMP = re.compile(r"^\s*(M104|M109|M568|M140|M190)\b([^;\n]*)", re.MULTILINE)
_S_WORD = re.compile(r"(?:^|\s)[SR](-?\d+(?:\.\d*)?)")


def check_file(doc: dict[str, Any], source: str) -> None:
    """Keys, types and ranges of one machine file (before inherits merging)."""
    check_shape(doc, SCHEMA, source)


def build_machine(res: Resolved) -> MachineProfile:
    """A validated ``MachineProfile`` from a resolved machine file (sha256 left empty)."""
    data = res.data
    process = check_process_keys(res, "machines", SECTIONS, REQUIRED)
    vol, ext, bed = data["volume"], data.get("extruder", {}), data.get("bed", {})
    limits = _limits(res)
    gcode = data.get("gcode", {})
    start, end = gcode.get("start", ""), gcode.get("end", "")
    template_fields(start, f"{res.where('gcode.start')}: gcode.start")
    template_fields(end, f"{res.where('gcode.end')}: gcode.end")
    defaults = _defaults(res, process)
    machine = MachineProfile(
        id=res.id,
        name=data["name"],
        process=process,
        dialect=data["dialect"],
        size_x_mm=float(vol["x_mm"]),
        size_y_mm=float(vol["y_mm"]),
        size_z_mm=float(vol["z_mm"]),
        limits=limits,
        nozzle_diameter_mm=float(ext.get("nozzle_diameter_mm", 0.4)),
        filament_diameter_mm=float(ext.get("filament_diameter_mm", 1.75)),
        extruder_count=int(ext.get("count", 1)),
        max_hotend_temp_c=float(ext.get("max_hotend_temp_c", 300.0)),
        max_bed_temp_c=float(bed.get("max_temp_c", 120.0)),
        retraction=_floats(Retraction, data.get("retraction", {})),
        compensation=_floats(Compensation, data.get("compensation", {})),
        start_gcode=start,
        end_gcode=end,
        defaults=defaults,
        thumbnails=tuple((int(w), int(h)) for w, h in data.get("thumbnails", [])),
        path=str(res.path),
        spindle_min_rpm=float(data.get("spindle", {}).get("min_rpm", 0.0)),
        spindle_max_rpm=float(data.get("spindle", {}).get("max_rpm", 0.0)),
        laser_power_w=float(data.get("laser", {}).get("power_w", 0.0)),
        power_scale=float(data.get("laser", {}).get("s_max", 0.0)),
        work_offset=str(data.get("work", {}).get("offset", "G54")),
    )
    if machine.spindle_min_rpm > machine.spindle_max_rpm > 0:
        raise ProfileError(
            f"{res.where('spindle.min_rpm')}: spindle.min_rpm={machine.spindle_min_rpm:g} is "
            f"above spindle.max_rpm={machine.spindle_max_rpm:g}"
        )
    if process == "fdm":
        _check_fdm(machine, res)
    return machine


def _limits(res: Resolved) -> MotionLimits:
    lim = dict(res.data.get("limits", {}))
    for key in ("max_feed_e_mm_s", "max_accel_e_mm_s2"):
        lim.setdefault(key, 0.0)  # cnc and laser have no extruder
    limits = _floats(MotionLimits, lim)
    for kind in ("print", "travel"):
        key = f"{kind}_accel_mm_s2"
        value = getattr(limits, key)
        for axis in "xy":
            cap = getattr(limits, f"max_accel_{axis}_mm_s2")
            if value > cap:
                raise ProfileError(
                    f"{res.where('limits.' + key)}: limits.{key}={value:g} is above "
                    f"limits.max_accel_{axis}_mm_s2={cap:g}; the firmware would clamp it"
                )
    return limits


def _defaults(res: Resolved, process: str) -> tuple[tuple[str, Any], ...]:
    raw = res.data.get("defaults", {})
    if not raw:
        return ()
    cls = DEFAULTS_SCHEMA.get(process)
    if cls is None:
        raise ProfileError(
            f"{res.where('defaults')}: [defaults] is not supported for {process} "
            "machines yet (no settings schema)"
        )
    fields = {f.name: f for f in dataclasses.fields(cls)}
    base = cls()
    for key, value in raw.items():
        where = res.where(f"defaults.{key}")
        if key not in fields:
            raise ProfileError(
                f"{where}: unknown key 'defaults.{key}'; allowed: " + ", ".join(sorted(fields))
            )
        current = getattr(base, key)
        kind = {bool: "bool", int: "int", float: "float"}.get(type(current), "str")
        check_value(value, Value(kind), where, f"defaults.{key}")
        try:  # alone first, so a bad value is blamed on the file that set it
            base.with_overrides({key: value}, source="[defaults]")
        except ParamError as exc:
            raise ProfileError(f"{where}: {exc}") from None
    try:  # then together: rules across keys (layer height vs extrusion width)
        resolved = base.with_overrides(dict(raw), source="[defaults]")
    except ParamError as exc:
        raise ProfileError(f"{res.source}: {exc}") from None
    # Coerced values (an integer TOML 200 for a float field becomes 200.0): stable hashes.
    return tuple(sorted((key, getattr(resolved, key)) for key in raw))


def _check_fdm(m: MachineProfile, res: Resolved) -> None:
    if m.filament_diameter_mm <= m.nozzle_diameter_mm:
        raise ProfileError(
            f"{res.where('extruder.filament_diameter_mm')}: extruder.filament_diameter_mm="
            f"{m.filament_diameter_mm:g} must be larger than extruder.nozzle_diameter_mm="
            f"{m.nozzle_diameter_mm:g}"
        )
    if m.retraction.z_hop_mm >= m.size_z_mm:
        raise ProfileError(
            f"{res.where('retraction.z_hop_mm')}: retraction.z_hop_mm is not "
            f"below volume.z_mm={m.size_z_mm:g}"
        )
    for key, text in (("gcode.start", m.start_gcode), ("gcode.end", m.end_gcode)):
        for word, args in _LITERAL_TEMP.findall(text):
            bed = word in ("M140", "M190")
            cap = m.max_bed_temp_c if bed else m.max_hotend_temp_c
            for s in _S_WORD.findall(args):
                if float(s) > cap:
                    what = "bed.max_temp_c" if bed else "extruder.max_hotend_temp_c"
                    raise ProfileError(
                        f"{res.where(key)}: {key} sets {word} {s} °C, above {what}={cap:g}"
                    )


def _floats(cls: type, values: Mapping[str, Any]) -> Any:
    return cls(**{k: float(v) for k, v in values.items()})
