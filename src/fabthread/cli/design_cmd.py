"""`fabthread design ...` commands: list, show (configurator JSON) and build (STEP/STL/3MF)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import click

from fabthread.cli.output import emit_json, key_values, table

#: OpenSCAD customizer types for our parameter types (``kind`` keeps ours).
_OPENSCAD_TYPE = {
    "float": "number",
    "int": "number",
    "bool": "boolean",
    "choice": "string",
    "string": "string",
}


@click.group()
def design() -> None:
    """Parametric designs: designs/<name>/design.toml (parameters) + design.py (CadQuery).

    \b
    Examples:
      fabthread design list
      fabthread design show enclosure --json
      fabthread design build wall_bracket -p width_mm=40 -p holes_per_arm=3 -o bracket.step
    """


@design.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the designs as JSON.")
def list_(as_json: bool) -> None:
    """List the designs: name, title, processes and number of parameters.

    \b
    Examples:
      fabthread design list
      fabthread design list --json
    """
    from fabthread.design.catalog import list_designs

    rows: list[dict[str, Any]] = [
        {
            "name": s.name,
            "title": s.title,
            "processes": list(s.processes),
            "materials": list(s.materials),
            "parameters": len(s.params),
            "presets": [name for name, _ in s.presets],
            "source_sha256": s.source_sha256,
        }
        for s in list_designs()
    ]
    if as_json:
        emit_json(rows)
        return
    click.echo(
        table(
            ("name", "title", "processes", "params", "presets"),
            [
                [
                    r["name"],
                    r["title"],
                    ",".join(r["processes"]),
                    r["parameters"],
                    ",".join(r["presets"]) or "-",
                ]
                for r in rows
            ],
        )
    )


@design.command("show")
@click.argument("name")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the parameter schema as JSON (OpenSCAD-customizer compatible).",
)
def show(name: str, as_json: bool) -> None:
    """Show a design's parameters, constraints and presets.

    With --json the output is a superset of the OpenSCAD customizer parameter JSON
    ("parameters" with name/type/initial/caption/min/max/step/options/group, and
    "parameterSets"), so an online configurator can render the form.

    \b
    Examples:
      fabthread design show wall_bracket
      fabthread design show cable_clip --json
    """
    from fabthread.design.catalog import load_spec

    data = schema_json(load_spec(name))
    if as_json:
        emit_json(data)
        return
    click.echo(f"{data['title']} ({data['name']})")
    click.echo(data["description"])
    click.echo(
        f"processes: {', '.join(data['processes'])}; materials: "
        f"{', '.join(data['materials']) or 'any'}"
    )
    click.echo("")
    rows = []
    for p in data["parameters"]:
        if p["kind"] in ("float", "int"):
            allowed = f"{p['min']:g}..{p['max']:g}" + (
                f" step {p['step']:g}" if "step" in p else ""
            )
        elif p["kind"] == "choice":
            allowed = "|".join(o["value"] for o in p["options"])
        elif p["kind"] == "bool":
            allowed = "true|false"
        else:
            allowed = "text"
        rows.append([p["name"], p["kind"], _fmt(p["initial"]), allowed, p["unit"], p["caption"]])
    click.echo(table(("parameter", "type", "default", "allowed", "unit", "description"), rows))
    if data["constraints"]:
        click.echo("\nconstraints")
        for c in data["constraints"]:
            click.echo(f"  {c['expr']}" + (f"  ({c['message']})" if c["message"] else ""))
    if data["parameterSets"]:
        click.echo("\npresets (--preset NAME)")
        for preset, values in data["parameterSets"].items():
            click.echo(f"  {preset}: " + ", ".join(f"{k}={_fmt(v)}" for k, v in values.items()))


@design.command("build")
@click.argument("name")
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set a parameter, e.g. -p width_mm=40 (repeatable).",
)
@click.option("--preset", default="", help="Start from a named preset of the design.")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="File to write: .step/.stp, .stl or .3mf (written atomically).",
)
@click.option("--color", default="", metavar="#RRGGBB", help="Display color for .3mf output.")
@click.option(
    "--timeout",
    "timeout_s",
    default=120.0,
    show_default=True,
    type=float,
    help="Stop a build that takes longer (seconds).",
)
@click.option("--no-cache", is_flag=True, help="Rebuild even when the build cache has it.")
@click.option("--json", "as_json", is_flag=True, help="Print a summary as JSON.")
def build(
    name: str,
    params: tuple[str, ...],
    preset: str,
    output: str,
    color: str,
    timeout_s: float,
    no_cache: bool,
    as_json: bool,
) -> None:
    """Build design NAME with parameters and write it as STEP, STL or 3MF.

    Unset parameters take the preset's or the design's defaults. Out-of-range values are
    refused, never clamped.

    \b
    Examples:
      fabthread design build wall_bracket -p width_mm=40 -o bracket.step
      fabthread design build enclosure --preset pi_zero -p lip_clearance_mm=0.25 -o box.3mf
      fabthread design build cable_clip -p cable_d_mm=8 -p tabs=one -o clip.stl --json
    """
    from fabthread.customize.params import resolve_params
    from fabthread.design.catalog import load_spec
    from fabthread.design.export import check_suffix, export
    from fabthread.errors import UserError

    check_suffix(output)
    if color:
        from fabthread.geom.mesh_export import normalize_color

        try:
            color = normalize_color(color)
        except ValueError as exc:
            raise UserError(f"--color: {exc}") from None
    spec = load_spec(name)
    resolved = resolve_params(spec, key_values(params, "-p"), preset=preset)
    t0 = time.perf_counter()
    part = export(
        spec,
        resolved,
        output,
        cache_dir=None if no_cache else _cache_dir(),
        timeout_s=timeout_s,
        color_hex=color,
    )
    summary: dict[str, Any] = {
        "design": spec.name,
        "output": output,
        "bytes": os.path.getsize(output),
        "seconds": round(time.perf_counter() - t0, 3),
        "params": resolved.as_dict(),
    }
    if part is not None:
        lo, hi = part.bounds_mm
        summary["triangles"] = int(len(part.faces))
        summary["volume_mm3"] = round(part.volume_mm3, 3)
        summary["size_mm"] = [round(float(v), 3) for v in hi - lo]
        summary["build_sha256"] = part.source_sha256
    if as_json:
        emit_json(summary)
        return
    extra = ""
    if part is not None:
        size = " x ".join(f"{v:g}" for v in summary["size_mm"])
        extra = f", {summary['triangles']} triangles, {size} mm, {summary['volume_mm3']:g} mm3"
    click.echo(f"{output}: {spec.name}{extra} ({summary['seconds']:.2f} s)")




def schema_json(spec: Any) -> dict[str, Any]:
    """The configurator JSON of a DesignSpec (stable keys; see ``show --json``).

    Beyond the OpenSCAD keys: "scale" (min/max of the uniform scale an order may set),
    "fits" (per fit: the feature parameter, kind, default class and the classes an order may
    choose, with their nominal clearance or ISO zones), "bodies" (colorable parts),
    "processes" and "materials".
    """
    from fabthread.customize.fit import allowed_classes, load_fit_table

    table = load_fit_table() if spec.fits else None
    fits = []
    for f in spec.fits:
        assert table is not None
        known: tuple[Any, ...] = (*table.clearance, *table.iso)
        by_name: dict[str, Any] = {c.name: c for c in known}
        classes = []
        for name in allowed_classes(f, table):
            c = by_name.get(name)
            if c is None:
                continue
            cls: Any = c
            item: dict[str, Any] = {"name": name, "description": cls.description}
            if hasattr(cls, "clearance_mm"):
                item["clearance_mm"] = cls.clearance_mm
            else:
                item["hole_zone"], item["shaft_zone"] = cls.hole, cls.shaft
            classes.append(item)
        fits.append(
            {
                "name": f.name,
                "feature": f.feature,
                "kind": f.kind,
                "nominal": f.nominal,
                "default": f.default_class,
                "description": f.description,
                "classes": classes,
            }
        )
    parameters = []
    for p in spec.params:
        entry: dict[str, Any] = {
            "name": p.name,
            "type": _OPENSCAD_TYPE[p.type],
            "kind": p.type,
            "initial": p.default,
            "caption": p.description,
            "group": p.group,
            "unit": p.unit,
        }
        if p.type in ("float", "int"):
            entry["min"] = p.minimum
            entry["max"] = p.maximum
            if p.step:
                entry["step"] = p.step
        if p.type == "choice":
            entry["options"] = [{"name": c, "value": c} for c in p.choices]
        parameters.append(entry)
    return {
        "name": spec.name,
        "title": spec.title,
        "description": spec.description,
        "processes": list(spec.processes),
        "materials": list(spec.materials),
        "source_sha256": spec.source_sha256,
        "parameters": parameters,
        "constraints": [{"expr": c.expr, "message": c.message} for c in spec.constraints],
        "parameterSets": {name: dict(values) for name, values in spec.presets},
        "scale": {"min": spec.scale.minimum, "max": spec.scale.maximum, "initial": 1.0},
        "fits": fits,
        "bodies": list(spec.bodies),
        "fileFormatVersion": "1",
    }


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _cache_dir() -> Path:
    """The build cache (``FABTHREAD_CACHE`` or ``~/.cache/fabthread``), as `fabthread make`."""
    env = os.environ.get("FABTHREAD_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "fabthread"


__all__ = ["design", "schema_json"]
