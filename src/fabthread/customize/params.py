"""Raw parameter values (CLI strings or JSON values) -> a validated ``ParamSet``.

Order of precedence: the design's defaults, then the preset (if named), then the raw values.
Every value is checked against its ``ParamSpec`` (type, range, step grid, choices) and then
every constraint of the design is evaluated on the complete set. Values are never clamped:
anything outside what the design allows is a ``ParamError`` whose message names the
parameter, the value, the unit and what is allowed.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping

from fabthread.customize.expr import ExprEvalError, ExprSyntaxError, parse_expr
from fabthread.errors import DesignError, ParamError
from fabthread.model.params import DesignSpec, ParamSet, ParamSpec, ParamValue

#: Relative tolerance (in steps) for "on the step grid": 40.00000001 is on a 0.5 grid.
STEP_TOLERANCE = 1e-6
#: Longest accepted string parameter (characters).
MAX_STRING_LENGTH = 200

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def resolve_params(
    spec: DesignSpec,
    raw: Mapping[str, object],
    *,
    preset: str = "",
    source: str = "",
) -> ParamSet:
    """Validate ``raw`` against ``spec`` and return every declared parameter, in declaration
    order. ``source`` (e.g. "order A-1001" or a file name) prefixes error messages."""
    where = f"{source}: " if source else ""
    declared = {p.name: p for p in spec.params}
    for name in raw:
        if name not in declared:
            raise ParamError(where + _unknown_message(spec, str(name)))
    values: dict[str, ParamValue] = {p.name: p.default for p in spec.params}
    if preset:
        presets = dict(spec.presets)
        if preset not in presets:
            known = ", ".join(presets) or "none"
            raise ParamError(
                f"{where}unknown preset '{preset}' for design {spec.name}; presets: {known}"
            )
        values.update(dict(presets[preset]))
    for name, value in raw.items():
        values[name] = coerce_value(declared[name], value, spec.name, where=where)
    # Defaults and presets were validated when the design was loaded; check them again
    # anyway so a DesignSpec built by hand cannot smuggle in a bad value.
    for p in spec.params:
        if p.name not in raw:
            values[p.name] = coerce_value(p, values[p.name], spec.name, where=where)
    check_constraints(spec, values, where=where)
    return ParamSet(design=spec.name, values=tuple((p.name, values[p.name]) for p in spec.params))


def coerce_value(p: ParamSpec, value: object, design: str, *, where: str = "") -> ParamValue:
    """``value`` converted to ``p``'s type and checked against its range, grid and choices."""
    shown = _show(value)
    if p.type == "bool":
        return _to_bool(p, value, design, where)
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
    number = _to_number(p, value, design, where)
    unit = f" {p.unit}" if p.unit else ""
    if p.minimum is not None and number < p.minimum:
        raise ParamError(
            f"{where}{p.name}={_num(number)}{unit} is below the minimum {_num(p.minimum)}{unit} "
            f"for design {design}"
        )
    if p.maximum is not None and number > p.maximum:
        raise ParamError(
            f"{where}{p.name}={_num(number)}{unit} is above the maximum {_num(p.maximum)}{unit} "
            f"for design {design}"
        )
    if p.step:
        origin = p.minimum if p.minimum is not None else 0.0
        k = (number - origin) / p.step
        if abs(k - round(k)) > STEP_TOLERANCE * max(1.0, abs(k)):
            lo = origin + math.floor(k) * p.step
            raise ParamError(
                f"{where}{p.name}={_num(number)}{unit} is not a multiple of the step "
                f"{_num(p.step)}{unit} from {_num(origin)}{unit} for design {design}; nearest "
                f"allowed: {_num(lo)} or {_num(lo + p.step)}"
            )
    return number


def check_constraints(
    spec: DesignSpec, values: Mapping[str, ParamValue], *, where: str = ""
) -> None:
    """Raise ParamError for the first constraint of ``spec`` that ``values`` violate."""
    numeric = {p.name for p in spec.params if p.type in ("float", "int", "bool")}
    for c in spec.constraints:
        try:
            expr = parse_expr(c.expr, numeric)
        except ExprSyntaxError as exc:
            raise DesignError(f"design {spec.name}: constraint '{c.expr}': {exc}") from None
        used = ", ".join(f"{n}={_show(values[n])}" for n in _in_order(spec, expr.names))
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


def _to_bool(p: ParamSpec, value: object, design: str, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ParamError(
        f"{where}{p.name}={_show(value)} is not a boolean (true or false) for design {design}"
    )


def _to_number(p: ParamSpec, value: object, design: str, where: str) -> int | float:
    kind = "an integer" if p.type == "int" else "a number"
    unit = f" in {p.unit}" if p.unit else ""
    bad = ParamError(f"{where}{p.name}={_show(value)} is not {kind}{unit} for design {design}")
    if isinstance(value, bool):
        raise bad
    number: int | float
    if isinstance(value, str):
        text = value.strip()
        try:
            number = int(text) if p.type == "int" else float(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise bad from None
    elif isinstance(value, int | float):
        number = value
    else:
        raise bad
    if not math.isfinite(number):
        raise bad
    if p.type == "int":
        if isinstance(number, float):
            if not number.is_integer():
                raise bad
            number = int(number)
        return number
    return float(number)


def _unknown_message(spec: DesignSpec, name: str) -> str:
    names = [p.name for p in spec.params]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return (
        f"unknown parameter '{name}' for design {spec.name}{hint}; parameters: {', '.join(names)}"
    )


def _in_order(spec: DesignSpec, names: frozenset[str]) -> list[str]:
    return [p.name for p in spec.params if p.name in names]


def _num(x: float) -> str:
    """A number as a person writes it: 40, 40.5, 0.1 (no float noise)."""
    return f"{x:.10g}" if isinstance(x, float) else str(x)


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _num(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        plain = text and text.strip() == text and text.isprintable()
        return text if plain else repr(text)  # repr keeps the message on one line
    return repr(value)[:60]


__all__ = ["check_constraints", "coerce_value", "resolve_params"]
