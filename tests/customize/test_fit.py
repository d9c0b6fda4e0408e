"""Fit classes -> parameter values per machine, and the refusals that name fit and classes."""

from __future__ import annotations

import pytest

from fabthread import profiles
from fabthread.customize.fit import load_fit_table, resolve_fits, resolve_order_params
from fabthread.customize.params import resolve_params
from fabthread.design.catalog import list_designs, load_spec
from fabthread.errors import ParamError

#: (machine, xy_size_offset_mm, hole_shrink_mm) as in profiles/machines/*.toml
MACHINES = [("prusa_mk4", 0.02, 0.12), ("voron24_350", 0.0, 0.15), ("duet3_corexy", 0.0, 0.12)]
CLASSES = {"press": 0.0, "snug": 0.1, "slip": 0.2, "loose": 0.35}


@pytest.mark.parametrize(("machine", "xy", "hs"), MACHINES)
@pytest.mark.parametrize("fit_class", list(CLASSES))
def test_clearance_fit_numbers_per_machine(machine: str, xy: float, hs: float, fit_class: str):
    spec = load_spec("enclosure")
    m = profiles.load_machine(machine)
    assert (m.compensation.xy_size_offset_mm, m.compensation.hole_shrink_mm) == (xy, hs)
    params, fits = resolve_order_params(spec, {}, m, fit_choices={"lid": fit_class})
    (lid,) = fits.fits
    want = round(CLASSES[fit_class] + xy + hs / 2, 4)
    assert lid.fit_class == fit_class and lid.chosen and lid.machine == machine
    assert lid.nominal_allowance_mm == CLASSES[fit_class]
    assert lid.compensation_mm == pytest.approx(xy + hs / 2)
    assert lid.value_mm == pytest.approx(want) and params["lip_clearance_mm"] == lid.value_mm
    assert fits.as_dict()["lid"]["value_mm"] == lid.value_mm


@pytest.mark.parametrize(("machine", "xy", "hs"), MACHINES)
def test_hole_fit_on_a_choice_nominal(machine: str, xy: float, hs: float) -> None:
    spec = load_spec("handlebar_mount")
    m = profiles.load_machine(machine)
    params, fits = resolve_order_params(spec, {"clamp_d_mm": "25.4"}, m)
    (bar,) = fits.fits
    assert bar.fit_class == "slip" and not bar.chosen and bar.nominal_size_mm == 25.4
    assert bar.value_mm == pytest.approx(2 * 0.2 + hs)
    assert params["bore_allowance_mm"] == bar.value_mm


def test_iso_classes_use_the_band_middle_and_are_refused_on_fdm() -> None:
    from dataclasses import replace

    spec = load_spec("mounting_plate")
    mk4 = profiles.load_machine("prusa_mk4")
    mill = replace(
        mk4,
        id="mill",
        process="cnc",
        compensation=replace(mk4.compensation, xy_size_offset_mm=0.0, hole_shrink_mm=0.0),
    )
    table = load_fit_table()
    for cls, size, band in [("H7/p6", 6, (0, 12)), ("H7/g6", 10, (0, 15)), ("H7/h6", 20, (0, 21))]:
        fits = resolve_fits(spec, {"dowel": cls}, mill, params={"dowel_d_mm": size}, table=table)
        (dowel,) = fits.fits
        assert dowel.band_um == band and dowel.value_mm == pytest.approx(sum(band) / 2000)
    assert table.band("g6", 10).lower_um == -14 and table.band("p6", 25).upper_um == 35
    with pytest.raises(ParamError) as info:
        resolve_fits(spec, {}, mk4)
    msg = str(info.value)
    assert "fit 'dowel' of design mounting_plate" in msg and "machine prusa_mk4 is fdm" in msg
    assert "classes: press, snug" in msg


@pytest.mark.parametrize(
    ("choices", "needles"),
    [
        ({"lidd": "snug"}, ["unknown fit 'lidd' for design enclosure; fits: lid"]),
        (
            {"lid": "tight"},
            [
                "fit 'lid' of design enclosure: class 'tight' is not allowed",
                "classes: press, snug, slip, loose",
            ],
        ),
        ({"lid": "H7/g6"}, ["class 'H7/g6' is not allowed"]),
    ],
)
def test_bad_fit_or_class_names_fit_and_classes(choices: dict, needles: list[str]) -> None:
    spec = load_spec("enclosure")
    with pytest.raises(ParamError) as info:
        resolve_fits(spec, choices, profiles.load_machine("prusa_mk4"), source="order A-1")
    msg = str(info.value)
    assert msg.startswith("order A-1: ")
    for needle in needles:
        assert needle in msg, msg


def test_explicit_value_and_chosen_class_conflict_default_class_yields() -> None:
    spec = load_spec("enclosure")
    m = profiles.load_machine("prusa_mk4")
    fits = resolve_fits(spec, {"lid": "snug"}, m)
    with pytest.raises(ParamError, match="lip_clearance_mm is set by fit 'lid' .class snug."):
        resolve_params(spec, {"lip_clearance_mm": 0.3}, fits=fits)
    # Not chosen: the customer's explicit value wins over the default class.
    fits = resolve_fits(spec, {}, m)
    assert resolve_params(spec, {"lip_clearance_mm": 0.3}, fits=fits)["lip_clearance_mm"] == 0.3


def test_every_shipped_fit_names_classes_of_the_table() -> None:
    table = load_fit_table()
    names = {c.name for c in table.clearance} | {c.name for c in table.iso}
    for spec in list_designs():
        for f in spec.fits:
            assert f.default_class in names and set(f.classes) <= names, (spec.name, f.name)


def test_scale_limits() -> None:
    spec = load_spec("snap_box")
    assert resolve_params(spec, {}, scale="1.5").scale == 1.5
    with pytest.raises(ParamError, match=r"scale=3 is outside the limits .*allowed: 0.5..2"):
        resolve_params(spec, {}, scale=3)
    with pytest.raises(ParamError, match="not scalable"):
        resolve_params(load_spec("handlebar_mount"), {}, scale=1.1)
