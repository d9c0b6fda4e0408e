"""Key schemas for profile TOML files: every key, its type and its allowed range.

A schema is a nested dict: a key maps to a ``Value`` (a leaf), to a nested dict (a table),
to ``FREE`` (a table with free keys, checked elsewhere) or to a ``TableArray`` (an array of
tables such as ``[[color]]``). ``check_shape`` walks one raw TOML document against a schema
and raises ``ProfileError`` naming the file and the dotted key for any unknown key, wrong
type or out-of-range value. Requiredness and cross-key rules are checked after ``inherits``
merging, by the builders.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fabthread.errors import ProfileError

Kind = str  # "float" | "int" | "bool" | "str" | "str_list" | "int_pairs" | "float_list"


@dataclass(frozen=True, slots=True)
class Value:
    """A leaf key. ``lo``/``hi`` bound numbers (``lo_open``: strictly above ``lo``);
    ``choices`` restricts strings; ``pattern`` is a full-match regex for strings."""

    kind: Kind
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    choices: tuple[str, ...] = ()
    pattern: str = ""
    doc: str = ""

    def allowed(self) -> str:
        """A short human description of what is allowed, for error messages."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        parts = []
        if self.lo is not None:
            parts.append(f"{'>' if self.lo_open else '>='} {self.lo:g}")
        if self.hi is not None:
            parts.append(f"<= {self.hi:g}")
        what = {
            "float": "a number",
            "int": "an integer",
            "bool": "true or false",
            "str": "a string",
            "str_list": "a list of strings",
            "int_pairs": "a list of [width, height] integer pairs",
            "float_list": "a non-empty list of numbers",
        }[self.kind]
        return what + (" " + " and ".join(parts) if parts else "")


@dataclass(frozen=True, slots=True)
class TableArray:
    """An array of tables (``[[color]]``); each element follows ``item``."""

    item: Mapping[str, Any]


FREE = "free"  # a table whose keys are validated by the builder (e.g. [defaults])

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_]{0,63}")
BASE_PATTERN = re.compile(r"_[a-z0-9][a-z0-9_]{0,63}")


def allowed_keys(schema: Mapping[str, Any], prefix: str = "") -> list[str]:
    return sorted(prefix + k for k in schema)


def check_shape(
    doc: Mapping[str, Any], schema: Mapping[str, Any], source: str, prefix: str = ""
) -> None:
    """Check every key of ``doc`` against ``schema`` (types and ranges, not requiredness)."""
    for key, value in doc.items():
        dotted = prefix + key
        if key not in schema:
            raise ProfileError(
                f"{source}: unknown key '{dotted}'; allowed: "
                + ", ".join(allowed_keys(schema, prefix))
            )
        spec = schema[key]
        if spec is FREE:
            if not isinstance(value, dict):
                raise ProfileError(f"{source}: '{dotted}' must be a table ([{dotted}])")
        elif isinstance(spec, TableArray):
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                raise ProfileError(
                    f"{source}: '{dotted}' must be an array of tables ([[{dotted}]])"
                )
            for i, item in enumerate(value):
                check_shape(item, spec.item, source, f"{dotted}[{i}].")
        elif isinstance(spec, Mapping):
            if not isinstance(value, dict):
                raise ProfileError(f"{source}: '{dotted}' must be a table ([{dotted}])")
            check_shape(value, spec, source, dotted + ".")
        else:
            check_value(value, spec, source, dotted)


def check_value(value: Any, spec: Value, source: str, dotted: str) -> None:
    """Raise ProfileError unless ``value`` has the kind and range of ``spec``."""
    bad = f"{source}: {dotted}={_show(value)} is not allowed; expected {spec.allowed()}"
    kind = spec.kind
    if kind == "bool":
        if not isinstance(value, bool):
            raise ProfileError(bad)
        return
    if kind == "str":
        if not isinstance(value, str):
            raise ProfileError(bad)
        if spec.choices and value not in spec.choices:
            raise ProfileError(bad)
        if spec.pattern and not re.fullmatch(spec.pattern, value):
            raise ProfileError(f"{source}: {dotted}={_show(value)} must match {spec.pattern}")
        return
    if kind == "str_list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ProfileError(bad)
        if spec.pattern:
            for v in value:
                if not re.fullmatch(spec.pattern, v):
                    raise ProfileError(
                        f"{source}: {dotted} entry {_show(v)} must match {spec.pattern}"
                    )
        return
    if kind == "float_list":
        ok = (
            isinstance(value, list)
            and len(value) > 0
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        )
        if not ok:
            raise ProfileError(bad)
        for v in value:
            if not math.isfinite(v) or not _in_range(v, spec):
                raise ProfileError(
                    f"{source}: {dotted} entry {v} is out of range; expected {spec.allowed()}"
                )
        return
    if kind == "int_pairs":
        ok = isinstance(value, list) and all(
            isinstance(p, list)
            and len(p) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) for n in p)
            for p in value
        )
        if not ok:
            raise ProfileError(bad)
        for w, h in value:
            if not (_in_range(w, spec) and _in_range(h, spec)):
                raise ProfileError(
                    f"{source}: {dotted} entry [{w}, {h}] is out of range; expected "
                    f"{spec.allowed()}"
                )
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProfileError(bad)
    if kind == "int" and not isinstance(value, int):
        raise ProfileError(bad)
    if not math.isfinite(value) or not _in_range(value, spec):
        raise ProfileError(bad)


def _in_range(v: float, spec: Value) -> bool:
    if spec.lo is not None and (v <= spec.lo if spec.lo_open else v < spec.lo):
        return False
    return not (spec.hi is not None and v > spec.hi)


def _show(value: Any) -> str:
    text = (
        repr(value)
        if isinstance(value, str)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
    )
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------------------------------------
# Shared building blocks


def num(
    lo: float | None = None, hi: float | None = None, *, lo_open: bool = False, doc: str = ""
) -> Value:
    return Value("float", lo=lo, hi=hi, lo_open=lo_open, doc=doc)


def pos(hi: float, doc: str = "") -> Value:
    """A number strictly above zero, at most ``hi``."""
    return Value("float", lo=0.0, hi=hi, lo_open=True, doc=doc)


def integer(lo: int, hi: int, doc: str = "") -> Value:
    return Value("int", lo=lo, hi=hi, doc=doc)


TEXT = Value("str")
PROCESSES = ("fdm", "cnc", "laser")
PROCESS = Value("str", choices=PROCESSES)
INHERITS = Value("str", pattern=BASE_PATTERN.pattern)

RETRACTION: dict[str, Any] = {
    "length_mm": num(0.0, 20.0),
    "speed_mm_s": pos(300.0),
    "deretract_speed_mm_s": num(0.0, 300.0),  # 0: same as speed_mm_s
    "min_travel_mm": num(0.0, 100.0),
    "z_hop_mm": num(0.0, 10.0),
}
