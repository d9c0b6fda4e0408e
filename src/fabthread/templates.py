"""Start/end G-code templates: ``{name}`` fields only, never eval.

A template is plain text with fields like ``{first_layer_nozzle_temp_c}``. ``{{`` and ``}}``
are literal braces (Klipper macros use them). Every field must be a known name; unknown
names are reported with the template's source so a broken profile fails at load time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from fabthread.errors import ProfileError

_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

# Every field a start/end template may use. The emitter supplies all of them.
TEMPLATE_FIELDS: frozenset[str] = frozenset(
    {
        "nozzle_temp_c",
        "first_layer_nozzle_temp_c",
        "bed_temp_c",
        "first_layer_bed_temp_c",
        "nozzle_diameter_mm",
        "filament_diameter_mm",
        "size_x_mm",
        "size_y_mm",
        "size_z_mm",
        "max_z_mm",  # highest Z the job reaches
        "park_z_mm",  # a safe Z above the job for the end program
        "min_x_mm",
        "min_y_mm",
        "max_x_mm",
        "max_y_mm",
        "material",
        "color",
        "machine",
        "order_id",
        "layer_count",
    }
)


def template_fields(text: str, source: str) -> set[str]:
    """The field names ``text`` uses; raises ProfileError for malformed or unknown fields."""
    names: set[str] = set()
    for m in _FIELD.finditer(text):
        if m.group(0) in ("{{", "}}"):
            continue
        name = m.group(1).strip()
        if not _NAME.match(name):
            raise ProfileError(
                f"{source}: template field '{{{m.group(1)}}}' is not a plain name "
                "(fields are {name} only; write {{ and }} for literal braces)"
            )
        if name not in TEMPLATE_FIELDS:
            raise ProfileError(
                f"{source}: unknown template field '{{{name}}}'; allowed: "
                + ", ".join(sorted(TEMPLATE_FIELDS))
            )
        names.add(name)
    stray = _FIELD.sub("", text)
    if "{" in stray or "}" in stray:
        raise ProfileError(
            f"{source}: unbalanced brace in template (write {{{{ or }}}} for a literal brace)"
        )
    return names


def render_template(text: str, values: Mapping[str, object], source: str = "template") -> str:
    """Substitute ``{name}`` fields from ``values``; floats are written with up to 3 decimals."""
    template_fields(text, source)

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "{{":
            return "{"
        if m.group(0) == "}}":
            return "}"
        name = m.group(1).strip()
        if name not in values:
            raise ProfileError(f"{source}: no value for template field '{{{name}}}'")
        return _fmt(values[name])

    return _FIELD.sub(sub, text)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        text = f"{value:.3f}".rstrip("0").rstrip(".")
        return text if text not in ("", "-0") else "0"
    return str(value)

