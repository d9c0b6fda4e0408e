"""The constraint evaluator: a strict whitelist, and Python's semantics on what it allows."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabthread.expr import (
    ExprEvalError,
    ExprSyntaxError,
    evaluate,
    parse_expr,
)

NAMES = ("a", "b", "c")


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        ("a.real", "attribute"),
        ("a.__class__", "attribute"),
        ("a[0]", "subscript"),
        ("(lambda: 1)()", "lambda"),
        ("(lambda x: x)", "lambda"),
        ("open('x')", "open"),
        ("__import__('os')", "__import__"),
        ("print(a)", "print"),
        ("min(a, b).real", "attribute"),
        ("__builtins__", "__builtins__"),
        ("_a", "_a"),
        ("'text' == 'text'", "constant"),
        ("b'x'", "constant"),
        ("1j", "constant"),
        ("[a for a in b]", "ListComp"),
        ("a if b else c", "conditional"),
        ("(d := 1)", "assignment"),
        ("a in b", "'in'"),
        ("a is b", "'is'"),
        ("min(a, b, key=abs)", "keyword"),
        ("min(*a, b)", "starred"),
        ("min(a)", "min() takes"),
        ("abs(a, b)", "abs() takes"),
        ("min", "function"),
        ("d > 1", "unknown name 'd'"),
        ("a > ", "not a valid expression"),
        ("", "empty"),
        ("a & b", "BitAnd"),
        ("~a", "Invert"),
        ("[a, b]", "List"),
        ("f'{a}'", "JoinedStr"),
    ],
)
def test_rejects_everything_outside_the_whitelist(source: str, needle: str) -> None:
    with pytest.raises(ExprSyntaxError) as info:
        parse_expr(source, NAMES)
    assert needle in str(info.value)


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        ("a <= b - 2 * c", {"a": 9, "b": 10, "c": 2}, False),
        ("a <= b - 2 * c", {"a": 6, "b": 10, "c": 2}, True),
        ("1 < a < 3 <= b", {"a": 2, "b": 3}, True),
        ("not a or b > 1", {"a": False, "b": 0}, True),
        ("min(a, b, 3) + max(a, 1) + abs(-b) + round(2.567, 2)", {"a": 5, "b": 4}, 14.57),
        ("a // 3 + a % 3 + 2 ** -1", {"a": 7}, 2 + 1 + 0.5),
    ],
)
def test_evaluates_like_python(source: str, values: dict, expected: object) -> None:
    assert evaluate(parse_expr(source, values), values) == expected


@pytest.mark.parametrize("source", ["a / 0", "a // 0", "a % 0", "2 ** 100", "(-8) ** 0.5"])
def test_arithmetic_failures_are_eval_errors(source: str) -> None:
    with pytest.raises(ExprEvalError):
        evaluate(parse_expr(source, ["a"]), {"a": 1})


def test_names_are_the_parameters_read() -> None:
    assert parse_expr("min(a, 2) < b", NAMES).names == {"a", "b"}


# --- random expressions against Python itself -------------------------------------------

_numbers = st.one_of(
    st.integers(-50, 50).map(str),
    st.floats(-50, 50, allow_nan=False).map(lambda x: repr(round(x, 3))),
)
_atoms = st.one_of(_numbers, st.sampled_from(NAMES), st.sampled_from(["True", "False"]))


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binop = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "//", "%"]), children)
    power = st.tuples(children, st.integers(-3, 3))
    compare = st.lists(
        st.tuples(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), children),
        min_size=1,
        max_size=3,
    )
    return st.one_of(
        binop.map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        power.map(lambda t: f"({t[0]}) ** {t[1]}"),
        children.map(lambda c: f"(-{c})"),
        children.map(lambda c: f"(not {c})"),
        st.tuples(children, compare).map(
            lambda t: "(" + t[0] + "".join(f" {op} {c}" for op, c in t[1]) + ")"
        ),
        st.tuples(children, st.sampled_from(["and", "or"]), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(st.sampled_from(["min", "max"]), st.lists(children, min_size=2, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
        children.map(lambda c: f"abs({c})"),
        st.tuples(children, st.integers(0, 3)).map(lambda t: f"round({t[0]}, {t[1]})"),
    )


expressions = st.recursive(_atoms, _extend, max_leaves=12)
values = st.fixed_dictionaries(
    {n: st.one_of(st.integers(-100, 100), st.floats(-100, 100, allow_nan=False)) for n in NAMES}
)


def _reference(source: str, env: dict) -> object:
    """Plain Python, with nothing but the four functions in scope (test-only reference)."""
    scope = {"__builtins__": {}, "min": min, "max": max, "abs": abs, "round": round, **env}
    return eval(source, scope)  # noqa: S307 - the reference the evaluator is compared with


def _same(x: object, y: object) -> bool:
    if isinstance(x, float) and isinstance(y, float) and x != x and y != y:
        return True
    return x == y and type(x) is type(y)


@settings(max_examples=300, deadline=None)
@given(expressions, values)
def test_agrees_with_python_on_random_expressions(source: str, env: dict) -> None:
    expr = parse_expr(source, NAMES)
    try:
        want = _reference(source, env)
    except (ZeroDivisionError, OverflowError):
        with pytest.raises(ExprEvalError):
            evaluate(expr, env)
        return
    if isinstance(want, complex) or (isinstance(want, float) and want != want):
        with pytest.raises(ExprEvalError):
            evaluate(expr, env)
        return
    try:
        got = evaluate(expr, env)
    except ExprEvalError:
        # Our guards (non-finite intermediates) may stop what Python lets through as inf/nan.
        return
    assert _same(got, want), (source, env, got, want)
