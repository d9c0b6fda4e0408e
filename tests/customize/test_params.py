"""resolve_params: CLI strings and JSON values in, a complete validated ParamSet out."""

from __future__ import annotations

import pytest

from fabthread.customize.params import resolve_params
from fabthread.design.catalog import design_names, load_spec
from fabthread.errors import ParamError
from fabthread.model.params import Constraint, DesignSpec, ParamSpec

SPEC = DesignSpec(
    name="demo",
    title="Demo",
    description="test design",
    params=(
        ParamSpec("width", "float", 20.0, unit="mm", minimum=10, maximum=300, step=0.5),
        ParamSpec("wall", "float", 2.0, unit="mm", minimum=0.8, maximum=5),
        ParamSpec("hole_d", "float", 4.0, unit="mm", minimum=1, maximum=50, step=0.1),
        ParamSpec("count", "int", 2, minimum=1, maximum=6),
        ParamSpec("rounded", "bool", True),
        ParamSpec("style", "choice", "flat", choices=("flat", "round")),
        ParamSpec("label", "string", ""),
    ),
    constraints=(Constraint("hole_d <= width - 2 * wall", "the hole must leave two walls"),),
    presets=(("big", (("width", 100.0), ("count", 4))),),
)


def test_defaults_complete_in_declaration_order() -> None:
    ps = resolve_params(SPEC, {})
    assert ps.design == "demo"
    assert [k for k, _ in ps.values] == [p.name for p in SPEC.params]
    assert ps.as_dict() == {
        "width": 20.0,
        "wall": 2.0,
        "hole_d": 4.0,
        "count": 2,
        "rounded": True,
        "style": "flat",
        "label": "",
    }


def test_cli_strings_and_json_values_are_typed() -> None:
    ps = resolve_params(
        SPEC,
        {"width": "12.5", "count": "3", "rounded": "false", "style": "round", "label": "A-1"},
    )
    d = ps.as_dict()
    assert d["width"] == 12.5 and type(d["width"]) is float
    assert d["count"] == 3 and type(d["count"]) is int
    assert d["rounded"] is False and d["style"] == "round" and d["label"] == "A-1"
    # JSON: an int for a float, an integral float for an int
    d = resolve_params(SPEC, {"width": 40, "count": 5.0, "rounded": True}).as_dict()
    assert type(d["width"]) is float and d["count"] == 5 and type(d["count"]) is int


def test_step_grid_has_a_tolerance() -> None:
    assert resolve_params(SPEC, {"width": 40.00000000001})["width"] == pytest.approx(40)
    assert resolve_params(SPEC, {"hole_d": "4.3"})["hole_d"] == 4.3  # 0.1 steps in floats


@pytest.mark.parametrize(
    ("raw", "needles"),
    [
        ({"width": 500}, ["width=500 mm", "above the maximum 300 mm", "design demo"]),
        ({"width": "5"}, ["width=5 mm", "below the minimum 10 mm"]),
        ({"width": "40.3"}, ["width=40.3 mm", "step 0.5 mm", "40 or 40.5"]),
        ({"width": "wide"}, ["width=wide", "not a number in mm"]),
        ({"width": "nan"}, ["width=nan", "not a number"]),
        ({"width": "inf"}, ["width=inf", "not a number"]),
        ({"width": True}, ["width=true", "not a number"]),
        ({"count": "2.5"}, ["count=2.5", "not an integer"]),
        ({"count": 7}, ["count=7", "above the maximum 6"]),
        ({"rounded": "maybe"}, ["rounded=maybe", "true or false"]),
        ({"rounded": 1}, ["rounded=1", "not a boolean"]),
        ({"style": "curly"}, ["style=curly", "not one of flat, round"]),
        ({"label": 5}, ["label=5", "not a string"]),
        ({"label": "a\nb"}, ["label=", "printable"]),
        ({"widht": 3}, ["unknown parameter 'widht'", "did you mean 'width'", "parameters: width"]),
        (
            {"width": 10, "hole_d": 9},
            [
                "constraint hole_d <= width - 2 * wall violated for design demo",
                "width=10",
                "wall=2",
                "hole_d=9",
                "(the hole must leave two walls)",
            ],
        ),
    ],
)
def test_rejections_name_parameter_value_and_what_is_allowed(raw: dict, needles: list[str]) -> None:
    with pytest.raises(ParamError) as info:
        resolve_params(SPEC, raw, source="order A-1")
    msg = str(info.value)
    assert msg.startswith("order A-1: ")
    for needle in needles:
        assert needle in msg, msg
    assert "\n" not in msg


def test_values_are_never_clamped() -> None:
    for value in (300.5, 9.999):
        with pytest.raises(ParamError):
            resolve_params(SPEC, {"width": value})
    assert resolve_params(SPEC, {"width": 300})["width"] == 300.0  # the bounds themselves pass


def test_presets_then_raw_values() -> None:
    ps = resolve_params(SPEC, {"count": 6}, preset="big")
    assert ps["width"] == 100.0 and ps["count"] == 6 and ps["wall"] == 2.0
    with pytest.raises(ParamError, match="unknown preset 'huge' for design demo; presets: big"):
        resolve_params(SPEC, {}, preset="huge")


def test_shipped_design_message() -> None:
    spec = load_spec("wall_bracket")
    with pytest.raises(ParamError) as info:
        resolve_params(spec, {"width_mm": 500})
    assert str(info.value) == (
        "width_mm=500 mm is above the maximum 120 mm for design wall_bracket"
    )


@pytest.mark.parametrize("name", design_names())
def test_shipped_defaults_and_presets_resolve(name: str) -> None:
    spec = load_spec(name)
    for preset in ["", *(p for p, _ in spec.presets)]:
        ps = resolve_params(spec, {}, preset=preset)
        assert len(ps.values) == len(spec.params)
