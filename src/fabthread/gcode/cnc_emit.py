"""CNC and laser G-code from a ``Toolpath``, driven by ``Dialect`` data.

``emit_cnc(toolpath, machine, dialect, tools)`` writes: a header (machine, dialect, units,
work offset, tool list, bounds), the machine's start program, the moves, and the end program.
Spindle (``spindle_cw``, S in rev/min = power x machine max) or laser (``laser_on`` once,
then S = power x ``power_scale`` on every burning G1; GRBL laser mode switches the beam off on
G0) follow ``Toolpath.power``. Tool changes use ``tool_change`` with ``{tool}`` = the tool
number. Peck drilling written by the CAM stage in its canonical expansion
(``fabthread.model.cam.peck_steps``) becomes the dialect's ``peck_drill`` cycle where there is
one, and stays expanded where not (GRBL).

Every line is checked against the dialect's words and its ``max_line_length``: a word the
dialect does not know is a GcodeError naming word and dialect, never written.
"""

from __future__ import annotations

import numpy as np

from fabthread.errors import GcodeError
from fabthread.gcode.cnc_dialect import cnc_words, line_words
from fabthread.model.arrays import column_bounds
from fabthread.model.cam import ToolLibrary, peck_steps
from fabthread.model.profiles import Dialect, MachineProfile
from fabthread.model.toolpath import MoveKind, Toolpath
from fabthread.templates import TEMPLATE_FIELDS, render_template

_RAPID, _CUT, _PLUNGE = int(MoveKind.RAPID), int(MoveKind.CUT), int(MoveKind.PLUNGE)
_LASER = (int(MoveKind.LASER_CUT), int(MoveKind.LASER_ENGRAVE))


def _f(v: float, nd: int = 3) -> str:
    text = f"{v:.{nd}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _fill(template: str, **values: object) -> str:
    out = template
    for k, v in values.items():
        out = out.replace("{" + k + "}", _f(v) if isinstance(v, float) else str(v))
    return out.replace("{{", "{").replace("}}", "}")


class _Writer:
    def __init__(self, dialect: Dialect) -> None:
        self.d = dialect
        self.words = cnc_words(dialect)
        self.lines: list[str] = []

    def comment(self, text: str) -> None:
        c = self.d.comment
        line = f"{c} {text}" if c != "(" else f"({text.replace('(', '[').replace(')', ']')})"
        limit = self.d.max_line_length
        if limit and len(line) > limit:
            line = line[: limit - (1 if c == "(" else 0)] + (")" if c == "(" else "")
        self.lines.append(line)

    def code(self, line: str) -> None:
        for w in line_words(line, self.d.comment):
            if w not in self.words:
                raise GcodeError(
                    f"word {w} is not supported by dialect {self.d.name} "
                    f"(line {len(self.lines) + 1}: '{line.strip()}')"
                )
        limit = self.d.max_line_length
        if limit and len(line) > limit:
            raise GcodeError(
                f"line {len(self.lines) + 1} has {len(line)} characters, above the "
                f"{limit}-character limit of dialect {self.d.name}: '{line[:40]}...'"
            )
        self.lines.append(line)

    def block(self, text: str, source: str) -> None:
        for ln in text.splitlines():
            if not ln.strip():
                continue
            code = ln.split(self.d.comment, 1)[0].strip()
            if code:
                self.code(ln.rstrip())
            else:
                self.comment(ln.strip().lstrip(self.d.comment).strip())
        del source


def _template_values(tp: Toolpath, machine: MachineProfile, order_id: str) -> dict[str, object]:
    values: dict[str, object] = {name: 0.0 for name in TEMPLATE_FIELDS}
    lo, hi = column_bounds(tp.xyz_mm) if len(tp) else (np.zeros(3), np.zeros(3))
    values.update(
        size_x_mm=machine.size_x_mm,
        size_y_mm=machine.size_y_mm,
        size_z_mm=machine.size_z_mm,
        min_x_mm=float(lo[0]),
        min_y_mm=float(lo[1]),
        max_x_mm=float(hi[0]),
        max_y_mm=float(hi[1]),
        max_z_mm=float(hi[2]),
        park_z_mm=float(min(machine.size_z_mm, hi[2])),
        machine=machine.id,
        order_id=order_id,
        material="",
        color="",
        layer_count=tp.layer_count,
    )
    return values


def _drill_cycle(
    tp: Toolpath, i: int
) -> tuple[int, float, float, float, float, float, float] | None:
    """If moves i.. are a canonical peck cycle (rapid down to R, then ``peck_steps``, then a
    rapid back up to the height before i), return (end index exclusive, x, y, bottom z, r z,
    peck, feed)."""
    xyz, kind = tp.xyz_mm, tp.kind
    if i == 0 or kind[i] != _RAPID or i + 1 >= len(tp):
        return None
    x, y, z_init = xyz[i - 1]
    if abs(xyz[i, 0] - x) > 1e-9 or abs(xyz[i, 1] - y) > 1e-9 or xyz[i, 2] >= z_init:
        return None
    r_z = xyz[i, 2]
    j = i + 1
    while j < len(tp) and abs(xyz[j, 0] - x) < 1e-9 and abs(xyz[j, 1] - y) < 1e-9:
        j += 1
    seg = range(i + 1, j)
    if len(seg) < 2 or kind[i + 1] != _PLUNGE or kind[j - 1] != _RAPID:
        return None
    if abs(xyz[j - 1, 2] - z_init) > 1e-9:
        return None
    bottom = float(xyz[i + 1 : j - 1, 2].min())
    peck = float(r_z - xyz[i + 1, 2])
    if abs(bottom - xyz[i + 1, 2]) < 1e-9:
        peck = 0.0  # one feed to the bottom
    expected = peck_steps(float(r_z), bottom, peck)
    if len(expected) != j - 1 - (i + 1):
        return None
    for (is_feed, z), k in zip(expected, range(i + 1, j - 1), strict=True):
        if (kind[k] == _PLUNGE) != is_feed or abs(xyz[k, 2] - z) > 1e-6:
            return None
    return j, float(x), float(y), bottom, float(r_z), peck, float(tp.feed_mm_min[i + 1])


def split_by_tool(tp: Toolpath) -> list[Toolpath]:
    """One toolpath per run of moves with the same tool (for dialects without M6)."""
    from fabthread.model.toolpath import Toolpath as _T

    cuts = [0, *np.nonzero(np.diff(tp.tool.astype(np.int64)))[0] + 1, len(tp)]
    out = []
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        out.append(
            _T(
                process=tp.process,
                xyz_mm=tp.xyz_mm[a:b],
                feed_mm_min=tp.feed_mm_min[a:b],
                kind=tp.kind[a:b],
                extrude_mm3=tp.extrude_mm3[a:b],
                power=tp.power[a:b],
                layer=tp.layer[a:b],
                retract=tp.retract[a:b],
                object_id=tp.object_id[a:b],
                tool=tp.tool[a:b],
                layer_z_mm=tp.layer_z_mm,
                layer_height_mm=tp.layer_height_mm,
                object_names=tp.object_names,
            )
        )
    return out


def emit_cnc(
    toolpath: Toolpath,
    machine: MachineProfile,
    dialect: Dialect,
    tools: ToolLibrary | None = None,
    *,
    order_id: str = "",
    blend_tolerance_mm: float = 0.01,
) -> str:
    """G-code text (ending with a newline) for a cnc or laser ``toolpath``.

    Raises GcodeError when the program needs a word the dialect does not have (a tool change
    on GRBL, a spindle on a laser dialect, M4 on a dialect without laser mode), when a line
    would be longer than the dialect allows, or when a move leaves the machine's work area.
    """
    tp = toolpath
    if tp.process not in ("cnc", "laser"):
        raise GcodeError(f"emit_cnc writes cnc and laser toolpaths, not {tp.process}")
    if machine.process != tp.process:
        raise GcodeError(f"toolpath is {tp.process}, machine {machine.id} is {machine.process}")
    _check_bounds(tp, machine)
    w = _Writer(dialect)
    laser = tp.process == "laser"
    used = [int(t) for t in dict.fromkeys(tp.tool.tolist())]
    w.comment(f"fabthread {tp.process} program for {machine.name} ({machine.id})")
    w.comment(f"dialect {dialect.name}; units mm; work offset {machine.work_offset}")
    if order_id:
        w.comment(f"order {order_id}")
    if not laser:
        for n in used:
            if tools is None:
                w.comment(f"T{n}")
                continue
            t = tools.by_number(n)
            w.comment(f"T{n} {t.id}: {t.kind} D{_f(t.diameter_mm)} {t.flutes}fl")
    if len(tp):
        lo, hi = column_bounds(tp.xyz_mm)
        w.comment(
            "bounds X"
            + _f(lo[0], 2)
            + ".."
            + _f(hi[0], 2)
            + " Y"
            + _f(lo[1], 2)
            + ".."
            + _f(hi[1], 2)
            + " Z"
            + _f(lo[2], 2)
            + ".."
            + _f(hi[2], 2)
        )
    for cmd in (dialect.units_mm, dialect.absolute_xyz, dialect.plane_xy, machine.work_offset):
        if cmd.strip():
            w.code(cmd)
    if dialect.path_blending.strip() and not laser:
        w.code(_fill(dialect.path_blending, tolerance_mm=blend_tolerance_mm))
    values = _template_values(tp, machine, order_id)
    w.block(render_template(machine.start_gcode, values, f"{machine.id} start"), "start")

    tool = None
    power = None
    feed = None
    if laser:
        if not dialect.laser_on.strip():
            raise GcodeError(
                f"dialect {dialect.name} has no laser mode (laser_on, e.g. M4 dynamic power); "
                f"machine {machine.id} is a laser"
            )
        if machine.power_scale <= 0:
            raise GcodeError(f"machine {machine.id} has no laser s_max ([laser] s_max)")
        w.code(_fill(dialect.laser_on, power=0))
    i = 0
    n = len(tp)
    while i < n:
        x, y, z = tp.xyz_mm[i]
        k = int(tp.kind[i])
        if not laser and (tool is None or tp.tool[i] != tool):
            tool = int(tp.tool[i])
            if dialect.tool_change.strip():
                if power:
                    w.code(dialect.spindle_off)
                w.code(_fill(dialect.tool_change, tool=tool))
            elif power is not None:
                raise GcodeError(
                    f"tool change to T{tool} (M6) is not supported by dialect {dialect.name}; "
                    "split the job per tool (fabthread.gcode.cnc_emit.split_by_tool)"
                )
            else:
                w.comment(f"load tool T{tool} before starting")
            power = None
        if not laser and k != _RAPID and tp.power[i] != power:
            power = float(tp.power[i])
            if not dialect.spindle_cw.strip():
                raise GcodeError(f"dialect {dialect.name} has no spindle command (M3)")
            w.code(_fill(dialect.spindle_cw, rpm=round(power * machine.spindle_max_rpm)))
        if not laser and dialect.peck_drill.strip():
            cyc = _drill_cycle(tp, i)
            if cyc is not None:
                end, cx, cy, bz, rz, q, fd = cyc
                w.code(
                    _fill(
                        dialect.peck_drill,
                        x=cx,
                        y=cy,
                        z=bz,
                        r=rz,
                        q=(q if q > 0 else rz - bz),
                        feed=fd,
                    )
                )
                if dialect.cycle_cancel.strip():
                    w.code(dialect.cycle_cancel)
                feed = None
                i = end
                continue
        xyz = f"X{_f(x)} Y{_f(y)} Z{_f(z)}"
        if k == _RAPID:
            w.code(f"G0 {xyz}")
        elif k in _LASER:
            s = round(float(tp.power[i]) * machine.power_scale)
            fpart = f" F{_f(tp.feed_mm_min[i], 1)}" if tp.feed_mm_min[i] != feed else ""
            feed = tp.feed_mm_min[i]
            w.code(f"G1 {xyz}{fpart} S{s}")
        elif k in (_CUT, _PLUNGE):
            fpart = f" F{_f(tp.feed_mm_min[i], 1)}" if tp.feed_mm_min[i] != feed else ""
            feed = tp.feed_mm_min[i]
            w.code(f"G1 {xyz}{fpart}")
        else:
            raise GcodeError(f"move {i} has kind {k}, not a cnc or laser move")
        i += 1
    off = dialect.laser_off if laser else dialect.spindle_off
    if off.strip():
        w.code(off)
    w.block(render_template(machine.end_gcode, values, f"{machine.id} end"), "end")
    if dialect.program_end.strip():
        w.code(dialect.program_end)
    return "\n".join(w.lines) + "\n"


def _check_bounds(tp: Toolpath, machine: MachineProfile) -> None:
    """X and Y inside [0, size]; Z (work coordinates, zero on the stock) spanning at most the
    machine's Z travel."""
    if not len(tp):
        return
    lo, hi = column_bounds(tp.xyz_mm)
    for axis, a, b, s in zip(
        "XY", lo[:2], hi[:2], (machine.size_x_mm, machine.size_y_mm), strict=True
    ):
        if a < -1e-6 or b > s + 1e-6:
            raise GcodeError(
                f"moves reach {axis}={a:.3f}..{b:.3f} mm, outside the work area 0..{s:g} mm "
                f"of machine {machine.id}"
            )
    if hi[2] - lo[2] > machine.size_z_mm + 1e-6:
        raise GcodeError(
            f"moves span Z={lo[2]:.3f}..{hi[2]:.3f} mm, more than the {machine.size_z_mm:g} mm "
            f"Z travel of machine {machine.id}"
        )
