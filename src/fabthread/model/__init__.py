"""Frozen data that flows between the stages of the thread.

The names below are imported from their modules on first use (PEP 562), so that a command
that needs a few of them (``fabthread slice``: no orders, parameters or CAM) does not pay
for creating every dataclass of the package at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fabthread.model.bundle import Bundle
    from fabthread.model.order import Order, order_from_dict, order_to_dict
    from fabthread.model.params import Constraint, DesignSpec, ParamSet, ParamSpec, ParamValue
    from fabthread.model.part import Part
    from fabthread.model.profiles import (
        Color,
        Compensation,
        Dialect,
        MachineProfile,
        MaterialProfile,
        MotionLimits,
        Retraction,
    )
    from fabthread.model.program import Program, ProgramStats
    from fabthread.model.settings import SliceSettings
    from fabthread.model.toolpath import EXTRUDING_KINDS, MoveKind, Toolpath

#: Public name -> the module that defines it.
_HOME = {
    "Bundle": "bundle",
    "Order": "order",
    "order_from_dict": "order",
    "order_to_dict": "order",
    "Constraint": "params",
    "DesignSpec": "params",
    "ParamSet": "params",
    "ParamSpec": "params",
    "ParamValue": "params",
    "Part": "part",
    "Color": "profiles",
    "Compensation": "profiles",
    "Dialect": "profiles",
    "MachineProfile": "profiles",
    "MaterialProfile": "profiles",
    "MotionLimits": "profiles",
    "Retraction": "profiles",
    "Program": "program",
    "ProgramStats": "program",
    "SliceSettings": "settings",
    "EXTRUDING_KINDS": "toolpath",
    "MoveKind": "toolpath",
    "Toolpath": "toolpath",
}

__all__ = [
    "Bundle",
    "Color",
    "Compensation",
    "Constraint",
    "DesignSpec",
    "Dialect",
    "EXTRUDING_KINDS",
    "MachineProfile",
    "MaterialProfile",
    "MotionLimits",
    "MoveKind",
    "Order",
    "ParamSet",
    "ParamSpec",
    "ParamValue",
    "Part",
    "Program",
    "ProgramStats",
    "Retraction",
    "SliceSettings",
    "Toolpath",
    "order_from_dict",
    "order_to_dict",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})
