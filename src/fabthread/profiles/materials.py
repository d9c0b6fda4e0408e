"""Material profiles: ``profiles/materials/<id>.toml`` -> ``MaterialProfile``.

TOML shape (FDM filament; temperatures in °C, density in g/cm³)::

    name = "Generic PLA"
    process = "fdm"
    density_g_cm3 = 1.24
    filament_diameter_mm = 1.75
    [temperature]  nozzle_c, first_layer_nozzle_c, bed_c, first_layer_bed_c
    [cooling]      fan_min_pct, fan_max_pct, disable_fan_first_layers
    [flow]         max_volumetric_speed_mm3_s, extrusion_multiplier
    [retraction]   optional override of the machine's retraction (Retraction fields)
    [[color]]      name = "galaxy_black", hex = "#1B1B1B"   (one or more)

First-layer temperatures default to the normal ones. ``[temperature]``, ``[cooling]``,
``[flow]``, ``[retraction]`` and ``filament_diameter_mm`` are FDM sections, refused for cnc
and laser stock.
"""

from __future__ import annotations

from typing import Any

from fabthread.errors import ProfileError
from fabthread.model.profiles import Color, MaterialProfile, Retraction
from fabthread.profiles.schema import (
    INHERITS,
    PROCESS,
    RETRACTION,
    TEXT,
    TableArray,
    Value,
    check_shape,
    integer,
    num,
    pos,
)
from fabthread.profiles.tree import Resolved

COLOR_NAME = r"[a-z][a-z0-9_]{0,47}"
COLOR_HEX = r"#[0-9A-Fa-f]{6}"
_TEMP = num(0.0, 500.0)

SCHEMA: dict[str, Any] = {
    "name": TEXT,
    "process": PROCESS,
    "inherits": INHERITS,
    "density_g_cm3": pos(25.0),
    "filament_diameter_mm": pos(5.0),
    "temperature": {
        "nozzle_c": _TEMP,
        "first_layer_nozzle_c": _TEMP,
        "bed_c": num(0.0, 200.0),
        "first_layer_bed_c": num(0.0, 200.0),
    },
    "cooling": {
        "fan_min_pct": num(0.0, 100.0),
        "fan_max_pct": num(0.0, 100.0),
        "disable_fan_first_layers": integer(0, 1000),
    },
    "flow": {
        "max_volumetric_speed_mm3_s": pos(200.0),
        "extrusion_multiplier": num(0.5, 1.5),
    },
    "retraction": RETRACTION,
    "color": TableArray(
        {"name": Value("str", pattern=COLOR_NAME), "hex": Value("str", pattern=COLOR_HEX)}
    ),
}

_COMMON = frozenset({"name", "process", "inherits", "density_g_cm3", "color"})
SECTIONS: dict[str, frozenset[str]] = {
    "fdm": _COMMON | {"filament_diameter_mm", "temperature", "cooling", "flow", "retraction"},
    "cnc": _COMMON,
    "laser": _COMMON,
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "fdm": (
        "name",
        "process",
        "density_g_cm3",
        "temperature.nozzle_c",
        "temperature.bed_c",
        "color",
    ),
    "cnc": ("name", "process", "density_g_cm3", "color"),
    "laser": ("name", "process", "density_g_cm3", "color"),
}


def check_file(doc: dict[str, Any], source: str) -> None:
    """Keys, types and ranges of one material file (before inherits merging)."""
    check_shape(doc, SCHEMA, source)


def build_material(res: Resolved) -> MaterialProfile:
    """A validated ``MaterialProfile`` from a resolved material file (sha256 left empty)."""
    data = res.data
    process = data.get("process")
    if process is None:
        raise ProfileError(f"{res.source}: missing key 'process'; allowed: fdm, cnc, laser")
    for key in data:
        if key not in SECTIONS[process]:
            raise ProfileError(
                f"{res.where(key)}: key '{key}' is not used by {process} materials; allowed: "
                + ", ".join(sorted(SECTIONS[process]))
            )
    for dotted in REQUIRED[process]:
        head, _, tail = dotted.partition(".")
        if head not in data or (tail and tail not in data[head]):
            raise ProfileError(
                f"{res.source}: missing key '{dotted}' (required for {process} "
                "materials, here or in an inherited base)"
            )
    colors = _colors(res)
    temp = data.get("temperature", {})
    cool = data.get("cooling", {})
    flow = data.get("flow", {})
    fan_min = float(cool.get("fan_min_pct", 0.0))
    fan_max = float(cool.get("fan_max_pct", 100.0))
    if fan_min > fan_max:
        raise ProfileError(
            f"{res.where('cooling.fan_min_pct')}: cooling.fan_min_pct="
            f"{fan_min:g} is above cooling.fan_max_pct={fan_max:g}"
        )
    retraction = data.get("retraction")
    nozzle = float(temp.get("nozzle_c", 0.0))
    bed = float(temp.get("bed_c", 0.0))
    return MaterialProfile(
        id=res.id,
        name=data["name"],
        process=process,
        density_g_cm3=float(data["density_g_cm3"]),
        colors=colors,
        filament_diameter_mm=float(data.get("filament_diameter_mm", 1.75)),
        nozzle_temp_c=nozzle,
        first_layer_nozzle_temp_c=float(temp.get("first_layer_nozzle_c", nozzle)),
        bed_temp_c=bed,
        first_layer_bed_temp_c=float(temp.get("first_layer_bed_c", bed)),
        fan_min_pct=fan_min,
        fan_max_pct=fan_max,
        disable_fan_first_layers=int(cool.get("disable_fan_first_layers", 1)),
        max_volumetric_speed_mm3_s=float(flow.get("max_volumetric_speed_mm3_s", 15.0)),
        extrusion_multiplier=float(flow.get("extrusion_multiplier", 1.0)),
        retraction=(
            Retraction(**{k: float(v) for k, v in retraction.items()})
            if retraction is not None
            else None
        ),
        path=str(res.path),
    )


def _colors(res: Resolved) -> tuple[Color, ...]:
    items = res.data["color"]
    if not items:
        raise ProfileError(f"{res.where('color')}: [[color]] needs at least one entry")
    colors: list[Color] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        for key in ("name", "hex"):
            if key not in item:
                raise ProfileError(f"{res.where('color')}: missing key 'color[{i}].{key}'")
        if item["name"] in seen:
            raise ProfileError(
                f"{res.where('color')}: color[{i}].name='{item['name']}' appears twice"
            )
        seen.add(item["name"])
        colors.append(Color(name=item["name"], hex=item["hex"].upper()))
    return tuple(colors)
