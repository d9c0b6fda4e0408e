"""Design parameter schema (ParamSpec, Constraint, DesignSpec) and resolved values (ParamSet)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ParamType = Literal["float", "int", "bool", "choice", "string"]
ParamValue = float | int | bool | str
Process = Literal["fdm", "cnc", "laser"]


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One declared parameter of a design.

    ``unit`` is "mm", "deg", "" (unitless) etc. ``minimum``/``maximum``/``step`` apply to
    float and int; ``choices`` to choice. ``default`` must itself be valid.
    """

    name: str
    type: ParamType
    default: ParamValue
    description: str = ""
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    choices: tuple[str, ...] = ()
    group: str = ""


@dataclass(frozen=True, slots=True)
class Constraint:
    """A cross-parameter rule, e.g. ``hole_d <= width - 2 * wall``, with a human message."""

    expr: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class DesignSpec:
    """Everything about a design that is readable without building geometry."""

    name: str
    title: str
    description: str
    params: tuple[ParamSpec, ...]
    constraints: tuple[Constraint, ...] = ()
    processes: tuple[Process, ...] = ("fdm",)
    materials: tuple[str, ...] = ()
    presets: tuple[tuple[str, tuple[tuple[str, ParamValue], ...]], ...] = ()
    source_sha256: str = ""
    path: str = ""

    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class ParamSet:
    """Concrete, validated parameter values for one design (every declared parameter present)."""

    design: str
    values: tuple[tuple[str, ParamValue], ...] = field(default=())

    def as_dict(self) -> dict[str, ParamValue]:
        return dict(self.values)

    def __getitem__(self, name: str) -> ParamValue:
        for k, v in self.values:
            if k == name:
                return v
        raise KeyError(name)
