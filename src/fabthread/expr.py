"""A safe evaluator for design constraints such as ``hole_d_mm <= width_mm - 2 * wall_mm``.

The expression is parsed with :mod:`ast` and walked node by node against a strict whitelist:
numbers (and True/False), parameter names, ``+ - * / // % **``, unary ``- + not``, comparisons
(chained too), ``and``/``or``, and calls of ``min``, ``max``, ``abs`` and ``round`` by name.
Anything else (attributes, subscripts, lambdas, other calls, strings, keywords, comprehensions,
names not declared) is rejected when the expression is parsed. Nothing is ever passed to
``eval``/``exec``/``compile``: evaluation is our own tree walk, with guards against huge
powers so a design cannot hang the process.

Errors are ``ExprSyntaxError`` (the expression is not allowed) and ``ExprEvalError`` (it is
allowed but cannot be computed for these values, e.g. division by zero); both are
``ValueError`` so callers turn them into a DesignError or ParamError with context.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

Number = int | float | bool

#: Functions a constraint may call (by bare name) with their allowed argument counts.
FUNCTIONS: dict[str, tuple[Callable[..., Number], int, int]] = {
    "min": (min, 2, 16),
    "max": (max, 2, 16),
    "abs": (abs, 1, 1),
    "round": (round, 1, 2),
}

BINARY_OPS: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
UNARY_OPS: dict[type[ast.unaryop], Callable[[Number], Number]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
}
COMPARE_OPS: dict[type[ast.cmpop], Callable[[Number, Number], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
#: Every AST node type that may appear (operator nodes included); the whitelist in one place.
ALLOWED_NODES: frozenset[type[ast.AST]] = frozenset(
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
    | set(BINARY_OPS)
    | set(UNARY_OPS)
    | set(COMPARE_OPS)
)
#: Longest expression accepted (characters); constraints are one-liners.
MAX_LENGTH = 500
#: Largest exponent magnitude for ``**`` (keeps integer powers from eating the machine).
MAX_EXPONENT = 64
#: Largest integer intermediate (bits); beyond this nested powers would get slow.
MAX_INT_BITS = 4096


class ExprSyntaxError(ValueError):
    """The expression is not valid Python or uses something outside the whitelist."""


class ExprEvalError(ValueError):
    """The expression is allowed but cannot be evaluated for the given values."""


@dataclass(frozen=True, slots=True)
class Expr:
    """A parsed, whitelisted expression. ``names`` are the parameter names it reads."""

    source: str
    tree: ast.Expression
    names: frozenset[str]

    def __call__(self, values: Mapping[str, Number]) -> Number:
        return evaluate(self, values)


def parse_expr(source: str, names: Collection[str]) -> Expr:
    """Parse ``source`` and check every node against the whitelist.

    ``names`` are the parameter names the expression may use. Raises ExprSyntaxError naming
    the offending construct.
    """
    if not isinstance(source, str) or not source.strip():
        raise ExprSyntaxError("the expression is empty")
    if len(source) > MAX_LENGTH:
        raise ExprSyntaxError(f"the expression is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprSyntaxError(f"not a valid expression: {exc.msg}") from None
    allowed = set(names)
    used: set[str] = set()
    for node in ast.walk(tree):
        if type(node) not in ALLOWED_NODES:
            raise ExprSyntaxError(f"{_describe(node)} is not allowed in a constraint")
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or type(node.value) in (int, float):
                continue
            raise ExprSyntaxError(f"the constant {node.value!r} is not allowed (numbers only)")
        if isinstance(node, ast.Call):
            _check_call(node)
        elif isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise ExprSyntaxError(f"the name '{node.id}' is not allowed")
            if node.id in FUNCTIONS and not _is_callee(tree, node):
                raise ExprSyntaxError(f"'{node.id}' is a function; call it as {node.id}(...)")
            if node.id not in FUNCTIONS:
                if node.id not in allowed:
                    known = ", ".join(sorted(allowed)) or "none"
                    raise ExprSyntaxError(f"unknown name '{node.id}'; parameters: {known}")
                used.add(node.id)
    return Expr(source=source.strip(), tree=tree, names=frozenset(used))


def evaluate(expr: Expr | str, values: Mapping[str, Number]) -> Number:
    """Evaluate a parsed expression (or parse ``expr`` against ``values``' names first)."""
    if isinstance(expr, str):
        expr = parse_expr(expr, values.keys())
    missing = sorted(expr.names - set(values))
    if missing:
        raise ExprEvalError(f"no value for {', '.join(missing)}")
    return _eval(expr.tree.body, values)


def _eval(node: ast.AST, values: Mapping[str, Number]) -> Number:
    if isinstance(node, ast.Constant):
        return node.value  # type: ignore[no-any-return,return-value]
    if isinstance(node, ast.Name):
        value = values[node.id]
        if isinstance(value, bool) or type(value) in (int, float):
            return value
        raise ExprEvalError(f"{node.id}={value!r} is not a number or boolean")
    if isinstance(node, ast.UnaryOp):
        return UNARY_OPS[type(node.op)](_eval(node.operand, values))
    if isinstance(node, ast.BinOp):
        left = _eval(node.left, values)
        right = _eval(node.right, values)
        return _binary(node.op, left, right)
    if isinstance(node, ast.BoolOp):
        result: Number = False
        for operand in node.values:  # short-circuit exactly like Python
            result = _eval(operand, values)
            if isinstance(node.op, ast.And) and not result:
                return result
            if isinstance(node.op, ast.Or) and result:
                return result
        return result
    if isinstance(node, ast.Compare):
        left = _eval(node.left, values)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, values)
            if not COMPARE_OPS[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)  # guaranteed by parse_expr
        func = FUNCTIONS[node.func.id][0]
        args = [_eval(a, values) for a in node.args]
        if node.func.id == "round" and len(args) == 2 and not isinstance(args[1], int):
            raise ExprEvalError("round(x, n) needs an integer n")
        return func(*args)
    raise ExprEvalError(f"{_describe(node)} cannot be evaluated")  # pragma: no cover


def _binary(op: ast.operator, left: Number, right: Number) -> Number:
    if isinstance(op, ast.Pow) and abs(right) > MAX_EXPONENT:
        raise ExprEvalError(f"exponent {right} is larger than {MAX_EXPONENT}")
    try:
        result = BINARY_OPS[type(op)](left, right)
    except ZeroDivisionError:
        raise ExprEvalError("division by zero") from None
    except OverflowError:
        raise ExprEvalError("number too large") from None
    if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
        raise ExprEvalError("number too large")
    if isinstance(result, complex):
        raise ExprEvalError("negative number raised to a fractional power")
    if isinstance(result, float) and not math.isfinite(result):
        raise ExprEvalError("result is not finite")
    return result


def _check_call(node: ast.Call) -> None:
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        raise ExprSyntaxError(
            f"calling {_describe(node.func)} is not allowed; allowed functions: "
            + ", ".join(FUNCTIONS)
        )
    if node.keywords:
        raise ExprSyntaxError(f"{node.func.id}() does not take keyword arguments here")
    _, lo, hi = FUNCTIONS[node.func.id]
    if not lo <= len(node.args) <= hi:
        want = str(lo) if lo == hi else f"{lo}..{hi}"
        raise ExprSyntaxError(f"{node.func.id}() takes {want} arguments, got {len(node.args)}")


def _is_callee(tree: ast.AST, name: ast.Name) -> bool:
    return any(isinstance(n, ast.Call) and n.func is name for n in ast.walk(tree))


def _describe(node: ast.AST) -> str:
    kinds = {
        ast.Attribute: "attribute access",
        ast.Subscript: "subscript",
        ast.Lambda: "lambda",
        ast.Call: "a function call",
        ast.IfExp: "a conditional expression",
        ast.NamedExpr: "assignment (:=)",
        ast.Starred: "starred argument",
        ast.In: "'in'",
        ast.NotIn: "'not in'",
        ast.Is: "'is'",
        ast.IsNot: "'is not'",
    }
    for kind, text in kinds.items():
        if isinstance(node, kind):
            return text
    if isinstance(node, ast.Name):
        return f"'{node.id}'"
    return type(node).__name__


__all__ = [
    "ALLOWED_NODES",
    "FUNCTIONS",
    "Expr",
    "ExprEvalError",
    "ExprSyntaxError",
    "evaluate",
    "parse_expr",
]
