"""Raw parameter values (CLI strings or JSON values) -> a validated ``ParamSet``.

Order of precedence: the design's defaults, then the preset (if named), then the values the
fits resolved for the machine (``fabthread.customize.fit``), then the raw values. A raw value
for a fit feature whose class the order chose explicitly is refused (two answers to one
question). Every value is checked against its ``ParamSpec`` (type, range, step grid, choices:
``fabthread.model.params.check_value``) and then every constraint of the design is evaluated
on the complete set. Fit values are exempt from the step grid (the grid is the form's, a fit
is computed to 1 µm), not from the range. Values are never clamped: anything outside what the
design allows is a ``ParamError`` whose message names the parameter, the value, the unit and
what is allowed.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping

from fabthread.errors import ParamError
from fabthread.model.fit import ResolvedFits
from fabthread.model.params import (
    DesignSpec,
    ParamSet,
    ParamSpec,
    ParamValue,
    check_constraints,
    check_value,
    format_number,
    show_value,
)

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def resolve_params(
    spec: DesignSpec,
    raw: Mapping[str, object],
    *,
    preset: str = "",
    source: str = "",
    fits: ResolvedFits | None = None,
    scale: object = 1.0,
) -> ParamSet:
    """Validate ``raw`` against ``spec`` and return every declared parameter, in declaration
    order. ``source`` (e.g. "order A-1001" or a file name) prefixes error messages. ``fits``
    (from ``resolve_fits``) sets the fit features; ``scale`` must lie within the design's
    ``[scale]`` limits (1.0 when it declares none)."""
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
    fitted: dict[str, float] = {}
    if fits is not None:
        if fits.design != spec.name:
            raise ParamError(f"{where}fits were resolved for design {fits.design}, not {spec.name}")
        fitted = fits.values()
        for feature in sorted(fits.chosen_features() & set(raw)):
            fit = next(f for f in fits.fits if f.feature == feature)
            raise ParamError(
                f"{where}{feature} is set by fit '{fit.name}' (class {fit.fit_class}) for design "
                f"{spec.name}; give either the fit class or {feature}, not both"
            )
        for feature, value in fitted.items():
            if feature not in raw:
                values[feature] = check_value(
                    declared[feature], value, spec.name, where=where, on_grid=False
                )
    for name, raw_value in raw.items():
        values[name] = coerce_value(declared[name], raw_value, spec.name, where=where)
    # Defaults and presets were validated when the design was loaded; check them again
    # anyway so a DesignSpec built by hand cannot smuggle in a bad value.
    for p in spec.params:
        if p.name not in raw and p.name not in fitted:
            values[p.name] = check_value(p, values[p.name], spec.name, where=where)
    check_constraints(spec, values, where=where)
    return ParamSet(
        design=spec.name,
        values=tuple((p.name, values[p.name]) for p in spec.params),
        scale=check_scale(spec, scale, where=where),
    )


def check_scale(spec: DesignSpec, scale: object, *, where: str = "") -> float:
    """``scale`` (number or CLI string) within the design's limits, as a float."""
    lo, hi = spec.scale.minimum, spec.scale.maximum
    try:
        number = float(scale.strip()) if isinstance(scale, str) else scale
    except ValueError:
        number = None
    if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
        raise ParamError(f"{where}scale={show_value(scale)} is not a number for design {spec.name}")
    number = float(number)
    if not lo <= number <= hi:
        allowed = (
            f"allowed: {format_number(lo)}..{format_number(hi)}"
            if spec.scale.scalable
            else "the design is not scalable (scale 1 only)"
        )
        raise ParamError(
            f"{where}scale={format_number(number)} is outside the limits of design "
            f"{spec.name}; {allowed}"
        )
    return number


def coerce_value(p: ParamSpec, value: object, design: str, *, where: str = "") -> ParamValue:
    """``value`` (typed, or a CLI string) converted to ``p``'s type and checked against its
    range, grid and choices."""
    if p.type == "bool":
        value = _to_bool(p, value, design, where)
    elif p.type in ("float", "int"):
        value = _to_number(p, value, design, where)
    return check_value(p, value, design, where=where)


def _to_bool(p: ParamSpec, value: object, design: str, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ParamError(
        f"{where}{p.name}={show_value(value)} is not a boolean (true or false) for design {design}"
    )


def _to_number(p: ParamSpec, value: object, design: str, where: str) -> int | float:
    kind = "an integer" if p.type == "int" else "a number"
    unit = f" in {p.unit}" if p.unit else ""
    bad = ParamError(f"{where}{p.name}={show_value(value)} is not {kind}{unit} for design {design}")
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


__all__ = ["check_constraints", "check_scale", "coerce_value", "resolve_params"]
