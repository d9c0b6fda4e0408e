"""The one place where the stages of the thread are composed.

    Order ──customize──▶ ParamSet ──build──▶ Part ──place, slice──▶ Toolpath
          ──emit(dialect, machine)──▶ G-code ──read back──▶ ProgramStats ──pack──▶ Bundle

Library entry points for order systems: ``run_order`` (order -> verified job bundle),
``plan_order`` (everything up to the program, nothing written), ``slice_mesh`` (a mesh file
-> a program; from ``slice_job``, which also holds the FDM step of an order). Disk access
lives here and in ``cli/``; every stage called is pure.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from fabthread import __version__
from fabthread.errors import OrderError
from fabthread.model import (
    Bundle,
    Color,
    DesignSpec,
    MachineProfile,
    MaterialProfile,
    Order,
    ParamSet,
    Part,
    Program,
    SliceSettings,
    Toolpath,
    order_from_dict,
    order_to_dict,
)
from fabthread.model.fit import ResolvedFits
from fabthread.slice_job import (
    Progress,
    color_message,
    format_duration,
    resolve_settings,
    slice_and_emit,
)
from fabthread.slice_job import slice_mesh as slice_mesh  # the library call, re-exported

log = logging.getLogger("fabthread.pipeline")

#: Name of the G-code, model and report inside a bundle.
GCODE_NAME = "job.gcode"
MODEL_NAME = "model.3mf"
REPORT_NAME = "report.json"


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything resolved for one order, before anything is written."""

    order: Order
    spec: DesignSpec
    params: ParamSet
    fits: ResolvedFits
    machine: MachineProfile
    material: MaterialProfile
    settings: SliceSettings
    part: Part
    toolpath: Toolpath
    program: Program
    operations: tuple[object, ...] = ()  # CNC/laser operations; () for FDM
    colors: tuple[tuple[str, Color, int], ...] = ()  # (body, colour, tool) per body


def load_order(source: Order | Mapping[str, object] | str | os.PathLike[str]) -> Order:
    """An Order from an Order, a dict (parsed JSON) or the path of a JSON file."""
    if isinstance(source, Order):
        return source
    if isinstance(source, Mapping):
        return order_from_dict(dict(source))
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OrderError(f"order file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise OrderError(f"cannot read order file {path}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OrderError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return order_from_dict(data, source=str(path))


def plan_order(
    source: Order | Mapping[str, object] | str | os.PathLike[str],
    *,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> Plan:
    """Resolve, build, slice and emit one order. Nothing is written (but the build cache)."""
    from fabthread import profiles
    from fabthread.customize.fit import resolve_order_params
    from fabthread.design.build import build_part
    from fabthread.design.catalog import load_spec

    order = load_order(source)
    spec = load_spec(order.design)
    machine = profiles.load_machine(order.machine)
    material = profiles.load_material(order.material)
    _check_order_fits_profiles(order, spec, machine, material)
    params, fits = resolve_order_params(
        spec,
        order.params_dict(),
        machine,
        fit_choices=dict(order.fits),
        preset=order.preset,
        scale=order.scale,
        source=f"order {order.order_id}",
    )
    settings = resolve_settings(machine, dict(order.settings), source=f"order {order.order_id}")
    part = build_part(spec, params, cache_dir=cache_dir)
    colors = body_colors(order, spec, material, machine)
    part = replace(part, color_hex=colors[0][1].hex)
    if machine.process == "fdm":
        from fabthread.design.build import body_ranges

        ranges = {name: (start, end) for name, start, end in body_ranges(part)}
        body_tools = tuple((*ranges[b], tool) for b, _, tool in colors if b in ranges)
        toolpath, program = slice_and_emit(
            part,
            machine,
            material,
            settings,
            job_id=order.order_id,
            design=order.design,
            color=order.color,
            quantity=order.quantity,
            progress=progress,
            body_tools=body_tools,
        )
        ops: tuple[object, ...] = ()
    else:
        tool_changes = bool(profiles.load_dialect(machine.dialect).tool_change)
        ops = default_cam_ops(machine, tool_changes=tool_changes)
        toolpath, program = _cam_and_emit(part, machine, material, ops)
    return Plan(
        order,
        spec,
        params,
        fits,
        machine,
        material,
        settings,
        part,
        toolpath,
        program,
        ops,
        colors,
    )


def run_order(
    source: Order | Mapping[str, object] | str | os.PathLike[str],
    out_dir: str | os.PathLike[str] = "out",
    *,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> Bundle:
    """Turn one order into a verified job bundle ``<out_dir>/<order_id>.zip``.

    The same order gives a byte-identical bundle. Raises a ``UserError`` for any bad input
    before anything is written.
    """
    from fabthread.bundle.pack import pack_bundle
    from fabthread.bundle.verify import verify_bundle
    from fabthread.geom.mesh_export import threemf_bytes

    plan = plan_order(source, cache_dir=cache_dir, progress=progress)
    gcode = plan.program.text.encode("utf-8")
    model = threemf_bytes(
        plan.part,
        color_hex=plan.part.color_hex,
        name=plan.spec.name,
        face_colors=_face_colors(plan),
    )
    report = _report(plan)
    files = {
        GCODE_NAME: gcode,
        MODEL_NAME: model,
        REPORT_NAME: (json.dumps(report, indent=2, sort_keys=True) + "\n").encode("utf-8"),
    }
    out = Path(out_dir) / f"{plan.order.order_id}.zip"
    bundle = pack_bundle(files, _manifest(plan), out)
    check = verify_bundle(out)
    if not check.ok:  # pragma: no cover - pack and verify disagreeing is a bug
        from fabthread.errors import InternalError

        raise InternalError(f"bundle {out} failed its own verification: {check.problems}")
    return bundle


def body_colors(
    order: Order, spec: DesignSpec, material: MaterialProfile, machine: MachineProfile
) -> tuple[tuple[str, Color, int], ...]:
    """(body, colour, tool) for each body of ``spec``: the order's colour unless ``colors``
    names another for that body; each distinct colour gets its own tool, the order's first.
    A machine with fewer tools than colours is an OrderError."""
    bodies = spec.bodies
    chosen = dict(order.colors)
    unknown = sorted(set(chosen) - set(bodies))
    if unknown:
        allowed = ", ".join(bodies) or "none (the design has one body)"
        raise OrderError(
            f"order {order.order_id}: design {spec.name} has no body '{unknown[0]}'; "
            f"bodies: {allowed}"
        )
    names = [chosen.get(b, order.color) for b in bodies] or [order.color]
    for name in names:
        if name not in {c.name for c in material.colors}:
            raise OrderError(f"order {order.order_id}: {color_message(name, material)}")
    palette = list(dict.fromkeys([order.color, *names] if chosen else names))
    used = [c for c in palette if c in names]
    if len(used) > machine.extruder_count:
        raise OrderError(
            f"order {order.order_id}: bodies in {len(used)} colours ({', '.join(used)}) need a "
            f"machine with {len(used)} tools; {machine.id} has {machine.extruder_count}"
        )
    tool = {c: i for i, c in enumerate(used)}
    return tuple(
        (b, material.color(names[i]), tool[names[i]]) for i, b in enumerate(bodies or ("part",))
    )


def _face_colors(plan: Plan) -> tuple[tuple[int, int, str], ...]:
    """(first face, end face, colour hex) per body, for the 3MF model."""
    from fabthread.design.build import body_ranges

    hexes = {body: c.hex for body, c, _ in plan.colors}
    return tuple((s, e, hexes[b]) for b, s, e in body_ranges(plan.part) if b in hexes)


def default_cam_ops(machine: MachineProfile, tool_changes: bool) -> tuple[object, ...]:
    """The operations a CNC or laser order runs when the design names none.

    Laser: cut every contour (holes first, kerf outward). CNC: clear pockets, drill the
    holes that match the drill (only where the dialect can change tools), cut the through
    holes, then the outline with holding tabs, all with the 6 mm flat end mill.
    """
    from fabthread.model import cam as mc

    if machine.process == "laser":
        return (mc.LaserCutOp(),)
    ops: list[object] = [mc.PocketOp("flat_6mm")]
    if tool_changes:
        ops.append(mc.DrillOp("drill_5mm"))
    ops += [mc.ProfileOp("flat_6mm", side="inside"), mc.ProfileOp("flat_6mm", side="outside")]
    return tuple(ops)


def _cam_and_emit(
    part: Part, machine: MachineProfile, material: MaterialProfile, ops: tuple[object, ...]
) -> tuple[Toolpath, Program]:
    """CNC milling or laser cutting of ``part``: toolpath (cam/) and program (gcode/)."""
    from fabthread import profiles
    from fabthread.cam import cam_part
    from fabthread.gcode.cnc_emit import emit_cnc
    from fabthread.gcode.reader import read_gcode, summarize

    dialect = profiles.load_dialect(machine.dialect)
    tools = profiles.load_tools()
    stock = profiles.load_stock(material.id)
    toolpath = cam_part(part, machine, stock, tools, ops)  # type: ignore[arg-type]
    text = emit_cnc(toolpath, machine, dialect, tools)
    stats = summarize(
        read_gcode(text, source=f"{machine.id} program"),
        filament_diameter_mm=material.filament_diameter_mm,
        density_g_cm3=material.density_g_cm3,
        limits=machine.limits,
    )
    program = Program(text=text, dialect=dialect.name, machine=machine.id, stats=stats)
    return toolpath, program


def _check_order_fits_profiles(
    order: Order, spec: DesignSpec, machine: MachineProfile, material: MaterialProfile
) -> None:
    if machine.process not in spec.processes:
        raise OrderError(
            f"order {order.order_id}: design {spec.name} is made by "
            f"{', '.join(spec.processes)}; machine {machine.id} is {machine.process}"
        )
    if spec.materials and material.id not in spec.materials:
        raise OrderError(
            f"order {order.order_id}: material {material.id} is not allowed for design "
            f"{spec.name}; allowed: {', '.join(spec.materials)}"
        )
    if material.process != machine.process:
        raise OrderError(
            f"order {order.order_id}: material {material.id} is for {material.process}, "
            f"machine {machine.id} is {machine.process}"
        )
    if order.color not in {c.name for c in material.colors}:
        raise OrderError(f"order {order.order_id}: {color_message(order.color, material)}")


def _manifest(plan: Plan) -> dict[str, object]:
    stats = plan.program.stats
    per_run = max(1, len(plan.toolpath.object_names)) if plan.machine.process == "fdm" else 1
    runs = -(-plan.order.quantity // per_run)
    color = plan.material.color(plan.order.color)
    lo, hi = plan.part.bounds_mm
    return {
        "fabthread_version": __version__,
        "order": order_to_dict(plan.order),
        "design": {"name": plan.spec.name, "source_sha256": plan.spec.source_sha256},
        "params": plan.params.as_dict(),
        "scale": plan.params.scale,
        "fits": plan.fits.as_dict(),
        "fit_table_sha256": plan.fits.table_sha256,
        "part": {
            "build_sha256": plan.part.source_sha256,
            "triangles": int(len(plan.part.faces)),
            "volume_mm3": round(plan.part.volume_mm3, 3),
            "size_mm": [round(float(v), 3) for v in (hi - lo)],
        },
        "machine": {
            "id": plan.machine.id,
            "name": plan.machine.name,
            "process": plan.machine.process,
            "dialect": plan.machine.dialect,
            "profile_sha256": plan.machine.sha256,
        },
        "material": {"id": plan.material.id, "profile_sha256": plan.material.sha256},
        "color": {"name": color.name, "hex": color.hex},
        "body_colors": {
            body: {"name": c.name, "hex": c.hex, "tool": tool} for body, c, tool in plan.colors
        },
        "process": plan.machine.process,
        "settings": asdict(plan.settings) if plan.machine.process == "fdm" else {},
        "operations": [
            {"op": type(op).__name__, **asdict(op)}  # type: ignore[call-overload]
            for op in plan.operations
        ],
        "quantity": {"ordered": plan.order.quantity, "per_run": per_run, "runs": runs},
        "estimate": {
            "layers": stats.layers,
            "time_s": round(stats.time_s, 1),
            "filament_mm": round(stats.filament_mm, 1),
            "filament_g": round(stats.filament_g, 2),
            "total_time_s": round(stats.time_s * runs, 1),
            "total_filament_g": round(stats.filament_g * runs, 2),
        },
        "files_role": {GCODE_NAME: "program", MODEL_NAME: "model", REPORT_NAME: "report"},
    }


def _report(plan: Plan) -> dict[str, object]:
    """What a hub operator reads: the measured program next to the part."""
    stats = plan.program.stats
    part_volume = plan.part.volume_mm3
    extruded = plan.toolpath.extruded_mm3
    return {
        "order_id": plan.order.order_id,
        "program": asdict(stats),
        "part_volume_mm3": round(part_volume, 3),
        "extruded_volume_mm3": round(extruded, 3),
        "fill_ratio": round(extruded / part_volume, 4) if part_volume > 0 else None,
        "time_hms": format_duration(stats.time_s),
    }
