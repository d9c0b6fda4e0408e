"""Machine, material and G-code dialect profiles: TOML loading and validation.

The data lives in the top-level ``profiles/`` folder (``machines/``, ``materials/``,
``dialects/``); see ``fabthread.profiles.machines`` and ``.materials`` for the file shapes.

    >>> from fabthread.profiles import load_machine
    >>> load_machine("prusa_mk4").size_x_mm
    250.0
"""

from fabthread.profiles.loader import (
    list_dialects,
    list_machines,
    list_materials,
    load_dialect,
    load_machine,
    load_material,
    load_stock,
    load_tool,
    load_tools,
    material_problems,
    profile_dict,
    profile_sha256,
)

__all__ = [
    "list_dialects",
    "list_machines",
    "list_materials",
    "load_dialect",
    "load_machine",
    "load_material",
    "load_stock",
    "load_tool",
    "load_tools",
    "material_problems",
    "profile_dict",
    "profile_sha256",
]
