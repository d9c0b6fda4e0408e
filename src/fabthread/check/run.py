"""``check_part``: run the rule families that apply to a process and collect the Findings.

=========  ==================================================================================
process    rule families (rule ids)
=========  ==================================================================================
any        integrity (open_edges, non_manifold_edges, inconsistent_winding, degenerate_faces,
           self_intersection, inside_out), material_process
fdm        build_volume, min_wall, min_hole/min_feature, overhang/bridge
cnc        stock_size, internal_corner, undercut
laser      build_volume, sheet_thickness/not_a_plate, outline_open, min_web
=========  ==================================================================================

Geometry rules that trust the normals (walls, overhangs, undercuts) are skipped when the mesh
is open, non-manifold, inconsistently wound or inside out: their answers would be noise, and
the integrity error already says what to fix first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from fabthread.check import cnc, features, integrity, laser, overhang, volume, walls
from fabthread.check.limits import CheckLimits
from fabthread.errors import ParamError
from fabthread.model.cam import StockMaterial, ToolSpec
from fabthread.model.findings import Finding, Findings
from fabthread.model.part import Part
from fabthread.model.profiles import MachineProfile, MaterialProfile
from fabthread.model.settings import SliceSettings

Rule = Callable[..., list[Finding]]
PROCESSES = ("fdm", "cnc", "laser")

#: Integrity rules after which normal-based geometry rules are meaningless.
_BROKEN = {"open_edges", "non_manifold_edges", "inconsistent_winding", "inside_out", "empty"}

#: (rule ids, function, needs a sound mesh) per process, in report order.
FAMILIES: dict[str, tuple[tuple[tuple[str, ...], Rule, bool], ...]] = {
    "fdm": (
        (("build_volume",), volume.check_build_volume, False),
        (("min_wall",), walls.check_min_wall, True),
        (("min_hole", "min_feature"), features.check_small_features, False),
        (("overhang", "bridge"), overhang.check_overhangs, True),
    ),
    "cnc": (
        (("stock_size",), volume.check_stock_size, False),
        (("internal_corner",), cnc.check_internal_corners, False),
        (("undercut",), cnc.check_undercuts, True),
    ),
    "laser": (
        (("build_volume",), volume.check_build_volume, False),
        (("sheet_thickness", "not_a_plate"), laser.check_sheet, False),
        (("outline_open",), laser.check_outline, False),
        (("min_web",), laser.check_web, False),
    ),
}


def check_part(
    part: Part,
    machine: MachineProfile,
    material: MaterialProfile | None = None,
    process: str | None = None,
    *,
    settings: SliceSettings | None = None,
    tools: Sequence[ToolSpec | float] = (),
    stock: StockMaterial | None = None,
    overrides: Mapping[str, float] | None = None,
) -> Findings:
    """Every finding for ``part`` made on ``machine`` (with ``material``) by ``process``
    (default: the machine's). ``settings``, ``tools``, ``stock`` and ``overrides`` feed
    ``CheckLimits`` (see ``CheckLimits.from_profiles``).

    Raises ParamError for an unknown process; problems of the part are findings, never
    exceptions.
    """
    process = process or machine.process
    if process not in FAMILIES:
        raise ParamError(f"process='{process}'; allowed: {', '.join(PROCESSES)}")
    limits = CheckLimits.from_profiles(
        machine, material, settings=settings, tools=tools, stock=stock, overrides=overrides
    )
    items: list[Finding] = []
    rules: list[str] = list(integrity.RULES)
    items += integrity.check_integrity(part, machine, material, limits=limits)
    rules.append("material_process")
    items += _process_match(machine, material, process)
    sound = not any(f.rule in _BROKEN and f.severity == "error" for f in items)
    for names, rule, needs_sound in FAMILIES[process]:
        if needs_sound and not sound:
            items.append(
                Finding(
                    names[0],
                    "info",
                    f"{'/'.join(names)} not checked: the mesh is not a sound closed solid "
                    "(see the errors)",
                )
            )
            continue
        rules.extend(names)
        items += rule(part, machine, material, limits=limits)
    order = {"error": 0, "warning": 1, "info": 2}
    items.sort(key=lambda f: order[f.severity])  # stable: rule order within a severity
    return Findings(
        part=part.name,
        machine=machine.id,
        material=material.id if material else "",
        process=process,
        items=tuple(items),
        rules=tuple(rules),
    )


def _process_match(
    machine: MachineProfile, material: MaterialProfile | None, process: str
) -> list[Finding]:
    out = []
    if machine.process != process:
        out.append(
            Finding(
                "material_process",
                "warning",
                f"machine {machine.id} is a {machine.process} machine: the {process} rules "
                "use its size and defaults as stand-ins",
                fix=f"pick a {process} machine (fabthread profile list)",
            )
        )
    if material is not None and material.process != process:
        out.append(
            Finding(
                "material_process",
                "error",
                f"material {material.id} is for {material.process}, not {process}",
                fix=f"pick a {process} material (fabthread profile list)",
            )
        )
    return out
