"""A part or a mesh file -> a sliced FDM program for one machine and material.

    mesh file ──load──▶ Part ──turn, place (copies)──▶ slice ──▶ Toolpath
              ──emit(dialect, machine)──▶ G-code ──read back──▶ ProgramStats

``slice_mesh`` is the library call behind ``fabthread slice``; ``slice_and_emit`` is the FDM
step of an order (``pipeline.plan_order``). Kept apart from the order pipeline so that
slicing a mesh does not load designs, parameters, fits and bundles.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fabthread.errors import FitError, MeshError, OrderError, UserError
from fabthread.model.program import Program
from fabthread.model.settings import SliceSettings

if TYPE_CHECKING:
    from fabthread.model.part import Part
    from fabthread.model.profiles import MachineProfile, MaterialProfile
    from fabthread.model.toolpath import Toolpath

Progress = Callable[[int, int], None]
log = logging.getLogger("fabthread.slice_job")

#: Largest distance of a fitted G2/G3 arc from the polyline it replaces (when arc_fitting).
ARC_TOLERANCE_MM = 0.02
#: Gap between copies of a part on one bed (mm), room for the nozzle and a clean skirt.
COPY_SPACING_MM = 5.0


def resolve_settings(
    machine: MachineProfile, overrides: Mapping[str, object] | None = None, source: str = "order"
) -> SliceSettings:
    """Default slice settings, then the machine's defaults, then the order's or CLI overrides."""
    base = SliceSettings().with_overrides(dict(machine.defaults), source=machine.path or machine.id)
    return base.with_overrides(dict(overrides or {}), source=source)


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
        raise OrderError(color_message(color, material))
    settings = resolve_settings(machine, overrides, source="--set")
    part = load_mesh(Path(mesh_path), units=units)
    if len(part.faces) == 0:
        raise MeshError(f"{mesh_path}: the mesh has no triangles")
    if copies > 1:
        from fabthread.geom.place import place_on_bed

        placed = place_on_bed(part, machine.size_x_mm, machine.size_y_mm)
        fit = copies_per_run(placed, machine, copies)
        if fit < copies:
            raise FitError(
                f"{copies} copies of {Path(mesh_path).name} do not fit on {machine.id}; "
                f"at most {fit} fit with {COPY_SPACING_MM:g} mm spacing"
            )
    return slice_and_emit(
        part,
        machine,
        material,
        settings,
        job_id=Path(mesh_path).stem[:64] or "mesh",
        color=color,
        quantity=copies,
        progress=progress,
    )


def slice_and_emit(
    part: Part,
    machine: MachineProfile,
    material: MaterialProfile,
    settings: SliceSettings,
    *,
    job_id: str,
    design: str = "",
    color: str = "",
    quantity: int = 1,
    progress: Progress | None = None,
    body_tools: tuple[tuple[int, int, int], ...] = (),
) -> tuple[Toolpath, Program]:
    """Slice and emit an FDM part: turned to fit and placed on the bed (``quantity`` copies
    arranged, as many as fit), sliced, emitted for the machine's dialect and read back.
    ``job_id``, ``design`` and ``color`` name the job in the program's header. ``body_tools``:
    (first face, end face, tool) per body when the bodies print with different tools
    (per-body colours on a multi-tool machine)."""
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
    offsets = copy_offsets(placed, machine, quantity)
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
        ("order", job_id),
        ("design", design or "-"),
        ("machine", machine.id),
        ("material", material.id),
        ("color", color or "-"),
    ]
    fields = {"order_id": job_id, "color": color or "-"}
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


def copies_per_run(part: Part, machine: MachineProfile, quantity: int) -> int:
    """How many of ``quantity`` copies go on one bed (the rest are further runs)."""
    from fabthread.slice.arrange import max_copies, part_footprint

    fit = max_copies(
        part_footprint(part), machine.size_x_mm, machine.size_y_mm, spacing_mm=COPY_SPACING_MM
    )
    return max(1, min(quantity, fit))


def copy_offsets(
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


def color_message(color: str, material: MaterialProfile) -> str:
    """The error for a color that ``material`` does not list, with the ones it does."""
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


def format_duration(seconds: float) -> str:
    """``h:mm:ss`` for a duration in seconds."""
    if not math.isfinite(seconds) or seconds < 0:
        return "-"
    total = int(round(seconds))
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"
