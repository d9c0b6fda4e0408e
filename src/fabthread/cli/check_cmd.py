"""`fabthread check DESIGN|MESH --machine M`: manufacturability findings, or a range sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from fabthread.cli.output import emit_json, key_values, table
from fabthread.cli.progress import progress_bar

_MESH_SUFFIXES = (".stl", ".3mf", ".obj")


@click.command("check")
@click.argument("target", metavar="DESIGN|MESH")
@click.option("-m", "--machine", required=True, help="Machine profile id (fabthread profile list).")
@click.option("-M", "--material", default="", help="Material profile id, e.g. pla.")
@click.option(
    "--process",
    type=click.Choice(["fdm", "cnc", "laser"]),
    default=None,
    help="Rules to run (default: the machine's process).",
)
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Design parameter, e.g. -p width_mm=40 (repeatable; designs only).",
)
@click.option("--preset", default="", help="Start from a named preset of the design.")
@click.option(
    "--units",
    default="mm",
    show_default=True,
    type=click.Choice(["mm", "cm", "m", "inch"]),
    help="Units of the mesh file.",
)
@click.option(
    "--repair",
    is_flag=True,
    help="Check the mesh as the slicer sees it (holes filled, winding fixed) instead "
    "of as it is in the file.",
)
@click.option(
    "--tool",
    "tools",
    multiple=True,
    metavar="ID|DIAMETER_MM",
    help="CNC tool: a tool profile id or a diameter in mm (repeatable; the smallest end mill "
    "limits inside corners; default: every tool in profiles/tools).",
)
@click.option(
    "--limit",
    "limit_items",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a check limit, e.g. --limit max_bridge_mm=20 (repeatable).",
)
@click.option(
    "--sweep",
    is_flag=True,
    help="Design only: check across the parameter ranges and report which values break which rule.",
)
@click.option(
    "--samples",
    default=5,
    show_default=True,
    type=click.IntRange(1, 50),
    help="Values per parameter, and random combinations, for --sweep.",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=int,
    help="Seed of the random combinations of --sweep.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.pass_context
def check(
    ctx: click.Context,
    target: str,
    machine: str,
    material: str,
    process: str | None,
    params: tuple[str, ...],
    preset: str,
    units: str,
    repair: bool,
    tools: tuple[str, ...],
    limit_items: tuple[str, ...],
    sweep: bool,
    samples: int,
    seed: int,
    as_json: bool,
) -> None:
    """Check DESIGN (a design name) or MESH (STL, 3MF, OBJ file) against a machine: mesh
    integrity, build volume, walls, holes, overhangs and bridges (FDM), inside corners,
    undercuts and stock (CNC), sheet, outlines and webs (laser).

    Exit code 1 when a finding is an error (with --sweep: when the defaults have one).

    \b
    Examples:
      fabthread check wall_bracket -m prusa_mk4 -M pla -p thickness_mm=3
      fabthread check part.stl -m voron24_350 --units inch --json
      fabthread check enclosure -m prusa_mk4 --sweep --samples 4
    """
    from fabthread.check.run import check_part
    from fabthread.errors import UserError
    from fabthread.profiles import load_machine, load_material

    mach = load_machine(machine)
    mat = load_material(material) if material else None
    kind = process or mach.process
    tool_specs = _tools(tools) if kind == "cnc" else ()
    stock = None
    if mat is not None and kind in ("cnc", "laser") and mat.process == kind:
        from fabthread.profiles.loader import load_stock

        stock = load_stock(mat.id)
    overrides = {k: _number(k, v) for k, v in key_values(limit_items, "--limit").items()}
    quiet = bool(ctx.obj.get("quiet", False)) if ctx.obj else False
    path = Path(target)
    is_mesh = path.is_file() or path.suffix.lower() in _MESH_SUFFIXES or "/" in target
    if is_mesh:
        if sweep or params or preset:
            raise UserError(f"{target}: --sweep, -p and --preset apply to designs, not mesh files")
        part = _load_part(path, units, repair)
        findings = check_part(
            part, mach, mat, process, tools=tool_specs, stock=stock, overrides=overrides
        )
        _render(findings.to_dict(), as_json)
        ctx.exit(1 if findings.has_errors else 0)

    from fabthread.customize.params import resolve_params
    from fabthread.design.build import build_part
    from fabthread.design.catalog import load_spec

    spec = load_spec(target)
    raw = key_values(params, "-p")
    if sweep:
        from fabthread.check.sweep import sweep_design

        start = resolve_params(spec, raw, preset=preset)

        def build(values: dict[str, Any]):  # type: ignore[no-untyped-def]
            return build_part(spec, resolve_params(spec, values), cache_dir=_cache_dir())

        with progress_bar(f"sweeping {spec.name}", quiet) as prog:
            report = sweep_design(
                spec,
                build,
                mach,
                mat,
                process=process,
                samples=samples,
                seed=seed,
                tools=tool_specs,
                stock=stock,
                overrides=overrides,
                base=start.as_dict(),
                fixed=tuple(raw),
                progress=prog,
            )
        data = report.to_dict()
        if as_json:
            emit_json(data)
        else:
            _render_sweep(data)
        ctx.exit(1 if "error" in dict(report.baseline).values() else 0)

    resolved = resolve_params(spec, raw, preset=preset)
    part = build_part(spec, resolved, cache_dir=_cache_dir())
    findings = check_part(
        part, mach, mat, process, tools=tool_specs, stock=stock, overrides=overrides
    )
    data = findings.to_dict()
    data["params"] = resolved.as_dict()
    _render(data, as_json)
    ctx.exit(1 if findings.has_errors else 0)


def _tools(items: tuple[str, ...]) -> tuple[Any, ...]:
    """Tool profiles by id, or plain diameters (mm); every tool profile when none is given."""
    from fabthread.errors import ParamError
    from fabthread.profiles.loader import load_tool, load_tools

    if not items:
        return load_tools().tools
    out: list[Any] = []
    for item in items:
        try:
            diameter = float(item)
        except ValueError:
            out.append(load_tool(item))
            continue
        if not diameter > 0:
            raise ParamError(f"--tool {item}: a diameter must be > 0 mm")
        out.append(diameter)
    return tuple(out)


def _number(key: str, value: str) -> float:
    from fabthread.errors import ParamError

    try:
        return float(value)
    except ValueError:
        raise ParamError(f"--limit {key}={value!r} is not a number") from None


def _load_part(path: Path, units: str, repair: bool):  # type: ignore[no-untyped-def]
    """The mesh at ``path`` in mm: as the slicer sees it (``repair``) or as it is."""
    from fabthread.geom.mesh_io import load_mesh

    if repair:
        return load_mesh(path, units=units)
    import hashlib
    import io

    import numpy as np
    import trimesh

    from fabthread.errors import MeshError
    from fabthread.geom.mesh_io import UNIT_SCALE
    from fabthread.model.part import Part

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MeshError(f"mesh file not found: {path}") from None
    except OSError as exc:
        raise MeshError(f"cannot read mesh file {path}: {exc}") from None
    kind = path.suffix.lower().lstrip(".")
    if "." + kind not in _MESH_SUFFIXES:
        raise MeshError(f"{path}: unknown mesh format '.{kind}'; allowed: .stl, .3mf, .obj")
    try:
        mesh = trimesh.load(io.BytesIO(data), file_type=kind, force="mesh", process=False)
    except Exception as exc:  # noqa: BLE001 - trimesh raises many types on bad input
        raise MeshError(f"{path}: cannot read as {kind.upper()}: {exc}") from None
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise MeshError(f"{path}: the mesh has no triangles")
    if not np.all(np.isfinite(mesh.vertices)):
        raise MeshError(f"{path}: the mesh has non-finite vertex coordinates")
    mesh.merge_vertices()
    return Part(
        name=path.stem,
        vertices_mm=np.asarray(mesh.vertices) * UNIT_SCALE[units],
        faces=mesh.faces,
        source_sha256=hashlib.sha256(data).hexdigest(),
        meta=(("units", units), ("source", path.name)),
    )


def _render(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(data)
        return
    counts = data["counts"]
    material = f" / {data['material']}" if data["material"] else ""
    click.echo(
        f"{data['part']} on {data['machine']}{material} ({data['process']}): "
        f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} notes"
    )
    if not data["findings"]:
        click.echo(f"no findings ({len(data['rules'])} rules checked)")
        return
    rows = []
    for f in data["findings"]:
        where = ""
        if f["location"]:
            where = "(" + ", ".join(f"{c:.1f}" for c in f["location"][0]) + ")"
        rows.append(
            [
                f["severity"],
                f["rule"],
                _num(f["measured"]),
                _num(f["limit"]),
                f["unit"],
                where,
                f["message"],
            ]
        )
    click.echo(table(("severity", "rule", "measured", "limit", "unit", "at", "message"), rows))
    fixes = [
        (f["rule"], f["fix"]) for f in data["findings"] if f["fix"] and f["severity"] != "info"
    ]
    if fixes:
        click.echo("\nfix:")
        for rule, fix in dict(fixes).items():
            click.echo(f"  {rule}: {fix}")


def _render_sweep(data: dict[str, Any]) -> None:
    counts = data["counts"]
    click.echo(
        f"{data['design']} on {data['machine']} ({data['process']}): {counts['checked']} "
        f"checked, {counts['skipped']} skipped (constraints), {counts['build_failed']} failed "
        f"to build; {data['samples']} samples, seed {data['seed']}"
    )
    baseline = data["baseline"]
    click.echo(
        "at the defaults: "
        + (
            ", ".join(f"{r} ({s})" for r, s in baseline.items())
            if baseline
            else "no errors or warnings"
        )
    )
    if data["breaks"]:
        click.echo("\nbreaks:")
        for b in data["breaks"]:
            click.echo(f"  {b['summary']}")
    else:
        click.echo("no parameter value breaks a rule that passes at the defaults")
    odd = [
        c
        for c in data["cases"]
        if c["varied"] == "*" and c["status"] == "checked" and set(c["failing"]) - set(baseline)
    ]
    if odd:
        click.echo("\nrandom combinations that break rules:")
        for c in odd:
            values = ", ".join(f"{k}={v}" for k, v in c["params"].items())
            rules = ", ".join(f"{r} ({s})" for r, s in c["failing"].items() if r not in baseline)
            click.echo(f"  {values}: {rules}")
    failed = [c for c in data["cases"] if c["status"] == "build_failed"]
    for c in failed:
        click.echo(f"build failed ({c['varied']}): {c['reason']}")


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:.4g}"


def _cache_dir() -> Path:
    """The build cache (``FABTHREAD_CACHE`` or ``~/.cache/fabthread``), as `fabthread make`."""
    import os

    env = os.environ.get("FABTHREAD_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "fabthread"


__all__ = ["check"]
