"""`fabthread slice MESH --machine M --material X -o out.gcode`."""

from __future__ import annotations

from pathlib import Path

import click

from fabthread.cli.output import emit_json, key_values
from fabthread.cli.progress import progress_bar


@click.command("slice")
@click.argument("mesh", type=click.Path(dir_okay=False))
@click.option("-m", "--machine", required=True, help="Machine profile id (fabthread profile list).")
@click.option("-M", "--material", required=True, help="Material profile id, e.g. pla.")
@click.option("--color", default="", help="Color name from the material's catalog.")
@click.option(
    "--units",
    default="mm",
    show_default=True,
    type=click.Choice(["mm", "cm", "m", "inch"]),
    help="Units of the mesh file.",
)
@click.option(
    "-n",
    "--copies",
    default=1,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Copies on the bed, arranged automatically and labelled for cancelling.",
)
@click.option(
    "-s",
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a slice setting, e.g. --set infill_density=0.4 (repeatable).",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="G-code file to write (written atomically).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the program stats as JSON.")
@click.pass_context
def slice_(
    ctx: click.Context,
    mesh: str,
    machine: str,
    material: str,
    color: str,
    units: str,
    copies: int,
    sets: tuple[str, ...],
    output: str,
    as_json: bool,
) -> None:
    """Slice MESH (STL, 3MF, OBJ) into G-code for one machine and material.

    \b
    Examples:
      fabthread slice part.stl -m prusa_mk4 -M pla -o part.gcode
      fabthread slice benchy.3mf -m voron24_350 -M petg --set infill_density=0.15 -o b.gcode
      fabthread slice bracket.stl -m duet3_corexy -M pla --units inch -o bracket.gcode
    """
    from dataclasses import asdict

    from fabthread.io_atomic import write_text_atomic
    from fabthread.slice_job import format_duration, slice_mesh

    if not Path(mesh).is_file():
        raise click.BadParameter(f"no such file: {mesh}", param_hint="MESH")
    with progress_bar(f"slicing {Path(mesh).name}", ctx.obj.get("quiet", False)) as prog:
        _toolpath, program = slice_mesh(
            mesh,
            machine,
            material,
            overrides=key_values(sets, "--set"),
            units=units,
            color=color,
            copies=copies,
            progress=prog,
        )
    write_text_atomic(output, program.text)
    stats = program.stats
    if as_json:
        emit_json({"output": output, **asdict(stats)})
    else:
        click.echo(
            f"{output}: {stats.layers} layers, {stats.filament_mm / 1000:.2f} m "
            f"({stats.filament_g:.1f} g) filament, {format_duration(stats.time_s)}"
        )
