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

CNC stock and laser sheet add (``build_stock`` -> ``fabthread.model.cam.StockMaterial``)::

    [sheet]        thicknesses_mm = [3, 6, 12]   (the sheets or blocks a hub stocks)
    [[laser]]      thickness_mm, laser_w (the weakest laser class the row is for), power
                   (0..1), speed_mm_min, passes, kerf_mm, engrave_power,
                   engrave_speed_mm_min                                          (laser)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from fabthread.profiles.tree import Resolved, check_process_keys

if TYPE_CHECKING:
    from fabthread.model.cam import StockMaterial

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
    "sheet": {"thicknesses_mm": Value("float_list", lo=0.0, hi=500.0, lo_open=True)},
    "laser": TableArray(
        {
            "thickness_mm": pos(100.0),
            "laser_w": pos(10000.0),
            "power": num(0.0, 1.0, lo_open=True),
            "speed_mm_min": pos(100000.0),
            "passes": integer(1, 50),
            "kerf_mm": num(0.0, 2.0),
            "engrave_power": num(0.0, 1.0),
            "engrave_speed_mm_min": pos(100000.0),
        }
    ),
}
_LASER_REQUIRED = ("thickness_mm", "laser_w", "power", "speed_mm_min")

_COMMON = frozenset({"name", "process", "inherits", "density_g_cm3", "color"})
SECTIONS: dict[str, frozenset[str]] = {
    "fdm": _COMMON | {"filament_diameter_mm", "temperature", "cooling", "flow", "retraction"},
    "cnc": _COMMON | {"sheet"},
    "laser": _COMMON | {"sheet", "laser"},
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
    "laser": ("name", "process", "density_g_cm3", "color", "sheet", "laser"),
}


def check_file(doc: dict[str, Any], source: str) -> None:
    """Keys, types and ranges of one material file (before inherits merging)."""
    check_shape(doc, SCHEMA, source)


def build_material(res: Resolved) -> MaterialProfile:
    """A validated ``MaterialProfile`` from a resolved material file (sha256 left empty)."""
    data = res.data
    process = check_process_keys(res, "materials", SECTIONS, REQUIRED)
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


def build_stock(res: Resolved) -> StockMaterial:
    """The CNC/laser view of a resolved material file (call after ``build_material``)."""
    from fabthread.model.cam import LaserSetting, StockMaterial  # not needed for filament

    data = res.data
    process = data["process"]
    if process == "fdm":
        raise ProfileError(f"{res.source}: material {res.id} is an fdm filament, not stock")
    thick = tuple(float(t) for t in data.get("sheet", {}).get("thicknesses_mm", ()))
    rows: list[LaserSetting] = []
    seen: set[tuple[float, float]] = set()
    for i, item in enumerate(data.get("laser", [])):
        for key in _LASER_REQUIRED:
            if key not in item:
                raise ProfileError(f"{res.where('laser')}: missing key 'laser[{i}].{key}'")
        row = LaserSetting(
            thickness_mm=float(item["thickness_mm"]),
            laser_w=float(item["laser_w"]),
            power=float(item["power"]),
            speed_mm_min=float(item["speed_mm_min"]),
            passes=int(item.get("passes", 1)),
            kerf_mm=float(item.get("kerf_mm", 0.15)),
            engrave_power=float(item.get("engrave_power", 0.3)),
            engrave_speed_mm_min=float(item.get("engrave_speed_mm_min", 3000.0)),
        )
        key2 = (row.thickness_mm, row.laser_w)
        if key2 in seen:
            raise ProfileError(
                f"{res.where('laser')}: laser[{i}] repeats thickness_mm={row.thickness_mm:g} "
                f"for laser_w={row.laser_w:g}"
            )
        seen.add(key2)
        if not any(abs(row.thickness_mm - t) <= 0.05 for t in thick):
            raise ProfileError(
                f"{res.where('laser')}: laser[{i}].thickness_mm={row.thickness_mm:g} is not "
                f"one of sheet.thicknesses_mm ({', '.join(f'{t:g}' for t in thick)})"
            )
        rows.append(row)
    return StockMaterial(
        id=res.id,
        name=data["name"],
        process=process,
        density_g_cm3=float(data["density_g_cm3"]),
        thicknesses_mm=thick,
        laser=tuple(sorted(rows, key=lambda r: (r.thickness_mm, r.laser_w))),
        path=str(res.path),
    )
