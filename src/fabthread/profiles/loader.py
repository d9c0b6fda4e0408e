"""Public loading API: machines, materials and dialects by id, validated, with a content hash.

``root`` is the profiles folder (default ``fabthread.paths.profiles_dir()``), holding
``machines/``, ``materials/`` and ``dialects/``. Every profile carries ``sha256``: the SHA-256
of the canonical JSON (sorted keys, no whitespace) of the fully resolved profile, without its
``path`` and ``sha256`` fields, so the hash names the content, not where it was read from.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fabthread.errors import ProfileError
from fabthread.model.profiles import Dialect, MachineProfile, MaterialProfile
from fabthread.paths import profiles_dir
from fabthread.profiles import dialects, machines, materials
from fabthread.profiles.tree import available, display, resolve

if TYPE_CHECKING:  # CNC tooling: imported where it is loaded, not by every command
    from fabthread.model.cam import StockMaterial, ToolLibrary, ToolSpec


def _root(root: Path | str | None) -> Path:
    return Path(root) if root is not None else profiles_dir()


def load_machine(id: str, root: Path | str | None = None) -> MachineProfile:  # noqa: A002
    """The machine profile ``<root>/machines/<id>.toml``, inherits resolved and validated.

    Raises ProfileError for an unknown id (listing the available ones), unknown keys, wrong
    types, out-of-range values, bad templates, a missing base or an inherits cycle, and for a
    ``dialect`` that has no file in ``<root>/dialects/``.
    """
    base = _root(root)
    res = resolve(base, "machines", id, machines.check_file, "machine")
    machine = machines.build_machine(res)
    dialect_dir = base / "dialects"
    if not (dialect_dir / f"{machine.dialect}.toml").is_file():
        raise ProfileError(
            f"{res.where('dialect')}: dialect='{machine.dialect}' has no file "
            f"{display(dialect_dir / (machine.dialect + '.toml'), base)}; available: "
            + (", ".join(available(dialect_dir)) or "(none)")
        )
    return dataclasses.replace(machine, sha256=profile_sha256(machine))


def load_material(id: str, root: Path | str | None = None) -> MaterialProfile:  # noqa: A002
    """The material profile ``<root>/materials/<id>.toml``, inherits resolved and validated."""
    res = resolve(_root(root), "materials", id, materials.check_file, "material")
    material = materials.build_material(res)
    return dataclasses.replace(material, sha256=profile_sha256(material))


def load_dialect(name: str, root: Path | str | None = None) -> Dialect:
    """The G-code dialect ``<root>/dialects/<name>.toml`` (marlin, klipper, rrf, ...)."""
    res = resolve(_root(root), "dialects", name, dialects.check_file, "dialect")
    return dialects.build_dialect(res)


def load_stock(id: str, root: Path | str | None = None) -> StockMaterial:  # noqa: A002
    """The CNC/laser view of material ``id`` (sheet thicknesses, laser data per thickness)."""
    res = resolve(_root(root), "materials", id, materials.check_file, "material")
    materials.build_material(res)  # full validation first
    return materials.build_stock(res)


def load_tool(id: str, root: Path | str | None = None) -> ToolSpec:  # noqa: A002
    """The cutting tool ``<root>/tools/<id>.toml``, validated (feeds per cnc material)."""
    from fabthread.profiles import tools

    base = _root(root)
    res = resolve(base, "tools", id, tools.check_file, "tool")
    return tools.build_tool(res, base)


def load_tools(
    ids: list[str] | tuple[str, ...] | None = None, root: Path | str | None = None
) -> ToolLibrary:
    """A tool library of ``ids`` (default: every tool in ``<root>/tools/``); tool numbers must
    be unique."""
    from fabthread.profiles import tools

    base = _root(root)
    chosen = list(ids) if ids is not None else available(base / "tools")
    return tools.check_library([load_tool(i, base) for i in chosen])


def list_machines(root: Path | str | None = None) -> list[MachineProfile]:
    """Every listed machine (base files starting with ``_`` excluded), sorted by id."""
    base = _root(root)
    return [load_machine(i, base) for i in available(base / "machines")]


def list_materials(root: Path | str | None = None) -> list[MaterialProfile]:
    """Every listed material, sorted by id."""
    base = _root(root)
    return [load_material(i, base) for i in available(base / "materials")]


def list_dialects(root: Path | str | None = None) -> list[Dialect]:
    """Every dialect, sorted by name."""
    base = _root(root)
    return [load_dialect(i, base) for i in available(base / "dialects")]


def profile_dict(profile: MachineProfile | MaterialProfile | Dialect) -> dict[str, Any]:
    """A JSON-ready dict of a profile (tuples become lists)."""
    return _jsonable(dataclasses.asdict(profile))


def profile_sha256(profile: MachineProfile | MaterialProfile | Dialect) -> str:
    """SHA-256 hex of the canonical JSON of ``profile`` without ``path`` and ``sha256``."""
    data = profile_dict(profile)
    data.pop("path", None)
    data.pop("sha256", None)
    text = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def material_problems(machine: MachineProfile, material: MaterialProfile) -> tuple[str, ...]:
    """Why ``material`` cannot run on ``machine`` (empty when it can): process, filament
    diameter, and temperatures above the machine's hotend and bed maxima."""
    out: list[str] = []
    if material.process != machine.process:
        out.append(
            f"material {material.id} is for {material.process}, machine {machine.id} "
            f"is {machine.process}"
        )
        return tuple(out)
    if machine.process != "fdm":
        return ()
    if abs(material.filament_diameter_mm - machine.filament_diameter_mm) > 0.05:
        out.append(
            f"material {material.id} is {material.filament_diameter_mm:g} mm filament; "
            f"machine {machine.id} takes {machine.filament_diameter_mm:g} mm"
        )
    hot = max(material.nozzle_temp_c, material.first_layer_nozzle_temp_c)
    if hot > machine.max_hotend_temp_c:
        out.append(
            f"material {material.id} needs a {hot:g} °C nozzle; machine {machine.id} "
            f"reaches {machine.max_hotend_temp_c:g} °C"
        )
    bed = max(material.bed_temp_c, material.first_layer_bed_temp_c)
    if bed > machine.max_bed_temp_c:
        out.append(
            f"material {material.id} needs a {bed:g} °C bed; machine {machine.id} "
            f"reaches {machine.max_bed_temp_c:g} °C"
        )
    return tuple(out)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
