"""Fit classes -> concrete parameter values for one machine, with a record for the manifest.

``resolve_fits(spec, choices, machine)`` takes the class an order chose per fit (or the
design's default class) from the fit table (``profiles/fits.toml``), adds the receiving
machine's measured compensation and returns a ``ResolvedFits``: ``.values()`` goes into
``resolve_params(..., fits=...)``, ``.as_dict()`` into the bundle manifest. The arithmetic per
kind is documented in ``fabthread.model.fit``; in short, with gap g of the class scaled by
nozzle / reference nozzle (FDM machines only), xy = xy_size_offset_mm, hs = hole_shrink_mm:

    clearance  value = g      + (xy + hs / 2)     gap per side
    hole       value = 2 g    + hs                diametral allowance over the nominal shaft
    shaft      value = 2 g    + 2 xy              diametral undersize under the nominal hole

ISO 286 classes (hole and shaft fits on non-FDM machines) use the middle of the hole zone
(hole fits) or minus the middle of the shaft zone (shaft fits) at the nominal size instead of
2 g. ``resolve_order_params`` does both steps for an order.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from fabthread.errors import ParamError, ProfileError
from fabthread.model.fit import (
    ClearanceClass,
    FitSpec,
    FitTable,
    IsoBand,
    IsoClass,
    ResolvedFit,
    ResolvedFits,
)
from fabthread.model.params import DesignSpec, ParamSet, ParamValue
from fabthread.model.profiles import MachineProfile

FIT_FILE = "fits.toml"
#: Resolved values are rounded to this many decimals of a millimetre (0.1 µm).
DECIMALS = 4


def resolve_fits(
    spec: DesignSpec,
    choices: Mapping[str, str],
    machine: MachineProfile,
    *,
    params: ParamSet | Mapping[str, ParamValue] | None = None,
    table: FitTable | None = None,
    source: str = "",
) -> ResolvedFits:
    """Every fit of ``spec`` resolved for ``machine``.

    ``choices`` maps fit name -> class name; fits not named use their ``default_class``.
    ``params`` supplies the nominal sizes of hole/shaft fits (default: the design's
    defaults). ``table`` defaults to ``load_fit_table()``. Raises ParamError naming the fit
    and the allowed classes for an unknown fit or class.
    """
    where = f"{source}: " if source else ""
    table = table if table is not None else load_fit_table()
    declared = {f.name: f for f in spec.fits}
    for name in choices:
        if name not in declared:
            known = ", ".join(declared) or "none"
            raise ParamError(f"{where}unknown fit '{name}' for design {spec.name}; fits: {known}")
    values: dict[str, ParamValue] = {p.name: p.default for p in spec.params}
    if params is not None:
        values.update(params.as_dict() if isinstance(params, ParamSet) else dict(params))
    out = []
    for fit in spec.fits:
        chosen = fit.name in choices
        class_name = choices[fit.name] if chosen else fit.default_class
        out.append(_resolve_one(spec, fit, class_name, chosen, machine, table, values, where))
    return ResolvedFits(design=spec.name, fits=tuple(out), table_sha256=table.sha256)


def resolve_order_params(
    spec: DesignSpec,
    raw: Mapping[str, object],
    machine: MachineProfile,
    *,
    fit_choices: Mapping[str, str] | None = None,
    preset: str = "",
    scale: object = 1.0,
    source: str = "",
    table: FitTable | None = None,
) -> tuple[ParamSet, ResolvedFits]:
    """An order's parameters with its fits resolved for ``machine``: the customer's values
    (and preset) give the nominal sizes, the fits set their features, then everything is
    validated together."""
    from fabthread.customize.params import resolve_params

    base = resolve_params(spec, raw, preset=preset, source=source)
    fits = resolve_fits(spec, fit_choices or {}, machine, params=base, table=table, source=source)
    params = resolve_params(spec, raw, preset=preset, source=source, fits=fits, scale=scale)
    return params, fits


def allowed_classes(fit: FitSpec, table: FitTable) -> tuple[str, ...]:
    """Class names an order may choose for ``fit`` (the design's list, else the table's)."""
    return fit.classes or table.class_names(fit.kind)


def _resolve_one(
    spec: DesignSpec,
    fit: FitSpec,
    class_name: str,
    chosen: bool,
    machine: MachineProfile,
    table: FitTable,
    values: Mapping[str, ParamValue],
    where: str,
) -> ResolvedFit:
    allowed = allowed_classes(fit, table)
    clearance = {c.name: c for c in table.clearance}
    iso = {c.name: c for c in table.iso}
    if class_name not in allowed or class_name not in clearance | iso:  # type: ignore[operator]
        raise ParamError(
            f"{where}fit '{fit.name}' of design {spec.name}: class '{class_name}' is not "
            f"allowed; classes: {', '.join(c for c in allowed if c in clearance or c in iso)}"
        )
    comp = machine.compensation
    xy, hs = comp.xy_size_offset_mm, comp.hole_shrink_mm
    compensation = {"clearance": xy + hs / 2, "hole": hs, "shaft": 2 * xy}[fit.kind]
    nominal_size = _nominal_size(spec, fit, values, where) if fit.kind != "clearance" else None
    band: tuple[float, float] | None = None
    if class_name in clearance:
        gap = clearance[class_name].clearance_mm
        if machine.process == "fdm":
            gap *= machine.nozzle_diameter_mm / table.reference_nozzle_mm
        allowance = gap if fit.kind == "clearance" else 2 * gap
    else:
        if machine.process == "fdm":
            fdm = ", ".join(c for c in allowed if c in clearance)
            raise ParamError(
                f"{where}fit '{fit.name}' of design {spec.name}: class '{class_name}' is an ISO "
                f"286 class for machined parts; machine {machine.id} is fdm; classes: {fdm}"
            )
        cls = iso[class_name]
        zone = cls.hole if fit.kind == "hole" else cls.shaft
        assert nominal_size is not None
        b = table.band(zone, nominal_size)
        if b is None:
            sizes = [x.upto_mm for x in table.bands if x.zone == zone]
            raise ParamError(
                f"{where}fit '{fit.name}' of design {spec.name}: {fit.nominal}="
                f"{nominal_size:g} mm is outside the ISO 286 table for {zone} "
                f"(0..{max(sizes, default=0):g} mm)"
            )
        band = (b.lower_um, b.upper_um)
        middle_mm = (b.lower_um + b.upper_um) / 2000.0
        allowance = middle_mm if fit.kind == "hole" else -middle_mm
    value = round(allowance + compensation, DECIMALS) + 0.0
    return ResolvedFit(
        name=fit.name,
        feature=fit.feature,
        kind=fit.kind,
        fit_class=class_name,
        chosen=chosen,
        nominal_allowance_mm=round(allowance, DECIMALS) + 0.0,
        compensation_mm=round(compensation, DECIMALS) + 0.0,
        value_mm=value,
        machine=machine.id,
        nominal_size_mm=nominal_size,
        band_um=band,
    )


def _nominal_size(
    spec: DesignSpec, fit: FitSpec, values: Mapping[str, ParamValue], where: str
) -> float:
    raw = values[fit.nominal]
    try:
        size = float(raw)  # choices of numbers ("22.2") too
    except (TypeError, ValueError):
        raise ParamError(
            f"{where}fit '{fit.name}' of design {spec.name}: nominal {fit.nominal}={raw!r} is "
            "not a size in mm"
        ) from None
    return size


# --- the fit table ------------------------------------------------------------------------


def load_fit_table(path: Path | str | None = None) -> FitTable:
    """Read and validate ``profiles/fits.toml`` (or ``path``); cached per path and content."""
    if path is None:
        from fabthread.paths import profiles_dir

        path = profiles_dir() / FIT_FILE
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ProfileError(f"fit table not found: {path}") from None
    return _parse_table(data, str(path))


@lru_cache(maxsize=8)
def _parse_table(data: bytes, where: str) -> FitTable:
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{where}: not valid TOML: {exc}") from None
    return fit_table_from_dict(doc, where, sha256=hashlib.sha256(data).hexdigest())


def fit_table_from_dict(doc: dict[str, Any], where: str, *, sha256: str = "") -> FitTable:
    """A FitTable from parsed TOML; ProfileError naming the file and key for anything wrong."""
    _keys(doc, ("reference_nozzle_mm", "clearance", "iso", "bands"), where)
    ref = doc.get("reference_nozzle_mm")
    ref_mm = float(ref) if _num(ref) else 0.0  # type: ignore[arg-type]
    if ref_mm <= 0:
        raise ProfileError(f"{where}: reference_nozzle_mm must be a positive number")
    clearance = []
    for i, t in enumerate(_tables(doc, "clearance", where)):
        here = f"{where}: [[clearance]] #{i + 1}"
        _keys(t, ("name", "clearance_mm", "description"), here)
        if not isinstance(t.get("name"), str) or not _num(t.get("clearance_mm")):
            raise ProfileError(f"{here}: needs name (string) and clearance_mm (number)")
        if not -0.5 <= t["clearance_mm"] <= 2.0:
            raise ProfileError(f"{here}: clearance_mm={t['clearance_mm']} is outside -0.5..2")
        clearance.append(
            ClearanceClass(t["name"], float(t["clearance_mm"]), t.get("description", ""))
        )
    if not clearance:
        raise ProfileError(f"{where}: at least one [[clearance]] class is required")
    bands_doc = doc.get("bands", {})
    if not isinstance(bands_doc, dict):
        raise ProfileError(f"{where}: [bands] must be a table of zone = [[over, upto, lo, hi]]")
    bands = []
    for zone, rows in bands_doc.items():
        here = f"{where}: bands.{zone}"
        if not isinstance(rows, list) or not rows:
            raise ProfileError(f"{here}: must be a list of [over_mm, upto_mm, lower_um, upper_um]")
        last = None
        for row in rows:
            if not (isinstance(row, list) and len(row) == 4 and all(map(_num, row))):
                raise ProfileError(f"{here}: {row!r} is not [over_mm, upto_mm, lower_um, upper_um]")
            over, upto, lo, hi = (float(x) for x in row)
            if over >= upto or lo > hi or (last is not None and over != last):
                raise ProfileError(f"{here}: {row!r}: ranges must be contiguous and lower <= upper")
            last = upto
            bands.append(IsoBand(zone, over, upto, lo, hi))
    iso = []
    zones = set(bands_doc)
    for i, t in enumerate(_tables(doc, "iso", where)):
        here = f"{where}: [[iso]] #{i + 1}"
        _keys(t, ("name", "hole", "shaft", "description"), here)
        if not all(isinstance(t.get(k), str) for k in ("name", "hole", "shaft")):
            raise ProfileError(f"{here}: needs name, hole and shaft (strings)")
        for key in ("hole", "shaft"):
            if t[key] not in zones:
                raise ProfileError(f"{here}: {key}={t[key]!r} has no [bands] entry")
        iso.append(IsoClass(t["name"], t["hole"], t["shaft"], t.get("description", "")))
    names = [c.name for c in clearance] + [c.name for c in iso]
    if len(set(names)) != len(names):
        raise ProfileError(f"{where}: class names must be unique: {', '.join(names)}")
    return FitTable(ref_mm, tuple(clearance), tuple(iso), tuple(bands), sha256, where)


def _num(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _keys(table: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ProfileError(f"{where}: unknown key '{key}'; allowed: {', '.join(allowed)}")


def _tables(doc: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise ProfileError(f"{where}: '{key}' must be a list of [[{key}]] tables")
    return value


__all__ = [
    "allowed_classes",
    "fit_table_from_dict",
    "load_fit_table",
    "resolve_fits",
    "resolve_order_params",
]
