"""Design parameter schema (ParamSpec, Constraint, DesignSpec), resolved values (ParamSet), and
the one place where a value is checked against its ParamSpec and constraints are evaluated.

``check_value`` and ``check_constraints`` are pure and shared: the catalog uses them at load
time on TOML values (and re-raises with the file and key), ``fabthread.customize`` on order
and CLI values after parsing strings. Both raise ``ParamError`` whose message names the
parameter, the value with its unit, the design and what is allowed.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from fabthread.errors import DesignError, ParamError
from fabthread.expr import FUNCTIONS, Expr, ExprEvalError, ExprSyntaxError, parse_expr
from fabthread.model.fit import FitSpec

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
class ScaleSpec:
    """Limits of the uniform scale an order may apply to the built part (1.0 = as designed).

    Without ``[scale]`` in design.toml both limits are 1.0: the design is not scalable.
    """

    minimum: float = 1.0
    maximum: float = 1.0

    @property
    def scalable(self) -> bool:
        return self.minimum < self.maximum


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
    scale: ScaleSpec = ScaleSpec()
    fits: tuple[FitSpec, ...] = ()
    #: Named bodies build() returns (e.g. ("box", "lid")), each colorable; () = one body.
    bodies: tuple[str, ...] = ()

    def fit(self, name: str) -> FitSpec:
        for f in self.fits:
            if f.name == name:
                return f
        raise KeyError(name)

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
    #: Uniform scale applied to the built part (within the design's ScaleSpec). Fit features
    #: stay absolute: a 0.2 mm gap is 0.2 mm at any scale.
    scale: float = 1.0

    def as_dict(self) -> dict[str, ParamValue]:
        return dict(self.values)

    def __getitem__(self, name: str) -> ParamValue:
        for k, v in self.values:
            if k == name:
                return v
        raise KeyError(name)


# --- checking values against the schema (shared by the catalog and customize) -------------

#: Relative tolerance (in steps) for "on the step grid": 40.00000001 is on a 0.5 grid.
STEP_TOLERANCE = 1e-6
#: Longest accepted string parameter (characters).
MAX_STRING_LENGTH = 200
_PARAM_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def is_param_name(name: str) -> bool:
    """A lower-case identifier that is neither a keyword nor a constraint function."""
    return (
        bool(_PARAM_NAME.fullmatch(name)) and not keyword.iskeyword(name) and name not in FUNCTIONS
    )


def check_value(
    p: ParamSpec, value: object, design: str, *, where: str = "", on_grid: bool = True
) -> ParamValue:
    """A typed value (bool, int, float or str, as from TOML or JSON) checked against ``p``.

    Returns it normalized (an int becomes a float for a float parameter). Strings are never
    parsed here (``fabthread.customize`` does that first). ``on_grid=False`` skips the step
    grid (for values computed by a fit, which the grid of the form does not govern).
    Raises ParamError: "{where}width_mm=500 mm is above the maximum 300 mm for design demo".
    """
    shown = show_value(value)
    if p.type == "bool":
        if not isinstance(value, bool):
            raise ParamError(
                f"{where}{p.name}={shown} is not a boolean (true or false) for design {design}"
            )
        return value
    if p.type in ("choice", "string"):
        if not isinstance(value, str):
            raise ParamError(f"{where}{p.name}={shown} is not a string for design {design}")
        if p.type == "choice" and value not in p.choices:
            raise ParamError(
                f"{where}{p.name}={shown} is not one of {', '.join(p.choices)} for design {design}"
            )
        if len(value) > MAX_STRING_LENGTH or not value.isprintable():
            raise ParamError(
                f"{where}{p.name}={shown} must be printable text of at most {MAX_STRING_LENGTH} "
                f"characters for design {design}"
            )
        return value
    kind = "an integer" if p.type == "int" else "a number"
    unit = f" {p.unit}" if p.unit else ""
    wanted = int if p.type == "int" else (int, float)
    if (
        isinstance(value, bool)
        or not isinstance(value, wanted)
        or (isinstance(value, float) and not math.isfinite(value))
    ):
        # repr for strings here: a TOML "20" must not read like the number 20.
        got = repr(value) if isinstance(value, str) else shown
        in_unit = f" in {p.unit}" if p.unit else ""
        raise ParamError(f"{where}{p.name}={got} is not {kind}{in_unit} for design {design}")
    number: int | float = float(value) if p.type == "float" else value  # type: ignore[arg-type]
    if p.minimum is not None and number < p.minimum:
        raise ParamError(
            f"{where}{p.name}={format_number(number)}{unit} is below the minimum "
            f"{format_number(p.minimum)}{unit} for design {design}"
        )
    if p.maximum is not None and number > p.maximum:
        raise ParamError(
            f"{where}{p.name}={format_number(number)}{unit} is above the maximum "
            f"{format_number(p.maximum)}{unit} for design {design}"
        )
    if p.step and on_grid:
        origin = p.minimum if p.minimum is not None else 0.0
        k = (number - origin) / p.step
        if abs(k - round(k)) > STEP_TOLERANCE * max(1.0, abs(k)):
            lo = origin + math.floor(k) * p.step
            raise ParamError(
                f"{where}{p.name}={format_number(number)}{unit} is not a multiple of the step "
                f"{format_number(p.step)}{unit} from {format_number(origin)}{unit} for design "
                f"{design}; nearest allowed: {format_number(lo)} or {format_number(lo + p.step)}"
            )
    return number


def parse_constraint(source: str, params: Sequence[ParamSpec]) -> Expr:
    """A constraint expression parsed against the numeric parameters of ``params``.

    Raises ExprSyntaxError (a ValueError) when it uses anything outside the whitelist of
    ``fabthread.expr``, names a string/choice or unknown parameter, or is not a condition.
    """
    numeric = {p.name for p in params if p.type in ("float", "int", "bool")}
    others = {p.name for p in params} - numeric
    expr = parse_expr(source, numeric | others)
    text_names = sorted(expr.names & others)
    if text_names:
        raise ExprSyntaxError(
            f"parameter '{text_names[0]}' is a string or choice; constraints may use float, int "
            "and bool parameters"
        )
    if not isinstance(expr.tree.body, ast.Compare | ast.BoolOp | ast.UnaryOp | ast.Name):
        raise ExprSyntaxError("a constraint must be a comparison such as 'a <= b - 2'")
    return expr


def check_constraints(
    spec: DesignSpec, values: Mapping[str, ParamValue], *, where: str = ""
) -> None:
    """Raise ParamError for the first constraint of ``spec`` that ``values`` violate.

    A constraint that is not a valid expression is a DesignError (the design is broken).
    """
    for c in spec.constraints:
        try:
            expr = parse_constraint(c.expr, spec.params)
        except ExprSyntaxError as exc:
            raise DesignError(f"design {spec.name}: constraint '{c.expr}': {exc}") from None
        used = ", ".join(
            f"{p.name}={show_value(values[p.name])}" for p in spec.params if p.name in expr.names
        )
        try:
            ok = bool(expr(values))  # type: ignore[arg-type]
        except ExprEvalError as exc:
            raise ParamError(
                f"{where}constraint {c.expr} cannot be evaluated for design {spec.name}: {exc} "
                f"({used})"
            ) from None
        if not ok:
            why = f" ({c.message})" if c.message else ""
            raise ParamError(
                f"{where}constraint {c.expr} violated for design {spec.name}: {used}{why}"
            )


def format_number(x: float) -> str:
    """A number as a person writes it: 40, 40.5, 0.1 (no float noise)."""
    return f"{x:.10g}" if isinstance(x, float) else str(x)


def show_value(value: object) -> str:
    """A value for a one-line message: true/false, 40.5, plain text or its repr."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        plain = text and text.strip() == text and text.isprintable()
        return text if plain else repr(text)  # repr keeps the message on one line
    return repr(value)[:60]
