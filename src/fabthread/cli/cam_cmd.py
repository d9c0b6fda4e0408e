"""`fabthread cam MESH --machine M --material X --op profile ... -o out.nc`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from fabthread.cli.output import emit_json

if TYPE_CHECKING:
    from fabthread.model.cam import EngraveOp

OPS = ("face", "profile", "pocket", "drill", "finish", "laser-cut", "engrave")
_DEFAULT_TOOL = {
    "face": "flat_6mm",
    "profile": "flat_6mm",
    "pocket": "flat_6mm",
    "drill": "drill_5mm",
    "finish": "ball_6mm",
}


@click.command("cam")
@click.argument("mesh", type=click.Path(dir_okay=False))
@click.option("-m", "--machine", required=True, help="cnc or laser machine profile id.")
@click.option("-M", "--material", required=True, help="Stock/sheet material id, e.g. hdpe.")
@click.option(
    "--op",
    "ops",
    multiple=True,
    required=True,
    type=click.Choice(OPS),
    help="Operation, in order (repeatable).",
)
@click.option(
    "-t",
    "--tool",
    "tool_ids",
    multiple=True,
    metavar="OP=TOOL",
    help="Tool for an operation, e.g. -t pocket=flat_3mm (default: flat_6mm, drill_5mm, ball_6mm).",
)
@click.option(
    "--units",
    default="mm",
    show_default=True,
    type=click.Choice(["mm", "cm", "m", "inch"]),
    help="Units of the mesh file.",
)
@click.option(
    "--side",
    default="outside",
    type=click.Choice(["outside", "inside"]),
    show_default=True,
    help="Profile side.",
)
@click.option("--tabs", default=4, show_default=True, help="Holding tabs per outside contour.")
@click.option(
    "--pattern",
    default="offset",
    type=click.Choice(["offset", "zigzag"]),
    show_default=True,
    help="Pocket pattern.",
)
@click.option("--stepover", type=float, default=0.0, help="Finish stepover in mm (0: tool's).")
@click.option("--angle", type=float, default=0.0, help="Finish raster angle in degrees.")
@click.option("--leave", type=float, default=0.0, help="Stock to leave in mm.")
@click.option(
    "--image",
    type=click.Path(dir_okay=False),
    help="Image to engrave with --op engrave: PNG (8-bit), PGM or .npy (darkness 0..1).",
)
@click.option("--dpi", type=float, default=None, help="Engrave resolution in dots per inch.")
@click.option(
    "--px-mm", type=float, default=None, help="Engrave pixel size and line spacing in mm (0.1)."
)
@click.option(
    "--width-mm",
    type=float,
    default=0.0,
    help="Engrave width in mm: the image is resampled to it (0: one image pixel per --px-mm).",
)
@click.option(
    "--split-tools",
    is_flag=True,
    help="Write one file per tool (out.T1.nc ...) for dialects without M6 (GRBL).",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="G-code file to write (written atomically).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def cam(
    mesh: str,
    machine: str,
    material: str,
    ops: tuple[str, ...],
    tool_ids: tuple[str, ...],
    units: str,
    side: str,
    tabs: int,
    pattern: str,
    stepover: float,
    angle: float,
    leave: float,
    image: str | None,
    dpi: float | None,
    px_mm: float | None,
    width_mm: float,
    split_tools: bool,
    output: str,
    as_json: bool,
) -> None:
    """Mill or laser-cut MESH (STL, 3MF, OBJ): toolpaths and G-code for one machine.

    \b
    Examples:
      fabthread cam pocket.stl --units m -m shapeoko4_xl -M hdpe --op pocket --op profile \\
          --split-tools -o pocket.nc
      fabthread cam riser.stl --units inch -m linuxcnc_mill -M aluminium_6061 \\
          --op profile --op drill -o riser.ngc
      fabthread cam plate.stl -m co2_laser_60w -M plywood_laser --op laser-cut -o plate.gcode
      fabthread cam plate.stl -m diode_laser_10w -M plywood_laser --op engrave \\
          --image logo.png --width-mm 40 --dpi 254 --op laser-cut -o plate.gcode
    """
    from fabthread import profiles
    from fabthread.cam import cam_part
    from fabthread.gcode.cnc_emit import emit_cnc, split_by_tool
    from fabthread.geom.mesh_io import load_mesh
    from fabthread.io_atomic import write_text_atomic
    from fabthread.model import cam as mc

    if not Path(mesh).is_file():
        raise click.BadParameter(f"no such file: {mesh}", param_hint="MESH")
    chosen = dict(_DEFAULT_TOOL)
    for item in tool_ids:
        key, sep, value = item.partition("=")
        if not sep or key not in _DEFAULT_TOOL:
            raise click.BadParameter(f"'{item}' is not OP=TOOL", param_hint="--tool")
        chosen[key] = value
    specs: list[mc.Operation] = []
    for op in ops:
        if op == "face":
            specs.append(mc.FaceOp(chosen[op]))
        elif op == "profile":
            specs.append(
                mc.ProfileOp(
                    chosen[op],
                    side=side,  # type: ignore[arg-type]
                    tab_count=tabs,
                    stock_to_leave_mm=leave,
                )
            )
        elif op == "pocket":
            specs.append(
                mc.PocketOp(
                    chosen[op],
                    pattern=pattern,  # type: ignore[arg-type]
                    stock_to_leave_mm=leave,
                )
            )
        elif op == "drill":
            specs.append(mc.DrillOp(chosen[op]))
        elif op == "finish":
            specs.append(
                mc.FinishOp(
                    chosen[op], stepover_mm=stepover, angle_deg=angle, stock_to_leave_mm=leave
                )
            )
        elif op == "engrave":
            specs.append(_engrave_op(image, dpi, px_mm, width_mm))
        else:
            specs.append(mc.LaserCutOp())
    m = profiles.load_machine(machine)
    dialect = profiles.load_dialect(m.dialect)
    stock = profiles.load_stock(material)
    tools = profiles.load_tools()
    part = load_mesh(Path(mesh), units=units)
    tp = cam_part(part, m, stock, tools, specs)
    written = []
    if split_tools and tp.process == "cnc":
        base = Path(output)
        for piece in split_by_tool(tp):
            path = base.with_suffix(f".T{int(piece.tool[0])}{base.suffix}")
            write_text_atomic(path, emit_cnc(piece, m, dialect, tools))
            written.append(str(path))
    else:
        write_text_atomic(output, emit_cnc(tp, m, dialect, tools))
        written.append(output)
    if as_json:
        emit_json(
            {
                "outputs": written,
                "moves": len(tp),
                "machine": m.id,
                "dialect": dialect.name,
                "tools": sorted({int(t) for t in tp.tool}),
            }
        )
    else:
        click.echo(f"{', '.join(written)}: {len(tp)} moves for {m.id} ({dialect.name})")


def _engrave_op(
    image: str | None, dpi: float | None, px_mm: float | None, width_mm: float
) -> EngraveOp:
    """The EngraveOp of the command line: the image file read here (the CLI is the edge)."""
    from fabthread.cam.engrave import decode_image
    from fabthread.model.cam import EngraveOp

    if not image:
        raise click.BadParameter("--op engrave needs --image PATH", param_hint="--image")
    if not Path(image).is_file():
        raise click.BadParameter(f"no such file: {image}", param_hint="--image")
    if dpi is not None and px_mm is not None:
        raise click.BadParameter("give --dpi or --px-mm, not both", param_hint="--dpi")
    if dpi is not None and dpi <= 0:
        raise click.BadParameter(f"--dpi={dpi:g} must be > 0", param_hint="--dpi")
    if px_mm is not None and px_mm <= 0:
        raise click.BadParameter(f"--px-mm={px_mm:g} must be > 0", param_hint="--px-mm")
    if width_mm < 0:
        raise click.BadParameter(f"--width-mm={width_mm:g} must be >= 0", param_hint="--width-mm")
    pixel = 25.4 / dpi if dpi is not None else (px_mm if px_mm is not None else 0.1)
    darkness = decode_image(Path(image).read_bytes(), image)
    return EngraveOp(darkness, pixel_mm=pixel, width_mm=width_mm)
