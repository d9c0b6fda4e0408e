"""Which words a CNC or laser dialect knows, read from its ``Dialect`` data.

A word is a G or M code ("G83", "M6") or a bare "T". The set is: the motion core every
supported controller has, the words of the dialect's command templates, and its
``extra_words``. The emitter checks every line it writes against it.
"""

from __future__ import annotations

import dataclasses
import re

from fabthread.model.profiles import Dialect

#: Motion, dwell, plane, units and distance modes: GRBL 1.1 and LinuxCNC both have these.
CNC_CORE: frozenset[str] = frozenset({"G0", "G1", "G2", "G3", "G4", "G17", "G21", "G90", "G91"})
_TOKEN = re.compile(r"([GMT])(\d+(?:\.\d+)?)?")
_STR_FIELDS = (
    "absolute_xyz",
    "tool_change",
    "units_mm",
    "plane_xy",
    "spindle_cw",
    "spindle_off",
    "laser_on",
    "laser_off",
    "peck_drill",
    "cycle_cancel",
    "path_blending",
    "program_end",
)


def line_words(line: str, comment: str = ";") -> list[str]:
    """G/M words and "T" in the code part of ``line`` (comments stripped), in order."""
    code = line.split(comment, 1)[0]
    code = re.sub(r"\([^)]*\)", "", code).upper()
    out = []
    for tok in code.split():
        m = _TOKEN.fullmatch(re.sub(r"\{[^{}]*\}", "0", tok))
        if not m:
            continue
        letter, num = m.group(1), m.group(2)
        if letter == "T":
            out.append("T")
        elif num is not None:
            out.append(f"{letter}{_norm(num)}")
    return out


def _norm(num: str) -> str:
    whole, _, frac = num.partition(".")
    return str(int(whole)) + (f".{frac}" if frac else "")


def cnc_words(dialect: Dialect) -> frozenset[str]:
    words = set(CNC_CORE) | {w.upper() for w in dialect.extra_words}
    for name in _STR_FIELDS:
        text = getattr(dialect, name)
        for ln in text.splitlines():
            words.update(line_words(ln, dialect.comment))
    return frozenset(words)


def has(dialect: Dialect, field: str) -> bool:
    """Does the dialect define the command ``field`` (a non-empty template)?"""
    names = {f.name for f in dataclasses.fields(Dialect)}
    if field not in names:
        raise KeyError(field)
    return bool(str(getattr(dialect, field)).strip())
