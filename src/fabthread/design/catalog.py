"""The design catalog: ``designs/<name>/design.toml`` (schema) + ``design.py`` (CadQuery build).

Reading a schema never builds geometry and never imports cadquery, so listing designs, showing
a configurator form or validating an order is fast. A design folder holds::

    design.toml   title, description, processes, materials, [[param]], [[constraint]],
                  [preset.<name>]  (see designs/wall_bracket/design.toml for an example),
                  optionally [scale] min/max (uniform scale limits), [[fit]] (fits on mating
                  features, see fabthread.model.fit) and bodies = ["box", "lid"]
    design.py     def build(p): ... return a cadquery Workplane or Shape  (p.<param> in mm),
                  or, with ``bodies``, a dict {body name: Workplane or Shape}

Everything is validated at load time with the file and key in the message: unknown keys,
wrong types, min > max, defaults and presets outside their parameter's range or grid,
constraint expressions outside the whitelist or naming unknown parameters, a design.py without
a top-level ``build(p)``.
"""

from __future__ import annotations

import ast
import hashlib
import math
import re
import tomllib
from pathlib import Path
from typing import Any

from fabthread.errors import DesignError, ParamError
from fabthread.expr import ExprSyntaxError
from fabthread.model.fit import FIT_KINDS, FitSpec
from fabthread.model.params import (
    Constraint,
    DesignSpec,
    ParamSpec,
    ParamValue,
    ScaleSpec,
    check_constraints,
    check_value,
    is_param_name,
    parse_constraint,
)

SCHEMA_FILE = "design.toml"
SCRIPT_FILE = "design.py"
NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")

TOP_KEYS = (
    "title",
    "description",
    "processes",
    "materials",
    "param",
    "constraint",
    "preset",
    "scale",
    "fit",
    "bodies",
)
PARAM_KEYS = (
    "name",
    "type",
    "unit",
    "min",
    "max",
    "step",
    "default",
    "description",
    "group",
    "choices",
)
CONSTRAINT_KEYS = ("expr", "message")
SCALE_KEYS = ("min", "max")
FIT_KEYS = ("name", "feature", "kind", "default_class", "nominal", "classes", "description")
#: Widest scale range a design may declare.
SCALE_LIMITS = (0.1, 10.0)
PROCESSES = ("fdm", "cnc", "laser")
TYPES = ("float", "int", "bool", "choice", "string")


def list_designs(root: Path | None = None) -> list[DesignSpec]:
    """Every design under ``root`` (default ``designs_dir()``), sorted by name."""
    return [load_spec(name, root) for name in design_names(root)]


def design_names(root: Path | None = None) -> list[str]:
    """Names of the design folders under ``root`` (those holding a design.toml), sorted."""
    root = _root(root)
    if not root.is_dir():
        return []
    return sorted(
        p.name for p in root.iterdir() if (p / SCHEMA_FILE).is_file() and NAME_RE.fullmatch(p.name)
    )


def load_spec(name: str, root: Path | None = None) -> DesignSpec:
    """Load and validate the schema of design ``name``. Raises DesignError naming the problem."""
    root = _root(root)
    folder = root / name
    if not NAME_RE.fullmatch(name or "") or not (folder / SCHEMA_FILE).is_file():
        known = ", ".join(design_names(root)) or "none"
        raise DesignError(f"unknown design '{name}'; available: {known}")
    toml_path, script_path = folder / SCHEMA_FILE, folder / SCRIPT_FILE
    toml_bytes = toml_path.read_bytes()
    try:
        script_bytes = script_path.read_bytes()
    except FileNotFoundError:
        raise DesignError(f"{script_path}: missing; a design needs {SCRIPT_FILE}") from None
    _check_script(script_path, script_bytes)
    try:
        data = tomllib.loads(toml_bytes.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DesignError(f"{toml_path}: not valid TOML: {exc}") from None
    spec = _spec_from_toml(name, data, str(toml_path))
    digest = hashlib.sha256(toml_bytes + script_bytes).hexdigest()
    return DesignSpec(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        params=spec.params,
        constraints=spec.constraints,
        processes=spec.processes,
        materials=spec.materials,
        presets=spec.presets,
        source_sha256=digest,
        path=str(folder),
        scale=spec.scale,
        fits=spec.fits,
        bodies=spec.bodies,
    )


def script_path(spec: DesignSpec) -> Path:
    """The design.py of a loaded spec."""
    return Path(spec.path) / SCRIPT_FILE


def _root(root: Path | None) -> Path:
    if root is not None:
        return Path(root)
    from fabthread.paths import designs_dir

    return designs_dir()


def _check_script(path: Path, source: bytes) -> None:
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise DesignError(f"{path}: line {exc.lineno}: {exc.msg}") from None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "build":
            if len(node.args.args) != 1:
                raise DesignError(f"{path}: build() must take exactly one argument (p)")
            return
    raise DesignError(f"{path}: no top-level 'def build(p)'")


def _spec_from_toml(name: str, data: dict[str, Any], where: str) -> DesignSpec:
    _unknown(data, TOP_KEYS, where, "")
    title = _str(data, "title", where, required=True)
    description = _str(data, "description", where, required=True)
    processes = _str_list(data, "processes", where, allowed=PROCESSES, required=True)
    materials = _str_list(data, "materials", where)
    raw_params = data.get("param", [])
    if not isinstance(raw_params, list) or not raw_params:
        raise DesignError(f"{where}: at least one [[param]] table is required")
    params: list[ParamSpec] = []
    for i, table in enumerate(raw_params):
        p = _param(table, f"{where}: [[param]] #{i + 1}", name)
        if any(q.name == p.name for q in params):
            raise DesignError(f"{where}: parameter '{p.name}' is declared twice")
        params.append(p)
    constraints = tuple(
        _constraint(t, params, f"{where}: [[constraint]] #{i + 1}")
        for i, t in enumerate(data.get("constraint", []))
    )
    presets = _presets(data.get("preset", {}), params, where, name)
    fits = _fits(data.get("fit", []), params, where)
    bodies = _str_list(data, "bodies", where)
    if (
        len(bodies) == 1
        or len(set(bodies)) != len(bodies)
        or not all(map(NAME_RE.fullmatch, bodies))
    ):
        raise DesignError(
            f"{where}: 'bodies' must name two or more distinct bodies (lower-case identifiers)"
        )
    spec = DesignSpec(
        name=name,
        title=title,
        description=description,
        params=tuple(params),
        constraints=constraints,
        processes=processes,  # type: ignore[arg-type]
        materials=materials,
        presets=presets,
        scale=_scale(data.get("scale", {}), where),
        fits=fits,
        bodies=bodies,
    )
    defaults = {p.name: p.default for p in params}
    _constraints_hold(spec, defaults, f"{where}: the defaults")
    for preset_name, values in presets:
        _constraints_hold(spec, {**defaults, **dict(values)}, f"{where}: [preset.{preset_name}]")
    return spec


def _constraints_hold(spec: DesignSpec, values: dict[str, ParamValue], where: str) -> None:
    try:
        check_constraints(spec, values)
    except ParamError as exc:
        raise DesignError(f"{where}: {exc}") from None


def _scale(table: object, where: str) -> ScaleSpec:
    where = f"{where}: [scale]"
    if not isinstance(table, dict):
        raise DesignError(f"{where}: must be a table with min and max")
    if not table:
        return ScaleSpec()
    _unknown(table, SCALE_KEYS, where, "")
    lo, hi = table.get("min"), table.get("max")
    for key, value in (("min", lo), ("max", hi)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DesignError(f"{where}: {key}={value!r} must be a number")
    assert isinstance(lo, int | float) and isinstance(hi, int | float)
    if not SCALE_LIMITS[0] <= lo <= 1.0 <= hi <= SCALE_LIMITS[1]:
        raise DesignError(
            f"{where}: min={lo:g}, max={hi:g}; need {SCALE_LIMITS[0]:g} <= min <= 1 <= max <= "
            f"{SCALE_LIMITS[1]:g}"
        )
    return ScaleSpec(minimum=float(lo), maximum=float(hi))


def _fits(tables: object, params: list[ParamSpec], where: str) -> tuple[FitSpec, ...]:
    if not isinstance(tables, list):
        raise DesignError(f"{where}: 'fit' must be a list of [[fit]] tables")
    by_name = {p.name: p for p in params}
    out: list[FitSpec] = []
    for i, table in enumerate(tables):
        here = f"{where}: [[fit]] #{i + 1}"
        if not isinstance(table, dict):
            raise DesignError(f"{here}: must be a table")
        _unknown(table, FIT_KEYS, here, "")
        for key in ("name", "feature", "kind", "default_class"):
            if not isinstance(table.get(key), str) or not table[key]:
                raise DesignError(f"{here}: '{key}' is required (a string)")
        fname, feature, kind = table["name"], table["feature"], table["kind"]
        here = f"{here} ({fname})"
        if not NAME_RE.fullmatch(fname) or any(f.name == fname for f in out):
            raise DesignError(f"{here}: name must be a lower-case identifier, unique per design")
        if kind not in FIT_KINDS:
            raise DesignError(f"{here}: kind={kind!r}; allowed: {', '.join(FIT_KINDS)}")
        p = by_name.get(feature)
        if p is None or p.type != "float" or p.unit != "mm":
            raise DesignError(f"{here}: feature '{feature}' must name a float parameter in mm")
        if any(f.feature == feature for f in out):
            raise DesignError(f"{here}: feature '{feature}' already has a fit")
        nominal = table.get("nominal", "")
        if kind == "clearance" and nominal:
            raise DesignError(f"{here}: 'nominal' is only for hole and shaft fits")
        if kind != "clearance":
            q = by_name.get(nominal) if isinstance(nominal, str) else None
            if q is None or q.type not in ("float", "int", "choice") or q is p:
                raise DesignError(
                    f"{here}: a {kind} fit needs 'nominal' naming the parameter with the nominal "
                    "diameter in mm (float, int, or a choice of numbers)"
                )
        classes = table.get("classes", [])
        if not isinstance(classes, list) or not all(isinstance(c, str) and c for c in classes):
            raise DesignError(f"{here}: 'classes' must be a list of class names")
        if classes and table["default_class"] not in classes:
            raise DesignError(
                f"{here}: default_class={table['default_class']!r} is not in classes "
                f"({', '.join(classes)})"
            )
        description = table.get("description", "")
        if not isinstance(description, str):
            raise DesignError(f"{here}: 'description' must be a string")
        out.append(
            FitSpec(
                name=fname,
                feature=feature,
                kind=kind,
                default_class=table["default_class"],
                nominal=nominal,
                classes=tuple(classes),
                description=description,
            )
        )
    return tuple(out)


def _is_number(value: object, *, integer: bool = False) -> bool:
    if isinstance(value, bool):
        return False
    if integer:
        return isinstance(value, int)
    return isinstance(value, int | float) and math.isfinite(value)


def _checked(p: ParamSpec, value: object, where: str, design: str) -> ParamValue:
    """``check_value`` with the file and key in front of its message."""
    try:
        return check_value(p, value, design)
    except ParamError as exc:
        raise DesignError(f"{where}: {exc}") from None


def _param(table: object, where: str, design: str) -> ParamSpec:
    if not isinstance(table, dict):
        raise DesignError(f"{where}: must be a table")
    pname = table.get("name")
    if not isinstance(pname, str) or not is_param_name(pname):
        raise DesignError(
            f"{where}: name={pname!r} must be a lower-case identifier (letters, digits, _), "
            "not a Python keyword or one of min, max, abs, round"
        )
    where = f"{where} ({pname})"
    _unknown(table, PARAM_KEYS, where, "")
    ptype = table.get("type")
    if ptype not in TYPES:
        raise DesignError(f"{where}: type={ptype!r}; allowed: {', '.join(TYPES)}")
    numeric = ptype in ("float", "int")
    for key in ("min", "max", "step"):
        if key in table and not numeric:
            raise DesignError(f"{where}: '{key}' is only allowed for float and int parameters")
        if key in table and not _is_number(table[key], integer=ptype == "int"):
            kind = "an integer" if ptype == "int" else "a number"
            raise DesignError(f"{where}: {key}={table[key]!r} must be {kind}")
    if numeric and ("min" not in table or "max" not in table):
        raise DesignError(f"{where}: float and int parameters need 'min' and 'max'")
    if numeric and table["min"] > table["max"]:
        raise DesignError(f"{where}: min={table['min']} is greater than max={table['max']}")
    if "step" in table and table["step"] <= 0:
        raise DesignError(f"{where}: step={table['step']} must be positive")
    choices = table.get("choices", [])
    if ptype == "choice":
        if (
            not isinstance(choices, list)
            or not choices
            or not all(isinstance(c, str) and c for c in choices)
            or len(set(choices)) != len(choices)
        ):
            raise DesignError(f"{where}: 'choices' must be a non-empty list of distinct strings")
    elif "choices" in table:
        raise DesignError(f"{where}: 'choices' is only allowed for choice parameters")
    if "default" not in table:
        raise DesignError(f"{where}: 'default' is required")
    for key in ("unit", "description", "group"):
        if not isinstance(table.get(key, ""), str):
            raise DesignError(f"{where}: '{key}' must be a string")
    spec = ParamSpec(
        name=pname,
        type=ptype,
        default=table["default"],
        description=table.get("description", ""),
        unit=table.get("unit", ""),
        minimum=_as_float(table.get("min"), ptype),
        maximum=_as_float(table.get("max"), ptype),
        step=_as_float(table.get("step"), ptype),
        choices=tuple(choices),
        group=table.get("group", ""),
    )
    default = _checked(spec, table["default"], f"{where}: default", design)
    return ParamSpec(
        name=spec.name,
        type=spec.type,
        default=default,
        description=spec.description,
        unit=spec.unit,
        minimum=spec.minimum,
        maximum=spec.maximum,
        step=spec.step,
        choices=spec.choices,
        group=spec.group,
    )


def _as_float(value: object, ptype: str) -> float | None:
    if value is None:
        return None
    assert isinstance(value, int | float)  # checked by is_number before
    return int(value) if ptype == "int" else float(value)


def _constraint(table: object, params: list[ParamSpec], where: str) -> Constraint:
    if not isinstance(table, dict):
        raise DesignError(f"{where}: must be a table")
    _unknown(table, CONSTRAINT_KEYS, where, "")
    expr = table.get("expr")
    message = table.get("message", "")
    if not isinstance(expr, str) or not expr.strip():
        raise DesignError(f"{where}: 'expr' is required (e.g. \"hole_d_mm < width_mm\")")
    if not isinstance(message, str):
        raise DesignError(f"{where}: 'message' must be a string")
    try:
        parse_constraint(expr, params)
    except ExprSyntaxError as exc:
        raise DesignError(f"{where}: expr '{expr}': {exc}") from None
    return Constraint(expr=expr.strip(), message=message)


def _presets(
    table: object, params: list[ParamSpec], where: str, design: str
) -> tuple[tuple[str, tuple[tuple[str, ParamValue], ...]], ...]:
    if not isinstance(table, dict):
        raise DesignError(f"{where}: 'preset' must be a table of [preset.<name>] tables")
    by_name = {p.name: p for p in params}
    out = []
    for pname, values in table.items():
        here = f"{where}: [preset.{pname}]"
        if not NAME_RE.fullmatch(pname):
            raise DesignError(f"{here}: preset names are lower-case identifiers")
        if not isinstance(values, dict):
            raise DesignError(f"{here}: must be a table of parameter = value")
        _unknown(values, tuple(by_name), here, "parameter ")
        # Presets keep declaration order so the configurator shows them like the form.
        checked = tuple(
            (p.name, _checked(p, values[p.name], here, design)) for p in params if p.name in values
        )
        out.append((pname, checked))
    return tuple(out)


def _unknown(table: dict[str, Any], allowed: tuple[str, ...], where: str, what: str) -> None:
    for key in table:
        if key not in allowed:
            raise DesignError(f"{where}: unknown {what}key '{key}'; allowed: {', '.join(allowed)}")


def _str(data: dict[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise DesignError(f"{where}: '{key}' must be a {'non-empty ' if required else ''}string")
    return value.strip()


def _str_list(
    data: dict[str, Any],
    key: str,
    where: str,
    *,
    allowed: tuple[str, ...] = (),
    required: bool = False,
) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise DesignError(f"{where}: '{key}' must be a list of strings")
    if required and not value:
        raise DesignError(f"{where}: '{key}' must not be empty")
    for v in value:
        if allowed and v not in allowed:
            raise DesignError(f"{where}: {key} has '{v}'; allowed: {', '.join(allowed)}")
    return tuple(value)


__all__ = ["design_names", "list_designs", "load_spec", "script_path"]
