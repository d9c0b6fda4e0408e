"""G-code dialects: ``profiles/dialects/<name>.toml`` -> ``Dialect``.

The keys of a dialect file are exactly the fields of ``fabthread.model.profiles.Dialect``
(``name``, if given, must equal the file stem). Command templates use a small field set of
their own, checked here with a regex (never eval): ``{temp_c}`` (°C), ``{pwm}`` (fan value,
0..fan_scale), ``{accel_mm_s2}``, ``{tool}`` (0-based index), ``{id}`` (0-based object
index), ``{name}`` (object name). ``{{``/``}}`` are literal braces. Each command may use only
the fields that make sense for it; temperature commands must use ``{temp_c}`` and so on.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from fabthread.errors import ProfileError
from fabthread.model.profiles import Dialect
from fabthread.profiles.schema import INHERITS, Value, check_shape
from fabthread.profiles.tree import Resolved

COMMAND_FIELDS: frozenset[str] = frozenset(
    {"temp_c", "pwm", "accel_mm_s2", "tool", "id", "name"}
    # CNC and laser: spindle speed, laser S value, peck drilling cycle, path blending
    | {"rpm", "power", "x", "y", "z", "r", "q", "feed", "tolerance_mm"}
)
_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_WORD = r"[A-Z][A-Z0-9_.]{0,63}"
_TOOL = re.compile(r"\{\s*tool\s*\}")

#: Words every supported FDM firmware (Marlin, Klipper, RRF) accepts: motion, positioning,
#: dwell, homing, extrusion mode, motors off. A dialect's ``extra_words`` and the commands in
#: its file add to these.
CORE_WORDS: frozenset[str] = frozenset(
    {"G0", "G1", "G2", "G3", "G4", "G28", "G90", "G91", "G92", "M82", "M83", "M84"}
)

#: command key -> (fields it may use, fields it must use when not empty)
COMMANDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "absolute_xyz": (frozenset(), frozenset()),
    "relative_extrusion": (frozenset(), frozenset()),
    "set_hotend_temp": (frozenset({"temp_c", "tool"}), frozenset({"temp_c"})),
    "wait_hotend_temp": (frozenset({"temp_c", "tool"}), frozenset({"temp_c"})),
    "set_bed_temp": (frozenset({"temp_c"}), frozenset({"temp_c"})),
    "wait_bed_temp": (frozenset({"temp_c"}), frozenset({"temp_c"})),
    "fan_on": (frozenset({"pwm"}), frozenset({"pwm"})),
    "fan_off": (frozenset(), frozenset()),
    "set_accel": (frozenset({"accel_mm_s2"}), frozenset({"accel_mm_s2"})),
    "color_change": (frozenset({"tool"}), frozenset()),
    "tool_change": (frozenset({"tool"}), frozenset({"tool"})),
    "object_start": (frozenset({"id", "name"}), frozenset()),
    "object_end": (frozenset({"id", "name"}), frozenset()),
    "object_define": (frozenset({"id", "name"}), frozenset()),
    "layer_change": (frozenset(), frozenset()),
    # CNC and laser (see fabthread.gcode.cnc_emit)
    "units_mm": (frozenset(), frozenset()),
    "plane_xy": (frozenset(), frozenset()),
    "spindle_cw": (frozenset({"rpm"}), frozenset({"rpm"})),
    "spindle_off": (frozenset(), frozenset()),
    "laser_on": (frozenset({"power"}), frozenset()),
    "laser_off": (frozenset(), frozenset()),
    "peck_drill": (
        frozenset({"x", "y", "z", "r", "q", "feed"}),
        frozenset({"x", "y", "z", "r", "q", "feed"}),
    ),
    "cycle_cancel": (frozenset(), frozenset()),
    "path_blending": (frozenset({"tolerance_mm"}), frozenset()),
    "program_end": (frozenset(), frozenset()),
}


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = {"inherits": INHERITS}
    for f in dataclasses.fields(Dialect):
        if f.name in COMMANDS or f.name == "comment":
            schema[f.name] = Value("str")
        elif f.name == "name":
            schema[f.name] = Value("str", pattern=r"[a-z0-9][a-z0-9_]{0,63}")
        elif f.name == "fan_scale":
            schema[f.name] = Value("float", lo=0.0, hi=255.0, lo_open=True)
        elif f.name == "arc_support":
            schema[f.name] = Value("bool")
        elif f.name == "extra_words":
            schema[f.name] = Value("str_list", pattern=_WORD)
        elif f.name == "max_line_length":
            schema[f.name] = Value("int", lo=0, hi=100000)
        else:  # a new Dialect field this loader does not know yet: fail loudly in tests
            raise AssertionError(f"dialect field {f.name} has no schema")
    return schema


SCHEMA: dict[str, Any] = _schema()


def check_file(doc: dict[str, Any], source: str) -> None:
    check_shape(doc, SCHEMA, source)


def dialect_words(dialect: Dialect, tool_count: int = 1) -> frozenset[str]:
    """Every command word ``dialect`` knows: core words, its command templates' first words
    and its ``extra_words``.

    A first word made with the ``{tool}`` field stands for one word per tool: ``T{tool}`` gives
    ``T0`` .. ``T<tool_count - 1>`` (a bare ``T`` is not a command any firmware takes). Other
    fields at the end of a first word are cut (``M486`` from ``M486{id}``)."""
    words = set(CORE_WORDS) | set(dialect.extra_words)
    for key in COMMANDS:
        text = getattr(dialect, key)
        for line in text.splitlines():
            head = line.split(";")[0].split()
            if not head:
                continue
            if _TOOL.search(head[0]):
                for tool in range(max(tool_count, 1)):
                    words.add(_TOOL.sub(str(tool), head[0]))
            else:
                words.add(re.sub(r"\{[^{}]*\}$", "", head[0]))
    return frozenset(words)


def command_fields(text: str, source: str) -> set[str]:
    """Field names used by a dialect command template; ProfileError for unknown ones."""
    names: set[str] = set()
    for m in _FIELD.finditer(text):
        if m.group(1) is None:
            continue
        name = m.group(1).strip()
        if name not in COMMAND_FIELDS:
            raise ProfileError(
                f"{source}: unknown field '{{{m.group(1)}}}'; allowed: "
                + ", ".join(sorted(COMMAND_FIELDS))
            )
        names.add(name)
    stray = _FIELD.sub("", text)
    if "{" in stray or "}" in stray:
        raise ProfileError(f"{source}: unbalanced brace (write {{{{ or }}}} for a literal one)")
    return names


def build_dialect(res: Resolved) -> Dialect:
    """A validated ``Dialect`` from a resolved dialect file."""
    data = dict(res.data)
    name = data.pop("name", res.id)
    if name != res.id:
        raise ProfileError(
            f"{res.where('name')}: name='{name}' must equal the file name '{res.id}'"
        )
    if "comment" in data and not data["comment"].strip():
        raise ProfileError(f'{res.where("comment")}: comment must not be empty (e.g. ";")')
    for key, (allowed, required) in COMMANDS.items():
        if key not in data:
            continue
        text = data[key]
        source = f"{res.where(key)}: {key}"
        used = command_fields(text, source)
        if used - allowed:
            raise ProfileError(
                f"{source} uses {', '.join(sorted(used - allowed))}; allowed here: "
                + (", ".join(sorted(allowed)) or "no fields")
            )
        if text.strip() and required - used:
            raise ProfileError(f"{source} must use {', '.join(sorted(required - used))}")
    if "extra_words" in data:
        data["extra_words"] = tuple(data["extra_words"])
    if "max_line_length" in data and 0 < data["max_line_length"] < 40:
        raise ProfileError(
            f"{res.where('max_line_length')}: max_line_length={data['max_line_length']} is "
            "too short for a move line; allowed: 0 (no limit) or >= 40"
        )
    if "fan_scale" in data:
        data["fan_scale"] = float(data["fan_scale"])
    return Dialect(name=name, **data)
