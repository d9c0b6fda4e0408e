"""Cutting tools: ``profiles/tools/<id>.toml`` -> ``fabthread.model.cam.ToolSpec``.

TOML shape (lengths in mm, feeds in mm/min, spindle in rev/min)::

    name = "6 mm flat end mill, 2 flutes"
    kind = "flat"                 # flat | ball | vbit | drill
    number = 1                    # tool table slot (T1), unique in the library
    diameter_mm = 6
    flutes = 2
    flute_length_mm = 22
    length_mm = 30                # stick-out below the holder
    angle_deg = 0                 # included angle of a V-bit or drill point
    inherits = "_endmill_base"    # optional
    [feeds.<material id>]         spindle_rpm, feed_mm_min, plunge_mm_min, stepdown_mm,
                                  stepover_frac (of the diameter), peck_mm (drills)

Every ``feeds`` material must be a cnc material in ``<root>/materials/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fabthread.errors import ProfileError
from fabthread.model.cam import TOOL_KINDS, Feeds, ToolLibrary, ToolSpec
from fabthread.profiles.schema import (
    FREE,
    INHERITS,
    TEXT,
    Value,
    check_shape,
    check_value,
    integer,
    num,
    pos,
)
from fabthread.profiles.tree import Resolved, available, read_toml

FEEDS: dict[str, Any] = {
    "spindle_rpm": pos(100000.0),
    "feed_mm_min": pos(100000.0),
    "plunge_mm_min": pos(100000.0),
    "stepdown_mm": pos(100.0),
    "stepover_frac": num(0.0, 1.0, lo_open=True),
    "peck_mm": num(0.0, 100.0),
}
_FEEDS_REQUIRED = ("spindle_rpm", "feed_mm_min", "plunge_mm_min", "stepdown_mm")

SCHEMA: dict[str, Any] = {
    "name": TEXT,
    "inherits": INHERITS,
    "kind": Value("str", choices=TOOL_KINDS),
    "number": integer(1, 999),
    "diameter_mm": pos(100.0),
    "flutes": integer(1, 12),
    "flute_length_mm": pos(300.0),
    "length_mm": pos(500.0),
    "angle_deg": num(0.0, 180.0),
    "feeds": FREE,
}
REQUIRED = ("name", "kind", "number", "diameter_mm", "flutes", "flute_length_mm", "length_mm")


def check_file(doc: dict[str, Any], source: str) -> None:
    check_shape(doc, SCHEMA, source)
    for material, table in doc.get("feeds", {}).items():
        if not isinstance(table, dict):
            raise ProfileError(f"{source}: 'feeds.{material}' must be a table")
        check_shape(table, FEEDS, source, f"feeds.{material}.")


def build_tool(res: Resolved, root: Path) -> ToolSpec:
    """A validated ``ToolSpec``; feeds materials must be cnc materials under ``root``."""
    data = res.data
    for key in REQUIRED:
        if key not in data:
            raise ProfileError(f"{res.source}: missing key '{key}' (required for tools)")
    kind = data["kind"]
    angle = float(data.get("angle_deg", 0.0))
    if kind == "vbit" and not 10.0 <= angle < 180.0:
        raise ProfileError(
            f"{res.where('angle_deg')}: a vbit needs angle_deg in 10..180, got {angle:g}"
        )
    if float(data["flute_length_mm"]) > float(data["length_mm"]):
        raise ProfileError(
            f"{res.where('flute_length_mm')}: flute_length_mm={data['flute_length_mm']} is "
            f"above length_mm={data['length_mm']}"
        )
    cnc = set(_cnc_materials(root))
    feeds: list[Feeds] = []
    for material, table in sorted(data.get("feeds", {}).items()):
        where = res.where(f"feeds.{material}")
        if material not in cnc:
            raise ProfileError(
                f"{where}: feeds.{material}: unknown cnc material; available: "
                + (", ".join(sorted(cnc)) or "(none)")
            )
        for key in _FEEDS_REQUIRED:
            if key not in table:
                raise ProfileError(f"{where}: missing key 'feeds.{material}.{key}'")
        if table["plunge_mm_min"] > table["feed_mm_min"]:
            raise ProfileError(
                f"{where}: feeds.{material}.plunge_mm_min={table['plunge_mm_min']} is above "
                f"feed_mm_min={table['feed_mm_min']}"
            )
        check_value(
            table["stepdown_mm"],
            num(0.0, float(data["flute_length_mm"])),
            where,
            f"feeds.{material}.stepdown_mm",
        )
        feeds.append(
            Feeds(
                material=material,
                spindle_rpm=float(table["spindle_rpm"]),
                feed_mm_min=float(table["feed_mm_min"]),
                plunge_mm_min=float(table["plunge_mm_min"]),
                stepdown_mm=float(table["stepdown_mm"]),
                stepover_frac=float(table.get("stepover_frac", 0.4)),
                peck_mm=float(table.get("peck_mm", 0.0)),
            )
        )
    return ToolSpec(
        id=res.id,
        name=data["name"],
        kind=kind,
        number=int(data["number"]),
        diameter_mm=float(data["diameter_mm"]),
        flutes=int(data["flutes"]),
        flute_length_mm=float(data["flute_length_mm"]),
        length_mm=float(data["length_mm"]),
        angle_deg=angle,
        feeds=tuple(feeds),
        path=str(res.path),
    )


def check_library(tools: list[ToolSpec]) -> ToolLibrary:
    """A library from ``tools``; ProfileError when two tools share a tool number."""
    by_number: dict[int, ToolSpec] = {}
    for t in tools:
        if t.number in by_number:
            raise ProfileError(
                f"{t.path}: number={t.number} is also the number of tool {by_number[t.number].id}"
            )
        by_number[t.number] = t
    return ToolLibrary(tools=tuple(tools))


def _cnc_materials(root: Path) -> list[str]:
    out = []
    for mid in available(root / "materials"):
        doc = read_toml(root / "materials" / f"{mid}.toml", mid)
        process = doc.get("process")
        if process is None and "inherits" in doc:
            base = read_toml(root / "materials" / f"{doc['inherits']}.toml", mid)
            process = base.get("process")
        if process == "cnc":
            out.append(mid)
    return out
