"""Load-time checks of a design schema: typed defaults/presets and constraint expressions.

Why a twin of ``fabthread.customize`` here: stages do not import each other (see
tests/test_architecture.py), yet the catalog must reject a design whose defaults are out of
range or whose constraints use anything outside the whitelist, at load time. The values
checked here come from TOML (already typed), so this is the small subset of
``customize.params.coerce_value`` without string parsing, and a walker over exactly
``customize.expr.ALLOWED_NODES``. tests/design/test_schema_twin.py keeps the two in agreement
on random inputs. (Moving ``customize/expr.py`` to a shared top-level module would remove the
twin; that is the lead's call.)
"""

from __future__ import annotations

import ast
import keyword
import math
import operator
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fabthread.errors import DesignError
from fabthread.model.params import DesignSpec, ParamSpec, ParamValue

FUNCTIONS: dict[str, tuple[Any, int, int]] = {
    "min": (min, 2, 16),
    "max": (max, 2, 16),
    "abs": (abs, 1, 1),
    "round": (round, 1, 2),
}
_BIN: dict[type[ast.operator], Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Any] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
}
_CMP: dict[type[ast.cmpop], Any] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
ALLOWED_NODES = frozenset(
    {
        ast.Expression,
        ast.BinOp,
        ast.UnaryOp,
        ast.BoolOp,
        ast.Compare,
        ast.Call,
        ast.Name,
        ast.Constant,
        ast.Load,
        ast.And,
        ast.Or,
    }
    | set(_BIN)
    | set(_UNARY)
    | set(_CMP)
)
_PARAM_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
STEP_TOLERANCE = 1e-6


def is_param_name(name: str) -> bool:
    """A lower-case identifier that is neither a keyword nor a constraint function."""
    return (
        bool(_PARAM_NAME.fullmatch(name))
        and not keyword.iskeyword(name)
        and (name not in FUNCTIONS)
    )


def is_number(value: object, *, integer: bool = False) -> bool:
    if isinstance(value, bool):
        return False
    if integer:
        return isinstance(value, int)
    return isinstance(value, int | float) and math.isfinite(value)


def kind(ptype: str) -> str:
    return "an integer" if ptype == "int" else "a number"


def check_value(p: ParamSpec, value: object, where: str) -> ParamValue:
    """A TOML value checked against ``p``; returns it normalized (int->float for floats)."""
    if p.type == "bool":
        if not isinstance(value, bool):
            raise DesignError(f"{where}={value!r} must be true or false")
        return value
    if p.type in ("choice", "string"):
        if not isinstance(value, str):
            raise DesignError(f"{where}={value!r} must be a string")
        if p.type == "choice" and value not in p.choices:
            raise DesignError(f"{where}={value!r} is not one of {', '.join(p.choices)}")
        return value
    if not is_number(value, integer=p.type == "int"):
        raise DesignError(f"{where}={value!r} must be {kind(p.type)}")
    number = float(value) if p.type == "float" else value  # type: ignore[arg-type]
    unit = f" {p.unit}" if p.unit else ""
    assert p.minimum is not None and p.maximum is not None  # the catalog requires both
    if not p.minimum <= number <= p.maximum:  # type: ignore[operator]
        raise DesignError(f"{where}={number}{unit} is outside {p.minimum:g}..{p.maximum:g}{unit}")
    if p.step:
        k = (number - p.minimum) / p.step  # type: ignore[operator]
        if abs(k - round(k)) > STEP_TOLERANCE * max(1.0, abs(k)):
            raise DesignError(
                f"{where}={number}{unit} is not on the {p.step:g}{unit} step grid from "
                f"{p.minimum:g}{unit}"
            )
    return number  # type: ignore[return-value]


def check_constraint_expr(expr: str, params: Sequence[ParamSpec], where: str) -> ast.Expression:
    """Parse ``expr`` and check it against the whitelist; return the tree."""
    numeric = {p.name for p in params if p.type in ("float", "int", "bool")}
    others = {p.name for p in params} - numeric
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise DesignError(f"{where}: not a valid expression: {exc.msg}") from None
    for node in ast.walk(tree):
        if type(node) not in ALLOWED_NODES:
            raise DesignError(f"{where}: {type(node).__name__} is not allowed in a constraint")
        if isinstance(node, ast.Constant) and not (
            isinstance(node.value, bool) or type(node.value) in (int, float)
        ):
            raise DesignError(f"{where}: the constant {node.value!r} is not allowed")
        if isinstance(node, ast.Call):
            func = node.func
            if not isinstance(func, ast.Name) or func.id not in FUNCTIONS or node.keywords:
                raise DesignError(
                    f"{where}: only min, max, abs and round may be called (positional arguments)"
                )
            _, lo, hi = FUNCTIONS[func.id]
            if not lo <= len(node.args) <= hi:
                raise DesignError(f"{where}: {func.id}() takes {lo}..{hi} arguments")
        if isinstance(node, ast.Name):
            callee = any(isinstance(n, ast.Call) and n.func is node for n in ast.walk(tree))
            if node.id in FUNCTIONS and callee:
                continue
            if node.id in others:
                raise DesignError(
                    f"{where}: parameter '{node.id}' is a string or choice; constraints may use "
                    "float, int and bool parameters"
                )
            if node.id not in numeric:
                raise DesignError(
                    f"{where}: unknown name '{node.id}'; parameters: {', '.join(sorted(numeric))}"
                )
    if not isinstance(tree.body, ast.Compare | ast.BoolOp | ast.UnaryOp | ast.Name):
        raise DesignError(f"{where}: a constraint must be a comparison such as 'a <= b - 2'")
    return tree


def check_constraints_hold(spec: DesignSpec, values: Mapping[str, ParamValue], where: str) -> None:
    """Every constraint of ``spec`` holds for ``values`` (the defaults or a preset)."""
    for c in spec.constraints:
        tree = check_constraint_expr(c.expr, spec.params, where)
        try:
            ok = bool(_eval(tree.body, values))
        except (ArithmeticError, ValueError) as exc:
            raise DesignError(f"{where}: constraint {c.expr} cannot be evaluated: {exc}") from None
        if not ok:
            raise DesignError(f"{where} violate the constraint {c.expr} ({c.message})")


def _eval(node: ast.AST, values: Mapping[str, ParamValue]) -> object:
    """Evaluate a tree accepted by ``check_constraint_expr`` (same semantics as Python)."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand, values))
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, values), _eval(node.right, values)
        if isinstance(node.op, ast.Pow) and abs(right) > 64:  # type: ignore[arg-type]
            raise ValueError("exponent too large")
        value = _BIN[type(node.op)](left, right)
        if isinstance(value, complex) or (isinstance(value, int) and value.bit_length() > 4096):
            raise ValueError("result out of range")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("result is not finite")
        return value
    if isinstance(node, ast.BoolOp):
        result: object = False
        for operand in node.values:
            result = _eval(operand, values)
            if bool(result) == isinstance(node.op, ast.Or):
                return result
        return result
    if isinstance(node, ast.Compare):
        left = _eval(node.left, values)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = _eval(comp, values)
            if not _CMP[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        args = [_eval(a, values) for a in node.args]
        if node.func.id == "round" and len(args) == 2 and not isinstance(args[1], int):
            raise ValueError("round(x, n) needs an integer n")
        return FUNCTIONS[node.func.id][0](*args)
    raise ValueError(f"{type(node).__name__} cannot be evaluated")  # pragma: no cover
