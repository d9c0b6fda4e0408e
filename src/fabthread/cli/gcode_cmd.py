"""`fabthread gcode ...` commands: inspect G-code files."""

from __future__ import annotations

from pathlib import Path

import click

from fabthread.cli.output import emit_json

#: Filament assumed when no --material is given (generic PLA).
DEFAULT_FILAMENT_DIAMETER_MM = 1.75
DEFAULT_DENSITY_G_CM3 = 1.24


@click.group()
def gcode() -> None:
    """Inspect G-code: layers, bounds, filament and time, measured by reading it back."""


@gcode.command("info")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "-m",
    "--machine",
    default=None,
    help="Machine profile id: its motion limits time the moves (default: generic limits).",
)
@click.option(
    "-M",
    "--material",
    default=None,
    help="Material profile id: its filament diameter and density (default: 1.75 mm, 1.24 g/cm³).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the measurements as JSON.")
def info(file: str, machine: str | None, material: str | None, as_json: bool) -> None:
    """Measure FILE: layers, bounds of the extruded part, max feed, filament, estimated time.

    \b
    Examples:
      fabthread gcode info part.gcode
      fabthread gcode info part.gcode -m prusa_mk4 -M petg
      fabthread gcode info part.gcode --json
    """
    from fabthread.gcode.estimate import GENERIC_LIMITS
    from fabthread.gcode.reader import read_gcode, retraction_count, summarize
    from fabthread.slice_job import format_duration

    text = _read_text(Path(file))
    assumed: list[str] = []
    limits = GENERIC_LIMITS
    diameter, density = DEFAULT_FILAMENT_DIAMETER_MM, DEFAULT_DENSITY_G_CM3
    if machine or material:
        from fabthread import profiles

        if machine:
            m = profiles.load_machine(machine)
            limits = m.limits
            diameter = m.filament_diameter_mm
        if material:
            mat = profiles.load_material(material)
            diameter, density = mat.filament_diameter_mm, mat.density_g_cm3
    if not machine:
        assumed.append("generic motion limits (pass --machine for the machine's)")
    if not material:
        assumed.append(
            f"filament {diameter:g} mm, {density:g} g/cm³ (pass --material for the material's)"
        )
    moves = read_gcode(text, source=file)
    stats = summarize(moves, filament_diameter_mm=diameter, density_g_cm3=density, limits=limits)
    overall = moves.bounds()
    data = {
        "file": file,
        "layers": stats.layers,
        "moves": stats.moves,
        "retractions": retraction_count(moves),
        "min_xyz_mm": list(stats.min_xyz_mm),
        "max_xyz_mm": list(stats.max_xyz_mm),
        "all_min_xyz_mm": list(overall[0]) if overall else None,
        "all_max_xyz_mm": list(overall[1]) if overall else None,
        "max_feed_mm_min": stats.max_feed_mm_min,
        "filament_mm": round(stats.filament_mm, 3),
        "filament_g": round(stats.filament_g, 3),
        "time_s": round(stats.time_s, 1),
        "time_hms": format_duration(stats.time_s),
        "machine": machine,
        "material": material,
        "assumed": assumed,
    }
    if as_json:
        emit_json(data)
        return
    lo, hi = stats.min_xyz_mm, stats.max_xyz_mm
    rows = [
        ("layers", str(stats.layers)),
        ("moves", f"{stats.moves} ({data['retractions']} retractions)"),
        (
            "part bounds",
            " ".join(f"{a} {lo[i]:.3f}..{hi[i]:.3f}" for i, a in enumerate("XYZ")) + " mm",
        ),
        ("max feed", f"{stats.max_feed_mm_min:g} mm/min"),
        ("filament", f"{stats.filament_mm / 1000:.3f} m, {stats.filament_g:.2f} g"),
        ("time", data["time_hms"]),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        click.echo(f"{key.ljust(width)}  {value}")
    for note in assumed:
        click.echo(f"note: assumed {note}", err=True)


def _read_text(path: Path) -> str:
    from fabthread.errors import GcodeError

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise GcodeError(f"G-code file not found: {path}") from None
    except IsADirectoryError:
        raise GcodeError(f"{path} is a folder, not a G-code file") from None
    except OSError as exc:
        raise GcodeError(f"cannot read G-code file {path}: {exc.strerror or exc}") from None
    if b"\x00" in raw[:65536]:
        raise GcodeError(f"{path} is not a text G-code file (binary data; .bgcode is not read)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # comments in a legacy encoding; the codes are ASCII
