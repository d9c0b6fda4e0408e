"""Frozen data that flows between the stages of the thread."""

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

__all__ = [
    "Bundle",
    "Color",
    "order_from_dict",
    "order_to_dict",
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
    "Part",
    "ParamSet",
    "ParamSpec",
    "ParamValue",
    "Program",
    "ProgramStats",
    "Retraction",
    "SliceSettings",
    "Toolpath",
]
