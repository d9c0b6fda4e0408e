"""Dialect command templates -> G-code lines.

A dialect command (``Dialect.fan_on`` = ``"M106 S{pwm}"``) takes a small set of ``{name}``
fields (``temp_c``, ``pwm``, ``accel_mm_s2``, ``tool``, ``id``, ``name``); ``{{``/``}}`` are
literal braces. An empty template means the firmware has no such command: asking for it
raises ``GcodeError`` naming the command and the dialect instead of writing a word the
firmware would reject.
"""

from __future__ import annotations

import re

from fabthread.errors import GcodeError
from fabthread.model.profiles import Dialect

_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


def has(dialect: Dialect, key: str) -> bool:
    """Whether ``dialect`` has the command ``key`` (a Dialect field such as "color_change")."""
    return bool(str(getattr(dialect, key)).strip())


def command(dialect: Dialect, key: str, why: str = "", **values: object) -> str:
    """The rendered command ``key`` of ``dialect`` (possibly several lines, no final newline).

    Raises GcodeError when the dialect has no such command (empty template) or the template
    uses a field not in ``values``. ``why`` says what needed it ("color change before
    layer 12").
    """
    text = str(getattr(dialect, key)).strip("\n")
    if not text.strip():
        need = f" (needed for {why})" if why else ""
        raise GcodeError(
            f"dialect {dialect.name} has no {key} command{need}; the program cannot be "
            f"written for this firmware"
        )

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "{{":
            return "{"
        if m.group(0) == "}}":
            return "}"
        name = m.group(1).strip()
        if name not in values:
            raise GcodeError(
                f"dialect {dialect.name}: {key} = {text!r} uses field '{{{name}}}'; "
                f"available here: {', '.join(sorted(values)) or 'none'}"
            )
        return fmt_value(values[name])

    return _FIELD.sub(sub, text)


def fmt_value(value: object) -> str:
    """Numbers with up to 3 decimals and no trailing zeros ("215", "0.5"); others as str."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        text = f"{value:.3f}".rstrip("0").rstrip(".")
        return text if text not in ("", "-0") else "0"
    return str(value)


def label_name(name: str) -> str:
    """An object name safe as a single G-code word value (Klipper NAME=, Marlin A):
    letters, digits, ``_``, ``-`` and ``.``; anything else becomes ``_``."""
    clean = re.sub(r"[^A-Za-z0-9_.\-]", "_", name.strip())
    return clean or "object"
