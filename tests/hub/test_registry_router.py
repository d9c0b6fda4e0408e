"""Hub registry loading and the pure router."""

from __future__ import annotations

from pathlib import Path

import pytest

from fabthread.errors import ProfileError
from fabthread.hub.registry import hub_from_dict, load_hub, load_network
from fabthread.hub.router import great_circle_km, route
from fabthread.model.hub import Hub, HubMachine, MachineSpec, RouteRequest, Stock

SPECS = {
    "prusa_mk4": MachineSpec("prusa_mk4", "fdm", 250, 210, 220),
    "voron24_350": MachineSpec("voron24_350", "fdm", 350, 350, 340),
    "duet3_corexy": MachineSpec("duet3_corexy", "fdm", 300, 300, 300),
}
BERLIN = (52.52, 13.405)
LOC = "[location]\nlat_deg=1\nlon_deg=2\n"
MACHINE = '[[machines]]\nid="a"\nprofile="p"\n'


def _hub(hub_id, lat, lon, profiles, stock=(("pla", "black", 1000),), **kw) -> Hub:
    return Hub(
        id=hub_id,
        name=hub_id,
        lat_deg=lat,
        lon_deg=lon,
        machines=tuple(HubMachine(f"m{i}", p) for i, p in enumerate(profiles)),
        stock=tuple(Stock(*s) for s in stock),
        **kw,
    )


def _req(**kw) -> RouteRequest:
    base = dict(
        order_id="o1",
        process="fdm",
        material="pla",
        color="black",
        machine="prusa_mk4",
        size_mm=(50.0, 40.0, 20.0),
        time_s=3600.0,
        filament_g=20.0,
    )
    base.update(kw)
    return RouteRequest(**base)


def test_embedded_network_loads() -> None:
    hubs = load_network()
    assert len(hubs) >= 3
    assert [h.id for h in hubs] == sorted(h.id for h in hubs)
    for h in hubs:
        assert h.machines and -90 <= h.lat_deg <= 90
        assert {m.profile for m in h.machines} <= set(SPECS)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('name="x"\ncolour="red"\n[location]\nlat_deg=1\nlon_deg=2\n', "unknown key 'colour'"),
        (
            '[location]\nlat_deg=91\nlon_deg=2\n[[machines]]\nid="a"\nprofile="p"\n',
            "location.lat_deg=91",
        ),
        (
            '[location]\nlat_deg=1\nlon_deg=2\n[[machines]]\nid="a"\nprofil="p"\n',
            "machines[0].profil",
        ),
        ('state="sleepy"\n[location]\nlat_deg=1\nlon_deg=2\n', "state='sleepy'"),
        ("[location]\nlat_deg=1\nlon_deg=2\n", "at least one [[machines]]"),
        (
            '[location]\nlat_deg=1\nlon_deg=2\n[[machines]]\nid="a"\nprofile="p"\n'
            '[[stock]]\nmaterial="pla"\ncolor="red"\ngrams=-1\n',
            "stock[0].grams=-1",
        ),
        ("name = [", "not valid TOML"),
    ],
)
def test_loader_names_file_and_key(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ProfileError) as err:
        load_hub(path)
    assert str(path) in str(err.value) and needle in str(err.value)


def test_great_circle_berlin_munich() -> None:
    # Berlin - Munich is about 504 km as the crow flies.
    assert great_circle_km(52.52, 13.405, 48.1351, 11.582) == pytest.approx(504, abs=3)
    assert great_circle_km(10, 20, 10, 20) == 0.0


def test_filter_reasons_and_ranking() -> None:
    hubs = [
        _hub("near", 52.5, 13.4, ["prusa_mk4"]),
        _hub("far", 48.1, 11.6, ["prusa_mk4"]),
        _hub("paused", 52.5, 13.4, ["prusa_mk4"], state="paused"),
        _hub("voron", 52.5, 13.4, ["voron24_350"]),
        _hub("nostock", 52.5, 13.4, ["prusa_mk4"], stock=(("pla", "black", 10),)),
        _hub("nocolor", 52.5, 13.4, ["prusa_mk4"], stock=(("pla", "red", 900),)),
    ]
    d = route(_req(deliver_to=BERLIN), hubs, SPECS)
    assert d.chosen == "near" and d.ranked == ("near", "far")
    by = {c.hub_id: c for c in d.candidates}
    assert by["paused"].reason == "hub is paused"
    assert "no prusa_mk4 machine" in by["voron"].reason
    assert "10 g in stock, 20 g needed" in by["nostock"].reason
    assert "0 g in stock" in by["nocolor"].reason
    assert by["far"].distance_km > 400 > by["near"].distance_km
    assert d.split == (("near", 1),)


def test_size_filter_and_any_machine() -> None:
    hubs = [_hub("a", 0, 0, ["prusa_mk4"]), _hub("b", 0, 0, ["voron24_350"])]
    big = _req(machine="", size_mm=(300.0, 300.0, 100.0))
    d = route(big, hubs, SPECS)
    assert d.ranked == ("b",)
    assert "does not fit" in {c.hub_id: c for c in d.candidates}["a"].reason


def test_ties_break_by_hub_id_and_backlog_counts() -> None:
    hubs = [_hub(h, 50, 10, ["prusa_mk4"]) for h in ("c", "a", "b")]
    assert route(_req(), hubs, SPECS).ranked == ("a", "b", "c")
    d = route(_req(), hubs, SPECS, live_backlog_h={"a": 5.0})
    assert d.ranked == ("b", "c", "a")
    a = {c.hub_id: c for c in d.candidates}["a"]
    # completion = backlog/n + time; score = 0.25*backlog/n + completion
    assert a.completion_h == pytest.approx(6.0)
    assert a.score == pytest.approx(0.25 * 5 + 6)


def test_more_machines_finish_sooner() -> None:
    hubs = [_hub("one", 0, 0, ["prusa_mk4"]), _hub("two", 0, 0, ["prusa_mk4", "prusa_mk4"])]
    d = route(_req(quantity=4, filament_g=10), hubs, SPECS)
    assert d.chosen == "two"
    assert {c.hub_id: c.completion_h for c in d.candidates} == {"one": 4.0, "two": 2.0}


def test_split_spreads_quantity_within_stock() -> None:
    hubs = [
        _hub("a", 0, 0, ["prusa_mk4"], stock=(("pla", "black", 60),)),
        _hub("b", 0, 0, ["prusa_mk4"]),
        _hub("c", 0, 0, ["prusa_mk4"]),
    ]
    req = _req(quantity=7)
    d = route(req, hubs, SPECS, max_hubs=3)
    split = dict(d.split)
    assert sum(split.values()) == 7
    assert split["a"] <= 3  # 60 g / 20 g per unit
    assert max(split.values()) - min(split.values()) <= 1
    # without splitting, "a" cannot take all seven
    assert "a" not in route(req, hubs, SPECS).ranked


def test_router_is_deterministic() -> None:
    hubs = load_network()
    r = _req(deliver_to=BERLIN, quantity=5)
    assert route(r, hubs, SPECS, max_hubs=3) == route(r, list(reversed(hubs)), SPECS, max_hubs=3)


def test_hub_from_dict_defaults_id_from_file() -> None:
    hub = hub_from_dict(
        {"location": {"lat_deg": 1, "lon_deg": 2}, "machines": [{"id": "a", "profile": "p"}]},
        source="x.toml",
        default_id="x",
    )
    assert hub.id == "x" and hub.state == "online" and hub.name == "x"
