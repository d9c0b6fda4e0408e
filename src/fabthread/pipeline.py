"""The one place where the stages of the thread are composed.

    Order ──customize──▶ ParamSet ──build──▶ Part ──place, slice──▶ Toolpath
          ──emit(dialect, machine)──▶ G-code ──read back──▶ ProgramStats ──pack──▶ Bundle

Library entry points for order systems: ``run_order`` (order -> verified job bundle),
``plan_order`` (everything up to the program, nothing written), ``slice_mesh`` (a mesh file
-> a program). Disk access lives here and in ``cli/``; every stage called is pure.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from fabthread import __version__
from fabthread.errors import FitError, MeshError, OrderError, UserError
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

Progress = Callable[[int, int], None]
log = logging.getLogger("fabthread.pipeline")

#: Name of the G-code, model and report inside a bundle.
GCODE_NAME = "job.gcode"
MODEL_NAME = "model.3mf"
REPORT_NAME = "report.json"
#: Largest distance of a fitted G2/G3 arc from the polyline it replaces (when arc_fitting).
ARC_TOLERANCE_MM = 0.02


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


def resolve_settings(
    machine: MachineProfile, overrides: Mapping[str, object] | None = None, source: str = "order"
) -> SliceSettings:
    """Default slice settings, then the machine's defaults, then the order's or CLI overrides."""
    base = SliceSettings().with_overrides(dict(machine.defaults), source=machine.path or machine.id)
    return base.with_overrides(dict(overrides or {}), source=source)


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
        toolpath, program = _slice_and_emit(
            part,
            machine,
            material,
            settings,
            order=order,
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


def slice_mesh(
    mesh_path: str | os.PathLike[str],
    machine_id: str,
    material_id: str,
    *,
    overrides: Mapping[str, object] | None = None,
    units: str = "mm",
    color: str = "",
    copies: int = 1,
    progress: Progress | None = None,
) -> tuple[Toolpath, Program]:
    """Slice a mesh file (STL, 3MF, OBJ) for a machine and material; nothing is written.

    ``copies`` > 1 arranges that many copies on the bed (FitError when they do not fit)."""
    from fabthread import profiles
    from fabthread.geom.mesh_io import load_mesh

    machine = profiles.load_machine(machine_id)
    material = profiles.load_material(material_id)
    if machine.process != "fdm":
        raise UserError(f"machine {machine.id} is a {machine.process} machine; slicing needs fdm")
    if material.process != machine.process:
        raise UserError(
            f"material {material.id} is for {material.process}, machine {machine.id} is "
            f"{machine.process}"
        )
    if color and color not in {c.name for c in material.colors}:
        raise OrderError(_color_message(color, material))
    settings = resolve_settings(machine, overrides, source="--set")
    part = load_mesh(Path(mesh_path), units=units)
    if len(part.faces) == 0:
        raise MeshError(f"{mesh_path}: the mesh has no triangles")
    fake = Order(
        order_id=Path(mesh_path).stem[:64] or "mesh",
        design="",
        machine=machine.id,
        material=material.id,
        color=color,
        quantity=copies,
    )
    if copies > 1:
        from fabthread.geom.place import place_on_bed

        placed = place_on_bed(part, machine.size_x_mm, machine.size_y_mm)
        fit = copies_per_run(placed, machine, copies)
        if fit < copies:
            raise FitError(
                f"{copies} copies of {Path(mesh_path).name} do not fit on {machine.id}; "
                f"at most {fit} fit with {COPY_SPACING_MM:g} mm spacing"
            )
    return _slice_and_emit(part, machine, material, settings, order=fake, progress=progress)


def _slice_and_emit(
    part: Part,
    machine: MachineProfile,
    material: MaterialProfile,
    settings: SliceSettings,
    *,
    order: Order,
    progress: Progress | None,
    body_tools: tuple[tuple[int, int, int], ...] = (),
) -> tuple[Toolpath, Program]:
    """Slice and emit an FDM part. ``body_tools``: (first face, end face, tool) per body when
    the bodies print with different tools (per-body colours on a multi-tool machine)."""
    from fabthread import profiles
    from fabthread.gcode.emit import emit_program
    from fabthread.gcode.reader import summarize
    from fabthread.geom.place import place_on_bed, turn_to_fit
    from fabthread.slice.slicer import slice_part

    # Room around the part for the skirt (or brim); a part that only fits without it is
    # turned to fit and printed without a skirt rather than refused.
    margin = settings.brim_width_mm
    if settings.skirt_loops > 0:
        margin = max(margin, settings.skirt_distance_mm) + (
            settings.skirt_loops * settings.first_layer_width_mm
        )
    bed_x, bed_y = machine.size_x_mm, machine.size_y_mm
    turned = turn_to_fit(part, bed_x - 2 * margin, bed_y - 2 * margin)
    if turned is part and not _fits_xy(part, bed_x - 2 * margin, bed_y - 2 * margin):
        turned = turn_to_fit(
            part, bed_x - 2 * settings.brim_width_mm, bed_y - 2 * settings.brim_width_mm
        )
        if turned is not part and settings.skirt_loops > 0:
            log.warning(
                "part %s fits %s only without a skirt: skirt dropped", part.name, machine.id
            )
            settings = replace(settings, skirt_loops=0)
    placed = place_on_bed(turned, bed_x, bed_y)
    _check_fits(placed, machine)
    retraction = material.retraction or machine.retraction
    offsets = _copy_offsets(placed, machine, order.quantity)
    toolpath = slice_part(
        placed,
        settings,
        retract_min_travel_mm=retraction.min_travel_mm,
        progress=progress,
        copies=offsets,
    )
    if len({tool for _, _, tool in body_tools}) > 1:
        toolpath = _assign_body_tools(toolpath, placed, body_tools, offsets or ((0.0, 0.0),))
    dialect = profiles.load_dialect(machine.dialect)
    header = [
        ("order", order.order_id),
        ("design", order.design or "-"),
        ("machine", machine.id),
        ("material", material.id),
        ("color", order.color or "-"),
    ]
    fields = {"order_id": order.order_id, "color": order.color or "-"}
    emitted = emit_program(
        toolpath,
        machine,
        material,
        dialect,
        fields=fields,
        header=header,
        arc_tolerance_mm=ARC_TOLERANCE_MM if settings.arc_fitting else 0.0,
        fan_full_below_s=settings.min_layer_time_s,
    )
    # the emitter has read its program back already (less the M73 and fan lines, which do
    # not move): the stats are the reader's
    stats = summarize(
        emitted.moves,
        filament_diameter_mm=material.filament_diameter_mm,
        density_g_cm3=material.density_g_cm3,
        limits=machine.limits,
        move_s=emitted.move_s,
    )
    program = Program(text=emitted.text, dialect=dialect.name, machine=machine.id, stats=stats)
    return toolpath, program


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
            raise OrderError(f"order {order.order_id}: {_color_message(name, material)}")
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


def _assign_body_tools(
    toolpath: Toolpath,
    placed: Part,
    body_tools: tuple[tuple[int, int, int], ...],
    offsets: tuple[tuple[float, float], ...],
) -> Toolpath:
    """Each body's moves (in every copy) with its tool; footprints are XY convex hulls."""
    import shapely

    from fabthread.slice.tools import assign_tools

    footprints, tools = [], []
    for dx, dy in offsets:
        for start, end, tool in body_tools:
            xy = placed.vertices_mm[np.unique(placed.faces[start:end])][:, :2] + (dx, dy)
            footprints.append(shapely.convex_hull(shapely.multipoints(xy)))
            tools.append(tool)
    return assign_tools(toolpath, footprints, tools)


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


#: Gap between copies of a part on one bed (mm), room for the nozzle and a clean skirt.
COPY_SPACING_MM = 5.0


def copies_per_run(part: Part, machine: MachineProfile, quantity: int) -> int:
    """How many of ``quantity`` copies go on one bed (the rest are further runs)."""
    from fabthread.slice.arrange import max_copies, part_footprint

    fit = max_copies(
        part_footprint(part), machine.size_x_mm, machine.size_y_mm, spacing_mm=COPY_SPACING_MM
    )
    return max(1, min(quantity, fit))


def _copy_offsets(
    part: Part, machine: MachineProfile, quantity: int
) -> tuple[tuple[float, float], ...]:
    """(dx, dy) offsets of the copies on one bed; () for a single copy."""
    from fabthread.slice.arrange import arrange_copies, part_footprint

    if quantity <= 1:  # no footprint needed (it projects every triangle: 0.1 s on Benchy)
        return ()
    n = copies_per_run(part, machine, quantity)
    if n <= 1:
        return ()
    footprint = part_footprint(part)
    offsets = arrange_copies(
        footprint, n, machine.size_x_mm, machine.size_y_mm, spacing_mm=COPY_SPACING_MM
    )
    return tuple(offsets)


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
        raise OrderError(f"order {order.order_id}: {_color_message(order.color, material)}")


def _color_message(color: str, material: MaterialProfile) -> str:
    names = ", ".join(c.name for c in material.colors)
    return f"color '{color}' is not available for material {material.id}; available: {names}"


def _fits_xy(part: Part, size_x: float, size_y: float) -> bool:
    lo, hi = part.bounds_mm
    return bool(hi[0] - lo[0] <= size_x + 1e-6 and hi[1] - lo[1] <= size_y + 1e-6)


def _check_fits(part: Part, machine: MachineProfile) -> None:
    lo, hi = part.bounds_mm
    size = hi - lo
    limits = (machine.size_x_mm, machine.size_y_mm, machine.size_z_mm)
    for axis, got, room in zip("XYZ", size, limits, strict=True):
        if got > room + 1e-6 or (axis != "Z" and (lo["XYZ".index(axis)] < -1e-6)):
            raise FitError(
                f"part {part.name} is {size[0]:.1f} x {size[1]:.1f} x {size[2]:.1f} mm; it does "
                f"not fit machine {machine.id} ({limits[0]:g} x {limits[1]:g} x {limits[2]:g} mm)"
                f" along {axis}"
            )


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


def format_duration(seconds: float) -> str:
    """``h:mm:ss`` for a duration in seconds."""
    if not math.isfinite(seconds) or seconds < 0:
        return "-"
    total = int(round(seconds))
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"
