"""The hub registry: one TOML file per hub under ``profiles/hubs/`` (the file stem is the id).

Example (``profiles/hubs/berlin.toml``)::

    name = "Berlin Kreuzberg makerspace"
    state = "online"            # online | paused | offline
    backlog_h = 1.5             # machine hours of outside work, optional

    [location]
    lat_deg = 52.4986
    lon_deg = 13.4031

    [[machines]]
    id = "mk4-a"                # hub-local name
    profile = "prusa_mk4"       # machine profile id

    [[stock]]
    material = "pla"
    color = "black"
    grams = 2000

Unknown keys and bad values raise ``ProfileError`` naming the file and the key.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

from fabthread.errors import ProfileError
from fabthread.model.hub import HUB_STATES, Hub, HubMachine, MachineSpec, Stock
from fabthread.paths import profiles_dir

_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_TOP = {"id", "name", "state", "backlog_h", "location", "machines", "stock"}
_LOCATION = {"lat_deg", "lon_deg"}
_MACHINE = {"id", "profile"}
_STOCK = {"material", "color", "grams"}


def hubs_dir() -> Path:
    return profiles_dir() / "hubs"


def load_network(directory: str | Path | None = None) -> tuple[Hub, ...]:
    """All hubs in ``directory`` (default ``profiles/hubs``), sorted by id."""
    folder = Path(directory) if directory is not None else hubs_dir()
    if not folder.is_dir():
        raise ProfileError(f"hub folder not found: {folder}")
    hubs = tuple(load_hub(p) for p in sorted(folder.glob("*.toml")))
    if not hubs:
        raise ProfileError(f"{folder}: no hub files (*.toml)")
    return hubs


def load_hub(path: str | Path) -> Hub:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"hub file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"cannot read hub file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None
    return hub_from_dict(data, source=str(path), default_id=path.stem)


def hub_from_dict(data: Mapping[str, object], source: str, default_id: str = "") -> Hub:
    """Validate a parsed hub file; ``source`` names it in messages."""
    _no_unknown(data, _TOP, source, "")
    hub_id = data.get("id", default_id)
    if not isinstance(hub_id, str) or not _ID.fullmatch(hub_id):
        raise ProfileError(
            f"{source}: id={hub_id!r} must be 1..64 of a-z, 0-9, '_' or '-' (starting with a "
            "letter or digit)"
        )
    name = _str(data, "name", source, "", default=hub_id)
    state = _str(data, "state", source, "", default="online")
    if state not in HUB_STATES:
        raise ProfileError(f"{source}: state='{state}'; allowed: {', '.join(HUB_STATES)}")
    backlog_h = _num(data, "backlog_h", source, "", default=0.0, lo=0.0, hi=10_000.0)
    location = data.get("location")
    if not isinstance(location, dict):
        raise ProfileError(f"{source}: [location] with lat_deg and lon_deg is required")
    _no_unknown(location, _LOCATION, source, "location.")
    lat = _num(location, "lat_deg", source, "location.", lo=-90.0, hi=90.0)
    lon = _num(location, "lon_deg", source, "location.", lo=-180.0, hi=180.0)
    machines = []
    for i, item in enumerate(_tables(data, "machines", source)):
        where = f"machines[{i}]."
        _no_unknown(item, _MACHINE, source, where)
        machine_id = _str(item, "id", source, where)
        if not _ID.fullmatch(machine_id):
            raise ProfileError(f"{source}: {where}id={machine_id!r} must be like 'mk4-a'")
        machines.append(HubMachine(id=machine_id, profile=_str(item, "profile", source, where)))
    if not machines:
        raise ProfileError(f"{source}: at least one [[machines]] entry is required")
    ids = [m.id for m in machines]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ProfileError(f"{source}: machines[].id '{dup[0]}' is used twice")
    stock = []
    for i, item in enumerate(_tables(data, "stock", source)):
        where = f"stock[{i}]."
        _no_unknown(item, _STOCK, source, where)
        stock.append(
            Stock(
                material=_str(item, "material", source, where),
                color=_str(item, "color", source, where),
                grams=_num(item, "grams", source, where, lo=0.0, hi=1e7),
            )
        )
    return Hub(
        id=hub_id,
        name=name,
        lat_deg=lat,
        lon_deg=lon,
        machines=tuple(machines),
        stock=tuple(stock),
        state=state,  # type: ignore[arg-type]
        backlog_h=backlog_h,
        path=source,
    )


def machine_specs(hubs: Iterable[Hub], load_machine=None) -> dict[str, MachineSpec]:
    """The ``MachineSpec`` of every machine profile the hubs use, via ``load_machine(id)``
    (default ``fabthread.profiles.load_machine``). A missing profile is a ProfileError naming
    the hub file."""
    if load_machine is None:
        from fabthread.profiles import load_machine  # type: ignore[attr-defined,no-redef]
    specs: dict[str, MachineSpec] = {}
    for hub in hubs:
        for m in hub.machines:
            if m.profile in specs:
                continue
            try:
                profile = load_machine(m.profile)
            except ProfileError as exc:
                raise ProfileError(f"{hub.path or hub.id}: machines '{m.id}': {exc}") from None
            specs[m.profile] = spec_of(profile)
    return specs


def spec_of(profile: object) -> MachineSpec:
    """A ``MachineSpec`` from a ``MachineProfile`` (or anything with the same fields)."""
    return MachineSpec(
        id=profile.id,  # type: ignore[attr-defined]
        process=profile.process,  # type: ignore[attr-defined]
        size_x_mm=float(profile.size_x_mm),  # type: ignore[attr-defined]
        size_y_mm=float(profile.size_y_mm),  # type: ignore[attr-defined]
        size_z_mm=float(profile.size_z_mm),  # type: ignore[attr-defined]
    )


def _no_unknown(data: Mapping[str, object], allowed: set[str], source: str, where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ProfileError(
            f"{source}: unknown key '{where}{unknown[0]}'; allowed: {', '.join(sorted(allowed))}"
        )


def _tables(data: Mapping[str, object], key: str, source: str) -> list[dict]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ProfileError(f"{source}: '{key}' must be an array of tables ([[{key}]])")
    return value


def _str(
    data: Mapping[str, object], key: str, source: str, where: str, default: str | None = None
) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ProfileError(f"{source}: '{where}{key}' must be a non-empty string")
    return value


def _num(
    data: Mapping[str, object],
    key: str,
    source: str,
    where: str,
    default: float | None = None,
    lo: float = -math.inf,
    hi: float = math.inf,
) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProfileError(f"{source}: '{where}{key}' must be a number in {lo:g}..{hi:g}")
    if not lo <= value <= hi:
        raise ProfileError(f"{source}: {where}{key}={value:g} is outside {lo:g}..{hi:g}")
    return float(value)
